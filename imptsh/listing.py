"""List commands' filters (commands.md §10): identifier filters resolved to ids, one request
per combination of native filter values, artificial filters applied locally, and impt's list
output."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .entities import ENTITIES
from .errors import CommandError
from .invocation import Invocation
from .views import list_header, list_views, no_items_message, rel_id

Resource = dict[str, Any]


def filter_ids(inv: Invocation, kind: str, values: list[str]) -> list[str] | None:
    """Ids selected by a repeatable identifier filter: None when the option was not given,
    [] when nothing matched. An empty value stands for the Project file's entity."""
    if not values:
        return None
    ids: list[str] = []
    for value in values:
        if value == "":
            ids.extend(_project_default(inv, kind))
            continue
        for resource in inv.identifier.resolve_all(kind, value):
            ids.append(resource["id"])
    return list(dict.fromkeys(ids))


def _project_default(inv: Invocation, kind: str) -> list[str]:
    dg = inv.project_dg()
    if dg is not None and kind == "dg":
        return [dg["id"]]
    if dg is not None and kind == "product" and rel_id(dg, "product"):
        return [rel_id(dg, "product")]
    raise CommandError(f"No {ENTITIES[kind].type_name} Identifier is specified.")


def fetch(
    inv: Invocation,
    kind: str,
    native: dict[str, list[str] | None],
    keep: Callable[[Resource], bool] | None = None,
) -> list[Resource]:
    """Lists `kind` with every combination of native filter values (None = not filtering on
    it, [] = nothing can match) and keeps what `keep` accepts. Entities matching several
    values appear once (impt would list them once per value)."""
    active = {k: v for k, v in native.items() if v is not None}
    if any(len(v) == 0 for v in active.values()):
        return []
    keys = list(active)
    combos = itertools.product(*(active[k] for k in keys)) if keys else [()]
    seen: dict[str, Resource] = {}
    for combo in combos:
        for resource in inv.identifier.list(kind, dict(zip(keys, combo, strict=True)) or None):
            seen.setdefault(resource["id"], resource)
    result = list(seen.values())
    return [r for r in result if keep(r)] if keep else result


def flag_pair(yes: bool, no: bool) -> bool | None:
    """Contradictory flag pairs cancel each other (`--online --offline` = no filter)."""
    if yes == no:
        return None
    return yes


def print_list(inv: Invocation, kind: str, resources: list[Resource]) -> None:
    """`<Type> list (<N> items):` + list blocks, or `No <Type>s are found.`"""
    if not resources:
        inv.out.info(no_items_message(kind))
        if inv.out.is_json:
            inv.out.result([])
        return
    warnings: list[str] = []
    blocks = list_views(kind, resources, inv.related(bulk=True), me_id=inv.me_id, warnings=warnings)
    inv.out.warnings(warnings)
    inv.out.info(list_header(kind, len(resources)))
    inv.out.result(blocks)
