"""Shared fixtures and helpers: a live simulator on loopback, scratch HOME and working
directory, runners for the CLI in-process and as a real subprocess, a logged-in API client
for setting up and checking state, and a recorder of the requests a session sends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from imptsh.api import resources
from imptsh.api.auth import login_with_password
from imptsh.api.client import Client, Credentials, Exchange, RetryPolicy
from imptsh.cache import EntityCache
from imptsh.commands.runner import run_line
from imptsh.entities import ENTITIES
from imptsh.session import Session
from imptsh.shell import ImptShell, history_path

REPO = Path(__file__).resolve().parent.parent
FAST_RETRY = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05, max_retry_after_s=0.05)

OK = "IMPT COMMAND SUCCEEDS"
FAILS = "IMPT COMMAND FAILS"
CANCELED = "Operation is canceled."
ASK = "Enter 'y' (yes) or 'n' (no): "
DEV = "development_devicegroup"

for _var in (
    "NO_COLOR",
    "FORCE_COLOR",
    "COLUMNS",
    "IMPT_AUTH_FILE_PATH",
    "IMPT_LOGINKEY",
    "IMPT_USER",
    "IMPT_PASSWORD",
    "IMPT_ENDPOINT",
):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def sim_server() -> Iterator[object]:
    from imptsh.sim.server import start

    sim = start(port=0, devices=3, log_interval=0.5, runner="literal")
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_server: object) -> object:
    """The simulator with fresh state: user demo/demo, 3 unassigned online devices."""
    sim_server.reset()
    return sim_server


@pytest.fixture(scope="session")
def squirrel_sim_server() -> Iterator[object]:
    """A simulator whose devices run their code on the Squirrel VM (skips without it).
    Device clocks follow the wall clock; tests move them on through the control plane. A
    handler may run 1 s before the watchdog stops it."""
    from imptsh.sim import squirrel
    from imptsh.sim.server import start

    if not squirrel.available():
        pytest.skip(squirrel.unavailable_reason() or "the Squirrel VM is not available")
    sim = start(
        port=0,
        devices=3,
        log_interval=0,
        runner=lambda: squirrel.SquirrelRunner(handler_timeout=1.0),
    )
    yield sim
    sim.stop()


@pytest.fixture
def squirrel_sim(squirrel_sim_server: object) -> object:
    """The Squirrel-running simulator with fresh state (nothing running, 3 devices)."""
    squirrel_sim_server.reset()
    return squirrel_sim_server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch HOME with its own working directory `home/work`, the cwd for the test."""
    home = tmp_path / "home"
    work = home / "work"
    work.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for var in (
        "IMPT_AUTH_FILE_PATH",
        "IMPT_LOGINKEY",
        "IMPT_USER",
        "IMPT_PASSWORD",
        "IMPT_ENDPOINT",
        "NO_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(work)
    return home


@dataclass
class Result:
    status: int
    out: str


@dataclass(frozen=True)
class Sent:
    """One request a session sent, as its client's observer saw it answered."""

    method: str
    path: str  # below the endpoint (`/products`); a followed `links.next` keeps its query
    params: dict[str, Any] | None
    headers: dict[str, str]
    body: Any
    status: int | None


class RequestRecorder:
    """Every request a session's clients send from its creation on, through the session's
    public observer list."""

    def __init__(self, session: Session):
        self.sent: list[Sent] = []
        session.observers.append(self._observe)

    def _observe(self, exchange: Exchange) -> None:
        url = urlsplit(exchange.url)
        path = url.path.removeprefix("/v5") + (f"?{url.query}" if url.query else "")
        self.sent.append(
            Sent(
                exchange.method,
                path,
                exchange.params,
                dict(exchange.headers),
                exchange.body,
                exchange.status,
            )
        )

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request, in order."""
        return [(s.method, s.path) for s in self.sent]

    def __len__(self) -> int:
        return len(self.sent)

    def clear(self) -> None:
        self.sent.clear()


class Impt:
    """Runs impt command lines in-process against one Session, like one shell session."""

    def __init__(self, session: Session, stdin: io.StringIO):
        self.session = session
        self._stdin = stdin

    def __call__(self, line: str | list[str], stdin: str = "") -> Result:
        import shlex

        tokens = shlex.split(line) if isinstance(line, str) else line
        self._stdin.seek(0)
        self._stdin.truncate()
        self._stdin.write(stdin)
        self._stdin.seek(0)
        out = io.StringIO()
        self.session.prompter.stdout = out
        status = run_line(self.session, tokens, out)
        return Result(status, out.getvalue())

    def record_requests(self) -> RequestRecorder:
        """Records the requests of the command lines run from now on."""
        return RequestRecorder(self.session)


@pytest.fixture
def impt(home: Path) -> Impt:
    stdin = io.StringIO()
    session = Session(
        env=os.environ, home=home, stdin=stdin, stdout=io.StringIO(), retry=FAST_RETRY
    )
    return Impt(session, stdin)


@pytest.fixture
def logged_in(impt: Impt, sim: object) -> Impt:
    """`impt` after a global `auth login` as demo/demo against the simulator."""
    result = impt(f"auth login --endpoint {sim.base_url} --user demo --pwd demo")
    assert result.status == 0, result.out
    return impt


@pytest.fixture
def shell(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImptShell]:
    """The interactive shell of a fresh session, in-process, its output in `shell.out` and
    its history in the scratch HOME (the background fill of names is not started)."""
    monkeypatch.setattr("sys.argv", ["imptsh"])
    out = io.StringIO()
    session = Session(env=os.environ, home=home, stdin=io.StringIO(), stdout=out, retry=FAST_RETRY)
    app = ImptShell(session, history_file=history_path(os.environ), stdout=out)
    app.out = out
    yield app
    app.refresher.close()
    if session.started_log_tasks is not None:
        session.started_log_tasks.stop_all()


def run_in_shell(shell: ImptShell, line: str) -> str:
    """What typing `line` at `shell`'s prompt prints."""
    shell.out.seek(0)
    shell.out.truncate()
    shell.onecmd_plus_hooks(line)
    return shell.out.getvalue()


def run_imptsh(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`imptsh ARGS` as a real subprocess (what a CI script does): no controlling terminal,
    so a prompt fails at once instead of waiting for whoever runs the tests."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "imptsh", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


def sim_control(sim: object, path: str, body: dict | None = None) -> dict:
    response = requests.post(f"{sim.root_url}/_sim/{path}", json=body or {}, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else {}


def lines(out: str) -> list[str]:
    """The lines printed (only `\n` ends a line: source code may hold a `\r`)."""
    return out.rstrip("\n").split("\n")


def row(key: str, value: str, width: int, indent: int = 2) -> str:
    """A rendered `key: value` line of a map whose longest key has `width` characters."""
    return f"{' ' * indent}{key}: {' ' * (width - len(key))}{value}"


def write_project(dg: dict[str, Any] | str, device_file: str = "", agent_file: str = "") -> None:
    """A Project file for `dg` in the current directory."""
    dg_id = dg if isinstance(dg, str) else dg["id"]
    data = {"deviceGroupId": dg_id, "deviceFile": device_file, "agentFile": agent_file}
    Path(".impt.project").write_text(json.dumps(data, indent=2))


Ref = dict[str, Any] | str
"""An entity as its resource or its id."""


def _id(ref: Ref) -> str:
    return ref if isinstance(ref, str) else ref["id"]


class SimApi:
    """The demo account's own logged-in client, for setting up state and checking what
    commands did (not through the session under test). Entity arguments are resources or
    ids; created entities come back as resources."""

    def __init__(self, sim: Any):
        self.sim = sim
        self.client = Client(sim.base_url, retry=FAST_RETRY, session=requests.Session())
        tokens = login_with_password(self.client, "demo", "demo", lambda: "")
        self.client.credentials = Credentials(
            tokens["access_token"], tokens["expires_at"], refresh_token=tokens["refresh_token"]
        )
        self.cache = EntityCache()  # the resource functions want one; nothing reads it

    # -- reading ----------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        """`data` of `GET path` (a resource or a list)."""
        return self.client.get(path, params or None)["data"]

    def find(self, kind: str, ref: Ref) -> dict[str, Any] | None:
        return self.client.find_resource(ENTITIES[kind].collection, _id(ref))

    def entity(self, kind: str, ref: Ref) -> dict[str, Any]:
        return self.client.get_resource(ENTITIES[kind].collection, _id(ref))

    def devices(self, **filters: str) -> list[dict[str, Any]]:
        return self.client.list("/devices", filters or None)

    def device(self, ref: Ref) -> dict[str, Any]:
        return self.entity("device", ref)

    # -- changing ---------------------------------------------------------------------------

    def product(
        self, name: str, owner: str | None = None, descr: str | None = None
    ) -> dict[str, Any]:
        return resources.create_product(
            self.client, self.cache, name, description=descr, owner_id=owner
        )

    def dg(
        self,
        product: Ref,
        name: str,
        typ: str = DEV,
        descr: str | None = None,
        **targets: Ref,
    ) -> dict[str, Any]:
        """`targets`: `production_target=` and `dut_target=` Device Groups."""
        return resources.create_device_group(
            self.client,
            self.cache,
            typ,
            name,
            _id(product),
            description=descr,
            **{k: self._dg(v) for k, v in targets.items()},
        )

    def deploy(self, dg: Ref, device_code: str = "", **attrs: Any) -> dict[str, Any]:
        """A deployment of `dg`; `attrs` as `resources.create_deployment` takes them."""
        attrs.setdefault("agent_code", "")
        build = resources.create_deployment(
            self.client, self.cache, self._dg(dg), device_code=device_code, **attrs
        )
        time.sleep(0.003)  # the next one gets a later created_at (millisecond resolution)
        return build

    def zombie(self, product: Ref, device_code: str, **attrs: Any) -> dict[str, Any]:
        """A deployment left without a group, as group deletes before 2024 left them."""
        rels = {"product": {"type": "product", "id": _id(product)}}
        attributes = {"device_code": device_code, "agent_code": "", **attrs}
        body = {"data": {"type": "deployment", "attributes": attributes, "relationships": rels}}
        return sim_control(self.sim, "zombies", body)["data"]

    def update_build(self, build: Ref, **attrs: Any) -> None:
        resources.update_deployment(self.client, self.cache, _id(build), **attrs)

    def set_min(self, dg: Ref, build: Ref) -> None:
        resources.set_min_supported_deployment(self.client, self.cache, _id(dg), _id(build))

    def assign(self, dg: Ref, *devices: Ref) -> list[dict[str, Any]]:
        """Assigns the devices; returns them as they are now."""
        ids = [_id(d) for d in devices]
        resources.assign_devices(self.client, self.cache, _id(dg), ids)
        return [self.device(i) for i in ids]

    def rename(self, device: Ref, name: str) -> None:
        resources.update_device(self.client, self.cache, _id(device), name)

    def webhook(
        self, dg: Ref, url: str = "https://example.com/hook", event: str = "deployment"
    ) -> dict[str, Any]:
        return resources.create_webhook(
            self.client, self.cache, self._dg(dg), url, event, "application/json"
        )

    def delete(self, kind: str, ref: Ref) -> None:
        resources.delete_entity(self.client, self.cache, kind, _id(ref))

    def _dg(self, ref: Ref) -> dict[str, Any]:
        return ref if isinstance(ref, dict) else self.entity("dg", ref)


@pytest.fixture
def api(sim: Any) -> SimApi:
    """A logged-in client of the demo account against a fresh simulator."""
    return SimApi(sim)


@pytest.fixture
def other(sim: Any) -> dict[str, Any]:
    """A second account, `other`, whose entities demo can see (demo collaborates on it)."""
    account = sim_control(
        sim, "accounts", {"username": "other", "password": "pw", "email": "other@example.com"}
    )["data"]
    sim_control(sim, "collaborators", {"account": "other", "collaborator": "demo"})
    return account
