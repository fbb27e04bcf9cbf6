"""The Connected Factory, played by the code the simulated devices run.

A BlinkUp fixture is a device in a factory fixture group (pre-factory or factory). Devices
put in front of it (control plane: :func:`present_devices`) wait, enrolled in the fixture's
account but not yet connected, until the fixture's code calls ``server.factoryblinkup()``:
then each joins the fixture group's DUT target, connects and runs that group's code. When a
DUT's code calls ``server.bless(true, ...)`` it is blessed: it moves to the fixture group's
production target (the blessing webhooks of that group are recorded), its callback gets
``true`` and, once that has run, it restarts into the production group's code (unless the
group does not load code after blessing). An end user's BlinkUp of a blessed device
(:func:`end_user_blinkup`) records the group's blinkup webhooks.

The code's factory calls arrive through the runner's ``factory`` callback (:func:`on_event`),
on the runner's thread.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import bad_request
from ..model import DUT, FF, FIXTURE_TYPES, PRE_DUT, PRE_FF, PRODUCTION_TYPES, Model, Record, txn
from . import devices, webhooks

DUT_TYPES = (PRE_DUT, DUT)
MAX_PRESENTED = 100


def imp_id(dev: Record) -> str:
    """The imp's id as the blessing webhook reports it: derived from its MAC address."""
    return "0c2a69" + dev["mac_address"].replace(":", "")[6:] + "ffff"


def _fixture_group(m: Model, fixture: Record) -> Record | None:
    dg = m.t["devicegroup"].get(fixture.get("devicegroup") or "")
    return dg if dg is not None and dg["type"] in FIXTURE_TYPES else None


@txn
def present_devices(m: Model, body: Any) -> tuple[Record, list[Record]]:
    """Control plane: ``count`` new devices in front of a BlinkUp fixture. They are enrolled
    in the fixture's account (offline, unassigned) and wait for the fixture's next
    ``server.factoryblinkup()``. Returns the fixture and the new devices."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key not in ("fixture", "count", "name_prefix"):
            raise bad_request(
                f"Unknown member '{key}': give 'fixture', 'count' and 'name_prefix'.", f"/{key}"
            )
    ident = body.get("fixture")
    if not isinstance(ident, str) or not ident:
        raise bad_request("'fixture' must name a device (id, MAC or agent id).", "/fixture")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_PRESENTED:
        raise bad_request(f"'count' must be an integer from 1 to {MAX_PRESENTED}.", "/count")
    prefix = body.get("name_prefix", "dut")
    if not isinstance(prefix, str) or not 0 < len(prefix) <= 60:
        raise bad_request("'name_prefix' must be a string of 1 to 60 characters.", "/name_prefix")
    fixture = m.resolve_device(ident, None)
    if _fixture_group(m, fixture) is None:
        raise bad_request(
            f"Device {fixture['id']} is not a BlinkUp fixture: it must be assigned to a "
            f"{PRE_FF} or {FF}.",
            "/fixture",
        )
    spec = {"device_online": False}
    created = [devices.create_device(m, fixture["owner"], spec, prefix) for _ in range(count)]
    created = [m.update("device", dev, waiting_at=fixture["id"]) for dev in created]
    return fixture, created


def waiting(m: Model, fixture_id: str) -> list[Record]:
    """The devices in front of a fixture, in the order they were put there."""
    return sorted(
        (d for d in m.t["device"].values() if d.get("waiting_at") == fixture_id),
        key=lambda d: d["seq"],
    )


def on_event(m: Model, device_id: str, event: str, data: dict[str, Any]) -> Any:
    """The runner's ``factory`` callback: a factory call of a device's code. For ``bless``
    the answer is whether the device was blessed."""
    if event == "blinkup":
        factory_blinkup(m, device_id)
        return True
    if event == "bless":
        return bless(m, device_id, bool(data.get("result")))
    if event == "blessed":
        after_blessing(m, device_id, bool(data.get("result")))
    return True  # clearconfiguration: nothing in the simulator depends on the stored network


@txn
def factory_blinkup(m: Model, fixture_id: str) -> list[Record]:
    """The fixture's BlinkUp configures every device in front of it: each joins the fixture
    group's DUT target, connects and runs its code. A BlinkUp nobody waits for does nothing
    (nor does one from a device that is no fixture)."""
    fixture = m.t["device"].get(fixture_id)
    dg = _fixture_group(m, fixture) if fixture else None
    target = m.t["devicegroup"].get(dg.get("dut_target") or "") if dg else None
    if fixture is None or target is None:
        return []
    configured = []
    for dev in waiting(m, fixture_id):
        dev = m.update("device", dev, waiting_at=None, blinked_up_by=fixture_id)
        dev = devices.enrol(m, dev, target)
        configured.append(dev)
    return configured


def fixture_group_of(m: Model, dut: Record) -> Record | None:
    """The fixture group a DUT is tested for: that of the fixture that blinked it up when it
    targets the DUT's group, else the first fixture group that does."""
    group = dut.get("devicegroup")
    fixture = m.t["device"].get(dut.get("blinked_up_by") or "")
    dg = _fixture_group(m, fixture) if fixture else None
    if dg is not None and dg.get("dut_target") == group:
        return dg
    targeting = [
        g
        for g in m.t["devicegroup"].values()
        if g["type"] in FIXTURE_TYPES and g.get("dut_target") == group
    ]
    return min(targeting, key=lambda g: g["seq"]) if targeting else None


