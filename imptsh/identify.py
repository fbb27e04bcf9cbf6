"""impt's entity identification (commands.md §4), economical with requests.

A value is matched against the kind's attributes in impt's order (id first); the first
attribute with any exact match decides. Matching runs on the session's entity cache when it
holds the whole collection, otherwise on one list request. A value shaped like an id of the
kind is first tried with one `GET` (the server also resolves MACs and agent ids there)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .api.client import Client
from .api.errors import NotFoundError
from .cache import EntityCache
from .entities import ENTITIES, EntityKind
from .errors import CommandError
from .views import list_view

Resource = dict[str, Any]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PARENT_FILTER = {"product": "owner.id", "dg": "product.id"}


def looks_like_id(kind: str, value: str) -> bool:
    if kind == "device":
        return bool(_HEX16.match(value) or _MAC.match(value))
    if kind == "loginkey":
        return bool(_HEX16.match(value))
    if kind == "account":
        return value == "me" or bool(_UUID.match(value))
    return bool(_UUID.match(value))


def match(entity: EntityKind, resources: list[Resource], value: str) -> list[Resource]:
    """The resources matching `value` on the first attribute (in impt's order) that matches."""
    for attr in entity.ident_attrs:
        found = [r for r in resources if entity.attr_matches(r, attr, value)]
        if found:
            return found
    return []


def split_hierarchical(kind: str, value: str) -> list[str] | None:
    """`{acc}{prod}` for products, `{acc}{prod}{dg}` for device groups; None otherwise."""
    parts = {"product": 2, "dg": 3}.get(kind)
    if parts is None or not (value.startswith("{") and value.endswith("}")):
        return None
    inner = value[1:-1].split("}{")
    return inner if len(inner) == parts else None


class Identifier:
    """Resolves identifiers for one command. `me` returns the current account (fetched once
    per session); resources fetched while the command runs are remembered as fresh."""

    def __init__(
        self, client: Client, cache: EntityCache, me: Callable[[], Resource] | None = None
    ):
        self.client = client
        self.cache = cache
        self.me = me
        self._fresh: set[tuple[str, str]] = set()

    # -- listing ------------------------------------------------------------------------

    def list(self, kind: str, filters: dict[str, str] | None = None) -> list[Resource]:
        """One (paged) list request; an unfiltered one refreshes the cache's collection."""
        entity = ENTITIES[kind]
        resources = self.client.list(entity.collection, filters)
        self.cache.store(kind, resources, complete=not filters)
        self._fresh.update((kind, r["id"]) for r in resources if r.get("id"))
        return resources

    def get(self, kind: str, ident: str) -> Resource | None:
        try:
            resource = self.client.get_resource(ENTITIES[kind].collection, ident)
        except NotFoundError:
            return None
        self.cache.put(kind, resource)
        self._fresh.add((kind, resource["id"]))
        return resource

    def answered(self, kind: str, resource: Resource) -> Resource:
        """`resource` as the server has just answered a change with it (a create's or an
        update's result): as fresh as if it had been fetched, so nothing fetches it again."""
        self._fresh.add((kind, resource["id"]))
        return resource

    def fresh(self, kind: str, resource: Resource) -> Resource:
        """`resource` as the server has it now: re-fetched only if it came from the cache."""
        if (kind, resource["id"]) in self._fresh:
            return resource
        return self.get(kind, resource["id"]) or resource

    # -- resolving ----------------------------------------------------------------------

    def find_all(
        self, kind: str, value: str, filters: dict[str, str] | None = None
    ) -> list[Resource]:
        """Every entity of `kind` that `value` identifies (plain identifiers only)."""
        entity = ENTITIES[kind]
        if kind == "account" and value == "me" and self.me is not None:
            return [self.me()]
        if not filters and self.cache.is_complete(kind):
            found = self._whole(kind, value, match(entity, self.cache.all(kind), value))
            if found:
                return found
        if looks_like_id(kind, value):
            resource = self.get(kind, value)
            if resource is not None and _within(resource, filters):
                return [resource]
        return match(entity, self.list(kind, filters), value)

    def _whole(self, kind: str, value: str, found: list[Resource]) -> list[Resource]:
        """The entities found in the cache as the server has them now where the cache holds
        only their summaries (one `GET` each); one gone or renamed since is left out."""
        whole = []
        for cached in found:
            if self.cache.is_summary(kind, cached["id"]):
                fetched = self.get(kind, cached["id"])
                whole.extend(match(ENTITIES[kind], [fetched], value) if fetched else [])
            else:
                whole.append(cached)
        return whole

    def resolve_all(self, kind: str, value: str) -> list[Resource]:
        """All matches, hierarchical identifiers included (for list filters)."""
        parts = split_hierarchical(kind, value)
        if parts is not None:
            try:
                return [self._resolve_hierarchical(kind, parts)]
            except CommandError:
                found = self.find_all(kind, value)
                return found
        return self.find_all(kind, value)

    def resolve(self, kind: str, value: str, *, type_label: str | None = None) -> Resource:
        """Exactly one entity, or impt's not-found / ambiguity error."""
        parts = split_hierarchical(kind, value)
        if parts is not None:
            try:
                return self._resolve_hierarchical(kind, parts)
            except CommandError as original:
                found = self.find_all(kind, value)
                if len(found) == 1:
                    return found[0]
                raise original from None
        return self._one(kind, value, self.find_all(kind, value), type_label)

    def find_one(self, kind: str, value: str, *, type_label: str | None = None) -> Resource | None:
        """The one entity `value` identifies, None when there is none (for "find, else
        create"); more than one is impt's ambiguity error."""
        found = self.resolve_all(kind, value)
        return self._one(kind, value, found, type_label) if found else None

    def _one(
        self, kind: str, value: str, found: list[Resource], type_label: str | None = None
    ) -> Resource:
        entity = ENTITIES[kind]
        label = type_label or entity.type_name
        if not found:
            raise CommandError(f'{label} "{value}" is not found.')
        if len(found) > 1:
            related = RelatedLookup(self, bulk=True)
            me_id = self.me()["id"] if self.me is not None else None
            blocks = [list_view(kind, r, related, me_id=me_id) for r in found]
            raise CommandError(
                f'Multiple {entity.plural} "{value}" are found:',
                blocks=blocks,
                hints=("Impossible to execute the command.",),
            )
        return found[0]

    def _resolve_hierarchical(self, kind: str, parts: list[str]) -> Resource:
        labels = ["Account", "Product", "Device Group"]
        for label, part in zip(labels, parts, strict=False):
            if part == "":
                raise CommandError(f"No {label} Identifier is specified.")
        account = self._one("account", parts[0], self.find_all("account", parts[0]))
        product = self._one(
            "product",
            parts[1],
            self.find_all("product", parts[1], {"owner.id": account["id"]}),
        )
        if kind == "product":
            return product
        return self._one(
            "dg", parts[2], self.find_all("dg", parts[2], {"product.id": product["id"]})
        )


def _within(resource: Resource, filters: dict[str, str] | None) -> bool:
    """Whether a fetched resource satisfies the parent filter of a hierarchical level."""
    for key, value in (filters or {}).items():
        relation = key.split(".", 1)[0]
        rel = (resource.get("relationships") or {}).get(relation) or {}
        if rel.get("id") != value:
            return False
    return True


class RelatedLookup:
    """Finds related entities for views. In bulk mode (lists) a missing kind is fetched
    with one list request for the whole collection rather than one request per entity."""

    def __init__(self, identifier: Identifier, *, bulk: bool):
        self.identifier = identifier
        self.bulk = bulk
        self._listed: set[str] = set()
        self._missing: set[tuple[str, str]] = set()

    def __call__(self, kind: str, entity_id: str) -> Resource | None:
        cache = self.identifier.cache
        found = cache.get(kind, entity_id)
        if found is not None:
            return found
        if (kind, entity_id) in self._missing:
            return None
        if self.bulk and kind not in self._listed and kind != "account":
            self._listed.add(kind)
            self.identifier.list(kind)
            found = cache.get(kind, entity_id)
            if found is not None:
                return found
        found = self.identifier.get(kind, entity_id)
        if found is None:
            self._missing.add((kind, entity_id))
        return found
