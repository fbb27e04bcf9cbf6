"""Secrets never reach the history (the `history` command, the persistent file, the line
editor's recall), debug output or recorded cassettes; the history file is 0600."""

from __future__ import annotations

import io
import json
import lzma
import os
import re
import secrets
import stat
from pathlib import Path

import pytest
import requests
from cmd2.history import History
from cmd2.parsing import StatementParser

from imptsh.api.auth import login_with_password
from imptsh.api.client import Client
from imptsh.history import scrub_line
from imptsh.session import Session
from imptsh.shell import ImptShell, history_path
from tests.api.conftest import CASSETTES, make_vcr
from tests.conftest import FAST_RETRY, sim_control


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("auth login --user me --pwd s3cret", "auth login --user me --pwd ***"),
        ("auth login -u me -w 's3 cret' -q", "auth login -u me -w *** -q"),
        ("loginkey create --pwd=s3cret", "loginkey create --pwd=***"),
        ('loginkey delete --lk "KEY1" -w p1 -q', "loginkey delete --lk *** -w *** -q"),
        ("auth login -k KEY1 --local", "auth login -k *** --local"),
        ("device unassign -d D1 -u UNBOND1", "device unassign -d D1 -u ***"),
        ("dg unassign --unbond=UNBOND1", "dg unassign --unbond=***"),
        ("impt auth login -u me --password s3cret", "impt auth login -u me --password ***"),
        ("alias create li auth login -w s3cret", "alias create li auth login -w ***"),
        (
            "!IMPT_PASSWORD=s3cret IMPT_LOGINKEY=K1 impt",
            "!IMPT_PASSWORD=*** IMPT_LOGINKEY=*** impt",
        ),
        (
            "product list; loginkey update --lk K1 --pwd p1 -s x",
            "product list; loginkey update --lk *** --pwd *** -s x",
        ),
        ('auth login --pwd "never closed', "auth login --pwd *** closed"),
        ("product create --name '--pwd' --descr x", "product create --name '--pwd' --descr x"),
        # flags written with quotes or escapes are still flags
        (r"auth login --user me -\w s3cret", r"auth login --user me -\w ***"),
        ('loginkey create --p"w"d=s3cret', "loginkey create --pwd=***"),
        ("auth login --user me -pwd s3cret", "auth login --user me -pwd ***"),
        ("device list --unassigned -z json", "device list --unassigned -z json"),
    ],
)
def test_scrub_line(line, kept):
    assert scrub_line(line) == kept


def read_history_file(path: Path) -> str:
    return lzma.decompress(path.read_bytes()).decode("utf-8")


@pytest.fixture
def secret_account(sim) -> tuple[str, str]:
    """An account whose user name and password occur nowhere else."""
    user, password = f"user{secrets.token_hex(4)}", f"pw-{secrets.token_hex(12)}"
    sim_control(sim, "accounts", {"username": user, "password": password, "email": f"{user}@x.io"})
    return user, password


def test_a_session_with_secrets_leaves_none_behind(
    home, sim, secret_account, monkeypatch, tmp_path
):
    monkeypatch.setattr("sys.argv", ["imptsh"])
    user, password = secret_account
    out = io.StringIO()
    session = Session(env=os.environ, home=home, stdin=io.StringIO(), stdout=out, retry=FAST_RETRY)
    path = history_path(os.environ)
    shell = ImptShell(session, history_file=path, stdout=out)

    def run(line: str) -> str:
        out.seek(0)
        out.truncate()
        shell.onecmd_plus_hooks(line)
        shell.main_session.default_buffer.history.append_string(line)  # what Enter does
        return out.getvalue()

    debug = run(f"auth login -e {sim.base_url} --user {user} --pwd {password} -z debug")
    auth = json.loads((home / ".impt.auth").read_text())
    created = run(f"loginkey create --pwd {password} -z json")
    key = json.loads(created)["Login Key"]["id"]
    debug += run(f"auth login -q --local -e {sim.base_url} --lk {key} -z debug")
    local = json.loads((Path.cwd() / ".impt.auth").read_text())
    deleted = run(f"loginkey delete --lk={key} -w '{password}' -q -z debug")
    # impt's message names the key as typed; the transcript of the exchanges must not.
    debug += deleted.replace(f'Login Key "{key}" is deleted successfully.', "")
    run(f"product list; auth login -q -e {sim.base_url} -u {user} -w {password}")
    assert shell.last_status == 0, out.getvalue()
    tokens = [auth["accessToken"], auth["refreshToken"], local["accessToken"]]
    every_secret = [password, key, *tokens]

    listed = run("history")
    shell._persist_history()
    stored = read_history_file(path)
    recalled = "\n".join(shell.main_session.default_buffer.history.get_strings())
    for place in (debug, listed, stored, recalled):
        for secret in every_secret:
            assert secret not in place
    assert "--pwd *** -z debug" in listed and "--lk *** -z debug" in recalled
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    recorded = tmp_path / "cassettes"
    recorder = make_vcr()
    recorder.cassette_library_dir = str(recorded)
    recorder.record_mode = "all"
    with recorder.use_cassette("session.yaml"):
        client = Client(sim.base_url, session=requests.Session())
        login = login_with_password(client, user, password, lambda: "")
        made = client.request(
            "POST",
            "/accounts/me/login_keys",
            body={"data": {"type": "login_key", "attributes": {}}},
            headers={
                "Authorization": f"Bearer {login['access_token']}",
                "X-Electricimp-Password": password,
            },
            auth=False,
        )
    cassette = (recorded / "session.yaml").read_text()
    for secret in (password, made["data"]["id"], login["access_token"], login["refresh_token"]):
        assert secret not in cassette
    for committed in CASSETTES.glob("*.yaml"):
        text = committed.read_text()
        assert all(secret not in text for secret in every_secret)
    assert re.search(r"X-Electricimp-Password:\s*- SCRUBBED", cassette)


def test_an_old_history_file_is_made_private_and_scrubbed(home, monkeypatch):
    monkeypatch.setattr("sys.argv", ["imptsh"])
    path = history_path(os.environ)
    path.parent.mkdir(parents=True)
    old = History()
    old.append(StatementParser().parse("auth login -u me --pwd s3cret-from-before"))
    path.write_bytes(lzma.compress(old.to_json().encode()))
    path.chmod(0o644)
    shell = ImptShell(Session(env=os.environ, home=home), history_file=path, stdout=io.StringIO())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cret-from-before" not in read_history_file(path)
    assert [item.raw for item in shell.history] == ["auth login -u me --pwd ***"]


def test_a_new_history_file_is_private(home, monkeypatch):
    monkeypatch.setattr("sys.argv", ["imptsh"])
    path = history_path(os.environ)
    shell = ImptShell(Session(env=os.environ, home=home), history_file=path, stdout=io.StringIO())
    shell.onecmd_plus_hooks("pwd")
    shell._persist_history()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "pwd" in read_history_file(path)
