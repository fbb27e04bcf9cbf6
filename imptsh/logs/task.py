"""One log task: the devices whose lines it shows, its filter, pause and counters."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .lines import LineStyle, LogLine
from .sink import Sink

RECENT_LINES = 500
RUNNING, PAUSED, RECONNECTING = "running", "paused", "reconnecting"
STOPPED, CLOSED, FAILED = "stopped", "closed", "failed"
ENDED = (STOPPED, CLOSED, FAILED)
OUTPUT_CLOSED = "its output was closed"
"""Why a task failed when writing its lines failed (a pipe whose reader went away)."""


@dataclass(frozen=True)
class TaskSummary:
    """What a status line needs to know about a task; cheap to get, from any thread."""

    id: int
    devices: tuple[str, ...]
    lines: int
    state: str


@dataclass(frozen=True)
class LineFilter:
    """Shows only lines of the given types (any type when empty) whose message matches
    `pattern` (any message when None)."""

    types: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.types) or self.pattern is not None

    def shows(self, line: LogLine) -> bool:
        if self.types and line.type not in self.types:
            return False
        return self.pattern is None or self.pattern.search(line.msg) is not None

    def describe(self) -> str:
        parts = []
        if self.types:
            parts.append("type " + " or ".join(sorted(self.types)))
        if self.pattern is not None:
            parts.append(f"message matching {self.pattern.pattern!r}")
        return ", ".join(parts)


class LogTask:
    def __init__(
        self,
        task_id: int,
        style: LineStyle,
        sink: Callable[[], Sink],
        *,
        foreground: bool = False,
        paused_max_lines: int = 10_000,
    ):
        self.id = task_id
        self.style = style
        self.foreground = foreground
        self._sink = sink
        self._lock = threading.Lock()
        self._devices: tuple[str, ...] = ()
        self._filter = LineFilter()
        self._paused = False
        self._held: deque[str] = deque(maxlen=paused_max_lines)
        self._dropped = 0
        self._received = 0
        self._shown = 0
        self._state = RUNNING
        self._reconnecting = False
        self._watchers: list[tuple[re.Pattern[str] | None, threading.Event]] = []
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT_LINES)
        """(number, message) of the latest lines that passed the filter, for `watch`."""
        self._numbered = 0
        self._consumed = 0
        """Lines up to this number were matched by a `watch` already."""
        self.ended = threading.Event()
        self.end_reason = ""

    # -- what it is ---------------------------------------------------------------------

    @property
    def devices(self) -> tuple[str, ...]:
        return self._devices

    @devices.setter
    def devices(self, devices: Iterable[str]) -> None:
        self._devices = tuple(devices)

    @property
    def state(self) -> str:
        if self._state in ENDED:
            return self._state
        if self._reconnecting:
            return RECONNECTING
        return PAUSED if self._paused else RUNNING

    @property
    def line_filter(self) -> LineFilter:
        return self._filter

    @line_filter.setter
    def line_filter(self, value: LineFilter) -> None:
        self._filter = value

    @property
    def received(self) -> int:
        return self._received

    @property
    def shown(self) -> int:
        return self._shown

    @property
    def held(self) -> int:
        return len(self._held)

    def summary(self) -> TaskSummary:
        return TaskSummary(self.id, self._devices, self._received, self.state)

    @property
    def sink(self) -> Sink:
        return self._sink()

    # -- lines --------------------------------------------------------------------------

    def deliver(self, lines: Iterable[LogLine]) -> None:
        """Shows the lines of its devices that pass the filter (or holds them while
        paused); after `end`, nothing more is shown."""
        with self._lock:
            if self._state in ENDED:
                return
            texts = []
            for line in lines:
                self._received += 1
                if not self._filter.shows(line):
                    continue
                self._numbered += 1
                self._recent.append((self._numbered, line.msg))
                for pattern, event in self._watchers:
                    if not event.is_set() and (pattern is None or pattern.search(line.msg)):
                        event.set()
                        self._consumed = self._numbered
                text = self.style.stream_line(line)
                if self._paused:
                    if len(self._held) == self._held.maxlen:
                        self._dropped += 1
                    self._held.append(text)
                else:
                    self._shown += 1
                    texts.append(text)
            if texts:
                self.sink.write(texts)

    def notice(self, text: str, *, error: bool = False) -> None:
        """A message about the task or its stream: `Error: ...` lines always, other ones
        unless the output mode hides impt's INFO lines (minimal, json) on a non-interactive
        sink."""
        sink = self.sink
        if error:
            line = json.dumps({"Error": text}) if self.style.json else f"Error: {text}"
        elif self.style.mode in ("minimal", "json") and not sink.interactive:
            return
        else:
            line = text
        with self._lock:
            sink.write([line])

    # -- control ------------------------------------------------------------------------

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> int:
        """Shows what was held; returns how many lines were dropped while paused."""
        with self._lock:
            held, dropped = list(self._held), self._dropped
            self._held.clear()
            self._dropped = 0
            self._paused = False
            if self._state in ENDED:
                return 0
            self._shown += len(held)
            if held:
                self.sink.write(held)
            return dropped

    def set_reconnecting(self, value: bool) -> None:
        self._reconnecting = value

    def watch(self, pattern: re.Pattern[str] | None) -> threading.Event:
        """An event set once a line passing the filter matches `pattern` (any line: None),
        held lines included. Lines that arrived since the previous match count too (the
        latest few hundred), so a line logged just before the watch began is not missed;
        each match is used up by the watch it satisfied."""
        event = threading.Event()
        with self._lock:
            for number, message in self._recent:
                if number > self._consumed and (pattern is None or pattern.search(message)):
                    self._consumed = number
                    event.set()
                    return event
            self._watchers.append((pattern, event))
        return event

    def unwatch(self, event: threading.Event) -> None:
        with self._lock:
            self._watchers = [(p, e) for p, e in self._watchers if e is not event]

    def end(self, state: str, reason: str = "") -> bool:
        """Ends the task (`stopped`, `closed` by the server, `failed`); after it returns no
        line of this task is printed. False if it had ended already."""
        with self._lock:
            if self._state in ENDED:
                return False
            self._state = state
            self.end_reason = reason
            self._held.clear()
        self.ended.set()
        return True
