"""`project create|delete|info|link|update` (commands.md §7, §11.9): a directory's link
between its source files and a Device Group."""

from __future__ import annotations

from typing import Any

from ..api import resources
from ..deletion import DeletionPlan, execute
from ..entities import dg_api_type, dg_cli_type
from ..errors import CommandError
from ..invocation import Invocation
from ..project import (
    DEFAULT_AGENT_FILE,
    DEFAULT_DEVICE_FILE,
    ProjectFile,
    ProjectFileError,
    check_project_file_writable,
    create_source_file,
    load_project,
    new_project,
    project_file_present,
    project_path,
    source_file_problem,
)
from ..views import project_view, rel_id
from .auth import auth_info_block
from .common import CONFIRMED, DG_ID, PRODUCT_ID, dg_devices, dg_opt, get_by_id
from .dg import dg_info_view
from .spec import EMPTY_OK, FLAG, Args, Group, Option
from .targets import DUT, PRODUCTION, create_missing, find_targets

group = Group("project", "Project manipulation commands.")

Resource = dict[str, Any]

PROJECT_TYPES = ("development", "pre-factory", "pre-dut")
"""Device Group types a Project can be based on (impt 2.6.1 links the first two only)."""

EXISTS = "The current directory already contains Project File. It will be overwritten."
NOT_FOUND = "Project File is not found in the current directory."

NAME = Option("name", "n", "Name of the Device Group.", placeholder="<device_group_name>")
DESCR = Option(
    "descr",
    "s",
    "Description of the Device Group.",
    EMPTY_OK,
    placeholder="<device_group_description>",
)
DEVICE_FILE = Option(
    "device-file",
    "x",
    f'Name of the file with IMP device source code (default: "{DEFAULT_DEVICE_FILE}"); '
    "created empty if it does not exist.",
    placeholder="<device_file>",
    complete="file",
)
AGENT_FILE = Option(
    "agent-file",
    "y",
    f'Name of the file with IMP agent source code (default: "{DEFAULT_AGENT_FILE}"); '
    "created empty if it does not exist.",
    placeholder="<agent_file>",
    complete="file",
)
DUT_OPT = Option(
    "dut",
    "u",
    'Identifier of the DUT Target Device Group (of type "pre-dut") of a pre-factory Project.',
    placeholder=DG_ID,
    complete="dg",
)
TARGET_OPT = Option(
    "target",
    "t",
    'Identifier of the Production Target Device Group (of type "pre-production") of a '
    "pre-factory Project.",
    placeholder=DG_ID,
    complete="dg",
)


# -- create ------------------------------------------------------------------------------


def _create_check(args: Args) -> str | None:
    if args.pre_factory and args.pre_dut:
        return 'Options "--pre-factory" and "--pre-dut" are mutually exclusive.'
    for option in ("target", "dut"):
        if bool(args.pre_factory) != args.given(option):
            return f'Options "--pre-factory" and "--{option}" must be specified together.'
    return None


@group.command(
    "create",
    "Creates a new Project in the current directory. Creates a new Device Group of the "
    "specified Product (development; pre-factory with --pre-factory; pre-dut with "
    "--pre-dut), the source files if they do not exist, and the Project File. Overwrites an "
    "existing Project File after a confirmation.",
    [
        Option(
            "product",
            "p",
            "Identifier of the Product the new Device Group belongs to.",
            placeholder=PRODUCT_ID,
            required=True,
            complete="product",
        ),
        Option(
            "create-product",
            "c",
            "Creates the Product, named by --product, if it does not exist.",
            FLAG,
        ),
        Option(
            "name",
            "n",
            "Name of the new Device Group.",
            placeholder="<device_group_name>",
            required=True,
        ),
        DESCR,
        DEVICE_FILE,
        AGENT_FILE,
        Option(
            "pre-factory",
            "f",
            'The new Device Group is of type "pre-factory" (for BlinkUp fixture firmware); '
            "needs --target and --dut.",
            FLAG,
        ),
        Option(
            "pre-dut",
            None,
            'The new Device Group is of type "pre-dut" (for device-under-test firmware).',
            FLAG,
        ),
        DUT_OPT,
        Option(
            "create-dut",
            "w",
            "Creates the DUT Target Device Group, named by --dut, if it does not exist.",
            FLAG,
        ),
        TARGET_OPT,
        Option(
            "create-target",
            "r",
            "Creates the Production Target Device Group, named by --target, if it does not exist.",
            FLAG,
        ),
        CONFIRMED,
    ],
    check=_create_check,
)
def create(inv: Invocation) -> None:
    args = inv.args
    cwd = inv.session.cwd
    device_file, agent_file = _prepare_new_project(inv, args.device_file, args.agent_file)
    dg_type = "pre-factory" if args.pre_factory else "pre-dut" if args.pre_dut else "development"
    # Everything is checked before anything is created.
    product = inv.identifier.find_one("product", args.product)
    if product is None and not args.create_product:
        raise CommandError(f'Product "{args.product}" is not found.')
    creatable = {PRODUCTION} if args.create_target else set()
    creatable |= {DUT} if args.create_dut else set()
    targets = find_targets(
        inv,
        dg_type,
        product["id"] if product else None,
        {PRODUCTION: args.target, DUT: args.dut},
        frozenset(creatable),
    )
    if product is None:
        product = resources.create_product(inv.client, inv.cache, args.product)
        inv.out.info(f'Product "{args.product}" is created successfully.')
    relationships = create_missing(inv, dg_type, product["id"], targets)
    dg = resources.create_device_group(
        inv.client,
        inv.cache,
        dg_api_type(dg_type),
        args.name,
        product["id"],
        description=args.descr,
        **relationships,
    )
    inv.identifier.answered("dg", dg)
    inv.out.info(f'Device Group "{args.name}" is created successfully.')
    project = _write_project(inv, new_project(cwd, dg["id"], device_file, agent_file))
    inv.out.info("Project is created successfully.")
    inv.out.result(_project_block(inv, project, dg, full=False))


