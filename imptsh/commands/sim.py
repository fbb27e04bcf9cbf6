"""`sim blinkup|webhooks`: what only imptsh's bundled simulator can do, for rehearsing the
Connected Factory offline (a shell group, not one of impt's).

The commands drive the simulator's control plane over HTTP (`http://HOST:PORT/_sim/`, next to
the session's API endpoint); they work in an `imptsh --sim` session and in any session logged
in to an `imptsh-sim` on this machine, and say so clearly anywhere else."""

from __future__ import annotations

from typing import Any

from ..api.simcontrol import NotASimulatorError, SimControl
from ..errors import CommandError
from ..invocation import Invocation
from ..views import short_view
from .common import DEVICE_ID, device_opt, info_blocks
from .spec import POS_INT, Group, Option

group = Group(
    "sim",
    "Rehearses with imptsh's bundled simulator what needs real hardware: factory BlinkUp, "
    "an end user's BlinkUp, webhook deliveries (simulator sessions only).",
)

Resource = dict[str, Any]
MAX_COUNT = 100


def control(inv: Invocation) -> SimControl:
    """The control plane of the session's simulator, once it has answered."""
    try:
        sim = SimControl(inv.client)
        sim.status()
    except NotASimulatorError as exc:
        raise _not_a_simulator(exc) from None
    return sim


def _not_a_simulator(exc: NotASimulatorError) -> CommandError:
    return CommandError(
        f"sim commands need imptsh's simulator: {exc}. Start `imptsh --sim`, or log in to an "
        "`imptsh-sim` running on this machine."
    )


def _blinkup_check(args: Any) -> str | None:
    if args.fixture is None and args.device is None:
        return "Give --fixture (a factory BlinkUp of new devices) or --device (an end user's)."
    if args.fixture is not None and args.device is not None:
        return "Give --fixture or --device, not both."
    if args.device is not None and args.count is not None:
        return "--count goes with --fixture only."
    if args.count is not None and args.count > MAX_COUNT:
        return f'Option "--count" must be at most {MAX_COUNT}.'
    return None


@group.command(
    "blinkup",
    "With --fixture: puts --count new devices (default 1) in front of the BlinkUp fixture, a "
    "Device assigned to a (pre-)factory Device Group; its code's next "
    "server.factoryblinkup() call enrols them in the fixture group's DUT target, where they "
    "run its code (server.bless(true, ...) moves a device on to the production target). "
    "With --device: an end user's BlinkUp of a blessed (production) Device, which records "
    "its Device Group's blinkup webhooks.",
    [
        Option(
            "fixture",
            None,
            "The BlinkUp fixture: Device id, MAC address, agent id or name.",
            placeholder=DEVICE_ID,
            complete="device",
        ),
        Option(
            "count",
            "n",
            f"How many new devices to put in front of the fixture (1 to {MAX_COUNT}).",
            POS_INT,
            placeholder="<number>",
        ),
        device_opt("A production Device an end user blinks up: id, MAC address, agent id or name."),
    ],
    check=_blinkup_check,
)
def blinkup(inv: Invocation) -> None:
    sim = control(inv)
    if inv.args.device is not None:
        _end_user_blinkup(inv, sim)
        return
    ident = inv.args.fixture
    fixture = inv.identifier.resolve("device", ident)
    try:
        devices, meta = sim.present_devices(fixture["id"], inv.args.count or 1)
    except NotASimulatorError as exc:
        raise _not_a_simulator(exc) from None
    waiting = len(meta.get("waiting") or devices)
    target = str(meta.get("dut_target"))
    dut_group = inv.identifier.get("dg", target) or {}
    inv.out.info(
        f'{len(devices)} new Device(s) are in front of BlinkUp fixture "{ident}" '
        f"({waiting} waiting in all): its code's next server.factoryblinkup() call enrols "
        f'them in Device Group "{(dut_group.get("attributes") or {}).get("name") or target}".'
    )
    info_blocks(inv, [short_view("device", d) for d in devices])
    if inv.out.is_json:
        inv.out.result([short_view("device", d) for d in devices])


def _end_user_blinkup(inv: Invocation, sim: SimControl) -> None:
    ident = inv.args.device
    device = inv.identifier.resolve("device", ident)
    try:
        device = sim.end_user_blinkup(device["id"])
    except NotASimulatorError as exc:
        raise _not_a_simulator(exc) from None
    plan = (device.get("attributes") or {}).get("plan_id")
    inv.out.info(
        f'Device "{ident}" is blinked up by an end user (plan id {plan}): it reconnected, '
        "and its Device Group's blinkup webhooks are recorded (see sim webhooks)."
    )


@group.command(
    "webhooks",
    "Lists the webhook deliveries the simulator recorded, oldest first: it has no internet "
    "access, so none is sent; each shows the body it would have carried.",
    [],
)
def webhooks(inv: Invocation) -> None:
    try:
        deliveries = control(inv).webhook_deliveries()
    except NotASimulatorError as exc:
        raise _not_a_simulator(exc) from None
    blocks = [
        {
            "Webhook delivery": {
                "event": d.get("event"),
                "webhook": d.get("webhook"),
                "devicegroup": d.get("devicegroup"),
                "url": d.get("url"),
                "content_type": d.get("content_type"),
                "body": d.get("body"),
                "attempted_at": d.get("attempted_at"),
                "delivered": f"{str(d.get('delivered')).lower()} ({d.get('error')})"
                if not d.get("delivered")
                else "true",
            }
        }
        for d in deliveries
    ]
    inv.out.info(f"Webhook delivery list ({len(blocks)} items):")
    inv.out.result(blocks)
