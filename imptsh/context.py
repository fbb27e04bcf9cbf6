"""Auth files, environment variables and impt's six-step execution-context rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .api.client import Credentials
from .api.endpoints import DEFAULT_ENDPOINT, endpoint_problem
from .files import NotUtf8Error, read_text, write_atomically

AUTH_FILE_NAME = ".impt.auth"


class ContextError(Exception):
    """The auth context cannot be used; `message` is the `Error:` text, `hint` an INFO line."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class AuthData:
    endpoint: str
    access_token: str
    expires_at: str
    login_key: str | None = None
    refresh_token: str | None = None

    def to_json(self) -> str:
        fields = {
            "endpoint": self.endpoint,
            "accessToken": self.access_token,
            "expiresAt": self.expires_at,
            "loginKey": self.login_key,
            "refreshToken": self.refresh_token,
        }
        return json.dumps({k: v for k, v in fields.items() if v}, indent=2)


@dataclass(frozen=True)
class AuthFile:
    """One `.impt.auth`: `local` (cwd), `global` (home) or `path` ($IMPT_AUTH_FILE_PATH)."""

    path: Path
    kind: str

    @property
    def label(self) -> str:
        """The name used in impt's messages: `Local Auth`, `Global Auth` or `Auth`."""
        return {"local": "Local Auth", "global": "Global Auth"}.get(self.kind, "Auth")

    @property
    def auth_type(self) -> str:
        return {"local": "Local Auth file", "global": "Global Auth file"}.get(
            self.kind, f"Auth file path: {self.path.parent}"
        )

    def relogin_hint(self) -> str | None:
        if self.kind == "path":
            return None
        verb = "relogin" if self.path.exists() else "login"
        cmd = "impt auth login --local" if self.kind == "local" else "impt auth login"
        return f'Please {verb} using "{cmd}" command and then try again.'

    def exists(self) -> bool:
        return self.path.is_file()

    def present(self) -> bool:
        """Something is at the path (a file, or something in the way of one)."""
        return self.path.exists()

    def load(self) -> AuthData:
        try:
            raw = read_text(self.path)
        except FileNotFoundError:
            raise ContextError(f"{self.label} File is not found.") from None
        except IsADirectoryError:
            raise ContextError(self.in_the_way()) from None
        except NotUtf8Error as exc:
            raise self.corrupted(f"{self.path} is {exc.strerror}") from None
        except OSError as exc:
            raise ContextError(
                f"File error: {self.path}: {exc.strerror or exc}.", self.relogin_hint()
            ) from None
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("accessToken"), str)
            or not isinstance(data.get("expiresAt"), str)
        ):
            raise self.corrupted(f"{self.path} holds no valid login")
        endpoint = str(data.get("endpoint") or DEFAULT_ENDPOINT)
        problem = endpoint_problem(endpoint)
        if problem is not None:
            raise self.corrupted(f'{self.path} names the endpoint "{endpoint}", which {problem}')
        return AuthData(
            endpoint=endpoint,
            access_token=data["accessToken"],
            expires_at=data["expiresAt"],
            login_key=data.get("loginKey") or None,
            refresh_token=data.get("refreshToken") or None,
        )

    def corrupted(self, why: str) -> ContextError:
        return ContextError(f"{self.label} File is corrupted ({why}).", self.relogin_hint())

    def in_the_way(self) -> str:
        """The error for a directory where the auth file should be."""
        return (
            f"{self.label} File {self.path} is a directory, not a file: remove or rename it, "
            "then log in again."
        )

    def save(self, data: AuthData) -> None:
        if self.path.is_dir():
            raise ContextError(self.in_the_way())
        write_atomically(self.path, data.to_json(), mode=0o600)

    def credentials(self, data: AuthData) -> Credentials:
        def persist(creds: Credentials) -> None:
            data.access_token, data.expires_at = creds.access_token, creds.expires_at
            if data.refresh_token and creds.refresh_token:
                data.refresh_token = creds.refresh_token
            self.save(data)

        return Credentials(
            data.access_token,
            data.expires_at,
            refresh_token=data.refresh_token,
            login_key=data.login_key,
            persist=persist,
        )


def local_auth_file(cwd: Path) -> AuthFile:
    return AuthFile(Path(cwd) / AUTH_FILE_NAME, "local")


def global_auth_file(home: Path) -> AuthFile:
    return AuthFile(Path(home) / AUTH_FILE_NAME, "global")


