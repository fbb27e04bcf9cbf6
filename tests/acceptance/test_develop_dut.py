"""The Development Guide's "Develop Factory Device-Under-Test Firmware": the application's
way, in a Project based on a Pre-DUT Device Group (`project create --pre-dut`)."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import done_before
from tests.acceptance.firmware import DUT_AGENT, DUT_DEVICE
from tests.acceptance.guide import DEVELOP_DUT
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
from tests.conftest import SimApi


@pytest.mark.parametrize("way", ["shell session", "one-shot commands"])
def test_develop_dut_firmware(guide: Guide, api: SimApi, way: str) -> None:
    done_before(guide, "dut")
    auth = guide.auth_file.read_bytes()
    if way == "shell session":
        shell_session(guide, DEVELOP_DUT)
    else:
        follow(guide, DEVELOP_DUT, one_shot(guide))
    check_dut(guide, api)
    assert guide.auth_file.read_bytes() == auth


def check_dut(guide: Guide, api: SimApi) -> None:
    dut = guide.work / "dut"
    everything = groups(api)
    dg = everything["MyDUTDevDG"]
    assert dg["type"] == "pre_dut_devicegroup"
    assert attrs(dg)["description"] == "DUT Firmware"
    assert (
        dg["relationships"]["product"]["id"]
        == everything["MyDevDG"]["relationships"]["product"]["id"]
    )
    assert project_file(dut) == {
        "deviceGroupId": dg["id"],
        "deviceFile": "dut.device.nut",
        "agentFile": "dut.agent.nut",
    }
    assert (dut / "dut.device.nut").read_text() == DUT_DEVICE
    assert group_of(devices(api)["myDevice3"]) == dg["id"]
    assert group_of(devices(api)["myDevice2"]) is None
    (build,) = builds(api, dg)
    assert current_build(api, dg)["id"] == build["id"]
    assert attrs(build)["device_code"] == DUT_DEVICE and attrs(build)["agent_code"] == DUT_AGENT
    assert attrs(build)["tags"] == ["MyTestsRC1"] and attrs(build)["flagged"] is True
    assert attrs(build)["description"] == "My Tests Release Candidate 1"
    # the DUT firmware ran its test; outside the factory no fixture group targets its group,
    # so the device is not blessed and stays (the bless callback got false)
    match_in_order(
        "\n".join(history(api, devices(api)["myDevice3"]["id"])),
        ("Testing the device under test", "Blessing failed"),
        "myDevice3's log",
    )
