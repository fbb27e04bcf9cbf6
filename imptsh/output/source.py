"""A rendered view whose source-code fields are highlighted as Squirrel (on a terminal)."""

from __future__ import annotations

from typing import Any

from ..highlight import highlight_squirrel
from .render import GREEN, MAX_STRING, RESET_FG, TRUNCATION_MARK, format_text


def text_with_source(view: dict[str, Any], block: str, keys: tuple[str, ...]) -> str:
    """`view` rendered in colour, the values of `keys` in its `block` highlighted."""
    lines = format_text(view, color=True).split("\n")
    fields = view[block]
    for key in keys:
        code = fields.get(key)
        if isinstance(code, str) and code:
            _highlight_field(lines, key, code)
    return "\n".join(lines)


def _highlight_field(lines: list[str], key: str, code: str) -> None:
    """Replaces, in the rendered view, the text of `key`'s value by highlighted code. The
    layout (indentation, `\"\"\"` block, 512-character cut) stays as rendered."""
    header = f"  {GREEN}{key}: {RESET_FG}"
    index = next((i for i, line in enumerate(lines) if line.startswith(header)), None)
    if index is None:
        return
    cut = len(code) > MAX_STRING
    shown = code[:MAX_STRING] if cut else code
    if "\n" not in shown and not cut:
        if lines[index].endswith(shown):
            lines[index] = lines[index][: len(lines[index]) - len(shown)] + highlight_squirrel(
                shown
            )
        return
    plain = shown.split("\n")
    if cut:
        plain.append(TRUNCATION_MARK.lstrip("\n"))
    start, pad = index + 2, " " * 6
    block = lines[start : start + len(plain)]
    if lines[index + 1 : index + 2] != ['    """'] or block != [pad + p for p in plain]:
        return
    coloured = highlight_squirrel(shown).split("\n")
    if cut:
        coloured.append(plain[-1])
    lines[start : start + len(plain)] = [pad + c for c in coloured]
