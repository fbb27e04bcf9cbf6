"""Which code runner the simulator uses: the Squirrel runner when the VM is installed, the
literal runner otherwise (said once, at start), or the one asked for; and the clock speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from imptsh.sim import squirrel
from imptsh.sim.runner import LiteralRunner
from imptsh.sim.server import RunnerUnavailable, make_runner, start

from .squirrel.conftest import requires_vm

REPO = Path(__file__).resolve().parents[2]
NOT_INSTALLED = (
    "the Squirrel VM is not installed: pip install 'imptsh[squirrel]' (package squirrel-lang-sq305)"
)


def imptsh_sim(*args: str, site_packages: bool = True) -> subprocess.Popen[str]:
    """`imptsh-sim ARGS` as a process; without site packages the VM is not importable (the
    simulator itself needs only the standard library)."""
    flags = [] if site_packages else ["-I", "-S"]
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from imptsh.sim.server import main; "
    code += "sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, *flags, "-c", code, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )


def until_listening(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """(first stdout line, everything on stderr) once the simulator listens, then stops it."""
    assert proc.stdout is not None and proc.stderr is not None
    listening = proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return listening, err


def test_without_the_vm_the_simulator_says_once_that_code_is_not_executed() -> None:
    listening, err = until_listening(imptsh_sim(site_packages=False))
    assert listening.startswith("imptsh-sim listening on http://127.0.0.1:")
    assert err.splitlines() == [
        f"imptsh-sim: device and agent code is not executed ({NOT_INSTALLED}); simulated "
        "devices only repeat the string literals of their code's top-level "
        'server.log("...") calls.'
    ]


def test_asking_for_the_squirrel_runner_without_the_vm_fails_clearly() -> None:
    proc = imptsh_sim("--runner", "squirrel", site_packages=False)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert out == ""
    assert err == f"imptsh-sim: --runner squirrel cannot run here: {NOT_INSTALLED}\n"


@requires_vm
def test_with_the_vm_nothing_is_said() -> None:
    listening, err = until_listening(imptsh_sim())
    assert listening.startswith("imptsh-sim listening on ")
    assert err == ""


def test_the_literal_runner_can_be_asked_for_and_is_not_apologised_for() -> None:
    listening, err = until_listening(imptsh_sim("--runner", "literal"))
    assert listening.startswith("imptsh-sim listening on ")
    assert err == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "imptsh-sim: --speed takes a number above 0 and at most 10000, not 0"),
        (["--speed", "-2"], "imptsh-sim: --speed takes a number above 0 and at most 10000, not -2"),
        (
            ["--speed", "nan"],
            "imptsh-sim: --speed takes a number above 0 and at most 10000, not nan",
        ),
    ],
)
def test_bad_speeds_are_refused(args: list[str], message: str) -> None:
    proc = imptsh_sim(*args)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (2, "", message + "\n")


def test_an_unknown_runner_is_refused() -> None:
    proc = imptsh_sim("--runner", "lua")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "argument --runner: invalid choice: 'lua' (choose from" in err


@requires_vm
def test_by_default_the_squirrel_runner_runs_the_code_at_the_speed_asked() -> None:
    with start(port=0, speed=60) as sim:
        assert isinstance(sim.runner, squirrel.SquirrelRunner)
        assert sim.runner.speed == 60
        assert sim.runner_notice is None


def test_the_literal_runner_keeps_its_period_in_device_time() -> None:
    runner, notice = make_runner("literal", 5.0, speed=10)
    try:
        assert isinstance(runner, LiteralRunner) and notice is None
        assert (runner.period, runner.speed) == (5.0, 10.0)
    finally:
        runner.close()


@pytest.mark.skipif(squirrel.available(), reason="the Squirrel VM is installed here")
def test_make_runner_refuses_squirrel_when_it_cannot_run() -> None:
    with pytest.raises(RunnerUnavailable):
        make_runner("squirrel", 5.0)


def test_make_runner_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="runner must be one of auto, squirrel, literal"):
        make_runner("lua", 5.0)
    with pytest.raises(ValueError, match="speed must be a number above 0"):
        make_runner("literal", 5.0, speed=0)


def test_the_control_plane_says_which_runner_runs_the_code() -> None:
    import requests

    with start(port=0, runner="literal", speed=3) as sim:
        answer = requests.get(f"{sim.root_url}/_sim/status", timeout=10)
        assert answer.json() == {
            "meta": {"simulator": "imptsh-sim", "runner": "literal", "speed": 3.0}
        }
