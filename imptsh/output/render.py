"""impt's JsonFormatter: text and JSON rendering of RESULT objects (commands.md §2.3, §2.4, §2.6).

RESULT objects are nested dicts/lists of scalars, normally built by :mod:`imptsh.views`.
Sub-blocks of related entities that do not exist are :class:`Corrupted` dicts; their values
are shown in red when colours are on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "GREEN",
    "INDENT",
    "MAX_STRING",
    "RED",
    "RESET_FG",
    "TRUNCATION_MARK",
    "Corrupted",
    "escape_controls",
    "format_json",
    "format_text",
    "normalise",
    "scalar_text",
]

INDENT = 2
"""Indentation unit of the text rendering."""
MAX_STRING = 512
"""Strings longer than this are cut in text modes."""
TRUNCATION_MARK = "\n..."
"""Appended to a cut string (making it a multi-line string)."""

GREEN = "\x1b[32m"
RED = "\x1b[31m"
RESET_FG = "\x1b[39m"


_CONTROL = re.compile(r"\r(?!\n|$)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x80-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with control characters shown as `\\xNN`, so a name or message from the server
    cannot move the cursor, clear the screen or retitle the terminal. Tab and newline stay,
    and so does a `\\r` that ends a line (`\\r\\n`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Corrupted(dict):  # type: ignore[type-arg]
    """A sub-block standing for a related entity that does not exist (`{"id": <id>}`).

    Renders like a plain map; with colours on its values are red.
    """


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _normalise_value(value: Any, truncate: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        if truncate and len(value) > MAX_STRING:
            return value[:MAX_STRING] + TRUNCATION_MARK
        return value
    if _is_list(value):
        if not value:
            return ""
        return [_normalise_value(v, truncate) for v in value]
    if isinstance(value, Mapping):
        cls = Corrupted if isinstance(value, Corrupted) else dict
        return cls((str(k), _normalise_value(v, truncate)) for k, v in value.items())
    return value


def normalise(obj: Any, *, truncate: bool) -> Any:
    """impt's value normalisation, applied recursively to a copy of `obj`.

    `None` → `""`, empty list → `""`; with `truncate` (text modes) strings longer than 512
    characters are cut to 512 and `"\\n..."` is appended. Booleans and numbers are untouched,
    maps keep their key order (and stay :class:`Corrupted` when they were). A top-level empty
    list stays an empty list (json prints `[]`, text prints nothing).
    """
    if _is_list(obj) and not obj:
        return []
    return _normalise_value(obj, truncate)


def _js_number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return repr(value)


def scalar_text(value: Any, *, minimal: bool = False) -> str:
    """Text of a value as impt prints it on one line (JavaScript string conversion).

    Booleans `true`/`false`, `None` → empty, numbers as JavaScript prints them, lists joined
    with `", "` (`","` in minimal mode).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _js_number(value)
    if isinstance(value, str):
        return value
    if _is_list(value):
        sep = "," if minimal else ", "
        return sep.join(_join_element(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _join_element(value: Any) -> str:
    # Array.prototype.join: null/undefined become empty, nested arrays join with ",".
    if _is_list(value):
        return ",".join(_join_element(v) for v in value)
    return scalar_text(value)


def _is_scalar(value: Any) -> bool:
    return not (_is_list(value) or isinstance(value, Mapping))


def _is_inline(value: Any) -> bool:
    """Whether a map value is printed on the key's line."""
    if _is_list(value):
        return bool(value) and _is_scalar(value[0])
    if isinstance(value, Mapping):
        return False
    return not (isinstance(value, str) and "\n" in value)


class _Renderer:
    def __init__(self, *, minimal: bool, color: bool) -> None:
        self.minimal = minimal
        self.color = color
        self.lines: list[str] = []

    def key(self, key: str) -> str:
        key = escape_controls(key)
        if self.color:
            return f"{GREEN}{key}: {RESET_FG}"
        return f"{key}: "

    def value(self, text: str, red: bool) -> str:
        text = escape_controls(text)
        if red and self.color:
            return f"{RED}{text}{RESET_FG}"
        return text

    def map(self, mapping: Mapping[str, Any], indent: int, red: bool) -> None:
        if not mapping:
            return
        red = red or isinstance(mapping, Corrupted)
        width = max(len(escape_controls(str(k))) for k in mapping)
        pad = " " * indent
        for k, v in mapping.items():
            key = str(k)
            if _is_inline(v):
                text = self.value(scalar_text(v, minimal=self.minimal), red)
                shown = len(escape_controls(key))
                self.lines.append(f"{pad}{self.key(key)}{' ' * (width - shown)}{text}")
            else:
                self.lines.append(f"{pad}{self.key(key)}")
                self.block(v, indent + INDENT, red)

    def block(self, value: Any, indent: int, red: bool) -> None:
        """Render a value that does not fit on its key's line, at `indent`."""
        pad = " " * indent
        if isinstance(value, Mapping):
            self.map(value, indent, red)
        elif _is_list(value):
            if not value:
                self.lines.append(f"{pad}-")
                return
            for element in value:
                if isinstance(element, Mapping) or _is_list(element):
                    self.block(element, indent, red)
                elif isinstance(element, str) and "\n" in element:
                    self.multiline(element, indent, red)
                else:
                    text = scalar_text(element, minimal=self.minimal)
                    self.lines.append(f"{pad}{self.value(text, red)}")
        elif isinstance(value, str) and "\n" in value:
            self.multiline(value, indent, red)
        else:
            text = scalar_text(value, minimal=self.minimal)
            self.lines.append(f"{pad}{self.value(text, red)}")

    def multiline(self, text: str, indent: int, red: bool) -> None:
        pad = " " * indent
        inner = " " * (indent + INDENT)
        self.lines.append(f'{pad}"""')
        self.lines.extend(f"{inner}{self.value(line, red)}" for line in text.split("\n"))
        self.lines.append(f'{pad}"""')


def format_text(obj: Any, *, minimal: bool = False, color: bool = False) -> str:
    """impt's text rendering of a RESULT object (commands.md §2.3), after normalisation.

    `minimal` joins inline lists with `","` instead of `", "`; `color` wraps every `key: ` in
    green and the values of :class:`Corrupted` blocks in red. Lines are joined with `"\\n"`
    without a trailing newline; an empty top-level map or list gives `""`.
    """
    normalised = normalise(obj, truncate=True)
    if (_is_list(normalised) or isinstance(normalised, Mapping)) and not normalised:
        return ""
    renderer = _Renderer(minimal=minimal, color=color)
    renderer.block(normalised, 0, False)
    return "\n".join(renderer.lines)


def _json_ready(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None  # JSON.stringify prints null
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_json_ready(v) for v in value]
    return value


def format_json(obj: Any) -> str:
    """`JSON.stringify(obj, null, 2)` of the normalised object (no 512-character cut)."""
    return dumps_json(_json_ready(normalise(obj, truncate=False)))


def dumps_json(value: Any) -> str:
    """Pretty JSON that a terminal shows as text: C0 controls are escaped by `json`, the C1
    ones (which some terminals obey as escape sequences) are escaped here."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
