"""The simulator's state: records in memory, transactions with undo, SQLite write-through.

The model lives in memory (``m.t[kind][id] -> record dict``) and is written through to SQLite
(:mod:`imptsh.sim.store`). Records are copy-on-write: a stored dict is never mutated, a change
stores a new dict. Every mutating resource function runs as one transaction (:func:`txn`): on
an :class:`ApiError` every in-memory change is undone and nothing is written, so a rejected
request never changes state. Calls to the code runner that a transaction asks for
(:meth:`Model.after_commit`) run after it commits, outside the lock, in commit order.
"""

from __future__ import annotations

import functools
import random
import secrets
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, not_found
from .faults import Faults
from .runner import CodeRunner, DeviceCode, start_all
from .store import LOG_KEEP, Store
from .streams import Event, LogStream

DEV = "development_devicegroup"
PRE_FF = "pre_factoryfixture_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
PRE_PROD = "pre_production_devicegroup"
FF = "factoryfixture_devicegroup"
DUT = "dut_devicegroup"
PROD = "production_devicegroup"
DG_TYPES = (DEV, PRE_FF, PRE_DUT, PRE_PROD, FF, DUT, PROD)
FIXTURE_TYPES = {PRE_FF: (PRE_PROD, PRE_DUT), FF: (PROD, DUT)}
PRODUCTION_TYPES = (PROD, PRE_PROD)
PRODUCTION_ENV_TYPES = (PROD, DUT, FF)
AGENT_PREFIX = "/_agent/"  # agent URLs: <root>/_agent/<agent_id>[/<path>]
WEBHOOK_DELIVERIES_KEPT = 1000

KINDS = (
    "account",
    "login_key",
    "refresh_token",
    "access_token",
    "product",
    "devicegroup",
    "device",
    "deployment",
    "webhook",
)

Record = dict[str, Any]
LogLine = tuple[str, str, str]  # (device_id, log type, message)


