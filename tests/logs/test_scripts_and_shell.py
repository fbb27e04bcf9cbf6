"""Log tasks where the shell runs commands: in a script (`imptsh FILE`, `imptsh < FILE`) the
task runs in the background, its lines go straight to stdout and it stops when the script
ends; in the in-process shell `tasks` is a listed shell command that completes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imptsh.shell import ImptShell
from tests.conftest import Impt, lines, sim_control
from tests.conftest import run_in_shell as run
from tests.logs.conftest import wait_until


def imptsh(args: list[str], cwd: Path, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "imptsh", *args],
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(proc: subprocess.Popen, text: str) -> list[str]:
    got = []
    while True:
        line = proc.stdout.readline()
        assert line, f"{text!r} never came: {got}"
        got.append(line.rstrip("\n"))
        if text in line:
            return got


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_script_streams_in_the_background_and_stops_at_its_end(
    logged_in: Impt, sim: Any, api: Any, home: Path, how: str
) -> None:
    device = api.devices()[0]["id"]
    script = home / "work" / "watch.imptsh"
    script.write_text(
        f"log stream -d {device}\ntasks wait --match ready --timeout 60\ntasks list -z json\n"
    )
    if how == "file":
        proc = imptsh([str(script)], home / "work")
    else:
        proc = imptsh([], home / "work", stdin=script.open())
    try:
        head = read_until(proc, "runs in the background")
        sim_control(sim, f"devices/{device}/logs", {"lines": ["booting", "ready"]})
        out, errors = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, errors
    assert head[0] == f"Log stream for Device(s) {device} is opened."
    shown = [ln for ln in lines(out) if ln.startswith(f"[{device}]")]
    assert [ln.rsplit(" ", 1)[1] for ln in shown] == ["booting", "ready"]
    assert "Log task 1 showed a line matching 'ready'." in lines(out)
    assert '    "Log Task": {' in lines(out)
    assert lines(out)[-1] == "Log task 1 is stopped: the script has ended."


def test_a_script_waiting_in_vain_fails_and_names_the_line(
    logged_in: Impt, api: Any, home: Path
) -> None:
    device = api.devices()[0]["id"]
    script = home / "work" / "watch.imptsh"
    script.write_text(f"log stream -d {device}\ntasks wait --match ready --timeout 0.5\n")
    proc = imptsh([str(script)], home / "work")
    out, errors = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "Error: Log task 1 showed no line matching 'ready' within 0.5 seconds." in out
    assert f"{script}:2: command failed" in errors
    assert lines(out)[-1] == "Log task 1 is stopped: the script has ended."


@pytest.fixture
def shell(shell: ImptShell) -> ImptShell:
    """The shared shell, its log streams running as background tasks."""
    shell.run_logs_in_background(above_prompt=False)
    return shell


def test_tasks_is_a_shell_command(shell: ImptShell, sim: Any) -> None:
    assert "  tasks " in run(shell, "help")
    assert "Usage: tasks <command> [options]" in run(shell, "help tasks")
    assert run(shell, "tasks") == "No Log Tasks are found.\n"
    assert shell.last_status == 0
    run(shell, "tasks stop 9")
    assert shell.last_status == 1
    completions = shell.complete_tasks("st", "tasks st", 6, 8)
    assert [str(c.text) for c in completions] == ["stop"]


def test_a_stream_started_in_the_shell_prints_to_its_output(
    shell: ImptShell, sim: Any, api: Any
) -> None:
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    device = api.devices()[0]["id"]
    out = run(shell, f"log stream -d {device}")
    assert shell.last_status == 0, out
    sim_control(sim, f"devices/{device}/logs", {"lines": ["in the shell"]})
    wait_until(lambda: "in the shell" in shell.out.getvalue(), what="the line")
    assert f"[{device}] " in shell.out.getvalue()
    assert "running" in run(shell, "tasks")
