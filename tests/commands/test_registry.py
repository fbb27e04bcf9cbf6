"""The command groups: every group module is listed, in impt's (alphabetical) order, under
its module's name; nothing else is."""

from __future__ import annotations

import importlib
import pkgutil

from imptsh import commands
from imptsh.commands.registry import GROUPS, SHELL_GROUPS, groups, root_help
from imptsh.commands.spec import Group


def group_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if isinstance(getattr(module, "group", None), Group):
            names.append(info.name)
    return names


def test_every_group_module_is_listed_in_impt_order() -> None:
    assert sorted([*GROUPS, *SHELL_GROUPS]) == sorted(group_modules())
    assert list(GROUPS) == sorted(GROUPS)
    assert all(group.name == name for name, group in {**GROUPS, **SHELL_GROUPS}.items())


def test_the_shells_own_groups_are_not_impts() -> None:
    assert set(SHELL_GROUPS) == {"sim"} and not set(GROUPS) & set(SHELL_GROUPS)
    assert groups() == GROUPS and groups(shell=True) == {**GROUPS, **SHELL_GROUPS}
    assert "impt sim" not in root_help()


def test_root_help_lists_the_groups_with_their_descriptions() -> None:
    text = root_help()
    for name, group in GROUPS.items():
        assert f"impt {name}" in text and group.description in text