def now_iso(t: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if t is None else t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def new_uuid() -> str:
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def by_creation(recs: Iterable[Record]) -> list[Record]:
    """Records in creation order (every collection is listed this way)."""
    return sorted(recs, key=lambda r: r["seq"])


def txn(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn(model, ...)`` as one transaction (nested calls join the outer one)."""

    @functools.wraps(fn)
    def wrapper(m: Model, *args: Any, **kwargs: Any) -> Any:
        return m.transaction(fn, m, *args, **kwargs)

    return wrapper


class RunnerCalls:
    """Runs the runner calls of committed transactions outside the model lock, in the order
    the transactions committed (a ticket is drawn under the lock, at commit).

    Runner callbacks may be called from inside these calls; but a runner must not make one
    of them wait for a transaction that itself calls the runner (that one waits its turn)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._issued = 0
        self._served = 0

    def ticket(self) -> int:
        with self._cond:
            self._issued += 1
            return self._issued

    def run(self, ticket: int, calls: list[Callable[[], None]]) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._served == ticket - 1)
        try:
            for call in calls:
                try:
                    call()
                except Exception:  # noqa: BLE001 - a runner fault must not fail the request
                    print("imptsh-sim: code runner error", file=sys.stderr)
                    traceback.print_exc(file=sys.stderr)
        finally:
            with self._cond:
                self._served = ticket
                self._cond.notify_all()


class _Starts:
    """Devices whose code starts after a commit, handed to the runner together."""

    def __init__(self, runner: CodeRunner, code: DeviceCode) -> None:
        self.runner = runner
        self.codes = [code]

    def __call__(self) -> None:
        start_all(self.runner, self.codes)


class Model:
    """Records, device logs, log streams and the transaction machinery."""

    device_name_prefix = "myDevice"
    """New devices are named `<prefix>1`, `<prefix>2`, ... unless seeded with a name."""

    def __init__(
        self, store: Store, runner: CodeRunner, faults: Faults, *, token_ttl: float = 3600.0
    ) -> None:
        self.lock = threading.RLock()
        self.store = store
        self.runner = runner
        self.faults = faults
        self.token_ttl = float(token_ttl)
        self.rng = random.Random()
        self.t: dict[str, dict[str, Record]] = {k: {} for k in KINDS}
        self.meta: dict[str, Any] = {"seq": 0}
        self.logs: dict[str, deque[dict[str, Any]]] = {}
        self.log_seq: dict[str, int] = {}
        self.streams: dict[str, LogStream] = {}
        self.login_tokens: dict[str, tuple[str, float]] = {}
        self.by_mac: dict[str, str] = {}
        self.runner_calls = RunnerCalls()
        self.webhook_deliveries: deque[dict[str, Any]] = deque(maxlen=WEBHOOK_DELIVERIES_KEPT)
        self.agent_root: str | None = None
        """Where the simulator serves agent URLs (``http://HOST:PORT``), once it listens."""
        self._depth = 0
        self._undo: dict[tuple[str, str], Record | None] = {}
        self._meta_before: dict[str, Any] = {}
        self._pending_logs: list[LogLine] = []
        self._cleared_logs: set[str] = set()
        self._after: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ transactions
    def transaction(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` as one transaction; see :func:`txn`."""
        with self.lock:
            if self._depth:
                return fn(*args, **kwargs)
            self._begin()
            self._depth = 1
            error: ApiError | None = None
            try:
                result = fn(*args, **kwargs)
            except ApiError as exc:
                error, result = exc, None
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            if error is not None and not error.keep_changes:
                self._rollback()
                raise error
            calls = self._commit()
            ticket = self.runner_calls.ticket() if calls else 0
        if calls:
            self.runner_calls.run(ticket, calls)
        if error is not None:
            raise error
        return result

    def _begin(self) -> None:
        self._undo = {}
        self._meta_before = dict(self.meta)
        self._pending_logs = []
        self._cleared_logs = set()
        self._after = []

    def _rollback(self) -> None:
        for (kind, ident), old in self._undo.items():
            if old is None:
                self.t[kind].pop(ident, None)
            else:
                self.t[kind][ident] = old
        self.meta = self._meta_before
        self._undo = {}
        self._pending_logs = []
        self._cleared_logs = set()
        self._after = []
        self.rebuild_indexes()

    def _commit(self) -> list[Callable[[], None]]:
        puts = {key: self.t[key[0]].get(key[1]) for key in self._undo}
        meta = {k: v for k, v in self.meta.items() if self._meta_before.get(k) != v}
        for device_id in self._cleared_logs:
            self.logs.pop(device_id, None)
            self.log_seq.pop(device_id, None)
        entries, rows = self._log_entries(self._pending_logs)
        self.store.commit(puts, meta, rows, self._cleared_logs)
        calls = self._after
        self._undo = {}
        self._pending_logs = []
        self._cleared_logs = set()
        self._after = []
        self._deliver(entries)
        return calls

    def put(self, kind: str, rec: Record) -> Record:
        key = (kind, rec["id"])
        if key not in self._undo:
            self._undo[key] = self.t[kind].get(rec["id"])
        self.t[kind][rec["id"]] = rec
        if kind == "device":
            self.by_mac[rec["mac_address"]] = rec["id"]
        return rec

    def delete(self, kind: str, ident: str) -> None:
        key = (kind, ident)
        if key not in self._undo:
            self._undo[key] = self.t[kind].get(ident)
        rec = self.t[kind].pop(ident, None)
        if kind == "device" and rec is not None:
            self.by_mac.pop(rec["mac_address"], None)

    def update(self, kind: str, rec: Record, **changes: Any) -> Record:
        return self.put(kind, {**rec, **changes})

    def next_seq(self) -> int:
        self.meta["seq"] = self.meta.get("seq", 0) + 1
        return self.meta["seq"]

    def after_commit(self, call: Callable[[], None]) -> None:
        """Run ``call`` (a code-runner call) once this transaction has committed."""
        self._after.append(call)

    def start_after_commit(self, code: DeviceCode) -> None:
        """Start (or restart) a device's code once this transaction has committed; starts
        queued one after another reach the runner in one call (a group restart)."""
        last = self._after[-1] if self._after else None
        if isinstance(last, _Starts):
            last.codes.append(code)
        else:
            self._after.append(_Starts(self.runner, code))

    def rebuild_indexes(self) -> None:
        self.by_mac = {d["mac_address"]: d["id"] for d in self.t["device"].values()}

    # ------------------------------------------------------------------ device logs
    def emit(self, device_id: str, typ: str, msg: str) -> None:
        """Queue a log line; it reaches history and streams when the transaction commits."""
        self._pending_logs.append((device_id, typ, msg))

    def clear_logs(self, device_id: str) -> None:
        self._cleared_logs.add(device_id)

    def append_logs(self, lines: list[LogLine]) -> None:
        """Write log lines now (history, store, streams): the code runner's entry point."""
        with self.lock:
            entries, rows = self._log_entries(lines)
            if rows:
                self.store.commit({}, {}, rows)
            self._deliver(entries)

    def _log_entries(
        self, lines: list[LogLine]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, int, str, str, str]]]:
        entries: list[dict[str, Any]] = []
        rows: list[tuple[str, int, str, str, str]] = []
        for device_id, typ, msg in lines:
            if device_id not in self.t["device"]:
                continue
            seq = self.log_seq.get(device_id, 0) + 1
            self.log_seq[device_id] = seq
            entry = {"ts": now_iso(), "type": typ, "msg": msg, "device_id": device_id}
            self.logs.setdefault(device_id, deque(maxlen=LOG_KEEP)).append(entry)
            rows.append((device_id, seq, entry["ts"], typ, msg))
            entries.append(entry)
        return entries, rows

    def _deliver(self, lines: list[dict[str, Any]]) -> None:
        if not self.streams or not lines:
            return
        for stream in list(self.streams.values()):
            subscribed = set(stream.devices)
            batch: list[Event] = [
                ("message", self._stream_line(entry))
                for entry in lines
                if entry["device_id"] in subscribed
            ]
            if batch:
                stream.push(batch)

    def _stream_line(self, entry: dict[str, Any]) -> dict[str, Any]:
        dev = self.t["device"].get(entry["device_id"])
        env = "development"
        if dev and dev.get("devicegroup"):
            dg = self.t["devicegroup"].get(dev["devicegroup"])
            if dg and dg["type"] in PRODUCTION_ENV_TYPES:
                env = "production"
        return dict(entry, env=env)

    # ------------------------------------------------------------------ visibility
    def visible_owners(self, account_id: str) -> set[str]:
        """The accounts whose entities ``account_id`` sees: itself and its collaborations."""
        owners = {account_id}
        for acct in self.t["account"].values():
            if account_id in acct.get("collaborators", ()):
                owners.add(acct["id"])
        return owners

    def get_visible(self, kind: str, ident: str, account_id: str) -> Record:
        rec = self.t[kind].get(ident) if isinstance(ident, str) else None
        if rec is None or rec["owner"] not in self.visible_owners(account_id):
            raise not_found(kind, ident)
        return rec

    def resolve_device(self, ident: str, account_id: str | None) -> Record:
        """A device by id, MAC (any case) or agent id (assigned devices only)."""
        dev = None
        if isinstance(ident, str):
            dev = self.t["device"].get(ident)
            if dev is None:
                mac_id = self.by_mac.get(ident.lower())
                dev = self.t["device"].get(mac_id) if mac_id else None
            if dev is None and len(ident) == 12:
                dev = self.device_by_agent(ident)
        if dev is None or (
            account_id is not None and dev["owner"] not in self.visible_owners(account_id)
        ):
            raise not_found("device", ident)
        return dev

    def agent_url(self, agent_id: str) -> str | None:
        """The agent URL the simulator serves for ``agent_id`` (None before it listens)."""
        return self.agent_root + AGENT_PREFIX + agent_id if self.agent_root else None

    def device_by_agent(self, agent_id: str) -> Record | None:
        """The assigned device whose agent has this id (an unassigned device has no agent)."""
        for dev in self.t["device"].values():
            if dev.get("agent_id") == agent_id and dev.get("devicegroup"):
                return dev
        return None

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Read every record, meta value and log line from the store."""
        with self.lock:
            for kind, ident, data in self.store.load_entities():
                if kind in self.t:
                    self.t[kind][ident] = data
            self.meta = {"seq": 0, **self.store.load_meta()}
            for device_id, rows in self.store.load_logs().items():
                dq: deque[dict[str, Any]] = deque(maxlen=LOG_KEEP)
                for seq, ts, typ, msg in rows[-LOG_KEEP:]:
                    dq.append({"ts": ts, "type": typ, "msg": msg, "device_id": device_id})
                    self.log_seq[device_id] = seq
                self.logs[device_id] = dq
            self.rebuild_indexes()

    def wipe(self) -> None:
        """Forget every record, log line and login token (memory and store)."""
        with self.lock:
            self.store.wipe()
            self.t = {k: {} for k in KINDS}
            self.meta = {"seq": 0}
            self.logs = {}
            self.log_seq = {}
            self.login_tokens = {}
            self.by_mac = {}
            self.webhook_deliveries.clear()
