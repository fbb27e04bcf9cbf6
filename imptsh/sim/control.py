"""The ``/_sim/`` control plane: reset, seeding, log injection, connectivity, device clocks,
the Connected Factory (BlinkUp, recorded webhook deliveries), zombie deployments, fault
injection and request counts.

No token is needed, but only loopback clients are served (403 otherwise, see the HTTP layer).
Each handler takes ``(control, body, links, *captured segments)`` and returns
``(status, JSON document)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import jsonapi
from .errors import ApiError, bad_request
from .faults import DEFAULT_COMPILE_ERROR, CompileFault
from .jsonapi import Links
from .resources import accounts, deployments, devices, factory, logs, webhooks
from .routing import Route, Router
from .runner import CodeError

if TYPE_CHECKING:
    from .backend import Backend

MAX_CLOCK_SECONDS = 366 * 24 * 3600.0


def is_loopback(host: str) -> bool:
    return host == "::1" or host.startswith("127.") or host.startswith("::ffff:127.")


def _int(body: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad_request(f"'{key}' must be an integer between {lo} and {hi}.", f"/{key}")
    return value


def _number(body: dict[str, Any], key: str, lo: float, hi: float) -> float:
    value = body.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad_request(f"'{key}' must be a number between {lo:g} and {hi:g}.", f"/{key}")
    return float(value)


def _compile_fault(spec: Any) -> CompileFault:
    """A ``compile_error`` fault member: true, or ``{"detail": ..., "meta": [...]}``."""
    if spec is True:
        return CompileFault(None, (DEFAULT_COMPILE_ERROR,))
    if not isinstance(spec, dict):
        raise bad_request("'compile_error' must be an object or true.", "/compile_error")
    detail = spec.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise bad_request("'compile_error.detail' must be a string.", "/compile_error/detail")
    meta = spec.get("meta")
    if meta is None:
        return CompileFault(detail, (DEFAULT_COMPILE_ERROR,))
    if not isinstance(meta, list) or not meta:
        raise bad_request("'compile_error.meta' must be a non-empty array.", "/compile_error/meta")
    problems = []
    for i, item in enumerate(meta):
        pointer = f"/compile_error/meta/{i}"
        if not isinstance(item, dict):
            raise bad_request(f"compile_error.meta[{i}] must be an object.", pointer)
        try:
            problem = CodeError(**item)
        except TypeError:
            raise bad_request(
                f"compile_error.meta[{i}] must have 'file', 'row', 'column', 'text' and "
                "optionally 'type'.",
                pointer,
            ) from None
        if not (
            isinstance(problem.file, str)
            and isinstance(problem.text, str)
            and isinstance(problem.type, str)
            and all(
                isinstance(n, int) and not isinstance(n, bool)
                for n in (problem.row, problem.column)
            )
        ):
            raise bad_request(
                f"compile_error.meta[{i}]: 'row' and 'column' must be integers, the others "
                "strings.",
                pointer,
            )
        problems.append(problem)
    return CompileFault(detail, tuple(problems))


class Control:
    """Handlers for ``/_sim/...``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.faults = backend.faults
        self._router = Router(_ROUTES)

    def handle(self, method: str, segs: list[str], body: Any, links: Links) -> tuple[int, Any]:
        try:
            route, caps = self._router.match(method, segs)
        except ApiError:
            raise ApiError(404, "NF002", "Not Found", "Unknown control-plane endpoint.") from None
        return route.handler(self, body, links, *caps)

    def _render(self, kind: str, rec: Any, links: Links) -> dict[str, Any]:
        return jsonapi.resource(self.backend, kind, rec, links)

    # -------------------------------------------------------------- handlers
    def reset(self, body: Any, links: Links) -> tuple[int, Any]:
        self.backend.reset()
        return 200, {"meta": {"reset": True}}

    def seed_devices(self, body: Any, links: Links) -> tuple[int, Any]:
        devs = devices.seed_devices(self.backend, body)
        return 201, {"data": [self._render("device", d, links) for d in devs]}

    def inject_logs(self, body: Any, links: Links, device: str) -> tuple[int, Any]:
        return 200, {"meta": {"lines": logs.inject_logs(self.backend, device, body)}}

    def online(self, body: Any, links: Links, device: str) -> tuple[int, Any]:
        return self._connect(links, device, True)

    def offline(self, body: Any, links: Links, device: str) -> tuple[int, Any]:
        return self._connect(links, device, False)

    def _connect(self, links: Links, device: str, online: bool) -> tuple[int, Any]:
        dev = devices.set_online(self.backend, device, online)
        return 200, {"data": self._render("device", dev, links)}

    def clock(self, body: Any, links: Links, device: str) -> tuple[int, Any]:
        if not isinstance(body, dict) or set(body) != {"seconds"}:
            raise bad_request('The request body must be {"seconds": N}.', "/seconds")
        seconds = _number(body, "seconds", 0, MAX_CLOCK_SECONDS)
        dev = devices.advance_clock(self.backend, device, seconds)
        return 200, {"meta": {"device_id": dev["id"], "seconds": seconds}}

    def seed_account(self, body: Any, links: Links) -> tuple[int, Any]:
        acct = accounts.seed_account(self.backend, body)
        return 201, {"data": self._render("account", acct, links)}

    def add_collaborator(self, body: Any, links: Links) -> tuple[int, Any]:
        acct = accounts.add_collaborator(self.backend, body)
        return 200, {"data": self._render("account", acct, links)}

    def show_stats(self, body: Any, links: Links) -> tuple[int, Any]:
        return 200, {"meta": self.backend.stats.snapshot()}

    def show_faults(self, body: Any, links: Links) -> tuple[int, Any]:
        return 200, {"meta": self.faults.pending()}

    def clear_faults(self, body: Any, links: Links) -> tuple[int, Any]:
        self.faults.clear()
        return 200, {"meta": self.faults.pending()}

    def add_faults(self, body: Any, links: Links) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body:
            raise bad_request("The request body must be a non-empty JSON object.")
        known = ("latency_ms", "count", "status", "retry_after", "drop_streams", "compile_error")
        for key in body:
            if key not in known:
                raise bad_request(f"Unknown fault member '{key}'.", f"/{key}")
        count = _int(body, "count", 1, 1, 1_000_000)
        latency = _number(body, "latency_ms", 0, 60_000) if "latency_ms" in body else None
        status = _int(body, "status", 503, 400, 599) if "status" in body else None
        retry = _int(body, "retry_after", 1, 0, 3600) if "retry_after" in body else None
        compile_fault = None
        if body.get("compile_error") is not None and body["compile_error"] is not False:
            compile_fault = _compile_fault(body["compile_error"])
        # All checks passed: apply.
        result: dict[str, Any] = {}
        if latency is not None:
            self.faults.add_latency(latency, count)
        if status is not None:
            self.faults.add_status(status, count, retry)
        if body.get("drop_streams"):
            result["dropped_streams"] = logs.drop_streams(self.backend)
        if compile_fault is not None:
            self.faults.add_compile_error(compile_fault, count)
        result["pending"] = self.faults.pending()
        return 200, {"meta": result}

    def create_zombie(self, body: Any, links: Links) -> tuple[int, Any]:
        dep = deployments.create_zombie(self.backend, body)
        return 201, {"data": self._render("deployment", dep, links)}

    def factory_blinkup(self, body: Any, links: Links) -> tuple[int, Any]:
        fixture, created = factory.present_devices(self.backend, body)
        with self.backend.lock:
            target = self.backend.t["devicegroup"][fixture["devicegroup"]]["dut_target"]
            waiting = [d["id"] for d in factory.waiting(self.backend, fixture["id"])]
        meta = {"fixture": fixture["id"], "dut_target": target, "waiting": waiting}
        return 201, {"data": [self._render("device", d, links) for d in created], "meta": meta}

    def end_user_blinkup(self, body: Any, links: Links, device: str) -> tuple[int, Any]:
        dev = factory.end_user_blinkup(self.backend, device, body)
        return 200, {"data": self._render("device", dev, links)}

    def webhook_deliveries(self, body: Any, links: Links) -> tuple[int, Any]:
        return 200, {"data": webhooks.deliveries(self.backend)}

    def status(self, body: Any, links: Links) -> tuple[int, Any]:
        runner = self.backend.runner
        name = {"SquirrelRunner": "squirrel", "LiteralRunner": "literal"}.get(
            type(runner).__name__, type(runner).__name__
        )
        meta = {"simulator": "imptsh-sim", "runner": name, "speed": getattr(runner, "speed", 1.0)}
        return 200, {"meta": meta}

    def tick(self, body: Any, links: Links) -> tuple[int, Any]:
        self.backend.tick()
        return 200, {"meta": {"tick": True}}


_ROUTES = [
    Route("POST", "reset", Control.reset, auth=False),
    Route("POST", "devices", Control.seed_devices, auth=False),
    Route("POST", "devices/*/logs", Control.inject_logs, auth=False),
    Route("POST", "devices/*/online", Control.online, auth=False),
    Route("POST", "devices/*/offline", Control.offline, auth=False),
    Route("POST", "devices/*/clock", Control.clock, auth=False),
    Route("POST", "accounts", Control.seed_account, auth=False),
    Route("POST", "collaborators", Control.add_collaborator, auth=False),
    Route("GET", "stats", Control.show_stats, auth=False),
    Route("GET", "faults", Control.show_faults, auth=False),
    Route("POST", "faults", Control.add_faults, auth=False),
    Route("DELETE", "faults", Control.clear_faults, auth=False),
    Route("POST", "tick", Control.tick, auth=False),
    Route("GET", "status", Control.status, auth=False),
    Route("POST", "factory/blinkup", Control.factory_blinkup, auth=False),
    Route("POST", "devices/*/blinkup", Control.end_user_blinkup, auth=False),
    Route("GET", "webhooks/deliveries", Control.webhook_deliveries, auth=False),
    Route("POST", "zombies", Control.create_zombie, auth=False),
]
