"""The session's log tasks: numbered, each on its account's shared server stream.

In the interactive shell and in scripts a task runs in the background and the command that
started it returns at once; in one-shot mode (and `-c`) the command waits on its task until
Ctrl-C or the server closes the stream, as impt does. `background` and `sink` are set by
whoever runs the commands (the shell); `summary()` is cheap and safe from any thread."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable

from ..api.client import Client
from .config import LogConfig
from .lines import LineStyle
from .shared import Attached, SharedStream
from .sink import Sink, StreamSink
from .task import STOPPED, LogTask, TaskSummary


class LogTasks:
    def __init__(self, config: LogConfig | None = None):
        self.config = config or LogConfig()
        self.background = False
        """Whether `log stream` and `--log` start background tasks (the shell, scripts)."""
        self.sink: Sink = StreamSink(sys.stdout)
        """Where background tasks print (above the prompt in the interactive shell)."""
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._streams: dict[Hashable, SharedStream] = {}
        self._tasks: dict[int, LogTask] = {}
        self._next_id = 1

    # -- reading ------------------------------------------------------------------------

    def summary(self) -> list[TaskSummary]:
        """Every live task: id, devices, lines received, state."""
        return [task.summary() for task in self.all()]

    def all(self) -> list[LogTask]:
        """The tasks that have not ended, oldest first."""
        with self._lock:
            tasks = list(self._tasks.values())
        return [task for task in tasks if not task.ended.is_set()]

    def get(self, task_id: int) -> LogTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def stream_of(self, task: LogTask) -> SharedStream | None:
        with self._lock:
            for stream in self._streams.values():
                if task in stream.tasks:
                    return stream
        return None

    def stream(self, account: Hashable) -> SharedStream | None:
        """The shared server stream of an account, if one was ever opened."""
        with self._lock:
            return self._streams.get(account)

    # -- starting and stopping ----------------------------------------------------------

    def start(
        self,
        account: Hashable,
        make_client: Callable[[], Client],
        device_ids: list[str],
        style: LineStyle,
        *,
        sink: Sink | None = None,
        paused: bool = False,
    ) -> tuple[LogTask, Attached]:
        """A new task showing `device_ids` on the account's shared stream. With `sink` the
        task prints there and is a foreground task; otherwise it prints to `self.sink`.
        When no device could be streamed the task is not kept (see `Attached.refused`)."""
        with self._starting:
            with self._lock:
                task_id = self._next_id  # taken only if the task is kept
                stream = self._streams.get(account)
                if stream is None:
                    stream = SharedStream(make_client(), self.config, self._ended)
                    self._streams[account] = stream
            fixed = sink
            task = LogTask(
                task_id,
                style,
                (lambda: fixed) if fixed is not None else (lambda: self.sink),
                foreground=sink is not None,
                paused_max_lines=self.config.paused_max_lines,
            )
            if paused:
                task.pause()
            attached = stream.attach(task, device_ids)
            if attached.devices:
                with self._lock:
                    self._tasks[task.id] = task
                    self._next_id += 1
            else:
                stream.detach(task)
                task.end(STOPPED, "no device could be streamed")
            return task, attached

    def add(self, task: LogTask, device_ids: list[str]) -> Attached:
        stream = self._stream_for(task)
        with self._starting:
            return stream.attach(task, device_ids)

    def remove(self, task: LogTask, device_ids: list[str]) -> list[str]:
        return self._stream_for(task).detach(task, device_ids)

    def stop(self, task: LogTask, reason: str = "stopped") -> bool:
        """Ends the task; no line of it is printed once this returns."""
        if not task.end(STOPPED, reason):
            return False
        stream = self.stream_of(task)
        if stream is not None:
            stream.detach(task)
        self._ended(task)
        return True

    def stop_all(self, reason: str = "stopped") -> list[LogTask]:
        stopped = [task for task in self.all() if self.stop(task, reason)]
        return stopped

    def _stream_for(self, task: LogTask) -> SharedStream:
        stream = self.stream_of(task)
        if stream is None:
            raise LookupError(f"log task {task.id} has ended")
        return stream

    def _ended(self, task: LogTask) -> None:
        with self._lock:
            self._tasks.pop(task.id, None)
