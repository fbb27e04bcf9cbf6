"""One worker process: device or agent code on its own Squirrel VM, with an imp's event loop.

The runner sends *ops* (load the code, deliver a message or an HTTP request, advance the clock,
...); the host answers with *events* (log lines, messages for the other side, HTTP responses,
acknowledgements). Everything the code does happens in handlers run from this loop; each call
into the VM is bracketed in the busy table so that the runner's watchdog can stop a handler that
never returns. An uncaught error logs the error and its location, then restarts the code after a
back-off, as an imp does.
"""

from __future__ import annotations

import heapq
import itertools
import select
import socket
import time
from importlib import resources
from typing import Any

from . import frames
from .busy import BusySlot
from .compiler import CompileProblem, compile_source
from .natives import Natives
from .values import to_literal, to_transit

WAKEREASON = {"power_on": 0, "timer": 1, "new_squirrel": 4, "squirrel_error": 5, "sw_restart": 10}
REASON_WAKE = {"new_code": "new_squirrel", "online": "power_on", "restart": "sw_restart"}
RESET_AFTER = 60.0  # seconds of crash-free running that forgive earlier crashes
MAX_BACKOFF = 60.0
BATCH = 1000  # handlers run between two looks at the socket
ADVANCE_BATCH = 100000  # events an advance_clock may step through before it acknowledges

_PRELUDE_CACHE: dict[str, bytes] = {}


def prelude(side: str) -> bytes:
    """The compiled imp API for ``side`` ("device" or "agent"), compiled once per process."""
    if side not in _PRELUDE_CACHE:
        package = resources.files(__package__)
        source = (package / "prelude_common.nut").read_text() + "\n"
        source += (package / f"prelude_{side}.nut").read_text()
        result = compile_source(source, "imp_prelude")
        if isinstance(result, CompileProblem):
            raise RuntimeError(f"the imp API does not compile: {result}")
        _PRELUDE_CACHE[side] = result
    return _PRELUDE_CACHE[side]


def backoff(crashes: int) -> float:
    return min(MAX_BACKOFF, float(2 ** max(0, crashes - 1)))


class Clock:
    """A device's clock: real time, sped up by ``speed``, moved on by ``offset`` seconds."""

    def __init__(self, epoch: float, mono: float, speed: float, offset: float) -> None:
        self.epoch, self.mono, self.speed, self.offset = epoch, mono, speed, offset

    def now(self) -> float:
        return self.epoch + (time.monotonic() - self.mono) * self.speed + self.offset

    def wall(self, seconds: float) -> float:
        return max(0.0, seconds) / self.speed