def _prepare_new_project(
    inv: Invocation, device_file: str | None, agent_file: str | None
) -> tuple[str, str]:
    """`project create`/`link` steps before anything changes: the confirmation to replace
    a Project File, and the source file names (defaults filled in, checked)."""
    cwd = inv.session.cwd
    check_project_file_writable(cwd)
    if project_file_present(cwd):
        inv.confirm(EXISTS)
    names = (device_file or DEFAULT_DEVICE_FILE, agent_file or DEFAULT_AGENT_FILE)
    _check_source_files(inv, names)
    return names


def _check_source_files(inv: Invocation, names: tuple[str | None, ...]) -> None:
    for name in names:
        problem = source_file_problem(name, inv.session.cwd) if name else None
        if problem:
            raise CommandError(problem)


def _write_project(inv: Invocation, project: ProjectFile) -> ProjectFile:
    """Creates the Project's missing source files (with impt's messages), then writes the
    Project File atomically."""
    for label, name in (("Device", project.device_file), ("Agent", project.agent_file)):
        if name and create_source_file(name, inv.session.cwd):
            inv.out.info(f'{label} source file "{name}" is created successfully.')
    project.save()
    return project


def _project_block(
    inv: Invocation, project: ProjectFile, dg: Resource, *, full: bool
) -> dict[str, Any]:
    """impt's `Project` block (`Device file`, `Agent file`, the Device Group's info or full
    view as fetched now), with `full` followed by the `Auth` block of `auth info`."""
    dg = inv.identifier.fresh("dg", dg)
    dg_view = dg_info_view(inv, dg, dg["id"], full=full)
    block = project_view(project.device_file or "", project.agent_file or "", dg_view)
    if full:
        block["Auth"] = auth_info_block(inv)
    return block


# -- delete ------------------------------------------------------------------------------


@group.command(
    "delete",
    "Deletes the Project File in the current directory. With --files also the source files "
    "it links; with --entities also its Device Group (unassigning its Devices and deleting "
    "all its builds, flagged ones too), the target Device Groups of a pre-factory Project "
    "that no other Device Group targets, and the Product when nothing else is in it; --all "
    "is both. The local Auth File is never deleted.",
    [
        Option(
            "entities",
            "e",
            "Also deletes the impCentral API entities of the Project (see the description).",
            FLAG,
        ),
        Option("files", "f", "Also deletes the source files linked by the Project.", FLAG),
        Option("all", "a", "Both --entities and --files.", FLAG),
        CONFIRMED,
    ],
)
def delete(inv: Invocation) -> None:
    args = inv.args
    cwd = inv.session.cwd
    if not project_file_present(cwd):
        inv.out.info("There is no Project File in the current directory.")
        return
    files, entities = bool(args.files or args.all), bool(args.entities or args.all)
    try:
        project = load_project(cwd)
    except ProjectFileError as exc:
        if project_path(cwd).is_dir() or files or entities:
            raise CommandError(_unreadable(exc.message)) from None
        project = None  # a corrupted file: only the file itself goes
    plan = DeletionPlan(
        project_file=project_path(cwd),
        project_summary="Project File in the current directory will be deleted.",
    )
    if project is not None and files:
        for name in (project.device_file, project.agent_file):
            if name and (cwd / name).is_file() and name not in plan.files:
                plan.files.append(name)
    if project is not None and entities:
        _collect_entities(inv, plan, project)
    execute(inv, plan)


def _unreadable(problem: str) -> str:
    if problem == "Project File is corrupted.":
        return (
            "Project File is corrupted, so the files and entities it links are unknown. Run "
            '"impt project delete" without --files, --entities or --all to delete only the '
            "Project File."
        )
    return problem


