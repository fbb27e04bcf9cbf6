"""What a one-shot `imptsh` loads: only what its command needs. CI scripts start imptsh once
per step, and every library imported before the command runs is paid on every step.

Each case runs `imptsh.cli.main(ARGS)` in a fresh interpreter (a real subprocess, like a CI
step) and looks at `sys.modules` afterwards: the shell's libraries (cmd2, prompt_toolkit,
pygments), the simulator and the log machinery are never loaded by a command that does not
use them, and the HTTP libraries only by a command that sends a request. Modules, not
milliseconds: nothing here depends on how fast the machine is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import OK, Impt, SimApi

SHELL = {"cmd2", "prompt_toolkit", "pygments", "imptsh.shell", "imptsh.completion"}
SIMULATOR = {"imptsh.sim"}
LOGS = {"imptsh.logs", "imptsh.commands.log", "sseclient", "imptsh.api.events"}
HTTP = {"requests", "urllib3"}
OTHER_GROUPS = {f"imptsh.commands.{g}" for g in ("dg", "build", "webhook", "project")}
ENTRY = {"imptsh", "imptsh.cli", "imptsh.commands", "imptsh.commands.registry"}
"""All of imptsh that answering a flag needs (plus the endpoint check of `--endpoint`)."""

PROGRAM = """
import json, sys
from imptsh.cli import main

try:
    status = main(json.loads(sys.argv[1]))
finally:
    sys.stdout.flush()
    with open(sys.argv[2], "w") as found:
        json.dump(sorted(sys.modules), found)
sys.exit(status)
"""


def loaded_by(args: list[str], cwd: Path, tmp_path: Path) -> tuple[int, str, set[str]]:
    """(status, stdout, the packages and modules loaded) of `imptsh ARGS` in a fresh
    interpreter; a module counts under its own name and every package above it."""
    modules_file = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, json.dumps(args), str(modules_file)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert modules_file.is_file(), done.stderr
    names = set(json.loads(modules_file.read_text()))
    return done.returncode, done.stdout, names


def present(names: set[str], wanted: set[str]) -> set[str]:
    """Which of `wanted` (packages or modules) were loaded, themselves or a submodule."""
    return {w for w in wanted if any(n == w or n.startswith(w + ".") for n in names)}


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["--bogus"],
        ["product", "--help"],
        ["product", "list", "--help"],
        ["product", "lst"],  # a usage error
        ["product", "list", "--owner"],  # a usage error of the command's options
        ["nosuchgroup", "list"],
        ["log", "--help"],
    ],
)
def test_help_version_and_usage_errors_load_no_http_shell_or_simulator(
    args: list[str], home: Path, tmp_path: Path
) -> None:
    status, out, names = loaded_by(args, Path.cwd(), tmp_path)
    assert out or status  # it answered (help, the version or a usage error)
    assert present(names, SHELL | SIMULATOR | HTTP | OTHER_GROUPS) == set()
    if args[0] != "log":
        assert present(names, LOGS) == set()


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["--bogus"]])
def test_imptsh_s_own_flags_load_nothing_of_imptsh_but_its_entry_point(
    args: list[str], home: Path, tmp_path: Path
) -> None:
    _, _, names = loaded_by(args, Path.cwd(), tmp_path)
    assert {n for n in names if n.split(".")[0] == "imptsh"} - ENTRY <= {
        "imptsh.api",
        "imptsh.api.endpoints",
    }


def test_build_check_for_a_device_group_type_sends_nothing_and_loads_no_http(
    home: Path, tmp_path: Path
) -> None:
    Path("device.nut").write_text('server.log("hi");\n')
    Path("agent.nut").write_text("")
    args = ["build", "check", "--dg-type", "development", "-x", "device.nut", "-y", "agent.nut"]
    status, out, names = loaded_by(args, Path.cwd(), tmp_path)
    assert status == 0 and OK in out, out
    assert present(names, SHELL | SIMULATOR | HTTP | LOGS) == set()


def test_a_listing_loads_http_but_not_the_shell_the_simulator_or_the_logs(
    logged_in: Impt, api: SimApi, tmp_path: Path
) -> None:
    api.product("Listed")
    status, out, names = loaded_by(["product", "list"], Path.cwd(), tmp_path)
    assert status == 0 and "Listed" in out, out
    assert present(names, HTTP) == HTTP  # it did send its requests
    assert present(names, SHELL | SIMULATOR | LOGS | OTHER_GROUPS) == set()


def test_an_expired_login_that_cannot_be_refreshed_fails_without_loading_http(
    impt: Impt, sim: object, home: Path, tmp_path: Path
) -> None:
    """The command fails before its first request: nothing was sent, nothing to load."""
    impt(f"auth login --temp -e {sim.base_url} -u demo -w demo")
    auth_file = home / ".impt.auth"
    data = json.loads(auth_file.read_text())
    data["expiresAt"] = "2000-01-01T00:00:00.000Z"
    auth_file.write_text(json.dumps(data))
    status, out, names = loaded_by(["product", "list"], Path.cwd(), tmp_path)
    assert status == 1 and "Access token is expired" in out, out
    assert present(names, HTTP | SHELL | SIMULATOR | LOGS) == set()


def test_a_script_of_impt_commands_starts_no_shell_until_a_line_needs_it(
    logged_in: Impt, tmp_path: Path
) -> None:
    Path("plain.imptsh").write_text("product create --name Scripted\nproduct list\n")
    status, out, names = loaded_by(["plain.imptsh"], Path.cwd(), tmp_path)
    assert status == 0 and "Scripted" in out, out
    assert present(names, SHELL | SIMULATOR | LOGS) == set()
    Path("mixed.imptsh").write_text("product list\npwd\n")
    status, out, names = loaded_by(["mixed.imptsh"], Path.cwd(), tmp_path)
    assert status == 0 and out.rstrip().endswith(str(Path.cwd())), out
    assert present(names, {"cmd2", "imptsh.shell"}) == {"cmd2", "imptsh.shell"}


def test_a_restart_without_log_loads_no_log_machinery(
    logged_in: Impt, api: SimApi, tmp_path: Path
) -> None:
    dg = api.dg(api.product("Restarted"), "RestartedDG")
    device = api.get("/devices")[0]
    api.assign(dg, device)
    status, out, names = loaded_by(
        ["device", "restart", "--device", device["id"]], Path.cwd(), tmp_path
    )
    assert status == 0 and OK in out, out
    assert present(names, SHELL | SIMULATOR | LOGS) == set()


def test_a_log_command_does_load_the_log_machinery(
    logged_in: Impt, api: SimApi, tmp_path: Path
) -> None:
    """The guard's own check: the module names above are the ones that load."""
    device = api.get("/devices")[0]
    status, out, names = loaded_by(
        ["log", "get", "--device", device["id"], "--page-size", "1", "--page-number", "1"],
        Path.cwd(),
        tmp_path,
    )
    assert status == 0 and OK in out, out
    assert present(names, {"imptsh.logs", "imptsh.commands.log"}) == {
        "imptsh.logs",
        "imptsh.commands.log",
    }
    assert present(names, SHELL | SIMULATOR) == set()
