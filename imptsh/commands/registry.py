"""Every command group, in the order impt lists them."""

from __future__ import annotations

import importlib

from .spec import Group

GROUP_MODULES = (
    "account",
    "auth",
    "build",
    "device",
    "dg",
    "log",
    "loginkey",
    "product",
    "project",
    "webhook",
)
GROUP_DESCRIPTIONS = {
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

_groups: dict[str, Group] | None = None


def groups() -> dict[str, Group]:
    """The groups whose modules exist, each module exposing `group`."""
    global _groups
    if _groups is None:
        found: dict[str, Group] = {}
        for name in GROUP_MODULES:
            try:
                module = importlib.import_module(f"{__package__}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"{__package__}.{name}":
                    continue
                raise
            found[name] = module.group
        _groups = found
    return _groups


def root_help() -> str:
    lines = ["", "Usage: impt <command> [options]", "", "Commands:"]
    width = max(len(f"impt {g}") for g in groups()) + 2
    for name in groups():
        lines.append(f"  {f'impt {name}'.ljust(width)}{GROUP_DESCRIPTIONS[name]}")
    lines += [
        "",
        "Options:",
        "  --version, -v  Show version number  [boolean]",
        "  --help, -h     Show help  [boolean]",
    ]
    return "\n".join(lines)


def new_group(name: str) -> Group:
    return Group(name, GROUP_DESCRIPTIONS[name])
