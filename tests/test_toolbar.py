"""The bottom toolbar's text: login, endpoint and simulator, the Project's Device Group, log
tasks, the background fill; the setting and the variable that hide it."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from imptsh.completion.refresher import FAILED, LOADING, READY, RefreshStatus
from imptsh.logs.task import PAUSED, RUNNING, STOPPED, TaskSummary
from imptsh.session import Session
from imptsh.shell import ImptShell
from imptsh.toolbar import fits, toolbar_text, wanted
from tests.completion.conftest import logged_in_and_filled
from tests.conftest import SimApi
from tests.conftest import run_in_shell as run

LOGGED_IN = RefreshStatus(READY, account="demo", endpoint="https://api.example.com/v5")


def text(status: RefreshStatus = LOGGED_IN, **kw: Any) -> str:
    args = {"logged_in": True, "project_dg": None, "log_tasks": None, "width": 200, **kw}
    return toolbar_text(status, **args)


class LogTasks:
    """What the log tasks offer the toolbar: `summary()`, cheap and thread-safe."""

    def __init__(self, summary: Any):
        self._summary = summary

    def summary(self) -> Any:
        if isinstance(self._summary, Exception):
            raise self._summary
        return self._summary


def test_login_and_endpoint() -> None:
    assert text() == " demo @ api.example.com"
    sim = RefreshStatus(READY, account="demo", endpoint="http://127.0.0.1:8765/v5", simulator=True)
    assert text(sim) == " demo @ 127.0.0.1:8765 (simulator)"
    assert text(RefreshStatus("not logged in"), logged_in=False) == " not logged in"


def test_project_log_tasks_and_fill_segments() -> None:
    loading = RefreshStatus(
        LOADING, loading=("device",), account="demo", endpoint=LOGGED_IN.endpoint
    )
    tasks = LogTasks(
        [
            TaskSummary(1, ("myDevice1",), 12, RUNNING),
            TaskSummary(2, ("dev2", "dev3"), 1, PAUSED),
            TaskSummary(3, ("dev4",), 7, STOPPED),
        ]
    )
    line = text(loading, project_dg="MyDevDG", log_tasks=tasks)
    assert line == (
        " demo @ api.example.com | project: MyDevDG | logs: #1 12 lines, #2 1 line paused"
        " | loading devices..."
    )
    assert text(log_tasks=LogTasks([TaskSummary(4, ("d",), 0, STOPPED)])) == text()  # ended
    assert text(log_tasks=LogTasks([])) == text()  # nothing running: no segment
    assert text(log_tasks=LogTasks(RuntimeError("gone"))) == text()  # never fails
    failed = RefreshStatus(FAILED, note="Cannot reach impCentral at x: refused.", account="demo")
    assert text(failed).endswith(" | names: Cannot reach impCentral at x: refused.")


def test_text_fits_the_width_and_escapes_what_the_server_named() -> None:
    assert len(text(project_dg="D" * 300, width=60)) == 60
    assert text(project_dg="D" * 300, width=60).endswith("...")
    evil = RefreshStatus(READY, account="x\x1b[2J", endpoint=LOGGED_IN.endpoint)
    assert "\x1b" not in text(evil) and "x\\x1b[2J" in text(evil)


def test_the_variable_and_the_terminal_size() -> None:
    assert wanted({}) and wanted({"IMPTSH_TOOLBAR": "on"})
    assert not any(wanted({"IMPTSH_TOOLBAR": v}) for v in ("off", "0", "no", "false", "OFF"))
    assert fits(80, 24) and not fits(39, 24) and not fits(80, 7)


def test_the_shell_toolbar_follows_login_project_and_setting(shell, sim, api: SimApi) -> None:
    shell.pre_prompt()
    assert shell.get_bottom_toolbar() == " not logged in"
    logged_in_and_filled(shell, sim)  # an endpoint that says it is imptsh's simulator
    host = sim.base_url.split("//")[1].split("/")[0]
    assert shell.get_bottom_toolbar() == f" demo @ {host} (simulator)"
    group = api.dg(api.product("P"), "MyDevDG")
    Path(".impt.project").write_text(json.dumps({"deviceGroupId": group["id"]}))
    run(shell, "pwd")
    assert shell.get_bottom_toolbar() == f" demo @ {host} (simulator) | project: MyDevDG"
    run(shell, "set toolbar false")
    shell.pre_prompt()
    assert shell.get_bottom_toolbar() == "" and shell.active_session.bottom_toolbar is None


def test_the_variable_turns_the_toolbar_off(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPTSH_TOOLBAR", "off")
    app = ImptShell(Session(env=os.environ, home=home), stdout=io.StringIO())
    app.pre_prompt()
    assert not app.toolbar and app.active_session.bottom_toolbar is None
    app.onecmd_plus_hooks("set toolbar true")
    app.pre_prompt()
    assert app.active_session.bottom_toolbar is not None
