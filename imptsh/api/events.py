"""Server-sent events read from an open streaming response (impCentral's log streams).

The bytes come from the response as soon as they arrive (`read1`, never waiting for a full
buffer); sseclient-py turns them into events. `EventStream.close()` shuts the socket down
for reading, so a thread blocked on the next event returns at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import sseclient
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import ReadTimeoutError

from .errors import ConnectionFailedError

CHUNK_SIZE = 65536


@dataclass(frozen=True)
class Event:
    """One server-sent event: its `event:` name (`message` when absent), its `data:` lines
    joined with newlines, and its `id:` if the server sent one."""

    name: str
    data: str
    id: str | None = None


class EventStream:
    """The events of one open response, in the order the server sent them. Iteration ends
    when the server ends the response or `close()` is called; a stream that goes silent for
    longer than the client's read timeout, or breaks, raises `ConnectionFailedError`."""

    def __init__(self, response: requests.Response, endpoint: str, read_timeout: float):
        self._response = response
        self._endpoint = endpoint
        self._read_timeout = read_timeout
        self._closed = threading.Event()
        self._events = sseclient.SSEClient(self._chunks()).events()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        event = next(self._events)
        return Event(event.event, event.data, event.id)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Ends the stream; safe to call from any thread, and more than once."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._response.raw.shutdown()  # wakes a reader blocked on the socket
        except (ValueError, RuntimeError, OSError):
            pass  # the connection is already gone
        self._response.close()

    def _chunks(self) -> Iterator[bytes]:
        raw = self._response.raw
        try:
            while not self._closed.is_set():
                try:
                    chunk = raw.read1(CHUNK_SIZE, decode_content=True)
                except Exception as exc:  # noqa: BLE001 - whatever a closed socket raises
                    if self._closed.is_set():
                        return
                    raise self._failure(exc) from None
                if not chunk:
                    return
                yield chunk
        finally:
            self._response.close()

    def _failure(self, exc: Exception) -> Exception:
        if isinstance(exc, ReadTimeoutError):
            cause = f"the event stream sent nothing for {self._read_timeout:g} seconds"
            return ConnectionFailedError(self._endpoint, cause)
        if isinstance(exc, TransportError | OSError):
            return ConnectionFailedError(self._endpoint, "the event stream was cut off")
        return exc
