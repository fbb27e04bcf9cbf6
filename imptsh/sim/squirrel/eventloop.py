"""The runner's threads: one I/O thread for every worker socket, one thread for callbacks.

No public runner method ever waits for a worker while holding a lock: sends are non-blocking
(what a busy worker does not read yet is buffered and written when its socket is writable), and
reads happen only on the I/O thread. Callbacks into the simulator (log lines, factory events,
answers to waiting callers) run on the dispatcher thread in the order the I/O thread saw them,
so a slow callback never stops the I/O thread, and whatever a worker sent before an answer has
been delivered by the time the answer is.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from . import frames

TICK = 0.1
DISPATCH_QUEUE = 50000


class Connection:
    """One socket owned by the I/O thread, with its parser and write buffer."""

    def __init__(
        self,
        sock: socket.socket,
        parser: Any,
        on_item: Callable[[Connection, Any], None],
        on_close: Callable[[Connection], None],
        owner: Any,
    ) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.parser = parser
        self.on_item = on_item
        self.on_close = on_close
        self.owner = owner
        self.out = bytearray()
        self.lock = threading.Lock()
        self.closed = False
        self.writing = False


class IoLoop:
    """The I/O thread: reads frames, flushes buffered writes, runs a periodic tick."""

    def __init__(self, tick: Callable[[], None], name: str = "imptsh-sim-squirrel-io") -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._ops: deque[Callable[[], None]] = deque()
        self._woken = False  # a wake-up is on its way: ops added meanwhile need no other
        self._tick = tick
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- any thread -----------------------------------------------------------------------
    def add(
        self,
        sock: socket.socket,
        parser: Any,
        on_item: Callable[[Connection, Any], None],
        on_close: Callable[[Connection], None],
        owner: Any = None,
    ) -> Connection:
        conn = Connection(sock, parser, on_item, on_close, owner)
        self._call(lambda: self._register(conn))
        return conn

    def send(self, conn: Connection, message: dict[str, Any]) -> None:
        data = frames.encode(message)
        with conn.lock:
            if conn.closed:
                return
            if not conn.out:
                try:
                    data = data[conn.sock.send(data) :]
                except BlockingIOError:
                    pass
                except OSError:
                    return  # the worker is gone; its reader sees the end
            if data:
                conn.out += data
                if not conn.writing:
                    conn.writing = True
                    self._call(lambda: self._watch_writes(conn))

    def close(self, conn: Connection) -> None:
        """Forget a connection now, without its ``on_close`` (what it still holds is dropped)."""
        with conn.lock:
            if conn.closed:
                return
            conn.closed = True
        self._call(lambda: self._drop(conn))

    def stop(self) -> None:
        self._running = False
        self._woken = True
        self._wake()
        self._thread.join(timeout=5)

    def defer(self, op: Callable[[], None]) -> None:
        """Run ``op`` on the I/O thread soon (before it stops, at the latest)."""
        self._call(op)

    def _call(self, op: Callable[[], None]) -> None:
        self._ops.append(op)
        if not self._woken:
            self._woken = True
            self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    # --- the I/O thread -------------------------------------------------------------------
    def _run(self) -> None:
        next_tick = time.monotonic() + TICK
        while self._running:
            timeout = max(0.0, next_tick - time.monotonic())
            for key, mask in self._selector.select(timeout):
                if key.data is None:
                    self._run_ops()
                    continue
                conn = key.data
                if mask & selectors.EVENT_WRITE:
                    self._flush(conn)
                if mask & selectors.EVENT_READ:
                    self._read(conn)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK
                _guard(self._tick)
        self._run_ops()
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                key.data.sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _run_ops(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        # After draining, before running: an op added before this runs below; one added after
        # it sends a wake-up of its own. (Cleared before draining, a wake-up sent in between
        # would be drained while the flag says one is on its way, and later ops would wait.)
        self._woken = False
        while self._ops:
            _guard(self._ops.popleft())

    def _register(self, conn: Connection) -> None:
        if conn.closed:
            conn.sock.close()
            return
        self._selector.register(conn.sock, selectors.EVENT_READ, conn)

    def _watch_writes(self, conn: Connection) -> None:
        if not conn.closed:
            self._selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def _flush(self, conn: Connection) -> None:
        with conn.lock:
            try:
                sent = conn.sock.send(conn.out)
            except BlockingIOError:
                return
            except OSError:
                conn.out.clear()
                sent = 0
            del conn.out[:sent]
            if conn.out:
                return
            conn.writing = False
        if not conn.closed:
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        items: list[Any] = []
        if data:
            try:
                items = conn.parser.feed(data)
            except frames.FrameError:
                traceback.print_exc(file=sys.stderr)
                data = b""
        for item in items:
            if conn.closed:
                return
            _guard(conn.on_item, conn, item)
        if not data:
            with conn.lock:
                already = conn.closed
                conn.closed = True
            self._drop(conn)
            if not already:
                _guard(conn.on_close, conn)

    def _drop(self, conn: Connection) -> None:
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()


class Dispatcher:
    """The callback thread: runs submitted calls one after another, in order.

    ``submit`` from the I/O thread waits while the backlog is full (so a flood of log lines
    slows its worker down instead of growing without bound); ``urgent=True`` never waits, for
    callers that hold the runner's lock.
    """

    def __init__(self, name: str = "imptsh-sim-squirrel-callbacks") -> None:
        self._calls: deque[Callable[[], None] | None] = deque()
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[..., None], *args: Any, urgent: bool = False) -> None:
        with self._ready:
            while not urgent and len(self._calls) >= DISPATCH_QUEUE:
                self._ready.wait(0.1)
            self._calls.append(lambda: call(*args))
            self._ready.notify_all()

    def stop(self) -> None:
        with self._ready:
            self._calls.append(None)
            self._ready.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._calls:
                    self._ready.wait()
                call = self._calls.popleft()
                self._ready.notify_all()
            if call is None:
                return
            _guard(call)


def _guard(call: Callable[..., None], *args: Any) -> None:
    try:
        call(*args)
    except Exception:  # noqa: BLE001 - one failing callback must not stop the thread
        traceback.print_exc(file=sys.stderr)
