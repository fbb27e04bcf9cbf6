"""A code runner that records how the backend calls it (for the runner-seam tests)."""

from __future__ import annotations

import threading
from typing import Any

from imptsh.sim.runner import CodeError, DeviceCode, RunnerCallbacks

AGENT_ANSWER = (201, {"Content-Type": "application/json", "X-Agent": "recorded"}, b'{"ok":1}')


class RecordingRunner:
    """Records every call; ``start`` logs one ``started <deployment>`` line through the
    callbacks (as a real runner's code would), ``advance_clock`` one ``clock <seconds>`` line;
    ``compile_errors`` returns whatever ``problems`` holds."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.problems: list[CodeError] = []
        self.callbacks: RunnerCallbacks | None = None
        self.closed = False
        self._running: dict[str, str] = {}
        self._lock = threading.Lock()

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    def starts(self) -> list[DeviceCode]:
        return [c[1] for c in self.named("start")]

    def forget(self) -> None:
        with self._lock:
            self.calls.clear()

    def bind(self, callbacks: RunnerCallbacks) -> None:
        self.callbacks = callbacks
        self.calls.append(("bind",))

    def compile_errors(self, device_code: str, agent_code: str) -> list[CodeError]:
        self.calls.append(("compile_errors", device_code, agent_code))
        return list(self.problems)

    def start(self, code: DeviceCode) -> None:
        with self._lock:
            self.calls.append(("start", code))
            self._running[code.device_id] = code.deployment_id
        assert self.callbacks is not None
        self.callbacks.log(code.device_id, "server.log", f"started {code.deployment_id}")

    def stop(self, device_id: str) -> None:
        with self._lock:
            self.calls.append(("stop", device_id))
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
        self.calls.append(("agent_request", agent_id, method, path, query, headers, body))
        return AGENT_ANSWER

    def advance_clock(self, device_id: str, seconds: float) -> None:
        self.calls.append(("advance_clock", device_id, seconds))
        assert self.callbacks is not None
        self.callbacks.log(device_id, "server.log", f"clock {seconds:g}")

    def running(self) -> dict[str, str]:
        with self._lock:
            return dict(self._running)

    def close(self) -> None:
        self.closed = True
        self.calls.append(("close",))
