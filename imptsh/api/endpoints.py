"""What an impCentral API endpoint URL may be. Kept apart from the requester so that checking
a flag or an option does not load the HTTP machinery."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "https://api.electricimp.com/v5"


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be an impCentral API endpoint (`... does not start with http:// or
    https://`), or None when it can: an absolute http:// or https:// URL with a host."""
    if not url or any(ch.isspace() or not ch.isprintable() for ch in url):
        return "contains spaces or control characters" if url else "is empty"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "does not start with http:// or https://"
    if not parts.hostname:
        return "names no host"
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None