@txn
def bless(m: Model, device_id: str, result: bool) -> bool:
    """``server.bless(result, ...)``: with ``true``, a DUT becomes a production device of the
    fixture group's production target (its code restarts into that group's once the bless
    callback has run, see :func:`after_blessing`). ``false``, or a device that is no DUT of a
    fixture group with a production target, is not blessed."""
    dev = m.t["device"].get(device_id)
    dg = m.t["devicegroup"].get((dev or {}).get("devicegroup") or "")
    if dev is None or dg is None or dg["type"] not in DUT_TYPES or not result:
        return False
    fixture_group = fixture_group_of(m, dev)
    target = m.t["devicegroup"].get((fixture_group or {}).get("production_target") or "")
    if target is None:
        m.emit(dev["id"], "status", "Blessing failed: no factory fixture group targets this group.")
        return False
    m.update("device", dev, devicegroup=target["id"], blessed_into=target["id"])
    m.emit(dev["id"], "status", f'Device blessed into Device Group "{target["name"]}".')
    webhooks.record_deliveries(
        m, target, "blessing", {"device_id": dev["id"], "imp_id": imp_id(dev)}
    )
    return True


@txn
def after_blessing(m: Model, device_id: str, result: bool) -> None:
    """The blessed device's code has had its answer: it now loads its production group's
    code, unless the group's ``load_code_after_blessing`` is false (then at its next
    restart)."""
    dev = m.t["device"].get(device_id)
    if dev is None or not result or dev.get("blessed_into") != dev.get("devicegroup"):
        return
    m.update("device", dev, blessed_into=None)
    dg = m.t["devicegroup"][dev["devicegroup"]]
    if dg.get("load_code_after_blessing") is not False:
        devices.restart(m, dev)


@txn
def end_user_blinkup(m: Model, ident: str, body: Any) -> Record:
    """Control plane: an end user's BlinkUp activates a production device: it reconnects
    with the plan id (given, kept, or new) and its group's blinkup webhooks are recorded."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key != "plan_id":
            raise bad_request(f"Unknown member '{key}': only 'plan_id' is accepted.", f"/{key}")
    plan_id = body.get("plan_id")
    if plan_id is not None and (not isinstance(plan_id, str) or not 0 < len(plan_id) <= 64):
        raise bad_request("'plan_id' must be a string of 1 to 64 characters.", "/plan_id")
    dev = m.resolve_device(ident, None)
    dg = m.t["devicegroup"].get(dev.get("devicegroup") or "")
    if dg is None or dg["type"] not in PRODUCTION_TYPES:
        raise bad_request(
            f"Device {dev['id']} is not a production device: end users activate blessed "
            "devices, which are in production or pre-production Device Groups.",
            "/device",
        )
    plan_id = plan_id or dev.get("plan_id") or secrets.token_hex(12)
    dev = m.update("device", dev, plan_id=plan_id)
    token = secrets.token_hex(16)
    webhooks.record_deliveries(
        m, dg, "blinkup", {"device_id": dev["id"], "plan_id": plan_id, "token": token}
    )
    if dev["device_online"]:
        devices.restart(m, dev, "online")
    else:
        devices.set_online(m, dev["id"], True)
    return m.t["device"][dev["id"]]
