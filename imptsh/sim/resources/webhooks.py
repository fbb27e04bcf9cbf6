"""Webhooks: stored, and their deliveries recorded (the simulator has no internet access, so
none is sent; each attempt is kept with the body it would have carried)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlparse

from ..errors import ApiError, bad_attribute
from ..model import Model, Record, by_creation, now_iso, txn
from ..records import Field, check_filters, insert, patch, read_changes, read_new
from ..routing import collection_routes

EVENTS = ("blessing", "blinkup", "deployment")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
_FILTER_FIELDS = {
    "devicegroup.id": "devicegroup",
    "owner.id": "owner",
    "product.id": "product",
    "event": "event",
}


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


def _url(name: str, value: Any) -> str:
    if not _valid_url(value):
        raise ApiError(
            400,
            "VX005",
            "Invalid URL",
            "The provided URL is invalid.",
            pointer=f"/data/attributes/{name}",
        )
    return value


def _event(name: str, value: Any) -> str:
    if value not in EVENTS:
        raise bad_attribute(
            name, "Attribute 'event' must be 'blessing', 'blinkup' or 'deployment'."
        )
    return value


def _content_type(name: str, value: Any) -> str:
    if value not in CONTENT_TYPES:
        raise bad_attribute(
            name,
            "Attribute 'content_type' must be 'application/json' or "
            "'application/x-www-form-urlencoded'.",
        )
    return value


FIELDS = (
    Field("url", _url, required=True),
    Field("event", _event, required=True, updatable=False),
    Field("content_type", _content_type, required=True),
)


def list_webhooks(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, tuple(_FILTER_FIELDS))
    with m.lock:
        owners = m.visible_owners(account_id)
        return by_creation(
            w
            for w in m.t["webhook"].values()
            if w["owner"] in owners
            and all(w.get(_FILTER_FIELDS[k]) == v for k, v in filters.items())
        )


def get_webhook(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        return m.get_visible("webhook", ident, account_id)


@txn
def create_webhook(m: Model, account_id: str, body: Any) -> Record:
    doc = read_new(body, "webhook", FIELDS, rels=("devicegroup",), required_rels=("devicegroup",))
    dg = m.get_visible("devicegroup", doc.rels["devicegroup"]["id"], account_id)
    values = {
        **doc.values,
        "devicegroup": dg["id"],
        "product": dg["product"],
        "owner": dg["owner"],
        "creator": account_id,
    }
    return insert(m, "webhook", values)


@txn
def update_webhook(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.get_visible("webhook", ident, account_id)
    return patch(m, "webhook", rec, read_changes(body, "webhook", FIELDS).values)


@txn
def delete_webhook(m: Model, account_id: str, ident: str) -> None:
    rec = m.get_visible("webhook", ident, account_id)
    m.delete("webhook", rec["id"])


NOT_SENT = "not sent: the simulator has no internet access"


def record_deliveries(m: Model, dg: Record, event: str, payload: dict[str, Any]) -> None:
    """The attempts to deliver ``event`` to the group's webhooks for it, recorded once the
    transaction commits (in commit order)."""
    hooks = by_creation(
        w for w in m.t["webhook"].values() if w["devicegroup"] == dg["id"] and w["event"] == event
    )
    at = now_iso()
    attempts = [
        {
            "webhook": hook["id"],
            "devicegroup": dg["id"],
            "event": event,
            "url": hook["url"],
            "content_type": hook["content_type"],
            "payload": payload,
            "body": encode(payload, hook["content_type"]),
            "attempted_at": at,
            "delivered": False,
            "error": NOT_SENT,
        }
        for hook in hooks
    ]
    if attempts:
        m.after_commit(lambda: m.webhook_deliveries.extend(attempts))


def encode(payload: dict[str, Any], content_type: str) -> str:
    """The request body a delivery carries, in the webhook's content type."""
    if content_type == "application/x-www-form-urlencoded":
        return urlencode(payload)
    return json.dumps(payload, separators=(",", ":"))


def deliveries(m: Model) -> list[dict[str, Any]]:
    """Every recorded delivery attempt, oldest first."""
    with m.lock:
        return list(m.webhook_deliveries)


ROUTES = collection_routes(
    "webhooks",
    "webhook",
    list_=list_webhooks,
    create=create_webhook,
    get=get_webhook,
    update=update_webhook,
    delete=delete_webhook,
)
