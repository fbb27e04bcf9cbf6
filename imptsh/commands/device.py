"""`device assign|info|list|remove|restart|unassign|update` (commands.md §11.4)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import listing
from ..api import resources
from ..api.errors import ImpCentralError
from ..deletion import DeletionPlan, execute
from ..entities import dg_api_type
from ..invocation import Invocation
from ..views import rel_id
from .common import (
    CONFIRMED,
    FORCE,
    attr,
    device_opt,
    dg_opt,
    dg_type_opt,
    owner_opt,
    product_opt,
    resolve_dg,
    show_info,
)
from .follow import following
from .spec import EMPTY_OK, FLAG, Group, Option

group = Group("device", "Device manipulation commands.")

Resource = dict[str, Any]


DEVICE = replace(
    device_opt("Device identifier: Device id, MAC address, agent id or name."), required=True
)


def resolve_fresh_device(inv: Invocation, value: str) -> Resource:
    """The device `value` identifies, with its current state (assignment, online): matched
    on the cache, it is fetched again; a list or `GET` during resolution is already fresh."""
    return inv.identifier.fresh("device", inv.identifier.resolve("device", value))


# -- assign ----------------------------------------------------------------------------------


@group.command(
    "assign",
    "Assigns the specified Device to the specified Device Group. Asks for a confirmation if "
    "the Device is assigned to another Device Group. If the Device Group is not specified, "
    "the Device Group referenced by the Project File in the current directory is used.",
    [
        DEVICE,
        dg_opt(
            "Device Group identifier. If not specified, the Device Group referenced by the "
            "Project File in the current directory is used."
        ),
        CONFIRMED,
    ],
)
def assign(inv: Invocation) -> None:
    ident = inv.args.device
    device = resolve_fresh_device(inv, ident)
    dg, dg_ident = resolve_dg(inv, inv.args.dg)
    current = rel_id(device, "devicegroup")
    if current == dg["id"]:
        inv.out.info(f'Device "{ident}" is already assigned to Device Group "{dg_ident}".')
        return
    if current is not None:
        inv.confirm(
            f'Device "{ident}" is assigned to another Device Group. '
            f'It will be reassigned to Device Group "{dg_ident}".'
        )
    resources.assign_devices(inv.client, inv.cache, dg["id"], [device["id"]])
    inv.out.info(f'Device "{ident}" is assigned successfully to Device Group "{dg_ident}".')


# -- info ------------------------------------------------------------------------------------


@group.command(
    "info",
    "Displays information about the specified Device, its Device Group and the Device "
    "Group's current Deployment.",
    [DEVICE],
)
def info(inv: Invocation) -> None:
    ident = inv.args.device
    device = resolve_fresh_device(inv, ident)
    show_info(inv, "device", device, ident)


# -- list ------------------------------------------------------------------------------------


@group.command(
    "list",
    "Displays information about all Devices available to the current account, or those "
    "selected by the filters.",
    [
        owner_opt("Lists the Devices owned by this account only.", repeat=True),
        product_opt(
            "Lists the Devices assigned to Device Groups of this Product only.", repeat=True
        ),
        dg_opt("Lists the Devices assigned to this Device Group only.", repeat=True),
        dg_type_opt("Lists the Devices assigned to Device Groups of this type only.", repeat=True),
        Option("unassigned", "u", "Lists the Devices not assigned to any Device Group only.", FLAG),
        Option("assigned", "a", "Lists the Devices assigned to a Device Group only.", FLAG),
        Option("online", "n", "Lists the online Devices only.", FLAG),
        Option("offline", "f", "Lists the offline Devices only.", FLAG),
    ],
)
def list_(inv: Invocation) -> None:
    args = inv.args
    owners = listing.filter_ids(inv, "account", args.owner)
    products = listing.filter_ids(inv, "product", args.product)
    dgs = listing.filter_ids(inv, "dg", args.dg)
    types = [dg_api_type(t) for t in dict.fromkeys(args.dg_type)] or None
    assigned = listing.flag_pair(bool(args.assigned), bool(args.unassigned))
    online = listing.flag_pair(bool(args.online), bool(args.offline))

    def keep(device: Resource) -> bool:
        if assigned is not None and (rel_id(device, "devicegroup") is not None) != assigned:
            return False
        if online is not None and bool(attr(device, "device_online")) != online:
            return False
        return True

    devices = listing.fetch(
        inv,
        "device",
        {
            "owner.id": owners,
            "product.id": products,
            "devicegroup.id": dgs,
            "devicegroup.type": types,
        },
        keep=keep,
    )
    listing.print_list(inv, "device", devices)


# -- remove ----------------------------------------------------------------------------------


@group.command(
    "remove",
    "Removes the specified Device from the current account. With --force an assigned Device "
    "is unassigned first.",
    [
        DEVICE,
        replace(FORCE, help="Unassigns the Device if it is assigned, then removes it."),
        CONFIRMED,
    ],
)
def remove(inv: Invocation) -> None:
    ident = inv.args.device
    device = resolve_fresh_device(inv, ident)
    plan = DeletionPlan()
    plan.remove.append((device, ident))
    if inv.args.force and rel_id(device, "devicegroup") is not None:
        plan.add_unassign(device)
    execute(inv, plan)


# -- restart ---------------------------------------------------------------------------------


@group.command(
    "restart",
    "Restarts the specified Device.",
    [
        DEVICE,
        Option("conditional", "c", "Conditional restart instead of a normal restart.", FLAG),
        Option("log", "l", "Starts displaying logs from the Device.", FLAG),
    ],
)
def restart(inv: Invocation) -> None:
    ident = inv.args.device
    device = inv.identifier.resolve("device", ident)
    conditional = inv.args.conditional
    with following(inv, inv.args.log) as follow:
        follow.start([device])
        resources.restart_device(inv.client, device["id"], conditional=conditional)
        prefix = "Conditional restart" if conditional else "Restart"
        inv.out.info(f'{prefix} request for Device "{ident}" is successful.')


# -- unassign --------------------------------------------------------------------------------


@group.command(
    "unassign",
    "Unassigns the specified Device from the Device Group it is assigned to.",
    [
        DEVICE,
        Option(
            "unbond",
            "u",
            "Unbond key; required to unassign a Device from a production Device Group.",
            EMPTY_OK,
            placeholder="<unbond_key>",
        ),
    ],
)
def unassign(inv: Invocation) -> None:
    ident = inv.args.device
    device = resolve_fresh_device(inv, ident)
    dg_id = rel_id(device, "devicegroup")
    if dg_id is None:
        inv.out.info(f'Device "{ident}" is already unassigned.')
        return
    # impt 2.6.1 never sends --unbond from this command; imptsh does what the manual says.
    try:
        resources.unassign_devices(
            inv.client, inv.cache, dg_id, [device["id"]], unbond_key=inv.args.unbond
        )
    except ImpCentralError as exc:
        if not resources.already_unassigned(exc):
            raise
        inv.out.info(f'Device "{ident}" is already unassigned.')
        return
    inv.out.info(f'Device "{ident}" is unassigned successfully.')


# -- update ----------------------------------------------------------------------------------


@group.command(
    "update",
    "Updates the name of the specified Device.",
    [
        DEVICE,
        Option(
            "name",
            "n",
            "New name of the Device (an empty value clears the name).",
            EMPTY_OK,
            placeholder="<device_name>",
            required=True,
        ),
    ],
)
def update(inv: Invocation) -> None:
    ident = inv.args.device
    device = inv.identifier.resolve("device", ident)
    resources.update_device(inv.client, inv.cache, device["id"], inv.args.name)
    inv.out.info(f'Device "{ident}" is updated successfully.')