def _collect_entities(inv: Invocation, plan: DeletionPlan, project: ProjectFile) -> None:
    """impt's rules: the Product only when the Project's groups are all it has; a target
    group only when no other group of the Product targets it; each group with its devices
    unassigned, its flagged builds unflagged and all its builds deleted. A Device Group
    that is gone already adds nothing."""
    dg = inv.identifier.get("dg", project.device_group_id)
    if dg is None:
        return
    product_id = rel_id(dg, "product") or ""
    product_dgs = inv.identifier.list("dg", {"product.id": product_id})
    targets = [rel_id(dg, rel) for rel in ("production_target", "dut_target")]
    if len(product_dgs) == (3 if all(targets) else 1):
        plan.add("product", get_by_id(inv, "product", product_id))
    for rel, target_id in zip(("production_target", "dut_target"), targets, strict=True):
        if target_id is None:
            continue
        targeting = [g for g in product_dgs if rel_id(g, rel) == target_id]
        target = next((g for g in product_dgs if g["id"] == target_id), None)
        if len(targeting) == 1 and target is not None:
            _add_group(inv, plan, target)
    _add_group(inv, plan, dg)


def _add_group(inv: Invocation, plan: DeletionPlan, dg: Resource) -> None:
    plan.add("dg", dg)
    for device in dg_devices(inv, dg["id"]):
        plan.add_unassign(device)
    builds = inv.identifier.list("build", {"devicegroup.id": dg["id"]})
    for build in builds:
        if (build.get("attributes") or {}).get("flagged"):
            plan.add_unflag(build)
    for build in builds:
        plan.add("build", build)


# -- info --------------------------------------------------------------------------------


@group.command(
    "info",
    "Displays information about the Project in the current directory. Its source files and "
    "Device Group; with --full also the Device Group's Devices, the groups it is a target of "
    "and its Webhooks, and the authentication status of the directory (as auth info).",
    [Option("full", "u", "Also shows Devices, Webhooks and the authentication status.", FLAG)],
)
def info(inv: Invocation) -> None:
    project = _require_project(inv)
    dg = _project_dg(inv)
    inv.out.result(_project_block(inv, project, dg, full=bool(inv.args.full)))


def _require_project(inv: Invocation) -> ProjectFile:
    project = load_project(inv.session.cwd)
    if project is None:
        raise CommandError(NOT_FOUND)
    return project


def _project_dg(inv: Invocation) -> Resource:
    dg = inv.project_dg()
    if dg is None:  # the file went away while the command ran
        raise CommandError(NOT_FOUND)
    return dg


# -- link --------------------------------------------------------------------------------


@group.command(
    "link",
    "Creates a new Project in the current directory by linking it to an existing Device "
    'Group. The Device Group must be of type "development", "pre-factory" or "pre-dut"; the '
    "source files are created if they do not exist. Overwrites an existing Project File after "
    "a confirmation.",
    [
        dg_opt("Identifier of the Device Group to link the Project to.", required=True),
        DEVICE_FILE,
        AGENT_FILE,
        CONFIRMED,
    ],
)
def link(inv: Invocation) -> None:
    args = inv.args
    device_file, agent_file = _prepare_new_project(inv, args.device_file, args.agent_file)
    dg = inv.identifier.resolve("dg", args.dg)
    dg_type = dg_cli_type(dg.get("type"))
    if dg_type not in PROJECT_TYPES:
        allowed = ", ".join(f'"{t}"' for t in PROJECT_TYPES[:-1]) + f' or "{PROJECT_TYPES[-1]}"'
        raise CommandError(
            f'Project can not be linked to Device Group of the type "{dg_type}". '
            f"Only {allowed} Device Groups are allowed."
        )
    project = _write_project(inv, new_project(inv.session.cwd, dg["id"], device_file, agent_file))
    inv.out.info("Project is linked successfully.")
    inv.out.result(_project_block(inv, project, dg, full=False))


# -- update ------------------------------------------------------------------------------


@group.command(
    "update",
    "Updates the Project in the current directory. Changes the name, description and targets "
    "of its Device Group, and the source files it links (created if they do not exist).",
    [NAME, DESCR, DEVICE_FILE, AGENT_FILE, DUT_OPT, TARGET_OPT],
    usage="[--name <device_group_name>] [--descr <device_group_description>] "
    "[--device-file <device_file>] [--agent-file <agent_file>] "
    "[--dut <DEVICE_GROUP_IDENTIFIER>] [--target <DEVICE_GROUP_IDENTIFIER>] "
    "[--output <mode>] [--help]",
)
def update(inv: Invocation) -> None:
    args = inv.args
    project = _require_project(inv)
    dg = _project_dg(inv)
    files = {"deviceFile": args.device_file, "agentFile": args.agent_file}
    files = {key: name or project.data.get(key) for key, name in files.items()}
    _check_source_files(inv, tuple(files.values()))
    if args.name or args.descr or args.target or args.dut:
        dg_type = dg_cli_type(dg.get("type"))
        found = find_targets(
            inv, dg_type, rel_id(dg, "product"), {PRODUCTION: args.target, DUT: args.dut}
        )
        dg = (
            resources.update_device_group(
                inv.client,
                inv.cache,
                dg,
                name=args.name,
                description=args.descr,
                **{t.kind.relationship: t.resource for t in found},
            )
            or dg
        )
        inv.out.info(f'Device Group "{dg["id"]}" is updated successfully.')
    project.data.update({key: name for key, name in files.items() if name})
    project = _write_project(inv, project)
    inv.out.info("Project is updated successfully.")
    inv.out.result(_project_block(inv, project, dg, full=False))
