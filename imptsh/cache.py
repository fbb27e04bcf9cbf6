"""The session's entity cache: what list and get requests brought back, per account.

Identification looks here before it asks the server, and completion reads it without ever
touching the network. Commands that change an entity invalidate its kind.

Two kinds of entries: whole resources (as a request answered them) and summaries, which a
background fill stores for every entity of an account: only what identification and
completion need, so that an account with many thousands of devices stays small in memory.
Whoever needs the whole entity fetches it by id (`is_summary` says when).

Every change bumps its kind's `generation` (what the completion index follows); changes
that say the server changed (`invalidate`, `forget`) also bump its `changes` count, and a
background fill that began before such a change stores nothing
(`store(..., unless_changed_since=...)`), so it cannot bring back what a command just
deleted or drop what it just created."""

from __future__ import annotations

import threading
import time
from typing import Any


class EntityCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        self._complete: dict[str, float] = {}  # kind -> when a full, unfiltered list arrived
        self._summaries: dict[str, set[str]] = {}  # kind -> ids held as summaries
        self._generations: dict[str, int] = {}
        self._changes: dict[str, int] = {}

    def store(
        self,
        kind: str,
        resources: list[dict[str, Any]],
        *,
        complete: bool,
        summary: bool = False,
        unless_changed_since: int | None = None,
    ) -> bool:
        """Remembers resources; `complete` says they are the whole collection, `summary`
        that they are summaries. With `unless_changed_since` (a `generation`), nothing is
        stored when the kind changed since then (a `changes` count); returns whether it was
        stored."""
        with self._lock:
            if (
                unless_changed_since is not None
                and self._changes.get(kind, 0) != unless_changed_since
            ):
                return False
            bucket = {} if complete else dict(self._by_kind.get(kind, {}))
            summaries = set() if complete else set(self._summaries.get(kind, ()))
            for res in resources:
                if isinstance(res, dict) and res.get("id"):
                    bucket[res["id"]] = res
                    if summary:
                        summaries.add(res["id"])
                    else:
                        summaries.discard(res["id"])
            self._by_kind[kind] = bucket
            self._summaries[kind] = summaries
            if complete:
                self._complete[kind] = time.monotonic()
            self._bump(kind)
            return True

    def put(self, kind: str, resource: dict[str, Any]) -> None:
        with self._lock:
            if resource.get("id"):
                self._by_kind.setdefault(kind, {})[resource["id"]] = resource
                self._summaries.get(kind, set()).discard(resource["id"])
                self._bump(kind)

    def get(self, kind: str, ident: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_kind.get(kind, {}).get(ident)

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_kind.get(kind, {}).values())

    def is_complete(self, kind: str) -> bool:
        with self._lock:
            return kind in self._complete

    def is_summary(self, kind: str, ident: str) -> bool:
        """Whether the entity is held as a summary (fetch it by id for the whole of it)."""
        with self._lock:
            return ident in self._summaries.get(kind, ())

    def generation(self, kind: str) -> int:
        """A number that changes whenever anything of `kind` changes in the cache."""
        with self._lock:
            return self._generations.get(kind, 0)

    def changes(self, kind: str) -> int:
        """How many times the server's collection of `kind` was said to have changed."""
        with self._lock:
            return self._changes.get(kind, 0)

    def invalidate(self, *kinds: str) -> None:
        """Forgets that the collections are complete; the entities stay for completion."""
        with self._lock:
            for kind in kinds:
                self._complete.pop(kind, None)
                self._bump(kind, changed=True)

    def forget(self, kind: str, ident: str) -> None:
        with self._lock:
            self._by_kind.get(kind, {}).pop(ident, None)
            self._summaries.get(kind, set()).discard(ident)
            self._complete.pop(kind, None)
            self._bump(kind, changed=True)

    def clear(self) -> None:
        with self._lock:
            for kind in {*self._by_kind, *self._complete}:
                self._bump(kind, changed=True)
            self._by_kind.clear()
            self._complete.clear()
            self._summaries.clear()

    def _bump(self, kind: str, *, changed: bool = False) -> None:
        self._generations[kind] = self._generations.get(kind, 0) + 1
        if changed:
            self._changes[kind] = self._changes.get(kind, 0) + 1
