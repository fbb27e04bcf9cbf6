"""The ``/_sim/`` control plane: reset, seeding, log injection, online/offline, faults.

No token is needed, but only loopback clients are served (403 otherwise). Fault injection
affects the next N requests to the API (``/v5``), never ``/_sim/`` requests.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_request

if TYPE_CHECKING:
    from .backend import Backend


def is_loopback(host: str) -> bool:
    return host == "::1" or host.startswith("127.") or host.startswith("::ffff:127.")


class Faults:
    """Queued faults, consumed by API requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency: list[dict[str, Any]] = []
        self._status: list[dict[str, Any]] = []

    def clear(self) -> None:
        with self._lock:
            self._latency.clear()
            self._status.clear()

    def add_latency(self, ms: float, count: int) -> None:
        with self._lock:
            self._latency.append({"seconds": ms / 1000.0, "count": count})

    def add_status(self, status: int, count: int, retry_after: int | None) -> None:
        with self._lock:
            self._status.append({"status": status, "count": count, "retry_after": retry_after})

    def take(self) -> tuple[float, dict[str, Any] | None]:
        """Consume the faults for one API request: (extra latency seconds, status fault)."""
        if not self._latency and not self._status:
            return 0.0, None
        with self._lock:
            delay = 0.0
            if self._latency:
                f = self._latency[0]
                delay = f["seconds"]
                f["count"] -= 1
                if f["count"] <= 0:
                    self._latency.pop(0)
            status = None
            if self._status:
                f = self._status[0]
                status = dict(f)
                f["count"] -= 1
                if f["count"] <= 0:
                    self._status.pop(0)
            return delay, status

    def pending(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": [dict(f) for f in self._latency],
                "status": [dict(f) for f in self._status],
            }


def fault_error(fault: dict[str, Any]) -> ApiError:
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


def _int(body: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad_request(f"'{key}' must be an integer between {lo} and {hi}.", f"/{key}")
    return value


class Control:
    """Handlers for ``/_sim/...``; each returns (status, JSON document or None)."""

    def __init__(self, backend: Backend, faults: Faults, render: Any) -> None:
        self.backend = backend
        self.faults = faults
        self.render = render  # (kind, record) -> JSON:API resource with links

    def handle(self, method: str, segs: list[str], body: Any) -> tuple[int, Any]:
        b = self.backend
        if method == "POST" and segs == ["reset"]:
            b.reset()
            self.faults.clear()
            return 200, {"meta": {"reset": True}}
        if segs == ["devices"] and method == "POST":
            devs = b.seed_devices(body)
            return 201, {"data": [self.render("device", d) for d in devs]}
        if len(segs) == 3 and segs[0] == "devices" and method == "POST":
            ident, action = segs[1], segs[2]
            if action == "logs":
                n = b.inject_logs(ident, body)
                return 200, {"meta": {"lines": n}}
            if action in ("online", "offline"):
                dev = b.set_online(ident, action == "online")
                return 200, {"data": self.render("device", dev)}
        if segs == ["accounts"] and method == "POST":
            acct = b.seed_account(body)
            return 201, {"data": self.render("account", acct)}
        if segs == ["collaborators"] and method == "POST":
            acct = b.add_collaborator(body)
            return 200, {"data": self.render("account", acct)}
        if segs == ["faults"]:
            if method == "POST":
                return 200, self._faults(body)
            if method == "DELETE":
                self.faults.clear()
                return 200, {"meta": self.faults.pending()}
            if method == "GET":
                return 200, {"meta": self.faults.pending()}
        if segs == ["tick"] and method == "POST":
            b.tick()
            return 200, {"meta": {"tick": True}}
        raise ApiError(404, "NF002", "Not Found", "Unknown control-plane endpoint.")

    def _faults(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body:
            raise bad_request("The request body must be a non-empty JSON object.")
        known = ("latency_ms", "count", "status", "retry_after", "drop_streams", "compile_error")
        for key in body:
            if key not in known:
                raise bad_request(f"Unknown fault member '{key}'.", f"/{key}")
        count = _int(body, "count", 1, 1, 1_000_000)
        result: dict[str, Any] = {}
        if "latency_ms" in body:
            ms = body["latency_ms"]
            if not isinstance(ms, int | float) or isinstance(ms, bool) or not 0 <= ms <= 60_000:
                raise bad_request(
                    "'latency_ms' must be a number between 0 and 60000.", "/latency_ms"
                )
        if "status" in body:
            status = _int(body, "status", 503, 400, 599)
            retry = None
            if "retry_after" in body:
                retry = _int(body, "retry_after", 1, 0, 3600)
        if "compile_error" in body and not isinstance(body["compile_error"], dict | bool):
            raise bad_request("'compile_error' must be an object or true.", "/compile_error")
        # All checks passed: apply.
        if "latency_ms" in body:
            self.faults.add_latency(float(body["latency_ms"]), count)
        if "status" in body:
            self.faults.add_status(status, count, retry)
        if body.get("drop_streams"):
            result["dropped_streams"] = self.backend.drop_streams()
        if body.get("compile_error"):
            spec = body["compile_error"] if isinstance(body["compile_error"], dict) else {}
            self.backend.add_compile_error(spec, count)
        result["pending"] = self.faults.pending()
        return {"meta": result}
