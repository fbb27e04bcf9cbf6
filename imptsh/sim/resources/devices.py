"""Devices: the simulated hardware (identities, connectivity, restarts and the platform's
status lines) and the ``/devices`` resource. Whenever a device starts, restarts or stops
running code the code runner is told, after the transaction commits."""

from __future__ import annotations

import random
import re
from typing import Any

from ..errors import bad_request, conflict
from ..model import (
    DG_TYPES,
    DUT,
    FF,
    FIXTURE_TYPES,
    PRE_DUT,
    PRE_FF,
    Model,
    Record,
    by_creation,
    now_iso,
    txn,
)
from ..records import Field, check_filters, read_changes, text
from ..routing import Route, collection_routes
from ..runner import DeviceCode, has_shutdown_handler
from .accounts import account_ref

IMP_TYPES = ("imp004m", "imp005", "imp006")
FACTORY_TYPES = (PRE_FF, PRE_DUT, FF, DUT)  # groups whose devices run factory firmware
SWVERSION = "cd1c6bb - release-43.14 - Mon Mar 18 10:21:52 2024 - production"
FIELDS = (Field("name", text(80, null=True)),)
_AGENT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_SEED_FIELDS = ("id", "name", "mac_address", "imp_type", "device_online", "ip_address")
_SEED_FIELDS += ("free_memory", "rssi", "swversion", "plan_id")
_SEED_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str, type(None)),
    "imp_type": (str,),
    "device_online": (bool,),
    "ip_address": (str,),
    "free_memory": (int,),
    "rssi": (int,),
    "swversion": (str,),
    "plan_id": (str, type(None)),
}


# ---------------------------------------------------------------------------------------
# identities and status lines
# ---------------------------------------------------------------------------------------


def new_device_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(16))


def new_mac(rng: random.Random) -> str:
    return "0c:2a:69:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def new_agent_id(rng: random.Random) -> str:
    """12 characters of the URL-safe base64 alphabet; the first is a letter or digit, so that
    an agent id can follow an option on a command line (`-d <agent id>`)."""
    first = rng.choice(_AGENT_ALPHABET[:62])
    return first + "".join(rng.choice(_AGENT_ALPHABET) for _ in range(11))


def new_ip(rng: random.Random) -> str:
    return f"93.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def storage_percent(device_code: str) -> str:
    """Deterministic, plausible 'program storage used' figure for some device code."""
    pct = 0.5 + len(device_code.encode("utf-8")) * 100.0 / (1024 * 1024)
    return f"{min(pct, 99.99):.2f}%"


def restart_lines(device_code: str | None, new_code: bool) -> list[tuple[str, str]]:
    """Platform status lines for a device (re)start; ``device_code`` None = no deployment."""
    lines: list[tuple[str, str]] = []
    if device_code is not None:
        lines.append(("status", "Agent restarted: reload."))
        if new_code:
            percent = storage_percent(device_code)
            lines.append(("status", f"Downloading new code; {percent} program storage used"))
    lines.append(("status", "Device connected"))
    return lines


# ---------------------------------------------------------------------------------------
# life cycle
# ---------------------------------------------------------------------------------------


def restart(m: Model, dev: Record, reason: str = "restart") -> None:
    """Reboot a device: it loads its group's current deployment and says so in its log."""
    dev = m.t["device"][dev["id"]]
    if not dev["device_online"]:
        return  # picks up the current deployment when it comes back online
    dg = m.t["devicegroup"].get(dev.get("devicegroup") or "")
    target = dg.get("current_deployment") if dg else None
    dep = m.t["deployment"].get(target or "")
    new_code = dep is not None and dev.get("deployment") != target
    for typ, msg in restart_lines(dep["device_code"] if dep else None, new_code):
        m.emit(dev["id"], typ, msg)
    dev = m.update(
        "device",
        dev,
        deployment=dep["id"] if dep else None,
        agent_running=dep is not None,
        agent_state_changed_at=now_iso(),
    )
    code = running_code(m, dev, "new_code" if new_code else reason)
    if code is not None:
        m.start_after_commit(code)
    else:
        stop(m, dev["id"])


