"""The interactive shell's bottom toolbar: who is logged in where (and whether it is the
simulator), the current Project's Device Group, the running log tasks with their line counts,
and what the background fill of names is doing.

It is drawn on every redraw of the prompt, so it only reads what is already in memory: the
fill's status, the label the prompt computed, and the log tasks' summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .completion.index import one_line
from .completion.refresher import FAILED, LOADING, NOT_LOGGED_IN, WAITING, RefreshStatus
from .entities import ENTITIES
from .logs.task import ENDED, RUNNING

ENV_VAR = "IMPTSH_TOOLBAR"
"""`IMPTSH_TOOLBAR=off` (or 0, no, false) starts the shell without the toolbar."""
MIN_COLUMNS = 40
MIN_ROWS = 8
SEPARATOR = " | "


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the toolbar is on at start-up (the `toolbar` setting changes it later)."""
    return env.get(ENV_VAR, "").strip().lower() not in ("0", "off", "no", "false")


def fits(columns: int, rows: int) -> bool:
    """A terminal too small for the toolbar keeps every line for the commands."""
    return columns >= MIN_COLUMNS and rows >= MIN_ROWS


def toolbar_text(
    status: RefreshStatus,
    *,
    logged_in: bool,
    project_dg: str | None,
    log_tasks: Any,
    width: int,
) -> str:
    """One line, at most `width` characters: the segments that have something to say."""
    segments = [_login(status, logged_in)]
    if project_dg:
        segments.append(f"project: {project_dg}")
    logs = log_segment(log_tasks)
    if logs:
        segments.append(logs)
    fill = _fill(status)
    if fill:
        segments.append(fill)
    text = " " + one_line(SEPARATOR.join(segments))
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def _login(status: RefreshStatus, logged_in: bool) -> str:
    if not logged_in or status.state == NOT_LOGGED_IN:
        return "not logged in"
    if status.endpoint is None:
        return "logged in"
    host = urlsplit(status.endpoint).netloc or status.endpoint
    who = f"{status.account} @ {host}" if status.account else host
    return who + (" (simulator)" if status.simulator else "")


def _fill(status: RefreshStatus) -> str:
    if status.state == LOADING:
        kinds = ", ".join(ENTITIES[k].plural.lower() for k in status.loading)
        return f"loading {kinds}..." if kinds else "loading names..."
    if status.state in (FAILED, WAITING):
        return f"names: {status.note}"
    return ""


def log_segment(log_tasks: Any) -> str:
    """The session's log tasks that have not ended (`session.log_tasks.summary()`): each
    task's id and line count, and its state when it is not simply running."""
    if log_tasks is None:
        return ""
    try:
        summary = log_tasks.summary()
    except Exception:  # noqa: BLE001 - the toolbar must never fail
        return ""
    parts = []
    for task in summary:
        if task.state in ENDED:
            continue
        lines = f"{task.lines} line{'' if task.lines == 1 else 's'}"
        state = "" if task.state == RUNNING else f" {task.state}"
        parts.append(f"#{task.id} {lines}{state}")
    return "logs: " + ", ".join(parts) if parts else ""
