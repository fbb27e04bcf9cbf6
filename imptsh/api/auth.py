"""Login calls shared by `auth login` and environment-variable contexts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .client import Client
from .errors import ImpCentralError, UnexpectedResponseError


def login_with_password(
    client: Client, user: str, password: str, ask_otp: Callable[[], str]
) -> dict[str, Any]:
    """`POST /auth`; a 403 carrying a login token means a one-time password is needed."""
    try:
        answer = client.login(user, password)
    except ImpCentralError as exc:
        if exc.status != 403:
            raise
        token = exc.login_token
        if token is None:
            raise UnexpectedResponseError(
                "Internal error: Unexpected format of impCentral response"
            ) from None
        answer = client.login_otp(token, ask_otp())
    return _tokens(answer)


def login_with_key(client: Client, key: str) -> dict[str, Any]:
    return _tokens(client.exchange(login_key=key))


def _tokens(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise UnexpectedResponseError()
    return answer
