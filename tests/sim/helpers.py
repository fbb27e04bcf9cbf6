"""Test helpers: a small impCentral client and an SSE reader."""

from __future__ import annotations

import queue
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

from imptsh.sim.server import Simulator

DEV = "development_devicegroup"


class SSE:
    """A minimal SSE client on a raw socket; a thread parses events into a queue.

    A raw socket (rather than ``requests``) lets ``close()`` interrupt the blocked reader
    at once via ``shutdown``.
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._buf = b""
        status_line = self._readline()
        self.status = int(status_line.split(" ")[1])
        self.headers: dict[str, str] = {}
        while line := self._readline():
            k, _, v = line.partition(":")
            self.headers[k.strip()] = v.strip()
        self.events: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.raw_lines: list[str] = []
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.sock.close()

    def _readline(self) -> str:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8").rstrip("\r")

    def _read(self) -> None:
        event, data = None, []
        try:
            while True:
                line = self._readline()
                self.raw_lines.append(line)
                if line == "":
                    if data or event:
                        self.events.put((event or "message", "\n".join(data)))
                    event, data = None, []
                elif line.startswith(":"):
                    continue
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
        except Exception:  # noqa: BLE001 - end of stream or closed under us
            pass
        self.events.put(None)  # end of stream

    def next(self, timeout: float = 5.0) -> tuple[str, str] | None:
        return self.events.get(timeout=timeout)

    def take(self, n: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        out = []
        for _ in range(n):
            ev = self.next(timeout)
            assert ev is not None, f"stream ended after {out}"
            out.append(ev)
        return out

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Client:
    """A tiny impCentral client for tests."""

    def __init__(self, sim: Simulator, user: str = "demo", password: str = "demo") -> None:
        self.sim = sim
        self.base = sim.base_url
        self.s = requests.Session()
        self.token: str | None = None
        self.refresh_token: str | None = None
        if user:
            self.login(user, password)

    def login(self, user: str, password: str) -> dict[str, Any]:
        r = self.s.post(self.base + "/auth", json={"id": user, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
        self.use(body["access_token"])
        self.refresh_token = body.get("refresh_token")
        return body

    def use(self, token: str) -> None:
        self.token = token
        self.s.headers["Authorization"] = f"Bearer {token}"

    def req(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        headers.setdefault("Content-Type", "application/vnd.api+json")
        return self.s.request(method, self.base + path, headers=headers, timeout=10, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.req("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.req("POST", path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.req("PATCH", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.req("PUT", path, json=body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.req("DELETE", path, json=body, **kw)

    def control(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(self.sim.root_url + "/_sim/" + path, json=body or {}, timeout=10)

    # -- entity helpers -------------------------------------------------------------
    def product(self, name: str = "P1", **attrs: Any) -> str:
        r = self.post(
            "/products", {"data": {"type": "product", "attributes": {"name": name, **attrs}}}
        )
        assert r.status_code == 201, r.text
        return r.json()["data"]["id"]

    def dg_body(
        self, pid: str, name: str, typ: str = DEV, attrs: Any = None, rels: Any = None
    ) -> dict[str, Any]:
        return {
            "data": {
                "type": typ,
                "attributes": {"name": name, **(attrs or {})},
                "relationships": {"product": {"type": "product", "id": pid}, **(rels or {})},
            }
        }

    def dg(self, pid: str, name: str = "G1", typ: str = DEV, **kw: Any) -> str:
        r = self.post("/devicegroups", self.dg_body(pid, name, typ, **kw))
        assert r.status_code == 201, r.text
        return r.json()["data"]["id"]

    def deploy(
        self, gid: str, device_code: str = "", agent_code: str = "", typ: str = DEV, **attrs: Any
    ) -> dict[str, Any]:
        r = self.post(
            "/deployments",
            {
                "data": {
                    "type": "deployment",
                    "attributes": {"device_code": device_code, "agent_code": agent_code, **attrs},
                    "relationships": {"devicegroup": {"type": typ, "id": gid}},
                }
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["data"]

    def devices(self, query: str = "") -> list[dict[str, Any]]:
        r = self.get("/devices" + query)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def assign(self, gid: str, *device_ids: str) -> requests.Response:
        return self.post(
            f"/devicegroups/{gid}/relationships/devices",
            {"data": [{"type": "device", "id": d} for d in device_ids]},
        )

    def stream(self, fmt: str = "json") -> tuple[str, SSE]:
        r = self.post("/logstream")
        assert r.status_code == 200, r.text
        sid = r.json()["data"]["id"]
        sse = SSE(f"{self.base}/logstream/{sid}?format={fmt}")
        assert sse.status == 200
        return sid, sse