@dataclass
class AuthContext:
    """Where this command's credentials come from, and the credentials themselves.

    For environment-variable contexts `credentials` stays None until the session logs in
    with `env_login` (a login key, or a user with an optional password)."""

    kind: str  # local | path | session | env | global
    endpoint: str
    auth_type: str
    file: AuthFile | None = None
    data: AuthData | None = None
    credentials: Credentials | None = None
    env_login: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.file.label if self.file else "Auth"

    @property
    def auto_refresh(self) -> bool:
        if self.kind in ("env", "session"):
            return True
        return bool(self.data and (self.data.login_key or self.data.refresh_token))

    @property
    def uses_login_key(self) -> bool:
        if self.kind == "env":
            return "loginkey" in self.env_login
        return bool(self.data and self.data.login_key)

    def identity(self) -> tuple[Any, ...]:
        """What makes two contexts interchangeable, for reusing a logged-in client."""
        if self.file is not None and self.data is not None:
            return (self.kind, str(self.file.path), self.data.access_token, self.endpoint)
        return (self.kind, self.endpoint, tuple(sorted(self.env_login.items())))


class PendingCredentials(Protocol):
    """Credentials still on their way (a simulator starting in the background)."""

    def ready(self) -> bool: ...

    def wait(self) -> Credentials:
        """The credentials once they are there; ContextError when they never will be."""
        ...


class SessionLogin:
    """An in-memory login that is never written to disk (`imptsh --sim`). A session that
    has one is isolated: no auth file or IMPT_* variable is read, whatever the directory.
    Its credentials may come later: reading them waits (`ready` says whether it would)."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials | PendingCredentials,
        auth_type: str = "Session login (no auth file)",
    ):
        self.endpoint = endpoint
        self.auth_type = auth_type
        self._credentials = credentials if isinstance(credentials, Credentials) else None
        self._pending = None if isinstance(credentials, Credentials) else credentials

    @property
    def ready(self) -> bool:
        return self._credentials is not None or (
            self._pending is not None and self._pending.ready()
        )

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            assert self._pending is not None
            self._credentials = self._pending.wait()
        return self._credentials


def resolve_context(
    cwd: Path,
    env: Mapping[str, str],
    home: Path,
    session_login: SessionLogin | None = None,
) -> AuthContext:
    """impt's order: local file, $IMPT_AUTH_FILE_PATH, IMPT_LOGINKEY / IMPT_USER, global
    file; else not logged in. An in-memory session login replaces all of them."""
    if session_login is not None:
        return AuthContext(
            "session",
            session_login.endpoint,
            session_login.auth_type,
            credentials=session_login.credentials,
        )
    local = local_auth_file(cwd)
    if local.present():
        data = local.load()
        return AuthContext(
            "local", data.endpoint, local.auth_type, local, data, local.credentials(data)
        )
    if env.get("IMPT_AUTH_FILE_PATH"):
        path_file = AuthFile(Path(env["IMPT_AUTH_FILE_PATH"]) / AUTH_FILE_NAME, "path")
        if not path_file.present():
            raise ContextError(f"Auth File is not found ({path_file.path}).")
        data = path_file.load()
        return AuthContext(
            "path", data.endpoint, path_file.auth_type, path_file, data, path_file.credentials(data)
        )
    if env.get("IMPT_LOGINKEY") or env.get("IMPT_USER"):
        endpoint = env.get("IMPT_ENDPOINT") or DEFAULT_ENDPOINT
        problem = endpoint_problem(endpoint)
        if problem is not None:
            raise ContextError(
                f'IMPT_ENDPOINT "{endpoint}" is not an impCentral API endpoint: it {problem} '
                "(e.g. https://api.electricimp.com/v5)."
            )
        if env.get("IMPT_LOGINKEY"):
            login = {"loginkey": env["IMPT_LOGINKEY"]}
        else:
            login = {"user": env["IMPT_USER"]}
            if "IMPT_PASSWORD" in env:
                login["password"] = env["IMPT_PASSWORD"]
        return AuthContext("env", endpoint, "Environment variables", env_login=login)
    glob = global_auth_file(home)
    if glob.present():
        data = glob.load()
        return AuthContext(
            "global", data.endpoint, glob.auth_type, glob, data, glob.credentials(data)
        )
    places = str(cwd) if Path(cwd) == Path(home) else f"{cwd} or {home}"
    raise ContextError(
        f"You are not logged in (no {AUTH_FILE_NAME} in {places}, and no IMPT_* "
        'login variables). Run "auth login" first.'
    )
