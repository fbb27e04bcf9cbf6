"""The session's entity cache: what list and get requests brought back, per account.

Identification looks here before it asks the server, and completion reads it without ever
touching the network. Commands that change an entity invalidate its kind."""

from __future__ import annotations

import threading
import time
from typing import Any


class EntityCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        self._complete: dict[str, float] = {}  # kind -> when a full, unfiltered list arrived

    def store(self, kind: str, resources: list[dict[str, Any]], *, complete: bool) -> None:
        """Remembers resources; `complete` says they are the whole collection."""
        with self._lock:
            bucket = {} if complete else dict(self._by_kind.get(kind, {}))
            for res in resources:
                if isinstance(res, dict) and res.get("id"):
                    bucket[res["id"]] = res
            self._by_kind[kind] = bucket
            if complete:
                self._complete[kind] = time.monotonic()

    def put(self, kind: str, resource: dict[str, Any]) -> None:
        with self._lock:
            if resource.get("id"):
                self._by_kind.setdefault(kind, {})[resource["id"]] = resource

    def get(self, kind: str, ident: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_kind.get(kind, {}).get(ident)

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_kind.get(kind, {}).values())

    def is_complete(self, kind: str) -> bool:
        with self._lock:
            return kind in self._complete

    def invalidate(self, *kinds: str) -> None:
        """Forgets that the collections are complete; the entities stay for completion."""
        with self._lock:
            for kind in kinds:
                self._complete.pop(kind, None)

    def forget(self, kind: str, ident: str) -> None:
        with self._lock:
            self._by_kind.get(kind, {}).pop(ident, None)
            self._complete.pop(kind, None)

    def clear(self) -> None:
        with self._lock:
            self._by_kind.clear()
            self._complete.clear()
