"""`dg builds|create|delete|info|list|reassign|restart|unassign|update` (commands.md §11.5)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import listing
from ..api import resources
from ..api.errors import ImpCentralError
from ..deletion import DeletionPlan, execute
from ..entities import (
    DG_TYPES,
    DUT_TYPES,
    FACTORY_TYPES,
    PRODUCTION_TYPES,
    dg_api_type,
    dg_cli_type,
)
from ..errors import CommandError
from ..invocation import Invocation
from ..views import dg_full_view, ident_info, info_view, rel_id, short_view
from .common import (
    BUILD_ID,
    CONFIRMED,
    DG_ID,
    FORCE,
    dg_devices,
    dg_opt,
    dg_type_opt,
    info_blocks,
    older,
    owner_opt,
    product_opt,
    resolve_dg,
    resolve_product,
    restart_dg,
)
from .env_variable import parse_env_variable
from .follow import following
from .spec import EMPTY_OK, FLAG, OPT_BOOL, Args, Group, Option
from .targets import invalid_option, resolve_targets

group = Group("dg", "Device Group manipulation commands.")

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
        return invalid_option("region", dg_type, PRODUCTION_TYPES)
    return None


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
            inv.out.info(f'No "flagged" Deployments are found for {ident_info("dg", ident)}.')
        for build in flagged:
            resources.update_deployment(inv.client, inv.cache, build["id"], flagged=False)
            inv.out.info(f'Deployment "{build["id"]}" is updated successfully.')
    if args.remove:
        unflagged = inv.identifier.list("build", {"devicegroup.id": dg_id, "flagged": "false"})
        if minimum is not None:
            unflagged = [b for b in unflagged if older(b, minimum)]
        if not unflagged:
            inv.out.info(
                f"No Deployments that can be deleted are found for {ident_info('dg', ident)}."
            )
        else:
            plan = DeletionPlan()
            for build in unflagged:
                plan.add("build", build)
            execute(inv, plan)
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
    targets = resolve_targets(inv, dg_type, product["id"], args.target, args.dut)
    env = parse_env_variable(args.env_variable)
    dg = resources.create_device_group(
        inv.client,
        inv.cache,
        dg_api_type(dg_type),
        args.name,
        product["id"],
        description=args.descr,
        region=args.region or None,
        env_vars=resources.UNCHANGED if args.env_variable is None else env,
        **targets,
    )
    inv.out.info(f'Device Group "{args.name}" is created successfully.')
    inv.out.result(short_view("dg", dg))


@group.command(
    "delete",
    "Deletes the specified Device Group and all of the related builds. With --force also "
    "unassigns its Devices and unflags its flagged Deployments first." + PROJECT_DEFAULT,
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
    inv.out.result(dg_info_view(inv, dg, ident, full=inv.args.full))


def dg_info_view(inv: Invocation, dg: Resource, ident: str, *, full: bool) -> dict[str, Any]:
    """The info view of `dg` (as fetched now), with `full` its full view (the groups it is
    a target of, its Webhooks and Devices); corrupted-relationship warnings are printed."""
    warnings: list[str] = []
    related = inv.related(bulk=False)
    if full:
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
    inv.out.warnings(warnings)
    return view


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
        inv.out.info(f"{ident_info('dg', source_ident)} does not have assigned Devices.")
        return
    with inv.out.progress(f"Reassigning {len(devices)} Devices", len(devices), counted=False):
        resources.assign_devices(inv.client, inv.cache, to["id"], [d["id"] for d in devices])
    inv.out.info(
        f"The following Devices assigned to {ident_info('dg', source_ident)} are reassigned "
        f"successfully to {ident_info('dg', to_ident)}:"
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
            "Starts displaying logs from the Devices (in the shell: a background log task).",
            FLAG,
        ),
    ],
)
def restart(inv: Invocation) -> None:
    args = inv.args
    dg, ident = resolve_dg(inv, args.dg)
    with following(inv, args.log) as follow:
        restart_dg(inv, dg, ident, conditional=args.conditional, before_restart=follow.start)


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
        inv.out.info(f"{ident_info('dg', ident)} does not have assigned Devices.")
        return
    with inv.out.progress(f"Unassigning {len(devices)} Devices", len(devices), counted=False):
        resources.unassign_devices(
            inv.client, inv.cache, dg["id"], [d["id"] for d in devices], unbond_key=args.unbond
        )
    inv.out.info(
        f"The following Devices are unassigned successfully from {ident_info('dg', ident)}:"
    )
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
    targets = resolve_targets(inv, dg_type, rel_id(dg, "product") or "", args.target, args.dut)
    lcab = args.load_code_after_blessing
    if lcab is not None and dg_type not in PRODUCTION_TYPES:
        raise CommandError(invalid_option("load-code-after-blessing", dg_type, PRODUCTION_TYPES))
    build: Resource | None = None
    if args.min_supported_deployment is not None:
        build = _check_min_supported(inv, dg, ident, args.min_supported_deployment)
    env = parse_env_variable(args.env_variable)
    label = ident_info("dg", ident)
    # The PATCH goes first: if the server rejects it (a duplicate name, ...), nothing has
    # changed; the min supported deployment was validated above.
    resources.update_device_group(
        inv.client,
        inv.cache,
        dg,
        name=args.name,
        description=args.descr,
        load_code_after_blessing=lcab,
        env_vars=resources.UNCHANGED if args.env_variable is None else env,
        **targets,
    )
    if build is not None:
        try:
            resources.set_min_supported_deployment(inv.client, inv.cache, dg["id"], build["id"])
        except ImpCentralError:
            inv.out.info(f"{label} is updated successfully.")
            raise
        inv.out.info(f"Min supported Deployment for {label} is updated successfully.")
    inv.out.info(f"{label} is updated successfully.")


def _check_min_supported(inv: Invocation, dg: Resource, ident: str, value: str) -> Resource:
    build = inv.identifier.resolve("build", value)
    if rel_id(build, "devicegroup") != dg["id"]:
        raise CommandError(
            f'Deployment "{value}" does not belong to {ident_info("dg", ident)}. '
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
