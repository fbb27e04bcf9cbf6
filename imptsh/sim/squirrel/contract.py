"""The code-runner contract, as agreed for ``imptsh/sim/runner.py``.

This mirrors ``imptsh/sim/runner.py`` (its dataclasses and the ``CodeRunner`` protocol)
definition for definition, formatted to this project's ruff rules, so that the Squirrel runner
and its tests can be built before that module exists. It will be replaced by imports from
``imptsh.sim.runner``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CodeError:
    """One compile problem, as impCentral reports it in an error's `meta` list."""

    file: str  # "device_code" or "agent_code"
    row: int
    column: int
    text: str  # the compiler's message
    type: str = "error"


@dataclass(frozen=True)
class DeviceCode:
    """What one device runs: identity and the deployment's code."""

    device_id: str
    mac_address: str
    agent_id: str
    deployment_id: str
    device_code: str
    agent_code: str
    dg_id: str
    dg_type: str  # e.g. "development_devicegroup", "pre_factory_fixture_devicegroup"
    reason: str = "restart"  # "new_code" | "restart" | "online" (why it (re)starts)
    extra: dict[str, Any] = field(default_factory=dict)  # room for factory data later


@dataclass
class RunnerCallbacks:
    """Thread-safe entry points into the backend, callable from any runner thread."""

    log: Callable[[str, str, str], None]  # (device_id, log_type, message): history + streams
    factory: Callable[[str, str, dict[str, Any]], Any] | None = (
        None  # (device_id, event, data), later
    )


class CodeRunner(Protocol):
    def bind(self, callbacks: RunnerCallbacks) -> None: ...
    def compile_errors(self, device_code: str, agent_code: str) -> list[CodeError]: ...
    def start(self, code: DeviceCode) -> None: ...  # (re)start the device's and agent's code
    def stop(self, device_id: str) -> None: ...  # unassigned, offline, deleted
    def agent_request(
        self,
        agent_id: str,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]: ...
    def advance_clock(self, device_id: str, seconds: float) -> None: ...  # tests: fire timers
    def running(self) -> dict[str, str]: ...  # device_id -> deployment_id
    def close(self) -> None: ...
