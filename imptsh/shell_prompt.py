"""The interactive shell's prompt and bottom toolbar, and the work that starts once the
first prompt is on the screen (part of `ImptShell`).

The prompt names the login state and the current Project's Device Group; it is computed
after every command, never while drawing. The toolbar is drawn on every redraw from what is
in memory (`toolbar.toolbar_text`). Ctrl-C at an empty prompt stops the background log
tasks, as Ctrl-C stops impt's log stream."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from prompt_toolkit.application.current import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from .api.client import Client
from .completion.refresher import CacheRefresher
from .context import AuthContext, ContextError
from .output.render import escape_controls
from .project import ProjectFileError
from .session import Session
from .toolbar import fits, toolbar_text


class PromptAndToolbar:
    """Mixed into the cmd2 app, which provides `active_session`."""

    session: Session
    refresher: CacheRefresher
    prompt: str
    toolbar: bool  # the `toolbar` setting
    active_session: Any
    _dg_names: dict[tuple[str, str], str]
    _logged_in: bool
    _project_label: str | None
    _first_prompt_work: list[Callable[[], None]]

    def refresh_prompt(self) -> None:
        self.prompt = self.prompt_for(*self._current_context())

    def _current_context(self) -> tuple[AuthContext | None, str | None]:
        """The auth context, or None and why there is none; (None, None) while the bundled
        simulator is still starting (logged in, but its login is not there yet)."""
        login = self.session.session_login
        if login is not None and not login.ready:
            return None, None
        try:
            return self.session.context(), None
        except ContextError as exc:
            return None, exc.message

    def prompt_for(self, ctx: AuthContext | None, problem: str | None) -> str:
        """The prompt for the auth context `ctx` (None: not logged in when there is a
        `problem`, else not known yet) and the Project in the current directory."""
        self._logged_in = problem is None
        self._project_label = None
        if problem is not None:
            return "imptsh (not logged in)> "
        try:
            project = self.session.project()
        except ProjectFileError:
            return "imptsh (broken project file)> "
        if project is None:
            return "imptsh> "
        self._project_label = self._dg_label(ctx, project.device_group_id)
        return f"imptsh {self._project_label}> "

    def _dg_label(self, ctx: AuthContext | None, dg_id: str) -> str:
        """The Device Group's name: as the session's cache has it now (commands that create
        or rename a group put it there), else as last seen, else asked for once; its id's
        first characters when it cannot be known."""
        if ctx is None:
            return escape_controls(dg_id[:8])
        key = (ctx.endpoint, dg_id)
        try:
            group = self.session.cache(ctx).get("dg", dg_id)
            if group is None and key not in self._dg_names and ctx.credentials is not None:
                probe = Client(ctx.endpoint, ctx.credentials, timeout=(2.0, 3.0))
                group = probe.find_resource("/devicegroups", dg_id)
        except Exception:  # noqa: BLE001 - the prompt must never fail
            group = None
        name = ((group or {}).get("attributes") or {}).get("name")
        if name:
            # The prompt interprets escape sequences: a name must not bring its own.
            self._dg_names[key] = escape_controls(str(name)).replace("\n", " ")
        return self._dg_names.get(key, escape_controls(dg_id[:8]))

    def after_first_prompt(self, work: Callable[[], None]) -> None:
        """Runs `work` once the first prompt is on the screen (what it does must not hold
        the prompt up: start a thread)."""
        self._first_prompt_work.append(work)

    def pre_prompt(self) -> None:
        session = self.active_session
        columns, rows = _terminal_size(session)
        session.bottom_toolbar = (
            self.get_bottom_toolbar if self.toolbar and fits(columns, rows) else None
        )
        if self._first_prompt_work:
            work, self._first_prompt_work = self._first_prompt_work, []
            app = session.app

            def after_render(_app: Any) -> None:
                while work:  # once: the handler stays, with nothing left to do
                    work.pop(0)()

            app.after_render.add_handler(after_render)

    def get_bottom_toolbar(self) -> Any:
        columns, rows = _terminal_size(self.active_session)
        if not self.toolbar or not fits(columns, rows):
            return ""
        return toolbar_text(
            self.refresher.status(),
            logged_in=self._logged_in,
            project_dg=self._project_label,
            log_tasks=getattr(self.session, "log_tasks", None),
            width=columns,
        )

    def log_task_keys(self, stop_tasks: Callable[[], None]) -> KeyBindings:
        """Ctrl-C at an empty prompt while log tasks run calls `stop_tasks` (which stops
        them all), as Ctrl-C stops a log stream in impt (the Development Guide's "Stop the
        logging by pressing Ctrl-C"); with text on the line, or with no task running,
        Ctrl-C only clears the line."""
        keys = KeyBindings()

        @Condition
        def logging_at_an_empty_prompt() -> bool:
            tasks = self.session.log_tasks
            return tasks.background and not get_app().current_buffer.text and bool(tasks.all())

        @keys.add("c-c", filter=logging_at_an_empty_prompt)
        def _stop_logging(_event: KeyPressEvent) -> None:
            # Stopping takes requests to the server: not in the prompt's own thread.
            threading.Thread(target=stop_tasks, name="imptsh-ctrl-c", daemon=True).start()

        return keys

    def _redraw(self) -> None:
        """Draws the prompt (and its toolbar) again; from any thread."""
        app = getattr(self.active_session, "app", None)
        if app is not None and app.is_running:
            app.invalidate()


def _terminal_size(session: Any) -> tuple[int, int]:
    try:
        size = session.app.output.get_size()
    except Exception:  # noqa: BLE001 - no terminal: no toolbar
        return 0, 0
    return size.columns, size.rows
