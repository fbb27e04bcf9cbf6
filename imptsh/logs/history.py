"""Reading a device's log history (`GET /devices/{id}/logs`, newest first, paged) while the
device may still be logging.

Pages are numbered from the newest entry, so every line logged between two page requests
pushes the older entries one place further: the next page starts with entries the previous
one already ended with. `read_newest_first` removes that overlap (the longest run at the
start of a page that repeats the end of what was read), so each entry comes once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..api import resources
from ..api.client import Client
from .lines import LogLine, from_history, ts_key


def read_newest_first(
    client: Client, device_id: str, page_size: int, *, first_page: int = 1
) -> Iterator[list[LogLine]]:
    """The device's history page by page, newest first, without the entries a shifted page
    repeats; stops after the last page (or when the caller stops asking)."""
    previous: list[LogLine] = []
    number = first_page
    while True:
        entries, more = resources.device_log_page(client, device_id, number, page_size)
        page = [from_history(entry, device_id) for entry in entries]
        page = page[_overlap(previous, page) :]
        if page:
            yield page
            previous = (previous + page)[-page_size:]
        if not more:
            return
        number += 1


def _overlap(before: list[LogLine], page: list[LogLine]) -> int:
    """How many lines at the start of `page` repeat the end of `before`."""
    for size in range(min(len(before), len(page)), 0, -1):
        if page[:size] == before[-size:]:
            return size
    return 0


def newest_lines(client: Client, device_id: str, page_size: int) -> list[LogLine]:
    """The newest entries of the history, newest first, including every entry that shares
    the newest timestamp (so that a `Cursor` can be placed after them)."""
    found: list[LogLine] = []
    for page in read_newest_first(client, device_id, page_size):
        found.extend(page)
        if found[-1].ts != found[0].ts:
            break
    return found


@dataclass
class Catchup:
    """What the history holds after a position: the lines (oldest first), and the gap, if
    any, between the position and the oldest line the history still had."""

    lines: list[LogLine]
    gap: tuple[str, str] | None = None


def since(client: Client, device_id: str, ts: str, page_size: int, max_lines: int) -> Catchup:
    """The history from timestamp `ts` on (inclusive; "" = all of it), oldest first. When
    the history no longer reaches back to `ts` (trimmed by the server, or more than
    `max_lines` newer lines), `gap` names the interval whose lines are not all there."""
    start = ts_key(ts)
    newest_first: list[LogLine] = []
    reached = limited = False
    for page in read_newest_first(client, device_id, page_size):
        newest_first.extend(page)
        if ts and ts_key(page[-1].ts) < start:
            reached = True
            break
        if len(newest_first) >= max_lines:
            limited = True
            break
    gap = None
    if not reached and newest_first:
        oldest = newest_first[-1].ts
        if limited or (ts and ts_key(oldest) > start):
            gap = (ts, oldest)
    newest_first.reverse()
    return Catchup(newest_first, gap)
