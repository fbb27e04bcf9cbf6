"""Device logs: history, and log tasks that share one server stream per account.

`tasks.LogTasks` is the session's registry of tasks; `shared.SharedStream` multiplexes them
over the account's one server stream; `cursor` and `history` keep a reconnection from
repeating or skipping lines; `lines` and `sink` decide what a line looks like and where it
goes."""

from __future__ import annotations

from .config import LogConfig
from .lines import LineStyle, LogLine
from .sink import AlertSink, Sink, StreamSink
from .task import LogTask, TaskSummary
from .tasks import LogTasks

__all__ = [
    "AlertSink",
    "LineStyle",
    "LogConfig",
    "LogLine",
    "LogTask",
    "LogTasks",
    "Sink",
    "StreamSink",
    "TaskSummary",
]
