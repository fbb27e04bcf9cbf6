"""`GET /_sim/stats`: the API requests the simulator received, counted as a client sends
them (what a benchmark reads before and after a command)."""

from __future__ import annotations

from typing import Any

import requests

from .helpers import Client


def stats(client: Client) -> dict[str, Any]:
    answer = requests.get(client.sim.root_url + "/_sim/stats", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["meta"]


def test_every_api_request_counts_by_method_whatever_its_answer(client: Client) -> None:
    before = stats(client)["requests"]  # the client's own login
    client.product("Counted")
    client.get("/products")
    client.get("/products/nonexistent")  # 404
    client.control("faults", {"status": 503})
    client.get("/devices")  # 503 from the injected fault
    client.delete("/products/nonexistent")
    after = stats(client)
    assert after["requests"] - before == 5
    assert after["by_method"]["GET"] == 3
    assert after["by_method"]["DELETE"] == 1
    assert after["requests"] == sum(after["by_method"].values())


def test_control_plane_and_agent_requests_do_not_count(client: Client) -> None:
    before = stats(client)
    client.control("devices", {"count": 1})
    stats(client)
    requests.get(client.sim.root_url + "/_agent/unknown", timeout=10)
    requests.get(client.sim.root_url + "/elsewhere", timeout=10)  # neither API nor control
    assert stats(client) == before


def test_a_log_stream_counts_as_the_request_that_opened_it(client: Client) -> None:
    before = stats(client)["requests"]
    _, sse = client.stream()  # POST /logstream, then the streaming GET
    try:
        assert sse.next() is not None  # the "opened" event
    finally:
        sse.close()
    assert stats(client)["requests"] - before == 2


def test_a_reset_starts_counting_again(client: Client) -> None:
    client.get("/products")
    assert stats(client)["requests"] > 0
    assert client.control("reset").status_code == 200
    assert stats(client) == {"requests": 0, "by_method": {}}
