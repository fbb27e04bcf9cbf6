"""One user session: where commands run, who they run as, and what is remembered between
commands (logged-in clients, the entity cache, the current account)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .api.auth import login_with_key, login_with_password
from .api.client import Client, Credentials, Exchange, Observer, RetryPolicy
from .cache import EntityCache
from .context import AuthContext, SessionLogin, resolve_context
from .output.printer import Output
from .project import ProjectFile, load_project
from .prompts import Prompter

if TYPE_CHECKING:
    from .logs import LogTasks


class Session:
    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        session_login: SessionLogin | None = None,
        default_endpoint: str | None = None,
        retry: RetryPolicy | None = None,
    ):
        self.env = env if env is not None else os.environ
        self._home = home
        # `stdin` stands in for the terminal that prompts read (tests); None: /dev/tty.
        self.prompter = Prompter(stdin, stdout)
        self.session_login = session_login
        self.default_endpoint = default_endpoint
        self.retry = retry
        self._clients: dict[tuple[Any, ...], Client] = {}
        self._caches: dict[tuple[Any, ...], EntityCache] = {}
        self._me: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.observers: list[Observer] = []
        """Called with every HTTP exchange of the session's clients, after `-z debug`'s."""
        self.log_tasks_in_background = False
        """Whether the log tasks, once the log machinery loads, run in the background (a
        script's); the shell sets its own tasks up itself."""
        self._log_tasks: LogTasks | None = None
        self._log_tasks_lock = threading.Lock()

    @property
    def log_tasks(self) -> LogTasks:
        """The session's log tasks (`log_tasks.summary()` is cheap and thread-safe). The log
        machinery loads the first time they are asked for: one-shot commands other than
        `log` and `--log` never load it."""
        with self._log_tasks_lock:
            if self._log_tasks is None:
                from .logs import LogConfig, LogTasks

                self._log_tasks = LogTasks(LogConfig.from_env(self.env))
                self._log_tasks.background = self.log_tasks_in_background
            return self._log_tasks

    @log_tasks.setter
    def log_tasks(self, tasks: LogTasks) -> None:
        with self._log_tasks_lock:
            self._log_tasks = tasks

    @property
    def started_log_tasks(self) -> LogTasks | None:
        """The log tasks if anything has asked for them yet (never loads them)."""
        return self._log_tasks

    @property
    def cwd(self) -> Path:
        return Path(os.getcwd())

    @property
    def home(self) -> Path:
        return self._home or Path(self.env.get("HOME") or Path.home())

    def context(self) -> AuthContext:
        return resolve_context(self.cwd, self.env, self.home, self.session_login)

    def project(self) -> ProjectFile | None:
        return load_project(self.cwd)

    def client(self, out: Output, context: AuthContext | None = None) -> Client:
        """A logged-in client for the current context, reused while the context stays the
        same so that connections, tokens and the cache survive between commands."""
        ctx = context or self.context()
        key = ctx.identity()
        client = self._clients.get(key)
        if client is None:
            client = Client(ctx.endpoint, ctx.credentials, retry=self.retry)
            client.observer = self._observer(out)
            if ctx.kind == "env":
                self._env_login(client, ctx)
            self._clients[key] = client
        client.observer = self._observer(out)
        return client

    def observe(self, exchange: Exchange) -> None:
        """Hands an exchange to every session observer (clients working outside a command,
        such as a log stream's, report here)."""
        for watch in list(self.observers):
            watch(exchange)

    def _observer(self, out: Output) -> Observer | None:
        """What watches this command's requests: `-z debug` output, then `observers`."""
        watchers = ([out.exchange] if out.mode == "debug" else []) + self.observers
        if not watchers:
            return None

        def observe(exchange: Exchange) -> None:
            for watch in watchers:
                watch(exchange)

        return observe

    def _env_login(self, client: Client, ctx: AuthContext) -> None:
        login = ctx.env_login
        if "loginkey" in login:
            tokens = login_with_key(client, login["loginkey"])
            key = login["loginkey"]
        else:
            password = login.get("password")
            if password is None:
                password = self.prompter.secret("Enter password: ")
            tokens = login_with_password(
                client,
                login["user"],
                password,
                lambda: self.prompter.secret("Enter one-time password: "),
            )
            key = None
        client.credentials = Credentials(
            tokens["access_token"],
            tokens.get("expires_at", ""),
            refresh_token=tokens.get("refresh_token"),
            login_key=key,
        )
        ctx.credentials = client.credentials

    def cache(self, context: AuthContext) -> EntityCache:
        """The entity cache of the account `context` logs in as (kept across commands;
        thread-safe: a background fill asks for it too)."""
        key = _account_key(context)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches.setdefault(key, EntityCache())
        return cache

    def known_credentials(self, context: AuthContext) -> Credentials | None:
        """The credentials `context` has, or those its logged-in client got (a login from
        environment variables happens at the first command); None when there are none yet.
        Never logs in, never asks anything."""
        if context.credentials is not None:
            return context.credentials
        client = self._clients.get(context.identity())
        return client.credentials if client is not None else None

    def me(self, client: Client, context: AuthContext) -> dict[str, Any]:
        """The current account of `context` (`GET /accounts/me` with its logged-in `client`),
        fetched once per login."""
        key = _account_key(context)
        if key not in self._me:
            self._me[key] = client.get_resource("/accounts", "me")
        return self._me[key]

    def forget_logins(self) -> None:
        self._clients.clear()
        self._me.clear()
        self._caches.clear()


def _account_key(ctx: AuthContext) -> tuple[Any, ...]:
    path = str(ctx.file.path) if ctx.file else None
    return (ctx.kind, ctx.endpoint, path, tuple(sorted(ctx.env_login.items())))
