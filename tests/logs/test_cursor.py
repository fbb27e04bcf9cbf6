"""The position of a device's printed log (`Cursor`) and the shifted-page overlap of history
reads: what keeps a reconnection from repeating or skipping lines. Timestamps have
millisecond resolution, so many lines share one; these cases are about exactly that."""

from __future__ import annotations

from imptsh.logs.cursor import Cursor
from imptsh.logs.history import _overlap
from imptsh.logs.lines import LogLine

DEV = "0123456789abcdef"
T1, T2, T3 = "2026-01-01T00:00:00.001Z", "2026-01-01T00:00:00.002Z", "2026-01-01T00:00:00.003Z"


def line(ts: str, msg: str, typ: str = "server.log") -> LogLine:
    return LogLine(DEV, ts, typ, msg)


def test_missed_skips_what_was_printed_at_the_same_millisecond() -> None:
    cursor = Cursor()
    for ln in (line(T1, "a"), line(T2, "b"), line(T2, "c")):
        assert cursor.accept(ln)
    history = [line(T1, "a"), line(T2, "b"), line(T2, "c"), line(T2, "d"), line(T3, "e")]
    assert [ln.msg for ln in cursor.missed(history)] == ["d", "e"]
    assert (cursor.ts, cursor.at_ts) == (T3, [("server.log", "e")])


def test_missed_from_an_empty_position_is_the_whole_history() -> None:
    history = [line(T1, "a"), line(T1, "b")]
    assert [ln.msg for ln in Cursor().missed(history)] == ["a", "b"]


def test_after_a_catch_up_the_new_stream_repeats_are_dropped() -> None:
    cursor = Cursor.from_newest([line(T1, "a")])
    # history read after the device was subscribed again: b, c (T2) and d (T3) were missed
    missed = cursor.missed([line(T1, "a"), line(T2, "b"), line(T2, "c"), line(T3, "d")])
    assert [ln.msg for ln in missed] == ["b", "c", "d"]
    # the new stream started between b and c: c and d repeat, e is new
    assert not cursor.accept(line(T2, "c"))
    assert not cursor.accept(line(T3, "d"))
    assert cursor.accept(line(T3, "e"))
    # from then on the stream is taken as it comes, repeats included
    assert cursor.accept(line(T3, "e"))


def test_a_new_line_in_the_newest_millisecond_is_not_taken_for_a_repeat() -> None:
    cursor = Cursor.from_newest([line(T1, "a")])
    cursor.missed([line(T1, "a"), line(T2, "b")])
    assert cursor.accept(line(T2, "z"))  # logged after history was read, same millisecond
    assert cursor.accept(line(T2, "b"))  # and the same text again is new too now


def test_from_newest_keeps_every_line_of_the_newest_timestamp_oldest_first() -> None:
    cursor = Cursor.from_newest([line(T2, "c"), line(T2, "b"), line(T1, "a")])
    assert (cursor.ts, cursor.at_ts) == (T2, [("server.log", "b"), ("server.log", "c")])
    assert [ln.msg for ln in cursor.missed([line(T2, "b"), line(T2, "c"), line(T2, "d")])] == ["d"]


def test_a_page_shifted_by_new_lines_overlaps_what_was_read() -> None:
    read = [line(T3, "e"), line(T3, "d"), line(T2, "c")]
    shifted = [line(T2, "c"), line(T1, "b"), line(T1, "a")]  # one line arrived in between
    assert _overlap(read, shifted) == 1
    assert _overlap(read, [line(T1, "b"), line(T1, "a")]) == 0
    assert _overlap([], shifted) == 0
