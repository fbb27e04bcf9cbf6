"""The cmd2 shell in-process: prompt, cd/pwd, help, history, failures setting the status."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from imptsh.session import Session
from imptsh.shell import ImptShell, history_path
from tests.conftest import run_in_shell as run


def _project_of_a_new_group(shell, home: Path, name: str) -> Path:
    """A directory whose Project file names a new development Device Group `name`, created
    with the session's client directly: no command has put its name in the cache."""
    run(shell, "product create -n Prod")
    dg = shell.session.client(_quiet()).post(
        "/devicegroups",
        {
            "data": {
                "type": "development_devicegroup",
                "attributes": {"name": name},
                "relationships": {"product": {"type": "product", "id": _product_id(shell)}},
            }
        },
    )["data"]
    project = home / "proj"
    project.mkdir()
    (project / ".impt.project").write_text(json.dumps({"deviceGroupId": dg["id"]}))
    return project


def test_prompt_follows_login_and_project(shell, sim, home):
    assert shell.prompt == "imptsh (not logged in)> "
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    assert shell.prompt == "imptsh> "
    project = _project_of_a_new_group(shell, home, "MyDevDG")
    run(shell, f"cd {project}")
    assert shell.prompt == "imptsh MyDevDG> "
    assert run(shell, "pwd").strip() == str(project)
    run(shell, "cd ..")
    assert shell.prompt == "imptsh> "


def _quiet():
    from imptsh.output.printer import Output

    return Output("minimal", io.StringIO())


def _product_id(shell: ImptShell) -> str:
    return json.loads(run(shell, "product list -z json"))[0]["Product"]["id"]


def test_cd_reevaluates_local_auth(shell, sim, home):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    local = home / "local"
    local.mkdir()
    run(shell, f"cd {local}")
    run(shell, f"auth login --local -e {sim.base_url} -u demo -w demo")
    assert "Local Auth file" in run(shell, "auth info")
    run(shell, "cd ~/work")
    assert "Global Auth file" in run(shell, "auth info")
    failed = run(shell, "cd /no/such/dir")
    assert failed.startswith("Error: cd: no such directory") and shell.last_status == 1


def test_failures_set_the_status_and_the_session_goes_on(shell, sim):
    out = run(shell, "product list")
    assert out.startswith("Error: You are not logged in") and shell.exit_code == 1
    out = run(shell, "product lst")
    assert "Error: Unknown argument: lst" in out and shell.last_status == 1
    out = run(shell, "frobnicate")
    assert out.startswith("Error: Unknown command: frobnicate") and shell.last_status == 1
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    assert shell.last_status == 0
    assert "IMPT COMMAND SUCCEEDS" in run(shell, "impt product list")


def test_help_lists_groups_and_describes_commands(shell):
    out = run(shell, "help")
    for group in ("account", "auth", "product", "cd", "pwd", "quit"):
        assert group in out
    assert "Usage: impt product create --name <product_name>" in run(shell, "product create --help")
    assert "Usage: impt product <command> [options]" in run(shell, "help product")
    assert "Usage: impt auth login" in run(shell, "help auth login")


def test_history_persists_across_sessions(home, monkeypatch, sim):
    monkeypatch.setattr("sys.argv", ["imptsh"])
    path = history_path(os.environ)
    first = ImptShell(Session(env=os.environ, home=home), history_file=path, stdout=io.StringIO())
    first.onecmd_plus_hooks("pwd")
    first.onecmd_plus_hooks("help")
    first._persist_history()
    assert path.exists()
    second = ImptShell(Session(env=os.environ, home=home), history_file=path, stdout=io.StringIO())
    assert [h.statement.raw for h in second.history][-2:] == ["pwd", "help"]


# -- shell built-ins: the ones kept are listed and behave; the rest are gone ----------------


def test_help_lists_the_shell_built_ins(shell):
    out = run(shell, "help")
    for word in ("history", "alias", "macro", "set", "shortcuts", "run_script", "shell", ";"):
        assert word in out


@pytest.mark.parametrize("line", ["edit", "run_pyscript x.py", "_relative_run_script x", "py"])
def test_removed_built_ins_are_unknown_commands(shell, line):
    out = run(shell, line)
    assert out.startswith(f"Error: Unknown command: {line.split()[0]}. "), out
    assert out.splitlines()[-1] == "IMPT COMMAND FAILS"
    assert shell.last_status == 1


def test_set_offers_only_settings_that_mean_something(shell, capfd):
    out = run(shell, "set")
    for name in ("echo", "editor", "timing"):
        assert name in out
    for name in ("debug", "allow_style", "traceback_width", "scripts_add_to_history"):
        assert name not in out
    capfd.readouterr()
    assert run(shell, "set debug true") == "IMPT COMMAND FAILS\n"
    assert capfd.readouterr().err == (
        "Error: Parameter 'debug' not supported (type 'set' for list of parameters).\n"
    )
    assert shell.last_status == 1
    assert run(shell, "set timing false") and shell.last_status == 0