def running_code(m: Model, dev: Record, reason: str) -> DeviceCode | None:
    """What an online device runs (its group's deployment it was restarted into), if any.
    The firmware's kind follows the deployment's group: a device blessed into a production
    group that does not load code after blessing runs its factory firmware until it
    restarts."""
    dg = m.t["devicegroup"].get(dev.get("devicegroup") or "")
    dep = m.t["deployment"].get(dev.get("deployment") or "")
    if dg is None or dep is None or not dev["device_online"]:
        return None
    firmware = m.t["devicegroup"].get(dep.get("devicegroup") or "") or dg
    extra: dict[str, Any] = {}
    url = m.agent_url(dev["agent_id"])
    if url is not None:
        extra["agent_url"] = url  # what `http.agenturl()` answers: the URL `device info` shows
    params = factory_configparams(m, dev, firmware)
    if params:
        extra["configparams"] = params
    return DeviceCode(
        device_id=dev["id"],
        mac_address=dev["mac_address"],
        agent_id=dev["agent_id"],
        deployment_id=dep["id"],
        device_code=dep["device_code"],
        agent_code=dep["agent_code"],
        dg_id=dg["id"],
        dg_type=firmware["type"],
        reason=reason,
        extra=extra,
    )


def factory_configparams(m: Model, dev: Record, dg: Record) -> dict[str, Any]:
    """``imp.configparams`` of factory firmware, as Electric Imp's FactoryTools reads it:
    ``factoryfirmware``; ``factory_imp``, the MAC of the fixture (a fixture's own); and on a
    device under test the agent URL of the fixture that blinked it up
    (``factory_fixture_url``)."""
    if dg["type"] not in FACTORY_TYPES:
        return {}
    params: dict[str, Any] = {"factoryfirmware": True}
    fixture = (
        dev if dg["type"] in FIXTURE_TYPES else m.t["device"].get(dev.get("blinked_up_by") or "")
    )
    if fixture is not None:
        params["factory_imp"] = fixture["mac_address"].replace(":", "")
        url = m.agent_url(fixture["agent_id"]) if fixture.get("agent_id") else None
        if fixture is not dev and url is not None:
            params["factory_fixture_url"] = url
    return params


def conditional_restart(m: Model, dev: Record) -> None:
    """Restart unless the device runs the current deployment or is notified of new code by
    SHUTDOWN_NEWSQUIRREL and handles it itself."""
    dg = m.t["devicegroup"].get(dev.get("devicegroup") or "")
    if not dg or not dev["device_online"]:
        return
    current = dg.get("current_deployment")
    if dev.get("deployment") == current:
        return
    running = m.t["deployment"].get(dev.get("deployment") or "")
    minimum = m.t["deployment"].get(dg.get("min_supported_deployment") or "")
    if running is None or (minimum is not None and running["seq"] < minimum["seq"]):
        restart(m, dev)  # too old: restarted immediately
    elif has_shutdown_handler(running["device_code"]):
        # SHUTDOWN_NEWSQUIRREL goes to the application, which decides when to restart.
        m.emit(dev["id"], "status", "Device notified of new code (SHUTDOWN_NEWSQUIRREL)")
    else:
        restart(m, dev)  # no onshutdown handler: the OS restarts at once


def stop(m: Model, device_id: str) -> None:
    """The device's code and agent stop (told to the runner once the transaction commits)."""
    m.after_commit(lambda: m.runner.stop(device_id))


def assign(m: Model, dev: Record, dg: Record) -> None:
    """Move a device into a group: it gets an agent and restarts into the group's code."""
    agent_id = dev.get("agent_id") or new_agent_id(m.rng)
    dev = m.update("device", dev, devicegroup=dg["id"], agent_id=agent_id)
    restart(m, dev)


def enrol(m: Model, dev: Record, dg: Record) -> Record:
    """A device configured by a factory BlinkUp: it connects and joins its DUT group."""
    now = now_iso()
    dev = m.update(
        "device", dev, device_online=True, device_state_changed_at=now, last_enrolled_at=now
    )
    assign(m, dev, dg)
    return m.t["device"][dev["id"]]


def unassign(m: Model, dev: Record) -> None:
    m.update(
        "device",
        dev,
        devicegroup=None,
        deployment=None,
        agent_running=False,
        agent_state_changed_at=now_iso(),
    )
    stop(m, dev["id"])


