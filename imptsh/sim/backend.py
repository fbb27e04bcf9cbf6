"""All rules and state of the impCentral simulator. Knows nothing about HTTP.

The model lives in memory (``self.t[kind][id] -> record dict``) and is written through to
SQLite (:mod:`imptsh.sim.store`). Records are copy-on-write: a stored dict is never mutated,
a change stores a new dict. Every public mutating method runs as one transaction
(:func:`txn`): on an :class:`ApiError` all in-memory changes are undone and nothing is
written, so a rejected request never changes state.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from . import devices as devsim
from .errors import (
    ApiError,
    bad_attribute,
    bad_relationship,
    bad_request,
    conflict,
    invalid_credentials,
    not_found,
    unauthorized,
)
from .store import LOG_KEEP, Store
from .streams import Event, LogStream

DEV = "development_devicegroup"
PRE_FF = "pre_factoryfixture_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
PRE_PROD = "pre_production_devicegroup"
FF = "factoryfixture_devicegroup"
DUT = "dut_devicegroup"
PROD = "production_devicegroup"
DG_TYPES = (DEV, PRE_FF, PRE_DUT, PRE_PROD, FF, DUT, PROD)
FIXTURE_TYPES = {PRE_FF: (PRE_PROD, PRE_DUT), FF: (PROD, DUT)}
PRODUCTION_TYPES = (PROD, PRE_PROD)
PRODUCTION_ENV_TYPES = (PROD, DUT, FF)

KINDS = (
    "account",
    "login_key",
    "refresh_token",
    "access_token",
    "product",
    "devicegroup",
    "device",
    "deployment",
    "webhook",
)

LOGIN_KEY_LIMIT = 10
STREAM_DEVICE_LIMIT = 5
STREAMS_PER_ACCOUNT = 1
LOGIN_TOKEN_TTL = 300.0
WEBHOOK_EVENTS = ("blessing", "blinkup", "deployment")
WEBHOOK_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
_TAG_RE = re.compile(r"^[A-Za-z0-9_\-*.]+$")
_ENV_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


def now_iso(t: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if t is None else t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def new_uuid() -> str:
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def txn(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a backend method as one transaction (nested calls join the outer one)."""

    @functools.wraps(fn)
    def wrapper(self: Backend, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            if self._depth:
                return fn(self, *args, **kwargs)
            self._begin()
            self._depth += 1
            try:
                result = fn(self, *args, **kwargs)
            except ApiError as exc:
                self._depth -= 1
                if exc.keep_changes:
                    self._commit()
                else:
                    self._rollback()
                raise
            except BaseException:
                self._depth -= 1
                self._rollback()
                raise
            self._depth -= 1
            self._commit()
            return result

    return wrapper


# ---------------------------------------------------------------------------------------
# request-body helpers
# ---------------------------------------------------------------------------------------


def _data(body: Any, types: tuple[str, ...] | str, *, need_id: bool = False) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "")
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_request("The request body must contain a 'data' object.", "/data")
    allowed = (types,) if isinstance(types, str) else types
    typ = data.get("type")
    if typ not in allowed:
        raise bad_request(
            f"'data.type' must be {' or '.join(repr(t) for t in allowed)}.", "/data/type"
        )
    if need_id and "id" in data and not isinstance(data["id"], str):
        raise bad_request("'data.id' must be a string.", "/data/id")
    for key in data:
        if key not in ("type", "id", "attributes", "relationships", "meta", "links"):
            raise bad_request(f"Unknown member 'data.{key}'.", f"/data/{key}")
    attrs = data.get("attributes", {})
    if attrs is None:
        attrs = {}
    if not isinstance(attrs, dict):
        raise bad_request("'data.attributes' must be an object.", "/data/attributes")
    rels = data.get("relationships", {})
    if rels is None:
        rels = {}
    if not isinstance(rels, dict):
        raise bad_request("'data.relationships' must be an object.", "/data/relationships")
    return {"type": typ, "id": data.get("id"), "attributes": attrs, "relationships": rels}


