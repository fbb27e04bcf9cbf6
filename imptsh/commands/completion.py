"""Tab completion of impt command lines: commands, options, option values."""

from __future__ import annotations

import shlex
from typing import Any

from cmd2 import CompletionItem, Completions

from .spec import Command, Group, Option


def complete_line(
    session: Any, group: Group, text: str, line: str, begidx: int, endidx: int
) -> Completions:
    """Completes `line` (which starts with the group's name) at `text`."""
    try:
        words = shlex.split(line[:begidx])
    except ValueError:
        words = line[:begidx].split()
    words = words[1:]  # the group itself
    if not words:
        return _items(
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
        return _items(_values(session, opt), text)
    return _items(_option_items(command, words[1:]), text)


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


def _values(session: Any, opt: Option) -> list[CompletionItem]:
    if opt.choices:
        return [CompletionItem(c) for c in opt.choices]
    if opt.complete:
        return entity_items(session, opt.complete)
    return []


_META = {
    "product": lambda r: "Product",
    "dg": lambda r: f"Device Group ({str(r.get('type', '')).replace('_devicegroup', '')})",
    "device": lambda r: "Device " + str((r.get("attributes") or {}).get("mac_address") or ""),
    "build": lambda r: "Deployment",
    "account": lambda r: "Account",
}


def entity_items(session: Any, kind: str) -> list[CompletionItem]:
    """Names and ids of `kind` that the session's cache already knows; never a request."""
    try:
        cache = session.cache(session.context())
    except Exception:  # noqa: BLE001 - not logged in: nothing to offer
        return []
    items: list[CompletionItem] = []
    describe = _META.get(kind, lambda r: kind)
    for resource in cache.all(kind):
        attrs = resource.get("attributes") or {}
        label = attrs.get("name") or attrs.get("username") or resource.get("id")
        meta = f"{describe(resource)} {resource.get('id', '')}".strip()
        items.append(CompletionItem(_quote(str(label)), display_meta=meta))
        if label != resource.get("id"):
            items.append(CompletionItem(str(resource["id"]), display_meta=str(label)))
    return items


def _quote(text: str) -> str:
    return shlex.quote(text) if any(c.isspace() for c in text) else text


def _items(items: list[CompletionItem], text: str) -> Completions:
    return Completions([i for i in items if str(i.text).startswith(text)])
