"""Every command group, in the order impt lists them, with its description.

The names and descriptions are known here without importing anything, so that help, usage
errors and the check of a command line's first word cost nothing. A group's module
(`imptsh/commands/<name>.py`, whose `group` it defines) is imported the first time the
group is used: a one-shot command loads its own group and what that needs, not every
group's dependencies. `groups()` loads them all (the shell and its history need every
command's options)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import Group

GROUP_DESCRIPTIONS: dict[str, str] = {
    "account": "Account information commands.",
    "auth": "Authentication commands.",
    "build": "Build manipulation commands.",
    "device": "Device manipulation commands.",
    "dg": "Device Group manipulation commands.",
    "log": "Logs manipulation commands.",
    "loginkey": "Login Key manipulation commands.",
    "product": "Product manipulation commands.",
    "project": "Project manipulation commands.",
    "webhook": "Webhook manipulation commands.",
}
SHELL_GROUP_DESCRIPTIONS: dict[str, str] = {
    "sim": "Rehearses with imptsh's bundled simulator what needs real hardware: factory "
    "BlinkUp, an end user's BlinkUp, webhook deliveries (simulator sessions only).",
}
"""imptsh's own groups: the shell offers them, one-shot mode (impt's command line) does not."""


def is_group(name: str, *, shell: bool = False) -> bool:
    return name in GROUP_DESCRIPTIONS or (shell and name in SHELL_GROUP_DESCRIPTIONS)


def group(name: str) -> Group:
    """The group called `name`, its module imported on first use (KeyError: no such group)."""
    if not is_group(name, shell=True):
        raise KeyError(name)
    return importlib.import_module(f"{__package__}.{name}").group


def groups(*, shell: bool = False) -> dict[str, Group]:
    """Every group, in impt's order, then (with `shell`) imptsh's own shell groups; imports
    every group's module."""
    names = [*GROUP_DESCRIPTIONS, *(SHELL_GROUP_DESCRIPTIONS if shell else ())]
    return {name: group(name) for name in names}


def root_help() -> str:
    lines = ["", "Usage: impt <command> [options]", "", "Commands:"]
    width = max(len(f"impt {g}") for g in GROUP_DESCRIPTIONS) + 2
    for name, description in GROUP_DESCRIPTIONS.items():
        lines.append(f"  {f'impt {name}'.ljust(width)}{description}")
    lines += [
        "",
        "Options:",
        "  --version, -v  Show version number  [boolean]",
        "  --help, -h     Show help  [boolean]",
    ]
    return "\n".join(lines)
