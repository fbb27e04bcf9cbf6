"""Fixtures for the simulator tests: one server per module, fresh state per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imptsh.sim.server import Simulator, start

from .helpers import Client


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    s = start(port=0, log_interval=0, runner="literal")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def fresh(sim: Simulator) -> Simulator:
    sim.reset()
    return sim


@pytest.fixture
def client(fresh: Simulator) -> Client:
    return Client(fresh)
