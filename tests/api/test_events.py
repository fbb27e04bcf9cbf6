"""Server-sent events (`Client.stream_events`, `resources.open_log_stream`) against the
simulator's real log streams; nothing recorded: a live stream never ends."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from imptsh.api import resources
from imptsh.api.client import Client, Credentials, Exchange
from imptsh.api.errors import ConnectionFailedError, NotFoundError, UnauthorizedError
from imptsh.api.events import Event, EventStream
from imptsh.sim import http as sim_http
from tests.conftest import SimApi, sim_control


def state(event: Event) -> str:
    """The state a `state_change` announces (JSON format: an object; text: its last word)."""
    assert event.name == "state_change", event
    if event.data.startswith("{"):
        return json.loads(event.data)["state"]
    return event.data.split()[-1]


def opened(client: Client, fmt: str = "json") -> tuple[str, EventStream]:
    stream_id = resources.create_log_stream(client)
    events = resources.open_log_stream(client, stream_id, fmt=fmt)
    assert state(next(events)) == "opened"
    return stream_id, events


def messages(events: EventStream, count: int) -> list[Event]:
    """The next `count` log lines (state changes in between are skipped)."""
    found: list[Event] = []
    for event in events:
        if event.name == "message":
            found.append(event)
            if len(found) == count:
                return found
    raise AssertionError(f"the stream ended after {found}")


def push(sim: Any, device_id: str, lines: list[str]) -> None:
    sim_control(sim, f"devices/{device_id}/logs", {"lines": lines})


def test_pushed_lines_arrive_as_events_in_order(api: SimApi, sim: Any) -> None:
    device = api.devices()[0]["id"]
    stream_id, events = opened(api.client)
    with events:
        resources.add_to_log_stream(api.client, stream_id, device)
        subscribed = next(events)
        assert state(subscribed) == "subscribed"
        assert json.loads(subscribed.data)["device_id"] == device
        sent = [f"line {n}" for n in range(50)]
        push(sim, device, sent[:20])
        push(sim, device, sent[20:])
        got = [json.loads(e.data) for e in messages(events, 50)]
    assert [g["msg"] for g in got] == sent
    assert {(g["device_id"], g["type"]) for g in got} == {(device, "server.log")}
    assert events.closed


def test_text_format_keeps_a_multi_line_message_in_one_event(api: SimApi, sim: Any) -> None:
    device = api.devices()[0]["id"]
    stream_id, events = opened(api.client, fmt="text")
    with events:
        resources.add_to_log_stream(api.client, stream_id, device)
        push(sim, device, ["first\nsecond"])
        (event,) = messages(events, 1)
    head, _, tail = event.data.partition("\n")
    assert head.startswith(f"{device} ") and head.endswith(" development server.log first")
    assert tail == "second"


def test_close_from_another_thread_ends_the_iteration(
    api: SimApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing but close() can end this stream: the simulator sends no keep-alive for an
    # hour and the read timeout is longer still.
    monkeypatch.setattr(sim_http, "KEEPALIVE_SECONDS", 3600.0)
    api.client.stream_read_timeout = 7200.0
    events = resources.open_log_stream(api.client, resources.create_log_stream(api.client))
    seen: list[Event] = []
    failures: list[BaseException] = []
    first = threading.Event()

    def read() -> None:
        try:
            for event in events:
                seen.append(event)
                first.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(10)
    time.sleep(0.2)  # the reader is waiting for the next bytes again
    closer = threading.Thread(target=events.close, daemon=True)
    closer.start()
    closer.join(10)
    reader.join(10)
    assert not closer.is_alive(), "close() waits for the blocked reader"
    assert not reader.is_alive(), "close() did not wake the reader"
    assert failures == [] and [state(e) for e in seen] == ["opened"]
    assert list(events) == []  # closed for good
    events.close()  # and closing twice is harmless


def test_a_new_stream_closes_the_old_one(api: SimApi) -> None:
    _, old = opened(api.client)
    _, new = opened(api.client)
    with new:
        assert [state(e) for e in old] == ["closed"]  # then the server ends the response


def test_a_401_refreshes_the_token_once(api: SimApi, sim: Any) -> None:
    client = api.client
    stream_id = resources.create_log_stream(client)
    seen: list[Exchange] = []
    client.observer = seen.append
    token = client.credentials.access_token
    sim_control(sim, "faults", {"status": 401, "count": 1})
    with resources.open_log_stream(client, stream_id) as events:
        assert state(next(events)) == "opened"
    assert [(e.method, e.url.rsplit("/v5", 1)[1], e.status) for e in seen] == [
        ("GET", f"/logstream/{stream_id}", 401),
        ("POST", "/auth/token", 200),
        ("GET", f"/logstream/{stream_id}", 200),
    ]
    assert seen[-1].headers["Authorization"] == f"Bearer {client.credentials.access_token}"
    assert client.credentials.access_token != token
    assert seen[-1].response_body is None  # an open stream has no body to show


def test_a_second_401_after_the_refresh_is_the_error(api: SimApi, sim: Any) -> None:
    client = api.client
    stream_id = resources.create_log_stream(client)
    seen: list[Exchange] = []

    def refuse_again_after_refreshing(exchange: Exchange) -> None:
        seen.append(exchange)
        if exchange.url.endswith("/auth/token"):
            sim_control(sim, "faults", {"status": 401, "count": 1})

    client.observer = refuse_again_after_refreshing
    sim_control(sim, "faults", {"status": 401, "count": 1})
    with pytest.raises(UnauthorizedError):
        resources.open_log_stream(client, stream_id)
    assert [e.status for e in seen] == [401, 200, 401]


def test_a_silent_stream_is_a_connection_failure(api: SimApi) -> None:
    api.client.stream_read_timeout = 0.5  # the simulator's keep-alive comes every 15 s
    _, events = opened(api.client)
    with pytest.raises(ConnectionFailedError) as failure:
        next(events)
    assert str(failure.value) == (
        f"Cannot reach impCentral at {api.client.endpoint}: "
        "the event stream sent nothing for 0.5 seconds."
    )


def test_an_unknown_stream_is_the_api_error(api: SimApi) -> None:
    with pytest.raises(NotFoundError):
        resources.open_log_stream(api.client, "no-such-stream")


def test_an_unreachable_endpoint_is_a_connection_failure() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        endpoint = f"http://127.0.0.1:{unused.getsockname()[1]}/v5"
        client = Client(endpoint, Credentials("token", "2999-01-01T00:00:00.000Z"))
        with pytest.raises(ConnectionFailedError) as failure:
            client.stream_events("/logstream/x")
    assert str(failure.value) == f"Cannot reach impCentral at {endpoint}: connection refused."
