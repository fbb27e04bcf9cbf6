"""A logged-in session whose log tasks run in the background and print into a buffer, as
in the shell or a script, against the simulator; lines are pushed through its control
plane."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from imptsh.logs import LogConfig, LogTasks, StreamSink
from tests.conftest import Impt, Result, sim_control

LINE = re.compile(r"^\[([0-9a-f]{16})\] (\S+) \[([^\]]+)\] (.*)$")
FAST_RECONNECT = (0.0, 0.05, 0.1, 0.2)


@dataclass
class LogSession:
    impt: Impt
    sim: Any
    out: io.StringIO

    def __call__(self, line: str) -> Result:
        return self.impt(line)

    @property
    def tasks(self) -> LogTasks:
        return self.impt.session.log_tasks

    def text(self) -> str:
        return self.out.getvalue()

    def log_lines(self, device: str | None = None) -> list[str]:
        """The messages of the log lines printed (of one device), in order."""
        found = []
        for raw in self.text().splitlines():
            m = LINE.match(raw)
            if m and (device is None or m.group(1) == device):
                found.append(m.group(4))
        return found

    def push(self, device: str, messages: list[str]) -> None:
        sim_control(self.sim, f"devices/{device}/logs", {"lines": messages})

    def fault(self, **fault: Any) -> None:
        sim_control(self.sim, "faults", fault)


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or condition}")


def make_tasks(config: LogConfig, out: io.StringIO) -> LogTasks:
    tasks = LogTasks(config)
    tasks.background = True
    tasks.sink = StreamSink(out)
    return tasks


@pytest.fixture
def logs(logged_in: Impt, sim: Any) -> Iterator[LogSession]:
    out = io.StringIO()
    logged_in.session.log_tasks = make_tasks(LogConfig(reconnect_delays=FAST_RECONNECT), out)
    session = LogSession(logged_in, sim, out)
    yield session
    session.tasks.stop_all()


@pytest.fixture
def devices(api: Any) -> list[str]:
    return [d["id"] for d in api.devices()]
