"""The impCentral client against cassettes recorded from the simulator.

Re-record with `IMPTSH_RECORD=1 .venv/bin/pytest tests/api` (starts the simulator)."""

from __future__ import annotations

import pytest
import requests

from imptsh.api.auth import login_with_password
from imptsh.api.client import Client, Credentials, RetryPolicy
from imptsh.api.errors import ImpCentralError, NotFoundError, RefreshFailedError
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


def test_429_is_retried_honouring_retry_after(cassette, endpoint):
    client = logged_in_client(endpoint)
    control(endpoint, "faults", {"status": 429, "count": 2, "retry_after": 1})
    before = client.request_count
    doc = client.get("/products")
    assert doc["data"] == []
    assert client.request_count == before + 3


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
    with pytest.raises(ImpCentralError) as failed:
        client.get("/products")
    assert failed.value.status == 503
    control(endpoint, "reset", {})
