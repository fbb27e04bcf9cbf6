"""`impt device ...` against the simulator (commands.md §11.4)."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import pytest

from imptsh.logs import StreamSink
from tests.conftest import FAILS, OK, SimApi, lines, row, sim_control, write_project


@pytest.fixture
def world(api: SimApi) -> dict[str, Any]:
    """Products P (DGs G, PD of type pre-dut) and P2 (DG G2); devices d0, d1, d2 named
    dev0..dev2; d0 in G, d1 in PD, d2 unassigned."""
    p, p2 = api.product("P"), api.product("P2")
    g, g2 = api.dg(p, "G"), api.dg(p2, "G2")
    pd = api.dg(p, "PD", "pre_dut_devicegroup")
    devices = api.get("/devices")
    for n, d in enumerate(devices):
        api.rename(d["id"], f"dev{n}")
    api.assign(g, devices[0]["id"])
    api.assign(pd, devices[1]["id"])
    ids = [d["id"] for d in devices]
    return {"p": p, "p2": p2, "g": g, "g2": g2, "pd": pd, "d": ids}


def dg_of(api: SimApi, device_id: str) -> str | None:
    rel = api.device(device_id)["relationships"].get("devicegroup")
    return rel["id"] if rel else None


# -- assign ----------------------------------------------------------------------------------


def test_assign_unassigned_and_already_assigned(logged_in: Any, api: SimApi, world: dict) -> None:
    d2 = world["d"][2]
    r = logged_in("device assign -d dev2 -g G2")
    assert r.status == 0, r.out
    assert lines(r.out) == ['Device "dev2" is assigned successfully to Device Group "G2".', OK]
    assert dg_of(api, d2) == world["g2"]["id"]
    r = logged_in(f"device assign -d {d2} -g G2")
    assert r.status == 0
    assert lines(r.out) == [f'Device "{d2}" is already assigned to Device Group "G2".', OK]
    r = logged_in(f"device assign -d {d2} -g G2 -z json")
    assert r.status == 0 and json.loads(r.out) == {}


def test_assign_reassign_confirmation(logged_in: Any, api: SimApi, world: dict) -> None:
    d0 = world["d"][0]
    context = (
        'Device "dev0" is assigned to another Device Group. '
        'It will be reassigned to Device Group "G2".'
    )
    r = logged_in("device assign -d dev0 -g G2", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == [
        context,
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        "Operation is canceled.",
        FAILS,
    ]
    assert dg_of(api, d0) == world["g"]["id"]
    r = logged_in("device assign -d dev0 -g G2 -z json", stdin="n\n")
    assert r.status == 1 and lines(r.out)[-1] == "{}"
    r = logged_in("device assign -d dev0 -g G2", stdin="what\ny\n")
    assert r.status == 0
    assert lines(r.out) == [
        context,
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): what",
        "Invalid value!",
        "Enter 'y' (yes) or 'n' (no): y",
        "",
        'Device "dev0" is assigned successfully to Device Group "G2".',
        OK,
    ]
    assert dg_of(api, d0) == world["g2"]["id"]
    r = logged_in("device assign -d dev0 -g G -q")
    assert lines(r.out) == ['Device "dev0" is assigned successfully to Device Group "G".', OK]
    assert dg_of(api, d0) == world["g"]["id"]


def test_assign_project_default_and_errors(logged_in: Any, api: SimApi, world: dict) -> None:
    r = logged_in("device assign -d dev2")
    assert r.status == 1 and lines(r.out) == [
        "Error: No Device Group Identifier is specified.",
        FAILS,
    ]
    r = logged_in("device assign -d not-exist-device -g G")
    assert lines(r.out) == ['Error: Device "not-exist-device" is not found.', FAILS]
    r = logged_in("device assign -g G")
    assert r.status == 1 and "Error: Missing required argument: device" in r.out
    r = logged_in('device assign -d "" -g G')
    assert 'Error: Option "--device" must not be empty.' in r.out
    write_project(world["g2"])
    r = logged_in("device assign -d dev2 -z debug")
    assert r.status == 0
    assert f'Device "dev2" is assigned successfully to Device Group "{world["g2"]["id"]}".' in r.out
    assert '"method": "POST"' in r.out
    assert dg_of(api, world["d"][2]) == world["g2"]["id"]


def test_assign_refused_by_the_api(logged_in: Any, api: SimApi, world: dict) -> None:
    prod = api.dg(world["p"], "Prod", "production_devicegroup")
    r = logged_in("device assign -d dev2 -g Prod")
    assert r.status == 1
    assert lines(r.out)[0].startswith("Error: Invalid Assignment: Devices get into production")
    assert dg_of(api, world["d"][2]) is None
    assert prod  # created


def test_assign_uses_fresh_state_after_cached_list(
    logged_in: Any, api: SimApi, world: dict
) -> None:
    logged_in("device list -z minimal")  # the whole device collection is cached now
    api.assign(world["g2"], world["d"][2])  # changed behind imptsh's back
    r = logged_in("device assign -d dev2 -g G2")
    assert lines(r.out) == ['Device "dev2" is already assigned to Device Group "G2".', OK]


# -- info ------------------------------------------------------------------------------------


def test_info_is_full(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "x")
    d0 = world["d"][0]
    r = logged_in("device info -d dev0")
    assert r.status == 0, r.out
    out = lines(r.out)
    keys = [line.split(":")[0].strip() for line in out if line.startswith("  ") and ":" in line]
    assert keys[:16] == [
        "id",
        "name",
        "agent_id",
        "agent_url",
        "device_online",
        "device_state_changed_at",
        "agent_running",
        "agent_state_changed_at",
        "last_enrolled_at",
        "imp_type",
        "ip_address",
        "mac_address",
        "free_memory",
        "rssi",
        "swversion",
        "plan_id",
    ]
    i = out.index("  Device Group: ")
    assert out[i + 1 : i + 8] == [
        row("id", world["g"]["id"], 18, 4),
        row("type", "development", 18, 4),
        row("name", "G", 18, 4),
        "    Current Deployment: ",
        row("id", build["id"], 3, 6),
        row("sha", build["attributes"]["sha"], 3, 6),
        "  Product: ",
    ]
    assert out[-1] == OK
    r = logged_in(f"device info -d {d0} -z json")
    obj = json.loads(r.out)["Device"]
    assert obj["id"] == d0 and obj["name"] == "dev0"
    assert obj["Device Group"]["id"] == world["g"]["id"]
    assert obj["Device Group"]["Current Deployment"]["id"] == build["id"]
    assert obj["Product"] == {"id": world["p"]["id"], "name": "P"}


def test_info_unassigned_minimal_and_errors(logged_in: Any, api: SimApi, world: dict) -> None:
    mac = api.device(world["d"][2])["attributes"]["mac_address"]
    r = logged_in(f"device info -d {mac} -z minimal")
    assert r.status == 0
    assert "Device Group" not in r.out and OK not in r.out
    assert lines(r.out)[0] == "Device: "
    r = logged_in("device info -d not-exist-device")
    assert lines(r.out) == ['Error: Device "not-exist-device" is not found.', FAILS]
    r = logged_in("device info -d not-exist-device -z json")
    assert json.loads(r.out) == {"Error": 'Device "not-exist-device" is not found.'}
    r = logged_in("device info")
    assert "Error: Missing required argument: device" in r.out


def test_info_ambiguous_name(logged_in: Any, api: SimApi, world: dict) -> None:
    api.rename(world["d"][1], "dev0")
    r = logged_in("device info -d dev0")
    assert r.status == 1
    out = lines(r.out)
    assert out[0] == 'Error: Multiple Devices "dev0" are found:'
    assert out.count("Device: ") == 2
    assert out[-2:] == ["Impossible to execute the command.", FAILS]


# -- list ------------------------------------------------------------------------------------


def listed(out: str) -> set[str]:
    return set(re.findall(r"^  id: +([0-9a-f]{16})$", out, re.M))


def test_list_filters(logged_in: Any, api: SimApi, sim: Any, world: dict) -> None:
    d0, d1, d2 = world["d"]
    sim_control(sim, f"devices/{d1}/offline")
    cases = {
        "": {d0, d1, d2},
        "-o me": {d0, d1, d2},
        "-p P": {d0, d1},
        "-p P2": set(),
        "-p P -p P2": {d0, d1},
        "-g G": {d0},
        "-g G -g PD": {d0, d1},
        "-y pre-dut": {d1},
        "-y development -y pre-dut": {d0, d1},
        "-y production": set(),
        "--assigned": {d0, d1},
        "--unassigned": {d2},
        "-a -u": {d0, d1, d2},
        "--online": {d0, d2},
        "--offline": {d1},
        "-n -f": {d0, d1, d2},
        "--offline --unassigned": set(),
        "-p P --online": {d0},
        "-g not-exist-device-group": set(),
    }
    for options, expected in cases.items():
        r = logged_in(f"device list {options} -z minimal")
        assert r.status == 0, (options, r.out)
        assert listed(r.out) == expected, options


def test_list_native_dg_type_filter(logged_in: Any, world: dict) -> None:
    r = logged_in("device list -y pre-dut -z debug")
    assert r.status == 0
    assert '"filter[devicegroup.type]": "pre_dut_devicegroup"' in r.out


def test_list_output(logged_in: Any, api: SimApi, world: dict) -> None:
    d0 = api.device(world["d"][0])
    r = logged_in("device list -g G")
    assert r.status == 0
    out = lines(r.out)
    a = d0["attributes"]
    assert out == [
        "Device list (1 items):",
        "Device: ",
        row("id", d0["id"], 13),
        row("name", "dev0", 13),
        row("mac_address", a["mac_address"], 13),
        row("agent_id", a["agent_id"], 13),
        row("device_online", "true", 13),
        "  Device Group: ",
        f"    id:   {world['g']['id']}",
        "    type: development",
        "    name: G",
        OK,
    ]
    r = logged_in("device list -g G -z json")
    data = json.loads(r.out)
    assert data[0]["Device"]["Device Group"]["id"] == world["g"]["id"]
    assert data[0]["Device"]["mac_address"] == a["mac_address"]
    r = logged_in("device list -p P2")
    assert lines(r.out) == ["No Devices are found.", OK]
    r = logged_in("device list -p P2 -z json")
    assert json.loads(r.out) == []
    r = logged_in("device list -y nope")
    assert r.status == 1 and "Invalid values:" in r.out
    r = logged_in('device list -g ""')
    assert "Error: No Device Group Identifier is specified." in r.out
    write_project(world["pd"])
    r = logged_in('device list -g "" -z minimal')
    assert listed(r.out) == {world["d"][1]}


def test_list_request_economy(logged_in: Any, world: dict) -> None:
    logged_in("device list -z minimal")
    sent = logged_in.record_requests()
    logged_in("device list -z minimal")
    # the devices list (never a stale cached answer) plus one bulk device-group list at most
    assert 1 <= len(sent) <= 2


# -- remove ----------------------------------------------------------------------------------


def test_remove_unassigned(logged_in: Any, api: SimApi, world: dict) -> None:
    d2 = api.device(world["d"][2])
    summary = [
        "The following Devices will be removed from the account:",
        "Device: ",
        row("id", d2["id"], 13),
        row("name", "dev2", 13),
        row("mac_address", d2["attributes"]["mac_address"], 13),
        row("device_online", "true", 13),
        "",
        "Are you sure you want to continue?",
    ]
    r = logged_in("device remove -d dev2", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == summary + [
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        "Operation is canceled.",
        FAILS,
    ]
    r = logged_in("device remove -d dev2", stdin="?\ny\n")
    assert r.status == 0
    assert lines(r.out) == summary + [
        "Enter 'y' (yes) or 'n' (no): ?",
        "Invalid value!",
        "Enter 'y' (yes) or 'n' (no): y",
        "",
        'Device "dev2" is removed successfully.',
        OK,
    ]
    assert world["d"][2] not in {d["id"] for d in api.get("/devices")}


def test_remove_assigned_needs_force(logged_in: Any, api: SimApi, world: dict) -> None:
    d0 = world["d"][0]
    r = logged_in("device remove -d dev0 -q")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Device Assigned: Cannot remove a device that is assigned to a devicegroup; "
        "unassign it first.",
        FAILS,
    ]
    r = logged_in("device remove -d dev0 --force", stdin="y\n")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == "The following Devices will be unassigned from Device Groups:"
    assert "The following Devices will be removed from the account:" in out
    assert out[-3:] == [
        f'Device "{d0}" is unassigned successfully.',
        'Device "dev0" is removed successfully.',
        OK,
    ]
    r = logged_in(f"device remove -d {world['d'][1]} -f -q -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    assert api.get("/devices") == [api.device(world["d"][2])]


# -- restart ---------------------------------------------------------------------------------


def wait_for_log(api: SimApi, device_id: str, text: str) -> list[dict[str, Any]]:
    for _ in range(50):
        logs = api.get(f"/devices/{device_id}/logs")
        if any(text in e["msg"] for e in logs):
            return logs
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not logged")


def test_restart(logged_in: Any, api: SimApi, world: dict) -> None:
    api.deploy(world["g"], 'server.log("x");')
    r = logged_in("device restart -d dev0")
    assert r.status == 0, r.out
    assert lines(r.out) == ['Restart request for Device "dev0" is successful.', OK]
    wait_for_log(api, world["d"][0], "Downloading new code")
    r = logged_in("device restart -d dev0 --conditional")
    assert lines(r.out) == ['Conditional restart request for Device "dev0" is successful.', OK]
    r = logged_in(f"device restart -d {world['d'][0]} -c -z debug")
    assert f"/devices/{world['d'][0]}/conditional_restart" in r.out
    tasks = logged_in.session.log_tasks
    tasks.background, tasks.sink = True, StreamSink(io.StringIO())  # as in the shell
    try:
        r = logged_in("device restart -d dev0 --log")
    finally:
        tasks.stop_all()
    assert lines(r.out) == [
        'Restart request for Device "dev0" is successful.',
        f"Log stream for Device(s) {world['d'][0]} is opened.",
        'Log task 1 runs in the background: "tasks" lists the log tasks, "tasks stop 1" '
        "stops this one.",
        OK,
    ]
    r = logged_in("device restart -d dev0 -z json")
    assert json.loads(r.out) == {}
    r = logged_in("device restart -d dev0 -z minimal")
    assert r.out == ""


def test_restart_unassigned_fails(logged_in: Any, world: dict) -> None:
    r = logged_in("device restart -d dev2")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Device Not Assigned: Cannot restart a device that is not assigned to a "
        "devicegroup.",
        FAILS,
    ]
    r = logged_in("device restart -d not-exist-device")
    assert lines(r.out) == ['Error: Device "not-exist-device" is not found.', FAILS]


# -- unassign --------------------------------------------------------------------------------


def test_unassign(logged_in: Any, api: SimApi, world: dict) -> None:
    r = logged_in("device unassign -d dev0")
    assert r.status == 0
    assert lines(r.out) == ['Device "dev0" is unassigned successfully.', OK]
    assert dg_of(api, world["d"][0]) is None
    r = logged_in("device unassign -d dev0")
    assert r.status == 0
    assert lines(r.out) == ['Device "dev0" is already unassigned.', OK]
    r = logged_in("device unassign -d dev0 -z json")
    assert json.loads(r.out) == {}
    r = logged_in("device unassign -d not-exist-device")
    assert lines(r.out) == ['Error: Device "not-exist-device" is not found.', FAILS]


def test_unassign_sends_unbond_key_only_when_given(logged_in: Any, world: dict) -> None:
    r = logged_in("device unassign -d dev1 --unbond secret -z debug")
    assert r.status == 0, r.out
    delete = r.out[r.out.index('"method": "DELETE"') :]
    assert '"X-Electricimp-Key": "[hidden]"' in delete
    assert "secret" not in r.out
    assert 'Device "dev1" is unassigned successfully.' in r.out
    r = logged_in("device unassign -d dev0 -u '' -z debug")
    assert r.status == 0
    assert "X-Electricimp-Key" not in r.out


def test_unassign_uses_fresh_state(logged_in: Any, api: SimApi, world: dict) -> None:
    logged_in("device list -z minimal")  # cached: dev2 unassigned
    api.assign(world["g"], world["d"][2])
    r = logged_in("device unassign -d dev2")
    assert lines(r.out) == ['Device "dev2" is unassigned successfully.', OK]


# -- update ----------------------------------------------------------------------------------


def test_update(logged_in: Any, api: SimApi, world: dict) -> None:
    d0 = world["d"][0]
    r = logged_in("device update -d dev0 -n Kitchen")
    assert r.status == 0
    assert lines(r.out) == ['Device "dev0" is updated successfully.', OK]
    assert api.device(d0)["attributes"]["name"] == "Kitchen"
    r = logged_in("device update -d Kitchen --name '' -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    assert api.device(d0)["attributes"]["name"] in ("", None)
    r = logged_in(f"device update -d {d0} -n Again -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in("device info -d Again -z json")
    assert json.loads(r.out)["Device"]["id"] == d0  # the cache followed the rename
    r = logged_in("device update -d dev1")
    assert r.status == 1 and "Error: Missing required argument: name" in r.out
    r = logged_in("device update -d not-exist-device -n x")
    assert lines(r.out) == ['Error: Device "not-exist-device" is not found.', FAILS]
