"""Supervising the worker processes that run device and agent code.

Each device's code and each agent's code runs in a worker process of its own (forked by the
zygote), so that code which never returns control only ever stalls itself: the watchdog kills a
worker whose handler has run for ``handler_timeout`` seconds, logs the error and starts the code
again on a fresh worker after a back-off; a worker that dies is restarted the same way. Frames
from workers are handled on the I/O thread, callbacks into the simulator run on the dispatcher
thread (see ``eventloop``). ``SquirrelRunner`` (``runner.py``) is the public face of this.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from ..runner import DeviceCode, RunnerCallbacks
from .busy import BusyTable
from .eventloop import Connection, Dispatcher, IoLoop
from .frames import FrameReader, LineReader
from .host import RESET_AFTER, backoff
from .values import NotCopyable, from_python, to_python
from .zygote import Worker, Zygote, ZygoteError

ROLES = ("agent", "device")
TEXT = {"content-type": "text/plain; charset=utf-8"}
FAILED = object()


def is_factory_group(dg_type: str) -> bool:
    """Factory fixture and device-under-test groups run factory firmware."""
    return "factory" in dg_type or "dut" in dg_type


def default_agent_url(agent_id: str) -> str:
    return f"https://agent.electricimp.com/{agent_id}"


class Wait:
    """An answer a caller is waiting for (an HTTP response, an acknowledgement, a compile)."""

    def __init__(self, wait_id: int) -> None:
        self.id = wait_id
        self._event = threading.Event()
        self.value: Any = None

    def resolve(self, value: Any) -> None:
        self.value = value
        self._event.set()

    def get(self, timeout: float) -> Any:
        return self.value if self._event.wait(timeout) else None


@dataclass(eq=False)
class Side:
    """One worker process: a device's code, an agent's code, or the compiler."""

    device_id: str
    role: str
    worker: Worker
    slot: int
    generation: int
    conn: Connection | None = None
    retired: bool = False
    kill_reason: str | None = None
    ended_at: float | None = None
    status: int | None = None
    waits: set[int] = field(default_factory=set)
    blessings: dict[int, bool] = field(default_factory=dict)  # answered, not yet handled


@dataclass(eq=False)
class Device:
    """A started device: its code, its two workers (None while one restarts), crash counts."""

    code: DeviceCode
    sides: dict[str, Side | None] = field(default_factory=lambda: dict.fromkeys(ROLES))
    crashes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    started: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 0.0))
    connected: bool = False


class WorkerSupervisor:
    """Worker processes, their life cycle and their traffic; thread-safe."""

    def __init__(self, speed: float, handler_timeout: float, memory_limit_mb: int) -> None:
        self.speed = float(speed)
        self.handler_timeout = float(handler_timeout)
        self._callbacks = RunnerCallbacks(log=lambda *_: None)
        self._lock = threading.RLock()
        self._devices: dict[str, Device] = {}
        self._agents: dict[str, str] = {}
        self._offsets: dict[str, float] = {}
        self._saved: dict[str, Any] = {}
        self._pids: dict[int, Side] = {}
        self._ending: list[Side] = []
        self._waits: dict[int, Wait] = {}
        self._ids = itertools.count(1)
        self._compiler: Side | None = None
        self._closed = False
        self._epoch, self._mono = time.time(), time.monotonic()
        self._busy = BusyTable()
        self._dispatcher = Dispatcher()
        self._io = IoLoop(self._tick)
        self._zygote = Zygote(
            self._busy.fd, memory_limit_mb * 2**20, on_launch=self._zygote_launched
        )
        try:
            self._zygote.start()
        except ZygoteError:
            self._shut_down()
            raise

    def _shut_down(self) -> None:
        self._zygote.close()
        self._io.stop()
        self._dispatcher.stop()
        self._busy.close()

    # --- workers --------------------------------------------------------------------------
    def _spawn(self, device_id: str, role: str) -> Side:
        return self._spawn_many([(device_id, role)])[0]

    def _spawn_many(self, wanted: list[tuple[str, str]]) -> list[Side]:
        """New workers, one per (device id, role), forked in one exchange with the zygote
        (never called with the runner lock held: it talks to the zygote)."""
        if self._closed:
            raise ZygoteError("the Squirrel runner is closed")
        roles = [role for _, role in wanted]
        slots = [self._busy.allocate() if role != "compiler" else -1 for role in roles]
        requests = [
            ("compiler" if role == "compiler" else "host", slot)
            for role, slot in zip(roles, slots, strict=True)
        ]
        try:
            workers = self._zygote.spawn_many(requests)
        except ZygoteError:
            for slot in slots:
                if slot >= 0:
                    self._busy.release(slot)
            raise
        sides = []
        for (device_id, role), slot, worker in zip(wanted, slots, workers, strict=True):
            side = Side(device_id, role, worker, slot, self._zygote.generation)
            with self._lock:
                self._pids[worker.pid] = side
            side.conn = self._io.add(worker.sock, FrameReader(), self._on_frame, self._on_end, side)
            sides.append(side)
        return sides

    def _load(
        self,
        device: Device,
        side: Side,
        *,
        wake: str,
        delay: float = 0.0,
        status: str | None = None,
        announce: bool = False,
    ) -> None:
        code = device.code
        try:
            configparams = from_python(code.extra.get("configparams") or {})
        except NotCopyable:
            configparams = from_python({})
        message = {
            "op": "load",
            "side": side.role,
            "code": code.device_code if side.role == "device" else code.agent_code,
            "device_id": code.device_id,
            "mac": code.mac_address,
            "agent_id": code.agent_id,
            "agent_url": code.extra.get("agent_url") or default_agent_url(code.agent_id),
            "dg_type": code.dg_type,
            "factory": is_factory_group(code.dg_type),
            "configparams": configparams,
            "clock": {
                "epoch": self._epoch,
                "mono": self._mono,
                "speed": self.speed,
                "offset": self._offsets.get(code.device_id, 0.0),
            },
            "delay": delay,
            "status": status,
            "wake": wake,
            "device_connected": device.connected,
            "saved": self._saved.get(code.device_id),
            "wake_event": announce,
        }
        self._send(side, message)

    def _send(self, side: Side, message: dict[str, Any]) -> None:
        if side.conn is not None:
            self._io.send(side.conn, message)

    def _retire(self, side: Side) -> None:
        """Stop a worker for good: nothing it still sends counts."""
        side.retired = True
        worker = side.worker
        self._io.defer(lambda: (worker.kill(), worker.release()))  # nothing it sends counts now
        if side.conn is not None:
            self._io.close(side.conn)  # after the kill: the worker never sees its socket close
        self._fail_waits(side)

    def _retire_device(self, device: Device) -> None:
        for side in device.sides.values():
            if side is not None:
                self._retire(side)

    def _forget(self, device: Device) -> None:
        device_id = device.code.device_id
        if self._devices.get(device_id) is device:
            del self._devices[device_id]
        if self._agents.get(device.code.agent_id) == device_id:
            del self._agents[device.code.agent_id]
        self._retire_device(device)

    def _zygote_launched(self, exits: Any, generation: int) -> None:
        """A (new) zygote: workers of the previous one are gone without an exit notice."""
        self._io.add(exits, LineReader(), self._on_exit_line, lambda _conn: None)
        with self._lock:
            for pid, side in list(self._pids.items()):
                if side.generation < generation:
                    del self._pids[pid]
                    self._exited(side, None)

    # --- events from workers (I/O thread) -------------------------------------------------
    def _on_frame(self, conn: Connection, message: dict[str, Any]) -> None:
        side: Side = conn.owner
        if side.retired:
            return
        kind = message.get("t")
        if kind == "log":
            self._dispatcher.submit(self._deliver_log, side, message["type"], message["msg"])
        elif kind == "send":
            other = "agent" if side.role == "device" else "device"
            self._to_peer(
                side, other, {"op": "message", "name": message["name"], "data": message["data"]}
            )
        elif kind in ("http", "ack"):
            self._dispatcher.submit(self._resolve, side, message["id"], message)
        elif kind == "compiled":
            self._resolve(side, message["id"], message)
        elif kind == "factory":
            self._dispatcher.submit(self._factory, side, message)
        elif kind == "factory_done":
            self._dispatcher.submit(self._blessed, side, message["id"])
        elif kind == "save":
            with self._lock:
                self._saved[side.device_id] = message["data"]
        elif kind in ("sleep", "wake"):
            self._device_state(side, kind == "wake")

    def _on_end(self, conn: Connection) -> None:
        side: Side = conn.owner
        with self._lock:
            side.ended_at = time.monotonic()
            if side.retired:
                return
            if side.role == "compiler":
                if self._compiler is side:
                    self._compiler = None
                self._fail_waits(side)
                return
            if side.status is not None:
                self._crashed(side)
            else:
                self._ending.append(side)

    def _on_exit_line(self, _conn: Connection, line: str) -> None:
        try:
            pid, status = (int(part) for part in line.split())
        except ValueError:
            return
        with self._lock:
            side = self._pids.pop(pid, None)
            if side is not None:
                self._exited(side, status)

    def _exited(self, side: Side, status: int | None) -> None:
        side.status = status if status is not None else -1
        if side.slot >= 0:
            self._busy.release(side.slot)
            side.slot = -1
        if side in self._ending:
            self._ending.remove(side)
            self._crashed(side)

    def _tick(self) -> None:
        """Watchdog (and workers whose exit notice is late), every 0.1 s on the I/O thread."""
        with self._lock:
            for device in self._devices.values():
                for side in device.sides.values():
                    if (
                        side is None
                        or side.retired
                        or side.kill_reason
                        or side.ended_at is not None
                        or side.slot < 0
                    ):
                        continue
                    if self._busy.busy_for(side.slot) > self.handler_timeout:
                        side.kill_reason = "watchdog"
                        side.worker.kill()
            for side in list(self._ending):
                if side.ended_at is not None and time.monotonic() - side.ended_at > 1.0:
                    self._ending.remove(side)
                    self._crashed(side)

    def _crashed(self, side: Side) -> None:
        """A code worker ended without being asked to: log why, restart it after a back-off."""
        device = self._devices.get(side.device_id)
        side.worker.release()
        if device is None or device.sides.get(side.role) is not side:
            return
        device.sides[side.role] = None
        self._fail_waits(side)
        for blessing in list(side.blessings):
            self._dispatcher.submit(self._blessed, side, blessing, urgent=True)
        role = side.role
        now = self._now(side.device_id)
        if now - device.started[role] >= RESET_AFTER:
            device.crashes[role] = 0
        device.crashes[role] += 1
        delay = backoff(device.crashes[role])
        what = f"{role} code"
        if side.kill_reason == "watchdog":
            reason = "watchdog"
            text = (
                f"ERROR: the {what} ran for more than {self.handler_timeout:g} s without "
                "returning to the event loop, so it was stopped"
            )
        else:
            reason = "crash"
            text = f"ERROR: the {what} crashed the Squirrel VM ({describe_status(side.status)})"
        self._dispatcher.submit(self._deliver_log, side, error_type(role), text, urgent=True)
        if role == "device" and device.connected:
            device.connected = False
            self._to_peer(side, "agent", {"op": "device_state", "connected": False})
        title = "Device" if role == "device" else "Agent"
        status = f"{title} restarted: {reason}."
        self._dispatcher.submit(self._respawn, device, role, delay, status, urgent=True)

    def _respawn(self, device: Device, role: str, delay: float, status: str) -> None:
        device_id = device.code.device_id
        with self._lock:
            if self._devices.get(device_id) is not device or device.sides[role] is not None:
                return
        try:
            side = self._spawn(device_id, role)
        except ZygoteError as exc:
            self._log(
                device_id,
                error_type(role),
                f"ERROR: the simulator could not restart the code: {exc}",
            )
            return
        with self._lock:
            if self._devices.get(device_id) is not device or device.sides[role] is not None:
                self._retire(side)
                return
            device.sides[role] = side
            device.started[role] = self._now(device_id) + delay
            self._load(
                device,
                side,
                wake="squirrel_error",
                delay=delay,
                status=status,
                announce=role == "device",
            )

    def _to_peer(self, side: Side, role: str, message: dict[str, Any]) -> None:
        with self._lock:
            device = self._devices.get(side.device_id)
            if device is None or device.sides.get(side.role) is not side:
                return
            peer = device.sides.get(role)
            if peer is not None and not peer.retired:
                self._send(peer, message)

    def _device_state(self, side: Side, connected: bool) -> None:
        with self._lock:
            device = self._devices.get(side.device_id)
            if device is None or device.sides.get("device") is not side:
                return
            device.connected = connected
        self._to_peer(side, "agent", {"op": "device_state", "connected": connected})

    # --- callbacks (dispatcher thread) ----------------------------------------------------
    def _deliver_log(self, side: Side, log_type: str, text: str) -> None:
        if not side.retired:
            self._callbacks.log(side.device_id, log_type, text)

    def _log(self, device_id: str, log_type: str, text: str) -> None:
        self._dispatcher.submit(self._callbacks_log, device_id, log_type, text, urgent=True)

    def _callbacks_log(self, device_id: str, log_type: str, text: str) -> None:
        self._callbacks.log(device_id, log_type, text)

    def _factory(self, side: Side, message: dict[str, Any]) -> None:
        if side.retired:
            return
        event = message["event"]
        data = to_python(message["data"])
        callback = self._callbacks.factory
        result = bool(data.get("result", True)) if event == "bless" else True
        if callback is not None:
            try:
                answer = callback(side.device_id, event, data)
            except Exception:  # noqa: BLE001 - a failing factory hook fails the blessing
                traceback.print_exc()
                answer = False
            if event == "bless":
                result = bool(answer)
        if event == "bless" and not side.retired:
            side.blessings[message["id"]] = result
            self._send(side, {"op": "factory_result", "id": message["id"], "result": result})

    def _blessed(self, side: Side, blessing: int) -> None:
        """The code has handled a blessing's answer (or its worker ended before it could):
        the platform goes on (a blessed device moves on to its production code)."""
        result = side.blessings.pop(blessing, None)
        callback = self._callbacks.factory
        if result is None or callback is None or side.retired:
            return
        try:
            callback(side.device_id, "blessed", {"result": result})
        except Exception:  # noqa: BLE001 - the platform's hook must not stop the runner
            traceback.print_exc()

    # --- waiting for answers --------------------------------------------------------------
    def _new_wait(self, side: Side) -> Wait:
        with self._lock:
            wait = Wait(next(self._ids))
            self._waits[wait.id] = wait
            side.waits.add(wait.id)
            if side.retired:
                self._fail_waits(side)
            return wait

    def _resolve(self, side: Side, wait_id: int, value: Any) -> None:
        with self._lock:
            side.waits.discard(wait_id)
            wait = self._waits.pop(wait_id, None)
        if wait is not None:
            wait.resolve(value)

    def _drop_wait(self, side: Side, wait_id: int) -> None:
        with self._lock:
            side.waits.discard(wait_id)
            self._waits.pop(wait_id, None)

    def _fail_waits(self, side: Side) -> None:
        for wait_id in list(side.waits):
            self._dispatcher.submit(self._resolve, side, wait_id, FAILED, urgent=True)

    def _now(self, device_id: str) -> float:
        elapsed = (time.monotonic() - self._mono) * self.speed
        return self._epoch + elapsed + self._offsets.get(device_id, 0.0)


def error_type(role: str) -> str:
    return "server.error" if role == "device" else "agent.error"


def describe_status(status: int | None) -> str:
    if status is None or status < 0:
        return "its process ended unexpectedly"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
            return f"{name}: unbounded recursion or running out of memory do this"
        return f"its process was ended by {name}"
    return f"its process exited with status {os.waitstatus_to_exitcode(status)}"
