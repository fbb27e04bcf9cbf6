"""One server log stream of one account, shared by every log task of the session on it.

impCentral keeps one open log stream per account (opening another closes the first) with a
few devices on it. The session therefore opens one stream per account and multiplexes: a
task's devices are added to it (a device two tasks want is added once), a device no task
wants any more is removed, and the stream is dropped with its last task. One reader thread
hands each line to the tasks that show its device.

When the stream drops, the reader creates a new one, adds every device again, fetches what
was logged meanwhile from the devices' history (see `cursor`) and prints one notice saying
how many lines it recovered and in which interval lines may still be missing. A `closed`
state change means another client opened the account's stream: the tasks end, since taking
the stream back would close that client's."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..api import resources
from ..api.client import Client, now_iso
from ..api.errors import ApiError, ConnectionFailedError, NotFoundError
from . import history
from .config import LogConfig
from .cursor import Cursor
from .lines import LogFormatError, LogLine, parse_message
from .recovery import Recovery, catch_up, reconnect_notice
from .task import CLOSED, FAILED, OUTPUT_CLOSED, LogTask

if TYPE_CHECKING:  # the stream reader (requests, sseclient) loads with the first stream
    from ..api.events import Event, EventStream

IDLE, OPEN, RECONNECTING, SHUT = "idle", "open", "reconnecting", "shut"


@dataclass
class Attached:
    """What adding devices to a task did."""

    added: list[str] = field(default_factory=list)
    """Put on the server stream for this task."""
    shared: list[str] = field(default_factory=list)
    """Already on the server stream for another task."""
    refused: list[str] = field(default_factory=list)
    """Not streamed: the server stream has no room left for them."""

    @property
    def devices(self) -> list[str]:
        return self.added + self.shared


class SharedStream:
    def __init__(
        self,
        client: Client,
        config: LogConfig,
        on_task_end: Callable[[LogTask], None],
    ):
        self.client = client
        self.config = config
        self._on_task_end = on_task_end
        self._lock = threading.RLock()
        """Guards the tables below; never held during a request."""
        self._control = threading.RLock()
        """Serialises what changes the server stream: opening, adding, removing, reconnecting."""
        self._tasks: list[LogTask] = []
        self._watchers: dict[str, list[LogTask]] = {}
        """Device id → the tasks showing it; the keys, in order, are the devices streamed."""
        self._cursors: dict[str, Cursor | None] = {}
        self._stream_id: str | None = None
        self._events: EventStream | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self.state = IDLE

    # -- what it carries ----------------------------------------------------------------

    @property
    def devices(self) -> list[str]:
        with self._lock:
            return list(self._watchers)

    @property
    def tasks(self) -> list[LogTask]:
        with self._lock:
            return list(self._tasks)

    # -- tasks --------------------------------------------------------------------------

    def attach(self, task: LogTask, device_ids: list[str]) -> Attached:
        """Shows `device_ids` in `task`: opens the server stream if needed and adds the
        devices it does not carry yet, as far as the device limit allows. Raises the API's
        error if the stream cannot be opened or a device cannot be added (the task then
        shows none of the devices of this call)."""
        with self._control:
            if self.state in (IDLE, SHUT):
                self._open_first()
            result = Attached()
            with self._lock:
                if task not in self._tasks:
                    self._tasks.append(task)
                room = self.config.device_limit - len(self._watchers)
                for device_id in dict.fromkeys(device_ids):
                    watchers = self._watchers.get(device_id)
                    if watchers is not None:
                        if task not in watchers:
                            watchers.append(task)
                            result.shared.append(device_id)
                    elif room > 0:
                        room -= 1
                        result.added.append(device_id)
                    else:
                        result.refused.append(device_id)
            try:
                for device_id in result.added:
                    self._add_device(task, device_id)
            except BaseException:
                unused = self._forget(task, result.devices)
                with self._lock:
                    if not any(task in w for w in self._watchers.values()):
                        self._tasks = [t for t in self._tasks if t is not task]
                self._remove_from_server(unused)
                self._shut_if_unused()
                raise
            with self._lock:
                task.devices = [d for d, w in self._watchers.items() if task in w]
            return result

    def detach(self, task: LogTask, device_ids: list[str] | None = None) -> list[str]:
        """Stops showing `device_ids` (all of the task's: None) in `task`; devices no task
        shows any more leave the server stream, and the stream goes with its last task.
        Returns the devices the task no longer shows."""
        with self._control:
            with self._lock:
                mine = [d for d, w in self._watchers.items() if task in w]
                gone = mine if device_ids is None else [d for d in device_ids if d in mine]
                unused = self._forget(task, gone)
                if device_ids is None:
                    self._tasks = [t for t in self._tasks if t is not task]
                task.devices = [d for d, w in self._watchers.items() if task in w]
            self._remove_from_server(unused)
            self._shut_if_unused()
            return gone

    def _forget(self, task: LogTask, device_ids: list[str]) -> list[str]:
        """Takes `task` off the devices; returns those no task shows any more."""
        unused = []
        with self._lock:
            for device_id in device_ids:
                watchers = self._watchers.get(device_id)
                if watchers is None or task not in watchers:
                    continue
                watchers.remove(task)
                if not watchers:
                    del self._watchers[device_id]
                    self._cursors.pop(device_id, None)
                    unused.append(device_id)
        return unused

    def _remove_from_server(self, device_ids: list[str]) -> None:
        if self.state != OPEN or self._stream_id is None:
            return  # a stream being re-created gets only the devices still wanted
        for device_id in device_ids:
            try:
                resources.remove_from_log_stream(self.client, self._stream_id, device_id)
            except ApiError:
                pass  # the stream or the device is gone already: it is not streamed either way

    def _shut_if_unused(self) -> None:
        with self._lock:
            if self._tasks:
                return
            self.state = SHUT
            events, self._events = self._events, None
        self._stop.set()
        if events is not None:
            events.close()

    # -- opening ------------------------------------------------------------------------

    def _open_first(self) -> None:
        # A reader of its own stop signal: one that belonged to the stream before is ending
        # and must not be woken into reconnecting this one.
        self._stop = threading.Event()
        self._events = self._open()
        self.state = OPEN
        self._reader = threading.Thread(
            target=self._read,
            args=(self._events, self._stop),
            name="imptsh-log-stream",
            daemon=True,
        )
        self._reader.start()

    def _open(self) -> EventStream:
        """A new server stream, its events open and its `opened` state change read."""
        stream_id = resources.create_log_stream(self.client)
        events = resources.open_log_stream(self.client, stream_id)
        try:
            first = next(events, None)
        except BaseException:
            events.close()
            raise
        if first is None or first.name != "state_change":
            events.close()
            raise ConnectionFailedError(self.client.endpoint, "the log stream did not open")
        self._stream_id = stream_id
        return events

    def _add_device(self, task: LogTask, device_id: str) -> None:
        """Places the device's cursor after its history so far, then subscribes it."""
        try:
            newest = history.newest_lines(self.client, device_id, self.config.history_page_size)
            cursor: Cursor | None = Cursor.from_newest(newest)
        except NotFoundError:
            raise
        except ApiError:
            cursor = None  # known from its first line on; a drop before it cannot be caught up
        with self._lock:
            self._cursors[device_id] = cursor
            self._watchers[device_id] = [task]
        assert self._stream_id is not None
        if self.state == OPEN:
            try:
                resources.add_to_log_stream(self.client, self._stream_id, device_id)
            except NotFoundError:
                # The device was just resolved, so the stream is what vanished; the reader
                # is about to notice and re-create it with every device it carries.
                pass

    # -- reading ------------------------------------------------------------------------

    def _read(self, events: EventStream, stop: threading.Event) -> None:
        current: EventStream | None = events
        while current is not None:
            cause = "the server ended the log stream"
            try:
                for event in current:
                    if not self._handle(event):
                        return
            except ConnectionFailedError as exc:
                cause = exc.cause
            except LogFormatError as exc:
                self._fail_all(f"Internal error: {exc}.")
                return
            except Exception as exc:  # noqa: BLE001 - the reader reports, never dies silently
                cause = str(exc) or exc.__class__.__name__
            if stop.is_set():
                return
            current.close()
            current = self._reconnect(cause, stop)

    def _handle(self, event: Event) -> bool:
        """Hands a line to its tasks; False when the stream ended for good."""
        if event.name == "message":
            line = parse_message(event.data)
            with self._lock:
                watchers = self._watchers.get(line.device_id)
                if not watchers:
                    return True
                cursor = self._cursors.get(line.device_id)
                if cursor is None:
                    cursor = self._cursors[line.device_id] = Cursor()
                if not cursor.accept(line):
                    return True
                watchers = list(watchers)
            self._deliver(watchers, [line])
            return True
        if event.name != "state_change":
            return True
        try:
            change = json.loads(event.data)
        except ValueError:
            raise LogFormatError(event.data) from None
        state = change.get("state") if isinstance(change, dict) else None
        if state == "closed":
            self._closed_by_server()
            return False
        if state == "unsubscribed":
            self._evicted(str(change.get("device_id") or ""))
        return True

    def _deliver(self, tasks: list[LogTask], lines: list[LogLine]) -> None:
        for task in tasks:
            try:
                task.deliver(lines)
            except OSError:
                # its output is gone (a closed pipe): nothing can show its lines any more
                self._end(task, FAILED, OUTPUT_CLOSED)
            except Exception as exc:  # noqa: BLE001 - one task's failure is not the stream's
                self._end(task, FAILED, f"Internal error: {exc or exc.__class__.__name__}.")

    def _evicted(self, device_id: str) -> None:
        """The server took a device off the stream that tasks still show."""
        with self._lock:
            watchers = list(self._watchers.get(device_id, ()))
        if not watchers:
            return  # removed on purpose
        for task in watchers:
            self._forget(task, [device_id])
            task.devices = [d for d in task.devices if d != device_id]
        self._notify(
            watchers,
            f"Device {device_id} is no longer streamed: the server took it off the log "
            f"stream (a log stream carries at most {self.config.device_limit} devices).",
        )

    def _closed_by_server(self) -> None:
        with self._lock:
            self.state = SHUT  # nothing to remove from a stream the server closed
        tasks = self.tasks
        numbers = ", ".join(str(t.id) for t in tasks)
        for task in tasks:
            if task.foreground:
                task.notice("The log stream is closed.")
        background = [t for t in tasks if not t.foreground]
        self._notify(
            background,
            "The log stream is closed: another client opened this account's log stream. "
            f"Log task{'s' if len(background) > 1 else ''} {numbers} ended.",
        )
        for task in tasks:
            self._end(task, CLOSED, "the server closed the log stream")

    def _fail_all(self, message: str) -> None:
        with self._lock:
            self.state = SHUT
        tasks = self.tasks
        for task in tasks:
            task.notice(message, error=True)
        for task in tasks:
            self._end(task, FAILED, message)

    def _end(self, task: LogTask, state: str, reason: str) -> None:
        # Off the stream and out of the session's list before it says it ended, so that
        # whoever waits on `task.ended` finds the session as the end left it. Only this
        # reader hands lines to it, so none can slip in meanwhile.
        self.detach(task)
        self._on_task_end(task)
        task.end(state, reason)

    def _notify(self, tasks: list[LogTask], text: str, *, error: bool = False) -> None:
        """One notice per sink (tasks printing to the same place share one)."""
        seen: list[object] = []
        for task in tasks:
            sink = task.sink
            if any(s is sink for s in seen):
                continue
            seen.append(sink)
            task.notice(text, error=error)

    # -- reconnecting -------------------------------------------------------------------

    def _reconnect(self, cause: str, stop: threading.Event) -> EventStream | None:
        """Re-creates the stream until it works or no task is left; returns its events."""
        with self._lock:
            if not self._tasks:
                return None
            self.state = RECONNECTING
            tasks = list(self._tasks)
        lost_at = now_iso()
        for task in tasks:
            task.set_reconnecting(True)
            if task.foreground:  # impt's lines
                task.notice(f"{cause[:1].upper()}{cause[1:]}.", error=True)
                task.notice("The log stream is lost. Trying to reconnect...")
        attempt = 0
        told = False
        delays = self.config.reconnect_delays
        while True:
            if stop.wait(delays[min(attempt, len(delays) - 1)]):
                return None
            with self._control:
                if stop.is_set() or not self.tasks:
                    return None
                try:
                    events = self._open()
                except (ApiError, OSError) as exc:
                    attempt += 1
                    if not told:
                        told = True
                        background = [t for t in self.tasks if not t.foreground]
                        self._notify(
                            background,
                            f"The log stream is lost ({cause}) and cannot be re-opened yet "
                            f"({exc}); imptsh keeps trying.",
                        )
                    continue
                try:
                    dropped = self._add_all_again()
                except (ApiError, OSError):
                    events.close()
                    attempt += 1
                    continue
                with self._lock:
                    positions = [(d, self._cursors.get(d)) for d in self._watchers]
                recovery = catch_up(self.client, self.config, positions, lost_at)
                with self._lock:
                    self._events = events
                    self.state = OPEN
                    tasks = list(self._tasks)
            for task in tasks:
                task.set_reconnecting(False)
            self._reopened(tasks, cause, recovery, dropped)
            return events

    def _add_all_again(self) -> list[str]:
        """Adds every device the tasks show to the new stream; returns those the server no
        longer knows (they leave their tasks)."""
        assert self._stream_id is not None
        dropped = []
        for device_id in self.devices:
            try:
                resources.add_to_log_stream(self.client, self._stream_id, device_id)
            except NotFoundError:
                dropped.append(device_id)
        for device_id in dropped:
            with self._lock:
                watchers = list(self._watchers.get(device_id, ()))
            for task in watchers:
                self._forget(task, [device_id])
                task.devices = [d for d in task.devices if d != device_id]
        return dropped

    def _reopened(
        self, tasks: list[LogTask], cause: str, recovery: Recovery, dropped: list[str]
    ) -> None:
        notice = reconnect_notice(cause, len(recovery.lines), recovery.gaps, dropped)
        for task in tasks:
            if task.foreground:
                devices = ", ".join(task.devices[:5]) + (", ..." if len(task.devices) > 5 else "")
                task.notice(f"Log stream for Device(s) {devices} is opened.")
                task.notice("IMPT COMMAND SUCCEEDS")
                task.notice("")
                task.notice("Press <Ctrl-C> to exit.")
        self._notify(tasks, notice)
        by_device: dict[str, list[LogTask]] = {}
        with self._lock:
            for device_id, watchers in self._watchers.items():
                by_device[device_id] = list(watchers)
        for task in tasks:
            mine = [ln for ln in recovery.lines if task in by_device.get(ln.device_id, ())]
            self._deliver([task], mine)
