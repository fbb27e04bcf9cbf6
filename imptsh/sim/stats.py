"""How many API requests the simulator has answered: what a client sends per command, as
the server sees it (``GET /_sim/stats``)."""

from __future__ import annotations

import threading
from typing import Any


class RequestStats:
    """API requests (under ``/v5``) received since the start or the last reset, by method.
    Every request counts, whatever its answer (errors, injected faults, 429s, streams);
    control-plane and agent requests do not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_method: dict[str, int] = {}

    def count(self, method: str) -> None:
        with self._lock:
            self._by_method[method] = self._by_method.get(method, 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._by_method.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_method = dict(sorted(self._by_method.items()))
        return {"requests": sum(by_method.values()), "by_method": by_method}