@txn
def set_online(m: Model, ident: str, online: bool) -> Record:
    """Control plane: a device connects or disconnects."""
    dev = m.resolve_device(ident, None)
    if dev["device_online"] == online:
        return dev
    dev = m.update("device", dev, device_online=online, device_state_changed_at=now_iso())
    if online and dev.get("devicegroup"):
        restart(m, dev, "online")
    elif online:
        m.emit(dev["id"], "status", "Device connected")
    else:
        m.emit(dev["id"], "status", "Device disconnected")
        stop(m, dev["id"])
    return m.t["device"][dev["id"]]


def advance_clock(m: Model, ident: str, seconds: float) -> Record:
    """Control plane: the device's code sees ``seconds`` pass (its timers fire)."""
    with m.lock:
        dev = m.resolve_device(ident, None)
    m.runner.advance_clock(dev["id"], seconds)
    return dev


def agent_request(
    m: Model,
    agent_id: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[int, dict[str, str], bytes]:
    """An HTTP request to a device's agent URL, answered by the code runner."""
    with m.lock:
        dev = m.device_by_agent(agent_id)
    if dev is None:
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"Agent not found"
    return m.runner.agent_request(agent_id, method, path, query, headers, body)


# ---------------------------------------------------------------------------------------
# seeding (control plane)
# ---------------------------------------------------------------------------------------


def default_name(m: Model, prefix: str) -> str:
    """The first `<prefix><n>` (n = 1, 2, ...) no device of the simulator is named."""
    taken = {d.get("name") for d in m.t["device"].values()}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def create_device(
    m: Model, owner: str, spec: dict[str, Any], name_prefix: str | None = None
) -> Record:
    """A new device; without a `name` in `spec` it gets the next free `<name_prefix><n>`
    (default prefix: the simulator's); an explicit `"name": null` leaves it unnamed."""
    rng = m.rng
    now = now_iso()
    dev_id = spec.get("id") or new_device_id(rng)
    while dev_id in m.t["device"]:
        dev_id = new_device_id(rng)
    mac = (spec.get("mac_address") or new_mac(rng)).lower()
    while mac in m.by_mac:
        mac = new_mac(rng)
    n = len(m.t["device"])
    name = spec["name"] if "name" in spec else default_name(m, name_prefix or m.device_name_prefix)
    return m.put(
        "device",
        {
            "id": dev_id,
            "owner": owner,
            "name": name,
            "agent_id": None,
            "device_online": bool(spec.get("device_online", True)),
            "device_state_changed_at": now,
            "agent_running": False,
            "agent_state_changed_at": None,
            "last_enrolled_at": now,
            "imp_type": spec.get("imp_type") or IMP_TYPES[n % len(IMP_TYPES)],
            "ip_address": spec.get("ip_address") or new_ip(rng),
            "mac_address": mac,
            "free_memory": spec.get("free_memory", rng.randrange(80000, 90000)),
            "rssi": spec.get("rssi", rng.randrange(-70, -40)),
            "swversion": spec.get("swversion") or SWVERSION,
            "plan_id": spec.get("plan_id"),
            "devicegroup": None,
            "deployment": None,
            "seq": m.next_seq(),
        },
    )


def _check_seed_spec(m: Model, i: int, spec: Any) -> None:
    if not isinstance(spec, dict):
        raise bad_request(f"devices[{i}] must be an object.", f"/devices/{i}")
    for key in spec:
        if key not in _SEED_FIELDS:
            raise bad_request(f"Unknown device field '{key}'.", f"/devices/{i}/{key}")
    for key, types in _SEED_FIELD_TYPES.items():
        value = spec.get(key)
        if key in spec and (
            not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        ):
            raise bad_request(f"devices[{i}].{key} has the wrong type.", f"/devices/{i}/{key}")
    ident = spec.get("id", "")
    if "id" in spec and (
        not isinstance(ident, str) or not _HEX16.match(ident) or ident in m.t["device"]
    ):
        raise bad_request("'id' must be 16 unused lowercase hex digits.", f"/devices/{i}/id")
    mac = spec.get("mac_address")
    if "mac_address" in spec and (
        not isinstance(mac, str) or not _MAC.match(mac) or mac.lower() in m.by_mac
    ):
        raise bad_request(
            "'mac_address' must be an unused MAC address.", f"/devices/{i}/mac_address"
        )


@txn
def seed_devices(m: Model, body: Any) -> list[Record]:
    """Control plane: ``count`` new devices and/or the described ``devices``, owned by
    ``account`` (id, username or email; default: the seeded account). Devices described
    without a name, and counted ones, are named ``<name_prefix><n>`` (default: the
    simulator's prefix)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key not in ("count", "devices", "account", "name_prefix"):
            raise bad_request(f"Unknown member '{key}'.", f"/{key}")
    prefix = body.get("name_prefix", m.device_name_prefix)
    if not isinstance(prefix, str) or not 0 < len(prefix) <= 60:
        raise bad_request("'name_prefix' must be a string of 1 to 60 characters.", "/name_prefix")
    owner = account_ref(m, body.get("account"))
    if owner is None:
        raise bad_request("Unknown account.", "/account")
    specs: list[dict[str, Any]] = []
    if "devices" in body:
        if not isinstance(body["devices"], list):
            raise bad_request("'devices' must be an array.", "/devices")
        for i, spec in enumerate(body["devices"]):
            _check_seed_spec(m, i, spec)
            specs.append(spec)
    count = body.get("count", 0 if specs else 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
        raise bad_request("'count' must be an integer between 0 and 1000.", "/count")
    specs.extend({} for _ in range(count))
    return [create_device(m, owner, spec, prefix) for spec in specs]


# ---------------------------------------------------------------------------------------
# the /devices resource
# ---------------------------------------------------------------------------------------

_FILTERS = (
    "owner.id",
    "account.id",
    "product.id",
    "devicegroup.id",
    "devicegroup.owner.id",
    "devicegroup.type",
)


def _matches(d: Record, g: Record | None, filters: dict[str, str]) -> bool:
    for key in ("owner.id", "account.id"):
        if key in filters and d["owner"] != filters[key]:
            return False
    if "devicegroup.id" in filters and (g is None or g["id"] != filters["devicegroup.id"]):
        return False
    if "product.id" in filters and (g is None or g["product"] != filters["product.id"]):
        return False
    if "devicegroup.owner.id" in filters:
        want = filters["devicegroup.owner.id"]
        if (g is not None) if want == "null" else (g is None or g["owner"] != want):
            return False
    t = filters.get("devicegroup.type")
    return t is None or (g is not None and g["type"] == t)


def list_devices(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, _FILTERS)
    t = filters.get("devicegroup.type")
    if t is not None and t not in DG_TYPES:
        raise bad_request(f"Invalid value for filter[devicegroup.type]: {t!r}.")
    with m.lock:
        owners = m.visible_owners(account_id)
        groups = m.t["devicegroup"]
        return by_creation(
            d
            for d in m.t["device"].values()
            if d["owner"] in owners and _matches(d, groups.get(d.get("devicegroup") or ""), filters)
        )


def get_device(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        return m.resolve_device(ident, account_id)


@txn
def update_device(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.resolve_device(ident, account_id)
    return m.update("device", rec, **read_changes(body, "device", FIELDS).values)


@txn
def delete_device(m: Model, account_id: str, ident: str) -> None:
    rec = m.resolve_device(ident, account_id)
    if rec.get("devicegroup"):
        raise conflict(
            "Device Assigned",
            "Cannot remove a device that is assigned to a devicegroup; unassign it first.",
            code="CX007",
        )
    m.delete("device", rec["id"])
    m.clear_logs(rec["id"])
    stop(m, rec["id"])
    for stream in m.streams.values():
        if rec["id"] in stream.devices:
            stream.devices.remove(rec["id"])
            stream.push([("state_change", {"state": "unsubscribed", "device_id": rec["id"]})])


@txn
def restart_device(m: Model, account_id: str, ident: str, conditional: bool = False) -> None:
    rec = m.resolve_device(ident, account_id)
    if not rec.get("devicegroup"):
        raise conflict(
            "Device Not Assigned",
            "Cannot restart a device that is not assigned to a devicegroup.",
            code="CX008",
        )
    if conditional:
        conditional_restart(m, rec)
    else:
        restart(m, rec)


def conditional_restart_device(m: Model, account_id: str, ident: str) -> None:
    restart_device(m, account_id, ident, conditional=True)


ROUTES = [
    *collection_routes(
        "devices",
        "device",
        list_=list_devices,
        get=get_device,
        update=update_device,
        delete=delete_device,
    ),
    Route("POST", "devices/*/restart", restart_device),
    Route("POST", "devices/*/conditional_restart", conditional_restart_device),
]
