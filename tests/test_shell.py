"""The cmd2 shell in-process: prompt, cd/pwd, help, history, failures setting the status."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from imptsh.session import Session
from imptsh.shell import ImptShell, history_path
from tests.conftest import FAST_RETRY


@pytest.fixture
def shell(home: Path, monkeypatch: pytest.MonkeyPatch) -> ImptShell:
    monkeypatch.setattr("sys.argv", ["imptsh"])
    out = io.StringIO()
    session = Session(env=os.environ, home=home, stdin=io.StringIO(), stdout=out, retry=FAST_RETRY)
    app = ImptShell(session, history_file=history_path(os.environ), stdout=out)
    app.out = out
    return app


def run(shell: ImptShell, line: str) -> str:
    shell.out.seek(0)
    shell.out.truncate()
    shell.onecmd_plus_hooks(line)
    return shell.out.getvalue()


def test_prompt_follows_login_and_project(shell, sim, home):
    assert shell.prompt == "imptsh (not logged in)> "
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    assert shell.prompt == "imptsh> "
    run(shell, "product create -n Prod")
    dg = shell.session.client(_quiet()).post(
        "/devicegroups",
        {
            "data": {
                "type": "development_devicegroup",
                "attributes": {"name": "MyDevDG"},
                "relationships": {"product": {"type": "product", "id": _product_id(shell)}},
            }
        },
    )["data"]
    project = home / "proj"
    project.mkdir()
    (project / ".impt.project").write_text(json.dumps({"deviceGroupId": dg["id"]}))
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