def test_alias_macro_and_shortcuts_work_and_fail_like_commands(shell, sim, capfd):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    assert run(shell, "alias create pl product list") and shell.last_status == 0
    assert "No Products are found." in run(shell, "pl")
    run(shell, "product create -n M")
    assert run(shell, "macro create pi product info -p {1}") and shell.last_status == 0
    assert re.search(r"^  name: +M$", run(shell, "pi M"), re.M)
    capfd.readouterr()
    assert run(shell, "alias") == "IMPT COMMAND FAILS\n" and shell.last_status == 1
    assert "Error: the following arguments are required" in capfd.readouterr().err
    assert run(shell, "alias delete nothing") == "IMPT COMMAND FAILS\n"
    assert capfd.readouterr().err == "Error: Alias 'nothing' does not exist\n"
    shortcuts = run(shell, "shortcuts")
    assert "@: run_script" in shortcuts and "@@" not in shortcuts and shell.last_status == 0


def test_history_errors_are_errors(shell, capfd):
    capfd.readouterr()
    assert run(shell, "history 99") == "IMPT COMMAND FAILS\n" and shell.last_status == 1
    assert capfd.readouterr().err.startswith("Error: There is no history item 99: the history")
    edit = run(shell, "history -e")
    assert edit.splitlines() == [
        "Error: history --edit needs a terminal to run the editor in.",
        "IMPT COMMAND FAILS",
    ]


def test_run_script_stops_at_the_first_failing_line(shell, sim, home, capfd):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    script = home / "steps.imptsh"
    script.write_text("product create -n One\nproduct info -p Nope\nproduct create -n Two\n")
    out = run(shell, f"run_script {script}")
    assert shell.last_status == 1
    assert 'Product "One" is created successfully.' in out and "Two" not in out
    assert f"imptsh: {script}:2: command failed: product info -p Nope" in capfd.readouterr().err
    assert out.count("IMPT COMMAND FAILS") == 1
    names = [p["Product"]["name"] for p in json.loads(run(shell, "product list -z json"))]
    assert names == ["One"]
    missing = run(shell, "run_script /no/such/file")
    assert shell.last_status == 1 and "cannot read /no/such/file" in capfd.readouterr().err
    assert missing == ""


# -- every failure ends like impt's; one line may hold several commands -----------------------


def test_unclosed_quotes_fail_like_a_command(shell):
    out = run(shell, 'product create --name "unterminated')
    assert out.splitlines() == [
        'Error: Invalid command line: the quotation mark (") at position 23 is never closed.',
        "IMPT COMMAND FAILS",
    ]
    assert shell.last_status == 1


def test_unknown_commands_end_with_fails(shell):
    out = run(shell, "frobnicate now")
    assert out.splitlines()[-1] == "IMPT COMMAND FAILS" and shell.last_status == 1


def test_every_command_of_a_line_runs_in_order(shell, sim, home):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    out = run(shell, "product create -n 'a;b'; product list -z minimal;pwd")
    assert 'Product "a;b" is created successfully.' in out
    assert "name: a;b" in out
    assert out.rstrip().endswith(str(Path.cwd()))
    assert shell.last_status == 0
    failed = run(shell, "product info -p nope; pwd")
    assert 'Error: Product "nope" is not found.' in failed
    assert failed.rstrip().endswith(str(Path.cwd()))  # interactive: like sh, the rest runs
    assert shell.last_status == 1
    script_like = shell.run_command_line("product info -p nope; product create -n Never")
    assert script_like == 1
    assert "Never" not in run(shell, "product list")


def test_impt_version_in_the_shell(shell):
    from imptsh import __version__

    assert run(shell, "impt --version") == f"{__version__}\n"
    assert run(shell, "impt -v") == f"{__version__}\n" and shell.last_status == 0


def test_quit_ends_a_script(shell, home):
    script = home / "short.imptsh"
    script.write_text("pwd\nquit\ncd /\npwd\n")
    assert shell.run_file(script, keep_going=False) == 0
    assert shell.out.getvalue() == f"{Path.cwd()}\n"


def test_a_device_group_name_cannot_drive_the_prompt(shell, sim, home):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    project = _project_of_a_new_group(shell, home, "DG\x1b[2J\x1b]0;x\x07")
    run(shell, f"cd {project}")
    assert shell.prompt == "imptsh DG\\x1b[2J\\x1b]0;x\\x07> "


def test_comments_are_not_commands(shell):
    assert run(shell, "# a note") == "" and shell.last_status == 0
    assert run(shell, "pwd # where; cd /") == f"{Path.cwd()}\n"
