"""Options and steps shared by the entity command groups: the standard options with impt's
aliases, and resolving `--product`/`--dg`/`--build`/`--device` with the Project file's
defaults (commands.md §4.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..api import resources
from ..api.client import parse_timestamp
from ..entities import DG_TYPES, ENTITIES
from ..errors import CommandError
from ..invocation import Invocation
from ..views import info_view, rel_id, short_view, truncate_blocks
from .spec import EMPTY_OK, FLAG, Option

Resource = dict[str, Any]

PRODUCT_ID = "<PRODUCT_IDENTIFIER>"
DG_ID = "<DEVICE_GROUP_IDENTIFIER>"
DEVICE_ID = "<DEVICE_IDENTIFIER>"
BUILD_ID = "<BUILD_IDENTIFIER>"
ACCOUNT_ID = "<ACCOUNT_IDENTIFIER>"


def product_opt(help: str = "Product identifier.", **kw: Any) -> Option:
    return Option("product", "p", help, placeholder=PRODUCT_ID, complete="product", **kw)


def dg_opt(help: str = "Device Group identifier.", **kw: Any) -> Option:
    return Option("dg", "g", help, placeholder=DG_ID, complete="dg", **kw)


def device_opt(help: str = "Device identifier.", **kw: Any) -> Option:
    return Option("device", "d", help, placeholder=DEVICE_ID, complete="device", **kw)


def build_opt(help: str = "Build identifier.", **kw: Any) -> Option:
    return Option("build", "b", help, placeholder=BUILD_ID, complete="build", **kw)


def owner_opt(help: str = "Account identifier of the owner.", **kw: Any) -> Option:
    return Option("owner", "o", help, placeholder=ACCOUNT_ID, complete="account", **kw)


def dg_type_opt(help: str = "Device Group type.", **kw: Any) -> Option:
    return Option(
        "dg-type", "y", help, placeholder="<device_group_type>", choices=tuple(DG_TYPES), **kw
    )


CONFIRMED = Option(
    "confirmed", "q", "Executes the operation without asking additional confirmation.", FLAG
)
FORCE = Option("force", "f", "Also does what the deletion needs first (see the manual).", FLAG)
DESCR = Option("descr", "s", "Description.", EMPTY_OK, placeholder="<description>")


# -- resolving with project defaults ---------------------------------------------------


def resolve_dg(inv: Invocation, value: str | None) -> tuple[Resource, str]:
    """(device group, identifier for messages): the option's value, else the project's."""
    if value:
        return inv.identifier.resolve("dg", value), value
    dg = inv.project_dg()
    if dg is None:
        raise CommandError("No Device Group Identifier is specified.")
    return dg, dg["id"]


def resolve_product(inv: Invocation, value: str | None) -> tuple[Resource, str]:
    """(product, identifier for messages): the option's value, else the Product of the
    Project file's Device Group."""
    if value:
        return inv.identifier.resolve("product", value), value
    return _of_project_dg(inv, "product", "product")


def resolve_build(inv: Invocation, value: str | None) -> tuple[Resource, str]:
    """The build named by `value`, else the project Device Group's current deployment.
    Always a fresh `GET` (code and flags must be current)."""
    if value:
        return inv.identifier.fresh("build", inv.identifier.resolve("build", value)), value
    return _of_project_dg(inv, "build", "current_deployment")


def _of_project_dg(inv: Invocation, kind: str, relationship: str) -> tuple[Resource, str]:
    """The entity the Project file's Device Group points to through `relationship`, by id."""
    dg = inv.project_dg()
    entity_id = rel_id(dg, relationship)
    if entity_id is None:
        raise CommandError(f"No {ENTITIES[kind].type_name} Identifier is specified.")
    return get_by_id(inv, kind, entity_id), entity_id


def get_by_id(inv: Invocation, kind: str, entity_id: str) -> Resource:
    """The entity with this id (one `GET`, no list), else impt's not-found error."""
    found = inv.identifier.get(kind, entity_id)
    if found is None:
        raise CommandError(f'{ENTITIES[kind].type_name} "{entity_id}" is not found.')
    return found


def resolve_device(inv: Invocation, value: str | None) -> tuple[Resource, str]:
    if not value:
        raise CommandError("No Device Identifier is specified.")
    return inv.identifier.resolve("device", value), value


def attr(resource: Resource, name: str) -> Any:
    return (resource.get("attributes") or {}).get(name)


def dg_devices(inv: Invocation, dg_id: str) -> list[Resource]:
    return inv.identifier.list("device", {"devicegroup.id": dg_id})


def info_blocks(inv: Invocation, blocks: list[dict[str, Any]]) -> None:
    """Entity blocks inside INFO output: at most 5, then `And <k> more <Type>(s).`"""
    if not inv.out.shows_info:
        return
    shown, more = truncate_blocks(blocks)
    inv.out.blocks(shown)
    if more:
        inv.out.info(more)


def info_result(inv: Invocation, kind: str, resource: Resource, ident: str) -> dict[str, Any]:
    """The info view of `resource`, its warnings already printed."""
    warnings: list[str] = []
    view = info_view(
        kind, resource, inv.related(bulk=False), me_id=inv.me_id, warnings=warnings, ident=ident
    )
    inv.out.warnings(warnings)
    return view


def show_info(inv: Invocation, kind: str, resource: Resource, ident: str) -> None:
    inv.out.result(info_result(inv, kind, resource, ident))


def older(build: Resource, than: Resource) -> bool:
    """Whether `build` was created strictly before `than`."""
    a = parse_timestamp(attr(build, "created_at"))
    b = parse_timestamp(attr(than, "created_at"))
    if a is None or b is None or build["id"] == than["id"]:
        return False
    return a < b


def restart_dg(
    inv: Invocation,
    dg: Resource,
    ident: str,
    *,
    conditional: bool,
    before_restart: Callable[[list[Resource]], None] | None = None,
) -> list[Resource]:
    """Restarts the devices of a Device Group with impt's messages; returns the devices.
    `before_restart` gets the devices first, when there are any (to follow their logs)."""
    devices = dg_devices(inv, dg["id"])
    label = f'Device Group "{ident}"'
    if not devices:
        inv.out.info(f"{label} does not have assigned Devices.")
        return devices
    if before_restart is not None:
        before_restart(devices)
    resources.restart_device_group(inv.client, dg["id"], conditional=conditional)
    prefix = "Conditional restart" if conditional else "Restart"
    inv.out.info(f"{prefix} request for Devices assigned to {label} is successful:")
    info_blocks(inv, [short_view("device", d) for d in devices])
    return devices
