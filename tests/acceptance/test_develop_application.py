"""The Development Guide's "Develop Application Firmware", typed into one imptsh shell and
once more as one-shot commands, against the simulator."""

from __future__ import annotations

import pytest

from tests.acceptance.guide import APP_AGENT, APP_DEVICE, APP_DEVICE_2, DEVELOP_APPLICATION
from tests.acceptance.runners import Guide, follow, one_shot, shell_session
from tests.acceptance.state import (
    attrs,
    builds,
    current_build,
    devices,
    group_of,
    groups,
    project_file,
)
from tests.conftest import SimApi


@pytest.mark.parametrize("way", ["shell session", "one-shot commands"])
def test_develop_application_firmware(guide: Guide, api: SimApi, way: str) -> None:
    if way == "shell session":
        shell_session(guide, DEVELOP_APPLICATION)
    else:
        follow(guide, DEVELOP_APPLICATION, one_shot(guide))
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
