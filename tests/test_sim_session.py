"""`imptsh --sim` is an isolated world: whatever auth files and IMPT_* variables exist, every
request goes to the bundled simulator, and no auth file is read, written or deleted.

The `sim` fixture plays the user's real impCentral account here; the session under test
starts its own bundled simulator, as `imptsh --sim` does."""

from __future__ import annotations

import io
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from imptsh.bundled_sim import SIM_AUTH_TYPE, BundledSimulator
from imptsh.cli import simulator
from imptsh.commands.runner import run_line
from imptsh.session import Session
from tests.conftest import FAST_RETRY, Impt, Result, run_imptsh


@pytest.fixture
def real_account(impt: Impt, sim, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's real login everywhere impt looks: local, global and path auth files and
    the IMPT_* variables, all on the account of `sim`, which owns one product."""
    assert impt(f"auth login -e {sim.base_url} -u demo -w demo").status == 0
    assert impt(f"auth login --local -e {sim.base_url} -u demo -w demo").status == 0
    assert impt("product create -n RealProduct").status == 0
    path_dir = home / "authdir"
    path_dir.mkdir()
    (path_dir / ".impt.auth").write_bytes((home / ".impt.auth").read_bytes())
    monkeypatch.setenv("IMPT_AUTH_FILE_PATH", str(path_dir))
    monkeypatch.setenv("IMPT_USER", "demo")
    monkeypatch.setenv("IMPT_PASSWORD", "demo")
    monkeypatch.setenv("IMPT_ENDPOINT", sim.base_url)
    return home


def auth_files(home: Path) -> dict[Path, tuple[bytes, int]]:
    found = [home / ".impt.auth", Path.cwd() / ".impt.auth", home / "authdir" / ".impt.auth"]
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in found}


@pytest.fixture
def sim_session(real_account: Path) -> Iterator[tuple[str, Impt]]:
    with simulator(2) as (endpoint, login):
        stdin = io.StringIO()
        session = Session(
            env=os.environ,
            home=real_account,
            stdin=stdin,
            session_login=login,
            default_endpoint=endpoint,
            retry=FAST_RETRY,
        )
        yield endpoint, Impt(session, stdin)


def test_sim_session_ignores_every_auth_file_and_variable(sim_session, real_account, sim):
    endpoint, impt = sim_session
    before = auth_files(real_account)
    info = impt("auth info -z json")
    assert info.status == 0, info.out
    block = json.loads(info.out)["Auth"]
    assert block["Auth type"] == SIM_AUTH_TYPE
    assert block["impCentral API endpoint"] == endpoint != sim.base_url
    listed = impt("product list -z json")
    assert listed.status == 0 and json.loads(listed.out) == []
    assert impt("product create -n SimOnly").status == 0
    assert len(json.loads(impt("device list -z json").out)) == 2  # the bundled simulator's
    assert auth_files(real_account) == before
    real = Impt(Session(env=os.environ, home=real_account, retry=FAST_RETRY), io.StringIO())
    names = [p["Product"]["name"] for p in json.loads(real("product list -z json").out)]
    assert names == ["RealProduct"]


@pytest.mark.parametrize(
    "line", ["auth login --user demo --pwd demo", "auth login --local --lk x", "auth logout"]
)
def test_login_and_logout_are_refused_in_a_sim_session(sim_session, real_account, line):
    endpoint, impt = sim_session
    before = auth_files(real_account)
    result: Result = impt(line)
    assert result.status == 1
    first, last = result.out.splitlines()
    assert first.startswith(f"Error: auth {line.split()[1]} is not available in this session")
    assert endpoint in first and "without --sim" in first
    assert last == "IMPT COMMAND FAILS"
    assert auth_files(real_account) == before
    assert impt("auth info").status == 0  # still logged in to the bundled simulator


def test_imptsh_sim_in_a_project_directory_with_a_local_login(real_account, sim):
    env = {"HOME": str(real_account), "XDG_CONFIG_HOME": str(real_account / ".config")}
    before = auth_files(real_account)
    proc = run_imptsh(
        ["--sim", "-c", "auth info -z json; product list -z json; auth logout"],
        cwd=Path.cwd(),
        env={**env, "IMPT_USER": "demo", "IMPT_PASSWORD": "demo", "IMPT_ENDPOINT": sim.base_url},
    )
    assert proc.returncode == 1  # the refused logout
    auth_json, products_json = proc.stdout.split("\n}\n", 1)
    block = json.loads(auth_json + "}")["Auth"]
    assert block["Auth type"] == SIM_AUTH_TYPE
    assert block["impCentral API endpoint"] != sim.base_url
    assert products_json.startswith("[]\n")
    assert "auth logout is not available in this session" in proc.stdout
    assert auth_files(real_account) == before


def test_sim_and_endpoint_flags_conflict(home):
    proc = run_imptsh(["--sim", "--endpoint", "http://127.0.0.1:9/v5"], cwd=home)
    assert proc.returncode == 2
    assert "--sim and --endpoint cannot be used together" in proc.stderr


def test_endpoint_banner_names_what_commands_use(impt, sim):
    from imptsh.cli import _endpoint_banner

    assert impt(f"auth login -e {sim.base_url} -u demo -w demo").status == 0
    other = "http://127.0.0.1:9/v5"
    session = Session(env=os.environ, default_endpoint=other)
    banner = _endpoint_banner(session)
    assert f"auth login in this session logs in to {other}." in banner
    assert f"existing login (Global Auth file) at {sim.base_url}" in banner
    assert session.context().endpoint == sim.base_url  # what the next request uses


def test_the_bundled_simulator_starts_when_needed_and_a_command_waits_for_it(home):
    bundled = BundledSimulator(2)
    try:
        assert bundled.endpoint == f"http://127.0.0.1:{bundled.port}/v5"
        assert not bundled.login.ready  # nothing started yet: the banner can name the port
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", bundled.port)) != 0
        session = Session(env=os.environ, home=home, session_login=bundled.login, retry=FAST_RETRY)
        out = io.StringIO()
        assert run_line(session, ["device", "list", "-z", "json"], out) == 0, out.getvalue()
        assert len(json.loads(out.getvalue())) == 2 and bundled.login.ready
    finally:
        bundled.stop()


def test_a_bundled_simulator_that_cannot_start_fails_each_command_in_one_line(home):
    bundled = BundledSimulator(1)
    squatter = socket.socket()
    try:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", bundled.port))
        squatter.listen()  # someone else serves the port: the simulator cannot listen there
        session = Session(env=os.environ, home=home, session_login=bundled.login, retry=FAST_RETRY)
        out = io.StringIO()
        assert run_line(session, ["product", "list"], out) == 1
        first, last = out.getvalue().splitlines()
        assert first.startswith("Error: The bundled simulator could not start: ")
        assert "Address already in use" in first  # the cause, not a traceback
        assert last == "IMPT COMMAND FAILS"
    finally:
        squatter.close()
        bundled.stop()
