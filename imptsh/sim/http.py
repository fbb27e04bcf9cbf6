"""Thin HTTP layer: routing, JSON:API envelopes, pagination links, SSE, rate-limit headers.

All rules live in the resource modules (:mod:`imptsh.sim.resources`); this module only
translates HTTP to their calls (through the route tables) and their results and errors to
HTTP. It also serves the control plane (``/_sim/``) and agent URLs (``/_agent/``).
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
from urllib.parse import parse_qsl, unquote

from . import jsonapi
from .backend import Backend
from .control import Control, is_loopback
from .errors import ApiError, bad_request
from .faults import fault_error
from .jsonapi import Links
from .resources import ROUTES, accounts, devices, logs
from .routing import BODY, FILTERS, Route, Router
from .streams import format_events

API_PREFIX = "/v5"
CONTROL_PREFIX = "/_sim"
AGENT_PREFIX = jsonapi.AGENT_PREFIX.rstrip("/")
MAX_BODY = 1024 * 1024
KEEPALIVE_SECONDS = 15.0
JSONAPI = "application/vnd.api+json"
_HOP_HEADERS = {"content-length", "connection", "transfer-encoding"}


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
    """Per-request context: who asks, what they sent, where they reached the simulator."""

    __slots__ = ("account", "body", "query", "filters", "headers", "links", "path")

    def __init__(self) -> None:
        self.account = ""
        self.body: Any = {}
        self.query: dict[str, str] = {}
        self.filters: dict[str, str] = {}
        self.headers: Any = None
        self.links = Links("", "")
        self.path = ""

    def input(self, name: str) -> Any:
        if name == BODY:
            return self.body
        if name == FILTERS:
            return self.filters
        return self.headers.get(name)


class App:
    """Everything the handler threads share: backend, routes, control plane, configuration."""

    def __init__(self, backend: Backend, *, rate_limit: int = 0) -> None:
        self.backend = backend
        self.faults = backend.faults
        self.rate = RateWindow(rate_limit or 40, rate_limit > 0)
        self.control = Control(backend)
        self.router = Router(ROUTES)
        self.default_links = Links("", "")
        self.stopping = threading.Event()
        self._sse_cond = threading.Condition()
        self._sse_active = 0

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

    def call(self, route: Route, caps: list[str], req: Request) -> tuple[int, Any]:
        """Call a route's handler and turn its result into (status, JSON document or None)."""
        m = self.backend
        args: list[Any] = [m]
        if route.auth:
            args.append(req.account)
        args += caps
        args += [req.input(name) for name in route.inputs]
        result = route.handler(*args)
        if route.many:
            doc = jsonapi.collection(
                m, result, route.kind, query=req.query, path=req.path, links=req.links
            )
            return route.status, doc
        if result is None:
            return 204, None
        if route.kind is not None:
            return route.status, jsonapi.single(m, route.kind, result, req.links)
        return route.status, result


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

    def _links(self, app: App) -> Links:
        host = self.headers.get("Host")
        if not host:
            return app.default_links
        return Links(f"http://{host}{API_PREFIX}", f"http://{host}")

    def _handle(self, method: str) -> None:
        app: App = self.server.app
        headers: dict[str, str] = {}
        try:
            raw_path, _, raw_query = self.path.partition("?")
            raw_path = raw_path.split("#", 1)[0]
            if raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/"):
                self._handle_control(app, method, raw_path)
                return
            if raw_path.startswith(AGENT_PREFIX + "/"):
                self._handle_agent(app, method, raw_path, raw_query)
                return
            if raw_path != API_PREFIX and not raw_path.startswith(API_PREFIX + "/"):
                self._read_body()
                raise ApiError(404, "NF002", "Not Found", "The API is served under /v5.")
            app.backend.stats.count(method)
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
            if method == "GET" and len(segs) == 2 and segs[0] == "logstream":
                self._stream(app, segs[1], raw_query, headers)
                return
            route, caps = app.router.match(method, segs)
            req = Request()
            req.headers = self.headers
            req.links = self._links(app)
            req.path = raw_path[len(API_PREFIX) :]
            if route.auth:
                auth = self.headers.get("Authorization", "")
                token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
                req.account = accounts.authenticate(app.backend, token)
            query: dict[str, str] = {}
            for k, v in parse_qsl(raw_query, keep_blank_values=True):
                query.setdefault(k, v)
            req.query = query
            req.filters = {
                k[7:-1]: v for k, v in query.items() if k.startswith("filter[") and k.endswith("]")
            }
            req.body = self._parse_json(raw)
            status, doc = app.call(route, caps, req)
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
        rest = raw_path[len(CONTROL_PREFIX) :]
        segs = [unquote(s) for s in rest.split("/") if s != ""]
        status, doc = app.control.handle(method, segs, body, self._links(app))
        headers = {"x-ratelimit-limit": str(app.rate.limit)}
        headers.update({"x-ratelimit-remaining": str(app.rate.limit), "x-ratelimit-reset": "1"})
        self._send(status, _json_bytes(doc), JSONAPI, headers)

    def _handle_agent(self, app: App, method: str, raw_path: str, raw_query: str) -> None:
        """``/_agent/<agent_id>[/<path>]``: the device's agent answers (through the runner)."""
        agent_id, slash, rest = raw_path[len(AGENT_PREFIX) + 1 :].partition("/")
        body = self._read_body()
        request_headers = {k: v for k, v in self.headers.items()}
        status, headers, answer = devices.agent_request(
            app.backend, unquote(agent_id), method, slash + rest, raw_query, request_headers, body
        )
        out = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
        self._send(status, answer, None, out)

    def _stream(self, app: App, stream_id: str, raw_query: str, headers: dict[str, str]) -> None:
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        fmt = query.get("format", "text") or "text"
        if fmt not in ("text", "json"):
            raise bad_request("'format' must be 'text' or 'json'.", "format")
        stream = logs.get_stream(app.backend, stream_id)
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
