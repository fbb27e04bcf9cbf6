"""Simulated device behaviour.

Squirrel is **not** executed. A device "running" a deployment periodically emits the string
literals of the top-level ``server.log("...")`` calls found in its code (device code lines as
``server.log``, agent code lines as ``agent.log``). This module holds the source scanner, the
generators for ids/MACs/agent ids, the platform status lines, and the emitter thread.
"""

from __future__ import annotations

import random
import re
import string
import threading
from collections.abc import Callable

_AGENT_ALPHABET = string.ascii_letters + string.digits + "-_"
IMP_TYPES = ("imp004m", "imp005", "imp006")
SWVERSION = "cd1c6bb - release-43.14 - Mon Mar 18 10:21:52 2024 - production"


def new_device_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(16))


def new_mac(rng: random.Random) -> str:
    return "0c:2a:69:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def new_agent_id(rng: random.Random) -> str:
    return "".join(rng.choice(_AGENT_ALPHABET) for _ in range(12))


def new_ip(rng: random.Random) -> str:
    return f"93.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def agent_url(agent_id: str) -> str:
    return f"https://agent.electricimp.com/{agent_id}"


def storage_percent(device_code: str) -> str:
    """Deterministic, plausible 'program storage used' figure for some device code."""
    pct = 0.5 + len(device_code.encode("utf-8")) * 100.0 / (1024 * 1024)
    return f"{min(pct, 99.99):.2f}%"


def restart_lines(device_code: str | None, new_code: bool) -> list[tuple[str, str]]:
    """Platform status lines for a device (re)start; ``device_code`` None = no deployment."""
    lines: list[tuple[str, str]] = []
    if device_code is not None:
        lines.append(("status", "Agent restarted: reload."))
        if new_code:
            lines.append(
                (
                    "status",
                    f"Downloading new code; {storage_percent(device_code)} program storage used",
                )
            )
    lines.append(("status", "Device connected"))
    return lines


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "0": "\0"}
_CALL = re.compile(r"server\.log\s*\(\s*$")


def _read_string(src: str, i: int) -> tuple[str, int]:
    """Read a Squirrel string literal starting at ``src[i] == '"'``; return (value, end)."""
    out: list[str] = []
    i += 1
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n:
            out.append(_ESCAPES.get(src[i + 1], src[i + 1]))
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise ValueError("unterminated string")


def _read_verbatim(src: str, i: int) -> int:
    """Skip a verbatim string ``@"..."`` starting at ``src[i] == '@'``; return end."""
    i += 2
    n = len(src)
    while i < n:
        if src[i] == '"':
            if i + 1 < n and src[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    return n


def log_literals(source: str) -> list[str]:
    """String literals of top-level ``server.log("literal")`` calls, in source order.

    Top level means outside any ``{...}`` block (functions, classes, tables). Only calls
    whose single argument is one plain string literal count. Comments and strings are
    skipped correctly, so commented-out calls are ignored.
    """
    found: list[str] = []
    depth = 0
    i = 0
    n = len(source)
    code: list[str] = []  # code text since the last statement boundary at depth 0
    while i < n:
        ch = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/" or ch == "#":
            j = source.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "/" and nxt == "*":
            j = source.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if ch == "@" and nxt == '"':
            i = _read_verbatim(source, i)
            code.append(" S ")
            continue
        if ch == '"':
            try:
                value, end = _read_string(source, i)
            except ValueError:
                return found
            if depth == 0 and _CALL.search("".join(code[-40:])):
                rest = source[end:]
                m = re.match(r"\s*\)", rest)
                if m:
                    found.append(value)
            code.append(" S ")
            i = end
            continue
        if ch == "'":
            j = source.find("'", i + 2)
            i = n if j < 0 else j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        code.append(ch)
        if len(code) > 64:
            del code[:32]
        i += 1
    return found


def has_shutdown_handler(device_code: str) -> bool:
    return "server.onshutdown" in device_code


class DeviceEmitter(threading.Thread):
    """Calls ``tick`` every ``interval`` seconds until stopped."""

    def __init__(self, tick: Callable[[], None], interval: float) -> None:
        super().__init__(name="imptsh-sim-devices", daemon=True)
        self._tick = tick
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        if self.interval <= 0:
            return
        while not self._stop_event.wait(self.interval):
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the emitter must never die
                import sys
                import traceback

                traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        self._stop_event.set()
