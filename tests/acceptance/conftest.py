"""Fixtures for following the Development Guide: a scratch HOME against a fresh simulator,
and what each use case assumes was done before it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.guide import DEVELOP_APPLICATION, DEVELOP_DUT, DEVELOP_FIXTURE
from tests.acceptance.runners import Guide, follow, in_process


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
