"""The command groups: every group module is listed, in impt's (alphabetical) order, under
its module's name; nothing else is."""

from __future__ import annotations

import importlib
import pkgutil

from imptsh import commands
from imptsh.commands.registry import GROUPS, root_help
from imptsh.commands.spec import Group


def group_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if isinstance(getattr(module, "group", None), Group):
            names.append(info.name)
    return names


def test_every_group_module_is_listed_in_impt_order() -> None:
    assert list(GROUPS) == sorted(group_modules())
    assert all(group.name == name for name, group in GROUPS.items())


def test_root_help_lists_the_groups_with_their_descriptions() -> None:
    text = root_help()
    for name, group in GROUPS.items():
        assert f"impt {name}" in text and group.description in text
