"""The impCentral requester: one `requests.Session`, JSON:API envelopes, token refresh,
bounded retries, lazy pagination and server-sent-event streams. It knows no entity: the
request bodies of impCentral's operations, and their effect on the entity cache, are built
in `resources`."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import __version__
from .endpoints import endpoint_problem
from .errors import (
    ConnectionFailedError,
    ImpCentralError,
    InvalidEndpointError,
    NotFoundError,
    RefreshFailedError,
    TokenExpiredError,
    UnexpectedResponseError,
    error_for,
)

if TYPE_CHECKING:
    import requests

    from .events import EventStream

JSONAPI = "application/vnd.api+json"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
REFRESH_MARGIN_S = 180  # impt refreshes when fewer than 3 minutes remain
# impCentral keeps an idle event stream alive with a comment every 30 s or less: a stream
# silent for twice that long is dead.
STREAM_READ_TIMEOUT_S = 60.0
PAGE_SIZE = 100

_shared_session: requests.Session | None = None
_shared_lock = threading.Lock()


def shared_session() -> requests.Session:
    """The process-wide HTTP session, so every command reuses pooled connections."""
    global _shared_session
    with _shared_lock:
        if _shared_session is None:
            _shared_session = new_http_session()
        return _shared_session


def new_http_session() -> requests.Session:
    """An HTTP session of its own (connection pool, User-Agent), for a thread that must not
    share the commands' connections. `requests` loads here, at the first request, not when
    imptsh starts: the first prompt does not need it."""
    import requests
    import requests.adapters

    session = requests.Session()
    session.headers["User-Agent"] = f"imptsh/{__version__}"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def check_endpoint(url: str) -> str:
    """`url` when it can be an impCentral API endpoint; InvalidEndpointError otherwise."""
    problem = endpoint_problem(url)
    if problem is not None:
        raise InvalidEndpointError(url, problem)
    return url


@dataclass
class Credentials:
    """What a login leaves behind. `persist` writes refreshed tokens back to their file."""

    access_token: str
    expires_at: str
    refresh_token: str | None = None
    login_key: str | None = None
    persist: Callable[[Credentials], None] | None = None

    @property
    def refreshable(self) -> bool:
        return bool(self.refresh_token or self.login_key)

    def seconds_left(self, now: float | None = None) -> float:
        expiry = parse_timestamp(self.expires_at)
        if expiry is None:
            return 0.0
        return expiry - (time.time() if now is None else now)


def parse_timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter; `Retry-After` wins when the server sends it."""

    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 8.0
    max_retry_after_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_retry_after_s)
            except ValueError:
                pass
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass
class Exchange:
    """One HTTP round trip, handed to the debug observer."""

    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] | None
    body: Any
    status: int | None = None
    response_headers: dict[str, str] | None = None
    response_body: Any = None


Observer = Callable[[Exchange], None]


