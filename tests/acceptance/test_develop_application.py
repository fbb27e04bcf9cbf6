"""The Development Guide's "Develop Application Firmware", typed into one imptsh shell, into
one in a real terminal (tmux) and as one-shot commands, against the simulator, whose device
runs the code: `build run --log` shows the agent publishing the device's readings until the
user stops the logging (Ctrl-C: at the shell's empty prompt, to a one-shot `imptsh build run
--log`; `tasks stop` in a script)."""

from __future__ import annotations

import shutil

import pytest

from tests.acceptance.firmware import APP_AGENT, APP_DEVICE, APP_DEVICE_2
from tests.acceptance.guide import DEVELOP_APPLICATION
from tests.acceptance.runners import Guide, follow, match_in_order, one_shot, shell_session
from tests.acceptance.state import (
    attrs,
    builds,
    current_build,
    devices,
    group_of,
    groups,
    history,
    project_file,
)
from tests.acceptance.terminal import terminal_session
from tests.conftest import SimApi

WAYS = [
    "shell session",
    "one-shot commands",
    pytest.param("terminal session", marks=pytest.mark.terminal),
]


@pytest.mark.parametrize("way", WAYS)
def test_develop_application_firmware(guide: Guide, api: SimApi, way: str) -> None:
    if way == "shell session":
        transcript = shell_session(guide, DEVELOP_APPLICATION)
        assert transcript.count("Log task 1 runs in the background") == 1
    elif way == "one-shot commands":
        follow(guide, DEVELOP_APPLICATION, one_shot(guide))
    else:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed")
        transcript = terminal_session(guide, DEVELOP_APPLICATION)
        assert "imptsh MyDevDG> impt build run --log" in transcript  # the prompt followed
    check_application(guide, api)


def check_application(guide: Guide, api: SimApi) -> None:
    dev = guide.work / "dev"
    dg = groups(api)["MyDevDG"]
    assert dg["type"] == "development_devicegroup"
    assert attrs(dg)["description"] == "imp Application Firmware"
    product = api.entity("product", dg["relationships"]["product"]["id"])
    assert attrs(product)["name"] == "MyProduct"
    assert project_file(dev) == {
        "deviceGroupId": dg["id"],
        "deviceFile": "myapp.device.nut",
        "agentFile": "myapp.agent.nut",
    }
    assert (dev / "myapp.device.nut").read_text() == APP_DEVICE_2
    assert (dev / "myapp.agent.nut").read_text() == APP_AGENT
    all_devices = devices(api)
    assert group_of(all_devices["myDevice1"]) == dg["id"]
    assert group_of(all_devices["myDevice2"]) is None and group_of(all_devices["myDevice3"]) is None
    first, second = builds(api, dg)
    latest = current_build(api, dg)
    assert latest["id"] == second["id"]
    assert (attrs(first)["device_code"], attrs(latest)["device_code"]) == (APP_DEVICE, APP_DEVICE_2)
    assert attrs(latest)["agent_code"] == APP_AGENT
    assert attrs(latest)["tags"] == ["MyRC1"] and attrs(latest)["flagged"] is True
    assert attrs(latest)["description"] == "My Release Candidate 1"
    assert attrs(first)["flagged"] is False and attrs(first)["tags"] == []
    assert dg["relationships"]["min_supported_deployment"]["id"] == latest["id"]
    # the global login of step 1 is the only auth file, and nothing wrote it since
    assert not (dev / ".impt.auth").exists()
    auth = guide.auth_file
    assert api.sim.base_url in auth.read_text()
    assert auth.stat().st_mtime_ns <= (dev / ".impt.project").stat().st_mtime_ns
    # the device runs the second build: its readings come every five seconds of its time
    match_in_order(
        "\n".join(history(api, all_devices["myDevice1"]["id"])),
        ("Downloading new code<any>", '{ "measureTime": "<any>", "data": 1 }') * 2,
        "myDevice1's log",
    )
