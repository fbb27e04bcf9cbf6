"""Bad input and hostile data: one clear error naming what is wrong, never a traceback, and
nothing from the server that can drive the user's terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imptsh.api.client import Client
from imptsh.api.errors import InvalidEndpointError
from tests.conftest import SimApi, run_imptsh, sim_control

FAILS = "IMPT COMMAND FAILS"
ESC_NAME = "Evil\x1b[2J\x1b]0;owned\x07\x9b31m"


@pytest.fixture
def api(sim: Any) -> SimApi:
    return SimApi(sim)


# -- item 5: files that are not UTF-8 ----------------------------------------------------------


def test_a_source_file_that_is_not_utf8_is_named(logged_in, api):
    api.dg(api.product("P"), "G")
    Path("bad.nut").write_bytes(b'server.log("ok");\nlocal caf\xe9 = 1;\n')
    result = logged_in("build deploy -g G -x bad.nut")
    assert result.status == 1
    assert result.out.splitlines()[-2:] == [
        "Error: File error: bad.nut: not UTF-8 text: byte 0xe9 at line 2, column 10.",
        FAILS,
    ]
    assert api.get("/deployments") == []


def test_an_auth_file_that_is_not_utf8_is_named(impt, home):
    path = home / ".impt.auth"
    path.write_bytes(b'{"accessToken": "caf\xe9"}')
    result = impt("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        f"Error: Global Auth File is corrupted ({path} is not UTF-8 text: byte 0xe9 at line 1, "
        "column 21)."
    )
    assert "Internal error" not in result.out


def test_a_project_file_that_is_not_utf8_is_named(logged_in):
    Path(".impt.project").write_bytes(b'{"deviceGroupId": "\xff"}')
    result = logged_in("build deploy")
    assert result.status == 1
    assert f"File error: {Path.cwd() / '.impt.project'}: not UTF-8 text: byte 0xff" in result.out


def test_a_script_that_is_not_utf8_runs_nothing(logged_in, home, api):
    script = home / "work" / "setup.imptsh"
    script.write_bytes(b"product create --name First\nproduct create --name Caf\xe9\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    proc = run_imptsh([str(script)], cwd=home / "work", env=env)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"imptsh: cannot read {script}: not UTF-8 text: byte 0xe9 at line 2, column 26.\n"
    )
    assert api.get("/products") == []
    piped = subprocess.run(
        [sys.executable, "-m", "imptsh"],
        input=b"product create --name First\nproduct create --name Caf\xe9\npwd\n",
        capture_output=True,
        cwd=home / "work",
        env={**os.environ, **env},
        timeout=60,
        start_new_session=True,
    )
    assert piped.returncode == 1
    assert piped.stderr.decode() == (
        "imptsh: <stdin>:2: not UTF-8 text (byte 0xe9 at column 26); nothing from there on runs.\n"
    )
    assert [p["attributes"]["name"] for p in api.get("/products")] == ["First"]
    assert b"Traceback" not in piped.stdout + piped.stderr


# -- item 6: endpoints without a scheme --------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["127.0.0.1:41217/v5", "localhost/v5", "http:///v5"])
def test_login_endpoint_must_be_an_http_url(impt, home, endpoint):
    result = impt(f"auth login --endpoint {endpoint} -u demo -w demo")
    assert result.status == 1
    error = [line for line in result.out.splitlines() if line.startswith("Error:")]
    assert error == [
        f'Error: Option "--endpoint" must be an http:// or https:// URL: "{endpoint}" '
        + (
            "names no host."
            if endpoint.startswith("http")
            else "does not start with http:// or https://."
        )
    ]
    assert not (home / ".impt.auth").exists()


def test_imptsh_endpoint_flag_is_checked_before_anything_runs(home):
    proc = run_imptsh(["--endpoint", "127.0.0.1:41217/v5", "auth", "info"], cwd=home)
    assert proc.returncode == 2
    assert proc.stderr == (
        'imptsh: --endpoint "127.0.0.1:41217/v5" is not an impCentral API endpoint: it does '
        "not start with http:// or https:// (e.g. https://api.electricimp.com/v5).\n"
    )


def test_impt_endpoint_variable_is_checked(impt, monkeypatch):
    monkeypatch.setenv("IMPT_USER", "demo")
    monkeypatch.setenv("IMPT_PASSWORD", "demo")
    monkeypatch.setenv("IMPT_ENDPOINT", "127.0.0.1:41217/v5")
    result = impt("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        'Error: IMPT_ENDPOINT "127.0.0.1:41217/v5" is not an impCentral API endpoint: it '
        "does not start with http:// or https:// (e.g. https://api.electricimp.com/v5)."
    )


def test_an_auth_file_endpoint_is_checked(impt, home):
    path = home / ".impt.auth"
    path.write_text(
        json.dumps({"endpoint": "example.com/v5", "accessToken": "t", "expiresAt": "x"})
    )
    result = impt("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        f'Error: Global Auth File is corrupted ({path} names the endpoint "example.com/v5", '
        "which does not start with http:// or https://)."
    )


def test_the_client_refuses_an_endpoint_it_cannot_request():
    with pytest.raises(InvalidEndpointError, match="does not start with http:// or https://"):
        Client("127.0.0.1:41217/v5")


# -- item 7: an auth file that is a directory --------------------------------------------------


def test_a_global_auth_directory_is_named(impt, home):
    (home / ".impt.auth").mkdir()
    result = impt("product list")
    assert result.status == 1
    assert result.out.splitlines()[0] == (
        f"Error: Global Auth File {home / '.impt.auth'} is a directory, not a file: remove or "
        "rename it, then log in again."
    )


@pytest.mark.parametrize("local", [True, False])
def test_login_into_an_auth_directory_names_it_and_leaves_nothing(impt, sim, home, local):
    where = Path.cwd() if local else home
    (where / ".impt.auth").mkdir()
    flag = "--local " if local else ""
    result = impt(f"auth login {flag}-e {sim.base_url} -u demo -w demo")
    assert result.status == 1
    label = "Local" if local else "Global"
    assert result.out.splitlines()[0] == (
        f"Error: {label} Auth File {where / '.impt.auth'} is a directory, not a file: remove "
        "or rename it, then log in again."
    )
    assert sorted(p.name for p in where.iterdir() if p.name.startswith(".impt")) == [".impt.auth"]


def test_an_auth_file_path_directory_is_named(impt, tmp_path, monkeypatch):
    (tmp_path / ".impt.auth").mkdir()
    monkeypatch.setenv("IMPT_AUTH_FILE_PATH", str(tmp_path))
    result = impt("auth info")
    assert result.status == 1
    assert f"Auth File {tmp_path / '.impt.auth'} is a directory" in result.out


# -- item 8: compile errors --------------------------------------------------------------------

COMPILER = [
    {"file": "device_code", "row": 3, "column": 24, "text": "expression expected"},
    {"file": "agent_code", "type": "error", "row": 7, "column": 1, "text": "end of statement"},
]


@pytest.mark.parametrize("mode", ["", "-z minimal", "-z debug"])
def test_every_compile_error_location_is_printed_in_text_modes(logged_in, sim, api, mode):
    api.dg(api.product("P"), "G")
    Path("d.nut").write_text("x")
    detail = "syntax error at line 1"
    sim_control(sim, "faults", {"compile_error": {"detail": detail, "meta": COMPILER}})
    result = logged_in(f"build deploy -g G -x d.nut {mode}")
    assert result.status == 1
    lines = result.out.splitlines()
    start = lines.index(f"Error: Compilation Error: {detail}")
    assert lines[start + 1 : start + 3] == [
        "device_code error (line 3, column 24): expression expected",
        "agent_code error (line 7, column 1): end of statement",
    ]
    assert (lines[-1] == FAILS) == (mode != "-z minimal")


def test_every_compile_error_location_is_in_the_json_error(logged_in, sim, api):
    api.dg(api.product("P"), "G")
    sim_control(sim, "faults", {"compile_error": {"detail": "failed", "meta": COMPILER}})
    result = logged_in("build deploy -g G -z json")
    assert result.status == 1
    assert json.loads(result.out) == {
        "Error": "Compilation Error: failed device_code error (line 3, column 24): expression "
        "expected agent_code error (line 7, column 1): end of statement"
    }


def test_meta_items_of_any_shape_are_all_printed():
    import io

    from imptsh.api.errors import ImpCentralError
    from imptsh.commands.runner import report_api_error
    from imptsh.output.printer import Output

    meta = [{"text": "only a message"}, "a bare string", {"hint": 1}, {"file": "agent_code"}]
    error = ImpCentralError(400, [{"status": "400", "title": "T", "detail": "D", "meta": meta}])
    out = io.StringIO()
    report_api_error(Output(None, out), error)
    assert out.getvalue().splitlines() == [
        "Error: T: D",
        "only a message",
        "a bare string",
        '{"hint": 1}',
        "agent_code",
    ]


# -- item 14: one rule for every string option, and escaped output -----------------------------


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("product create --name ''", 'Option "--name" must not be empty.'),
        ("product create --name '   '", 'Option "--name" must not be empty.'),
        (
            "dg create --name G -y production -p P --region ''",
            'Option "--region" must not be empty.',
        ),
        (
            "product create --name P --descr '  '",
            'Option "--descr" must not be only white space (give "" for an empty value).',
        ),
        (
            "product create --name $'a\\x1b[2Jb'",
            'Option "--name" must not contain control characters (\\x1b at position 2).',
        ),
        (
            "product create --name $'two\\nlines'",
            'Option "--name" must not contain control characters (\\x0a at position 4).',
        ),
        (
            "product create --name P --descr $'\\x1b]0;x\\x07'",
            'Option "--descr" must not contain control characters (\\x1b at position 1).',
        ),
        (
            "build list --tag $'\\u009b2J'",
            'Option "--tag" must not contain control characters (\\x9b at position 1).',
        ),
    ],
)
def test_string_options_follow_one_rule(logged_in, api, line, error):
    tokens = _bash_words(line)
    result = logged_in(tokens)
    assert result.status == 1
    assert f"Error: {error}" in result.out.splitlines(), result.out
    assert result.out.endswith(FAILS + "\n")
    assert "\x1b" not in result.out and "\x9b" not in result.out
    assert api.get("/products") == []


def _bash_words(line: str) -> list[str]:
    """`line` split as bash does, $'...' escapes included."""
    done = subprocess.run(
        ["bash", "-c", f'for w in {line}; do printf "%s\\0" "$w"; done'],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().split("\0")[:-1]


def test_allowed_values_still_pass(logged_in):
    assert logged_in(["product", "create", "--name", "P", "--descr", ""]).status == 0
    multi = logged_in(["product", "update", "-p", "P", "--descr", "line 1\n\tline 2"])
    assert multi.status == 0, multi.out
    wrong_password = logged_in(["loginkey", "create", "--pwd", "   "])
    assert "Error: Option" not in wrong_password.out  # a password is taken as typed


def test_names_from_the_server_cannot_drive_the_terminal(logged_in, api):
    product = api.product(ESC_NAME, descr="\x1bc")
    shown = "Evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m"
    for line in ("product list", "product info -p " + product["id"], "product list -z minimal"):
        result = logged_in(line)
        assert result.status == 0
        assert "\x1b" not in result.out and "\x9b" not in result.out and "\x07" not in result.out
        assert shown in result.out
    deleted = logged_in(f"product delete -p {product['id']}", stdin="y\n")
    assert deleted.status == 0
    assert "\x1b" not in deleted.out and "\x9b" not in deleted.out
    assert f"  name: {shown}" in deleted.out.splitlines()  # the summary before the question


def test_json_output_escapes_every_control_character(logged_in, api):
    api.product(ESC_NAME)
    result = logged_in("product list -z json")
    assert "\x1b" not in result.out and "\x9b" not in result.out
    assert json.loads(result.out)[0]["Product"]["name"] == ESC_NAME


def test_errors_quoting_typed_text_escape_it(logged_in):
    result = logged_in(["product", "list", "-z", "\x1b[2J"])
    assert result.status == 1
    assert "\x1b" not in result.out
    assert 'Argument: output, Given: "\\x1b[2J", Choices:' in result.out
