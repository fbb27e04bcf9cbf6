"""Client behaviour that only a live server shows: timeouts and proxies."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
import requests

from imptsh.api.client import Client, RetryPolicy
from imptsh.api.errors import ConnectionFailedError
from tests.conftest import sim_control


def test_every_request_has_a_timeout(sim):
    sim_control(sim, "faults", {"latency_ms": 1500, "count": 1})
    client = Client(sim.base_url, timeout=(1.0, 0.3), retry=RetryPolicy(attempts=1))
    with pytest.raises(ConnectionFailedError) as failed:
        client.login("demo", "demo")
    assert str(failed.value) == f"Cannot reach impCentral at {sim.base_url}: the request timed out."


def test_https_and_http_proxy_variables_are_honoured(monkeypatch):
    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"access_token": "t" * 20, "expires_at": "2999-01-01T00:00:00Z"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        client = Client("http://impcentral.test/v5", session=requests.Session())
        answer = client.exchange(login_key="k" * 16)
        assert answer["access_token"] == "t" * 20
        assert seen == ["http://impcentral.test/v5/auth/token"]
    finally:
        server.shutdown()
