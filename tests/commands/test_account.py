"""`account info|list` against the simulator (commands.md §11.1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FAILS, OK


def _me(logged_in: Any) -> dict[str, Any]:
    r = logged_in("account info -z json")
    assert r.status == 0, r.out
    return json.loads(r.out)["Account"]


def test_info_default_is_me(logged_in: Any) -> None:
    me = _me(logged_in)
    r = logged_in("account info")
    assert r.status == 0
    assert r.out.splitlines() == [
        "Account: ",
        f"  id:       {me['id']}",
        "  username: demo",
        "  email:    demo@example.com",
        OK,
    ]


@pytest.mark.parametrize("user", ["me", "demo", "demo@example.com", "ID"])
def test_info_by_every_identifier(logged_in: Any, user: str) -> None:
    me = _me(logged_in)
    user = me["id"] if user == "ID" else user
    r = logged_in(f"account info --user {user} -z minimal")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        "Account: ",
        f"  id:       {me['id']}",
        "  username: demo",
        "  email:    demo@example.com",
    ]


def test_info_json_and_debug(logged_in: Any) -> None:
    me = _me(logged_in)
    assert me == {"id": me["id"], "username": "demo", "email": "demo@example.com"}
    r = logged_in("account info -u demo -z debug")
    assert r.status == 0
    assert "Doing the request with options:" in r.out
    assert '"Authorization": "[hidden]"' in r.out
    assert "  username: demo" in r.out
    assert r.out.splitlines()[-1] == OK


def test_info_not_found(logged_in: Any) -> None:
    r = logged_in("account info -u not-exist-user")
    assert r.status == 1
    assert r.out.splitlines() == ['Error: Account "not-exist-user" is not found.', FAILS]
    r = logged_in("account info -u not-exist-user -z json")
    assert r.status == 1
    assert json.loads(r.out) == {"Error": 'Account "not-exist-user" is not found.'}
    r = logged_in("account info -u not-exist-user -z minimal")
    assert r.out.splitlines() == ['Error: Account "not-exist-user" is not found.']


def test_info_collaborated_account(logged_in: Any, other: dict[str, Any]) -> None:
    for user in ("other", "other@example.com", other["id"]):
        r = logged_in(f"account info -u {user}")
        assert r.status == 0, r.out
        assert r.out.splitlines() == [
            "Account: ",
            f"  id:       {other['id']}",
            "  username: other",
            "  email:    other@example.com",
            OK,
        ]


def test_info_syntax_errors(logged_in: Any) -> None:
    r = logged_in("account info -u")
    assert r.status == 1
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: u", FAILS]
    r = logged_in(["account", "info", "--user", ""])
    assert r.out.splitlines()[-2:] == ['Error: Option "--user" must not be empty.', FAILS]
    r = logged_in("account info -u a -u b")
    assert 'Error: Option "--user" must not be specified multiple times.' in r.out
    r = logged_in("account info extra")
    assert "Error: Unknown arguments: extra." in r.out
    r = logged_in("account info --help")
    assert r.status == 0
    assert "Usage: impt account info [--user <ACCOUNT_IDENTIFIER>] [--output <mode>] [--help]" in (
        r.out
    )


def test_list_only_me(logged_in: Any) -> None:
    me = _me(logged_in)
    r = logged_in("account list")
    assert r.status == 0
    assert r.out.splitlines() == [
        "Account list (1 items):",
        "Account: ",
        f"  id:       {me['id']}",
        "  email:    demo@example.com",
        "  username: demo",
        OK,
    ]


def test_list_with_collaboration_all_modes(logged_in: Any, other: dict[str, Any]) -> None:
    me = _me(logged_in)
    r = logged_in("account list -z minimal")
    assert r.status == 0
    assert r.out.splitlines() == [
        "Account: ",
        f"  id:       {me['id']}",
        "  email:    demo@example.com",
        "  username: demo",
        "Account: ",
        f"  id:       {other['id']}",
        "  email:    other@example.com",
        "  username: other",
    ]
    r = logged_in("account list -z json")
    assert json.loads(r.out) == [
        {"Account": {"id": me["id"], "email": "demo@example.com", "username": "demo"}},
        {"Account": {"id": other["id"], "email": "other@example.com", "username": "other"}},
    ]
    r = logged_in("account list -z debug")
    assert "Account list (2 items):" in r.out
    assert '"url": "' in r.out and "/accounts" in r.out
    assert r.out.splitlines()[-1] == OK


def test_list_rejects_options(logged_in: Any) -> None:
    r = logged_in("account list --user me")
    assert r.status == 1
    assert r.out.splitlines()[-2:] == ["Error: Unknown argument: user", FAILS]


def test_request_economy(logged_in: Any) -> None:
    _me(logged_in)
    sent = logged_in.record_requests()
    assert logged_in("account info -u demo").status == 0
    assert sent.calls == [("GET", "/accounts")]  # one list, then matched by username
    sent.clear()
    assert logged_in("account info -u demo@example.com").status == 0
    assert sent.calls == []  # the list is still in the session's cache
    sent.clear()
    assert logged_in("account list").status == 0
    assert sent.calls == [("GET", "/accounts")]
