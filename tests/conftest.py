"""Shared fixtures: a live simulator on loopback, scratch HOME and working directory,
runners for the CLI in-process and as a real subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from imptsh.api.client import RetryPolicy
from imptsh.commands.runner import run_line
from imptsh.session import Session

REPO = Path(__file__).resolve().parent.parent
FAST_RETRY = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05, max_retry_after_s=0.05)

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

    sim = start(port=0, devices=3, log_interval=0.5)
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_server: object) -> object:
    """The simulator with fresh state: user demo/demo, 3 unassigned online devices."""
    sim_server.reset()
    return sim_server


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


class SimApi:
    """Direct API access for setting up and checking state (not through imptsh)."""

    def __init__(self, sim: Any):
        self.base = sim.base_url
        token = requests.post(
            f"{self.base}/auth", json={"id": "demo", "password": "demo"}, timeout=10
        ).json()["access_token"]
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.api+json",
        }

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        r = requests.request(
            method,
            self.base + path,
            json=body,
            params=params or None,
            headers=self.headers,
            timeout=10,
        )
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params)["data"]

    def product(self, name: str) -> dict[str, Any]:
        body = {"data": {"type": "product", "attributes": {"name": name}}}
        return self.call("POST", "/products", body)["data"]

    def dg(
        self, product: dict[str, Any], name: str, typ: str = "development_devicegroup"
    ) -> dict[str, Any]:
        body = {
            "data": {
                "type": typ,
                "attributes": {"name": name, "description": f"{name} descr"},
                "relationships": {"product": {"type": "product", "id": product["id"]}},
            }
        }
        return self.call("POST", "/devicegroups", body)["data"]

    def deploy(self, dg: dict[str, Any], device_code: str = "", **attrs: Any) -> dict[str, Any]:
        body = {
            "data": {
                "type": "deployment",
                "attributes": {"device_code": device_code, "agent_code": "", **attrs},
                "relationships": {"devicegroup": {"type": dg["type"], "id": dg["id"]}},
            }
        }
        return self.call("POST", "/deployments", body)["data"]

    def patch_build(self, build_id: str, **attrs: Any) -> None:
        body = {"data": {"type": "deployment", "id": build_id, "attributes": attrs}}
        self.call("PATCH", f"/deployments/{build_id}", body)

    def devices(self) -> list[dict[str, Any]]:
        return self.get("/devices")

    def assign(self, dg: dict[str, Any], *device_ids: str) -> None:
        body = {"data": [{"type": "device", "id": d} for d in device_ids]}
        self.call("POST", f"/devicegroups/{dg['id']}/relationships/devices", body)

    def set_min(self, dg: dict[str, Any], build: dict[str, Any]) -> None:
        body = {"data": {"type": "deployment", "id": build["id"]}}
        self.call("PUT", f"/devicegroups/{dg['id']}/relationships/min_supported_deployment", body)

    def delete_dg(self, dg: dict[str, Any]) -> None:
        self.call("DELETE", f"/devicegroups/{dg['id']}")

    def device(self, device_id: str) -> dict[str, Any]:
        return self.get(f"/devices/{device_id}")

    def rename(self, device_id: str, name: str) -> None:
        body = {"data": {"type": "device", "id": device_id, "attributes": {"name": name}}}
        self.call("PATCH", f"/devices/{device_id}", body)