def _check_attrs(
    attrs: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> None:
    for key in attrs:
        if key not in allowed:
            raise bad_attribute(key, f"Unknown or read-only attribute '{key}'.")
    for key in required:
        if key not in attrs:
            raise bad_attribute(key, f"Missing required attribute '{key}'.")


def _check_rels(rels: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in rels.items():
        if key not in allowed:
            raise bad_relationship(key, f"Unknown or read-only relationship '{key}'.")
        if isinstance(value, dict) and "data" in value and "id" not in value:
            value = value["data"]  # tolerate standard JSON:API wrapping
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise bad_relationship(key, f"Relationship '{key}' must be an object with an 'id'.")
        out[key] = value
    return out


def _string(
    attrs: dict[str, Any], key: str, *, min_len: int = 0, max_len: int | None = None, null=False
) -> str | None:
    value = attrs[key]
    if value is None and null:
        return None
    if not isinstance(value, str):
        raise bad_attribute(key, f"Attribute '{key}' must be a string.")
    if len(value) < min_len:
        raise bad_attribute(key, f"Attribute '{key}' must be at least {min_len} characters.")
    if max_len is not None and len(value) > max_len:
        raise bad_attribute(key, f"Attribute '{key}' must be at most {max_len} characters.")
    return value


def _bool(attrs: dict[str, Any], key: str) -> bool:
    value = attrs[key]
    if not isinstance(value, bool):
        raise bad_attribute(key, f"Attribute '{key}' must be a boolean.")
    return value


def _env_vars(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_attribute("env_vars", "Attribute 'env_vars' must be an object.")
    for k, v in value.items():
        if not _ENV_KEY_RE.match(k):
            raise bad_attribute(
                "env_vars", f"Invalid env_vars key '{k}': use letters, digits and '_'."
            )
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise bad_attribute("env_vars", f"env_vars value of '{k}' must be a string or number.")
    return dict(value)


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise bad_attribute("tags", "Attribute 'tags' must be an array of strings.")
    for tag in value:
        if not _TAG_RE.match(tag):
            raise bad_attribute(
                "tags",
                f"Invalid tag '{tag}': tags may contain only letters, digits, '_', '-', '*' and '.'.",
            )
    if sum(len(t) for t in value) > 500:
        raise bad_attribute("tags", "The total length of all tags must not exceed 500 characters.")
    return list(value)


def _valid_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048 or any(c.isspace() for c in value):
        return False
    try:
        parts = urlparse(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return False
    return "." in host or host == "localhost" or ":" in host


class Backend:
    """The simulated impCentral: accounts, entities, devices, logs and log streams."""

    def __init__(
        self,
        db: str | None = None,
        *,
        user: str = "demo",
        password: str = "demo",
        email: str = "demo@example.com",
        devices: int = 3,
        token_ttl: float = 3600,
        stream_device_limit: int = STREAM_DEVICE_LIMIT,
        streams_per_account: int = STREAMS_PER_ACCOUNT,
    ) -> None:
        self.lock = threading.RLock()
        self.store = Store(db)
        self.token_ttl = float(token_ttl)
        self.defaults = {"user": user, "password": password, "email": email, "devices": devices}
        self.stream_device_limit = stream_device_limit
        self.streams_per_account = streams_per_account
        self.rng = random.Random()
        self.t: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.meta: dict[str, Any] = {"seq": 0}
        self.logs: dict[str, deque[dict[str, Any]]] = {}
        self.log_seq: dict[str, int] = {}
        self.streams: dict[str, LogStream] = {}
        self.login_tokens: dict[str, tuple[str, float]] = {}
        self.compile_errors: list[dict[str, Any]] = []
        self._literal_cache: dict[str, tuple[list[str], list[str]]] = {}
        self._depth = 0
        self._undo: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._meta_before: dict[str, Any] = {}
        self._pending_logs: list[tuple[str, str, str]] = []
        self._cleared_logs: set[str] = set()
        self._by_mac: dict[str, str] = {}
        self._closed = False
        if self.store.is_empty():
            self.reset()
        else:
            self._load()

    # ------------------------------------------------------------------ transactions
    def _begin(self) -> None:
        self._undo = {}
        self._meta_before = dict(self.meta)
        self._pending_logs = []
        self._cleared_logs = set()

    def _rollback(self) -> None:
        for (kind, ident), old in self._undo.items():
            if old is None:
                self.t[kind].pop(ident, None)
            else:
                self.t[kind][ident] = old
        self.meta = self._meta_before
        self._undo = {}
        self._pending_logs = []
        self._cleared_logs = set()
        self._rebuild_indexes()

    def _commit(self) -> None:
        puts = {key: self.t[key[0]].get(key[1]) for key in self._undo}
        meta = {k: v for k, v in self.meta.items() if self._meta_before.get(k) != v}
        rows: list[tuple[str, int, str, str, str]] = []
        lines: list[dict[str, Any]] = []
        for device_id in self._cleared_logs:
            self.logs.pop(device_id, None)
            self.log_seq.pop(device_id, None)
        for device_id, typ, msg in self._pending_logs:
            if device_id not in self.t["device"]:
                continue
            seq = self.log_seq.get(device_id, 0) + 1
            self.log_seq[device_id] = seq
            entry = {"ts": now_iso(), "type": typ, "msg": msg, "device_id": device_id}
            self.logs.setdefault(device_id, deque(maxlen=LOG_KEEP)).append(entry)
            rows.append((device_id, seq, entry["ts"], typ, msg))
            lines.append(entry)
        self.store.commit(puts, meta, rows, self._cleared_logs)
        self._undo = {}
        self._pending_logs = []
        self._cleared_logs = set()
        if lines:
            self._deliver(lines)

    def _put(self, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        key = (kind, rec["id"])
        if key not in self._undo:
            self._undo[key] = self.t[kind].get(rec["id"])
        self.t[kind][rec["id"]] = rec
        if kind == "device":
            self._by_mac[rec["mac_address"]] = rec["id"]
        return rec

    def _delete(self, kind: str, ident: str) -> None:
        key = (kind, ident)
        if key not in self._undo:
            self._undo[key] = self.t[kind].get(ident)
        rec = self.t[kind].pop(ident, None)
        if kind == "device" and rec is not None:
            self._by_mac.pop(rec["mac_address"], None)

    def _update(self, kind: str, rec: dict[str, Any], **changes: Any) -> dict[str, Any]:
        new = dict(rec)
        new.update(changes)
        return self._put(kind, new)

    def _next_seq(self) -> int:
        self.meta["seq"] = self.meta.get("seq", 0) + 1
        return self.meta["seq"]

    def _rebuild_indexes(self) -> None:
        self._by_mac = {d["mac_address"]: d["id"] for d in self.t["device"].values()}

    def _emit(self, device_id: str, typ: str, msg: str) -> None:
        self._pending_logs.append((device_id, typ, msg))

    def _deliver(self, lines: list[dict[str, Any]]) -> None:
        if not self.streams:
            return
        for stream in list(self.streams.values()):
            subscribed = set(stream.devices)
            batch: list[Event] = []
            for entry in lines:
                if entry["device_id"] in subscribed:
                    batch.append(("message", self._stream_line(entry)))
            if batch:
                stream.push(batch)

    def _stream_line(self, entry: dict[str, Any]) -> dict[str, Any]:
        dev = self.t["device"].get(entry["device_id"])
        env = "development"
        if dev and dev.get("devicegroup"):
            dg = self.t["devicegroup"].get(dev["devicegroup"])
            if dg and dg["type"] in PRODUCTION_ENV_TYPES:
                env = "production"
        return dict(entry, env=env)

    # ------------------------------------------------------------------ load / reset
    def _load(self) -> None:
        with self.lock:
            for kind, ident, data in self.store.load_entities():
                if kind in self.t:
                    self.t[kind][ident] = data
            self.meta = {"seq": 0, **self.store.load_meta()}
            for device_id, rows in self.store.load_logs().items():
                dq: deque[dict[str, Any]] = deque(maxlen=LOG_KEEP)
                for seq, ts, typ, msg in rows[-LOG_KEEP:]:
                    dq.append({"ts": ts, "type": typ, "msg": msg, "device_id": device_id})
                    self.log_seq[device_id] = seq
                self.logs[device_id] = dq
            self._rebuild_indexes()

    def reset(self) -> None:
        """Forget everything and re-seed the default account and devices."""
        with self.lock:
            self.close_streams()
            self.store.wipe()
            self.t = {k: {} for k in KINDS}
            self.meta = {"seq": 0}
            self.logs = {}
            self.log_seq = {}
            self.login_tokens = {}
            self.compile_errors = []
            self._literal_cache = {}
            self._by_mac = {}
            d = self.defaults
            self._seed(d["user"], d["password"], d["email"], d["devices"])

    @txn
    def _seed(self, user: str, password: str, email: str, count: int) -> None:
        acct = self._create_account(user, password, email, None)
        self.meta["default_account"] = acct["id"]
        for _ in range(count):
            self._create_device(acct["id"], {})

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self.close_streams()
            self.store.close()

    # ------------------------------------------------------------------ visibility helpers
    def _visible_owners(self, account_id: str) -> set[str]:
        owners = {account_id}
        for acct in self.t["account"].values():
            if account_id in acct.get("collaborators", ()):
                owners.add(acct["id"])
        return owners

    def _get_visible(self, kind: str, ident: str, account_id: str) -> dict[str, Any]:
        rec = self.t[kind].get(ident) if isinstance(ident, str) else None
        if rec is None or rec["owner"] not in self._visible_owners(account_id):
            raise not_found(kind, ident)
        return rec

    def _resolve_device(
        self, ident: str, account_id: str | None, *, agent_ok: bool = True
    ) -> dict[str, Any]:
        dev = None
        if isinstance(ident, str):
            dev = self.t["device"].get(ident)
            if dev is None:
                mac_id = self._by_mac.get(ident.lower())
                dev = self.t["device"].get(mac_id) if mac_id else None
            if dev is None and agent_ok and len(ident) == 12:
                for cand in self.t["device"].values():
                    if cand.get("agent_id") == ident and cand.get("devicegroup"):
                        dev = cand
                        break
        if dev is None or (
            account_id is not None and dev["owner"] not in self._visible_owners(account_id)
        ):
            raise not_found("device", ident)
        return dev

    # ------------------------------------------------------------------ rendering
    def render(self, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        """JSON:API resource object (without ``links``; the HTTP layer adds them)."""
        return getattr(self, f"_render_{kind}")(rec)

    def _ref(self, kind: str, ident: str | None) -> dict[str, str] | None:
        if not ident:
            return None
        if kind == "devicegroup":
            dg = self.t["devicegroup"].get(ident)
            if dg is None:
                return None
            return {"type": dg["type"], "id": ident}
        return {"type": kind, "id": ident}

    def _rels(self, pairs: list[tuple[str, str, str | None]]) -> dict[str, Any]:
        rels: dict[str, Any] = {}
        for name, kind, ident in pairs:
            ref = self._ref(kind, ident)
            if ref is not None:
                rels[name] = ref
        return rels

    def _render_account(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "account",
            "id": a["id"],
            "attributes": {"username": a["username"], "email": a["email"]},
            "relationships": {},
        }

    def _render_login_key(self, k: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "login_key",
            "id": k["id"],
            "attributes": {
                "description": k["description"],
                "usages": k["usages"],
                "created_at": k["created_at"],
                "updated_at": k["updated_at"],
                "last_used_at": k["last_used_at"],
            },
            "relationships": {"owner": {"type": "account", "id": k["owner"]}},
        }

    def _render_refresh_token(self, r: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "refresh_token",
            "id": r["id"],
            "attributes": {"created_at": r["created_at"], "last_used_at": r["last_used_at"]},
            "relationships": {"owner": {"type": "account", "id": r["owner"]}},
        }

    def _render_product(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "product",
            "id": p["id"],
            "attributes": {
                "name": p["name"],
                "description": p["description"],
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            },
            "relationships": self._rels(
                [("owner", "account", p["owner"]), ("creator", "account", p["creator"])]
            ),
        }

    def _render_devicegroup(self, g: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "name": g["name"],
            "description": g["description"],
            "region": g["region"],
            "env_vars": g["env_vars"],
        }
        if g["type"] in PRODUCTION_TYPES:
            attrs["load_code_after_blessing"] = g["load_code_after_blessing"]
        attrs["created_at"] = g["created_at"]
        attrs["updated_at"] = g["updated_at"]
        return {
            "type": g["type"],
            "id": g["id"],
            "attributes": attrs,
            "relationships": self._rels(
                [
                    ("product", "product", g["product"]),
                    ("owner", "account", g["owner"]),
                    ("creator", "account", g["creator"]),
                    ("current_deployment", "deployment", g.get("current_deployment")),
                    ("min_supported_deployment", "deployment", g.get("min_supported_deployment")),
                    ("production_target", "devicegroup", g.get("production_target")),
                    ("dut_target", "devicegroup", g.get("dut_target")),
                ]
            ),
        }

    def _render_device(self, d: dict[str, Any]) -> dict[str, Any]:
        assigned = bool(d.get("devicegroup"))
        agent_id = d.get("agent_id") if assigned else None
        product = None
        if assigned:
            dg = self.t["devicegroup"].get(d["devicegroup"])
            product = dg["product"] if dg else None
        return {
            "type": "device",
            "id": d["id"],
            "attributes": {
                "name": d["name"],
                "agent_id": agent_id,
                "agent_url": devsim.agent_url(agent_id) if agent_id else None,
                "device_online": d["device_online"],
                "device_state_changed_at": d["device_state_changed_at"],
                "agent_running": bool(assigned and d["agent_running"]),
                "agent_state_changed_at": d["agent_state_changed_at"],
                "last_enrolled_at": d["last_enrolled_at"],
                "imp_type": d["imp_type"],
                "ip_address": d["ip_address"],
                "mac_address": d["mac_address"],
                "free_memory": d["free_memory"],
                "rssi": d["rssi"],
                "swversion": d["swversion"],
                "plan_id": d["plan_id"],
            },
            "relationships": self._rels(
                [
                    ("devicegroup", "devicegroup", d.get("devicegroup")),
                    ("product", "product", product),
                    ("owner", "account", d["owner"]),
                ]
            ),
        }

    def _render_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "deployment",
            "id": p["id"],
            "attributes": {
                "device_code": p["device_code"],
                "agent_code": p["agent_code"],
                "description": p["description"],
                "origin": p["origin"],
                "flagged": p["flagged"],
                "tags": list(p["tags"]),
                "sha": p["sha"],
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            },
            "relationships": self._rels(
                [
                    ("devicegroup", "devicegroup", p.get("devicegroup")),
                    ("product", "product", p["product"]),
                    ("owner", "account", p["owner"]),
                    ("creator", "account", p["creator"]),
                    ("flagger", "account", p.get("flagger")),
                ]
            ),
        }

    def _render_webhook(self, w: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "webhook",
            "id": w["id"],
            "attributes": {
                "url": w["url"],
                "event": w["event"],
                "content_type": w["content_type"],
                "created_at": w["created_at"],
                "updated_at": w["updated_at"],
            },
            "relationships": self._rels(
                [
                    ("devicegroup", "devicegroup", w.get("devicegroup")),
                    ("product", "product", w.get("product")),
                    ("owner", "account", w["owner"]),
                ]
            ),
        }

    @staticmethod
    def _sorted(recs: Any) -> list[dict[str, Any]]:
        return sorted(recs, key=lambda r: r["seq"])

    # ================================================================== authentication
    def _issue_tokens(self, account_id: str, refresh: bool) -> dict[str, Any]:
        now = time.time()
        token = secrets.token_urlsafe(96)
        self._put(
            "access_token",
            {"id": token, "owner": account_id, "expires": now + self.token_ttl, "seq": 0},
        )
        out: dict[str, Any] = {
            "access_token": token,
            "expires_in": int(self.token_ttl),
            "expires_at": now_iso(now + self.token_ttl),
        }
        if refresh:
            value = secrets.token_hex(32)
            self._put(
                "refresh_token",
                {
                    "id": new_uuid(),
                    "token": value,
                    "owner": account_id,
                    "created_at": now_iso(now),
                    "last_used_at": None,
                    "seq": self._next_seq(),
                },
            )
            out["refresh_token"] = value
        self._prune_tokens(now)
        return out

    def _prune_tokens(self, now: float) -> None:
        if len(self.t["access_token"]) < 1000:
            return
        for tok in [t for t in self.t["access_token"].values() if t["expires"] < now]:
            self._delete("access_token", tok["id"])

    def _find_account(self, ident: str) -> dict[str, Any] | None:
        for acct in self.t["account"].values():
            if ident in (acct["username"], acct["email"]):
                return acct
        return None

    @txn
    def login(self, body: Any, otp_header: str | None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        if "login_token" in body:
            lt = body["login_token"]
            entry = self.login_tokens.get(lt) if isinstance(lt, str) else None
            if entry is None or entry[1] < time.time():
                raise invalid_credentials("The login token is invalid or has expired.")
            acct = self.t["account"].get(entry[0])
            if acct is None or not otp_header or otp_header.strip() != acct.get("otp"):
                raise invalid_credentials("The one-time password is invalid.")
            self.login_tokens.pop(lt, None)
            return self._issue_tokens(acct["id"], True)
        ident, password = body.get("id"), body.get("password")
        if not isinstance(ident, str) or not ident:
            raise bad_request("'id' must be a non-empty string.", "/id")
        if not isinstance(password, str):
            raise bad_request("'password' must be a string.", "/password")
        acct = self._find_account(ident)
        if acct is None or not secrets.compare_digest(acct["password"], password):
            raise invalid_credentials("The username/email or password is incorrect.")
        if acct.get("otp"):
            token = secrets.token_urlsafe(24)
            self.login_tokens[token] = (acct["id"], time.time() + LOGIN_TOKEN_TTL)
            raise ApiError(
                403,
                "PX102",
                "Second Factor Required",
                "A one-time password is required to complete the login.",
                meta={"login_token": token},
            )
        return self._issue_tokens(acct["id"], True)

    @txn
    def exchange(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not ("token" in body) ^ ("key" in body):
            raise bad_request("The request body must contain either 'token' or 'key'.")
        now = now_iso()
        if "token" in body:
            value = body["token"]
            for rt in self.t["refresh_token"].values():
                if isinstance(value, str) and rt["token"] == value:
                    self._update("refresh_token", rt, last_used_at=now)
                    return self._issue_tokens(rt["owner"], False)
            raise not_found("refresh_token")
        key = body["key"]
        lk = self.t["login_key"].get(key) if isinstance(key, str) else None
        if lk is None:
            raise not_found("login_key")
        self._update("login_key", lk, usages=lk["usages"] + 1, last_used_at=now)
        return self._issue_tokens(lk["owner"], False)

    def authenticate(self, token: str | None) -> str:
        """Account id for a bearer token, or raise 401. O(1), no transaction needed."""
        if not token:
            raise unauthorized("A valid access token is required.")
        rec = self.t["access_token"].get(token)
        if rec is None:
            raise unauthorized("The access token is invalid.")
        if rec["expires"] < time.time():
            raise unauthorized("The access token has expired.")
        if rec["owner"] not in self.t["account"]:
            raise unauthorized("The access token is invalid.")
        return rec["owner"]

    # ================================================================== accounts
    def _create_account(
        self, username: str, password: str, email: str, otp: str | None
    ) -> dict[str, Any]:
        return self._put(
            "account",
            {
                "id": new_uuid(),
                "username": username,
                "email": email,
                "password": password,
                "otp": otp,
                "collaborators": [],
                "created_at": now_iso(),
                "seq": self._next_seq(),
            },
        )

    @txn
    def seed_account(self, body: Any) -> dict[str, Any]:
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
        for acct in self.t["account"].values():
            if body["username"] in (acct["username"], acct["email"]) or body["email"] in (
                acct["username"],
                acct["email"],
            ):
                raise conflict(
                    "Duplicate Resource", "Accounts must have unique usernames and emails."
                )
        return self._create_account(body["username"], body["password"], body["email"], otp)

    @txn
    def add_collaborator(self, body: Any) -> dict[str, Any]:
        """Let account ``collaborator`` see and change the entities of account ``account``."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        owner = self._account_by_any(body.get("account"), "/account")
        collab = self._account_by_any(body.get("collaborator"), "/collaborator")
        if collab["id"] not in owner["collaborators"]:
            self._update("account", owner, collaborators=[*owner["collaborators"], collab["id"]])
        return self.t["account"][owner["id"]]

    def _account_by_any(self, ident: Any, pointer: str) -> dict[str, Any]:
        if isinstance(ident, str):
            acct = self.t["account"].get(ident) or self._find_account(ident)
            if acct:
                return acct
        raise bad_request(f"Unknown account {ident!r}.", pointer)

    def account_ref(self, ident: Any) -> str | None:
        """Account id for an id, username or email (control plane); None when unknown."""
        if ident is None:
            return self.meta.get("default_account")
        if isinstance(ident, str):
            acct = self.t["account"].get(ident) or self._find_account(ident)
            if acct:
                return acct["id"]
        return None

    def get_account(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            if ident == "me":
                return self.t["account"][account_id]
            acct = self.t["account"].get(ident)
            if acct is None or acct["id"] not in self._visible_owners(account_id):
                raise not_found("account")
            return acct

    def list_accounts(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        _check_filters(filters, ())
        with self.lock:
            owners = self._visible_owners(account_id)
            return self._sorted(a for a in self.t["account"].values() if a["id"] in owners)

    # ---------------------------------------------------------------- refresh tokens
    def list_refresh_tokens(self, account_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return self._sorted(
                r for r in self.t["refresh_token"].values() if r["owner"] == account_id
            )

    @txn
    def delete_refresh_token(self, account_id: str, ident: str) -> None:
        rec = self.t["refresh_token"].get(ident)
        if rec is None:
            # Also accept the token value itself.
            rec = next((r for r in self.t["refresh_token"].values() if r["token"] == ident), None)
        if rec is None or rec["owner"] != account_id:
            raise not_found("refresh_token")
        self._delete("refresh_token", rec["id"])

    # ---------------------------------------------------------------- login keys
    def _check_password(self, account_id: str, password: str | None) -> None:
        acct = self.t["account"][account_id]
        if password is None or not secrets.compare_digest(acct["password"], password):
            raise invalid_credentials(
                "The X-Electricimp-Password header is missing or does not match."
            )

    def list_login_keys(self, account_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return self._sorted(k for k in self.t["login_key"].values() if k["owner"] == account_id)

    def get_login_key(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            rec = self.t["login_key"].get(ident)
            if rec is None or rec["owner"] != account_id:
                raise not_found("login_key")
            return rec

    @txn
    def create_login_key(self, account_id: str, body: Any, password: str | None) -> dict[str, Any]:
        self._check_password(account_id, password)
        if isinstance(body, dict) and "data" not in body and body.get("type") == "login_key":
            body = {"data": body}  # the legacy BAA shape
        if body == {}:
            body = {"data": {"type": "login_key"}}
        d = _data(body, "login_key")
        _check_attrs(d["attributes"], ("description",))
        _check_rels(d["relationships"], ())
        desc = ""
        if "description" in d["attributes"]:
            desc = _string(d["attributes"], "description", max_len=255, null=True) or ""
        if sum(1 for k in self.t["login_key"].values() if k["owner"] == account_id) >= (
            LOGIN_KEY_LIMIT
        ):
            raise conflict(
                "Account Limit Reached",
                f"An account can have at most {LOGIN_KEY_LIMIT} login keys.",
                code="CX010",
            )
        now = now_iso()
        return self._put(
            "login_key",
            {
                "id": secrets.token_hex(8),
                "owner": account_id,
                "description": desc,
                "usages": 0,
                "created_at": now,
                "updated_at": now,
                "last_used_at": None,
                "seq": self._next_seq(),
            },
        )

    @txn
    def update_login_key(
        self, account_id: str, ident: str, body: Any, password: str | None
    ) -> dict[str, Any]:
        rec = self.get_login_key(account_id, ident)
        self._check_password(account_id, password)
        d = _data(body, "login_key")
        _check_attrs(d["attributes"], ("description",))
        _check_rels(d["relationships"], ())
        changes: dict[str, Any] = {}
        if "description" in d["attributes"]:
            changes["description"] = (
                _string(d["attributes"], "description", max_len=255, null=True) or ""
            )
        return self._update("login_key", rec, updated_at=now_iso(), **changes)

    @txn
    def delete_login_key(self, account_id: str, ident: str, password: str | None) -> None:
        self.get_login_key(account_id, ident)
        self._check_password(account_id, password)
        self._delete("login_key", ident)

    # ================================================================== products
    def list_products(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        _check_filters(filters, ("owner.id",))
        with self.lock:
            owners = self._visible_owners(account_id)
            want = filters.get("owner.id")
            return self._sorted(
                p
                for p in self.t["product"].values()
                if p["owner"] in owners and (want is None or p["owner"] == want)
            )

    def get_product(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            return self._get_visible("product", ident, account_id)

    def _unique_product_name(self, owner: str, name: str, exclude: str | None = None) -> None:
        for p in self.t["product"].values():
            if p["owner"] == owner and p["name"] == name and p["id"] != exclude:
                raise conflict("Duplicate Resource", "Products must have unique names.")

    @txn
    def create_product(self, account_id: str, body: Any) -> dict[str, Any]:
        d = _data(body, "product")
        attrs = d["attributes"]
        _check_attrs(attrs, ("name", "description"), ("name",))
        rels = _check_rels(d["relationships"], ("owner",))
        name = _string(attrs, "name", min_len=1, max_len=80)
        desc = ""
        if "description" in attrs:
            desc = _string(attrs, "description", max_len=255, null=True) or ""
        owner = account_id
        if "owner" in rels:
            owner = rels["owner"]["id"]
            if owner not in self._visible_owners(account_id):
                raise not_found("account")
        self._unique_product_name(owner, name)
        now = now_iso()
        return self._put(
            "product",
            {
                "id": new_uuid(),
                "owner": owner,
                "creator": account_id,
                "name": name,
                "description": desc,
                "created_at": now,
                "updated_at": now,
                "seq": self._next_seq(),
            },
        )

    @txn
    def update_product(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._get_visible("product", ident, account_id)
        d = _data(body, "product")
        attrs = d["attributes"]
        _check_attrs(attrs, ("name", "description"))
        _check_rels(d["relationships"], ())
        changes: dict[str, Any] = {}
        if "name" in attrs:
            changes["name"] = _string(attrs, "name", min_len=1, max_len=80)
            self._unique_product_name(rec["owner"], changes["name"], rec["id"])
        if "description" in attrs:
            changes["description"] = _string(attrs, "description", max_len=255, null=True) or ""
        return self._update("product", rec, updated_at=now_iso(), **changes)

    @txn
    def delete_product(self, account_id: str, ident: str) -> None:
        rec = self._get_visible("product", ident, account_id)
        if any(g["product"] == rec["id"] for g in self.t["devicegroup"].values()):
            raise conflict(
                "Dependent Devicegroups Exist",
                "Cannot delete a product with associated devicegroups.",
                code="CX002",
            )
        self._delete("product", rec["id"])

    # ================================================================== device groups
    def list_devicegroups(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        _check_filters(filters, ("owner.id", "product.id", "type"))
        if "type" in filters and filters["type"] not in DG_TYPES:
            raise bad_request(
                f"Invalid value for filter[type]: {filters['type']!r}.", "filter[type]"
            )
        with self.lock:
            owners = self._visible_owners(account_id)
            out = []
            for g in self.t["devicegroup"].values():
                if g["owner"] not in owners:
                    continue
                if "owner.id" in filters and g["owner"] != filters["owner.id"]:
                    continue
                if "product.id" in filters and g["product"] != filters["product.id"]:
                    continue
                if "type" in filters and g["type"] != filters["type"]:
                    continue
                out.append(g)
            return self._sorted(out)

    def get_devicegroup(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            return self._get_visible("devicegroup", ident, account_id)

    def _unique_dg_name(self, product: str, name: str, exclude: str | None = None) -> None:
        for g in self.t["devicegroup"].values():
            if g["product"] == product and g["name"] == name and g["id"] != exclude:
                raise conflict("Duplicate Resource", "Devicegroups must have unique names.")

    def _check_targets(
        self, account_id: str, typ: str, product: str, rels: dict[str, Any], creating: bool
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        targets = ("production_target", "dut_target")
        if typ not in FIXTURE_TYPES:
            for name in targets:
                if name in rels:
                    raise bad_relationship(
                        name, f"'{name}' is only allowed on factory fixture devicegroups."
                    )
            return out
        prod_type, dut_type = FIXTURE_TYPES[typ]
        for name, want in zip(targets, (prod_type, dut_type), strict=True):
            if name not in rels:
                if creating:
                    raise bad_relationship(name, f"Relationship '{name}' is required for {typ}.")
                continue
            target = self._get_visible("devicegroup", rels[name]["id"], account_id)
            if target["type"] != want:
                raise bad_relationship(name, f"'{name}' of a {typ} must be a {want}.")
            if target["product"] != product:
                raise bad_relationship(
                    name, f"'{name}' must belong to the same product as the devicegroup."
                )
            out[name] = target["id"]
        return out

    @txn
    def create_devicegroup(self, account_id: str, body: Any) -> dict[str, Any]:
        d = _data(body, DG_TYPES)
        typ = d["type"]
        attrs = d["attributes"]
        allowed: tuple[str, ...] = ("name", "description", "region", "env_vars")
        if typ in PRODUCTION_TYPES:
            allowed += ("load_code_after_blessing",)
        _check_attrs(attrs, allowed, ("name",))
        rels = _check_rels(d["relationships"], ("product", "production_target", "dut_target"))
        if "product" not in rels:
            raise bad_relationship("product", "Relationship 'product' is required.")
        name = _string(attrs, "name", min_len=1, max_len=80)
        desc = ""
        if "description" in attrs:
            desc = _string(attrs, "description", max_len=255, null=True) or ""
        region = None
        if attrs.get("region") is not None:
            if typ not in PRODUCTION_TYPES:
                raise bad_attribute(
                    "region", "'region' may only be set on production and pre-production groups."
                )
            region = _string(attrs, "region", min_len=1, max_len=64)
        env = _env_vars(attrs.get("env_vars"))
        lcab = None
        if typ in PRODUCTION_TYPES:
            lcab = (
                _bool(attrs, "load_code_after_blessing")
                if ("load_code_after_blessing" in attrs)
                else True
            )
        product = self._get_visible("product", rels["product"]["id"], account_id)
        targets = self._check_targets(account_id, typ, product["id"], rels, True)
        self._unique_dg_name(product["id"], name)
        now = now_iso()
        return self._put(
            "devicegroup",
            {
                "id": new_uuid(),
                "type": typ,
                "product": product["id"],
                "owner": product["owner"],
                "creator": account_id,
                "name": name,
                "description": desc,
                "region": region,
                "env_vars": env,
                "load_code_after_blessing": lcab,
                "current_deployment": None,
                "min_supported_deployment": None,
                "production_target": targets.get("production_target"),
                "dut_target": targets.get("dut_target"),
                "created_at": now,
                "updated_at": now,
                "seq": self._next_seq(),
            },
        )

    @txn
    def update_devicegroup(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._get_visible("devicegroup", ident, account_id)
        d = _data(body, DG_TYPES + ("devicegroup",))
        if d["type"] != rec["type"]:
            raise bad_request(
                f"'data.type' must be the devicegroup's type '{rec['type']}'; the type of a "
                "devicegroup cannot be changed.",
                "/data/type",
            )
        attrs = d["attributes"]
        allowed: tuple[str, ...] = ("name", "description", "env_vars")
        if rec["type"] in PRODUCTION_TYPES:
            allowed += ("load_code_after_blessing",)
        _check_attrs(attrs, allowed)
        rels = _check_rels(d["relationships"], ("production_target", "dut_target"))
        changes: dict[str, Any] = {}
        if "name" in attrs:
            changes["name"] = _string(attrs, "name", min_len=1, max_len=80)
            self._unique_dg_name(rec["product"], changes["name"], rec["id"])
        if "description" in attrs:
            changes["description"] = _string(attrs, "description", max_len=255, null=True) or ""
        if "env_vars" in attrs:
            changes["env_vars"] = _env_vars(attrs["env_vars"])
        if "load_code_after_blessing" in attrs:
            changes["load_code_after_blessing"] = _bool(attrs, "load_code_after_blessing")
        changes.update(self._check_targets(account_id, rec["type"], rec["product"], rels, False))
        return self._update("devicegroup", rec, updated_at=now_iso(), **changes)

    @txn
    def delete_devicegroup(self, account_id: str, ident: str) -> None:
        rec = self._get_visible("devicegroup", ident, account_id)
        gid = rec["id"]
        if any(d.get("devicegroup") == gid for d in self.t["device"].values()):
            raise conflict(
                "Dependent Devices Exist",
                "Cannot delete a devicegroup with assigned devices; unassign them first.",
                code="CX003",
            )
        deps = [p for p in self.t["deployment"].values() if p.get("devicegroup") == gid]
        if any(p["flagged"] for p in deps):
            raise conflict(
                "Flagged Deployments Exist",
                "Cannot delete a devicegroup with flagged deployments; delete those first.",
                code="CX004",
            )
        for g in self.t["devicegroup"].values():
            if g["id"] != gid and gid in (g.get("production_target"), g.get("dut_target")):
                raise conflict(
                    "Dependent Devicegroups Exist",
                    "Cannot delete a devicegroup that is the production_target or dut_target "
                    "of another devicegroup.",
                    code="CX002",
                )
        for p in deps:
            self._update("deployment", p, devicegroup=None)  # zombie deployments survive
        for w in list(self.t["webhook"].values()):
            if w.get("devicegroup") == gid:
                self._delete("webhook", w["id"])
        self._delete("devicegroup", gid)

    @txn
    def set_min_supported(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._get_visible("devicegroup", ident, account_id)
        d = _data(body, "deployment")
        dep = self._get_visible("deployment", d["id"], account_id) if d["id"] else None
        if dep is None:
            raise bad_request("'data.id' (a deployment id) is required.", "/data/id")
        if dep.get("devicegroup") != rec["id"]:
            raise bad_request(
                "The deployment does not belong to this devicegroup.",
                "/data/id",
                title="Invalid Relationship",
            )
        cur = self.t["deployment"].get(rec.get("min_supported_deployment") or "")
        if cur is not None and dep["seq"] < cur["seq"]:
            raise bad_request(
                "min_supported_deployment cannot be set to a deployment older than the "
                "current min_supported_deployment.",
                "/data/id",
                title="Invalid Relationship",
            )
        return self._update("devicegroup", rec, min_supported_deployment=dep["id"])

    def _dg_devices(self, gid: str) -> list[dict[str, Any]]:
        return self._sorted(d for d in self.t["device"].values() if d.get("devicegroup") == gid)

    @txn
    def restart_devicegroup(self, account_id: str, ident: str, conditional: bool) -> None:
        rec = self._get_visible("devicegroup", ident, account_id)
        for dev in self._dg_devices(rec["id"]):
            if conditional:
                self._conditional_restart(dev)
            else:
                self._restart(dev)

    def _device_list_errors(self, body: Any) -> list[Any]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise bad_request("The request body must contain a 'data' array of devices.", "/data")
        idents = []
        for i, item in enumerate(body["data"]):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise bad_request(f"data[{i}] must be an object with an 'id'.", f"/data/{i}/id")
            if item.get("type", "device") != "device":
                raise bad_request(f"data[{i}].type must be 'device'.", f"/data/{i}/type")
            idents.append(item["id"])
        return idents

    @staticmethod
    def _device_error(i: int, ident: str, status: int, title: str, detail: str) -> dict[str, Any]:
        return {
            "status": str(status),
            "code": "NF001" if status == 404 else "CX006",
            "title": title,
            "detail": detail,
            "source": {"pointer": f"/data/{i}/id"},
            "meta": {"id": ident},
        }

    @txn
    def assign_devices(self, account_id: str, ident: str, body: Any) -> None:
        rec = self._get_visible("devicegroup", ident, account_id)
        idents = self._device_list_errors(body)
        errors = []
        for i, dev_ident in enumerate(idents):
            try:
                dev = self._resolve_device(dev_ident, account_id)
            except ApiError:
                errors.append(
                    self._device_error(
                        i,
                        dev_ident,
                        404,
                        "Resource Not Found",
                        f"Could not find the specified device: {dev_ident}.",
                    )
                )
                continue
            if dev.get("devicegroup") == rec["id"]:
                continue
            problem = self._assignment_problem(dev, rec)
            if problem:
                errors.append(self._device_error(i, dev_ident, 400, "Invalid Assignment", problem))
                continue
            self._assign(dev, rec)
        if errors:
            raise ApiError(400, "VX004", "Invalid Devices", "", errors=errors, keep_changes=True)

    def _assignment_problem(self, dev: dict[str, Any], dg: dict[str, Any]) -> str | None:
        if dg["type"] in PRODUCTION_TYPES:
            cur = self.t["devicegroup"].get(dev.get("devicegroup") or "")
            if (
                cur is None
                or cur["type"] not in PRODUCTION_TYPES
                or cur["product"] != dg["product"]
            ):
                return (
                    "Devices get into production groups by blessing; they can only be moved "
                    "between production groups of the same product."
                )
        if dg["type"] in FIXTURE_TYPES and dev["imp_type"] == "imp001":
            return "imp001-based devices cannot be assigned to factory fixture groups."
        return None

    def _assign(self, dev: dict[str, Any], dg: dict[str, Any]) -> None:
        agent_id = dev.get("agent_id") or devsim.new_agent_id(self.rng)
        dev = self._update("device", dev, devicegroup=dg["id"], agent_id=agent_id)
        self._restart(dev)

    @txn
    def unassign_devices(self, account_id: str, ident: str, body: Any) -> None:
        rec = self._get_visible("devicegroup", ident, account_id)
        idents = self._device_list_errors(body)
        errors = []
        for i, dev_ident in enumerate(idents):
            try:
                dev = self._resolve_device(dev_ident, account_id)
            except ApiError:
                dev = None
            if dev is None or dev.get("devicegroup") != rec["id"]:
                errors.append(
                    self._device_error(
                        i,
                        dev_ident,
                        404,
                        "Resource Not Found",
                        f"Could not find the specified device in this devicegroup: {dev_ident}.",
                    )
                )
                continue
            self._unassign(dev)
        if errors:
            raise ApiError(400, "VX004", "Invalid Devices", "", errors=errors, keep_changes=True)

    def _unassign(self, dev: dict[str, Any]) -> None:
        now = now_iso()
        self._update(
            "device",
            dev,
            devicegroup=None,
            deployment=None,
            agent_running=False,
            agent_state_changed_at=now,
        )

    # ================================================================== devices
    def _create_device(self, owner: str, spec: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        now = now_iso()
        dev_id = spec.get("id") or devsim.new_device_id(rng)
        while dev_id in self.t["device"]:
            dev_id = devsim.new_device_id(rng)
        mac = (spec.get("mac_address") or devsim.new_mac(rng)).lower()
        while mac in self._by_mac:
            mac = devsim.new_mac(rng)
        n = len(self.t["device"])
        return self._put(
            "device",
            {
                "id": dev_id,
                "owner": owner,
                "name": spec.get("name"),
                "agent_id": None,
                "device_online": bool(spec.get("device_online", True)),
                "device_state_changed_at": now,
                "agent_running": False,
                "agent_state_changed_at": None,
                "last_enrolled_at": now,
                "imp_type": spec.get("imp_type") or devsim.IMP_TYPES[n % len(devsim.IMP_TYPES)],
                "ip_address": spec.get("ip_address") or devsim.new_ip(rng),
                "mac_address": mac,
                "free_memory": spec.get("free_memory", rng.randrange(80000, 90000)),
                "rssi": spec.get("rssi", rng.randrange(-70, -40)),
                "swversion": spec.get("swversion") or devsim.SWVERSION,
                "plan_id": spec.get("plan_id"),
                "devicegroup": None,
                "deployment": None,
                "seq": self._next_seq(),
            },
        )

    _SIM_DEVICE_FIELDS = (
        "id",
        "name",
        "mac_address",
        "imp_type",
        "device_online",
        "ip_address",
        "free_memory",
        "rssi",
        "swversion",
        "plan_id",
    )

    _SIM_DEVICE_TYPES: dict[str, tuple[type, ...]] = {
        "name": (str, type(None)),
        "imp_type": (str,),
        "device_online": (bool,),
        "ip_address": (str,),
        "free_memory": (int,),
        "rssi": (int,),
        "swversion": (str,),
        "plan_id": (str, type(None)),
    }

    @txn
    def seed_devices(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        for key in body:
            if key not in ("count", "devices", "account"):
                raise bad_request(f"Unknown member '{key}'.", f"/{key}")
        owner = self.account_ref(body.get("account"))
        if owner is None:
            raise bad_request("Unknown account.", "/account")
        specs: list[dict[str, Any]] = []
        if "devices" in body:
            if not isinstance(body["devices"], list):
                raise bad_request("'devices' must be an array.", "/devices")
            for i, spec in enumerate(body["devices"]):
                if not isinstance(spec, dict):
                    raise bad_request(f"devices[{i}] must be an object.", f"/devices/{i}")
                for key in spec:
                    if key not in self._SIM_DEVICE_FIELDS:
                        raise bad_request(f"Unknown device field '{key}'.", f"/devices/{i}/{key}")
                for key, types in self._SIM_DEVICE_TYPES.items():
                    if key in spec and not (
                        isinstance(spec[key], types)
                        and not (isinstance(spec[key], bool) and bool not in types)
                    ):
                        raise bad_request(
                            f"devices[{i}].{key} has the wrong type.", f"/devices/{i}/{key}"
                        )
                if "id" in spec and (
                    not isinstance(spec["id"], str)
                    or not _HEX16.match(spec["id"])
                    or spec["id"] in self.t["device"]
                ):
                    raise bad_request(
                        "'id' must be 16 unused lowercase hex digits.", f"/devices/{i}/id"
                    )
                if "mac_address" in spec:
                    mac = spec["mac_address"]
                    if (
                        not isinstance(mac, str)
                        or not re.match(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$", mac)
                        or mac.lower() in self._by_mac
                    ):
                        raise bad_request(
                            "'mac_address' must be an unused MAC address.",
                            f"/devices/{i}/mac_address",
                        )
                specs.append(spec)
        count = body.get("count", 0 if specs else 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise bad_request("'count' must be an integer between 0 and 1000.", "/count")
        specs.extend({} for _ in range(count))
        return [self._create_device(owner, spec) for spec in specs]

    def list_devices(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        _check_filters(
            filters,
            (
                "owner.id",
                "account.id",
                "product.id",
                "devicegroup.id",
                "devicegroup.owner.id",
                "devicegroup.type",
            ),
        )
        t = filters.get("devicegroup.type")
        if t is not None and t not in DG_TYPES:
            raise bad_request(f"Invalid value for filter[devicegroup.type]: {t!r}.")
        with self.lock:
            owners = self._visible_owners(account_id)
            groups = self.t["devicegroup"]
            out = []
            for d in self.t["device"].values():
                if d["owner"] not in owners:
                    continue
                for key in ("owner.id", "account.id"):
                    if key in filters and d["owner"] != filters[key]:
                        break
                else:
                    g = groups.get(d.get("devicegroup") or "")
                    if "devicegroup.id" in filters and (
                        g is None or g["id"] != filters["devicegroup.id"]
                    ):
                        continue
                    if "product.id" in filters and (
                        g is None or g["product"] != filters["product.id"]
                    ):
                        continue
                    if "devicegroup.owner.id" in filters:
                        want = filters["devicegroup.owner.id"]
                        if want == "null":
                            if g is not None:
                                continue
                        elif g is None or g["owner"] != want:
                            continue
                    if t is not None and (g is None or g["type"] != t):
                        continue
                    out.append(d)
            return self._sorted(out)

    def get_device(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            return self._resolve_device(ident, account_id)

    @txn
    def update_device(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._resolve_device(ident, account_id)
        d = _data(body, "device")
        _check_attrs(d["attributes"], ("name",))
        _check_rels(d["relationships"], ())
        changes = {}
        if "name" in d["attributes"]:
            changes["name"] = _string(d["attributes"], "name", max_len=80, null=True)
        return self._update("device", rec, **changes)

    @txn
    def delete_device(self, account_id: str, ident: str) -> None:
        rec = self._resolve_device(ident, account_id)
        if rec.get("devicegroup"):
            raise conflict(
                "Device Assigned",
                "Cannot remove a device that is assigned to a devicegroup; unassign it first.",
                code="CX007",
            )
        self._delete("device", rec["id"])
        self._cleared_logs.add(rec["id"])
        for stream in self.streams.values():
            if rec["id"] in stream.devices:
                stream.devices.remove(rec["id"])
                stream.push([("state_change", {"state": "unsubscribed", "device_id": rec["id"]})])

    @txn
    def restart_device(self, account_id: str, ident: str, conditional: bool) -> None:
        rec = self._resolve_device(ident, account_id)
        if not rec.get("devicegroup"):
            raise conflict(
                "Device Not Assigned",
                "Cannot restart a device that is not assigned to a devicegroup.",
                code="CX008",
            )
        if conditional:
            self._conditional_restart(rec)
        else:
            self._restart(rec)

    def _restart(self, dev: dict[str, Any]) -> None:
        """Reboot a device: it loads its group's current deployment and says so in its log."""
        dev = self.t["device"][dev["id"]]
        if not dev["device_online"]:
            return  # picks up the current deployment when it comes back online
        dg = self.t["devicegroup"].get(dev.get("devicegroup") or "")
        target = dg.get("current_deployment") if dg else None
        dep = self.t["deployment"].get(target or "")
        new_code = bool(dep) and dev.get("deployment") != target
        for typ, msg in devsim.restart_lines(dep["device_code"] if dep else None, new_code):
            self._emit(dev["id"], typ, msg)
        now = now_iso()
        self._update(
            "device",
            dev,
            deployment=target if dep else None,
            agent_running=bool(dep),
            agent_state_changed_at=now,
        )

    def _conditional_restart(self, dev: dict[str, Any]) -> None:
        dg = self.t["devicegroup"].get(dev.get("devicegroup") or "")
        if not dg or not dev["device_online"]:
            return
        current = dg.get("current_deployment")
        if dev.get("deployment") == current:
            return
        running = self.t["deployment"].get(dev.get("deployment") or "")
        minimum = self.t["deployment"].get(dg.get("min_supported_deployment") or "")
        if running is None or (minimum is not None and running["seq"] < minimum["seq"]):
            self._restart(dev)  # too old: restarted immediately
        elif devsim.has_shutdown_handler(running["device_code"]):
            # SHUTDOWN_NEWSQUIRREL goes to the application, which decides when to restart.
            self._emit(dev["id"], "status", "Device notified of new code (SHUTDOWN_NEWSQUIRREL)")
        else:
            self._restart(dev)  # no onshutdown handler: the OS restarts at once

    @txn
    def set_online(self, ident: str, online: bool) -> dict[str, Any]:
        dev = self._resolve_device(ident, None)
        if dev["device_online"] == online:
            return dev
        now = now_iso()
        dev = self._update("device", dev, device_online=online, device_state_changed_at=now)
        if online:
            if dev.get("devicegroup"):
                self._restart(dev)
            else:
                self._emit(dev["id"], "status", "Device connected")
        else:
            self._emit(dev["id"], "status", "Device disconnected")
        return self.t["device"][dev["id"]]

    @txn
    def inject_logs(self, ident: str, body: Any) -> int:
        dev = self._resolve_device(ident, None)
        if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
            raise bad_request("The request body must contain a 'lines' array.", "/lines")
        for i, line in enumerate(body["lines"]):
            if isinstance(line, str):
                line = {"type": "server.log", "msg": line}
            if not isinstance(line, dict) or not isinstance(line.get("msg"), str):
                raise bad_request(
                    f"lines[{i}] must be an object with a string 'msg'.", f"/lines/{i}"
                )
            typ = line.get("type", "server.log")
            if not isinstance(typ, str) or not typ:
                raise bad_request(
                    f"lines[{i}].type must be a non-empty string.", f"/lines/{i}/type"
                )
            self._emit(dev["id"], typ, line["msg"])
        return len(body["lines"])

    def device_logs(self, account_id: str, ident: str) -> list[dict[str, Any]]:
        """Historical log entries, newest first."""
        with self.lock:
            dev = self._resolve_device(ident, account_id)
            entries = list(self.logs.get(dev["id"], ()))
        entries.reverse()
        return [{"ts": e["ts"], "type": e["type"], "msg": e["msg"]} for e in entries]

    def tick(self) -> None:
        """One period of the simulated devices: running devices log their literals."""
        with self.lock:
            if self._closed:
                return
            lines: list[tuple[str, str, str]] = []
            for dev in self._sorted(self.t["device"].values()):
                if not dev["device_online"] or not dev.get("deployment"):
                    continue
                dep = self.t["deployment"].get(dev["deployment"])
                if dep is None:
                    continue
                device_lits, agent_lits = self._literals(dep)
                lines.extend((dev["id"], "server.log", m) for m in device_lits)
                lines.extend((dev["id"], "agent.log", m) for m in agent_lits)
            if lines:
                self._emit_lines(lines)

    @txn
    def _emit_lines(self, lines: list[tuple[str, str, str]]) -> None:
        self._pending_logs.extend(lines)

    def _literals(self, dep: dict[str, Any]) -> tuple[list[str], list[str]]:
        cached = self._literal_cache.get(dep["id"])
        if cached is None:
            cached = (
                devsim.log_literals(dep["device_code"]),
                devsim.log_literals(dep["agent_code"]),
            )
            self._literal_cache[dep["id"]] = cached
        return cached

    # ================================================================== deployments
    _DEPLOYMENT_FILTERS = (
        "owner.id",
        "creator.id",
        "product.id",
        "devicegroup.id",
        "sha",
        "flagged",
        "flagger.id",
        "tags",
    )

    def list_deployments(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        _check_filters(filters, self._DEPLOYMENT_FILTERS)
        flagged = filters.get("flagged", "any")
        if flagged not in ("true", "false", "any"):
            raise bad_request(
                "filter[flagged] must be 'true', 'false' or 'any'.", "filter[flagged]"
            )
        tags = [t for t in filters.get("tags", "").split(",") if t]
        with self.lock:
            owners = self._visible_owners(account_id)
            out = []
            for p in self.t["deployment"].values():
                if p["owner"] not in owners:
                    continue
                if flagged != "any" and p["flagged"] != (flagged == "true"):
                    continue
                ok = True
                for key, field in (
                    ("owner.id", "owner"),
                    ("creator.id", "creator"),
                    ("product.id", "product"),
                    ("devicegroup.id", "devicegroup"),
                    ("sha", "sha"),
                    ("flagger.id", "flagger"),
                ):
                    if key in filters and p.get(field) != filters[key]:
                        ok = False
                        break
                if ok and all(t in p["tags"] for t in tags):
                    out.append(p)
            return self._sorted(out)

    def get_deployment(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            return self._get_visible("deployment", ident, account_id)

    @txn
    def create_deployment(self, account_id: str, body: Any) -> dict[str, Any]:
        d = _data(body, "deployment")
        attrs = d["attributes"]
        _check_attrs(
            attrs,
            ("device_code", "agent_code", "description", "origin", "flagged", "tags"),
            ("device_code", "agent_code"),
        )
        rels = _check_rels(d["relationships"], ("devicegroup",))
        if "devicegroup" not in rels:
            raise bad_relationship("devicegroup", "Relationship 'devicegroup' is required.")
        device_code = _string(attrs, "device_code", max_len=4 * 1024 * 1024)
        agent_code = _string(attrs, "agent_code", max_len=4 * 1024 * 1024)
        desc = ""
        if "description" in attrs:
            desc = _string(attrs, "description", max_len=255, null=True) or ""
        origin = None
        if "origin" in attrs:
            origin = _string(attrs, "origin", max_len=255, null=True)
        flagged = _bool(attrs, "flagged") if "flagged" in attrs else False
        tags = _tags(attrs["tags"]) if "tags" in attrs else []
        dg = self._get_visible("devicegroup", rels["devicegroup"]["id"], account_id)
        if self.compile_errors:
            fault = self.compile_errors[0]
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.compile_errors.pop(0)
            raise ApiError(
                400,
                "CX005",
                "Compilation Error",
                fault.get("detail") or "Device code compile failed",
                meta=fault.get("meta")
                or [
                    {
                        "file": "device_code",
                        "type": "error",
                        "row": 1,
                        "column": 1,
                        "text": "expression expected",
                    }
                ],
            )
        sha = hashlib.sha256((device_code + agent_code).encode("utf-8")).hexdigest()
        now = now_iso()
        dep = self._put(
            "deployment",
            {
                "id": new_uuid(),
                "device_code": device_code,
                "agent_code": agent_code,
                "description": desc,
                "origin": origin,
                "flagged": flagged,
                "tags": tags,
                "sha": sha,
                "devicegroup": dg["id"],
                "product": dg["product"],
                "owner": dg["owner"],
                "creator": account_id,
                "flagger": account_id if flagged else None,
                "created_at": now,
                "updated_at": now,
                "seq": self._next_seq(),
            },
        )
        self._update("devicegroup", dg, current_deployment=dep["id"])
        return dep

    @txn
    def update_deployment(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._get_visible("deployment", ident, account_id)
        d = _data(body, "deployment")
        attrs = d["attributes"]
        _check_attrs(attrs, ("description", "flagged", "tags"))
        _check_rels(d["relationships"], ())
        changes: dict[str, Any] = {}
        if "description" in attrs:
            changes["description"] = _string(attrs, "description", max_len=255, null=True) or ""
        if "tags" in attrs:
            changes["tags"] = _tags(attrs["tags"])
        if "flagged" in attrs:
            flagged = _bool(attrs, "flagged")
            changes["flagged"] = flagged
            if flagged and not rec["flagged"]:
                changes["flagger"] = account_id
            elif not flagged:
                changes["flagger"] = None
        return self._update("deployment", rec, updated_at=now_iso(), **changes)

    @txn
    def delete_deployment(self, account_id: str, ident: str) -> None:
        rec = self._get_visible("deployment", ident, account_id)
        if rec["flagged"]:
            raise conflict(
                "Resource Flagged",
                "You cannot delete flagged deployments; set the flagged attribute to false "
                "and try again.",
                code="CX009",
            )
        dg = self.t["devicegroup"].get(rec.get("devicegroup") or "")
        if dg is not None:
            minimum = self.t["deployment"].get(dg.get("min_supported_deployment") or "")
            if rec["id"] == dg.get("current_deployment") or (
                minimum is not None and rec["seq"] >= minimum["seq"]
            ):
                raise conflict(
                    "Deployment In Use",
                    "Cannot delete the current deployment or min_supported_deployment of a "
                    "devicegroup, or any deployment newer than its min_supported_deployment.",
                    code="CX011",
                )
        self._delete("deployment", rec["id"])
        self._literal_cache.pop(rec["id"], None)

    def add_compile_error(self, spec: dict[str, Any], count: int) -> None:
        with self.lock:
            self.compile_errors.append(
                {"detail": spec.get("detail"), "meta": spec.get("meta"), "count": count}
            )

    # ================================================================== webhooks
    def list_webhooks(self, account_id: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        fields = {
            "devicegroup.id": "devicegroup",
            "owner.id": "owner",
            "product.id": "product",
            "event": "event",
        }
        _check_filters(filters, tuple(fields))
        with self.lock:
            owners = self._visible_owners(account_id)
            return self._sorted(
                w
                for w in self.t["webhook"].values()
                if w["owner"] in owners and all(w.get(fields[k]) == v for k, v in filters.items())
            )

    def get_webhook(self, account_id: str, ident: str) -> dict[str, Any]:
        with self.lock:
            return self._get_visible("webhook", ident, account_id)

    @staticmethod
    def _check_url(attrs: dict[str, Any]) -> str:
        if not _valid_url(attrs["url"]):
            raise ApiError(
                400,
                "VX005",
                "Invalid URL",
                "The provided URL is invalid.",
                pointer="/data/attributes/url",
            )
        return attrs["url"]

    @staticmethod
    def _check_content_type(attrs: dict[str, Any]) -> str:
        if attrs["content_type"] not in WEBHOOK_CONTENT_TYPES:
            raise bad_attribute(
                "content_type",
                "Attribute 'content_type' must be 'application/json' or "
                "'application/x-www-form-urlencoded'.",
            )
        return attrs["content_type"]

    @txn
    def create_webhook(self, account_id: str, body: Any) -> dict[str, Any]:
        d = _data(body, "webhook")
        attrs = d["attributes"]
        _check_attrs(attrs, ("url", "event", "content_type"), ("url", "event", "content_type"))
        rels = _check_rels(d["relationships"], ("devicegroup",))
        if "devicegroup" not in rels:
            raise bad_relationship("devicegroup", "Relationship 'devicegroup' is required.")
        url = self._check_url(attrs)
        if attrs["event"] not in WEBHOOK_EVENTS:
            raise bad_attribute(
                "event", "Attribute 'event' must be 'blessing', 'blinkup' or 'deployment'."
            )
        ctype = self._check_content_type(attrs)
        dg = self._get_visible("devicegroup", rels["devicegroup"]["id"], account_id)
        now = now_iso()
        return self._put(
            "webhook",
            {
                "id": new_uuid(),
                "url": url,
                "event": attrs["event"],
                "content_type": ctype,
                "devicegroup": dg["id"],
                "product": dg["product"],
                "owner": dg["owner"],
                "creator": account_id,
                "created_at": now,
                "updated_at": now,
                "seq": self._next_seq(),
            },
        )

    @txn
    def update_webhook(self, account_id: str, ident: str, body: Any) -> dict[str, Any]:
        rec = self._get_visible("webhook", ident, account_id)
        d = _data(body, "webhook")
        attrs = d["attributes"]
        _check_attrs(attrs, ("url", "content_type"))
        _check_rels(d["relationships"], ())
        changes: dict[str, Any] = {}
        if "url" in attrs:
            changes["url"] = self._check_url(attrs)
        if "content_type" in attrs:
            changes["content_type"] = self._check_content_type(attrs)
        return self._update("webhook", rec, updated_at=now_iso(), **changes)

    @txn
    def delete_webhook(self, account_id: str, ident: str) -> None:
        rec = self._get_visible("webhook", ident, account_id)
        self._delete("webhook", rec["id"])

    # ================================================================== log streams
    def create_stream(self, account_id: str) -> LogStream:
        with self.lock:
            mine = sorted(
                (s for s in self.streams.values() if s.account_id == account_id),
                key=lambda s: s.created,
            )
            while len(mine) >= self.streams_per_account:
                old = mine.pop(0)
                self.streams.pop(old.id, None)
                old.close()
            stream = LogStream(new_uuid(), account_id)
            self.streams[stream.id] = stream
            return stream

    def get_stream(self, stream_id: str) -> LogStream:
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                raise not_found("logstream")
            return stream

    def _own_stream(self, account_id: str, stream_id: str) -> LogStream:
        stream = self.streams.get(stream_id)
        if stream is None or stream.account_id != account_id:
            raise not_found("logstream")
        return stream

    def stream_add(self, account_id: str, stream_id: str, ident: str) -> None:
        with self.lock:
            stream = self._own_stream(account_id, stream_id)
            dev = self._resolve_device(ident, account_id)
            if dev["id"] in stream.devices:
                return
            events: list[Event] = []
            while len(stream.devices) >= self.stream_device_limit:
                evicted = stream.devices.pop(0)
                events.append(("state_change", {"state": "unsubscribed", "device_id": evicted}))
            stream.devices.append(dev["id"])
            events.append(("state_change", {"state": "subscribed", "device_id": dev["id"]}))
            stream.push(events)

    def stream_remove(self, account_id: str, stream_id: str, ident: str) -> None:
        with self.lock:
            stream = self._own_stream(account_id, stream_id)
            dev = self._resolve_device(ident, account_id)
            if dev["id"] in stream.devices:
                stream.devices.remove(dev["id"])
                stream.push([("state_change", {"state": "unsubscribed", "device_id": dev["id"]})])

    def drop_streams(self) -> int:
        with self.lock:
            streams = list(self.streams.values())
            self.streams.clear()
        for s in streams:
            s.drop()
        return len(streams)

    def close_streams(self) -> None:
        with self.lock:
            streams = list(self.streams.values())
            self.streams.clear()
        for s in streams:
            s.close()


def _check_filters(filters: dict[str, str], allowed: tuple[str, ...]) -> None:
    for key in filters:
        if key not in allowed:
            raise bad_request(
                f"Unknown filter 'filter[{key}]'.", f"filter[{key}]", "Invalid Filter"
            )
