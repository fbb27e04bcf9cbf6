"""Tab completion of impt command lines: commands, options, option values (choices, entity
identifiers from the completion index, file paths).

Completion runs in cmd2's worker thread and never waits for the network: entity identifiers
come from the index the background fill keeps (`completion.refresher`); when it has none
yet, a one-line hint says why (not logged in, impCentral unreachable, still loading)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Protocol

from cmd2 import CompletionError, CompletionItem, Completions

from ..completion.index import CompletionIndex, Lookup, complete_hierarchical, one_line
from ..completion.refresher import FAILED, LOADING, NOT_LOGGED_IN, OFF, WAITING, RefreshStatus
from ..entities import ENTITIES
from .spec import Command, Group, Option

MAX_CANDIDATES = 100
"""Candidates shown at most; more are counted in a hint and narrowed by typing."""

PathCompleter = Callable[[str, str, int, int], Completions]


class EntitySource(Protocol):
    """Where entity identifiers come from: the background fill."""

    def index(self) -> CompletionIndex | None: ...

    def status(self) -> RefreshStatus: ...


def complete_line(
    source: EntitySource,
    group: Group,
    text: str,
    line: str,
    begidx: int,
    endidx: int,
    paths: PathCompleter | None = None,
) -> Completions:
    """Completes `line` (which starts with the group's name) at `text`."""
    try:
        words = shlex.split(line[:begidx])
    except ValueError:
        words = line[:begidx].split()
    words = words[1:]  # the group itself
    if not words:
        return _matching(
            [
                CompletionItem(name, display_meta=cmd.description.split(". ")[0])
                for name, cmd in group.commands.items()
            ],
            text,
        )
    command = group.commands.get(words[0])
    if command is None:
        return Completions()
    previous = words[-1] if len(words) > 1 else None
    opt = _option_named(command, previous) if previous else None
    if opt is not None and opt.takes_value:
        return option_values(source, opt, text, line, begidx, endidx, paths)
    return _matching(_option_items(command, words[1:]), text)


def option_values(
    source: EntitySource,
    opt: Option,
    text: str,
    line: str,
    begidx: int,
    endidx: int,
    paths: PathCompleter | None = None,
) -> Completions:
    if opt.choices:
        return _matching([CompletionItem(c) for c in opt.choices], text)
    if opt.complete == "file":
        return paths(text, line, begidx, endidx) if paths is not None else Completions()
    if opt.complete:
        kind, _, attribute = opt.complete.partition(":")
        return entity_completions(source, kind, text, attribute=attribute or None)
    return Completions()


def entity_completions(
    source: EntitySource,
    kind: str,
    text: str,
    *,
    attribute: str | None = None,
    limit: int = MAX_CANDIDATES,
) -> Completions:
    """Identifiers of `kind` starting with `text`, each with its entity's description;
    `{owner}{product}{dg}` identifiers segment by segment. Raises CompletionError (shown
    above the prompt) when no name can be offered because of the login or the server."""
    index = source.index()
    status = source.status()
    if index is None:
        raise CompletionError(_no_names(status))
    final = True
    if kind in ("product", "dg") and text.startswith("{") and attribute is None:
        segments = complete_hierarchical(index, kind, text, limit)
        found, final = segments.lookup, segments.final
    else:
        found = index.lookup(kind, text, limit, attribute)
    if not found.candidates:
        if status.state in (FAILED, WAITING):
            raise CompletionError(status.note)
        what = ENTITIES[kind].plural if attribute is None else f"{attribute} values"
        loading = " yet (still loading from impCentral)" if status.state == LOADING else ""
        return Completions(hint=f"No {what} start with {text!r}{loading}.")
    return Completions(_items(found), is_sorted=True, allow_finalization=final)


def _no_names(status: RefreshStatus) -> str:
    if status.state == NOT_LOGGED_IN:
        return "Not logged in: run auth login to complete names from impCentral."
    if status.state == OFF:
        return "Names are not loaded in this session."
    return status.note or "Names are still loading from impCentral."


def _items(found: Lookup) -> list[CompletionItem]:
    items = []
    for candidate in found.candidates:
        items.append(
            CompletionItem(
                candidate.text,
                display=one_line(candidate.shown or candidate.text),
                display_meta=candidate.meta,
            )
        )
    if found.truncated and items:
        last = items[-1]
        more = found.total - len(items)
        items[-1] = CompletionItem(
            last.text,
            display=last.display,
            display_meta=f"{last.display_meta} (and {more} more: type more of the name)",
        )
    return items


def _option_named(command: Command, word: str) -> Option | None:
    if word.startswith("--"):
        return command.find(word[2:].split("=", 1)[0], short=False)
    if word.startswith("-"):
        return command.find(word[1:], short=True)
    return None


def _option_items(command: Command, used: list[str]) -> list[CompletionItem]:
    items = []
    for opt in command.all_options:
        if not opt.repeat and (f"--{opt.long}" in used or (opt.alias and f"-{opt.alias}" in used)):
            continue
        items.append(CompletionItem(f"--{opt.long}", display_meta=opt.help.split(". ")[0]))
    return items


def _matching(items: list[CompletionItem], text: str) -> Completions:
    return Completions([i for i in items if str(i.text).startswith(text)])
