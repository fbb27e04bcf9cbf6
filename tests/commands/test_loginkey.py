"""`loginkey create|delete|info|list|update` against the simulator (commands.md §11.7)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import ASK, CANCELED, FAILS, OK

BAD_PASSWORD = (
    "Error: Invalid Credentials: The X-Electricimp-Password header is missing or does not match."
)


def _create(logged_in: Any, descr: str = "key") -> str:
    r = logged_in(["loginkey", "create", "--pwd", "demo", "--descr", descr, "-z", "json"])
    assert r.status == 0, r.out
    return json.loads(r.out)["Login Key"]["id"]


def _ids(logged_in: Any) -> list[str]:
    r = logged_in("loginkey list -z json")
    assert r.status == 0, r.out
    return [item["Login Key"]["id"] for item in json.loads(r.out)]


def _summary(key_id: str, descr: str = "key") -> list[str]:
    return [
        "The following entities will be deleted:",
        "Login Key: ",
        f"  id:          {key_id}",
        f"  description: {descr}",
        "  usages:      0",
        "",
        "Are you sure you want to continue?",
    ]


# -- create ---------------------------------------------------------------------------------


def test_create_with_pwd(logged_in: Any) -> None:
    r = logged_in("loginkey create --pwd demo --descr first")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    key_id = re.search(r"[0-9a-z]{16}", r.out).group(0)
    assert lines[0] == f'Login Key "{key_id}" is created successfully.'
    assert lines[1:4] == ["Login Key: ", f"  id:          {key_id}", "  description: first"]
    assert lines[-1] == OK
    assert _ids(logged_in) == [key_id]


def test_create_prompts_for_password(logged_in: Any) -> None:
    logged_in("loginkey list")
    sent = logged_in.record_requests()
    r = logged_in("loginkey create -s prompted", stdin="demo\n")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert lines[0] == "Enter password: "
    assert re.fullmatch(r'Login Key "[0-9a-f]{16}" is created successfully\.', lines[1])
    assert "  description: prompted" in lines
    posts = [s for s in sent.sent if s.method == "POST"]
    assert len(posts) == 1
    assert posts[0].path == "/accounts/me/login_keys"
    assert posts[0].headers["X-Electricimp-Password"] == "demo"


def test_create_without_description_and_modes(logged_in: Any) -> None:
    r = logged_in("loginkey create -w demo -z minimal")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert lines[0] == "Login Key: "
    assert re.fullmatch(r"  id:\s+[0-9a-f]{16}", lines[1])
    assert not any("description" in line for line in lines)
    assert OK not in r.out
    r = logged_in("loginkey create -w demo -s jsonkey -z json")
    key = json.loads(r.out)["Login Key"]
    assert key["description"] == "jsonkey"
    assert re.fullmatch(r"[0-9a-f]{16}", key["id"])
    r = logged_in("loginkey create -w demo -s dbg -z debug")
    assert r.status == 0
    assert "Doing the request with options:" in r.out
    assert '"X-Electricimp-Password": "[hidden]"' in r.out
    assert "demo" not in r.out.replace("demo@example.com", "")
    assert r.out.splitlines()[-1] == OK


def test_create_wrong_password(logged_in: Any) -> None:
    r = logged_in("loginkey create --pwd wrong --descr x")
    assert r.status == 1
    assert r.out.splitlines() == [BAD_PASSWORD, FAILS]
    assert _ids(logged_in) == []
    r = logged_in("loginkey create --pwd wrong -z json")
    assert r.status == 1
    assert "Login Key" not in r.out


def test_create_account_limit(logged_in: Any) -> None:
    for n in range(10):
        _create(logged_in, f"k{n}")
    r = logged_in("loginkey create --pwd demo --descr eleventh")
    assert r.status == 1
    assert r.out.splitlines() == [
        "Error: Account Limit Reached: An account can have at most 10 login keys.",
        FAILS,
    ]
    assert len(_ids(logged_in)) == 10


def test_create_canceled_at_password_prompt(logged_in: Any) -> None:
    r = logged_in("loginkey create --descr x", stdin="")
    assert r.status == 1
    assert r.out.splitlines()[-2:] == [CANCELED, FAILS]
    assert _ids(logged_in) == []


def test_create_syntax_errors(logged_in: Any) -> None:
    r = logged_in("loginkey create --pwd")
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: pwd", FAILS]
    r = logged_in("loginkey create --pwd demo --descr")
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: descr", FAILS]
    r = logged_in("loginkey create --help")
    assert r.status == 0
    assert (
        "Usage: impt loginkey create [--pwd <password>] [--descr <login_key_description>]" in r.out
    )


# -- list / info ----------------------------------------------------------------------------


def test_list_empty_every_mode(logged_in: Any) -> None:
    r = logged_in("loginkey list")
    assert r.out.splitlines() == ["No Login Keys are found.", OK]
    assert logged_in("loginkey list -z minimal").out == ""
    assert json.loads(logged_in("loginkey list -z json").out) == []
    r = logged_in("loginkey list -z debug")
    assert "No Login Keys are found." in r.out and "Response code: 200" in r.out


def test_list_items(logged_in: Any) -> None:
    a = _create(logged_in, "a")
    b = _create(logged_in, "")
    r = logged_in("loginkey list")
    assert r.status == 0
    assert r.out.splitlines() == [
        "Login Key list (2 items):",
        "Login Key: ",
        f"  id:          {a}",
        "  description: a",
        "  usages:      0",
        "Login Key: ",
        f"  id:     {b}",
        "  usages: 0",
        OK,
    ]
    r = logged_in("loginkey list -z minimal")
    assert r.out.splitlines()[0] == "Login Key: "
    data = json.loads(logged_in("loginkey list -z json").out)
    assert [d["Login Key"]["id"] for d in data] == [a, b]
    assert data[0]["Login Key"]["description"] == "a"


def test_info(logged_in: Any) -> None:
    key_id = _create(logged_in, "the key")
    r = logged_in(f"loginkey info --lk {key_id}")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert lines[0] == "Login Key: "
    assert lines[1] == f"  id:           {key_id}"
    assert lines[2] == "  description:  the key"
    assert lines[3] == "  usages:       0"
    assert [line.split(":")[0].strip() for line in lines[4:-1]] == [
        "created_at",
        "updated_at",
        "last_used_at",
    ]
    assert "Owner" not in r.out  # the owner is the current account
    assert lines[-1] == OK
    info = json.loads(logged_in(f"loginkey info -k {key_id} -z json").out)["Login Key"]
    assert list(info)[:3] == ["id", "description", "usages"]
    assert info["last_used_at"] == ""
    r = logged_in(f"loginkey info -k {key_id} -z minimal")
    assert r.out.splitlines()[0] == "Login Key: " and OK not in r.out
    r = logged_in(f"loginkey info -k {key_id} -z debug")
    assert "/login_keys/[hidden]" in r.out
    assert r.out.splitlines()[-1] == OK


@pytest.mark.parametrize("ident", ["not-exist-loginkey", "0123456789abcdef"])
def test_info_not_found(logged_in: Any, ident: str) -> None:
    r = logged_in(f"loginkey info --lk {ident}")
    assert r.status == 1
    assert r.out.splitlines() == [f'Error: Login Key "{ident}" is not found.', FAILS]
    r = logged_in(f"loginkey info --lk {ident} -z json")
    assert json.loads(r.out) == {"Error": f'Login Key "{ident}" is not found.'}


def test_info_requires_lk(logged_in: Any) -> None:
    r = logged_in("loginkey info")
    assert r.out.splitlines()[-2:] == ["Error: Missing required argument: lk", FAILS]
    r = logged_in("loginkey info --lk")
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: lk", FAILS]
    r = logged_in(["loginkey", "info", "--lk", ""])
    assert r.out.splitlines()[-2:] == ['Error: Option "--lk" must not be empty.', FAILS]


# -- update ---------------------------------------------------------------------------------


def test_update(logged_in: Any) -> None:
    key_id = _create(logged_in, "old")
    r = logged_in(f"loginkey update --lk {key_id} --pwd demo --descr new")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [f'Login Key "{key_id}" is updated successfully.', OK]
    info = json.loads(logged_in(f"loginkey info -k {key_id} -z json").out)["Login Key"]
    assert info["description"] == "new"
    r = logged_in(["loginkey", "update", "-k", key_id, "-w", "demo", "-s", "", "-z", "json"])
    assert r.status == 0 and json.loads(r.out) == {}
    info = json.loads(logged_in(f"loginkey info -k {key_id} -z json").out)["Login Key"]
    assert info["description"] == ""
    r = logged_in(f"loginkey update -k {key_id} -w demo -s m -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in(f"loginkey update -k {key_id} -w demo -s d -z debug")
    assert '"method": "PATCH"' in r.out
    assert '"X-Electricimp-Password": "[hidden]"' in r.out
    assert r.out.splitlines()[-2:] == [f'Login Key "{key_id}" is updated successfully.', OK]


def test_update_prompts_password_before_resolving(logged_in: Any) -> None:
    key_id = _create(logged_in, "old")
    r = logged_in(f"loginkey update --lk {key_id} --descr prompted", stdin="demo\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        "Enter password: ",
        f'Login Key "{key_id}" is updated successfully.',
        OK,
    ]
    # the password comes first, even for an unknown key
    r = logged_in("loginkey update --lk not-exist-loginkey --descr x", stdin="demo\n")
    assert r.status == 1
    assert r.out.splitlines() == [
        "Enter password: ",
        'Error: Login Key "not-exist-loginkey" is not found.',
        FAILS,
    ]


def test_update_errors(logged_in: Any) -> None:
    key_id = _create(logged_in, "old")
    r = logged_in(f"loginkey update --lk {key_id} --pwd wrong --descr new")
    assert r.status == 1
    assert r.out.splitlines() == [BAD_PASSWORD, FAILS]
    r = logged_in(f"loginkey update --lk {key_id} --pwd demo")
    assert r.out.splitlines()[-2:] == ["Error: Missing required argument: descr", FAILS]
    r = logged_in("loginkey update --pwd demo")
    assert r.out.splitlines()[-2:] == ["Error: Missing required arguments: lk, descr", FAILS]
    info = json.loads(logged_in(f"loginkey info -k {key_id} -z json").out)["Login Key"]
    assert info["description"] == "old"


# -- delete ---------------------------------------------------------------------------------


def test_delete_confirmed_yes_then_password(logged_in: Any) -> None:
    key_id = _create(logged_in)
    r = logged_in(f"loginkey delete --lk {key_id}", stdin="y\ndemo\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        *_summary(key_id),
        ASK + "y",
        "",
        "Enter password: ",
        f'Login Key "{key_id}" is deleted successfully.',
        OK,
    ]
    assert _ids(logged_in) == []


def test_delete_no(logged_in: Any) -> None:
    key_id = _create(logged_in)
    r = logged_in(f"loginkey delete --lk {key_id} --pwd demo", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_summary(key_id), ASK + "n", "", CANCELED, FAILS]
    assert _ids(logged_in) == [key_id]
    r = logged_in(f"loginkey delete --lk {key_id} -z json", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines()[-1] == "{}"
    assert "Enter password" not in r.out  # no password asked when declined
    assert _ids(logged_in) == [key_id]


def test_delete_invalid_then_yes(logged_in: Any) -> None:
    key_id = _create(logged_in)
    r = logged_in(f"loginkey delete --lk {key_id} --pwd demo", stdin="maybe\nY\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        *_summary(key_id),
        ASK + "maybe",
        "Invalid value!",
        ASK + "Y",
        "",
        f'Login Key "{key_id}" is deleted successfully.',
        OK,
    ]


def test_delete_confirmed_flag(logged_in: Any) -> None:
    a, b, c = _create(logged_in, "a"), _create(logged_in, "b"), _create(logged_in, "c")
    r = logged_in(f"loginkey delete -k {a} -w demo -q")
    assert r.out.splitlines() == [f'Login Key "{a}" is deleted successfully.', OK]
    r = logged_in(f"loginkey delete -k {b} --confirmed", stdin="demo\n")
    assert r.out.splitlines() == [
        "Enter password: ",
        f'Login Key "{b}" is deleted successfully.',
        OK,
    ]
    r = logged_in(f"loginkey delete -k {c} -w demo -q -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    assert _ids(logged_in) == []


def test_delete_minimal_and_debug(logged_in: Any) -> None:
    a, b = _create(logged_in, "a"), _create(logged_in, "b")
    r = logged_in(f"loginkey delete -k {a} -w demo -z minimal", stdin="y\n")
    assert r.status == 0
    assert r.out.splitlines() == [*_summary(a, "a"), ASK + "y", ""]
    r = logged_in(f"loginkey delete -k {b} -w demo -q -z debug")
    assert r.status == 0
    assert '"method": "DELETE"' in r.out
    assert '"X-Electricimp-Password": "[hidden]"' in r.out
    assert f'Login Key "{b}" is deleted successfully.' in r.out
    assert _ids(logged_in) == []


@pytest.mark.parametrize("ident", ["not-exist-loginkey", "0123456789abcdef"])
def test_delete_not_found(logged_in: Any, ident: str) -> None:
    logged_in("loginkey list")
    sent = logged_in.record_requests()
    r = logged_in(f"loginkey delete --lk {ident}", stdin="y\ndemo\n")
    assert r.status == 1
    assert r.out.splitlines() == [f'Error: Login Key "{ident}" is not found.', FAILS]
    assert sent.calls == [("GET", f"/accounts/me/login_keys/{ident}")]


def test_delete_wrong_password(logged_in: Any) -> None:
    key_id = _create(logged_in)
    r = logged_in(f"loginkey delete --lk {key_id} --pwd wrong -q")
    assert r.status == 1
    assert r.out.splitlines() == [BAD_PASSWORD, FAILS]
    assert _ids(logged_in) == [key_id]


def test_deleted_key_cannot_log_in(logged_in: Any, sim: Any) -> None:
    key_id = _create(logged_in)
    assert logged_in(f"loginkey delete -k {key_id} -w demo -q").status == 0
    r = logged_in(f"auth login --local --endpoint {sim.base_url} --lk {key_id}")
    assert r.status == 1
