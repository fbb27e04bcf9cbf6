"""`imptsh` as a real subprocess: one-shot commands, -c, script files, flags, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from imptsh import __version__
from tests.conftest import run_imptsh, sim_control


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


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr


def test_version_and_help(home, env):
    version = run_imptsh(["--version"], cwd=home, env=env)
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n")
    help_ = run_imptsh(["--help"], cwd=home, env=env)
    assert help_.returncode == 0
    for word in ("--sim", "--no-rc", "--rc", "-c", "--keep-going", "auth", "product"):
        assert word in help_.stdout


def test_one_shot_success_and_json(login, home):
    created = run_imptsh(["product", "create", "--name", "Cli P"], cwd=home, env=login)
    assert created.returncode == 0
    assert created.stdout.startswith('Product "Cli P" is created successfully.\n')
    listed = run_imptsh(["product", "list", "-z", "json"], cwd=home, env=login)
    assert listed.returncode == 0
    assert json.loads(listed.stdout)[0]["Product"]["name"] == "Cli P"
    no_traceback(listed)


def test_one_shot_failures_exit_non_zero(login, home):
    missing = run_imptsh(["product", "info", "-p", "nope"], cwd=home, env=login)
    assert missing.returncode == 1
    assert missing.stdout == 'Error: Product "nope" is not found.\nIMPT COMMAND FAILS\n'
    bad_option = run_imptsh(["product", "list", "--bogus"], cwd=home, env=login)
    assert bad_option.returncode == 1
    assert "Usage: impt product list" in bad_option.stdout
    assert bad_option.stdout.endswith("Error: Unknown argument: bogus\nIMPT COMMAND FAILS\n")
    no_command = run_imptsh(["product"], cwd=home, env=login)
    assert no_command.returncode == 1
    assert "Error: Please specify a valid command." in no_command.stdout
    unknown = run_imptsh(["product", "frobnicate"], cwd=home, env=login)
    assert unknown.returncode == 1 and "Error: Unknown argument: frobnicate" in unknown.stdout
    for proc in (missing, bad_option, no_command, unknown):
        no_traceback(proc)


def test_bad_imptsh_flag_and_unknown_word(home, env):
    flag = run_imptsh(["--frob"], cwd=home, env=env)
    assert flag.returncode == 2 and "Unknown flag: --frob" in flag.stderr
    word = run_imptsh(["nonsense"], cwd=home, env=env)
    assert word.returncode == 2 and "neither a command group" in word.stderr


def test_not_logged_in_is_one_line(home, env):
    proc = run_imptsh(["product", "list"], cwd=home, env=env)
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.startswith("Error: You are not logged in") and "auth login" in first


def test_confirmation_never_reads_stdin(login, home):
    run_imptsh(["product", "create", "-n", "Kept"], cwd=home, env=login)
    piped = run_imptsh(["product", "delete", "-p", "Kept"], cwd=home, env=login, stdin="y\n")
    assert piped.returncode == 1
    assert "Cannot ask for confirmation: there is no terminal" in piped.stdout
    assert "Kept" in run_imptsh(["product", "list"], cwd=home, env=login).stdout
    confirmed = run_imptsh(["product", "delete", "-p", "Kept", "-q"], cwd=home, env=login)
    assert confirmed.returncode == 0 and "Are you sure" not in confirmed.stdout


def test_dash_c_runs_one_line(login, home):
    proc = run_imptsh(["-c", "product create --name 'From C'"], cwd=home, env=login)
    assert proc.returncode == 0, proc.stdout
    assert 'Product "From C" is created successfully.' in proc.stdout
    failing = run_imptsh(["-c", "product info -p missing"], cwd=home, env=login)
    assert failing.returncode == 1


def test_script_stops_at_first_failure_naming_file_and_line(login, home, sim):
    sub = home / "work" / "sub"
    sub.mkdir(parents=True)
    script = home / "work" / "setup.imptsh"
    script.write_text(
        "# a comment\n"
        "product create --name S1\n"
        "\n"
        "product info --product does-not-exist\n"
        "product create --name S2\n"
    )
    proc = run_imptsh([str(script)], cwd=home / "work", env=login)
    assert proc.returncode == 1
    assert f"{script}:4: command failed: product info --product does-not-exist" in proc.stderr
    names = run_imptsh(["product", "list", "-z", "json"], cwd=home, env=login).stdout
    assert "S1" in names and "S2" not in names
    keep = run_imptsh(["--keep-going", str(script)], cwd=home / "work", env=login)
    assert keep.returncode == 1
    names = run_imptsh(["product", "list", "-z", "json"], cwd=home, env=login).stdout
    assert "S2" in names
    no_traceback(keep)


def test_script_cd_reevaluates_the_auth_context(login, home, sim):
    sub = home / "work" / "local"
    sub.mkdir(parents=True)
    script = home / "work" / "cd.imptsh"
    script.write_text(
        f"cd local\nauth login --local -e {sim.base_url} -u demo -w demo\nauth info\ncd ..\n"
        "auth info\npwd\n"
    )
    proc = run_imptsh([str(script)], cwd=home / "work", env=login)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    infos = [line for line in proc.stdout.splitlines() if "Auth type" in line]
    assert "Local Auth file" in infos[0] and "Global Auth file" in infos[1]
    assert proc.stdout.rstrip().endswith(str(home / "work"))
    assert (sub / ".impt.auth").exists()


def test_rc_file_runs_first_in_one_shot(login, home):
    rc = home / "setup.rc"
    rc.write_text("product create --name FromRc\n")
    proc = run_imptsh(["--rc", str(rc), "product", "list"], cwd=home, env=login)
    assert proc.returncode == 0
    assert "FromRc" in proc.stdout


def test_stdin_script_when_not_a_terminal(login, home):
    proc = run_imptsh([], cwd=home, env=login, stdin="product create --name Piped\nproduct list\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Piped" in proc.stdout


def test_python_dash_m_and_console_script_agree(home, env):
    import shutil
    import subprocess
    import sys

    script = Path(sys.executable).parent / "imptsh"
    exe = str(script) if script.exists() else shutil.which("imptsh")
    assert exe, "the imptsh console script is installed"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, env={**env})
    assert out.stdout.strip() == __version__


def test_sim_flag_starts_a_private_simulator_with_n_devices(home, env):
    proc = run_imptsh(
        ["--sim", "--devices", "5", "device", "list", "-z", "json"], cwd=home, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(json.loads(proc.stdout)) == 5
    assert not (home / ".impt.auth").exists()
    bad = run_imptsh(["--sim", "--devices", "many"], cwd=home, env=env)
    assert bad.returncode == 2 and "--devices takes a whole number" in bad.stderr


# -- a closed output pipe ends output quietly --------------------------------------------------


def test_one_shot_output_into_a_closed_pipe_ends_quietly(login, home):
    for n in range(3):
        run_imptsh(["product", "create", "-n", f"P{n}"], cwd=home, env=login)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` once head has exited
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "imptsh", "product", "list"],
            cwd=home,
            env={**os.environ, **login},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141  # 128 + SIGPIPE, as a tool killed by SIGPIPE reports


def test_a_shell_pipe_whose_reader_leaves_ends_quietly(login, home, sim):
    for n in range(3):
        run_imptsh(["product", "create", "-n", f"P{n}"], cwd=home, env=login)
    # The reader reads nothing and leaves before the slow answer arrives (not so soon that
    # cmd2 refuses to start the pipe).
    sim_control(sim, "faults", {"latency_ms": 1500, "count": 3})
    proc = run_imptsh(["-c", "product list | sleep 0.3"], cwd=home, env=login)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


# -- built-ins that need a terminal are gone; run_script is `imptsh FILE` ---------------------


def test_edit_is_not_a_command(home, env):
    proc = run_imptsh(["-c", "edit"], cwd=home, env=env, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.startswith("Error: Unknown command: edit.")


def test_run_script_reports_like_a_script_file(login, home):
    script = home / "work" / "steps.imptsh"
    script.write_text("product create -n One\nproduct info -p Nope\nproduct create -n Two\n")
    as_file = run_imptsh([str(script)], cwd=home / "work", env=login)
    run_imptsh(["product", "delete", "-p", "One", "-q"], cwd=home, env=login)
    inside = run_imptsh(["-c", f"run_script {script}"], cwd=home / "work", env=login)
    strip_ids = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}")
    assert strip_ids.sub("ID", inside.stdout) == strip_ids.sub("ID", as_file.stdout)
    assert inside.stderr == as_file.stderr
    assert inside.stderr == f"imptsh: {script}:2: command failed: product info -p Nope\n"
    assert inside.returncode == as_file.returncode == 1


def test_a_failing_shell_command_fails_the_line(home, env):
    proc = run_imptsh(["-c", "shell false"], cwd=home, env=env)
    assert proc.returncode == 1
    assert proc.stdout == ("Error: The shell command exited with status 1.\nIMPT COMMAND FAILS\n")
    assert run_imptsh(["-c", "!true"], cwd=home, env=env).returncode == 0


# -- every failure ends like impt's; every command of a line runs ------------------------------


def test_dash_c_runs_every_command_of_the_line(home, env, tmp_path):
    proc = run_imptsh(["-c", f"cd {tmp_path}; pwd"], cwd=home, env=env)
    assert (proc.returncode, proc.stdout) == (0, f"{tmp_path}\n")


def test_dash_c_stops_at_the_first_failing_command(login, home):
    proc = run_imptsh(["-c", "product info -p nope; product create -n Never"], cwd=home, env=login)
    assert proc.returncode == 1
    assert "Never" not in run_imptsh(["product", "list"], cwd=home, env=login).stdout


@pytest.mark.parametrize("how", ["-c", "script"])
def test_syntax_errors_end_like_impt_failures(home, env, how):
    line = 'product create --name "unterminated'
    if how == "-c":
        proc = run_imptsh(["-c", line], cwd=home, env=env)
    else:
        proc = run_imptsh([], cwd=home, env=env, stdin=line + "\npwd\n")
    assert proc.returncode == 1
    assert proc.stdout == (
        'Error: Invalid command line: the quotation mark (") at position 23 is never closed.\n'
        "IMPT COMMAND FAILS\n"
    )


def test_impt_version_through_dash_c(home, env):
    for flag in ("--version", "-v"):
        proc = run_imptsh(["-c", f"impt {flag}"], cwd=home, env=env)
        assert (proc.returncode, proc.stdout) == (0, f"{__version__}\n")
