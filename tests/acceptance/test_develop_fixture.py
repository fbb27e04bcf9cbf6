"""The Development Guide's "Develop Factory Fixture Firmware": a pre-factory Project with
its targets created on the way, the DUT and application builds copied to them, the BlinkUp
fixture assigned and its firmware built, run with `--log` and flagged. Between, the guide's
step 11 on the factory floor: new devices put in front of the fixture (`sim blinkup`) are
blinked up by its code, run the DUT firmware, which blesses them, and then the application
in MyPreProductionDG. This one runs in a real terminal (tmux) as well."""

from __future__ import annotations

import shutil

import pytest

from tests.acceptance.conftest import done_before
from tests.acceptance.firmware import (
    APP_AGENT,
    APP_DEVICE_2,
    DUT_DEVICE,
    FIXTURE_AGENT,
    FIXTURE_DEVICE,
    FIXTURE_DEVICE_2,
)
from tests.acceptance.guide import DEVELOP_FIXTURE, DUTS, FIXTURE_ID
from tests.acceptance.runners import Guide, follow, match_in_order, one_shot, shell_session
from tests.acceptance.state import (
    attrs,
    builds,
    current_build,
    devices,
    devices_in,
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
def test_develop_factory_fixture_firmware(guide: Guide, api: SimApi, way: str) -> None:
    if way == "terminal session" and shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    done_before(guide, "fixture")
    auth = guide.auth_file.read_bytes()
    if way == "shell session":
        shell_session(guide, DEVELOP_FIXTURE)
    elif way == "one-shot commands":
        follow(guide, DEVELOP_FIXTURE, one_shot(guide))
    else:
        screen = terminal_session(guide, DEVELOP_FIXTURE)
        assert "imptsh MyPreFactoryDG> impt device assign" in screen  # the prompt followed
    check_fixture(guide, api)
    assert guide.auth_file.read_bytes() == auth


def check_fixture(guide: Guide, api: SimApi) -> None:
    factory = guide.work / "factory"
    everything = groups(api)
    fixture, production, dut = (
        everything[n] for n in ("MyPreFactoryDG", "MyPreProductionDG", "MyPreDUTDG")
    )
    assert fixture["type"] == "pre_factoryfixture_devicegroup"
    assert attrs(fixture)["description"] == "Factory Firmware"
    assert production["type"] == "pre_production_devicegroup"
    assert dut["type"] == "pre_dut_devicegroup"
    rels = fixture["relationships"]
    assert rels["production_target"]["id"] == production["id"]
    assert rels["dut_target"]["id"] == dut["id"]
    product = everything["MyDevDG"]["relationships"]["product"]["id"]
    assert {g["relationships"]["product"]["id"] for g in everything.values()} == {product}
    assert project_file(factory) == {
        "deviceGroupId": fixture["id"],
        "deviceFile": "factory.device.nut",
        "agentFile": "factory.agent.nut",
    }
    assert (factory / "factory.agent.nut").read_text() == FIXTURE_AGENT
    # the copies carry the code, not the attributes
    (dut_copy,) = builds(api, dut)
    assert attrs(dut_copy)["device_code"] == DUT_DEVICE
    assert (attrs(dut_copy)["tags"], attrs(dut_copy)["flagged"]) == ([], False)
    (app_copy,) = builds(api, production)
    assert (attrs(app_copy)["device_code"], attrs(app_copy)["agent_code"]) == (
        APP_DEVICE_2,
        APP_AGENT,
    )
    assert (attrs(app_copy)["tags"], attrs(app_copy)["description"]) == ([], "")
    fixture_device = devices(api)["fieldbus"]
    assert fixture_device["id"] == FIXTURE_ID and group_of(fixture_device) == fixture["id"]
    first, second = builds(api, fixture)
    assert attrs(first)["device_code"] == FIXTURE_DEVICE
    latest = current_build(api, fixture)
    assert latest["id"] == second["id"] and attrs(latest)["device_code"] == FIXTURE_DEVICE_2
    assert attrs(latest)["tags"] == ["MyFactoryRC1"] and attrs(latest)["flagged"] is True
    assert attrs(latest)["description"] == "My Factory Firmware Release Candidate 1"
    match_in_order(
        "\n".join(history(api, FIXTURE_ID)),
        (
            "Fixture ready",
            "BlinkUp #1 of the devices in front of the fixture",
            "Fixture ready (v2)",
        ),
        "the fixture's log",
    )
    check_blessed(api)


def check_blessed(api: SimApi) -> None:
    """The devices blinked up at the fixture ran the DUT firmware, which tested them and
    blessed them into MyPreProductionDG, where they run the application."""
    assert devices_in(api, "MyPreDUTDG") == {}
    blessed = devices_in(api, "MyPreProductionDG")
    assert sorted(blessed) == list(DUTS)
    for name, device in blessed.items():
        assert attrs(device)["device_online"] is True
        lines = "\n".join(history(api, device["id"]))
        match_in_order(
            lines,
            (
                "Testing the device under test",
                'Device blessed into Device Group "MyPreProductionDG".',
                "Blessing succeeded",  # the bless callback's result
                "Agent restarted: reload.",  # the application, deployed to MyPreProductionDG
                "Data published successfully:",
                '{ "measureTime": "<any>", "data": 1 }',
            ),
            f"{name}'s log",
        )