class CodeHost:
    """The event loop and life cycle of one side's code."""

    def __init__(self, sock: socket.socket, busy: BusySlot) -> None:
        self.sock = sock
        self.busy = busy
        self.reader = frames.FrameReader()
        self.config: dict[str, Any] = {}
        self.clock = Clock(time.time(), time.monotonic(), 1.0, 0.0)
        self.booted = self.clock.now()
        self.vm: Any = None
        self.dispatch: dict[str, Any] = {}
        self.bytecode: bytes | None = None
        self.timers: dict[int, float] = {}
        self.heap: list[tuple[float, int, int]] = []
        self.order = itertools.count()
        self.start_due: float | None = None
        self.start_status: str | None = None
        self.idle_pending = False
        self.unhandled_set = False
        self.in_unhandled = False
        self.error: tuple[str, list[tuple[str, int]]] | None = None
        self.control: str | None = None
        self.sleep_seconds = 0.0
        self.nv: Any = None
        self.crashes = 0
        self.started_at = 0.0
        self.wakereason = WAKEREASON["power_on"]
        self.open_requests: set[int] = set()
        self.factory_seq = 0
        self.device_connected = False

    # --- identity -------------------------------------------------------------------------
    @property
    def side(self) -> str:
        return self.config.get("side", "device")

    @property
    def source_name(self) -> str:
        return f"{self.side}_code"

    @property
    def title(self) -> str:
        return "Device" if self.side == "device" else "Agent"

    # --- events to the runner -------------------------------------------------------------
    def emit(self, message: dict[str, Any]) -> None:
        frames.send_blocking(self.sock, message)

    def log(self, kind: str, text: str) -> None:
        prefix = "server" if self.side == "device" else "agent"
        self.emit({"t": "log", "type": f"{prefix}.{kind}", "msg": text})

    def status(self, text: str) -> None:
        self.emit({"t": "log", "type": "status", "msg": text})

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            ready = select.select([self.sock], [], [], self.next_wait())[0]
            if ready:
                try:
                    data = self.sock.recv(1 << 16)
                except OSError:  # the runner has gone (or dropped this worker)
                    return
                if not data:
                    return
                for message in self.reader.feed(data):
                    self.handle(message)
            self.run_due(BATCH)
            if self.idle_pending and not self.due() and not self.input_waiting():
                self.run_idle()

    def next_wait(self) -> float | None:
        if self.idle_pending:
            return 0.0
        dues = [due for due in (self.start_due, self.heap[0][0] if self.heap else None) if due]
        if not dues:
            return None
        return self.clock.wall(min(dues) - self.clock.now())

    def input_waiting(self) -> bool:
        return bool(select.select([self.sock], [], [], 0)[0])

    def due(self) -> bool:
        now = self.clock.now()
        if self.start_due is not None and self.start_due <= now:
            return True
        return bool(self.heap) and self.heap[0][0] <= now

    def run_due(self, limit: int) -> None:
        for _ in range(limit):
            now = self.clock.now()
            timer_due = self.heap[0][0] if self.heap else None
            if (
                self.start_due is not None
                and self.start_due <= now
                and (timer_due is None or self.start_due <= timer_due)
            ):
                self.start_due = None
                self.start_code()
                continue
            if timer_due is None or timer_due > now:
                return
            due, _, handle = heapq.heappop(self.heap)
            if self.timers.get(handle) != due:
                continue
            del self.timers[handle]
            if self.dispatch:
                self.call(self.dispatch["timer"], handle)

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``, stepping from one due event to the next so that each
        handler sees the time it was scheduled for (a 60 s wakeup chain fires every 60 s)."""
        final_offset = self.clock.offset + seconds
        target = self.clock.now() + seconds
        for _ in range(ADVANCE_BATCH):
            dues = [due for due in (self.start_due, self.heap[0][0] if self.heap else None) if due]
            if not dues or min(dues) > target:
                break
            lag = min(dues) - self.clock.now()
            if lag > 0:
                self.clock.offset = min(final_offset, self.clock.offset + lag)
            self.run_due(1)
        self.clock.offset = max(self.clock.offset, final_offset)
        self.run_due(BATCH)

    def run_idle(self) -> None:
        self.idle_pending = False
        if self.dispatch:
            self.call(self.dispatch["idle"])

    # --- ops from the runner --------------------------------------------------------------
    def handle(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "load":
            self.load(message)
        elif op == "message":
            if self.dispatch:
                self.call(self.dispatch["message"], message["name"], to_literal(message["data"]))
        elif op == "http":
            self.http(message)
        elif op == "advance":
            self.advance(float(message["seconds"]))
            self.emit({"t": "ack", "id": message["id"]})
        elif op == "device_state":
            self.device_connected = bool(message["connected"])
            if self.dispatch and "device_state" in self.dispatch:
                self.call(self.dispatch["device_state"], self.device_connected)
        elif op == "factory_result":
            if self.dispatch and "factory" in self.dispatch:
                self.call(self.dispatch["factory"], message["id"], bool(message["result"]))
            # The code has had the answer (its callback ran, or failed): the platform may go on.
            self.emit({"t": "factory_done", "id": message["id"], "result": message["result"]})

    def load(self, message: dict[str, Any]) -> None:
        self.config = message
        clock = message["clock"]
        self.clock = Clock(clock["epoch"], clock["mono"], clock["speed"], clock["offset"])
        self.booted = self.clock.now()
        self.device_connected = bool(message.get("device_connected"))
        self.wakereason = WAKEREASON[message.get("wake", "power_on")]
        result = compile_source(message["code"], self.source_name)
        if isinstance(result, CompileProblem):
            self.log("error", f"ERROR: {result.text}")
            self.log("error", f"ERROR:   at main {self.source_name}:{result.row}")
            return
        self.bytecode = result
        delay = float(message.get("delay", 0.0))
        self.schedule_start(delay, message.get("status"))
        if delay <= 0:
            self.start_due = None
            self.start_code()

    def http(self, message: dict[str, Any]) -> None:
        request_id = message["id"]
        if not self.dispatch:
            self.respond(request_id, 503, "the agent is not running (it is restarting)")
            return
        self.open_requests.add(request_id)
        self.call(
            self.dispatch["http"],
            request_id,
            message["method"],
            message["path"],
            to_literal(message["query"]),
            to_literal(message["headers"]),
            message["body"],
        )

    def respond(self, request_id: int, status: int, body: str) -> None:
        self.open_requests.discard(request_id)
        headers = {"content-type": "text/plain; charset=utf-8"}
        self.emit(
            {"t": "http", "id": request_id, "status": status, "headers": headers, "body": body}
        )

    # --- life cycle -----------------------------------------------------------------------
    def schedule_start(self, delay: float, status: str | None) -> None:
        self.start_due = self.clock.now() + max(0.0, delay)
        self.start_status = status

    def start_code(self) -> None:
        self.teardown()
        if self.bytecode is None:
            return
        import squirrel

        if self.start_status:
            self.status(self.start_status)
        self.start_status = None
        if self.config.pop("wake_event", False):
            self.emit({"t": "wake"})
        vm = squirrel.SQVM()
        Natives(self).bind(vm)
        table = vm.execute_bytecode(prelude(self.side))
        self.nv = None  # handed over to this boot only
        self.vm = vm
        self.dispatch = {key: table[key] for key in table.keys()}
        self.started_at = self.clock.now()
        self.call(vm.execute_bytecode, self.bytecode)

    def teardown(self) -> None:
        for request_id in sorted(self.open_requests):
            self.respond(
                request_id, 500, f"the agent stopped before answering ({self.title} restart)"
            )
        self.dispatch = {}
        self.vm = None
        self.timers.clear()
        self.heap.clear()
        self.idle_pending = False
        self.unhandled_set = False

    def call(self, function: Any, *args: Any) -> bool:
        """Run one handler; on an uncaught error log it and restart (or sleep, or reset)."""
        self.error = None
        self.control = None
        self.busy.enter()
        try:
            function(*args)
            failure: Exception | None = None
        except Exception as exc:  # noqa: BLE001 - every failure of the code is reported
            failure = exc
        finally:
            self.busy.leave()
        if self.control:
            self.take_control()
            return False
        if failure is None:
            return True
        message, frames_ = self.error or (describe(failure), [])
        if self.unhandled_set and not self.in_unhandled and self.dispatch:
            self.in_unhandled = True
            try:
                if self.call(self.dispatch["unhandled"], message):
                    return False
            finally:
                self.in_unhandled = False
            return False
        self.crash(message, frames_)
        return False

    def crash(self, message: str, frames_: list[tuple[str, int]]) -> None:
        self.log("error", f"ERROR: {message}")
        for index, (function, line) in enumerate(frames_):
            word = "at" if index == 0 else "from"
            self.log("error", f"ERROR:   {word} {function} {self.source_name}:{line}")
        self.teardown()
        now = self.clock.now()
        if now - self.started_at >= RESET_AFTER:
            self.crashes = 0
        self.crashes += 1
        self.wakereason = WAKEREASON["squirrel_error"]
        self.schedule_start(backoff(self.crashes), f"{self.title} restarted: runtime error.")

    def take_control(self) -> None:
        """The code called ``server.sleepfor()`` or ``server.restart()``: neither returns."""
        control, self.control = self.control, None
        self.nv = self.keep_nv() if control == "sleep" else None
        self.teardown()
        if control == "sleep":
            until = time.gmtime(self.clock.now() + self.sleep_seconds)
            self.emit(
                {
                    "t": "log",
                    "type": "server.sleep",
                    "msg": time.strftime("sleeping until %Y-%m-%dT%H:%M:%SZ", until),
                }
            )
            self.emit({"t": "sleep"})
            self.wakereason = WAKEREASON["timer"]
            self.schedule_start(self.sleep_seconds, None)
            self.config["wake_event"] = True
        else:
            self.wakereason = WAKEREASON["sw_restart"]
            self.schedule_start(0.0, f"{self.title} restarted: server.restart().")

    def keep_nv(self) -> Any:
        """The ``nv`` table survives deep sleep (and nothing else), as on an imp."""
        try:
            return to_transit(self.vm.get_roottable()["nv"])
        except Exception:  # noqa: BLE001 - no nv table, or one holding uncopyable values
            return None


def describe(failure: Exception) -> str:
    if isinstance(failure, UnicodeDecodeError):
        return "a string handed to the imp API is not valid UTF-8 text"
    return str(failure) or type(failure).__name__


def child_main(sock: socket.socket, busy: BusySlot) -> None:
    """Entry point of a code worker process (forked by the zygote)."""
    CodeHost(sock, busy).run()
