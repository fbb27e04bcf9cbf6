"""The code-runner seam: how the backend has device and agent code run.

The backend never runs device code itself. It owns one :class:`CodeRunner` and calls it at
the points of a device's life cycle (after the transaction that decided them committed); the
runner reports what the code does through the :class:`RunnerCallbacks` it was bound to.

:class:`LiteralRunner` is the runner used when no Squirrel VM is available: Squirrel is not
executed; a running device periodically emits the string literals of the *top-level*
``server.log("...")`` calls of its device code (as ``server.log`` lines) and of its agent
code (as ``agent.log`` lines).
"""

from __future__ import annotations

import re
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_PERIOD = 5.0  # seconds of device time between two emissions of the literals
MAX_PERIODS_PER_ADVANCE = 1000  # a device keeps no more log history than this anyway


@dataclass(frozen=True)
class CodeError:
    """One compile problem, as impCentral reports it in an error's `meta` list."""

    file: str  # "device_code" or "agent_code"
    row: int
    column: int
    text: str  # the compiler's message
    type: str = "error"


@dataclass(frozen=True)
class DeviceCode:
    """What one device runs: identity and the deployment's code."""

    device_id: str
    mac_address: str
    agent_id: str
    deployment_id: str
    device_code: str
    agent_code: str
    dg_id: str
    dg_type: str  # e.g. "development_devicegroup", "pre_factoryfixture_devicegroup"
    reason: str = "restart"  # "new_code" | "restart" | "online" (why it (re)starts)
    extra: dict[str, Any] = field(default_factory=dict)  # room for factory data later


@dataclass
class RunnerCallbacks:
    """Thread-safe entry points into the backend, callable from any runner thread."""

    log: Callable[[str, str, str], None]  # (device_id, log_type, message): history + streams
    factory: Callable[[str, str, dict[str, Any]], Any] | None = None  # (device_id, event, data)


class CodeRunner(Protocol):
    """What runs device and agent code. A runner may also offer
    ``start_many(codes: list[DeviceCode])``: ``start`` for several devices at once (see
    :func:`start_all`)."""

    def bind(self, callbacks: RunnerCallbacks) -> None: ...
    def compile_errors(self, device_code: str, agent_code: str) -> list[CodeError]: ...
    def start(self, code: DeviceCode) -> None: ...  # (re)start the device's and agent's code
    def stop(self, device_id: str) -> None: ...  # unassigned, offline, deleted
    def agent_request(
        self,
        agent_id: str,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]: ...
    def advance_clock(self, device_id: str, seconds: float) -> None: ...  # tests: fire timers
    def running(self) -> dict[str, str]: ...  # device_id -> deployment_id
    def close(self) -> None: ...


def start_all(runner: CodeRunner, codes: list[DeviceCode]) -> None:
    """Start several devices' code: in one call when the runner offers ``start_many``."""
    start_many = getattr(runner, "start_many", None)
    if start_many is not None and len(codes) > 1:
        start_many(codes)
        return
    for code in codes:
        runner.start(code)


# ---------------------------------------------------------------------------------------
# source scanning (no Squirrel parser: just enough lexing to skip comments and strings)
# ---------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "0": "\0"}
_CALL = re.compile(r"server\.log\s*\(\s*$")


def _read_string(src: str, i: int) -> tuple[str, int]:
    """Read a Squirrel string literal starting at ``src[i] == '"'``; return (value, end)."""
    out: list[str] = []
    i += 1
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n:
            out.append(_ESCAPES.get(src[i + 1], src[i + 1]))
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise ValueError("unterminated string")


