"""What a reconnection recovers: the lines the devices logged while the server stream was
down, read from their history after each device's position, and the one notice that says
how many there are and where lines may still be missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..api.client import Client, now_iso
from ..api.errors import ApiError, NotFoundError
from . import history
from .config import LogConfig
from .cursor import Cursor
from .lines import LogLine, ts_key


@dataclass
class Recovery:
    lines: list[LogLine] = field(default_factory=list)
    """The missed lines of every device, oldest first."""
    gaps: list[tuple[str, str, str]] = field(default_factory=list)
    """(device id, from, to): lines of the device after `from` and before `to` may be
    missing ("" = unknown)."""


def catch_up(
    client: Client,
    config: LogConfig,
    positions: list[tuple[str, Cursor | None]],
    lost_at: str,
) -> Recovery:
    """The lines after each device's position (each cursor moves past them and will drop
    the new stream's repeats). A device without a position (it had printed nothing and its
    history could not be read when it was added) or whose history cannot be read now
    leaves a gap; so does one whose history no longer reaches back to its position."""
    recovery = Recovery()
    for device_id, cursor in positions:
        if cursor is None:
            recovery.gaps.append((device_id, "", lost_at))
            continue
        try:
            found = history.since(
                client, device_id, cursor.ts, config.history_page_size, config.recover_max_lines
            )
        except NotFoundError:
            continue  # removed from the account meanwhile: nothing more to show
        except (ApiError, OSError):
            recovery.gaps.append((device_id, cursor.ts, now_iso()))
            continue
        recovery.lines.extend(cursor.missed(found.lines))
        if found.gap is not None:
            recovery.gaps.append((device_id, *found.gap))
    recovery.lines.sort(key=lambda line: ts_key(line.ts))
    return recovery


def reconnect_notice(
    cause: str, recovered: int, gaps: list[tuple[str, str, str]], dropped: list[str]
) -> str:
    """The one line printed after the stream was re-created."""
    plural = "" if recovered == 1 else "s"
    text = f"The log stream was lost ({cause}) and is open again; "
    if recovered:
        text += f"{recovered} missed line{plural} recovered from the devices' log history follow."
    else:
        text += "the devices' log history shows no missed line."
    if gaps:
        parts = []
        for device_id, start, end in gaps:
            if start and end:
                parts.append(f"device {device_id} between {start} and {end}")
            elif end:
                parts.append(f"device {device_id} up to {end}")
            else:
                parts.append(f"device {device_id} after {start}")
        text += " Lines may still be missing for " + "; ".join(parts) + "."
    if dropped:
        text += f" No longer streamed (unknown to the server): {', '.join(dropped)}."
    return text
