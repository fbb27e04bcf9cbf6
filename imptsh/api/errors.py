"""Typed errors raised by the impCentral client."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base class of everything the client raises."""


class ImpCentralError(ApiError):
    """impCentral answered with an error document; `errors` is its `errors[]` verbatim."""

    def __init__(self, status: int, errors: list[dict[str, Any]], method: str = "", url: str = ""):
        self.status = status
        self.errors = errors
        self.method = method
        self.url = url
        super().__init__(self.message)

    @property
    def message(self) -> str:
        lines = self.error_lines()
        return lines[0] if lines else f"impCentral API error HTTP/{self.status}"

    def error_lines(self) -> list[str]:
        """`title: detail` for every error entry whose status is not 2xx (impt's rule)."""
        lines = []
        for err in self.errors:
            status = str(err.get("status", ""))
            if status.startswith("2"):
                continue
            title, detail = err.get("title"), err.get("detail")
            if title and detail:
                lines.append(f"{title}: {detail}")
            elif title or detail:
                lines.append(str(title or detail))
        return lines or [f"impCentral API error HTTP/{self.status}"]

    @property
    def login_token(self) -> str | None:
        """The one-time-password login token of a 403 answer to `POST /auth`, if any."""
        for err in self.errors:
            meta = err.get("meta")
            if isinstance(meta, dict) and meta.get("login_token"):
                return str(meta["login_token"])
        return None


class NotFoundError(ImpCentralError):
    """404: the id (or whatever was typed) does not name an entity."""


class UnauthorizedError(ImpCentralError):
    """401 that survived a token refresh, or bad credentials."""


class RateLimitedError(ImpCentralError):
    """429 after the retry budget ran out."""


class ConnectionFailedError(ApiError):
    """The endpoint could not be reached (refused, DNS, timeout, TLS)."""

    def __init__(self, endpoint: str, cause: str):
        self.endpoint = endpoint
        self.cause = cause
        super().__init__(f"Cannot reach impCentral at {endpoint}: {cause}.")


class InvalidEndpointError(ApiError):
    """An endpoint that is not an http:// or https:// URL; nothing was sent."""

    def __init__(self, endpoint: str, problem: str):
        self.endpoint = endpoint
        self.problem = problem
        super().__init__(
            f'Invalid impCentral API endpoint "{endpoint}": it {problem} '
            "(e.g. https://api.electricimp.com/v5)."
        )


class UnexpectedResponseError(ApiError):
    """The server answered something that is not the JSON the API promises."""

    def __init__(self, detail: str = "Unexpected format of impCentral response"):
        super().__init__(detail)


class TokenExpiredError(ApiError):
    """The access token expired and nothing is saved to refresh it (a `--temp` login)."""


class RefreshFailedError(ApiError):
    """The refresh token or login key is no longer accepted."""


def error_for(status: int, errors: list[dict[str, Any]], method: str, url: str) -> ImpCentralError:
    cls = {404: NotFoundError, 401: UnauthorizedError, 429: RateLimitedError}.get(
        status, ImpCentralError
    )
    return cls(status, errors, method, url)
