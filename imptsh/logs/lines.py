"""Log lines: what a stream event or a history entry carries, and how impt prints it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..highlight import highlight_log_line

LOG_TYPES = (
    "server.log",
    "server.error",
    "server.sleep",
    "agent.log",
    "agent.error",
    "status",
    "lastexitcode",
    "powerstate",
    "firmware",
    "IDE.log",
)
"""The log types impCentral is known to send (filters accept these)."""


class LogFormatError(ValueError):
    """A stream message that is not a JSON log entry (impt's `Unexpected format`)."""

    def __init__(self, raw: str):
        super().__init__(f"Unexpected format of log stream message: {raw}")
        self.raw = raw


@dataclass(frozen=True, slots=True)
class LogLine:
    device_id: str
    ts: str
    type: str
    msg: str

    @property
    def content(self) -> tuple[str, str]:
        return (self.type, self.msg)

    def as_json(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "ts": self.ts, "type": self.type, "msg": self.msg}


def parse_message(data: str) -> LogLine:
    """A `message` event of a `format=json` stream."""
    try:
        entry = json.loads(data)
    except ValueError:
        raise LogFormatError(data) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("msg"), str):
        raise LogFormatError(data)
    return LogLine(
        str(entry.get("device_id") or ""),
        str(entry.get("ts") or ""),
        str(entry.get("type") or ""),
        entry["msg"],
    )


def from_history(entry: dict[str, Any], device_id: str) -> LogLine:
    """A `GET /devices/{id}/logs` entry (which carries no device id)."""
    return LogLine(
        str(entry.get("device_id") or device_id),
        str(entry.get("ts") or ""),
        str(entry.get("type") or ""),
        str(entry.get("msg") if entry.get("msg") is not None else ""),
    )


def ts_key(ts: str) -> tuple[float, str]:
    """Orders timestamps in time, whatever ISO 8601 precision they use; "" sorts first."""
    if not ts:
        return (float("-inf"), "")
    try:
        return (datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp(), ts)
    except ValueError:
        return (float("inf"), ts)


@dataclass(frozen=True)
class LineStyle:
    """How one task prints its lines: impt's output mode and whether to colour."""

    mode: str = "default"
    color: bool = False

    @property
    def json(self) -> bool:
        return self.mode == "json"

    def stream_line(self, line: LogLine) -> str:
        """`[<device id>] <ts> [<type>] <msg>` (impt's stream line), or one JSON object."""
        if self.json:
            return json.dumps(line.as_json(), ensure_ascii=False)
        prefix = f"[{line.device_id}] " if line.device_id else ""
        return self._colour(line.type, f"{prefix}{line.ts} [{line.type}] {line.msg}")

    def history_line(self, line: LogLine) -> str:
        """`<ts> [<type>] <msg>` (impt's `log get` line)."""
        return self._colour(line.type, f"{line.ts} [{line.type}] {line.msg}")

    def _colour(self, log_type: str, text: str) -> str:
        return highlight_log_line(log_type, text) if self.color else text
