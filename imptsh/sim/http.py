"""Thin HTTP layer: routing, JSON:API envelopes, pagination links, SSE, rate-limit headers.

All rules live in :mod:`imptsh.sim.backend`; this module only translates HTTP to backend
calls and backend results/errors to HTTP.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from .backend import Backend
from .control import Control, Faults, fault_error, is_loopback
from .errors import ApiError, bad_request
from .streams import format_events

API_PREFIX = "/v5"
MAX_BODY = 1024 * 1024
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
KEEPALIVE_SECONDS = 15.0
JSONAPI = "application/vnd.api+json"

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


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class RateWindow:
    """Counts requests per client in 1-second windows for the x-ratelimit-* headers."""

    def __init__(self, limit: int, enforce: bool) -> None:
        self.limit = limit
        self.enforce = enforce
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[int, int, bool]:
        """Return (remaining, reset seconds, exceeded)."""
        second = int(time.monotonic())
        with self._lock:
            start, count = self._windows.get(key, (second, 0))
            if start != second:
                start, count = second, 0
            count += 1
            self._windows[key] = (start, count)
            if len(self._windows) > 10_000:
                self._windows.clear()
        return max(0, self.limit - count), 1, self.enforce and count > self.limit


class Request:
    """Per-request context handed to route handlers."""

    __slots__ = ("account", "body", "query", "filters", "headers", "base", "path")

    def __init__(self) -> None:
        self.account = ""
        self.body: Any = {}
        self.query: dict[str, str] = {}
        self.filters: dict[str, str] = {}
        self.headers: Any = None
        self.base = ""
        self.path = ""


class App:
    """Everything the handler threads share: backend, control plane, faults, config."""

    def __init__(self, backend: Backend, *, rate_limit: int = 0) -> None:
        self.backend = backend
        self.faults = Faults()
        self.rate = RateWindow(rate_limit or 40, rate_limit > 0)
        self.control = Control(backend, self.faults, self._render_plain)
        self.default_base = ""
        self.stopping = threading.Event()
        self._sse_cond = threading.Condition()
        self._sse_active = 0
        self._routes = self._build_routes()

    def stream_started(self) -> None:
        with self._sse_cond:
            self._sse_active += 1

    def stream_finished(self) -> None:
        with self._sse_cond:
            self._sse_active -= 1
            self._sse_cond.notify_all()

    def wait_streams_finished(self, timeout: float) -> bool:
        """Wait until every SSE writer has ended its response (after close_streams)."""
        with self._sse_cond:
            return self._sse_cond.wait_for(lambda: self._sse_active == 0, timeout)

    # -------------------------------------------------------------- rendering helpers
    def _render_plain(self, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        return self.resource(kind, rec, self.default_base)

    def resource(self, kind: str, rec: dict[str, Any], base: str) -> dict[str, Any]:
        res = self.backend.render(kind, rec)
        res["links"] = {"self": base + _PATHS[kind] + quote(res["id"], safe="")}
        return res

    def single(self, kind: str, rec: dict[str, Any], req: Request) -> dict[str, Any]:
        return {"data": self.resource(kind, rec, req.base)}

    def collection(self, items: list[Any], req: Request, kind: str | None = None) -> dict[str, Any]:
        number, size = _page_params(req.query)
        start = (number - 1) * size
        page = items[start : start + size]
        if kind is not None:
            data = [self.resource(kind, rec, req.base) for rec in page]
        else:
            data = page
        others = [(k, v) for k, v in req.query.items() if k not in ("page[number]", "page[size]")]

        def link(n: int) -> str:
            pairs = [*others, ("page[number]", str(n)), ("page[size]", str(size))]
            qs = "&".join(f"{quote(k, safe='[].')}={quote(v, safe='')}" for k, v in pairs)
            return f"{req.base}{req.path}?{qs}"

        links = {"self": link(number), "first": link(1)}
        if start + size < len(items):
            links["next"] = link(number + 1)
        if number > 1:
            links["prev"] = link(number - 1)
        return {"data": data, "links": links}

    # -------------------------------------------------------------- routes
    def _build_routes(self) -> list[tuple[str, tuple[str, ...], Any, bool]]:
        b = self.backend
        R: list[tuple[str, tuple[str, ...], Any, bool]] = []

        def add(method: str, pattern: str, fn: Any, auth: bool = True) -> None:
            R.append((method, tuple(pattern.strip("/").split("/")), fn, auth))

        def add_resource(collection: str, kind: str, *, creatable: bool = True) -> None:
            """The standard routes of a collection: list, create, get, update, delete.
            Backend methods are looked up per request, like the explicit routes."""

            def op(name: str) -> Any:
                plural = "s" if name == "list" else ""
                return lambda *args: getattr(b, f"{name}_{kind}{plural}")(*args)

            item = f"{collection}/*"
            add(
                "GET",
                collection,
                lambda r: (200, self.collection(op("list")(r.account, r.filters), r, kind)),
            )
            if creatable:
                add(
                    "POST",
                    collection,
                    lambda r: (201, self.single(kind, op("create")(r.account, r.body), r)),
                )
            add("GET", item, lambda r, i: (200, self.single(kind, op("get")(r.account, i), r)))
            add(
                "PATCH",
                item,
                lambda r, i: (200, self.single(kind, op("update")(r.account, i, r.body), r)),
            )
            add("DELETE", item, lambda r, i: (204, op("delete")(r.account, i)))

        # auth
        add(
            "POST",
            "auth",
            lambda r: (200, b.login(r.body, r.headers.get("X-Electricimp-OTP-Token"))),
            False,
        )
        add("POST", "auth/token", lambda r: (200, b.exchange(r.body)), False)
        # accounts
        add(
            "GET",
            "accounts",
            lambda r: (200, self.collection(b.list_accounts(r.account, r.filters), r, "account")),
        )
        add(
            "GET",
            "accounts/me/refresh_tokens",
            lambda r: (200, self.collection(b.list_refresh_tokens(r.account), r, "refresh_token")),
        )
        add(
            "DELETE",
            "accounts/me/refresh_tokens/*",
            lambda r, i: (204, b.delete_refresh_token(r.account, i)),
        )
        pw = "X-Electricimp-Password"
        add(
            "GET",
            "accounts/me/login_keys",
            lambda r: (200, self.collection(b.list_login_keys(r.account), r, "login_key")),
        )
        add(
            "POST",
            "accounts/me/login_keys",
            lambda r: (
                201,
                self.single(
                    "login_key", b.create_login_key(r.account, r.body, r.headers.get(pw)), r
                ),
            ),
        )
        add(
            "GET",
            "accounts/me/login_keys/*",
            lambda r, i: (200, self.single("login_key", b.get_login_key(r.account, i), r)),
        )
        add(
            "PATCH",
            "accounts/me/login_keys/*",
            lambda r, i: (
                200,
                self.single(
                    "login_key", b.update_login_key(r.account, i, r.body, r.headers.get(pw)), r
                ),
            ),
        )
        add(
            "DELETE",
            "accounts/me/login_keys/*",
            lambda r, i: (204, b.delete_login_key(r.account, i, r.headers.get(pw))),
        )
        add(
            "GET",
            "accounts/*",
            lambda r, i: (200, self.single("account", b.get_account(r.account, i), r)),
        )
        # products
        add_resource("products", "product")
        # device groups
        add_resource("devicegroups", "devicegroup")
        add(
            "POST",
            "devicegroups/*/restart",
            lambda r, i: (204, b.restart_devicegroup(r.account, i, False)),
        )
        add(
            "POST",
            "devicegroups/*/conditional_restart",
            lambda r, i: (204, b.restart_devicegroup(r.account, i, True)),
        )
        add(
            "PUT",
            "devicegroups/*/relationships/min_supported_deployment",
            lambda r, i: (
                200,
                self.single("devicegroup", b.set_min_supported(r.account, i, r.body), r),
            ),
        )
        add(
            "POST",
            "devicegroups/*/relationships/devices",
            lambda r, i: (204, b.assign_devices(r.account, i, r.body)),
        )
        add(
            "DELETE",
            "devicegroups/*/relationships/devices",
            lambda r, i: (204, b.unassign_devices(r.account, i, r.body)),
        )
        # devices
        add_resource("devices", "device", creatable=False)
        add("POST", "devices/*/restart", lambda r, i: (204, b.restart_device(r.account, i, False)))
        add(
            "POST",
            "devices/*/conditional_restart",
            lambda r, i: (204, b.restart_device(r.account, i, True)),
        )
        add(
            "GET",
            "devices/*/logs",
            lambda r, i: (200, self.collection(b.device_logs(r.account, i), r)),
        )
        # deployments
        add_resource("deployments", "deployment")
        # webhooks
        add_resource("webhooks", "webhook")
        # log streams (the SSE GET is handled by the request handler itself)
        add("POST", "logstream", self._create_stream)
        add("PUT", "logstream/*/*", lambda r, s, d: (204, b.stream_add(r.account, s, d)))
        add("DELETE", "logstream/*/*", lambda r, s, d: (204, b.stream_remove(r.account, s, d)))
        return R

    def _create_stream(self, r: Request) -> tuple[int, Any]:
        stream = self.backend.create_stream(r.account)
        return 200, {
            "data": {
                "type": "logstream",
                "id": stream.id,
                "attributes": {"url": f"{r.base}/logstream/{stream.id}"},
                "relationships": {"owner": {"type": "account", "id": r.account}},
            }
        }

    def match(self, method: str, segs: list[str]) -> tuple[Any, list[str], bool]:
        """Return (handler, captured segments, needs auth); raise 404/405."""
        path_known = False
        for m, pattern, fn, auth in self._routes:
            if len(pattern) != len(segs):
                continue
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
                if m == method:
                    return fn, caps, auth
        if path_known:
            raise ApiError(405, "VX010", "Method Not Allowed", f"{method} is not allowed here.")
        raise ApiError(404, "NF002", "Not Found", "The requested resource does not exist.")


def _page_params(query: dict[str, str]) -> tuple[int, int]:
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


def _json_bytes(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "imptsh-sim"
    sys_version = ""
    server: SimHTTPServer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._handle("OPTIONS")

    # -------------------------------------------------------------- plumbing
    def _send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str | None = JSONAPI,
        headers: dict[str, str] | None = None,
    ) -> None:
        out = [f"HTTP/1.1 {status} {_reason(status)}\r\n", "Server: imptsh-sim\r\n"]
        if body and ctype:
            out.append(f"Content-Type: {ctype}\r\n")
        if status != 204:
            out.append(f"Content-Length: {len(body)}\r\n")
        for k, v in (headers or {}).items():
            out.append(f"{k}: {v}\r\n")
        if self.close_connection:
            out.append("Connection: close\r\n")
        out.append("\r\n")
        if status == 204 or getattr(self, "command", "") == "HEAD":
            body = b""
        self.wfile.write("".join(out).encode("latin-1") + body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, header too long...) as JSON:API too."""
        self.close_connection = True
        title = _reason(code)
        err = ApiError(code, "VX000", title, message or explain or title)
        try:
            self._send(code, _json_bytes(err.document()), JSONAPI, {})
        except OSError:
            pass

    def _send_error(self, err: ApiError, headers: dict[str, str]) -> None:
        hdrs = dict(headers)
        hdrs.update(err.headers)
        self._send(err.status, _json_bytes(err.document()), JSONAPI, hdrs)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                except ValueError:
                    self.close_connection = True
                    raise bad_request("Malformed chunked request body.") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise ApiError(
                        413, "VX013", "Payload Too Large", "Request bodies are limited to 1 MiB."
                    )
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        raw_len = self.headers.get("Content-Length")
        if not raw_len:
            return b""
        try:
            length = int(raw_len)
        except ValueError:
            self.close_connection = True
            raise bad_request("Invalid Content-Length header.") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(
                413, "VX013", "Payload Too Large", "Request bodies are limited to 1 MiB."
            )
        return self.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(
                400, "VX000", "Malformed Request", f"The request body is not valid JSON: {exc}."
            ) from None

    def _handle(self, method: str) -> None:
        app: App = self.server.app
        headers: dict[str, str] = {}
        try:
            raw_path, _, raw_query = self.path.partition("?")
            raw_path = raw_path.split("#", 1)[0]
            if raw_path == "/_sim" or raw_path.startswith("/_sim/"):
                self._handle_control(app, method, raw_path)
                return
            if raw_path != API_PREFIX and not raw_path.startswith(API_PREFIX + "/"):
                self._read_body()
                raise ApiError(404, "NF002", "Not Found", "The API is served under /v5.")
            # Rate-limit headers and injected faults apply to every API request.
            key = self.headers.get("Authorization") or self.client_address[0]
            remaining, reset, exceeded = app.rate.hit(key)
            headers = {
                "x-ratelimit-limit": str(app.rate.limit),
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(reset),
            }
            raw = self._read_body()
            delay, fault = app.faults.take()
            if delay:
                time.sleep(delay)
            if fault is not None:
                err = fault_error(fault)
                if err.status == 429:
                    headers["x-ratelimit-remaining"] = "0"
                raise err
            if exceeded:
                raise ApiError(
                    429,
                    "RX001",
                    "Too Many Requests",
                    "Rate limit exceeded; retry later.",
                    headers={"Retry-After": "1"},
                )
            segs = [unquote(s) for s in raw_path[len(API_PREFIX) :].split("/")[1:]]
            if segs and segs[-1] == "" and len(segs) > 1:
                segs.pop()
            host = self.headers.get("Host")
            base = f"http://{host}{API_PREFIX}" if host else app.default_base
            if method == "GET" and len(segs) == 2 and segs[0] == "logstream":
                self._stream(app, segs[1], raw_query, headers)
                return
            fn, caps, needs_auth = app.match(method, segs)
            req = Request()
            req.headers = self.headers
            req.base = base
            req.path = raw_path[len(API_PREFIX) :]
            if needs_auth:
                auth = self.headers.get("Authorization", "")
                token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
                req.account = app.backend.authenticate(token)
            query: dict[str, str] = {}
            for k, v in parse_qsl(raw_query, keep_blank_values=True):
                query.setdefault(k, v)
            req.query = query
            req.filters = {
                k[7:-1]: v for k, v in query.items() if k.startswith("filter[") and k.endswith("]")
            }
            req.body = self._parse_json(raw)
            status, doc = fn(req, *caps)
            if status == 204 or doc is None:
                self._send(204, b"", None, headers)
            else:
                self._send(status, _json_bytes(doc), JSONAPI, headers)
        except ApiError as err:
            self._send_error(err, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - never leak a traceback to the client
            print(f"imptsh-sim: error handling {method} {self.path}", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            err = ApiError(500, "XX000", "Internal Server Error", "An unexpected error occurred.")
            try:
                self._send_error(err, headers)
            except OSError:
                self.close_connection = True

    def _handle_control(self, app: App, method: str, raw_path: str) -> None:
        if not is_loopback(self.client_address[0]):
            self._read_body()
            raise ApiError(403, "PX200", "Forbidden", "The control plane is loopback-only.")
        raw = self._read_body()
        body = self._parse_json(raw)
        segs = (
            [unquote(s) for s in raw_path[len("/_sim/") :].split("/")]
            if raw_path != "/_sim"
            else []
        )
        segs = [s for s in segs if s != ""]
        status, doc = app.control.handle(method, segs, body)
        headers = {"x-ratelimit-limit": str(app.rate.limit)}
        headers.update({"x-ratelimit-remaining": str(app.rate.limit), "x-ratelimit-reset": "1"})
        self._send(status, _json_bytes(doc), JSONAPI, headers)

    def _stream(self, app: App, stream_id: str, raw_query: str, headers: dict[str, str]) -> None:
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        fmt = query.get("format", "text") or "text"
        if fmt not in ("text", "json"):
            raise bad_request("'format' must be 'text' or 'json'.", "format")
        stream = app.backend.get_stream(stream_id)
        generation = stream.attach()
        self.close_connection = True
        head = [
            "HTTP/1.1 200 OK\r\n",
            "Server: imptsh-sim\r\n",
            "Content-Type: text/event-stream\r\n",
            "Cache-Control: no-cache\r\n",
            "Connection: close\r\n",
        ]
        head += [f"{k}: {v}\r\n" for k, v in headers.items()]
        head.append("\r\n")
        opened = format_events([("state_change", {"state": "opened"})], fmt)
        app.stream_started()
        try:
            self.wfile.write("".join(head).encode("latin-1") + opened)
            while True:
                events, finished = stream.wait(generation, KEEPALIVE_SECONDS)
                if events:
                    try:
                        self.wfile.write(format_events(events, fmt))
                    except OSError:
                        stream.requeue_front(events)
                        raise
                elif not finished:
                    self.wfile.write(b": keep-alive\n\n")
                if finished:
                    break
            self.wfile.flush()
        except OSError:
            pass
        finally:
            app.stream_finished()


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], app: App) -> None:
        self.app = app
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def close_all_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
