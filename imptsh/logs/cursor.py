"""Where a device's printed log ends, so that a reconnection neither repeats nor skips lines.

Log entries carry no id: only a timestamp (milliseconds, shared by every line logged in the
same millisecond, as a batch often is), a type and a message. A device's position is
therefore the newest timestamp printed plus the lines printed with that timestamp, in
order. History is complete up to the moment it is read, so after a reconnection the lines
it holds past that position are exactly the missed ones. The new server stream starts at
the moment the device was subscribed again, which falls somewhere before the history was
read: its first lines may repeat what history just supplied. Those repeats carry the
newest timestamp history showed or an older one; lines older than it are dropped, and
lines with that very timestamp are dropped while they repeat, in order, the lines history
had at that timestamp. (Two identical lines logged in the same millisecond on either side
of that moment are therefore shown once: the entries give nothing to tell them apart.)"""

from __future__ import annotations

from collections.abc import Iterable

from .lines import LogLine, ts_key


class Cursor:
    def __init__(self, ts: str = "", at_ts: Iterable[tuple[str, str]] = ()):
        self.ts = ts
        """The newest timestamp printed ("" = before the device's first line)."""
        self.at_ts: list[tuple[str, str]] = list(at_ts)
        """(type, msg) of the lines printed with timestamp `ts`, oldest first."""
        self._replay: list[tuple[str, str]] | None = None
        self._replay_pos: int | None = None

    @classmethod
    def from_newest(cls, newest_first: list[LogLine]) -> Cursor:
        """The position after the given history (newest entry first): its newest timestamp
        and every entry that has it."""
        if not newest_first:
            return cls()
        ts = newest_first[0].ts
        same = [line.content for line in newest_first if line.ts == ts]
        same.reverse()
        return cls(ts, same)

    def __repr__(self) -> str:
        return f"Cursor({self.ts!r}, {self.at_ts!r})"

    def record(self, line: LogLine) -> None:
        """`line` was printed."""
        if line.ts == self.ts:
            self.at_ts.append(line.content)
        elif ts_key(line.ts) > ts_key(self.ts):
            self.ts = line.ts
            self.at_ts = [line.content]
        # an older timestamp (a clock step back on the server) leaves the position as it is

    def accept(self, line: LogLine) -> bool:
        """Whether a line from the server stream is new (and records it if so)."""
        if self._replay is not None and self._repeats(line):
            return False
        self.record(line)
        return True

    def _repeats(self, line: LogLine) -> bool:
        replay = self._replay
        assert replay is not None
        if line.ts != self.ts:
            if ts_key(line.ts) < ts_key(self.ts):
                return True
            self._replay = None
            return False
        if self._replay_pos is None:
            try:
                self._replay_pos = replay.index(line.content) + 1
                return True
            except ValueError:
                self._replay = None
                return False
        if self._replay_pos < len(replay) and replay[self._replay_pos] == line.content:
            self._replay_pos += 1
            return True
        self._replay = None
        return False

    def missed(self, history: Iterable[LogLine]) -> list[LogLine]:
        """The lines of `history` (oldest first, complete from some point before this
        position up to now) that come after this position; records them and makes the
        next stream lines that repeat the newest of them be dropped."""
        skip = len(self.at_ts)
        start = ts_key(self.ts)
        found: list[LogLine] = []
        for line in history:
            key = ts_key(line.ts)
            if key < start:
                continue
            if line.ts == self.ts and skip:
                skip -= 1
                continue
            found.append(line)
        for line in found:
            self.record(line)
        self._replay = list(self.at_ts)
        self._replay_pos = None
        return found
