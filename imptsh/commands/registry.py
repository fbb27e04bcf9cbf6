"""Every command group, in the order impt lists them. A group is listed once its module
exists; a module named here that is missing fails at import."""

from __future__ import annotations

from . import account, auth, build, device, dg, log, loginkey, product, project, sim, webhook
from .spec import Group

GROUPS: dict[str, Group] = {
    module.group.name: module.group
    for module in (account, auth, build, device, dg, log, loginkey, product, project, webhook)
}
GROUP_DESCRIPTIONS = {name: group.description for name, group in GROUPS.items()}


SHELL_GROUPS: dict[str, Group] = {sim.group.name: sim.group}
"""imptsh's own groups: the shell offers them, one-shot mode (impt's command line) does not."""


def groups(*, shell: bool = False) -> dict[str, Group]:
    return {**GROUPS, **SHELL_GROUPS} if shell else GROUPS


def root_help() -> str:
    lines = ["", "Usage: impt <command> [options]", "", "Commands:"]
    width = max(len(f"impt {g}") for g in GROUPS) + 2
    for name, group in GROUPS.items():
        lines.append(f"  {f'impt {name}'.ljust(width)}{group.description}")
    lines += [
        "",
        "Options:",
        "  --version, -v  Show version number  [boolean]",
        "  --help, -h     Show help  [boolean]",
    ]
    return "\n".join(lines)
