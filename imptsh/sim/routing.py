"""Routes: which resource function serves which method and path, and how its result is sent.

Every resource module exports ``ROUTES``, a list of :class:`Route` objects that name their
handler directly. The HTTP layer calls ``handler(model, [account,] *captures, *inputs)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

BODY = "body"  # the parsed JSON request body
FILTERS = "filters"  # the filter[...] query parameters, without the brackets
# Any other input names a request header (its value, or None when absent).


@dataclass(frozen=True)
class Route:
    """One method and path pattern (``*`` captures one segment) served by ``handler``."""

    method: str
    path: str
    handler: Callable[..., Any]
    inputs: tuple[str, ...] = ()  # request parts passed after the captures
    kind: str | None = None  # the result is a record of this kind (or a list of them)
    many: bool = False  # the result is a list, sent as a paginated collection
    status: int = 200  # the success status; a None result is sent as 204 without a body
    auth: bool = True  # needs a bearer token; the account id is the first argument

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))


def collection_routes(
    path: str,
    kind: str,
    *,
    list_: Callable[..., Any],
    get: Callable[..., Any],
    update: Callable[..., Any],
    delete: Callable[..., Any],
    create: Callable[..., Any] | None = None,
) -> list[Route]:
    """The standard routes of a collection: list, [create,] get, update, delete."""
    item = f"{path}/*"
    routes = [Route("GET", path, list_, (FILTERS,), kind, many=True)]
    if create is not None:
        routes.append(Route("POST", path, create, (BODY,), kind, status=201))
    routes += [
        Route("GET", item, get, (), kind),
        Route("PATCH", item, update, (BODY,), kind),
        Route("DELETE", item, delete),
    ]
    return routes


class Router:
    """Finds the route of a request path (already split into unquoted segments)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_length: dict[int, list[tuple[tuple[str, ...], Route]]] = {}
        for route in routes:
            segs = route.segments
            self._by_length.setdefault(len(segs), []).append((segs, route))

    def match(self, method: str, segs: list[str]) -> tuple[Route, list[str]]:
        """Return (route, captured segments); raise 404 for unknown paths, 405 for methods."""
        path_known = False
        for pattern, route in self._by_length.get(len(segs), ()):
            caps = []
            for p, s in zip(pattern, segs, strict=True):
                if p == "*":
                    if not s:
                        break
                    caps.append(s)
                elif p != s:
                    break
            else:
                path_known = True
                if route.method == method:
                    return route, caps
        if path_known:
            raise ApiError(405, "VX010", "Method Not Allowed", f"{method} is not allowed here.")
        raise ApiError(404, "NF002", "Not Found", "The requested resource does not exist.")
