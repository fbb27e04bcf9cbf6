"""The shell in-process with its background fill, and Tab as prompt_toolkit presses it."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cmd2 import Completions

from imptsh.session import Session
from imptsh.shell import ImptShell
from tests.conftest import FAST_RETRY

DELIMITERS = " \t\n\"'|>"


@pytest.fixture
def shell(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImptShell]:
    """The shell of a fresh session; its background fill is not started."""
    monkeypatch.setattr("sys.argv", ["imptsh"])
    out = io.StringIO()
    session = Session(env=os.environ, home=home, stdin=io.StringIO(), stdout=out, retry=FAST_RETRY)
    app = ImptShell(session, stdout=out)
    app.out = out
    yield app
    app.refresher.close()


def run(shell: ImptShell, line: str) -> str:
    shell.out.seek(0)
    shell.out.truncate()
    shell.onecmd_plus_hooks(line)
    return shell.out.getvalue()


def settle(shell: ImptShell) -> None:
    """Waits until the background fill has done what it was asked to."""
    assert shell.refresher.wait_until_idle(60), shell.refresher.status()


def logged_in_and_filled(shell: ImptShell, sim: object) -> ImptShell:
    out = run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    assert "IMPT COMMAND SUCCEEDS" in out, out
    shell.refresher.start()
    settle(shell)
    return shell


def tab(shell: ImptShell, line: str) -> Completions:
    """What pressing Tab at the end of `line` offers (cmd2's completer, as the prompt calls
    it: the word being completed starts after the last delimiter)."""
    begidx = max(line.rfind(d) for d in DELIMITERS) + 1
    return shell.complete(line[begidx:], line, begidx, len(line))


def texts(completions: Completions) -> list[str]:
    return [item.text for item in completions]


def metas(completions: Completions) -> dict[str, str]:
    return {item.text: item.display_meta for item in completions}
