"""The completion index of one account: every identifier of its entities (names, ids, MACs,
agent ids, tags, SHAs, origins, usernames, emails) in one sorted list per kind, so that Tab
finds the candidates for a prefix by bisection instead of scanning and formatting every
entity on each keystroke. Each entity's one-line description is written once, when the
index is built.

An index never changes once built: a background thread builds a new one and swaps it in."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..entities import ENTITIES, dg_cli_type
from ..output.render import escape_controls

Resource = Mapping[str, Any]

KEY_ATTRS: Mapping[str, tuple[str, ...]] = {
    kind: ENTITIES[kind].ident_attrs
    for kind in ("product", "dg", "device", "build", "account", "webhook")
}
"""What each kind is identified by (impt's identification attributes), so what Tab offers."""

PRIMARY_ATTRS: Mapping[str, tuple[str, ...]] = {
    "product": ("name",),
    "dg": ("name",),
    "device": ("name",),
    "build": ("tags",),
    "account": ("username",),
}
"""What an empty prefix offers: names (an entity without one is offered by id)."""

DESCRIPTION_ATTRS: Mapping[str, tuple[str, ...]] = {
    "device": ("name", "device_online"),
    "build": ("created_at", "sha", "tags", "flagged"),
    "account": ("username", "email"),
    "webhook": ("event", "url"),
}
"""Attributes the descriptions show besides the identifiers."""

PARENT_RELATIONSHIP: Mapping[str, str] = {"product": "owner", "dg": "product"}
"""The parent a hierarchical identifier names before the entity: `{owner}{product}{dg}`."""

DEPENDS_ON: Mapping[str, tuple[str, ...]] = {
    "product": ("account",),
    "dg": ("product",),
    "device": ("dg",),
    "build": ("dg",),
    "webhook": ("dg",),
}
"""Whose names a kind's descriptions show: renaming a Device Group rewrites its devices'."""

_LAST = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One completion: the identifier to insert, the entity's description and its id, and
    what the menu shows when that is not the identifier itself."""

    text: str
    meta: str
    entity_id: str
    shown: str | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """The candidates for a prefix (at most the limit asked for) and how many there are.
    When some were left out, the last candidate is the last match, so that the candidates'
    common prefix is that of all matches (Tab never inserts more than all of them share)."""

    candidates: tuple[Candidate, ...]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.candidates)


class KindIndex:
    """The identifiers of one kind's entities, sorted."""

    __slots__ = (
        "_by_id",
        "_entities",
        "_fields",
        "_keys",
        "_owners",
        "_primary_keys",
        "_primary_owners",
    )

    def __init__(
        self, entities: list[tuple[str, str, str | None]], rows: list[tuple[str, int, int]]
    ):
        """`entities`: (id, description, parent id); `rows`: (identifier, entity number,
        attribute number in `KEY_ATTRS`), a primary identifier's entity number stored as
        -1 - number."""
        rows.sort()
        self._entities = entities
        self._keys = [key for key, _, _ in rows]
        self._owners = [owner if owner >= 0 else -1 - owner for _, owner, _ in rows]
        self._fields = bytes(field for _, _, field in rows)
        primary = [(key, -1 - owner) for key, owner, _ in rows if owner < 0]
        self._primary_keys = [key for key, _ in primary]
        self._primary_owners = [owner for _, owner in primary]
        self._by_id = {entity[0]: number for number, entity in enumerate(entities)}

    def __len__(self) -> int:
        return len(self._entities)

    def lookup(
        self,
        prefix: str,
        limit: int,
        parents: set[str] | None = None,
        field: int | None = None,
    ) -> Lookup:
        """Identifiers starting with `prefix` (names only for an empty prefix and no
        `field`), of entities whose parent is in `parents` when given, of the attribute
        numbered `field` only when given."""
        if prefix or field is not None:
            keys, owners = self._keys, self._owners
        else:
            keys, owners = self._primary_keys, self._primary_owners
        lo = bisect_left(keys, prefix)
        hi = bisect_left(keys, prefix + _LAST, lo)
        if parents is None and field is None:
            if hi - lo > limit:
                return self._pick(keys, owners, [*range(lo, lo + limit - 1), hi - 1], hi - lo)
            return self._pick(keys, owners, range(lo, hi), hi - lo)
        rows = [
            i
            for i in range(lo, hi)
            if (field is None or self._fields[i] == field)
            and (parents is None or self._entities[owners[i]][2] in parents)
        ]
        if len(rows) > limit:
            return self._pick(keys, owners, [*rows[: limit - 1], rows[-1]], len(rows))
        return self._pick(keys, owners, rows, len(rows))

    def _pick(self, keys: list[str], owners: list[int], rows: Iterable[int], total: int) -> Lookup:
        candidates = []
        for i in rows:
            entity_id, meta, _ = self._entities[owners[i]]
            candidates.append(Candidate(keys[i], meta, entity_id))
        return Lookup(tuple(candidates), total)

    def ids_named(self, identifier: str) -> set[str]:
        """The ids of the entities `identifier` names exactly (any identification attribute)."""
        lo = bisect_left(self._keys, identifier)
        found = set()
        while lo < len(self._keys) and self._keys[lo] == identifier:
            found.add(self._entities[self._owners[lo]][0])
            lo += 1
        return found

    def parent_of(self, entity_id: str) -> str | None:
        number = self._by_id.get(entity_id)
        return None if number is None else self._entities[number][2]

    def description(self, entity_id: str) -> str | None:
        number = self._by_id.get(entity_id)
        return None if number is None else self._entities[number][1]


EMPTY = KindIndex([], [])


class CompletionIndex:
    """The index of every kind of one account; `me_id` is the logged-in account's id."""

    def __init__(self, kinds: Mapping[str, KindIndex], me_id: str | None = None):
        self.kinds = dict(kinds)
        self.me_id = me_id

    def kind(self, kind: str) -> KindIndex:
        return self.kinds.get(kind, EMPTY)

    def lookup(self, kind: str, prefix: str, limit: int, attribute: str | None = None) -> Lookup:
        """Candidates of `kind` for `prefix`; with `attribute` (`sha`, `tags`) only its
        values."""
        field = KEY_ATTRS[kind].index(attribute) if attribute is not None else None
        found = self.kind(kind).lookup(prefix, limit, field=field)
        if kind == "account" and self.me_id is not None and "me".startswith(prefix):
            me = Candidate("me", "your account: " + self.describe("account", self.me_id), "me")
            candidates = sorted((me, *found.candidates[: limit - 1]), key=lambda c: c.text)
            return Lookup(tuple(candidates), found.total + 1)
        return found

    def describe(self, kind: str, entity_id: str) -> str:
        return self.kind(kind).description(entity_id) or entity_id

    def ids_named(self, kind: str, identifier: str) -> set[str]:
        if kind == "account" and identifier == "me" and self.me_id is not None:
            return {self.me_id}
        return self.kind(kind).ids_named(identifier)


@dataclass(frozen=True, slots=True)
class Segments:
    """Candidates for a hierarchical identifier (`{owner}{product}{dg}`): every text is the
    whole identifier up to the segment being completed, followed by `}{` when more segments
    follow; `final` when that segment is the last one."""

    lookup: Lookup
    final: bool


def complete_hierarchical(index: CompletionIndex, kind: str, text: str, limit: int) -> Segments:
    """Completes the segment of `text` (which starts with `{`) being typed: the owner
    account, then (for a Device Group) the Product of that account, then the entity itself,
    each among the children of the segment before it."""
    levels = ("account", "product") if kind == "product" else ("account", "product", "dg")
    parts = text[1:].split("}{")
    if parts[-1].endswith("}"):  # the segment is closed: the next one starts
        parts = [*parts[:-1], parts[-1][:-1], ""]
    done, prefix = parts[:-1], parts[-1]
    level = len(done)
    if level >= len(levels) or any(not part for part in done):
        return Segments(Lookup((), 0), False)
    parents: set[str] | None = None
    for depth, part in enumerate(done):
        named = index.ids_named(levels[depth], part)
        if parents is not None:
            named = {i for i in named if index.kind(levels[depth]).parent_of(i) in parents}
        parents = named
        if not parents:
            return Segments(Lookup((), 0), False)
    if level == 0:
        found = index.lookup("account", prefix, limit)
    else:
        found = index.kind(levels[level]).lookup(prefix, limit, parents)
    final = level == len(levels) - 1
    head = "{" + "".join(part + "}{" for part in done)
    tail = "}" if final else "}{"
    candidates = tuple(
        Candidate(head + c.text + tail, c.meta, c.entity_id, c.text) for c in found.candidates
    )
    return Segments(Lookup(candidates, found.total), final)


# -- building -----------------------------------------------------------------------------------


def build_kind(kind: str, resources: Iterable[Resource], names: Names) -> KindIndex:
    """The index of one kind's entities; `names` gives related entities' names for the
    descriptions."""
    entities: list[tuple[str, str, str | None]] = []
    rows: list[tuple[str, int, int]] = []
    primary_attrs = PRIMARY_ATTRS.get(kind, ())
    parent_rel = PARENT_RELATIONSHIP.get(kind)
    for resource in resources:
        entity_id = resource.get("id")
        if not isinstance(entity_id, str) or not entity_id:
            continue
        number = len(entities)
        parent = _rel_id(resource, parent_rel) if parent_rel else None
        entities.append((entity_id, one_line(describe(kind, resource, names)), parent))
        attributes = resource.get("attributes") or {}
        values = {
            attr: [entity_id] if attr == "id" else _strings(attributes.get(attr))
            for attr in KEY_ATTRS[kind]
        }
        primary = [a for a in primary_attrs if values.get(a)] or ["id"]
        for field, (attr, found) in enumerate(values.items()):
            owner = -1 - number if attr in primary else number
            rows.extend((value, owner, field) for value in found)
    return KindIndex(entities, rows)


class Names:
    """Names of entities by kind and id, for descriptions (`MyDevDG` rather than its id)."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {}

    def add(self, kind: str, resources: Iterable[Resource]) -> None:
        attr = "username" if kind == "account" else "name"
        self._names[kind] = {
            r["id"]: str((r.get("attributes") or {}).get(attr) or r["id"])
            for r in resources
            if isinstance(r.get("id"), str)
        }

    def of(self, kind: str, entity_id: str | None) -> str | None:
        if entity_id is None:
            return None
        return self._names.get(kind, {}).get(entity_id, entity_id)


def describe(kind: str, resource: Resource, names: Names) -> str:
    """The entity's one-line description, as Tab shows it next to a candidate."""
    attrs = resource.get("attributes") or {}
    entity_id = str(resource.get("id"))
    if kind == "device":
        state = "online" if attrs.get("device_online") else "offline"
        group = names.of("dg", _rel_id(resource, "devicegroup"))
        parts = [attrs.get("name") or "(no name)", entity_id, state, group or "unassigned"]
    elif kind == "dg":
        product = names.of("product", _rel_id(resource, "product"))
        parts = [f"{dg_cli_type(resource.get('type'))} Device Group", attrs.get("name")]
        parts += [f"of {product}" if product else None, entity_id]
    elif kind == "product":
        owner = names.of("account", _rel_id(resource, "owner"))
        parts = ["Product", attrs.get("name"), f"of {owner}" if owner else None, entity_id]
    elif kind == "build":
        group = names.of("dg", _rel_id(resource, "devicegroup"))
        created = str(attrs.get("created_at") or "")[:16].replace("T", " ")
        sha = str(attrs.get("sha") or "")[:12]
        tags = ", ".join(_strings(attrs.get("tags")))
        parts = [f"Deployment of {group}" if group else "Deployment (no Device Group)", created]
        parts += [f"sha {sha}" if sha else None, f"tags {tags}" if tags else None]
        parts += ["flagged" if attrs.get("flagged") else None]
    elif kind == "account":
        email = attrs.get("email")
        parts = ["Account", attrs.get("username"), f"<{email}>" if email else None]
    else:  # a webhook
        group = names.of("dg", _rel_id(resource, "devicegroup"))
        parts = [f"Webhook on {attrs.get('event')}", attrs.get("url")]
        parts += [f"of {group}" if group else None]
    return ", ".join(str(p) for p in parts if p not in (None, ""))


def one_line(text: str) -> str:
    """`text` with control characters escaped and line breaks and tabs made spaces."""
    return " ".join(escape_controls(text).split())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _rel_id(resource: Resource, name: str) -> str | None:
    rel = (resource.get("relationships") or {}).get(name)
    value = rel.get("id") if isinstance(rel, Mapping) else None
    return value if isinstance(value, str) and value else None
