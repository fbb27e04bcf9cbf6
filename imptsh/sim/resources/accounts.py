"""Accounts and authentication: log in, token exchange, bearer tokens, accounts and
collaboration, refresh tokens and login keys."""

from __future__ import annotations

import secrets
import time
from typing import Any

from ..errors import ApiError, bad_request, conflict, invalid_credentials, not_found, unauthorized
from ..model import Model, Record, by_creation, new_uuid, now_iso, txn
from ..records import DESCRIPTION, Field, check_filters, insert, patch, read_changes, read_new
from ..routing import BODY, FILTERS, Route

LOGIN_KEY_LIMIT = 10
LOGIN_TOKEN_TTL = 300.0
PASSWORD_HEADER = "X-Electricimp-Password"
OTP_HEADER = "X-Electricimp-OTP-Token"
LOGIN_KEY_FIELDS = (Field("description", DESCRIPTION, default=""),)


# ---------------------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------------------


def _issue_tokens(m: Model, account_id: str, refresh: bool) -> dict[str, Any]:
    now = time.time()
    token = secrets.token_urlsafe(96)
    ttl = m.token_ttl
    m.put("access_token", {"id": token, "owner": account_id, "expires": now + ttl, "seq": 0})
    out: dict[str, Any] = {
        "access_token": token,
        "expires_in": int(ttl),
        "expires_at": now_iso(now + ttl),
    }
    if refresh:
        value = secrets.token_hex(32)
        m.put(
            "refresh_token",
            {
                "id": new_uuid(),
                "token": value,
                "owner": account_id,
                "created_at": now_iso(now),
                "last_used_at": None,
                "seq": m.next_seq(),
            },
        )
        out["refresh_token"] = value
    _prune_tokens(m, now)
    return out


def _prune_tokens(m: Model, now: float) -> None:
    if len(m.t["access_token"]) < 1000:
        return
    for tok in [t for t in m.t["access_token"].values() if t["expires"] < now]:
        m.delete("access_token", tok["id"])


def _find_account(m: Model, ident: str) -> Record | None:
    for acct in m.t["account"].values():
        if ident in (acct["username"], acct["email"]):
            return acct
    return None


