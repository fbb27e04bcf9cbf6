"""Fixtures for the Squirrel runner: a runner on the real VM and a recorder of its log lines.

The recorder is the observation point the simulator's backend has (``RunnerCallbacks``); the
runner, its worker processes and the VM are all real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from imptsh.sim import squirrel
from imptsh.sim.runner import DeviceCode, RunnerCallbacks

DEV = "development_devicegroup"
WAIT = 20.0  # generous upper bound for anything that should happen "soon"

requires_vm = pytest.mark.skipif(
    not squirrel.available(), reason=squirrel.unavailable_reason() or "Squirrel VM available"
)


@dataclass
class Line:
    device_id: str
    type: str
    msg: str
    at: float


@dataclass
class Recorder:
    """Collects what the runner reports, as the simulator's backend would."""

    lines: list[Line] = field(default_factory=list)
    factory_events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    factory_answer: Any = True
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def log(self, device_id: str, log_type: str, msg: str) -> None:
        with self._cond:
            self.lines.append(Line(device_id, log_type, msg, time.monotonic()))
            self._cond.notify_all()

    def factory(self, device_id: str, event: str, data: dict[str, Any]) -> Any:
        with self._cond:
            self.factory_events.append((device_id, event, data))
            self._cond.notify_all()
        return self.factory_answer

    def of(self, device_id: str, *types: str) -> list[str]:
        with self._cond:
            return [
                line.msg
                for line in self.lines
                if line.device_id == device_id and (not types or line.type in types)
            ]

    def typed(self, device_id: str) -> list[tuple[str, str]]:
        with self._cond:
            return [(line.type, line.msg) for line in self.lines if line.device_id == device_id]

    def wait_for(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; lines so far: {self.lines}")
                self._cond.wait(min(left, 0.1))

    def wait_line(self, device_id: str, text: str, timeout: float = WAIT) -> Line:
        def found() -> bool:
            return any(line.device_id == device_id and text in line.msg for line in self.lines)

        self.wait_for(found, timeout)
        with self._cond:
            return next(
                line for line in self.lines if line.device_id == device_id and text in line.msg
            )


def code(
    device_id: str = "dev1",
    device: str = "",
    agent: str = "",
    dg_type: str = DEV,
    **extra: Any,
) -> DeviceCode:
    number = sum(device_id.encode()) % 256
    return DeviceCode(
        device_id=device_id,
        mac_address=f"0c:2a:69:00:00:{number:02x}",
        agent_id=f"agent-{device_id}",
        deployment_id=f"deployment-{device_id}",
        device_code=device,
        agent_code=agent,
        dg_id="dg-1",
        dg_type=dg_type,
        extra=extra,
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_runner(recorder: Recorder) -> Iterator[Callable[..., Any]]:
    made = []

    def make(**options: Any) -> Any:
        runner = squirrel.SquirrelRunner(**options)
        runner.bind(RunnerCallbacks(log=recorder.log, factory=recorder.factory))
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()


@pytest.fixture
def runner(make_runner: Callable[..., Any]) -> Any:
    return make_runner()
