"""`auth login|logout|info` and impt's six-step context rules, each in its own HOME."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import requests

from tests.conftest import sim_control


def read_auth(path: Path) -> dict:
    return json.loads(path.read_text())


def test_global_login_writes_impt_fields_atomically_with_mode_0600(impt, sim, home):
    result = impt(f"auth login --endpoint {sim.base_url} --user demo --pwd demo")
    assert result.status == 0
    assert result.out == "Global login is successful.\nIMPT COMMAND SUCCEEDS\n"
    path = home / ".impt.auth"
    data = read_auth(path)
    assert list(data) == ["endpoint", "accessToken", "expiresAt", "refreshToken"]
    assert data["endpoint"] == sim.base_url
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.read_text().endswith("\n")
    assert [p.name for p in home.iterdir() if p.name.startswith(".impt.auth.")] == []


def test_local_temp_login_keeps_no_refresh_information(impt, sim, home):
    result = impt(f"auth login --local --temp -e {sim.base_url} -u demo@example.com -w demo")
    assert result.status == 0, result.out
    assert "Local login is successful." in result.out
    data = read_auth(Path.cwd() / ".impt.auth")
    assert "refreshToken" not in data and "loginKey" not in data
    info = impt("auth info")
    assert "Local Auth file" in info.out
    assert "Access token auto refresh: false" in info.out
    assert "expires in 59 minutes" in info.out or "expires in 60 minutes" in info.out


def test_bad_credentials_fail_and_leave_the_existing_file_untouched(logged_in, sim, home):
    before = (home / ".impt.auth").read_text()
    result = logged_in(f"auth login -q -e {sim.base_url} -u demo -w wrong")
    assert result.status == 1
    assert result.out.startswith("Error: Invalid Credentials")
    assert result.out.endswith("IMPT COMMAND FAILS\n")
    assert (home / ".impt.auth").read_text() == before


def test_overwrite_needs_confirmation(logged_in, sim):
    declined = logged_in(f"auth login -e {sim.base_url} -u demo -w demo", stdin="n\n")
    assert declined.status == 1
    assert "The Global Auth File already exists. It will be overwritten." in declined.out
    assert "Operation is canceled." in declined.out
    accepted = logged_in(f"auth login -e {sim.base_url} -u demo -w demo", stdin="maybe\ny\n")
    assert accepted.status == 0
    assert "Invalid value!" in accepted.out


def test_prompted_password_and_one_time_password(impt, sim):
    sim_control(
        sim,
        "accounts",
        {"username": "otpuser", "password": "pw", "email": "o@x.io", "otp": "123456"},
    )
    result = impt(f"auth login -e {sim.base_url} -u otpuser", stdin="pw\n123456\n")
    assert result.status == 0, result.out
    assert "Enter password: " in result.out and "Enter one-time password: " in result.out
    assert "pw\n" not in result.out.split("Enter password: ", 1)[1][:3]
    wrong = impt(f"auth login -q -e {sim.base_url} -u otpuser", stdin="pw\n000000\n")
    assert wrong.status == 1


def test_choose_method_then_login_key(logged_in, sim, home):
    created = logged_in("loginkey create --pwd demo -z json")
    key = json.loads(created.out)["Login Key"]["id"]
    result = logged_in(f"auth login --local -e {sim.base_url}", stdin=f"2\n{key}\n")
    assert result.status == 0, result.out
    assert "Choose authentication method:\n  (1) User/Password\n  (2) Login Key\n" in result.out
    data = read_auth(Path.cwd() / ".impt.auth")
    assert data["loginKey"] == key and "refreshToken" not in data
    info = logged_in("auth info")
    assert "Login method:              Login Key" in info.out


def test_logout(logged_in, home):
    assert logged_in("auth logout --local").out.startswith("Error: Local Auth File is not found")
    result = logged_in("auth logout")
    assert result.status == 0 and "Global logout is successful." in result.out
    assert not (home / ".impt.auth").exists()
    after = logged_in("product list")
    assert after.status == 1 and after.out.startswith("Error: You are not logged in")


def test_context_order_local_path_env_global(impt, sim, home, tmp_path, monkeypatch):
    impt(f"auth login -e {sim.base_url} -u demo -w demo")
    assert "Global Auth file" in impt("auth info").out
    monkeypatch.setenv("IMPT_USER", "demo")
    monkeypatch.setenv("IMPT_PASSWORD", "demo")
    monkeypatch.setenv("IMPT_ENDPOINT", sim.base_url)
    assert "Environment variables" in impt("auth info").out
    auth_dir = tmp_path / "authdir"
    auth_dir.mkdir()
    monkeypatch.setenv("IMPT_AUTH_FILE_PATH", str(auth_dir))
    missing = impt("auth info")
    assert missing.status == 1 and missing.out.startswith("Error: Auth File is not found")
    (auth_dir / ".impt.auth").write_text((home / ".impt.auth").read_text())
    assert f"Auth file path: {auth_dir}" in impt("auth info").out
    impt(f"auth login --local -e {sim.base_url} -u demo -w demo")
    assert "Local Auth file" in impt("auth info").out


def test_env_login_key_context(impt, sim, monkeypatch, logged_in, home):
    headers = {
        "Authorization": "Bearer " + read_auth(home / ".impt.auth")["accessToken"],
        "X-Electricimp-Password": "demo",
    }
    key = requests.post(
        f"{sim.base_url}/accounts/me/login_keys",
        headers=headers,
        json={"data": {"type": "login_key", "attributes": {}}},
    ).json()["data"]["id"]
    (home / ".impt.auth").unlink()
    monkeypatch.setenv("IMPT_LOGINKEY", key)
    monkeypatch.setenv("IMPT_ENDPOINT", sim.base_url)
    result = impt("auth info -z json")
    assert result.status == 0, result.out
    block = json.loads(result.out)["Auth"]
    assert block["Auth type"] == "Environment variables"
    assert block["Login method"] == "Login Key"
    assert block["Username"] == "demo"


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"endpoint": "x"}), json.dumps(["a"])],
)
def test_corrupted_auth_files_name_the_file_and_what_to_run(impt, home, content):
    (home / ".impt.auth").write_text(content)
    result = impt("product list")
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("Error: Global Auth File is corrupted")
    assert str(home / ".impt.auth") in lines[0]
    assert lines[1] == 'Please relogin using "impt auth login" command and then try again.'
    json_out = impt("product list -z json")
    assert json.loads(json_out.out)["Error"].startswith("Global Auth File is corrupted")


def test_expired_token_is_refreshed_and_written_back(logged_in, home):
    path = home / ".impt.auth"
    data = read_auth(path)
    data["expiresAt"] = "2000-01-01T00:00:00.000Z"
    path.write_text(json.dumps(data, indent=2))
    result = logged_in("auth info")
    assert result.status == 0, result.out
    refreshed = read_auth(path)
    assert refreshed["accessToken"] != data["accessToken"]
    assert refreshed["expiresAt"] > "2020"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_server_side_401_triggers_one_refresh(logged_in, home, sim):
    path = home / ".impt.auth"
    data = read_auth(path)
    data["accessToken"] = "revoked-token-value"
    path.write_text(json.dumps(data, indent=2))
    result = logged_in("product list")
    assert result.status == 0, result.out
    assert read_auth(path)["accessToken"] != "revoked-token-value"


def test_expired_temp_login(impt, sim, home):
    impt(f"auth login --temp -e {sim.base_url} -u demo -w demo")
    path = home / ".impt.auth"
    data = read_auth(path)
    data["expiresAt"] = "2000-01-01T00:00:00.000Z"
    path.write_text(json.dumps(data, indent=2))
    info = impt("auth info")
    assert info.status == 0 and "Access token:              expired" in info.out
    failed = impt("product list")
    assert failed.status == 1
    assert failed.out.splitlines()[0] == (
        "Error: Access token is expired for the Global Auth File. "
        "Information required to refresh access token is not saved."
    )


def test_invalid_refresh_token(logged_in, home):
    path = home / ".impt.auth"
    data = read_auth(path)
    data["expiresAt"] = "2000-01-01T00:00:00.000Z"
    data["refreshToken"] = "0" * 64
    path.write_text(json.dumps(data, indent=2))
    result = logged_in("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        "Error: Impossible to refresh access token for the Global Auth File."
    )


def test_unreachable_endpoint_is_one_line(impt):
    result = impt("auth login -e http://127.0.0.1:9/v5 -u demo -w demo")
    assert result.out.splitlines()[0] == (
        "Error: Cannot reach impCentral at http://127.0.0.1:9/v5: connection refused."
    )
    assert result.status == 1


def test_debug_output_hides_every_secret(impt, sim, home):
    result = impt(f"auth login -z debug -e {sim.base_url} -u demo -w demo")
    assert result.status == 0
    token = read_auth(home / ".impt.auth")["accessToken"]
    refresh = read_auth(home / ".impt.auth")["refreshToken"]
    assert token not in result.out and refresh not in result.out
    assert '"password": "[hidden]"' in result.out
    listing = impt("product list -z debug")
    assert '"Authorization": "[hidden]"' in listing.out
    assert token not in listing.out
    assert os.environ.get("NO_COLOR") is None


def test_not_logged_in_names_where_auth_files_were_looked_for(impt, home, monkeypatch):
    result = impt("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        f"Error: You are not logged in (no .impt.auth in {home / 'work'} or {home}, and no "
        'IMPT_* login variables). Run "auth login" first.'
    )
    monkeypatch.chdir(home)  # the home directory is also the working directory: named once
    assert impt("product list").out.splitlines()[0] == (
        f"Error: You are not logged in (no .impt.auth in {home}, and no IMPT_* login "
        'variables). Run "auth login" first.'
    )