def _read_verbatim(src: str, i: int) -> int:
    """Skip a verbatim string ``@"..."`` starting at ``src[i] == '@'``; return end."""
    i += 2
    n = len(src)
    while i < n:
        if src[i] == '"':
            if i + 1 < n and src[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    return n


def log_literals(source: str) -> list[str]:
    """String literals of top-level ``server.log("literal")`` calls, in source order.

    Top level means outside any ``{...}`` block (functions, classes, tables). Only calls
    whose single argument is one plain string literal count. Comments and strings are
    skipped correctly, so commented-out calls are ignored.
    """
    found: list[str] = []
    depth = 0
    i = 0
    n = len(source)
    code: list[str] = []  # code text since the last statement boundary at depth 0
    while i < n:
        ch = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/" or ch == "#":
            j = source.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "/" and nxt == "*":
            j = source.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if ch == "@" and nxt == '"':
            i = _read_verbatim(source, i)
            code.append(" S ")
            continue
        if ch == '"':
            try:
                value, end = _read_string(source, i)
            except ValueError:
                return found
            if depth == 0 and _CALL.search("".join(code[-40:])):
                if re.match(r"\s*\)", source[end:]):
                    found.append(value)
            code.append(" S ")
            i = end
            continue
        if ch == "'":
            j = source.find("'", i + 2)
            i = n if j < 0 else j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        code.append(ch)
        if len(code) > 64:
            del code[:32]
        i += 1
    return found


def has_shutdown_handler(device_code: str) -> bool:
    """Whether device code registers ``server.onshutdown`` (it then decides when to restart
    on SHUTDOWN_NEWSQUIRREL; without a handler the imp OS restarts at once)."""
    return "server.onshutdown" in device_code


# ---------------------------------------------------------------------------------------
# the literal runner
# ---------------------------------------------------------------------------------------


@dataclass
class _Running:
    code: DeviceCode
    lines: list[tuple[str, str]]  # (log type, message) emitted once per period
    since_emit: float = 0.0  # device seconds since the last emission


class _Clock(threading.Thread):
    """Calls ``tick`` every ``interval`` seconds of wall time until stopped."""

    def __init__(self, tick: Callable[[], None], interval: float) -> None:
        super().__init__(name="imptsh-sim-devices", daemon=True)
        self._tick = tick
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the clock must never die
                traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        self._stop_event.set()


class LiteralRunner:
    """Echoes the ``server.log`` literals of running code every ``interval`` seconds.

    ``interval`` <= 0 means device time only moves through :meth:`advance_clock` (and
    :meth:`tick`), with a period of :data:`DEFAULT_PERIOD` seconds. Device time runs
    ``speed`` times faster than the wall clock (one emission every ``interval / speed``
    seconds).
    """

    def __init__(self, interval: float = DEFAULT_PERIOD, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        self.period = interval if interval > 0 else DEFAULT_PERIOD
        self.speed = float(speed)
        self._realtime = interval > 0
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._literals: dict[str, list[tuple[str, str]]] = {}  # by deployment id
        self._callbacks: RunnerCallbacks | None = None
        self._clock: _Clock | None = None

    def bind(self, callbacks: RunnerCallbacks) -> None:
        self._callbacks = callbacks
        if self._realtime and self._clock is None:
            self._clock = _Clock(self.tick, self.period / self.speed)
            self._clock.start()

    def compile_errors(self, device_code: str, agent_code: str) -> list[CodeError]:
        return []

    def start(self, code: DeviceCode) -> None:
        with self._lock:
            lines = self._literals.get(code.deployment_id)
            if lines is None:
                lines = [("server.log", m) for m in log_literals(code.device_code)]
                lines += [("agent.log", m) for m in log_literals(code.agent_code)]
                self._literals[code.deployment_id] = lines
            self._running[code.device_id] = _Running(code, lines)

    def stop(self, device_id: str) -> None:
        with self._lock:
            self._running.pop(device_id, None)

    def agent_request(
        self,
        agent_id: str,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"no HTTP handler"

    def advance_clock(self, device_id: str, seconds: float) -> None:
        self._advance([device_id], seconds)

    def tick(self) -> None:
        """One period of device time for every running device."""
        with self._lock:
            devices = list(self._running)
        self._advance(devices, self.period)

    def running(self) -> dict[str, str]:
        with self._lock:
            return {d: r.code.deployment_id for d, r in self._running.items()}

    def close(self) -> None:
        if self._clock is not None:
            self._clock.stop()
            self._clock.join(timeout=5)
            self._clock = None
        with self._lock:
            self._running.clear()

    def _advance(self, devices: list[str], seconds: float) -> None:
        if seconds <= 0:
            return
        out: list[tuple[str, str, str]] = []
        with self._lock:
            for device_id in devices:
                run = self._running.get(device_id)
                if run is None:
                    continue
                run.since_emit += seconds
                periods = int(run.since_emit / self.period + 1e-9)
                run.since_emit = max(0.0, run.since_emit - periods * self.period)
                for _ in range(min(periods, MAX_PERIODS_PER_ADVANCE)):
                    out.extend((device_id, typ, msg) for typ, msg in run.lines)
        if out and self._callbacks is not None:
            for device_id, typ, msg in out:
                self._callbacks.log(device_id, typ, msg)