class Client:
    """Talks to one impCentral endpoint on behalf of one set of credentials."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials | None = None,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        stream_read_timeout: float = STREAM_READ_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        observer: Observer | None = None,
    ):
        self.endpoint = check_endpoint(endpoint).rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.stream_read_timeout = stream_read_timeout
        self.retry = retry or RetryPolicy()
        self._session = session
        self.observer = observer
        self.request_count = 0
        self._refresh_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        """The HTTP session requests go through: the process-wide one unless one was given.
        Taken at the first request, so that a command that sends none loads no HTTP library."""
        if self._session is None:
            self._session = shared_session()
        return self._session

    # -- public verbs -------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params) or {}

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, body=body, headers=headers)

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.request("PATCH", path, body=body, headers=headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("PUT", path, body=body, headers=headers)

    def delete(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.request("DELETE", path, body=body, headers=headers)

    def get_resource(self, collection: str, ident: str) -> dict[str, Any]:
        """`GET /<collection>/<ident>` → the resource object (`data`)."""
        doc = self.get(f"{collection}/{quote(ident, safe='')}")
        data = doc.get("data")
        if not isinstance(data, dict):
            raise UnexpectedResponseError()
        return data

    def find_resource(self, collection: str, ident: str) -> dict[str, Any] | None:
        try:
            return self.get_resource(collection, ident)
        except NotFoundError:
            return None

    def iter_list(
        self, path: str, filters: dict[str, Any] | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Lazily yields every resource of a collection, following `links.next` and dropping
        ids already seen (the real service has been known to repeat entities across pages)."""
        params: dict[str, Any] | None = {
            **{f"filter[{k}]": v for k, v in (filters or {}).items()},
            "page[number]": 1,
            "page[size]": page_size,
        }
        url: str = path
        seen: set[str] = set()
        while True:
            doc = self.request("GET", url, params=params) or {}
            data = doc.get("data")
            if not isinstance(data, list):
                raise UnexpectedResponseError()
            for item in data:
                ident = item.get("id") if isinstance(item, dict) else None
                if ident is None or ident not in seen:
                    if ident is not None:
                        seen.add(ident)
                    yield item
            links = doc.get("links") or {}
            nxt = links.get("next")
            if not nxt or not data:
                return
            url, params = nxt, None

    def list(self, path: str, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.iter_list(path, filters))

    # -- auth calls (no bearer token) ---------------------------------------------------

    def login(self, user: str, password: str) -> dict[str, Any]:
        return self.request("POST", "/auth", body={"id": user, "password": password}, auth=False)

    def login_otp(self, login_token: str, otp: str) -> dict[str, Any]:
        return self.request(
            "POST",
            "/auth",
            body={"login_token": login_token},
            headers={"X-Electricimp-OTP-Token": otp},
            auth=False,
        )

    def exchange(self, *, refresh_token: str | None = None, login_key: str | None = None) -> dict:
        body = {"token": refresh_token} if refresh_token else {"key": login_key}
        return self.request("POST", "/auth/token", body=body, auth=False)

    # -- machinery ----------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.endpoint + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        return self._decode(method, self._exchange(method, path, params, body, headers, auth))

    def stream_events(self, path: str, *, params: dict[str, Any] | None = None) -> EventStream:
        """Opens a server-sent-events response (`GET path`) and returns its events as an
        iterator. The request is sent before this returns, with the same bearer token, the
        single token refresh on a 401, the retries and the error mapping of `request`;
        reading waits at most `stream_read_timeout` seconds for the next bytes.
        `EventStream.close()` may be called from any thread and ends the iteration."""
        from .events import EventStream  # the stream reader (urllib3, sseclient) loads here

        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        response = self._exchange("GET", path, params, None, headers, True, stream=True)
        if response.status_code != 200:
            with response:
                self._decode("GET", response)  # raises the API's error
            raise UnexpectedResponseError()
        return EventStream(response, self.endpoint, self.stream_read_timeout)

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str] | None,
        auth: bool,
        *,
        stream: bool = False,
    ) -> requests.Response:
        """Sends until the answer is final: one token refresh on a 401, bounded backoff on
        429 and (for idempotent methods) 5xx."""
        if auth:
            self._refresh_if_expiring()
        refreshed = False
        attempt = 0
        while True:
            response = self._send(method, path, params, body, headers, auth, stream=stream)
            status = response.status_code
            if (
                status == 401
                and auth
                and not refreshed
                and self._can_refresh()
                and not _carries_password(headers)
            ):
                response.close()
                self.refresh()
                refreshed = True
                continue
            retryable = status == 429 or (status >= 500 and method in IDEMPOTENT)
            if retryable and attempt + 1 < self.retry.attempts:
                response.close()
                time.sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
                attempt += 1
                continue
            return response

    def _headers(self, auth: bool, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Content-Type": JSONAPI if auth else "application/json"}
        headers["Accept"] = "application/vnd.api+json, application/json"
        if auth:
            if self.credentials is None:
                raise TokenExpiredError("You are not logged in.")
            headers["Authorization"] = f"Bearer {self.credentials.access_token}"
        headers.update(extra or {})
        return headers

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        extra_headers: dict[str, str] | None,
        auth: bool,
        *,
        stream: bool = False,
    ) -> requests.Response:
        import requests.exceptions

        url = self.url_for(path)
        headers = self._headers(auth, extra_headers)
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        exchange = Exchange(method, url, headers, params, body)
        self.request_count += 1
        timeout = (self.timeout[0], self.stream_read_timeout) if stream else self.timeout
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=timeout,
                stream=stream,
            )
        except requests.exceptions.Timeout:
            raise ConnectionFailedError(self.endpoint, "the request timed out") from None
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailedError(
                self.endpoint, f"TLS error ({exc.__class__.__name__})"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailedError(self.endpoint, _connection_cause(exc)) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
        ):
            raise InvalidEndpointError(url, "is not a URL the client can request") from None
        if self.observer is not None:
            exchange.status = response.status_code
            exchange.response_headers = dict(response.headers)
            if not stream or response.status_code != 200:  # an open stream has no end to show
                exchange.response_body = _json_or_text(response)
            self.observer(exchange)
        return response

    def _decode(self, method: str, response: requests.Response) -> Any:
        status = response.status_code
        payload = _json_or_text(response)
        if 200 <= status < 300:
            if payload is None or isinstance(payload, dict):
                return payload
            raise UnexpectedResponseError()
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if not isinstance(errors, list) or not errors:
            errors = [{"status": str(status), "title": "HTTP error", "detail": f"HTTP/{status}"}]
        raise error_for(status, errors, method, response.url)

    def _can_refresh(self) -> bool:
        return self.credentials is not None and self.credentials.refreshable

    def _refresh_if_expiring(self) -> None:
        creds = self.credentials
        if creds is None or creds.seconds_left() > REFRESH_MARGIN_S:
            return
        if creds.refreshable:
            self.refresh()
        elif creds.seconds_left() <= 0:
            raise TokenExpiredError("Access token is expired.")

    def refresh(self) -> None:
        """Exchanges the refresh token (or login key) for a new access token, once, and
        hands the result to `credentials.persist` so the auth file follows."""
        creds = self.credentials
        if creds is None or not creds.refreshable:
            raise TokenExpiredError("Access token is expired.")
        with self._refresh_lock:
            try:
                answer = self.exchange(
                    refresh_token=creds.refresh_token,
                    login_key=None if creds.refresh_token else creds.login_key,
                )
            except ImpCentralError as exc:
                if exc.status in (400, 401, 403, 404):
                    raise RefreshFailedError(exc.message) from None
                raise
            if not isinstance(answer, dict) or "access_token" not in answer:
                raise UnexpectedResponseError()
            creds.access_token = answer["access_token"]
            creds.expires_at = answer.get("expires_at") or creds.expires_at
            if answer.get("refresh_token") and creds.refresh_token:
                creds.refresh_token = answer["refresh_token"]
            if creds.persist is not None:
                creds.persist(creds)


def _carries_password(headers: dict[str, str] | None) -> bool:
    """A 401 to a request carrying the account password means the password is wrong, not
    the token: refreshing would only waste a round trip."""
    return any(k.lower() == "x-electricimp-password" for k in headers or {})


def _json_or_text(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _connection_cause(exc: Exception) -> str:
    text = str(exc)
    for needle, cause in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network is unreachable"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection"),
    ):
        if needle in text:
            return cause
    return "connection failed"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
