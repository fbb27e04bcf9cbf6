"""The command groups: every group module is listed, in impt's (alphabetical) order, under
its module's name, with its group's own description; nothing else is."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from imptsh import commands
from imptsh.commands.registry import (
    GROUP_DESCRIPTIONS,
    SHELL_GROUP_DESCRIPTIONS,
    group,
    groups,
    is_group,
    root_help,
)
from imptsh.commands.spec import Group


def group_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if isinstance(getattr(module, "group", None), Group):
            names.append(info.name)
    return names


def test_every_group_module_is_listed_in_impt_order() -> None:
    everything = {**GROUP_DESCRIPTIONS, **SHELL_GROUP_DESCRIPTIONS}
    assert sorted(everything) == sorted(group_modules())
    assert list(GROUP_DESCRIPTIONS) == sorted(GROUP_DESCRIPTIONS)
    assert list(groups()) == list(GROUP_DESCRIPTIONS)
    assert all(g.name == name for name, g in groups(shell=True).items())


def test_the_listed_descriptions_are_the_groups_own() -> None:
    """Help lists groups without loading them: the table must say what each group says."""
    for name, description in {**GROUP_DESCRIPTIONS, **SHELL_GROUP_DESCRIPTIONS}.items():
        assert group(name).description == description, name


def test_a_group_is_found_by_name_only_if_it_exists() -> None:
    assert is_group("product") and group("product").commands["list"].name == "list"
    assert not is_group("registry") and not is_group("spec")
    with pytest.raises(KeyError):
        group("spec")


def test_the_shells_own_groups_are_not_impts() -> None:
    assert set(SHELL_GROUP_DESCRIPTIONS) == {"sim"}
    assert not set(GROUP_DESCRIPTIONS) & set(SHELL_GROUP_DESCRIPTIONS)
    assert not is_group("sim") and is_group("sim", shell=True)
    assert list(groups(shell=True)) == [*GROUP_DESCRIPTIONS, "sim"]
    assert "impt sim" not in root_help()


def test_root_help_lists_the_groups_with_their_descriptions() -> None:
    text = root_help()
    for name, g in groups().items():
        assert f"impt {name}" in text and g.description in text
