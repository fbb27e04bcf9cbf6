"""Entity views of commands.md §3.2: what impt displays for each entity.

Every view takes JSON:API resources (`{"type", "id", "attributes", "relationships"}`) and
returns an insertion-ordered one-key dict `{<Type name>: {...}}` ready for
:func:`imptsh.output.render.format_text` / :func:`~imptsh.output.render.format_json`.

Related entities are looked up through a caller-supplied :class:`Related` callable; nothing
here talks to the API. A relationship whose entity does not exist becomes a
:class:`~imptsh.output.render.Corrupted` sub-block and a warning appended to the caller's
`warnings` list (the caller prints it as `Error: <warning>` in text modes, commands.md §3.3).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from imptsh.entities import (
    DUT_TYPES,
    ENTITIES,
    PRODUCTION_TYPES,
    Relationship,
    dg_cli_type,
    mime_of_content_type,
)
from imptsh.output.render import Corrupted

__all__ = [
    "DIALOG_LIMIT",
    "TREE_LIMIT",
    "Block",
    "Related",
    "Resource",
    "corrupted_message",
    "dg_full_extras",
    "dg_full_view",
    "ident_info",
    "info_view",
    "list_header",
    "list_view",
    "list_views",
    "more_marker",
    "no_items_message",
    "product_full_view",
    "project_view",
    "rel_id",
    "short_fields",
    "short_view",
    "truncate_blocks",
]

Resource = Mapping[str, Any]
"""A JSON:API resource object (the `data` member of a response)."""
Block = dict[str, Any]
"""A rendered-ready view: `{<Type name>: {...}}` (or the inner map of one)."""

DIALOG_LIMIT = 5
"""Blocks shown in DIALOG/INFO lists before `And <k> more <Type>(s).`"""
TREE_LIMIT = 5
"""Devices shown in a full-view `Devices` tree (text modes) before `... <k> more Device(s)`."""


class Related(Protocol):
    """Looks up a related entity: `related(kind, id)` → the resource, or None if it is gone."""

    def __call__(self, kind: str, entity_id: str, /) -> Resource | None: ...


# --- messages --------------------------------------------------------------------------------


def ident_info(kind: str, ident: str) -> str:
    """Identifier info of an entity: `Device Group "MyDG"`."""
    return f'{ENTITIES[kind].type_name} "{ident}"'


def list_header(kind: str, count: int) -> str:
    """INFO header of a list command: `Device Group list (3 items):` (always "items")."""
    return f"{ENTITIES[kind].type_name} list ({count} items):"


def no_items_message(kind: str) -> str:
    """INFO line of a list command with no results: `No Device Groups are found.`"""
    return f"No {ENTITIES[kind].plural} are found."


def corrupted_message(parent_info: str, missing_info: str) -> str:
    """Warning for a relationship to a missing entity (printed as `Error: ...` by the caller)."""
    return (
        f"Unexpected state. {parent_info} is related to corrupted {missing_info} "
        "which does not exist."
    )


def more_marker(kind: str, count: int) -> str:
    """Scalar element closing a capped tree list: `... 3 more Device(s)`."""
    return f"... {count} more {ENTITIES[kind].type_name}(s)"


def truncate_blocks(
    blocks: Sequence[Mapping[str, Any]], limit: int = DIALOG_LIMIT
) -> tuple[list[Mapping[str, Any]], str | None]:
    """Cap a list of entity blocks printed in a DIALOG/INFO context.

    Returns the first `limit` blocks and, when some were cut, the line
    `And <k> more <Type>(s).` (Type = first key of the first block), else None.
    """
    shown = list(blocks[:limit])
    rest = len(blocks) - len(shown)
    if rest <= 0 or not blocks:
        return shown, None
    type_name = next(iter(blocks[0]), "")
    return shown, f"And {rest} more {type_name}(s)."


# --- resource access ------------------------------------------------------------------------


def _attributes(resource: Resource) -> Mapping[str, Any]:
    return resource.get("attributes") or {}


def rel_id(resource: Resource | None, api_name: str) -> str | None:
    """Id of the entity a relationship points to, None when the relationship (or the
    resource) is absent."""
    rel = ((resource or {}).get("relationships") or {}).get(api_name)
    if not isinstance(rel, Mapping):
        return None
    value = rel.get("id")
    return None if value is None or value == "" else str(value)


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or value is False
        or value == ""
        or (isinstance(value, list | tuple) and not value)
    )


def _display_attr(kind: str, name: str, value: Any) -> Any:
    if kind == "webhook" and name == "content_type":
        return mime_of_content_type(value)
    return copy.deepcopy(value)


# --- views ------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    related: Related
    me_id: str | None
    warnings: list[str] | None

    def warn(self, message: str) -> None:
        if self.warnings is not None:
            self.warnings.append(message)


def short_fields(kind: str, resource: Resource) -> dict[str, Any]:
    """Inner map of the short view: `id` + the list attributes, skipping empty values."""
    fields: dict[str, Any] = {"id": resource.get("id")}
    attributes = _attributes(resource)
    for name in ENTITIES[kind].list_attrs:
        if kind == "dg" and name == "type":
            fields["type"] = dg_cli_type(resource.get("type"))
            continue
        value = attributes.get(name)
        if _is_empty(value):
            continue
        fields[name] = _display_attr(kind, name, value)
    return fields


def short_view(kind: str, resource: Resource) -> Block:
    """Short view `{<Type>: {id, list attributes...}}` (create results, sub-blocks, summaries)."""
    return {ENTITIES[kind].type_name: short_fields(kind, resource)}


_DG_REL: Mapping[str, Relationship] = {r.api_name: r for r in ENTITIES["dg"].info_relationships}


def _relationship_fields(
    ctx: _Ctx,
    fields: dict[str, Any],
    resource: Resource,
    parent_info: str,
    relationships: Iterable[Relationship],
    *,
    device_info: bool = False,
) -> None:
    """Add the nested short blocks of `relationships` to `fields`."""
    for rel in relationships:
        target_id = rel_id(resource, rel.api_name)
        if target_id is None:
            continue
        if rel.kind == "account" and ctx.me_id is not None and target_id == ctx.me_id:
            continue
        target = ctx.related(rel.kind, target_id)
        if target is None:
            ctx.warn(corrupted_message(parent_info, ident_info(rel.kind, target_id)))
            fields[rel.corrupted_key] = Corrupted(id=target_id)
            continue
        sub = short_fields(rel.kind, target)
        if device_info and rel.kind == "dg":
            # Device info is always "full": its Device Group carries its Current Deployment.
            _relationship_fields(
                ctx, sub, target, ident_info("dg", target_id), (_DG_REL["current_deployment"],)
            )
        fields[rel.key] = sub


def _parent_info(kind: str, resource: Resource, ident: str | None) -> str:
    return ident_info(kind, ident if ident is not None else str(resource.get("id")))


def list_view(
    kind: str,
    resource: Resource,
    related: Related,
    *,
    me_id: str | None = None,
    warnings: list[str] | None = None,
    ident: str | None = None,
) -> Block:
    """List view: short view + the list relationships as nested short blocks.

    `Owner`/`Creator` are omitted when they are the account `me_id`. `ident` is the entity's
    identifier for warnings (default: its id); warnings are appended to `warnings`.
    """
    ctx = _Ctx(related, me_id, warnings)
    fields = short_fields(kind, resource)
    entity = ENTITIES[kind]
    parent = _parent_info(kind, resource, ident)
    _relationship_fields(ctx, fields, resource, parent, entity.list_relationships)
    return {entity.type_name: fields}


def list_views(
    kind: str,
    resources: Iterable[Resource],
    related: Related,
    *,
    me_id: str | None = None,
    warnings: list[str] | None = None,
) -> list[Block]:
    """List views of several entities (the RESULT of a list command)."""
    return [list_view(kind, r, related, me_id=me_id, warnings=warnings) for r in resources]


def _info_fields(ctx: _Ctx, kind: str, resource: Resource, ident: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": resource.get("id")}
    if kind == "dg":
        fields["type"] = dg_cli_type(resource.get("type"))
    for name, value in _attributes(resource).items():
        fields[name] = _display_attr(kind, name, value)
    parent = _parent_info(kind, resource, ident)
    _relationship_fields(
        ctx,
        fields,
        resource,
        parent,
        ENTITIES[kind].info_relationships,
        device_info=kind == "device",
    )
    return fields


def info_view(
    kind: str,
    resource: Resource,
    related: Related,
    *,
    me_id: str | None = None,
    warnings: list[str] | None = None,
    ident: str | None = None,
) -> Block:
    """Info view: `id` (+ `type` for Device Groups), every API attribute in API order (empties
    kept), then the info relationships as nested short blocks.

    Device info is always full (its `Device Group` block holds a `Current Deployment` block).
    """
    ctx = _Ctx(related, me_id, warnings)
    return {ENTITIES[kind].type_name: _info_fields(ctx, kind, resource, ident)}


def _targeting(dg_id: Any, product_dgs: Iterable[Resource], api_name: str) -> list[Block]:
    return [
        short_view("dg", other)
        for other in product_dgs
        if rel_id(other, api_name) is not None and rel_id(other, api_name) == str(dg_id)
    ]


def dg_full_extras(
    dg: Resource,
    product_dgs: Iterable[Resource],
    webhooks: Sequence[Resource],
    devices: Sequence[Resource],
    *,
    text_mode: bool,
) -> dict[str, Any]:
    """The trees a full Device Group view adds, in order (each omitted when empty):

    `Production Target for` / `DUT Target for` (production / DUT types only: short blocks of
    the `product_dgs` that target `dg`), `Webhooks` (short blocks of `webhooks`), `Devices`
    (short blocks of `devices`; with `text_mode` capped at 5 plus `... <k> more Device(s)`).
    `webhooks` and `devices` are those of `dg`, fetched by the caller.
    """
    extras: dict[str, Any] = {}
    product_dgs = list(product_dgs)
    dg_type = dg_cli_type(dg.get("type"))
    dg_id = dg.get("id")
    if dg_type in PRODUCTION_TYPES:
        blocks = _targeting(dg_id, product_dgs, "production_target")
        if blocks:
            extras["Production Target for"] = blocks
    if dg_type in DUT_TYPES:
        blocks = _targeting(dg_id, product_dgs, "dut_target")
        if blocks:
            extras["DUT Target for"] = blocks
    if webhooks:
        extras["Webhooks"] = [short_view("webhook", w) for w in webhooks]
    if devices:
        device_blocks: list[Any] = [short_view("device", d) for d in devices]
        if text_mode and len(device_blocks) > TREE_LIMIT:
            rest = len(device_blocks) - TREE_LIMIT
            device_blocks = device_blocks[:TREE_LIMIT] + [more_marker("device", rest)]
        extras["Devices"] = device_blocks
    return extras


def dg_full_view(
    dg: Resource,
    related: Related,
    product_dgs: Iterable[Resource],
    webhooks: Sequence[Resource],
    devices: Sequence[Resource],
    *,
    text_mode: bool,
    me_id: str | None = None,
    warnings: list[str] | None = None,
    ident: str | None = None,
) -> Block:
    """Full Device Group view (`dg info --full`): info view + :func:`dg_full_extras`."""
    block = info_view("dg", dg, related, me_id=me_id, warnings=warnings, ident=ident)
    block["Device Group"].update(
        dg_full_extras(dg, product_dgs, webhooks, devices, text_mode=text_mode)
    )
    return block


def _of_dg(resources: Iterable[Resource], dg_id: Any) -> list[Resource]:
    return [r for r in resources if rel_id(r, "devicegroup") == str(dg_id)]


_PRODUCT_TREE_RELS: tuple[Relationship, ...] = tuple(
    _DG_REL[name]
    for name in (
        "current_deployment",
        "min_supported_deployment",
        "production_target",
        "dut_target",
    )
)


def product_full_view(
    product: Resource,
    related: Related,
    dgs: Sequence[Resource],
    webhooks: Iterable[Resource],
    devices: Iterable[Resource],
    *,
    text_mode: bool,
    me_id: str | None = None,
    warnings: list[str] | None = None,
    ident: str | None = None,
) -> Block:
    """Full Product view (`product info --full`): info view + `Device Groups`.

    `dgs` are the Product's Device Groups (in display order); `webhooks` and `devices` may be
    all those of the Product: each is attached to the DG its `devicegroup` relationship names.
    Each DG block is the DG short view + `Current Deployment`, `Min supported Deployment`,
    `Production Target`, `DUT Target` + the full-view trees. `Device Groups` is omitted when
    the Product has none.
    """
    ctx = _Ctx(related, me_id, warnings)
    block = info_view("product", product, related, me_id=me_id, warnings=warnings, ident=ident)
    webhooks = list(webhooks)
    devices = list(devices)
    dg_blocks: list[Block] = []
    for dg in dgs:
        fields = short_fields("dg", dg)
        parent = ident_info("dg", str(dg.get("id")))
        _relationship_fields(ctx, fields, dg, parent, _PRODUCT_TREE_RELS)
        fields.update(
            dg_full_extras(
                dg,
                dgs,
                _of_dg(webhooks, dg.get("id")),
                _of_dg(devices, dg.get("id")),
                text_mode=text_mode,
            )
        )
        dg_blocks.append({ENTITIES["dg"].type_name: fields})
    if dg_blocks:
        block["Product"]["Device Groups"] = dg_blocks
    return block


def project_view(device_file: str, agent_file: str, dg_view: Mapping[str, Any]) -> Block:
    """`Project` block of `project info/create/link/update`.

    `dg_view` is the Device Group's info (or full) view, `{"Device Group": {...}}`.
    """
    return {
        "Project": {
            "Device file": device_file,
            "Agent file": agent_file,
            "Device Group": dg_view["Device Group"],
        }
    }
