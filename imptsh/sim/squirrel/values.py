"""Squirrel values on their way between VMs, the simulator and JSON.

Values leave a VM as *transit* values: ``None``, ``bool``, ``int``, ``float``, ``str``, lists
(Squirrel arrays) and ``{"t": [[key, value], ...]}`` (Squirrel tables, whose keys may be of any
copyable type). Transit values are plain JSON, so they cross process boundaries as they are, and
they enter a VM as Squirrel source (``to_literal``) that the VM compiles: that is how the copy
keeps booleans, integer keys and 32-bit numbers exactly.

This module only touches the VM's objects through duck typing (``keys()``, iteration), so it
imports without the Squirrel package.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

TABLE = "t"
MAX_DEPTH = 32
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


class NotCopyable(Exception):
    """A value that cannot leave its VM (a function, class, instance, blob...)."""


def squirrel_type(value: Any) -> str:
    """The Squirrel ``typeof`` name of a value the VM handed to Python."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    name = type(value).__name__
    return {
        "SQTable": "table",
        "SQArray": "array",
        "SQClosure": "function",
        "SQNativeClosure": "function",
        "SQInstance": "instance",
        "SQClass": "class",
        "SQString": "string",
    }.get(name, "userdata")


def to_transit(value: Any, depth: int = 0) -> Any:
    """Deep-copy a value handed over by the VM into its transit form."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth >= MAX_DEPTH:
        raise NotCopyable(f"data nested more than {MAX_DEPTH} levels deep (or containing itself)")
    kind = squirrel_type(value)
    if kind == "array":
        return [to_transit(item, depth + 1) for item in value]
    if kind == "table":
        return {
            TABLE: [
                [to_transit(key, depth + 1), to_transit(value[key], depth + 1)]
                for key in value.keys()
            ]
        }
    if kind == "string":
        return str(value)
    raise NotCopyable(f"values of type '{kind}' cannot be copied")


def to_literal(value: Any) -> str:
    """Squirrel source for a transit value (an expression)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if value == INT_MIN:
            return "(-2147483647-1)"
        if INT_MIN < value <= INT_MAX:
            return str(value)
        return _float_literal(float(value))
    if isinstance(value, float):
        return _float_literal(value)
    if isinstance(value, str):
        return '@"' + value.replace('"', '""') + '"'
    if isinstance(value, list):
        return "[" + ",".join(to_literal(item) for item in value) + "]"
    if isinstance(value, dict) and set(value) == {TABLE}:
        pairs = ",".join(f"[{to_literal(k)}]={to_literal(v)}" for k, v in value[TABLE])
        return "{" + pairs + "}"
    raise NotCopyable(f"not a transit value: {type(value).__name__}")


def _float_literal(value: float) -> str:
    if math.isnan(value):
        return "(1e9999-1e9999)"
    if math.isinf(value):
        return "1e9999" if value > 0 else "(-1e9999)"
    text = repr(value)
    return f"({text})" if text.startswith("-") else text


def from_python(value: Any) -> Any:
    """Transit form of plain Python data (dicts become tables, tuples arrays)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [from_python(item) for item in value]
    if isinstance(value, dict):
        return {TABLE: [[from_python(k), from_python(v)] for k, v in value.items()]}
    raise NotCopyable(f"values of type '{type(value).__name__}' cannot be copied")


def to_python(value: Any) -> Any:
    """Plain Python data for a transit value (tables become dicts)."""
    if isinstance(value, list):
        return [to_python(item) for item in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value[TABLE]:
            out[key if isinstance(key, str | int | float | bool) else str(key)] = to_python(item)
        return out
    return value


_POINTER = re.compile(r"\(([a-z]+) : 0x(?:0x|\(nil\))")


def log_text(text: str) -> str:
    """Normalise the VM's text for a non-string value to the imp's: ``(table : 0x1b9e9dd0)``."""
    return _POINTER.sub(
        lambda m: f"({m.group(1)} : 0x" + ("0" if "nil" in m.group(0) else ""), text
    )


def json_encode(value: Any, compact: bool = False) -> str:
    """``http.jsonencode``: RFC 4627 JSON, with the imp's spacing unless ``compact``."""
    colon, comma, inner = (":", ",", "") if compact else (": ", ", ", " ")
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise NotCopyable("NaN and infinite numbers have no JSON form")
        text = format(value, ".7g")
        return text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        if not value:
            return "[]" if compact else "[ ]"
        return "[" + inner + comma.join(json_encode(v, compact) for v in value) + inner + "]"
    if isinstance(value, dict) and set(value) == {TABLE}:
        if not value[TABLE]:
            return "{}" if compact else "{ }"
        items = comma.join(
            json.dumps(k if isinstance(k, str) else _key_text(k), ensure_ascii=False)
            + colon
            + json_encode(v, compact)
            for k, v in value[TABLE]
        )
        return "{" + inner + items + inner + "}"
    raise NotCopyable(f"not a transit value: {type(value).__name__}")


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return format(key, ".7g")
    return str(key)


def json_decode(text: str) -> Any:
    """``http.jsondecode``: a transit value for JSON text (raises ``ValueError``)."""

    def number(token: str) -> Any:
        value = int(token)
        return value if INT_MIN <= value <= INT_MAX else float(value)

    parsed = json.loads(text, parse_int=number, parse_constant=_reject_constant)
    return from_python(parsed)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
