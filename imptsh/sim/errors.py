"""Domain errors of the simulator backend.

Every rule violation is raised as an :class:`ApiError`, which carries everything the HTTP
layer needs to build a JSON:API error document (status, code, title, detail, optional
``meta`` and ``source``). The backend never imports anything HTTP related.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A JSON:API error raised by the backend (or by the HTTP layer for transport errors)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        meta: Any = None,
        pointer: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        keep_changes: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.meta = meta
        self.pointer = pointer
        self.extra_errors = errors
        # When true the backend commits the changes made before the error was raised
        # (used for the non-atomic device assignment calls).
        self.keep_changes = keep_changes
        self.headers = headers or {}

    def error_objects(self) -> list[dict[str, Any]]:
        if self.extra_errors is not None:
            return self.extra_errors
        err: dict[str, Any] = {
            "status": str(self.status),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.pointer is not None:
            err["source"] = {"pointer": self.pointer}
        if self.meta is not None:
            err["meta"] = self.meta
        return [err]

    def document(self) -> dict[str, Any]:
        return {"errors": self.error_objects()}


_NOUNS = {
    "account": "account",
    "login_key": "login key",
    "refresh_token": "refresh token",
    "product": "product",
    "devicegroup": "devicegroup",
    "device": "device",
    "deployment": "deployment",
    "webhook": "webhook",
    "logstream": "log stream",
}


def not_found(kind: str, ident: str | None = None) -> ApiError:
    noun = _NOUNS.get(kind, kind)
    return ApiError(404, "NF001", "Resource Not Found", f"Could not find the specified {noun}.")


def bad_request(
    detail: str, pointer: str | None = None, title: str = "Invalid Request"
) -> ApiError:
    return ApiError(400, "VX001", title, detail, pointer=pointer)


def bad_attribute(name: str, detail: str) -> ApiError:
    return ApiError(400, "VX002", "Invalid Attribute", detail, pointer=f"/data/attributes/{name}")


def bad_relationship(name: str, detail: str) -> ApiError:
    return ApiError(
        400, "VX003", "Invalid Relationship", detail, pointer=f"/data/relationships/{name}"
    )


def conflict(title: str, detail: str, code: str = "CX001") -> ApiError:
    return ApiError(409, code, title, detail)


def unauthorized(detail: str = "A valid access token is required.") -> ApiError:
    return ApiError(401, "PX101", "Unauthorized", detail)


def invalid_credentials(detail: str = "The credentials provided are invalid.") -> ApiError:
    return ApiError(401, "PX100", "Invalid Credentials", detail)
