"""Masking of secrets in anything that may be shown: debug output, errors, cassettes."""

from __future__ import annotations

from typing import Any

HIDDEN = "[hidden]"

SECRET_HEADERS = frozenset(
    h.lower()
    for h in (
        "Authorization",
        "X-Electricimp-Password",
        "X-Electricimp-Key",
        "X-Electricimp-OTP-Token",
    )
)
SECRET_FIELDS = frozenset(
    {
        "password",
        "pwd",
        "token",
        "key",
        "access_token",
        "refresh_token",
        "login_token",
        "accessToken",
        "refreshToken",
        "loginKey",
    }
)


def mask_headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: (HIDDEN if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def mask_body(body: Any) -> Any:
    """A copy of a JSON value with every secret field's value replaced by `[hidden]`."""
    if isinstance(body, dict):
        return {
            k: (HIDDEN if k in SECRET_FIELDS and isinstance(v, str) else mask_body(v))
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [mask_body(v) for v in body]
    return body


def mask_login_keys(resource_doc: Any, path: str) -> Any:
    """Login key ids are the secrets themselves: hide them in documents from that collection."""
    if "/login_keys" not in path or not isinstance(resource_doc, dict):
        return resource_doc
    data = resource_doc.get("data")
    items = data if isinstance(data, list) else [data]
    for item in items:
        if isinstance(item, dict) and "id" in item:
            item["id"] = HIDDEN
    return resource_doc
