"""``SquirrelRunner``: the simulator's code runner on real Squirrel VMs (see imptsh/sim/README.md).

It implements the ``CodeRunner`` contract on top of ``WorkerSupervisor``. Everything here is
thread-safe; no public method holds a lock while it waits for a worker, and the only ones that
wait at all (``compile_errors``, ``agent_request``, ``advance_clock``) wait for a bounded time.
"""

from __future__ import annotations

import time
import urllib.parse

from ..runner import CodeError, DeviceCode, RunnerCallbacks
from . import unavailable_reason
from .supervisor import FAILED, TEXT, Device, Side, WorkerSupervisor
from .values import from_python
from .zygote import ZygoteError

SPAWN_BATCH = 64  # workers forked per exchange with the zygote (file descriptors in flight)


class SquirrelRunner(WorkerSupervisor):
    """Runs deployed device and agent code; see the ``CodeRunner`` contract."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        handler_timeout: float = 2.0,
        request_timeout: float = 10.0,
        compile_timeout: float = 10.0,
        memory_limit_mb: int = 512,
    ) -> None:
        for name, value in (
            ("speed", speed),
            ("handler_timeout", handler_timeout),
            ("request_timeout", request_timeout),
            ("compile_timeout", compile_timeout),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if not memory_limit_mb >= 0:
            raise ValueError(
                f"memory_limit_mb must be 0 (no limit) or more, not {memory_limit_mb!r}"
            )
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.request_timeout = float(request_timeout)
        self.compile_timeout = float(compile_timeout)
        super().__init__(speed, handler_timeout, memory_limit_mb)

    # --- the contract ---------------------------------------------------------------------
    def bind(self, callbacks: RunnerCallbacks) -> None:
        self._callbacks = callbacks

    def compile_errors(self, device_code: str, agent_code: str) -> list[CodeError]:
        with self._lock:
            compiler = self._compiler
        if compiler is None:
            compiler = self._spawn("", "compiler")
            with self._lock:
                if self._compiler is None:
                    self._compiler = compiler
                else:
                    self._retire(compiler)
                    compiler = self._compiler
        wait = self._new_wait(compiler)
        message = {
            "op": "compile",
            "id": wait.id,
            "device_code": device_code,
            "agent_code": agent_code,
        }
        self._send(compiler, message)
        value = wait.get(self.compile_timeout)
        if value is None or value is FAILED:
            with self._lock:
                if self._compiler is compiler:
                    self._compiler = None
                self._retire(compiler)
            text = f"the Squirrel compiler did not answer within {self.compile_timeout:g} s"
            return [CodeError("device_code", 1, 1, text)]
        return [
            CodeError(error["file"], error["row"], error["column"], error["text"])
            for error in value["errors"]
        ]

    def start(self, code: DeviceCode) -> None:
        self.start_many([code])

    def start_many(self, codes: list[DeviceCode]) -> None:
        """``start`` for several devices, their workers forked in few exchanges with the zygote
        (a group restart of many devices is then not paced by one round trip per device)."""
        started: list[Device] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the Squirrel runner is closed")
            for code in codes:
                old = self._devices.pop(code.device_id, None)
                if old is not None:
                    self._retire_device(old)
                device = Device(code)
                self._devices[code.device_id] = device
                self._agents[code.agent_id] = code.device_id
                started.append(device)
        # Batch by batch: the devices of one batch load their code while the next is forked.
        per_batch = SPAWN_BATCH // 2
        for first in range(0, len(started), per_batch):
            batch = started[first : first + per_batch]
            wanted = [(d.code.device_id, role) for d in batch for role in ("agent", "device")]
            try:
                sides = self._spawn_many(wanted)
            except ZygoteError as exc:
                self._not_started(started[first:], exc)
                return
            with self._lock:
                for index, device in enumerate(batch):
                    self._launch(device, sides[2 * index], sides[2 * index + 1])

    def _not_started(self, devices: list[Device], exc: ZygoteError) -> None:
        with self._lock:
            for device in devices:
                if self._devices.get(device.code.device_id) is device:
                    self._forget(device)
        for device in devices:
            self._log(
                device.code.device_id,
                "server.error",
                f"ERROR: the simulator could not start the code: {exc}",
            )

    def _launch(self, device: Device, agent: Side, dev_side: Side) -> None:
        """Load a started device's code into its two new workers (runner lock held)."""
        code = device.code
        if self._devices.get(code.device_id) is not device:  # restarted or stopped since
            self._retire(agent)
            self._retire(dev_side)
            return
        wake = {"new_code": "new_squirrel", "online": "power_on"}.get(code.reason, "sw_restart")
        now = self._now(code.device_id)
        device.sides = {"agent": agent, "device": dev_side}
        device.started = {"agent": now, "device": now}
        # The agent starts first; the device connects to it once its own code is loaded.
        self._load(device, agent, wake=wake)
        device.connected = True
        self._send(agent, {"op": "device_state", "connected": True})
        self._load(device, dev_side, wake=wake)

    def stop(self, device_id: str) -> None:
        with self._lock:
            device = self._devices.get(device_id)
            if device is not None:
                self._forget(device)

    def agent_request(
        self,
        agent_id: str,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            device = self._devices.get(self._agents.get(agent_id, ""))
            if device is None:
                return 404, dict(TEXT), b"no HTTP handler: this agent is not running\n"
            side = device.sides["agent"]
            if side is None or side.retired or side.ended_at is not None:
                return 503, dict(TEXT), b"the agent is restarting\n"
            wait = self._new_wait(side)
            self._send(
                side,
                {
                    "op": "http",
                    "id": wait.id,
                    "method": method.upper(),
                    "path": path or "/",
                    "query": from_python(
                        dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                    ),
                    "headers": from_python({str(k).lower(): str(v) for k, v in headers.items()}),
                    "body": body.decode("utf-8", "replace"),
                },
            )
        value = wait.get(self.request_timeout)
        if value is None:
            self._drop_wait(side, wait.id)
            text = f"the agent did not answer within {self.request_timeout:g} s\n"
            return 504, dict(TEXT), text.encode()
        if value is FAILED:
            return 500, dict(TEXT), b"the agent stopped before answering\n"
        answer_headers = {str(k): str(v) for k, v in value["headers"].items()}
        if not any(k.lower() == "content-type" for k in answer_headers):
            answer_headers.update(TEXT)
        return int(value["status"]), answer_headers, str(value["body"]).encode("utf-8")

    def advance_clock(self, device_id: str, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward: {seconds!r} seconds")
        waits = []
        with self._lock:
            self._offsets[device_id] = self._offsets.get(device_id, 0.0) + seconds
            device = self._devices.get(device_id)
            for side in device.sides.values() if device else ():
                if side is not None and not side.retired and side.ended_at is None:
                    wait = self._new_wait(side)
                    self._send(side, {"op": "advance", "id": wait.id, "seconds": seconds})
                    waits.append((side, wait))
        deadline = time.monotonic() + max(10.0, 5 * self.handler_timeout)
        for side, wait in waits:
            if wait.get(max(0.0, deadline - time.monotonic())) is None:
                self._drop_wait(side, wait.id)

    def running(self) -> dict[str, str]:
        with self._lock:
            return {key: device.code.deployment_id for key, device in self._devices.items()}

    def workers(self) -> dict[str, dict[str, int]]:
        """Process ids of the live workers: device_id -> {"device": pid, "agent": pid}."""
        with self._lock:
            return {
                key: {
                    role: side.worker.pid
                    for role, side in device.sides.items()
                    if side is not None and side.ended_at is None
                }
                for key, device in self._devices.items()
            }

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for device in list(self._devices.values()):
                self._forget(device)
            if self._compiler is not None:
                self._retire(self._compiler)
                self._compiler = None
            for wait in self._waits.values():
                wait.resolve(FAILED)
            self._waits.clear()
        self._shut_down()

    def __enter__(self) -> SquirrelRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
