"""The control plane's fault table: every fault a test can inject, and how it is consumed.

Latency and status faults are consumed by the next API requests (``/v5``), never by control
plane (``/_sim/``) requests; compile-error faults by the next deployment creations, after the
request passed validation, in place of the code runner's own compile check.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from .errors import ApiError
from .runner import CodeError

DEFAULT_COMPILE_ERROR = CodeError("device_code", 1, 1, "expression expected")


@dataclass(frozen=True)
class CompileFault:
    """A synthetic compile error: the error's ``detail`` (None: the usual one) and problems."""

    detail: str | None
    problems: tuple[CodeError, ...]


class Faults:
    """Queued faults, each with a number of requests it still applies to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency: list[dict[str, Any]] = []
        self._status: list[dict[str, Any]] = []
        self._compile: list[tuple[CompileFault, int]] = []

    def clear(self) -> None:
        with self._lock:
            self._latency.clear()
            self._status.clear()
            self._compile.clear()

    def add_latency(self, ms: float, count: int) -> None:
        with self._lock:
            self._latency.append({"seconds": ms / 1000.0, "count": count})

    def add_status(self, status: int, count: int, retry_after: int | None) -> None:
        with self._lock:
            self._status.append({"status": status, "count": count, "retry_after": retry_after})

    def add_compile_error(self, fault: CompileFault, count: int) -> None:
        with self._lock:
            self._compile.append((fault, count))

    def take(self) -> tuple[float, dict[str, Any] | None]:
        """Consume the faults for one API request: (extra latency seconds, status fault)."""
        if not self._latency and not self._status:
            return 0.0, None
        with self._lock:
            delay = 0.0
            if self._latency:
                delay = self._take_first(self._latency)["seconds"]
            status = dict(self._take_first(self._status)) if self._status else None
            return delay, status

    def take_compile_error(self) -> CompileFault | None:
        """Consume the compile-error fault for one deployment creation, if one is queued."""
        if not self._compile:
            return None
        with self._lock:
            if not self._compile:
                return None
            fault, count = self._compile[0]
            if count <= 1:
                self._compile.pop(0)
            else:
                self._compile[0] = (fault, count - 1)
            return fault

    @staticmethod
    def _take_first(queue: list[dict[str, Any]]) -> dict[str, Any]:
        first = queue[0]
        taken = dict(first)
        first["count"] -= 1
        if first["count"] <= 0:
            queue.pop(0)
        return taken

    def pending(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": [dict(f) for f in self._latency],
                "status": [dict(f) for f in self._status],
                "compile_error": [
                    {
                        "detail": fault.detail,
                        "meta": [asdict(p) for p in fault.problems],
                        "count": count,
                    }
                    for fault, count in self._compile
                ],
            }


def fault_error(fault: dict[str, Any]) -> ApiError:
    """The error an injected status fault answers with."""
    status = fault["status"]
    headers: dict[str, str] = {}
    if status == 429:
        retry = fault.get("retry_after") or 1
        headers = {"Retry-After": str(retry), "x-ratelimit-reset": str(retry)}
        return ApiError(
            429, "RX001", "Too Many Requests", "Rate limit exceeded; retry later.", headers=headers
        )
    if fault.get("retry_after"):
        headers["Retry-After"] = str(fault["retry_after"])
    titles = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    return ApiError(
        status,
        "XX001",
        titles.get(status, "Injected Fault"),
        "The simulator injected this error.",
        headers=headers,
    )
