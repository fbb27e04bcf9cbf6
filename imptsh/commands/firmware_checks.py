"""The factory-firmware checks in the build commands (imptsh additions to impt):
`build deploy`/`build run` refuse code that calls factory-only methods where they throw,
unless `--force`; `build check` runs the same checks on their own, for CI."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from ..entities import DG_TYPES, dg_cli_type
from ..errors import CommandError
from ..firmware import Finding, check_sources, format_finding
from ..invocation import Invocation
from .common import dg_opt, dg_type_opt, resolve_dg
from .spec import FLAG, Args, Option

__all__ = [
    "CHECK_HELP",
    "CHECK_OPTIONS",
    "FORCE_DEPLOY",
    "check_before_deploy",
    "check_files",
    "check_options",
]

FORCE_DEPLOY = Option(
    "force",
    None,
    "Deploys even when the factory-firmware checks find errors (calls that throw in this "
    "type of Device Group). An imptsh addition.",
    FLAG,
)

CHECK_HELP = (
    "Checks the device and agent source files for factory-only system calls (server.bless, "
    "server.factoryblinkup, imp.clearconfiguration, imp.configparams) against the firmware "
    "a Device Group of the given type runs, as build deploy and build run do before "
    "deploying. Fails when an error is found. If no files are specified, the files "
    "referenced by the Project File in the current directory are used; if neither --dg nor "
    "--dg-type is specified, the Project's Device Group is used. An imptsh addition."
)
CHECK_OPTIONS = (
    dg_opt("Device Group identifier: checks for the type of this Device Group."),
    replace(dg_type_opt("Device Group type to check for (no login needed)."), alias=None),
    Option(
        "device-file",
        "x",
        "Name of the file with the IMP device source code to check.",
        placeholder="<device_file>",
        complete="file",
    ),
    Option(
        "agent-file",
        "y",
        "Name of the file with the IMP agent source code to check.",
        placeholder="<agent_file>",
        complete="file",
    ),
)


def check_options(args: Args) -> str | None:
    """Syntax check of `build check`."""
    if args.dg and args.dg_type:
        return 'Options "--dg" and "--dg-type" are mutually exclusive.'
    return None


def check_before_deploy(
    inv: Invocation,
    dg: dict[str, Any],
    device_file: str | None,
    device_code: str,
    agent_file: str | None,
    agent_code: str,
) -> None:
    """Runs the checks for `dg`'s type before `build deploy`/`build run` send anything:
    warnings and recommendations are printed; errors refuse the command unless --force."""
    findings = check_sources(
        str(dg.get("type") or ""),
        device_code,
        agent_code,
        device_file=device_file,
        agent_file=agent_file,
    )
    errors = [f for f in findings if f.severity == "error"]
    forced = bool(getattr(inv.args, "force", False))
    for finding in findings:
        if finding.severity != "error":
            inv.out.info(format_finding(finding))
        elif forced:
            inv.out.info(format_finding(finding, suffix="Deploying anyway (--force)."))
    if errors and not forced:
        texts = [f"{f.location}: {f.message} Use --force to deploy anyway." for f in errors]
        for text in texts[:-1]:
            inv.out.error(text)
        raise CommandError(texts[-1])


def check_files(inv: Invocation) -> None:
    """`build check`."""
    args = inv.args
    given_all = args.device_file and args.agent_file and (args.dg or args.dg_type)
    project = None if given_all else inv.project()
    if not (args.dg_type or args.dg or project):
        raise CommandError(
            'No Device Group is specified: use "--dg <DEVICE_GROUP_IDENTIFIER>" or '
            '"--dg-type <device_group_type>", or run the command in a Project directory.'
        )
    device_file = args.device_file or (project.device_file if project else None)
    agent_file = args.agent_file or (project.agent_file if project else None)
    if not device_file and not agent_file:
        raise CommandError(
            'No source files are specified: use "--device-file <device_file>" and/or '
            '"--agent-file <agent_file>", or run the command in a Project directory.'
        )
    device_code = _read_source(device_file, "device")
    agent_code = _read_source(agent_file, "agent")
    if args.dg_type:
        dg_type = str(args.dg_type)
    else:
        dg, _ = resolve_dg(inv, args.dg)
        dg_type = dg_cli_type(str(dg.get("type") or ""))
    findings = check_sources(
        dg_type, device_code, agent_code, device_file=device_file, agent_file=agent_file
    )
    _print_findings(inv, findings)
    names = ", ".join(f'"{name}"' for name in (device_file, agent_file) if name)
    summary = f"Factory-firmware checks of {names} for {_type_label(dg_type)}: " + _counts(findings)
    if any(f.severity == "error" for f in findings):
        raise CommandError(summary)
    inv.out.info(summary)


def _read_source(name: str | None, kind: str) -> str:
    if not name:
        return ""
    if not os.path.isfile(name):
        raise CommandError(f'File with IMP {kind} source code "{name}" is not found.')
    with open(name, encoding="utf-8", newline="") as handle:
        return handle.read()


def _print_findings(inv: Invocation, findings: list[Finding]) -> None:
    """The findings are the command's RESULT: lines in text modes, `{"Findings": [...]}`
    in json mode."""
    if inv.out.is_json:
        inv.out.result({"Findings": [f.as_dict() for f in findings]})
        return
    inv.out.printed_result = True
    for finding in findings:
        inv.out.write(format_finding(finding))


def _type_label(dg_type: str) -> str:
    return f"a {dg_type} Device Group" if dg_type in DG_TYPES else "a Device Group of unknown type"


def _counts(findings: list[Finding]) -> str:
    parts = []
    for severity, plural in (
        ("error", "errors"),
        ("warning", "warnings"),
        ("recommendation", "recommendations"),
    ):
        n = sum(1 for f in findings if f.severity == severity)
        parts.append(f"{n} {severity if n == 1 else plural}")
    return ", ".join(parts) + "."
