"""Log stream objects shared by the backend (producers) and the SSE writer (consumer)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

# Events queued on a stream: ("message", line dict) or ("state_change", state dict).
Event = tuple[str, dict[str, Any]]

MAX_QUEUED_EVENTS = 100_000


class LogStream:
    """One server-side log stream: subscribed devices plus a queue of pending events.

    At most one SSE connection consumes a stream at a time. Attaching a new connection
    bumps ``generation``; the previous writer notices and ends its response.
    """

    def __init__(self, stream_id: str, account_id: str) -> None:
        self.id = stream_id
        self.account_id = account_id
        self.devices: list[str] = []  # ordered by time added (oldest first)
        self.created = time.monotonic()
        self._events: deque[Event] = deque()
        self._cond = threading.Condition()
        self.generation = 0
        self.ended = False  # a final "closed" event has been queued
        self.dropped = False  # connection dropped without a closed event (fault injection)

    # -- producer side -------------------------------------------------------------------
    def push(self, events: list[Event]) -> None:
        with self._cond:
            if self.ended or self.dropped:
                return
            self._events.extend(events)
            overflow = len(self._events) - MAX_QUEUED_EVENTS
            for _ in range(max(0, overflow)):
                self._events.popleft()
            self._cond.notify_all()

    def close(self) -> None:
        """Queue the final ``closed`` state change; the writer ends the response after it."""
        with self._cond:
            if self.ended or self.dropped:
                return
            self._events.append(("state_change", {"state": "closed"}))
            self.ended = True
            self._cond.notify_all()

    def drop(self) -> None:
        """End any connection abruptly, without a ``closed`` event."""
        with self._cond:
            self.dropped = True
            self._events.clear()
            self._cond.notify_all()

    # -- consumer side -------------------------------------------------------------------
    def attach(self) -> int:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()
            return self.generation

    def wait(self, generation: int, timeout: float) -> tuple[list[Event], bool]:
        """Return (events, finished). ``finished`` means: write the events, then end."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.dropped or generation != self.generation:
                    return [], True
                if self._events:
                    events = list(self._events)
                    self._events.clear()
                    return events, self.ended
                if self.ended:
                    return [], True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [], False
                self._cond.wait(remaining)

    def requeue_front(self, events: list[Event]) -> None:
        """Put back events a writer could not deliver (connection broke mid-write)."""
        with self._cond:
            if not self.dropped:
                self._events.extendleft(reversed(events))


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def format_events(events: list[Event], fmt: str) -> bytes:
    """Render events with exact SSE framing: ``field: value\\n`` lines, blank line after."""
    parts: list[str] = []
    append = parts.append
    for name, payload in events:
        if fmt == "json":
            if name == "message":
                data = _dumps(
                    {
                        "device_id": payload["device_id"],
                        "ts": payload["ts"],
                        "type": payload["type"],
                        "msg": payload["msg"],
                    }
                )
            else:
                data = _dumps(payload)
            append(f"event: {name}\ndata: {data}\n\n")
            continue
        if name == "message":
            text = (
                f"{payload['device_id']} {payload['ts']} {payload['env']} "
                f"{payload['type']} {payload['msg']}"
            )
        else:
            state = payload["state"]
            text = f"{payload['device_id']} {state}" if "device_id" in payload else state
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        append(f"event: {name}\n")
        for line in lines:
            append(f"data: {line}\n")
        append("\n")
    return "".join(parts).encode("utf-8")
