"""Device logs: the history (``/devices/{device}/logs``), lines pushed by the control plane
and log streams (``/logstream``; the SSE connection itself is served by the HTTP layer)."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request, not_found
from ..model import Model, new_uuid, txn
from ..routing import Route
from ..streams import Event, LogStream

STREAM_DEVICE_LIMIT = 5
STREAMS_PER_ACCOUNT = 1


def device_logs(m: Model, account_id: str, ident: str) -> list[dict[str, Any]]:
    """Historical log entries, newest first."""
    with m.lock:
        dev = m.resolve_device(ident, account_id)
        entries = list(m.logs.get(dev["id"], ()))
    entries.reverse()
    return [{"ts": e["ts"], "type": e["type"], "msg": e["msg"]} for e in entries]


@txn
def inject_logs(m: Model, ident: str, body: Any) -> int:
    """Control plane: append lines (a bare string is a ``server.log`` line) to a device's log."""
    dev = m.resolve_device(ident, None)
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        raise bad_request("The request body must contain a 'lines' array.", "/lines")
    for i, line in enumerate(body["lines"]):
        if isinstance(line, str):
            line = {"type": "server.log", "msg": line}
        if not isinstance(line, dict) or not isinstance(line.get("msg"), str):
            raise bad_request(f"lines[{i}] must be an object with a string 'msg'.", f"/lines/{i}")
        typ = line.get("type", "server.log")
        if not isinstance(typ, str) or not typ:
            raise bad_request(f"lines[{i}].type must be a non-empty string.", f"/lines/{i}/type")
        m.emit(dev["id"], typ, line["msg"])
    return len(body["lines"])


# ---------------------------------------------------------------------------------------
# log streams
# ---------------------------------------------------------------------------------------


def create_stream(m: Model, account_id: str) -> LogStream:
    """A new stream; the account's oldest streams beyond the limit are closed."""
    with m.lock:
        mine = sorted(
            (s for s in m.streams.values() if s.account_id == account_id),
            key=lambda s: s.created,
        )
        while len(mine) >= STREAMS_PER_ACCOUNT:
            old = mine.pop(0)
            m.streams.pop(old.id, None)
            old.close()
        stream = LogStream(new_uuid(), account_id)
        m.streams[stream.id] = stream
        return stream


def get_stream(m: Model, stream_id: str) -> LogStream:
    with m.lock:
        stream = m.streams.get(stream_id)
        if stream is None:
            raise not_found("logstream")
        return stream


def _own_stream(m: Model, account_id: str, stream_id: str) -> LogStream:
    stream = m.streams.get(stream_id)
    if stream is None or stream.account_id != account_id:
        raise not_found("logstream")
    return stream


def stream_add(m: Model, account_id: str, stream_id: str, ident: str) -> None:
    """Subscribe a device; beyond the limit the least recently added one is evicted."""
    with m.lock:
        stream = _own_stream(m, account_id, stream_id)
        dev = m.resolve_device(ident, account_id)
        if dev["id"] in stream.devices:
            return
        events: list[Event] = []
        while len(stream.devices) >= STREAM_DEVICE_LIMIT:
            evicted = stream.devices.pop(0)
            events.append(("state_change", {"state": "unsubscribed", "device_id": evicted}))
        stream.devices.append(dev["id"])
        events.append(("state_change", {"state": "subscribed", "device_id": dev["id"]}))
        stream.push(events)


def stream_remove(m: Model, account_id: str, stream_id: str, ident: str) -> None:
    with m.lock:
        stream = _own_stream(m, account_id, stream_id)
        dev = m.resolve_device(ident, account_id)
        if dev["id"] in stream.devices:
            stream.devices.remove(dev["id"])
            stream.push([("state_change", {"state": "unsubscribed", "device_id": dev["id"]})])


def drop_streams(m: Model) -> int:
    """End every stream abruptly, without a ``closed`` event (a fault)."""
    with m.lock:
        streams = list(m.streams.values())
        m.streams.clear()
    for s in streams:
        s.drop()
    return len(streams)


def close_streams(m: Model) -> None:
    """Send ``closed`` on every stream and forget them."""
    with m.lock:
        streams = list(m.streams.values())
        m.streams.clear()
    for s in streams:
        s.close()


ROUTES = [
    Route("GET", "devices/*/logs", device_logs, many=True),
    Route("POST", "logstream", create_stream, kind="logstream"),
    Route("PUT", "logstream/*/*", stream_add),
    Route("DELETE", "logstream/*/*", stream_remove),
]
