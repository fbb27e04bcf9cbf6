"""The shell in-process with its background fill, and Tab as prompt_toolkit presses it."""

from __future__ import annotations

from cmd2 import Completions

from imptsh.shell import ImptShell
from tests.conftest import run_in_shell as run

DELIMITERS = " \t\n\"'|>"


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
