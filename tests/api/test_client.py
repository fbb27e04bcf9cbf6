"""The impCentral client against cassettes recorded from the simulator.

Re-record with `IMPTSH_RECORD=1 .venv/bin/pytest tests/api` (starts the simulator)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from imptsh.api.auth import login_with_password
from imptsh.api.client import Client, Credentials, RetryPolicy
from imptsh.api.errors import (
    ImpCentralError,
    NotFoundError,
    RefreshFailedError,
    UnauthorizedError,
)
from tests.api.conftest import PLACEHOLDER, RECORDING

FAST = RetryPolicy(attempts=4, base_s=0.001, cap_s=0.01, max_retry_after_s=0.01)


def control(endpoint: str, path: str, body: dict) -> None:
    """Simulator control plane (only used while recording; never part of a cassette)."""
    if RECORDING:
        root = endpoint.rsplit("/v5", 1)[0]
        requests.post(f"{root}/_sim/{path}", json=body, timeout=5).raise_for_status()


def logged_in_client(endpoint: str, persisted: list | None = None) -> Client:
    client = Client(endpoint, retry=FAST, session=requests.Session())
    password = "demo" if RECORDING else PLACEHOLDER
    tokens = login_with_password(client, "demo", password, lambda: "")
    client.credentials = Credentials(
        tokens["access_token"],
        "2999-01-01T00:00:00.000Z",
        refresh_token=tokens["refresh_token"],
        persist=(persisted.append if persisted is not None else None),
    )
    return client


def test_login_and_lazy_pagination_follows_links_next(cassette, endpoint):
    client = logged_in_client(endpoint)
    for n in range(7):
        client.post("/products", {"data": {"type": "product", "attributes": {"name": f"P{n}"}}})
    before = client.request_count
    pages = client.iter_list("/products", page_size=3)
    first = next(pages)
    assert client.request_count == before + 1  # lazy: one page fetched so far
    names = [first["attributes"]["name"]] + [p["attributes"]["name"] for p in pages]
    assert sorted(names) == [f"P{n}" for n in range(7)]
    assert client.request_count == before + 3  # 3 + 3 + 1, stopping where links.next ends


def test_errors_are_typed_and_verbatim(cassette, endpoint):
    client = logged_in_client(endpoint)
    with pytest.raises(NotFoundError) as missing:
        client.get_resource("/products", "no-such-product")
    assert missing.value.status == 404
    client.post("/products", {"data": {"type": "product", "attributes": {"name": "Dup"}}})
    with pytest.raises(ImpCentralError) as dup:
        client.post("/products", {"data": {"type": "product", "attributes": {"name": "Dup"}}})
    assert dup.value.message == "Duplicate Resource: Products must have unique names."
    assert dup.value.errors[0]["title"] == "Duplicate Resource"
    with pytest.raises(ImpCentralError) as bad:
        client.post("/products", {"data": {"type": "product", "attributes": {"name": 5}}})
    assert bad.value.status == 400


def test_one_transparent_refresh_on_401_is_persisted(cassette, endpoint):
    persisted: list[Credentials] = []
    client = logged_in_client(endpoint, persisted)
    client.credentials.access_token = "stale-access-token-value"
    doc = client.get("/accounts/me")
    assert doc["data"]["attributes"]["username"] == "demo"
    assert len(persisted) == 1
    assert persisted[0].access_token != "stale-access-token-value"


def test_refresh_with_a_dead_refresh_token_fails_clearly(cassette, endpoint):
    client = logged_in_client(endpoint)
    client.credentials.access_token = "stale-access-token-value"
    client.credentials.refresh_token = "0" * 64
    with pytest.raises(RefreshFailedError):
        client.get("/accounts/me")


@dataclass(frozen=True)
class WatchedRetry(RetryPolicy):
    """The client's retry policy, remembering each Retry-After it was given and the wait it
    chose (backoff alone would wait at most `cap_s`, Retry-After `max_retry_after_s`)."""

    waits: list[tuple[str | None, float]] = field(default_factory=list)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        wait = super().delay(attempt, retry_after)
        self.waits.append((retry_after, wait))
        return wait


def test_429_is_retried_honouring_retry_after(cassette, endpoint):
    client = logged_in_client(endpoint)
    client.retry = policy = WatchedRetry(
        attempts=4, base_s=0.001, cap_s=0.002, max_retry_after_s=0.02
    )
    control(endpoint, "faults", {"status": 429, "count": 2, "retry_after": 1})
    before = client.request_count
    doc = client.get("/products")
    assert doc["data"] == []
    assert client.request_count == before + 3
    assert policy.waits == [("1", 0.02), ("1", 0.02)]  # Retry-After: 1, capped for the test


def test_5xx_is_retried_for_gets_but_not_for_posts(cassette, endpoint):
    client = logged_in_client(endpoint)
    control(endpoint, "faults", {"status": 503, "count": 1})
    assert client.get("/products")["data"] == []
    control(endpoint, "faults", {"status": 503, "count": 1})
    with pytest.raises(ImpCentralError) as failed:
        client.post("/products", {"data": {"type": "product", "attributes": {"name": "X"}}})
    assert failed.value.status == 503


def test_retries_give_up_after_the_budget(cassette, endpoint):
    client = logged_in_client(endpoint)
    control(endpoint, "faults", {"status": 503, "count": 10})
    before = client.request_count
    with pytest.raises(ImpCentralError) as failed:
        client.get("/products")
    assert failed.value.status == 503
    assert client.request_count - before == FAST.attempts  # the budget, not one more or less
    control(endpoint, "reset", {})


# -- live rules that no cassette shows --------------------------------------------------------


def test_a_401_to_a_password_request_is_not_answered_with_a_refresh(sim):
    """A wrong account password gives 401 too: refreshing the token would only cost a round
    trip and write the auth file for nothing."""
    persisted: list[Credentials] = []
    client = Client(sim.base_url, retry=FAST, session=requests.Session())
    tokens = login_with_password(client, "demo", "demo", lambda: "")
    client.credentials = Credentials(
        tokens["access_token"],
        "2999-01-01T00:00:00.000Z",
        refresh_token=tokens["refresh_token"],
        persist=persisted.append,
    )
    body = {"data": {"type": "login_key", "attributes": {}}}
    for header in ("X-Electricimp-Password", "x-electricimp-password"):
        before = client.request_count
        with pytest.raises(UnauthorizedError) as wrong:
            client.post("/accounts/me/login_keys", body, headers={header: "wrong"})
        assert wrong.value.status == 401
        assert client.request_count - before == 1
    assert persisted == [] and client.credentials.access_token == tokens["access_token"]
    client.credentials.access_token = "stale-access-token-value"
    before = client.request_count
    client.get("/accounts/me")  # the same 401 without a password is refreshed
    assert client.request_count - before == 3 and len(persisted) == 1


class RepeatingPages(BaseHTTPRequestHandler):
    """Pages of a collection where an entity shows up again on the next page, as the real
    service has been seen to do when entities are created while a client pages (the
    simulator's stable order never does)."""

    pages: ClassVar[dict[str, list[dict]]] = {
        "1": [{"type": "product", "id": "a"}, {"type": "product", "id": "b"}],
        "2": [{"type": "product", "id": "b"}, {"type": "product"}, {"type": "product", "id": "c"}],
        "3": [{"type": "product", "id": "c"}],
    }

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        number = parse_qs(urlsplit(self.path).query).get("page[number]", ["1"])[0]
        doc: dict = {"data": self.pages.get(number, [])}
        if number in ("1", "2"):
            base = f"http://{self.headers['Host']}/v5/products"
            doc["links"] = {"next": f"{base}?page[number]={int(number) + 1}&page[size]=2"}
        raw = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def test_paging_drops_an_entity_a_later_page_repeats():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RepeatingPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(
            f"http://127.0.0.1:{server.server_port}/v5",
            Credentials("token", "2999-01-01T00:00:00.000Z"),
            session=requests.Session(),
        )
        listed = client.list("/products")
        assert [item.get("id") for item in listed] == ["a", "b", None, "c"]
        assert client.request_count == 3
    finally:
        server.shutdown()
        server.server_close()
