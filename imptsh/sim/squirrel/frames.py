"""Messages between the runner and its worker processes: length-prefixed JSON frames.

JSON rather than pickle because the workers run application code: whatever arrives from a worker
is data, never something that could execute in the simulator.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")


class FrameError(Exception):
    """A peer sent something that is not a frame."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise FrameError(f"message of {len(body)} bytes is larger than {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


class FrameReader:
    """Splits a byte stream into decoded frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_FRAME:
                raise FrameError(f"frame of {size} bytes announced")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            try:
                message = json.loads(body)
            except ValueError as exc:
                raise FrameError(f"undecodable frame: {exc}") from exc
            if not isinstance(message, dict):
                raise FrameError("a frame must hold a JSON object")
            frames.append(message)
        return frames


class LineReader:
    """Splits a byte stream into text lines (the process-exit notices)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        return [line.decode("ascii", "replace") for line in lines]


def send_blocking(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))
