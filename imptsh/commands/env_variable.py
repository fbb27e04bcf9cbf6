"""`--env-variable`: a JSON value, parsed as impt parses it, with the message JavaScript's
`JSON.parse` (V8) gives for bad input."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from ..errors import CommandError


def parse_env_variable(value: str | None) -> Any:
    """`--env-variable` parsed as JSON; impt's stderr line and JSON.parse's message on error."""
    if value is None:
        return None
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except (json.JSONDecodeError, _BadConstant) as exc:
        print(f"Invalid JSON string: {value}", file=sys.stderr)
        raise CommandError(js_json_error(value, exc)) from None


class _BadConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _BadConstant(name)


_CONTEXT = 10  # V8's kMaxContextCharacters


def js_json_error(text: str, exc: Exception) -> str:
    """The message JavaScript's `JSON.parse` (V8) gives for `text`, approximated from
    Python's parser error."""
    if isinstance(exc, _BadConstant):
        pos = text.find(str(exc))
        if str(exc) == "-Infinity":
            return f"No number after minus sign in JSON at position {pos + 1}"
        return _unexpected_token(text, max(pos, 0))
    assert isinstance(exc, json.JSONDecodeError)
    pos, msg = exc.pos, exc.msg
    if msg.startswith("Unterminated string"):
        return f"Unterminated string in JSON at position {len(text)}"
    if pos >= len(text) or (msg == "Expecting value" and not text[pos:].strip()):
        return "Unexpected end of JSON input"
    if msg == "Extra data":
        return f"Unexpected non-whitespace character after JSON at position {pos}"
    if msg.startswith("Invalid control character"):
        return f"Bad control character in string literal in JSON at position {pos}"
    if msg.startswith("Invalid \\uXXXX"):
        return f"Bad Unicode escape in JSON at position {pos}"
    if msg.startswith("Invalid \\escape"):
        return f"Bad escaped character in JSON at position {pos}"
    if msg.startswith("Expecting property name"):
        before = text[:pos].rstrip()
        if before.endswith("{"):
            return f"Expected property name or '}}' in JSON at position {pos}"
        return f"Expected double-quoted property name in JSON at position {pos}"
    if msg == "Expecting ':' delimiter":
        return f"Expected ':' after property name in JSON at position {pos}"
    if msg == "Expecting ',' delimiter":
        if _innermost(text, pos) == "[":
            return f"Expected ',' or ']' after array element in JSON at position {pos}"
        return f"Expected ',' or '}}' after property value in JSON at position {pos}"
    for literal in ("true", "false", "null"):
        if msg == "Expecting value" and text[pos] == literal[0]:
            rest = text[pos : pos + len(literal)]
            bad = next((i for i, ch in enumerate(rest) if ch != literal[i]), None)
            if bad is None:  # the input ends inside the literal
                return "Unexpected end of JSON input"
            return _unexpected_token(text, pos + bad)
    if text[pos] == "-" and re.match(r"-([^0-9]|$)", text[pos:]):
        return f"No number after minus sign in JSON at position {pos + 1}"
    return _unexpected_token(text, pos)


def _unexpected_token(text: str, pos: int) -> str:
    token = text[pos] if pos < len(text) else ""
    if len(text) < 2 * _CONTEXT + 1:
        context = f'"{text}"'
    elif pos < _CONTEXT:
        context = f'"{text[: pos + _CONTEXT]}"...'
    elif pos < len(text) - _CONTEXT:
        context = f'..."{text[pos - _CONTEXT : pos + _CONTEXT]}"...'
    else:
        context = f'..."{text[pos - _CONTEXT :]}"'
    return f"Unexpected token '{token}', {context} is not valid JSON"


def _innermost(text: str, pos: int) -> str | None:
    """The innermost open bracket (`{` or `[`) at `pos`, skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else None