@txn
def login(m: Model, body: Any, otp_header: str | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    if "login_token" in body:
        lt = body["login_token"]
        entry = m.login_tokens.get(lt) if isinstance(lt, str) else None
        if entry is None or entry[1] < time.time():
            raise invalid_credentials("The login token is invalid or has expired.")
        acct = m.t["account"].get(entry[0])
        if acct is None or not otp_header or otp_header.strip() != acct.get("otp"):
            raise invalid_credentials("The one-time password is invalid.")
        m.login_tokens.pop(lt, None)
        return _issue_tokens(m, acct["id"], True)
    ident, password = body.get("id"), body.get("password")
    if not isinstance(ident, str) or not ident:
        raise bad_request("'id' must be a non-empty string.", "/id")
    if not isinstance(password, str):
        raise bad_request("'password' must be a string.", "/password")
    acct = _find_account(m, ident)
    if acct is None or not secrets.compare_digest(acct["password"], password):
        raise invalid_credentials("The username/email or password is incorrect.")
    if acct.get("otp"):
        token = secrets.token_urlsafe(24)
        m.login_tokens[token] = (acct["id"], time.time() + LOGIN_TOKEN_TTL)
        raise ApiError(
            403,
            "PX102",
            "Second Factor Required",
            "A one-time password is required to complete the login.",
            meta={"login_token": token},
        )
    return _issue_tokens(m, acct["id"], True)


@txn
def exchange(m: Model, body: Any) -> dict[str, Any]:
    """A new access token for a refresh token or a login key."""
    if not isinstance(body, dict) or not ("token" in body) ^ ("key" in body):
        raise bad_request("The request body must contain either 'token' or 'key'.")
    now = now_iso()
    if "token" in body:
        value = body["token"]
        for rt in m.t["refresh_token"].values():
            if isinstance(value, str) and rt["token"] == value:
                m.update("refresh_token", rt, last_used_at=now)
                return _issue_tokens(m, rt["owner"], False)
        raise not_found("refresh_token")
    key = body["key"]
    lk = m.t["login_key"].get(key) if isinstance(key, str) else None
    if lk is None:
        raise not_found("login_key")
    m.update("login_key", lk, usages=lk["usages"] + 1, last_used_at=now)
    return _issue_tokens(m, lk["owner"], False)


def authenticate(m: Model, token: str | None) -> str:
    """Account id for a bearer token, or raise 401. O(1), no transaction needed."""
    if not token:
        raise unauthorized("A valid access token is required.")
    rec = m.t["access_token"].get(token)
    if rec is None:
        raise unauthorized("The access token is invalid.")
    if rec["expires"] < time.time():
        raise unauthorized("The access token has expired.")
    if rec["owner"] not in m.t["account"]:
        raise unauthorized("The access token is invalid.")
    return rec["owner"]


# ---------------------------------------------------------------------------------------
# accounts
# ---------------------------------------------------------------------------------------


def create_account(m: Model, username: str, password: str, email: str, otp: str | None) -> Record:
    return m.put(
        "account",
        {
            "id": new_uuid(),
            "username": username,
            "email": email,
            "password": password,
            "otp": otp,
            "collaborators": [],
            "created_at": now_iso(),
            "seq": m.next_seq(),
        },
    )


@txn
def seed_account(m: Model, body: Any) -> Record:
    """Control plane: another account, with a one-time password when ``otp`` is set."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key not in ("username", "password", "email", "otp"):
            raise bad_request(f"Unknown member '{key}'.", f"/{key}")
    for key in ("username", "password", "email"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise bad_request(f"'{key}' must be a non-empty string.", f"/{key}")
    otp = body.get("otp")
    if otp is not None and (not isinstance(otp, str) or not otp):
        raise bad_request("'otp' must be a non-empty string or null.", "/otp")
    for acct in m.t["account"].values():
        taken = (acct["username"], acct["email"])
        if body["username"] in taken or body["email"] in taken:
            raise conflict("Duplicate Resource", "Accounts must have unique usernames and emails.")
    return create_account(m, body["username"], body["password"], body["email"], otp)


@txn
def add_collaborator(m: Model, body: Any) -> Record:
    """Control plane: let account ``collaborator`` see and change the entities of ``account``."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    owner = _account_by_any(m, body.get("account"), "/account")
    collab = _account_by_any(m, body.get("collaborator"), "/collaborator")
    if collab["id"] not in owner["collaborators"]:
        m.update("account", owner, collaborators=[*owner["collaborators"], collab["id"]])
    return m.t["account"][owner["id"]]


def _account_by_any(m: Model, ident: Any, pointer: str) -> Record:
    if isinstance(ident, str):
        acct = m.t["account"].get(ident) or _find_account(m, ident)
        if acct:
            return acct
    raise bad_request(f"Unknown account {ident!r}.", pointer)


def account_ref(m: Model, ident: Any) -> str | None:
    """Account id for an id, username or email (control plane); None when unknown.
    No ``ident`` means the seeded default account."""
    if ident is None:
        return m.meta.get("default_account")
    if isinstance(ident, str):
        acct = m.t["account"].get(ident) or _find_account(m, ident)
        if acct:
            return acct["id"]
    return None


def get_account(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        if ident == "me":
            return m.t["account"][account_id]
        acct = m.t["account"].get(ident)
        if acct is None or acct["id"] not in m.visible_owners(account_id):
            raise not_found("account")
        return acct


def list_accounts(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, ())
    with m.lock:
        owners = m.visible_owners(account_id)
        return by_creation(a for a in m.t["account"].values() if a["id"] in owners)


# ---------------------------------------------------------------------------------------
# refresh tokens
# ---------------------------------------------------------------------------------------


def list_refresh_tokens(m: Model, account_id: str) -> list[Record]:
    with m.lock:
        return by_creation(r for r in m.t["refresh_token"].values() if r["owner"] == account_id)


@txn
def delete_refresh_token(m: Model, account_id: str, ident: str) -> None:
    rec = m.t["refresh_token"].get(ident)
    if rec is None:  # the token value itself is accepted too
        rec = next((r for r in m.t["refresh_token"].values() if r["token"] == ident), None)
    if rec is None or rec["owner"] != account_id:
        raise not_found("refresh_token")
    m.delete("refresh_token", rec["id"])


# ---------------------------------------------------------------------------------------
# login keys
# ---------------------------------------------------------------------------------------


def _check_password(m: Model, account_id: str, password: str | None) -> None:
    acct = m.t["account"][account_id]
    if password is None or not secrets.compare_digest(acct["password"], password):
        raise invalid_credentials(f"The {PASSWORD_HEADER} header is missing or does not match.")


def list_login_keys(m: Model, account_id: str) -> list[Record]:
    with m.lock:
        return by_creation(k for k in m.t["login_key"].values() if k["owner"] == account_id)


def get_login_key(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        rec = m.t["login_key"].get(ident)
        if rec is None or rec["owner"] != account_id:
            raise not_found("login_key")
        return rec


@txn
def create_login_key(m: Model, account_id: str, body: Any, password: str | None) -> Record:
    _check_password(m, account_id, password)
    if isinstance(body, dict) and "data" not in body and body.get("type") == "login_key":
        body = {"data": body}  # the legacy BAA shape
    if body == {}:
        body = {"data": {"type": "login_key"}}
    doc = read_new(body, "login_key", LOGIN_KEY_FIELDS)
    if sum(1 for k in m.t["login_key"].values() if k["owner"] == account_id) >= LOGIN_KEY_LIMIT:
        raise conflict(
            "Account Limit Reached",
            f"An account can have at most {LOGIN_KEY_LIMIT} login keys.",
            code="CX010",
        )
    values = {"owner": account_id, **doc.values, "usages": 0, "last_used_at": None}
    return insert(m, "login_key", values, ident=secrets.token_hex(8))


@txn
def update_login_key(
    m: Model, account_id: str, ident: str, body: Any, password: str | None
) -> Record:
    rec = get_login_key(m, account_id, ident)
    _check_password(m, account_id, password)
    return patch(m, "login_key", rec, read_changes(body, "login_key", LOGIN_KEY_FIELDS).values)


@txn
def delete_login_key(m: Model, account_id: str, ident: str, password: str | None) -> None:
    get_login_key(m, account_id, ident)
    _check_password(m, account_id, password)
    m.delete("login_key", ident)


ROUTES = [
    Route("POST", "auth", login, (BODY, OTP_HEADER), auth=False),
    Route("POST", "auth/token", exchange, (BODY,), auth=False),
    Route("GET", "accounts", list_accounts, (FILTERS,), "account", many=True),
    Route("GET", "accounts/*", get_account, (), "account"),
    Route("GET", "accounts/me/refresh_tokens", list_refresh_tokens, (), "refresh_token", many=True),
    Route("DELETE", "accounts/me/refresh_tokens/*", delete_refresh_token),
    Route("GET", "accounts/me/login_keys", list_login_keys, (), "login_key", many=True),
    Route(
        "POST",
        "accounts/me/login_keys",
        create_login_key,
        (BODY, PASSWORD_HEADER),
        "login_key",
        status=201,
    ),
    Route("GET", "accounts/me/login_keys/*", get_login_key, (), "login_key"),
    Route(
        "PATCH", "accounts/me/login_keys/*", update_login_key, (BODY, PASSWORD_HEADER), "login_key"
    ),
    Route("DELETE", "accounts/me/login_keys/*", delete_login_key, (PASSWORD_HEADER,)),
]
