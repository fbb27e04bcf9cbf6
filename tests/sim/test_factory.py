"""The Connected Factory in the simulator, end to end through HTTP: a BlinkUp fixture's code
enrols new devices in its DUT group, their code blesses them into the production target, the
webhooks are recorded; an end user's BlinkUp of a blessed device; what is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from imptsh.api import resources
from tests.conftest import SimApi, sim_control

WAIT = 20.0

PRE_PROD = "pre_production_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
PRE_FACTORY = "pre_factoryfixture_devicegroup"

FIXTURE_CODE = """
function blink() {
    server.factoryblinkup("factory-wifi", "secret", hardware.pin1, BLINKUP_ACTIVEHIGH);
    server.log("blinked");
    imp.wakeup(3600, blink);
}
server.log("fixture " + imp.configparams.factory_imp + " " + (imp.configparams.factory_imp == imp.getmacaddress()));
imp.wakeup(3600, blink);
"""
DUT_CODE = """
server.log("testing for " + imp.configparams.factory_fixture_url);
server.bless(%s, function(ok) { server.log("blessed: " + ok); });
"""
PRODUCTION_CODE = 'server.log("production " + hardware.getdeviceid());'


def wait_until(found: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (value := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


def history(api: SimApi, device_id: str) -> list[tuple[str, str]]:
    entries = api.client.iter_list(f"/devices/{device_id}/logs", page_size=100)
    return [(e["type"], e["msg"]) for e in reversed(list(entries))]


def control(sim: Any, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{sim.root_url}/_sim/{path}", json=body, timeout=30)


@pytest.fixture
def api(squirrel_sim: Any) -> SimApi:
    return SimApi(squirrel_sim)


@pytest.fixture
def factory(api: SimApi) -> dict[str, Any]:
    return factory_setup(api)


def factory_setup(api: SimApi) -> dict[str, Any]:
    """The Development Guide's factory setup: a pre-factory fixture group whose targets are
    a pre-DUT and a pre-production group, each with its code; a blessing and a blinkup
    webhook on the production target; the fixture device assigned and running."""
    product = api.product("MyProduct")
    prod = api.dg(product, "MyPreProductionDG", PRE_PROD)
    dut = api.dg(product, "MyPreDUTDG", PRE_DUT)
    fixture_dg = api.dg(
        product, "MyPreFactoryDG", PRE_FACTORY, production_target=prod, dut_target=dut
    )
    hooks = [
        api.webhook(prod, "https://example.com/blessed", "blessing"),
        resources.create_webhook(
            api.client,
            api.cache,
            prod,
            "https://example.com/activated",
            "blinkup",
            "application/x-www-form-urlencoded",
        ),
    ]
    api.deploy(prod, PRODUCTION_CODE)
    api.deploy(fixture_dg, FIXTURE_CODE)
    fixture = api.devices()[0]
    api.assign(fixture_dg, fixture["id"])
    return {"prod": prod, "dut": dut, "fixture_dg": fixture_dg, "fixture": fixture, "hooks": hooks}


def blink(sim: Any, api: SimApi, fixture: dict[str, Any], count: int) -> list[str]:
    """Puts `count` new devices in front of the fixture and lets its code blink once."""
    answer = control(sim, "POST", "factory/blinkup", {"fixture": fixture["id"], "count": count})
    assert answer.status_code == 201, answer.text
    created = [d["id"] for d in answer.json()["data"]]
    wait_until(lambda: ("server.log", "fixture") in _prefixes(api, fixture["id"]), "the fixture")
    sim_control(sim, f"devices/{fixture['id']}/clock", {"seconds": 3600})
    return created


def _prefixes(api: SimApi, device_id: str) -> list[tuple[str, str]]:
    return [(t, m.split()[0] if m else m) for t, m in history(api, device_id)]


def test_blinked_up_devices_are_tested_blessed_and_run_production_code(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    fixture = factory["fixture"]
    api.deploy(factory["dut"], DUT_CODE % "true")
    answer = control(
        squirrel_sim, "POST", "factory/blinkup", {"fixture": fixture["id"], "count": 3}
    )
    assert answer.status_code == 201, answer.text
    duts = [d["id"] for d in answer.json()["data"]]
    assert answer.json()["meta"] == {
        "fixture": fixture["id"],
        "dut_target": factory["dut"]["id"],
        "waiting": duts,
    }
    # Enrolled in the account, not yet configured: offline and unassigned.
    for dut in duts:
        attributes = api.device(dut)["attributes"]
        assert (attributes["device_online"], attributes["agent_id"]) == (False, None)
    assert [api.device(d)["attributes"]["name"] for d in duts] == ["dut1", "dut2", "dut3"]

    mac = fixture["attributes"]["mac_address"].replace(":", "")
    wait_until(lambda: history(api, fixture["id"]), "the fixture's code")
    assert history(api, fixture["id"])[-1] == ("server.log", f"fixture {mac} true")
    sim_control(squirrel_sim, f"devices/{fixture['id']}/clock", {"seconds": 3600})
    fixture_url = api.device(fixture["id"])["attributes"]["agent_url"]
    for dut in duts:
        log = wait_until(
            lambda dut=dut: (
                (h := history(api, dut))[-1:] == [("server.log", f"production {dut}")] and h
            ),
            f"{dut} to run production code",
        )
        assert log == [
            ("status", "Agent restarted: reload."),
            log[1],  # Downloading new code ...
            ("status", "Device connected"),
            ("server.log", f"testing for {fixture_url}"),
            ("status", 'Device blessed into Device Group "MyPreProductionDG".'),
            ("server.log", "blessed: true"),
            ("status", "Agent restarted: reload."),
            log[7],
            ("status", "Device connected"),
            ("server.log", f"production {dut}"),
        ]
        device = api.device(dut)
        assert device["attributes"]["device_online"] is True
        assert device["relationships"]["devicegroup"]["id"] == factory["prod"]["id"]
    assert {d["id"] for d in api.devices(**{"devicegroup.id": factory["prod"]["id"]})} == set(duts)
    assert api.devices(**{"devicegroup.id": factory["dut"]["id"]}) == []

    deliveries = control(squirrel_sim, "GET", "webhooks/deliveries").json()["data"]
    assert sorted(d["payload"]["device_id"] for d in deliveries) == sorted(duts)
    for delivery in deliveries:
        dut = api.device(delivery["payload"]["device_id"])
        assert delivery == {
            "webhook": factory["hooks"][0]["id"],
            "devicegroup": factory["prod"]["id"],
            "event": "blessing",
            "url": "https://example.com/blessed",
            "content_type": "application/json",
            "payload": {"device_id": dut["id"], "imp_id": delivery["payload"]["imp_id"]},
            "body": f'{{"device_id":"{dut["id"]}","imp_id":"{delivery["payload"]["imp_id"]}"}}',
            "attempted_at": delivery["attempted_at"],
            "delivered": False,
            "error": "not sent: the simulator has no internet access",
        }
        assert (
            delivery["payload"]["imp_id"][6:12]
            == dut["attributes"]["mac_address"].replace(":", "")[6:]
        )


def test_factory_calls_throw_in_production_firmware(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    api.deploy(factory["dut"], DUT_CODE % "true")
    api.deploy(
        factory["prod"],
        'try { server.bless(true, null); } catch (e) { server.log("refused: " + e); }',
    )
    [dut] = blink(squirrel_sim, api, factory["fixture"], 1)
    log = wait_until(
        lambda: (h := history(api, dut)) and h[-1][1].startswith("refused") and h,
        "the production code",
    )
    assert log[-1] == (
        "server.log",
        "refused: server.bless() is only available in factory firmware (this device runs "
        "pre_production_devicegroup code)",
    )


def test_a_group_that_loads_no_code_after_blessing_waits_for_a_restart(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    prod = factory["prod"]
    body = {
        "data": {
            "type": PRE_PROD,
            "id": prod["id"],
            "attributes": {"load_code_after_blessing": False},
        }
    }
    api.client.patch(f"/devicegroups/{prod['id']}", body)
    api.deploy(factory["dut"], DUT_CODE % "true")
    [dut] = blink(squirrel_sim, api, factory["fixture"], 1)
    wait_until(lambda: ("server.log", "blessed: true") in history(api, dut), "the blessing")
    # (a clock step answers once the device's worker has handled everything sent before)
    sim_control(squirrel_sim, f"devices/{dut}/clock", {"seconds": 0})
    assert api.device(dut)["relationships"]["devicegroup"]["id"] == prod["id"]
    assert ("server.log", f"production {dut}") not in history(api, dut)
    resources.restart_device(api.client, dut)
    wait_until(lambda: ("server.log", f"production {dut}") in history(api, dut), "a restart")


def test_restored_from_its_file_such_a_device_runs_its_factory_firmware_again(
    tmp_path: Any,
) -> None:
    from imptsh.sim import squirrel
    from imptsh.sim.server import start

    db = str(tmp_path / "sim.db")
    with start(port=0, db=db, log_interval=0, runner=squirrel.SquirrelRunner) as sim:
        api = SimApi(sim)
        setup = factory_setup(api)
        prod = setup["prod"]
        api.client.patch(
            f"/devicegroups/{prod['id']}",
            {
                "data": {
                    "type": PRE_PROD,
                    "id": prod["id"],
                    "attributes": {"load_code_after_blessing": False},
                }
            },
        )
        api.deploy(setup["dut"], DUT_CODE % "true")
        [dut] = blink(sim, api, setup["fixture"], 1)
        wait_until(lambda: ("server.log", "blessed: true") in history(api, dut), "the blessing")
    with start(port=0, db=db, log_interval=0, runner=squirrel.SquirrelRunner) as sim:
        api = SimApi(sim)
        # Still the DUT's code, as factory firmware: bless() answers (no longer a DUT: false).
        log = wait_until(
            lambda: (h := history(api, dut)).count(("server.log", "blessed: false")) == 1 and h,
            "the factory firmware to run again",
        )
        assert not [line for line in log if line[0] == "server.error"]


def test_a_device_that_fails_its_test_stays_in_the_dut_group(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    api.deploy(factory["dut"], DUT_CODE % "false")
    [dut] = blink(squirrel_sim, api, factory["fixture"], 1)
    log = wait_until(
        lambda: (h := history(api, dut))[-1:] == [("server.log", "blessed: false")] and h,
        "the failed blessing",
    )
    assert [line for line in log if line[0] != "status"] == [
        (
            "server.log",
            f"testing for {api.device(factory['fixture']['id'])['attributes']['agent_url']}",
        ),
        ("server.log", "blessed: false"),
    ]
    assert api.device(dut)["relationships"]["devicegroup"]["id"] == factory["dut"]["id"]
    assert control(squirrel_sim, "GET", "webhooks/deliveries").json()["data"] == []


def test_devices_wait_for_the_fixtures_next_blinkup(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    fixture = factory["fixture"]
    api.deploy(factory["dut"], 'server.log("dut up");')
    first = control(squirrel_sim, "POST", "factory/blinkup", {"fixture": fixture["id"]}).json()
    second = control(
        squirrel_sim, "POST", "factory/blinkup", {"fixture": fixture["id"], "count": 2}
    ).json()
    waiting = [d["id"] for d in first["data"] + second["data"]]
    assert second["meta"]["waiting"] == waiting
    wait_until(lambda: history(api, fixture["id"]), "the fixture's code")
    sim_control(squirrel_sim, f"devices/{fixture['id']}/clock", {"seconds": 3600})
    for dut in waiting:
        wait_until(lambda dut=dut: ("server.log", "dut up") in history(api, dut), dut)
    # Nobody waits now: the next BlinkUp enrols nobody.
    sim_control(squirrel_sim, f"devices/{fixture['id']}/clock", {"seconds": 3600})
    assert history(api, fixture["id"]).count(("server.log", "blinked")) == 2
    assert len(api.devices(**{"devicegroup.id": factory["dut"]["id"]})) == 3


def test_an_end_users_blinkup_records_the_groups_blinkup_webhooks(
    squirrel_sim: Any, api: SimApi, factory: dict[str, Any]
) -> None:
    api.deploy(factory["dut"], DUT_CODE % "true")
    [dut] = blink(squirrel_sim, api, factory["fixture"], 1)
    wait_until(lambda: ("server.log", f"production {dut}") in history(api, dut), "blessing")
    before = len(history(api, dut))
    answer = control(squirrel_sim, "POST", f"devices/{dut}/blinkup", {"plan_id": "plan-7"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["attributes"]["plan_id"] == "plan-7"
    log = wait_until(
        lambda: (
            (h := history(api, dut))[before:].count(("server.log", f"production {dut}")) == 1 and h
        ),
        "the restart after the end user's BlinkUp",
    )
    assert log[before:] == [
        ("status", "Agent restarted: reload."),
        ("status", "Device connected"),
        ("server.log", f"production {dut}"),
    ]
    [delivery] = [
        d
        for d in control(squirrel_sim, "GET", "webhooks/deliveries").json()["data"]
        if d["event"] == "blinkup"
    ]
    token = delivery["payload"]["token"]
    assert delivery["payload"] == {"device_id": dut, "plan_id": "plan-7", "token": token}
    assert delivery["body"] == f"device_id={dut}&plan_id=plan-7&token={token}"
    assert delivery["content_type"] == "application/x-www-form-urlencoded"
    assert delivery["webhook"] == factory["hooks"][1]["id"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "'fixture' must name a device (id, MAC or agent id)."),
        ({"fixture": "x", "count": 0}, "'count' must be an integer from 1 to 100."),
        ({"fixture": "x", "count": 101}, "'count' must be an integer from 1 to 100."),
        ({"fixture": "x", "count": True}, "'count' must be an integer from 1 to 100."),
        (
            {"fixture": "x", "size": 2},
            "Unknown member 'size': give 'fixture', 'count' and 'name_prefix'.",
        ),
    ],
)
def test_bad_blinkup_requests_are_refused_and_change_nothing(
    squirrel_sim: Any, api: SimApi, body: dict[str, Any], detail: str
) -> None:
    answer = control(squirrel_sim, "POST", "factory/blinkup", body)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["detail"] == detail
    assert len(api.devices()) == 3


def test_only_a_fixture_blinks_up_and_only_production_devices_are_activated(
    squirrel_sim: Any, api: SimApi
) -> None:
    device = api.devices()[0]["id"]
    answer = control(squirrel_sim, "POST", "factory/blinkup", {"fixture": device})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["detail"] == (
        f"Device {device} is not a BlinkUp fixture: it must be assigned to a "
        "pre_factoryfixture_devicegroup or factoryfixture_devicegroup."
    )
    answer = control(squirrel_sim, "POST", "factory/blinkup", {"fixture": "no-such-device"})
    assert answer.status_code == 404
    answer = control(squirrel_sim, "POST", f"devices/{device}/blinkup", {})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["detail"].startswith(
        f"Device {device} is not a production device"
    )
    assert len(api.devices()) == 3
    assert control(squirrel_sim, "GET", "webhooks/deliveries").json()["data"] == []
