"""Prompts read the terminal, never a script's lines, and fail at once without one.

Each run here is a real `imptsh` process in a new session (no controlling terminal), as in a
CI job. The subprocess timeout only detects a hang; nothing asserts how fast it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imptsh.prompts import NoTerminalError, Prompter
from tests.conftest import run_imptsh

HANG = 60  # seconds: a prompt that waits for an answer would wait forever


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


@pytest.fixture
def login(sim, home, env) -> dict[str, str]:
    done = run_imptsh(
        ["auth", "login", "-e", sim.base_url, "-u", "demo", "-w", "demo"], cwd=home, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def run_with_silent_stdin(args: list[str], *, cwd: Path, env: dict[str, str]):
    """`imptsh ARGS` with standard input an open pipe that nobody writes to or closes."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    full_env.update(env)
    read_end, write_end = os.pipe()
    try:
        return subprocess.run(
            [sys.executable, "-m", "imptsh", *args],
            cwd=cwd,
            env=full_env,
            stdin=read_end,
            capture_output=True,
            text=True,
            timeout=HANG,
            start_new_session=True,
        )
    finally:
        os.close(read_end)
        os.close(write_end)


def products(home: Path, env: dict[str, str]) -> list[str]:
    listed = run_imptsh(["product", "list", "-z", "json"], cwd=home, env=env)
    return sorted(p["Product"]["name"] for p in json.loads(listed.stdout))


def test_confirmation_without_a_terminal_fails_at_once_with_a_hint(login, home):
    assert run_imptsh(["product", "create", "-n", "Kept"], cwd=home, env=login).returncode == 0
    proc = run_with_silent_stdin(["product", "delete", "-p", "Kept"], cwd=home, env=login)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[-2] == (
        "Error: Cannot ask for confirmation: there is no terminal (/dev/tty: No such device "
        "or address). Add -q/--confirmed to run it without asking."
    )
    assert lines[-1] == "IMPT COMMAND FAILS"
    assert "Are you sure" not in proc.stdout
    assert products(home, login) == ["Kept"]
    quiet = run_with_silent_stdin(["product", "delete", "-p", "Kept", "-q"], cwd=home, env=login)
    assert quiet.returncode == 0, quiet.stdout
    assert products(home, login) == []


def test_json_mode_reports_the_missing_terminal_as_json(login, home):
    run_imptsh(["product", "create", "-n", "J"], cwd=home, env=login)
    proc = run_with_silent_stdin(
        ["product", "delete", "-p", "J", "-z", "json"], cwd=home, env=login
    )
    assert proc.returncode == 1
    error = json.loads(proc.stdout[proc.stdout.index('{\n  "Error"') :])["Error"]
    assert error.startswith("Cannot ask for confirmation: there is no terminal")


def test_a_script_never_answers_a_prompt_with_its_own_next_line(login, home):
    script = "product create --name P1\nproduct delete --product P1\nproduct create --name P2\n"
    proc = run_imptsh([], cwd=home, env=login, stdin=script, timeout=HANG)
    assert proc.returncode == 1
    assert "Cannot ask for confirmation: there is no terminal" in proc.stdout
    assert "imptsh: <stdin>:2: command failed: product delete --product P1" in proc.stderr
    assert products(home, login) == ["P1"]


@pytest.mark.parametrize(
    ("args", "extra_env", "expected"),
    [
        (
            ["auth", "login", "-u", "demo"],
            {},
            "Cannot ask for the password: there is no terminal (/dev/tty: No such device or "
            "address). Pass --pwd, set IMPT_PASSWORD, or log in with a login key (--lk or "
            "IMPT_LOGINKEY).",
        ),
        (["auth", "login"], {}, "Cannot ask how to log in: there is no terminal"),
        (["product", "list"], {"IMPT_USER": "demo"}, "Pass --pwd, set IMPT_PASSWORD"),
        (["loginkey", "create"], {}, "Cannot ask for the password: there is no terminal"),
    ],
)
def test_secret_prompts_without_a_terminal_say_what_to_pass(
    login, home, sim, args, extra_env, expected
):
    if args[:2] == ["auth", "login"]:
        args = [*args, "-e", sim.base_url, "-q"]
    env = {**login, **extra_env}
    if extra_env:
        env["IMPT_ENDPOINT"] = sim.base_url
    proc = run_with_silent_stdin(args, cwd=home / "work", env=env)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and expected in errors[0], proc.stdout
    assert proc.stdout.endswith("IMPT COMMAND FAILS\n")


def test_a_prompter_with_no_terminal_prints_nothing_before_failing(tmp_path):
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
    except OSError:
        pass
    else:
        pytest.skip("this test run has a controlling terminal")
    out = tmp_path / "out.txt"
    with out.open("w") as stream, pytest.raises(NoTerminalError, match="Add -q/--confirmed"):
        Prompter(None, stream).confirm("Context line.")
    assert out.read_text() == ""
