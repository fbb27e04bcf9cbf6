"""`dg builds|create|delete|info|list|reassign|restart|unassign|update` (commands.md §11.5)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from typing import Any

from .. import listing
from ..deletion import DeletionPlan, execute
from ..entities import (
    DG_TYPES,
    DUT_TYPES,
    FACTORY_TYPES,
    PRODUCTION_TYPES,
    dg_api_type,
    dg_cli_type,
    dut_target_type,
    production_target_type,
)
from ..errors import CommandError
from ..views import dg_full_view, info_view, short_view
from .common import (
    BUILD_ID,
    CONFIRMED,
    DG_ID,
    FORCE,
    LOG_NOTE,
    dg_devices,
    dg_opt,
    dg_type_opt,
    info_blocks,
    older,
    owner_opt,
    product_opt,
    rel_id,
    resolve_dg,
    resolve_product,
    restart_dg,
    show_warnings,
)
from .registry import new_group
from .runner import Invocation
from .spec import EMPTY_OK, FLAG, OPT_BOOL, Args, Option

group = new_group("dg")

Resource = dict[str, Any]

PROJECT_DEFAULT = (
    " If not specified, the Device Group referenced by the Project File in the current "
    "directory is used."
)
DG_OPT = dg_opt("Device Group identifier." + PROJECT_DEFAULT)
NAME = Option("name", "n", "Name of the Device Group.", placeholder="<device_group_name>")
DESCR = Option(
    "descr",
    "s",
    "Description of the Device Group.",
    EMPTY_OK,
    placeholder="<device_group_description>",
)
DUT = Option(
    "dut",
    "u",
    'Identifier of the DUT Target Device Group. Only for "pre-factory" and "factory" Device '
    "Groups.",
    placeholder=DG_ID,
    complete="dg",
)
TARGET = Option(
    "target",
    "t",
    'Identifier of the Production Target Device Group. Only for "pre-factory" and "factory" '
    "Device Groups.",
    placeholder=DG_ID,
    complete="dg",
)
ENV_VARIABLE = Option(
    "env-variable",
    "e",
    "User-defined environment variables of the Device Group, as a JSON object string.",
)


# -- helpers -----------------------------------------------------------------------------


def _dg_info(ident: str) -> str:
    return f'Device Group "{ident}"'


def _fresh_dg(inv: Invocation, value: str | None) -> tuple[Resource, str]:
    """The Device Group (project default) as the server has it now: relationships such as
    the min supported deployment must be current."""
    dg, ident = resolve_dg(inv, value)
    return inv.identifier.fresh("dg", dg), ident


def _factory_check(args: Args) -> str | None:
    """dg create's cross-option syntax checks (printed with the usage)."""
    dg_type = args.dg_type or "development"
    if dg_type in FACTORY_TYPES:
        for name in ("dut", "target"):
            if not args.given(name):
                return f'Option "--{name}" must be specified for Device Group of type "{dg_type}".'
    if args.region and dg_type not in PRODUCTION_TYPES:
        return _invalid_option("region", dg_type, PRODUCTION_TYPES)
    return None


def _invalid_option(name: str, dg_type: str, allowed: tuple[str, ...]) -> str:
    return (
        f'Invalid option "--{name}" for Device Group of the type "{dg_type}". '
        f'It may be specified for "{allowed[0]}" or "{allowed[1]}" Device Groups only.'
    )


def _targets(
    inv: Invocation, dg_type: str, product_id: str, target: str | None, dut: str | None
) -> dict[str, dict[str, str]]:
    """Resolves and checks `--target` then `--dut` (dg create/update step 2); returns the
    relationships to send."""
    rels: dict[str, dict[str, str]] = {}
    for option, value, label, rel, required_type in (
        ("target", target, "Production Target", "production_target", production_target_type),
        ("dut", dut, "DUT Target", "dut_target", dut_target_type),
    ):
        if value is None:
            continue
        if dg_type not in FACTORY_TYPES:
            raise CommandError(_invalid_option(option, dg_type, FACTORY_TYPES))
        found = inv.identifier.resolve("dg", value, type_label=f"{label} Device Group")
        required = required_type(dg_type)
        actual = dg_cli_type(found.get("type"))
        if actual != required:
            raise CommandError(
                f'{label} Device Group "{value}" is of the type "{actual}" but must be of the '
                f'type "{required}".'
            )
        if rel_id(found, "product") != product_id:
            raise CommandError(f"{label} Device Group must be from the same Product.")
        rels[rel] = {"type": found["type"], "id": found["id"]}
    return rels


