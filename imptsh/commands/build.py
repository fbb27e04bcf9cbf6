"""`build cleanup|copy|delete|deploy|get|info|list|run|update` (commands.md §11.3)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from .. import listing
from ..api import resources
from ..deletion import DeletionPlan, execute
from ..entities import dg_api_type
from ..errors import CommandError
from ..files import read_text
from ..invocation import Invocation
from ..output.source import text_with_source
from ..views import rel_id, short_view
from .common import (
    CONFIRMED,
    FORCE,
    attr,
    build_opt,
    dg_opt,
    dg_type_opt,
    info_result,
    older,
    owner_opt,
    product_opt,
    resolve_build,
    resolve_dg,
    restart_dg,
)
from .firmware_checks import (
    CHECK_HELP,
    CHECK_OPTIONS,
    FORCE_DEPLOY,
    check_before_deploy,
    check_files,
    check_options,
)
from .follow import following
from .spec import EMPTY_OK, FLAG, OPT_BOOL, Group, Option

group = Group("build", "Build manipulation commands.")

Resource = dict[str, Any]


PROJECT_BUILD = (
    " If not specified, the current Deployment of the Device Group referenced by the Project "
    "File in the current directory is used."
)
PROJECT_DG = (
    " If not specified, the Device Group referenced by the Project File in the current "
    "directory is used."
)

BUILD = build_opt("Build identifier: Deployment id, sha, tag or origin." + PROJECT_BUILD)
DG = dg_opt("Device Group identifier." + PROJECT_DG)
DEVICE_FILE = Option(
    "device-file",
    "x",
    "Name of a file which contains a source code for IMP device. If not specified, the file "
    "referenced by the Project File in the current directory is used; if there is no Project "
    "File, empty code is used.",
    placeholder="<device_file>",
    complete="file",
)
AGENT_FILE = Option(
    "agent-file",
    "y",
    "Name of a file which contains a source code for IMP agent. If not specified, the file "
    "referenced by the Project File in the current directory is used; if there is no Project "
    "File, empty code is used.",
    placeholder="<agent_file>",
    complete="file",
)
DESCR = Option("descr", "s", "Build description.", EMPTY_OK, placeholder="<build_description>")
ORIGIN = Option(
    "origin",
    "o",
    "Free-form key to store the source of the code.",
    EMPTY_OK,
    placeholder="<origin>",
)
TAG = Option(
    "tag", "t", "Tag applied to the build.", placeholder="<tag>", repeat=True, complete="build:tags"
)
FLAGGED = Option(
    "flagged",
    "f",
    "If true or no value, the build cannot be deleted without --force option. If false, the "
    "build can be deleted.",
    OPT_BOOL,
)
CONDITIONAL = Option(
    "conditional",
    "c",
    "Conditional restart of the Devices assigned to the Device Group instead of a normal restart.",
    FLAG,
)
LOG = Option(
    "log", "l", "Starts displaying logs from the Devices assigned to the Device Group.", FLAG
)


# -- cleanup ---------------------------------------------------------------------------------


@group.command(
    "cleanup",
    'Deletes builds which are not related to any Device Group ("zombie" builds). By default '
    "the flagged builds are not deleted.",
    [
        product_opt("Deletes the zombie builds of this Product only."),
        Option("unflag", "u", "Also deletes the zombie builds that are flagged.", FLAG),
        CONFIRMED,
    ],
)
def cleanup(inv: Invocation) -> None:
    args = inv.args
    products = listing.filter_ids(inv, "product", [args.product] if args.product else [])
    builds = listing.fetch(
        inv,
        "build",
        {"product.id": products, "flagged": None if args.unflag else ["false"]},
        keep=_is_zombie,
    )
    if not builds:
        inv.out.info("No Deployments are found.")
        return
    plan = DeletionPlan()
    for build in builds:
        plan.add("build", build)
        if args.unflag and attr(build, "flagged"):
            plan.add_unflag(build)
    execute(inv, plan)


def _is_zombie(build: Resource) -> bool:
    return rel_id(build, "devicegroup") is None


# -- copy ------------------------------------------------------------------------------------


@group.command(
    "copy",
    "Creates a copy of the specified build (a new Deployment with the same source code) in "
    "the specified Device Group. With --all also copies description, origin, tags and the "
    "flagged attribute. The new build is not run.",
    [
        build_opt("Identifier of the build to copy." + PROJECT_BUILD),
        replace(dg_opt("Device Group where the copy is created."), required=True),
        Option("all", "a", "Also copies description, origin, tags and flagged attribute.", FLAG),
    ],
)
def copy(inv: Invocation) -> None:
    source, ident = resolve_build(inv, inv.args.build)
    dg = inv.identifier.resolve("dg", inv.args.dg)
    copied: dict[str, Any] = {}
    if inv.args.all:
        copied = {
            "description": attr(source, "description"),
            "origin": attr(source, "origin"),
            "flagged": bool(attr(source, "flagged")),
            "tags": list(attr(source, "tags") or []),
        }
    new = _create(
        inv,
        dg,
        device_code=attr(source, "device_code") or "",
        agent_code=attr(source, "agent_code") or "",
        **copied,
    )
    inv.out.info(f'Deployment "{new["id"]}" is created successfully.')
    inv.out.info(f'Deployment "{ident}" is copied successfully to Deployment "{new["id"]}".')


# -- delete ----------------------------------------------------------------------------------


@group.command(
    "delete",
    "Deletes the specified build. A flagged build is deleted only with --force (it is "
    "unflagged first). The Min supported Deployment of a Device Group and newer builds cannot "
    "be deleted.",
    [
        replace(BUILD, help="Build identifier: Deployment id, sha, tag or origin.", required=True),
        replace(FORCE, help="Unflags the build if it is flagged, then deletes it."),
        CONFIRMED,
    ],
)
def delete(inv: Invocation) -> None:
    build, ident = resolve_build(inv, inv.args.build)
    dg_id = rel_id(build, "devicegroup")
    if dg_id is not None:
        dg = inv.identifier.get("dg", dg_id)
        min_id = rel_id(dg, "min_supported_deployment") if dg else None
        if min_id is not None:
            minimum = build if min_id == build["id"] else inv.identifier.get("build", min_id)
            if minimum is not None and not older(build, minimum):
                raise CommandError(
                    f'Impossible to delete Deployment "{ident}". It is the Min supported '
                    f'Deployment or newer for Device Group "{dg_id}".'
                )
    plan = DeletionPlan()
    plan.add("build", build, ident)
    if inv.args.force and attr(build, "flagged"):
        plan.add_unflag(build, ident)
    execute(inv, plan)


# -- deploy / run ----------------------------------------------------------------------------


@group.command(
    "deploy",
    "Creates a build (Deployment) from the specified source files in the specified Device "
    'Group. The build is not run: use "impt build run" or "impt dg restart" for that.' + PROJECT_DG,
    [DG, DEVICE_FILE, AGENT_FILE, DESCR, ORIGIN, TAG, FLAGGED, FORCE_DEPLOY],
)
def deploy(inv: Invocation) -> None:
    new, _dg, _dg_ident = _deploy(inv)
    inv.out.info(f'Deployment "{new["id"]}" is created successfully.')
    inv.out.result(short_view("build", new))


def _deploy(inv: Invocation) -> tuple[Resource, Resource, str]:
    """`build deploy` steps 1–2: read the sources, resolve the DG, create the Deployment."""
    args = inv.args
    project = inv.project()
    device_file = args.device_file or (project.device_file if project else None)
    agent_file = args.agent_file or (project.agent_file if project else None)
    device_code = _read_source(inv, device_file, "device")
    agent_code = _read_source(inv, agent_file, "agent")
    dg, dg_ident = resolve_dg(inv, args.dg)
    check_before_deploy(inv, dg, device_file, device_code, agent_file, agent_code)
    new = _create(
        inv,
        dg,
        device_code=device_code,
        agent_code=agent_code,
        description=args.descr,
        origin=args.origin,
        flagged=None if args.flagged is None else bool(args.flagged),
        tags=[str(t) for t in args.tag] or None,
    )
    return new, dg, dg_ident


def _read_source(inv: Invocation, name: str | None, kind: str) -> str:
    if not name:
        inv.out.info(f"--{kind}-file option is not specified, empty {kind} code will be deployed.")
        return ""
    if not os.path.isfile(name):
        raise CommandError(f'File with IMP {kind} source code "{name}" is not found.')
    return read_text(name)


def _create(inv: Invocation, dg: Resource, **attributes: Any) -> Resource:
    """A new Deployment of `dg`, with the warnings the answer carries in `data.meta`
    (commands.md §2.7) printed."""
    new = resources.create_deployment(inv.client, inv.cache, dg, **attributes)
    meta = new.get("meta")
    if not isinstance(meta, list):
        return new
    for item in meta:
        if isinstance(item, dict) and "title" in item and "detail" in item:
            inv.out.info(f"{item['title']}: {item['detail']}")
    return new


# -- get / info ------------------------------------------------------------------------------


@group.command(
    "get",
    "Downloads the source files of the specified build and displays information about the "
    "build. Overwrites the existing files after a confirmation." + PROJECT_BUILD,
    [
        BUILD,
        replace(
            DEVICE_FILE,
            help="Name of the file to save the device source code to. If not specified, the "
            "file referenced by the Project File in the current directory is used.",
        ),
        replace(
            AGENT_FILE,
            help="Name of the file to save the agent source code to. If not specified, the "
            "file referenced by the Project File in the current directory is used.",
        ),
        Option("device-only", "i", "Downloads the device source code only.", FLAG),
        Option("agent-only", "j", "Downloads the agent source code only.", FLAG),
        CONFIRMED,
    ],
)
def get(inv: Invocation) -> None:
    args = inv.args
    build, ident = resolve_build(inv, args.build)
    project = inv.project()
    device_file = args.device_file or (project.device_file if project else None)
    agent_file = args.agent_file or (project.agent_file if project else None)
    if not args.agent_only and not device_file:
        raise CommandError('Option "--device-file" must be specified.')
    if not args.device_only and not agent_file:
        raise CommandError('Option "--agent-file" must be specified.')
    targets: list[tuple[str, str]] = []
    if not args.agent_only and device_file:
        targets.append((device_file, attr(build, "device_code") or ""))
    if not args.device_only and agent_file:
        targets.append((agent_file, attr(build, "agent_code") or ""))
    existing = list(dict.fromkeys(name for name, _ in targets if os.path.exists(name)))
    if existing:
        inv.confirm(
            f"Source file(s) {', '.join(existing)} already exist. They will be overwritten."
        )
    for name, code in targets:
        with open(name, "w", encoding="utf-8", newline="") as handle:
            handle.write(code)
    inv.out.info(f'Deployment "{ident}" source file(s) are downloaded successfully.')
    _show_info(inv, build, ident)


@group.command(
    "info",
    "Displays information about the specified build." + PROJECT_BUILD,
    [BUILD],
)
def info(inv: Invocation) -> None:
    build, ident = resolve_build(inv, inv.args.build)
    _show_info(inv, build, ident)


def _show_info(inv: Invocation, build: Resource, ident: str) -> None:
    view = info_result(inv, "build", build, ident)
    if not inv.out.color:
        inv.out.result(view)
        return
    inv.out.printed_result = True
    inv.out.write(text_with_source(view, "Deployment", ("device_code", "agent_code")))


# -- list ------------------------------------------------------------------------------------


@group.command(
    "list",
    "Displays information about all builds available to the current account, or those "
    "selected by the filters.",
    [
        owner_opt("Lists the builds owned by this account only.", repeat=True),
        product_opt("Lists the builds of this Product only.", repeat=True),
        dg_opt("Lists the builds of this Device Group only.", repeat=True),
        dg_type_opt("Lists the builds of Device Groups of this type only.", repeat=True),
        Option(
            "sha",
            "s",
            "Lists the builds with this SHA only.",
            placeholder="<deployment_sha>",
            repeat=True,
            complete="build:sha",
        ),
        Option(
            "tag",
            "t",
            "Lists the builds with this tag only.",
            placeholder="<tag>",
            repeat=True,
            complete="build:tags",
        ),
        Option("flagged", "f", "Lists flagged builds only.", FLAG),
        Option("unflagged", "u", "Lists unflagged builds only.", FLAG),
        Option("non-zombie", "n", "Lists builds that belong to a Device Group only.", FLAG),
        Option(
            "zombie", "m", 'Lists "zombie" builds only (not related to any Device Group).', FLAG
        ),
    ],
)
def list_(inv: Invocation) -> None:
    args = inv.args
    owners = listing.filter_ids(inv, "account", args.owner)
    products = listing.filter_ids(inv, "product", args.product)
    dgs = listing.filter_ids(inv, "dg", args.dg)
    flagged = listing.flag_pair(bool(args.flagged), bool(args.unflagged))
    zombie = listing.flag_pair(bool(args.zombie), bool(args.non_zombie))
    types = {dg_api_type(t) for t in args.dg_type} if args.dg_type else None

    def keep(build: Resource) -> bool:
        if zombie is not None and _is_zombie(build) != zombie:
            return False
        if types is not None:
            rel = (build.get("relationships") or {}).get("devicegroup")
            if not isinstance(rel, dict) or rel.get("type") not in types:
                return False
        return True

    builds = listing.fetch(
        inv,
        "build",
        {
            "owner.id": owners,
            "product.id": products,
            "devicegroup.id": dgs,
            "sha": [str(s) for s in args.sha] or None,
            "tags": [str(t) for t in args.tag] or None,
            "flagged": None if flagged is None else ["true" if flagged else "false"],
        },
        keep=keep,
    )
    listing.print_list(inv, "build", builds)


# -- run -------------------------------------------------------------------------------------


@group.command(
    "run",
    "Creates, deploys and runs a build. Creates a Deployment from the source files, makes it "
    "the Min supported Deployment of the Device Group and restarts the Devices assigned to "
    "the Device Group." + PROJECT_DG,
    [
        DG,
        DEVICE_FILE,
        AGENT_FILE,
        replace(DESCR, help="Build description. Also sets the Device Group's description."),
        ORIGIN,
        TAG,
        FLAGGED,
        CONDITIONAL,
        LOG,
        FORCE_DEPLOY,
    ],
)
def run(inv: Invocation) -> None:
    new, dg, dg_ident = _deploy(inv)
    inv.out.info(f'Deployment "{new["id"]}" is created successfully.')
    resources.set_min_supported_deployment(inv.client, inv.cache, dg["id"], new["id"])
    inv.out.info(f'Min supported Deployment for Device Group "{dg_ident}" is updated successfully.')
    if inv.args.descr is not None:
        # impt 2.6.1 always PATCHes here; without --descr there is nothing to change.
        resources.update_device_group(inv.client, inv.cache, dg, description=inv.args.descr)
        inv.out.info(f'Device Group "{dg_ident}" is updated successfully.')
    with following(inv, inv.args.log) as follow:
        devices = restart_dg(
            inv, dg, dg_ident, conditional=inv.args.conditional, before_restart=follow.start
        )
        if devices:  # with no device to restart, nothing has run
            inv.out.info(f'Deployment "{new["id"]}" is run successfully.')


# -- update ----------------------------------------------------------------------------------


@group.command(
    "update",
    "Updates the description, tags and flagged attribute of the specified build." + PROJECT_BUILD,
    [
        BUILD,
        DESCR,
        replace(TAG, help="Tag to add to the build."),
        Option(
            "remove-tag",
            "r",
            "Tag to remove from the build.",
            placeholder="<tag>",
            repeat=True,
            complete="build:tags",
        ),
        FLAGGED,
    ],
)
def update(inv: Invocation) -> None:
    args = inv.args
    build, ident = resolve_build(inv, args.build)
    tags: list[str] | None = None
    if args.tag or args.remove_tag:
        tags = [str(t) for t in attr(build, "tags") or []]
        for tag in args.remove_tag:
            if str(tag) in tags:
                tags.remove(str(tag))
        for tag in args.tag:
            if str(tag) not in tags:
                tags.append(str(tag))
    resources.update_deployment(
        inv.client,
        inv.cache,
        build["id"],
        description=args.descr,
        flagged=None if args.flagged is None else bool(args.flagged),
        tags=tags,
    )
    inv.out.info(f'Deployment "{ident}" is updated successfully.')


# -- check (an imptsh addition) --------------------------------------------------------------


@group.command("check", CHECK_HELP, CHECK_OPTIONS, check=check_options)
def check(inv: Invocation) -> None:
    check_files(inv)
