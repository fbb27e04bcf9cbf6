"""Reading JSON:API request documents into records, and the create/update record pattern.

A resource module describes its writable attributes once, as :class:`Field` objects; then
:func:`read_new` / :func:`read_changes` validate a request document against them (unknown or
read-only members, required members, each value) and :func:`insert` / :func:`patch` store the
result with the server-managed members (id, timestamps, creation order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import bad_attribute, bad_relationship, bad_request
from .model import Model, Record, new_uuid, now_iso

Parse = Callable[[str, Any], Any]  # (attribute name, raw value) -> stored value, or raise 400

_TAG_RE = re.compile(r"^[A-Za-z0-9_\-*.]+$")
_ENV_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DOC_MEMBERS = ("type", "id", "attributes", "relationships", "meta", "links")


@dataclass(frozen=True)
class Field:
    """One writable attribute of a resource."""

    name: str
    parse: Parse
    required: bool = False  # must be given at create
    default: Any = None  # stored at create when absent
    updatable: bool = True  # may be changed by PATCH (otherwise create only)


@dataclass
class Document:
    """A validated request document: its type, id, attribute values and relationships."""

    type: str
    id: Any
    values: dict[str, Any]
    rels: dict[str, dict[str, Any]]


# ---------------------------------------------------------------------------------------
# attribute parsers
# ---------------------------------------------------------------------------------------


def text(max_len: int, *, min_len: int = 0, null: bool = False, null_as: Any = None) -> Parse:
    """A string of ``min_len``..``max_len`` characters; with ``null`` also null (stored as
    ``null_as``)."""

    def parse(name: str, value: Any) -> Any:
        if value is None and null:
            return null_as
        if not isinstance(value, str):
            raise bad_attribute(name, f"Attribute '{name}' must be a string.")
        if len(value) < min_len:
            raise bad_attribute(name, f"Attribute '{name}' must be at least {min_len} characters.")
        if len(value) > max_len:
            raise bad_attribute(name, f"Attribute '{name}' must be at most {max_len} characters.")
        return value

    return parse


NAME = text(80, min_len=1)
DESCRIPTION = text(255, null=True, null_as="")


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise bad_attribute(name, f"Attribute '{name}' must be a boolean.")
    return value


def env_vars(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_attribute(name, f"Attribute '{name}' must be an object.")
    for k, v in value.items():
        if not _ENV_KEY_RE.match(k):
            raise bad_attribute(name, f"Invalid {name} key '{k}': use letters, digits and '_'.")
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise bad_attribute(name, f"{name} value of '{k}' must be a string or number.")
    return dict(value)


def tags(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise bad_attribute(name, f"Attribute '{name}' must be an array of strings.")
    for tag in value:
        if not _TAG_RE.match(tag):
            raise bad_attribute(
                name,
                f"Invalid tag '{tag}': tags may contain only letters, digits, '_', '-', '*' and '.'.",
            )
    if sum(len(t) for t in value) > 500:
        raise bad_attribute(name, "The total length of all tags must not exceed 500 characters.")
    return list(value)


# ---------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------


def read_data(body: Any, types: str | tuple[str, ...]) -> dict[str, Any]:
    """The ``data`` member of a request document, checked for shape and type."""
    if isinstance(types, str):
        types = (types,)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "")
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_request("The request body must contain a 'data' object.", "/data")
    if data.get("type") not in types:
        raise bad_request(
            f"'data.type' must be {' or '.join(repr(t) for t in types)}.", "/data/type"
        )
    for key in data:
        if key not in _DOC_MEMBERS:
            raise bad_request(f"Unknown member 'data.{key}'.", f"/data/{key}")
    return data


def _member(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'data.{key}' must be an object.", f"/data/{key}")
    return value


def _relationships(
    raw: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise bad_relationship(key, f"Unknown or read-only relationship '{key}'.")
        if isinstance(value, dict) and "data" in value and "id" not in value:
            value = value["data"]  # tolerate standard JSON:API wrapping
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise bad_relationship(key, f"Relationship '{key}' must be an object with an 'id'.")
        out[key] = value
    for key in required:
        if key not in out:
            raise bad_relationship(key, f"Relationship '{key}' is required.")
    return out


def read_document(
    body: Any,
    types: str | tuple[str, ...],
    fields: tuple[Field, ...],
    *,
    creating: bool,
    rels: tuple[str, ...] = (),
    required_rels: tuple[str, ...] = (),
    check_type: Callable[[str], None] | None = None,
) -> Document:
    """Validate a create (``creating``) or update document against ``fields``.

    ``check_type`` may refuse the document's type before its members are looked at. At create, absent attributes get their field's default; at update only the given ones
    are returned, and create-only fields count as read-only.
    """
    data = read_data(body, types)
    if check_type is not None:
        check_type(data["type"])
    attrs = _member(data, "attributes")
    writable = {f.name: f for f in fields if creating or f.updatable}
    for key in attrs:
        if key not in writable:
            raise bad_attribute(key, f"Unknown or read-only attribute '{key}'.")
    if creating:
        for f in fields:
            if f.required and f.name not in attrs:
                raise bad_attribute(f.name, f"Missing required attribute '{f.name}'.")
    relationships = _relationships(_member(data, "relationships"), rels, required_rels)
    values: dict[str, Any] = {}
    for name, f in writable.items():
        if name in attrs:
            values[name] = f.parse(name, attrs[name])
        elif creating:
            default = f.default
            values[name] = list(default) if isinstance(default, list) else default
    return Document(data["type"], data.get("id"), values, relationships)


def read_new(
    body: Any, types: str | tuple[str, ...], fields: tuple[Field, ...], **kw: Any
) -> Document:
    """A validated create document (see :func:`read_document`)."""
    return read_document(body, types, fields, creating=True, **kw)


def read_changes(
    body: Any, types: str | tuple[str, ...], fields: tuple[Field, ...], **kw: Any
) -> Document:
    """A validated update document (see :func:`read_document`)."""
    return read_document(body, types, fields, creating=False, **kw)


def check_filters(filters: dict[str, str], allowed: tuple[str, ...]) -> None:
    for key in filters:
        if key not in allowed:
            raise bad_request(
                f"Unknown filter 'filter[{key}]'.", f"filter[{key}]", "Invalid Filter"
            )


# ---------------------------------------------------------------------------------------
# storing
# ---------------------------------------------------------------------------------------


def insert(m: Model, kind: str, values: dict[str, Any], *, ident: str | None = None) -> Record:
    """Store a new record with its id, ``created_at``/``updated_at`` and creation order."""
    now = now_iso()
    rec = {"id": ident or new_uuid(), **values, "created_at": now, "updated_at": now}
    rec["seq"] = m.next_seq()
    return m.put(kind, rec)


def patch(m: Model, kind: str, rec: Record, changes: dict[str, Any]) -> Record:
    """Store ``changes`` to a record and bump its ``updated_at``."""
    return m.update(kind, rec, updated_at=now_iso(), **changes)