def _env_vars(value: str | None) -> Any:
    """`--env-variable` parsed as JSON; impt's stderr line and JSON.parse's message on error."""
    if value is None:
        return None
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except (json.JSONDecodeError, _BadConstant) as exc:
        print(f"Invalid JSON string: {value}", file=sys.stderr)
        raise CommandError(js_json_error(value, exc)) from None


class _BadConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _BadConstant(name)


_CONTEXT = 10  # V8's kMaxContextCharacters


def js_json_error(text: str, exc: Exception) -> str:
    """The message JavaScript's `JSON.parse` (V8) gives for `text`, approximated from
    Python's parser error."""
    if isinstance(exc, _BadConstant):
        pos = text.find(str(exc))
        if str(exc) == "-Infinity":
            return f"No number after minus sign in JSON at position {pos + 1}"
        return _unexpected_token(text, max(pos, 0))
    assert isinstance(exc, json.JSONDecodeError)
    pos, msg = exc.pos, exc.msg
    if msg.startswith("Unterminated string"):
        return f"Unterminated string in JSON at position {len(text)}"
    if pos >= len(text) or (msg == "Expecting value" and not text[pos:].strip()):
        return "Unexpected end of JSON input"
    if msg == "Extra data":
        return f"Unexpected non-whitespace character after JSON at position {pos}"
    if msg.startswith("Invalid control character"):
        return f"Bad control character in string literal in JSON at position {pos}"
    if msg.startswith("Invalid \\uXXXX"):
        return f"Bad Unicode escape in JSON at position {pos}"
    if msg.startswith("Invalid \\escape"):
        return f"Bad escaped character in JSON at position {pos}"
    if msg.startswith("Expecting property name"):
        before = text[:pos].rstrip()
        if before.endswith("{"):
            return f"Expected property name or '}}' in JSON at position {pos}"
        return f"Expected double-quoted property name in JSON at position {pos}"
    if msg == "Expecting ':' delimiter":
        return f"Expected ':' after property name in JSON at position {pos}"
    if msg == "Expecting ',' delimiter":
        if _innermost(text, pos) == "[":
            return f"Expected ',' or ']' after array element in JSON at position {pos}"
        return f"Expected ',' or '}}' after property value in JSON at position {pos}"
    for literal in ("true", "false", "null"):
        if msg == "Expecting value" and text[pos] == literal[0]:
            rest = text[pos : pos + len(literal)]
            bad = next((i for i, ch in enumerate(rest) if ch != literal[i]), None)
            if bad is None:  # the input ends inside the literal
                return "Unexpected end of JSON input"
            return _unexpected_token(text, pos + bad)
    if text[pos] == "-" and re.match(r"-([^0-9]|$)", text[pos:]):
        return f"No number after minus sign in JSON at position {pos + 1}"
    return _unexpected_token(text, pos)


def _unexpected_token(text: str, pos: int) -> str:
    token = text[pos] if pos < len(text) else ""
    if len(text) < 2 * _CONTEXT + 1:
        context = f'"{text}"'
    elif pos < _CONTEXT:
        context = f'"{text[: pos + _CONTEXT]}"...'
    elif pos < len(text) - _CONTEXT:
        context = f'..."{text[pos - _CONTEXT : pos + _CONTEXT]}"...'
    else:
        context = f'..."{text[pos - _CONTEXT :]}"'
    return f"Unexpected token '{token}', {context} is not valid JSON"


