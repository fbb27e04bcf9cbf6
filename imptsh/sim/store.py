"""SQLite persistence for the simulator.

The backend keeps its whole model in memory and writes every change through to SQLite. One
API request is one SQLite transaction, committed before the response is sent, so killing the
process loses at most the request in flight. Entities are stored as JSON documents keyed by
``(kind, id)``; log lines live in their own table, trimmed to the newest ``LOG_KEEP`` per
device.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any

LOG_KEEP = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS logs (
    device_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    ts        TEXT NOT NULL,
    type      TEXT NOT NULL,
    msg       TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Store:
    """A thin write-through layer over one SQLite connection (guarded by a lock)."""

    def __init__(self, path: str | None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against process crashes (kill -9) in WAL mode.
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._closed = False

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def is_empty(self) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM entities").fetchone()
        return row[0] == 0

    def load_entities(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            rows = self._conn.execute("SELECT kind, id, data FROM entities").fetchall()
        for kind, ident, data in rows:
            yield kind, ident, json.loads(data)

    def load_meta(self) -> dict[str, Any]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def load_logs(self) -> dict[str, list[tuple[int, str, str, str]]]:
        out: dict[str, list[tuple[int, str, str, str]]] = {}
        with self._lock:
            rows = self._conn.execute(
                "SELECT device_id, seq, ts, type, msg FROM logs ORDER BY device_id, seq"
            ).fetchall()
        for device_id, seq, ts, typ, msg in rows:
            out.setdefault(device_id, []).append((seq, ts, typ, msg))
        return out

    def commit(
        self,
        puts: dict[tuple[str, str], dict[str, Any] | None],
        meta: dict[str, Any],
        logs: Iterable[tuple[str, int, str, str, str]],
        cleared_devices: Iterable[str] = (),
    ) -> None:
        """Write one transaction: entity upserts/deletes, meta values and new log lines."""
        logs = list(logs)
        cleared = list(cleared_devices)
        if not puts and not meta and not logs and not cleared:
            return
        with self._lock:
            if self._closed:
                return
            c = self._conn
            c.execute("BEGIN")
            try:
                for (kind, ident), value in puts.items():
                    if value is None:
                        c.execute("DELETE FROM entities WHERE kind=? AND id=?", (kind, ident))
                    else:
                        c.execute(
                            "INSERT OR REPLACE INTO entities(kind, id, data) VALUES (?,?,?)",
                            (kind, ident, json.dumps(value, separators=(",", ":"))),
                        )
                for key, value in meta.items():
                    c.execute(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)",
                        (key, json.dumps(value)),
                    )
                for device_id in cleared:
                    c.execute("DELETE FROM logs WHERE device_id=?", (device_id,))
                if logs:
                    c.executemany(
                        "INSERT OR REPLACE INTO logs(device_id, seq, ts, type, msg) "
                        "VALUES (?,?,?,?,?)",
                        logs,
                    )
                    newest: dict[str, int] = {}
                    for device_id, seq, _ts, _t, _m in logs:
                        newest[device_id] = max(seq, newest.get(device_id, 0))
                    for device_id, seq in newest.items():
                        c.execute(
                            "DELETE FROM logs WHERE device_id=? AND seq<=?",
                            (device_id, seq - LOG_KEEP),
                        )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def wipe(self) -> None:
        with self._lock:
            if self._closed:
                return
            c = self._conn
            c.execute("BEGIN")
            c.execute("DELETE FROM entities")
            c.execute("DELETE FROM logs")
            c.execute("DELETE FROM meta")
            c.execute("COMMIT")
