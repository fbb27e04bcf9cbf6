"""Fixtures for following the Development Guide: a scratch HOME against a fresh simulator
whose devices run the code deployed to them, and what each use case assumes was done before
it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.guide import DEVELOP_APPLICATION, DEVELOP_DUT, DEVELOP_FIXTURE
from tests.acceptance.runners import Guide, follow, in_process

SPEED = 10
"""Device clocks run this many times faster than real time: the application's reading every
ten seconds comes every second."""


@pytest.fixture(scope="session")
def guide_sim_server() -> Iterator[Any]:
    from imptsh.sim import squirrel
    from imptsh.sim.server import start

    if not squirrel.available():
        pytest.skip(squirrel.unavailable_reason() or "the Squirrel VM is not available")
    sim = start(port=0, devices=3, log_interval=0, runner="squirrel", speed=SPEED)
    yield sim
    sim.stop()


@pytest.fixture
def sim(guide_sim_server: Any) -> Any:
    """The simulator with fresh state: user demo/demo, 3 unassigned online devices running
    nothing yet."""
    guide_sim_server.reset()
    return guide_sim_server


@pytest.fixture
def guide(home: Path, sim: Any) -> Guide:
    return Guide(sim, home)


def done_before(guide: Guide, use_case: str) -> None:
    """What the guide assumes before `use_case` ("dut", "fixture", "cleanup"): the use
    cases before it, followed in-process."""
    execute = in_process(guide)
    follow(guide, DEVELOP_APPLICATION, execute)
    if use_case == "dut":
        return
    follow(guide, DEVELOP_DUT, execute)
    guide.add_fixture_device()
    if use_case == "fixture":
        return
    follow(guide, DEVELOP_FIXTURE, execute)
