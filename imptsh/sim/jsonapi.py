"""JSON:API rendering of every record kind, and the document envelopes (single, collection).

Records are the model's dicts; resource objects are what clients see: ``type``, ``id``,
``attributes`` in the order impCentral sends them, ``relationships`` and ``links``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import bad_request
from .model import AGENT_PREFIX, PRODUCTION_TYPES, Model, Record

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_PATHS = {
    "account": "/accounts/",
    "login_key": "/accounts/me/login_keys/",
    "refresh_token": "/accounts/me/refresh_tokens/",
    "product": "/products/",
    "devicegroup": "/devicegroups/",
    "device": "/devices/",
    "deployment": "/deployments/",
    "webhook": "/webhooks/",
}


@dataclass(frozen=True)
class Links:
    """Where the simulator is reached by the client being answered."""

    api: str  # e.g. "http://127.0.0.1:PORT/v5"
    root: str  # e.g. "http://127.0.0.1:PORT" (agent URLs live here)


def agent_url(links: Links, agent_id: str) -> str:
    return links.root + AGENT_PREFIX + agent_id


# ---------------------------------------------------------------------------------------
# resource objects
# ---------------------------------------------------------------------------------------


def _ref(m: Model, kind: str, ident: str | None) -> dict[str, str] | None:
    if not ident:
        return None
    if kind == "devicegroup":
        dg = m.t["devicegroup"].get(ident)
        return {"type": dg["type"], "id": ident} if dg is not None else None
    return {"type": kind, "id": ident}


def _rels(m: Model, pairs: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    rels: dict[str, Any] = {}
    for name, kind, ident in pairs:
        ref = _ref(m, kind, ident)
        if ref is not None:
            rels[name] = ref
    return rels


def _pick(rec: Record, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: rec[name] for name in names}


def _account(m: Model, a: Record, links: Links) -> dict[str, Any]:
    return {"attributes": _pick(a, ("username", "email")), "relationships": {}}


def _login_key(m: Model, k: Record, links: Links) -> dict[str, Any]:
    names = ("description", "usages", "created_at", "updated_at", "last_used_at")
    return {
        "attributes": _pick(k, names),
        "relationships": {"owner": {"type": "account", "id": k["owner"]}},
    }


def _refresh_token(m: Model, r: Record, links: Links) -> dict[str, Any]:
    return {
        "attributes": _pick(r, ("created_at", "last_used_at")),
        "relationships": {"owner": {"type": "account", "id": r["owner"]}},
    }


def _product(m: Model, p: Record, links: Links) -> dict[str, Any]:
    return {
        "attributes": _pick(p, ("name", "description", "created_at", "updated_at")),
        "relationships": _rels(
            m, [("owner", "account", p["owner"]), ("creator", "account", p["creator"])]
        ),
    }


def _devicegroup(m: Model, g: Record, links: Links) -> dict[str, Any]:
    attrs = _pick(g, ("name", "description", "region", "env_vars"))
    if g["type"] in PRODUCTION_TYPES:
        attrs["load_code_after_blessing"] = g["load_code_after_blessing"]
    attrs.update(_pick(g, ("created_at", "updated_at")))
    return {
        "type": g["type"],
        "attributes": attrs,
        "relationships": _rels(
            m,
            [
                ("product", "product", g["product"]),
                ("owner", "account", g["owner"]),
                ("creator", "account", g["creator"]),
                ("current_deployment", "deployment", g.get("current_deployment")),
                ("min_supported_deployment", "deployment", g.get("min_supported_deployment")),
                ("production_target", "devicegroup", g.get("production_target")),
                ("dut_target", "devicegroup", g.get("dut_target")),
            ],
        ),
    }


def _device(m: Model, d: Record, links: Links) -> dict[str, Any]:
    assigned = bool(d.get("devicegroup"))
    agent_id = d.get("agent_id") if assigned else None
    product = None
    if assigned:
        dg = m.t["devicegroup"].get(d["devicegroup"])
        product = dg["product"] if dg else None
    return {
        "attributes": {
            "name": d["name"],
            "agent_id": agent_id,
            "agent_url": agent_url(links, agent_id) if agent_id else None,
            "device_online": d["device_online"],
            "device_state_changed_at": d["device_state_changed_at"],
            "agent_running": bool(assigned and d["agent_running"]),
            **_pick(
                d,
                (
                    "agent_state_changed_at",
                    "last_enrolled_at",
                    "imp_type",
                    "ip_address",
                    "mac_address",
                    "free_memory",
                    "rssi",
                    "swversion",
                    "plan_id",
                ),
            ),
        },
        "relationships": _rels(
            m,
            [
                ("devicegroup", "devicegroup", d.get("devicegroup")),
                ("product", "product", product),
                ("owner", "account", d["owner"]),
            ],
        ),
    }


def _deployment(m: Model, p: Record, links: Links) -> dict[str, Any]:
    names = ("device_code", "agent_code", "description", "origin", "flagged")
    return {
        "attributes": {
            **_pick(p, names),
            "tags": list(p["tags"]),
            **_pick(p, ("sha", "created_at", "updated_at")),
        },
        "relationships": _rels(
            m,
            [
                ("devicegroup", "devicegroup", p.get("devicegroup")),
                ("product", "product", p["product"]),
                ("owner", "account", p["owner"]),
                ("creator", "account", p["creator"]),
                ("flagger", "account", p.get("flagger")),
            ],
        ),
    }


def _webhook(m: Model, w: Record, links: Links) -> dict[str, Any]:
    return {
        "attributes": _pick(w, ("url", "event", "content_type", "created_at", "updated_at")),
        "relationships": _rels(
            m,
            [
                ("devicegroup", "devicegroup", w.get("devicegroup")),
                ("product", "product", w.get("product")),
                ("owner", "account", w["owner"]),
            ],
        ),
    }


def _logstream(m: Model, s: Any, links: Links) -> dict[str, Any]:
    return {
        "attributes": {"url": f"{links.api}/logstream/{s.id}"},
        "relationships": {"owner": {"type": "account", "id": s.account_id}},
    }


_RENDER: dict[str, Callable[[Model, Any, Links], dict[str, Any]]] = {
    "account": _account,
    "login_key": _login_key,
    "refresh_token": _refresh_token,
    "product": _product,
    "devicegroup": _devicegroup,
    "device": _device,
    "deployment": _deployment,
    "webhook": _webhook,
    "logstream": _logstream,
}


def resource(m: Model, kind: str, rec: Any, links: Links) -> dict[str, Any]:
    """The resource object of a record (a :class:`LogStream` for ``logstream``)."""
    body = _RENDER[kind](m, rec, links)
    ident = rec["id"] if isinstance(rec, dict) else rec.id
    res: dict[str, Any] = {"type": body.pop("type", kind), "id": ident, **body}
    if kind in _PATHS:
        res["links"] = {"self": links.api + _PATHS[kind] + quote(ident, safe="")}
    return res


def single(m: Model, kind: str, rec: Any, links: Links) -> dict[str, Any]:
    return {"data": resource(m, kind, rec, links)}


# ---------------------------------------------------------------------------------------
# collections and pagination
# ---------------------------------------------------------------------------------------


def page_params(query: dict[str, str]) -> tuple[int, int]:
    """(page number, page size) from ``page[number]``/``page[size]``; 400 when invalid."""

    def parse(key: str, default: int) -> int:
        raw = query.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"'{key}' must be a positive integer.", key) from None
        if value < 1:
            raise bad_request(f"'{key}' must be a positive integer.", key)
        return value

    number = parse("page[number]", 1)
    size = min(parse("page[size]", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    return number, size


def collection(
    m: Model,
    items: list[Any],
    kind: str | None,
    *,
    query: dict[str, str],
    path: str,
    links: Links,
) -> dict[str, Any]:
    """One page of ``items`` (rendered as ``kind`` resources, or as they are when None) with
    ``self``/``first``/``next``/``prev`` links that keep the request's other parameters."""
    number, size = page_params(query)
    start = (number - 1) * size
    page = items[start : start + size]
    data = page if kind is None else [resource(m, kind, rec, links) for rec in page]
    others = [(k, v) for k, v in query.items() if k not in ("page[number]", "page[size]")]

    def link(n: int) -> str:
        pairs = [*others, ("page[number]", str(n)), ("page[size]", str(size))]
        qs = "&".join(f"{quote(k, safe='[].')}={quote(v, safe='')}" for k, v in pairs)
        return f"{links.api}{path}?{qs}"

    out = {"self": link(number), "first": link(1)}
    if start + size < len(items):
        out["next"] = link(number + 1)
    if number > 1:
        out["prev"] = link(number - 1)
    return {"data": data, "links": out}
