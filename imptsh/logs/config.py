"""Settings of the log machinery, read once per session from the environment.

impCentral keeps one log stream per account and a handful of devices per stream; the
device limit is the one number the rest of the code asks for here, never a literal."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEVICE_LIMIT_VAR = "IMPTSH_LOG_STREAM_DEVICES"
DEFAULT_DEVICE_LIMIT = 5  # impCentral API v5: at most 5 devices on one log stream


@dataclass(frozen=True)
class LogConfig:
    device_limit: int = DEFAULT_DEVICE_LIMIT
    """Devices one server stream carries (impCentral: 5)."""
    history_page_size: int = 100
    """Entries per `GET /devices/{id}/logs` page when catching up (the API's maximum)."""
    recover_max_lines: int = 1000
    """Missed lines fetched per device after a reconnection (impCentral keeps about 1000)."""
    paused_max_lines: int = 10_000
    """Lines a paused task holds for `resume`; older ones are dropped and counted."""
    reconnect_delays: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    """Seconds before each reconnection attempt; the last one repeats."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LogConfig:
        """The defaults, with `IMPTSH_LOG_STREAM_DEVICES` overriding the device limit (for a
        server whose limit differs); a value that is not a positive integer is ignored."""
        env = os.environ if env is None else env
        raw = (env.get(DEVICE_LIMIT_VAR) or "").strip()
        if raw.isdigit() and int(raw) > 0:
            return cls(device_limit=int(raw))
        return cls()