def _innermost(text: str, pos: int) -> str | None:
    """The innermost open bracket (`{` or `[`) at `pos`, skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else None


# -- commands ----------------------------------------------------------------------------


@group.command(
    "builds",
    "Displays information about all Deployments of the specified Device Group. Optionally "
    "unflags them (all, or those older than the Min supported Deployment) and deletes the "
    "unflagged ones that are older than the Min supported Deployment." + PROJECT_DEFAULT,
    [
        DG_OPT,
        Option("unflag", "u", 'Sets "flagged" attribute to false for all Deployments.', FLAG),
        Option(
            "unflag-old",
            "o",
            'Sets "flagged" attribute to false for the Deployments older than the Min '
            "supported Deployment.",
            FLAG,
        ),
        Option(
            "remove",
            "r",
            "Deletes the unflagged Deployments that are older than the Min supported Deployment.",
            FLAG,
        ),
        CONFIRMED,
    ],
)
def builds(inv: Invocation) -> None:
    args = inv.args
    dg, ident = _fresh_dg(inv, args.dg)
    dg_id = dg["id"]
    min_id = rel_id(dg, "min_supported_deployment")
    minimum: Resource | None = None
    if min_id and ((args.unflag_old and not args.unflag) or args.remove):
        minimum = inv.identifier.get("build", min_id)
    if args.unflag or args.unflag_old:
        flagged = inv.identifier.list("build", {"devicegroup.id": dg_id, "flagged": "true"})
        if args.unflag_old and not args.unflag and minimum is not None:
            flagged = [b for b in flagged if older(b, minimum)]
        if not flagged:
            inv.out.info(f'No "flagged" Deployments are found for {_dg_info(ident)}.')
        for build in flagged:
            inv.client.patch(
                f"/deployments/{build['id']}",
                {
                    "data": {
                        "type": "deployment",
                        "id": build["id"],
                        "attributes": {"flagged": False},
                    }
                },
            )
            inv.out.info(f'Deployment "{build["id"]}" is updated successfully.')
        inv.cache.invalidate("build")
    if args.remove:
        unflagged = inv.identifier.list("build", {"devicegroup.id": dg_id, "flagged": "false"})
        if minimum is not None:
            unflagged = [b for b in unflagged if older(b, minimum)]
        if not unflagged:
            inv.out.info(f"No Deployments that can be deleted are found for {_dg_info(ident)}.")
        else:
            plan = DeletionPlan()
            for build in unflagged:
                plan.add("build", build)
            execute(inv, plan)
            inv.cache.invalidate("build")
    listing.print_list(inv, "build", inv.identifier.list("build", {"devicegroup.id": dg_id}))


@group.command(
    "create",
    "Creates a new Device Group for the specified Product. If the Product is not specified, "
    "the Product of the Device Group referenced by the Project File in the current directory "
    "is used.",
    [
        replace(NAME, required=True),
        dg_type_opt('Type of the Device Group (default: "development").'),
        product_opt(
            "Identifier of the Product. If not specified, the Product of the Device Group "
            "referenced by the Project File in the current directory is used."
        ),
        DESCR,
        DUT,
        TARGET,
        Option(
            "region",
            "r",
            'Region of the Device Group. Only for "pre-production" and "production" Device Groups.',
            placeholder="<region_name>",
        ),
        ENV_VARIABLE,
    ],
    check=_factory_check,
    usage="--name <device_group_name> [--dg-type <device_group_type>] "
    "[--product <PRODUCT_IDENTIFIER>] [--descr <device_group_description>] "
    "[--dut <DEVICE_GROUP_IDENTIFIER>] [--target <DEVICE_GROUP_IDENTIFIER>] "
    "[--region <region_name>] [--output <mode>] [--env-variable] [--help]",
)
def create(inv: Invocation) -> None:
    args = inv.args
    dg_type = args.dg_type or "development"
    product, _ = resolve_product(inv, args.product)
    rels: dict[str, Any] = {"product": {"type": "product", "id": product["id"]}}
    rels.update(_targets(inv, dg_type, product["id"], args.target, args.dut))
    env = _env_vars(args.env_variable)
    attributes: dict[str, Any] = {"name": args.name}
    if args.descr is not None:
        attributes["description"] = args.descr
    if args.region:
        attributes["region"] = args.region
    if args.env_variable is not None:
        attributes["env_vars"] = env
    body = {
        "data": {
            "type": dg_api_type(dg_type),
            "attributes": attributes,
            "relationships": rels,
        }
    }
    dg = inv.client.post("/devicegroups", body)["data"]
    inv.cache.put("dg", dg)
    inv.cache.invalidate("dg")
    inv.out.info(f'Device Group "{args.name}" is created successfully.')
    inv.out.result(short_view("dg", dg))


@group.command(
    "delete",
    "Deletes the specified Device Group. With --force also unassigns its Devices and unflags "
    "its flagged Deployments first." + PROJECT_DEFAULT,
    [
        DG_OPT,
        replace(
            FORCE,
            help='Unassigns all Devices of the Device Group and sets "flagged" attribute to '
            "false for all its Deployments before deleting it.",
        ),
        CONFIRMED,
    ],
)
def delete(inv: Invocation) -> None:
    dg, ident = resolve_dg(inv, inv.args.dg)
    plan = DeletionPlan()
    plan.add("dg", dg, ident)
    if inv.args.force:
        for device in dg_devices(inv, dg["id"]):
            plan.add_unassign(device)
        for build in inv.identifier.list("build", {"devicegroup.id": dg["id"], "flagged": "true"}):
            plan.add_unflag(build)
    execute(inv, plan)
    inv.cache.invalidate("dg", "build", "device", "webhook")


@group.command(
    "info",
    "Displays information about the specified Device Group. With --full also the Device "
    "Groups targeting it, its Webhooks and Devices." + PROJECT_DEFAULT,
    [
        DG_OPT,
        Option(
            "full",
            "u",
            "Also shows the Device Groups it is a target of, its Webhooks and Devices.",
            FLAG,
        ),
    ],
)
def info(inv: Invocation) -> None:
    dg, ident = _fresh_dg(inv, inv.args.dg)
    warnings: list[str] = []
    related = inv.related(bulk=False)
    if inv.args.full:
        dg_type = dg_cli_type(dg.get("type"))
        product_id = rel_id(dg, "product")
        product_dgs: list[Resource] = []
        if product_id and dg_type in PRODUCTION_TYPES + DUT_TYPES:
            product_dgs = inv.identifier.list("dg", {"product.id": product_id})
        webhooks = inv.identifier.list("webhook", {"devicegroup.id": dg["id"]})
        devices = dg_devices(inv, dg["id"])
        view = dg_full_view(
            dg,
            related,
            product_dgs,
            webhooks,
            devices,
            text_mode=inv.out.text_mode,
            me_id=inv.me_id,
            warnings=warnings,
            ident=ident,
        )
    else:
        view = info_view("dg", dg, related, me_id=inv.me_id, warnings=warnings, ident=ident)
    show_warnings(inv, warnings)
    inv.out.result(view)


@group.command(
    "list",
    "Displays information about all Device Groups available to the current account, or "
    "those matching the filters.",
    [
        owner_opt("Lists the Device Groups of this owner only.", repeat=True),
        product_opt("Lists the Device Groups of this Product only.", repeat=True),
        dg_type_opt("Lists the Device Groups of this type only.", repeat=True),
    ],
)
def list_(inv: Invocation) -> None:
    args = inv.args
    owners = listing.filter_ids(inv, "account", args.owner)
    products = listing.filter_ids(inv, "product", args.product)
    types = [DG_TYPES[t] for t in args.dg_type] if args.dg_type else None
    dgs = listing.fetch(inv, "dg", {"owner.id": owners, "product.id": products, "type": types})
    listing.print_list(inv, "dg", dgs)


@group.command(
    "reassign",
    "Reassigns all Devices from one Device Group to another. If the target Device Group is "
    "not specified, the Device Group referenced by the Project File in the current directory "
    "is used.",
    [
        Option(
            "from",
            "f",
            "Identifier of the Device Group whose Devices are reassigned.",
            placeholder=DG_ID,
            required=True,
            complete="dg",
        ),
        Option(
            "to",
            "t",
            "Identifier of the Device Group the Devices are reassigned to." + PROJECT_DEFAULT,
            placeholder=DG_ID,
            complete="dg",
        ),
    ],
)
def reassign(inv: Invocation) -> None:
    args = inv.args
    source_ident: str = getattr(args, "from")
    to, to_ident = resolve_dg(inv, args.to)
    source = inv.identifier.resolve("dg", source_ident)
    devices = dg_devices(inv, source["id"])
    if not devices:
        inv.out.info(f"{_dg_info(source_ident)} does not have assigned Devices.")
        return
    inv.client.post(
        f"/devicegroups/{to['id']}/relationships/devices",
        {"data": [{"type": "device", "id": d["id"]} for d in devices]},
    )
    inv.cache.invalidate("device")
    inv.out.info(
        f"The following Devices assigned to {_dg_info(source_ident)} are reassigned "
        f"successfully to {_dg_info(to_ident)}:"
    )
    info_blocks(inv, [short_view("device", d) for d in devices])


@group.command(
    "restart",
    "Reboots all Devices assigned to the specified Device Group." + PROJECT_DEFAULT,
    [
        DG_OPT,
        Option(
            "conditional",
            "c",
            "Conditional restart: devices running a supported Deployment decide themselves "
            "when to restart.",
            FLAG,
        ),
        Option(
            "log",
            "l",
            "Starts displaying logs from the Devices (not available yet in this imptsh version).",
            FLAG,
        ),
    ],
)
def restart(inv: Invocation) -> None:
    args = inv.args
    dg, ident = resolve_dg(inv, args.dg)
    devices = restart_dg(inv, dg, ident, conditional=args.conditional)
    if args.log and devices:
        inv.out.info(LOG_NOTE)


@group.command(
    "unassign",
    "Unassigns all Devices from the specified Device Group." + PROJECT_DEFAULT,
    [
        DG_OPT,
        Option(
            "unbond",
            "u",
            "Unbond key, required to unassign Devices from production Device Groups.",
            EMPTY_OK,
            placeholder="<unbond_key>",
        ),
    ],
)
def unassign(inv: Invocation) -> None:
    args = inv.args
    dg, ident = resolve_dg(inv, args.dg)
    devices = dg_devices(inv, dg["id"])
    if not devices:
        inv.out.info(f"{_dg_info(ident)} does not have assigned Devices.")
        return
    headers = {"X-Electricimp-Key": args.unbond} if args.unbond else None
    inv.client.delete(
        f"/devicegroups/{dg['id']}/relationships/devices",
        {"data": [{"type": "device", "id": d["id"]} for d in devices]},
        headers=headers,
    )
    inv.cache.invalidate("device")
    inv.out.info(f"The following Devices are unassigned successfully from {_dg_info(ident)}:")
    info_blocks(inv, [short_view("device", d) for d in devices])


@group.command(
    "update",
    "Updates the specified Device Group." + PROJECT_DEFAULT,
    [
        DG_OPT,
        NAME,
        DESCR,
        DUT,
        TARGET,
        Option(
            "load-code-after-blessing",
            "l",
            "Whether production code is loaded immediately after blessing. Only for "
            '"pre-production" and "production" Device Groups.',
            OPT_BOOL,
        ),
        Option(
            "min-supported-deployment",
            "m",
            "Identifier of the Build to set as the Min supported Deployment.",
            placeholder=BUILD_ID,
            complete="build",
        ),
        ENV_VARIABLE,
    ],
    usage="[--dg <DEVICE_GROUP_IDENTIFIER>] [--name <device_group_name>] "
    "[--descr <device_group_description>] [--dut <DEVICE_GROUP_IDENTIFIER>] "
    "[--target <DEVICE_GROUP_IDENTIFIER>] [--load-code-after-blessing [true|false]] "
    "[--min-supported-deployment <BUILD_IDENTIFIER>] [--output <mode>] [--env-variable] "
    "[--help]",
)
def update(inv: Invocation) -> None:
    args = inv.args
    dg, ident = _fresh_dg(inv, args.dg)
    dg_type = dg_cli_type(dg.get("type"))
    # Every check first (impt's order), so that bad input changes nothing on the server.
    rels = _targets(inv, dg_type, rel_id(dg, "product") or "", args.target, args.dut)
    lcab = args.load_code_after_blessing
    if lcab is not None and dg_type not in PRODUCTION_TYPES:
        raise CommandError(_invalid_option("load-code-after-blessing", dg_type, PRODUCTION_TYPES))
    build: Resource | None = None
    if args.min_supported_deployment is not None:
        build = _check_min_supported(inv, dg, ident, args.min_supported_deployment)
    env = _env_vars(args.env_variable)
    if build is not None:
        inv.client.put(
            f"/devicegroups/{dg['id']}/relationships/min_supported_deployment",
            {"data": {"type": "deployment", "id": build["id"]}},
        )
        inv.out.info(f"Min supported Deployment for {_dg_info(ident)} is updated successfully.")
    attributes: dict[str, Any] = {}
    if args.name is not None:
        attributes["name"] = args.name
    if args.descr is not None:
        attributes["description"] = args.descr
    if lcab is not None:
        attributes["load_code_after_blessing"] = lcab
    if args.env_variable is not None:
        attributes["env_vars"] = env
    data: dict[str, Any] = {"type": dg["type"], "id": dg["id"], "attributes": attributes}
    if rels:
        data["relationships"] = rels
    updated = inv.client.patch(f"/devicegroups/{dg['id']}", {"data": data})
    if updated and isinstance(updated.get("data"), dict):
        inv.cache.put("dg", updated["data"])
    inv.cache.invalidate("dg")
    inv.out.info(f"{_dg_info(ident)} is updated successfully.")


def _check_min_supported(inv: Invocation, dg: Resource, ident: str, value: str) -> Resource:
    build = inv.identifier.resolve("build", value)
    if rel_id(build, "devicegroup") != dg["id"]:
        raise CommandError(
            f'Deployment "{value}" does not belong to {_dg_info(ident)}. '
            "Impossible to set it as Min supported Deployment."
        )
    current_id = rel_id(dg, "min_supported_deployment")
    current = inv.identifier.get("build", current_id) if current_id else None
    if current is not None and older(build, current):
        raise CommandError(
            "Min supported Deployment cannot be set to an earlier Deployment than the current "
            "Min supported Deployment."
        )
    return build
