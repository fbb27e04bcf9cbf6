"""Keeps the session's entity cache filled from impCentral, in a background thread, and the
completion index built from it, so that Tab always answers from memory.

The thread fills every kind of the current account right after start-up, a login or a `cd`
into another auth context; after each command it fetches again the kinds the command made
stale (the resource functions mark them: a collection that is no longer complete) and
re-indexes what changed; every `interval` seconds while the shell waits at the prompt it
fetches everything again, which brings in what others changed. It stores summaries (only
what identification and completion need) and swaps a new index in, so nothing the prompt or
Tab does ever waits for it.

It uses its own HTTP connection and its own copy of the access token, and never refreshes a
token itself (a command does that): no request of it shows in a command's `-z debug` output
or races a command's token refresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..api.client import (
    REFRESH_MARGIN_S,
    Client,
    Credentials,
    Exchange,
    RetryPolicy,
    new_http_session,
)
from ..api.errors import ApiError, ConnectionFailedError, ImpCentralError
from ..cache import EntityCache
from ..context import AuthContext, ContextError
from ..entities import ENTITIES
from ..session import Session
from .index import DEPENDS_ON, DESCRIPTION_ATTRS, KEY_ATTRS, CompletionIndex, Names, build_kind

Resource = dict[str, Any]

FILL_KINDS = ("account", "product", "dg", "device", "build", "webhook")
"""What the background fill lists, in this order (descriptions name parents: listed first).
Never login keys: a login key's id is the key itself, a secret no menu may show."""
INTERVAL_S = 60.0
MAX_PER_KIND = 50_000
"""At most this many entities of one kind are kept; more are left to identification."""
SIMULATOR_SERVER = "imptsh-sim"

# What the toolbar and the completion hints say about the fill.
OFF = "off"
NOT_LOGGED_IN = "not logged in"
WAITING = "waiting"  # no usable token yet / the token is about to expire
LOADING = "loading"
READY = "ready"
FAILED = "failed"


@dataclass(frozen=True)
class RefreshStatus:
    state: str
    note: str = ""
    """Why there are no (fresh) names: the error, or what to do."""
    loading: tuple[str, ...] = ()
    """The kinds being fetched now."""
    account: str | None = None
    """The logged-in account's username, once known."""
    endpoint: str | None = None
    simulator: bool = False
    """The endpoint is imptsh's simulator (`--sim`, or a server that says it is one)."""


class _Interrupted(Exception):
    """The fill stops: the shell closes, or the current account changed."""


class _Account:
    """What the refresher keeps for one account: its cache and the index built from it."""

    def __init__(self, context: AuthContext, cache: EntityCache):
        self.context = context
        self.cache = cache
        self.index = CompletionIndex({})
        self.indexed: dict[str, int] = {}  # kind -> cache generation the index was built from
        self.me: Resource | None = None
        self.simulator = False
        self.skipped: set[str] = set()  # kinds not fetched again until the next full fill
        self.filled_at: float | None = None


class CacheRefresher:
    """The background fill of one session. `after_command` is called by the shell after
    every command (with the auth context it resolved), `pause`/`resume` around commands;
    `index()` and `status()` are what completion and the toolbar read."""

    def __init__(
        self,
        session: Session,
        *,
        interval: float = INTERVAL_S,
        max_per_kind: int = MAX_PER_KIND,
        on_change: Callable[[], None] | None = None,
    ):
        self.session = session
        self.interval = interval
        self.max_per_kind = max_per_kind
        self.on_change = on_change
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wake = False  # a cycle is wanted
        self._full = False  # ... and it fetches everything
        self._running = False
        self._busy = False  # a command runs: no periodic fill
        self._target: tuple[AuthContext | None, str | None] | None = None  # None: resolve it
        self._account: _Account | None = None
        self._status = RefreshStatus(OFF)
        self._http: Any = None

    # -- what the shell calls ---------------------------------------------------------------

    def start(self) -> None:
        """Starts the thread; its first cycle finds the auth context itself (an `--sim`
        login may still be on its way) and fills everything."""
        with self._cond:
            if self._thread is not None:
                return
            self._wake = True
            self._thread = threading.Thread(target=self._run, name="imptsh-fill", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def after_command(self, context: AuthContext | None, problem: str | None = None) -> None:
        """A command ended; `context` is the auth context from now on (None when there is
        none: `problem` says why). Fetches what it made stale, or everything when the
        account changed."""
        with self._cond:
            self._target = (context, problem)
            self._wake = True
            self._cond.notify_all()

    def refresh(self) -> None:
        """Fetches everything again now (what the periodic fill does)."""
        with self._cond:
            self._wake = self._full = True
            self._cond.notify_all()

    def pause(self) -> None:
        """A command starts: the periodic fill waits until it ends."""
        with self._cond:
            self._busy = True

    def resume(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def index(self) -> CompletionIndex | None:
        """The current account's index (None when there is no account)."""
        account = self._account
        return account.index if account is not None else None

    def status(self) -> RefreshStatus:
        return self._status

    def wait_until_idle(self, timeout: float) -> bool:
        """Waits until no cycle runs or is due (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._wake or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._wake and not self._periodic_due():
                    self._cond.wait(self._until_periodic())
                if self._stopping:
                    return
                full = self._full or not self._wake
                target = self._target
                self._wake = self._full = False
                self._running = True
            try:
                self._cycle(target, full=full)
            except Exception as exc:  # noqa: BLE001 - the thread must live on
                self._set_status(FAILED, note=f"Names could not be loaded: {exc}")
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def _periodic_due(self) -> bool:
        account = self._account
        return (
            not self._busy
            and account is not None
            and account.filled_at is not None
            and time.monotonic() - account.filled_at >= self.interval
        )

    def _until_periodic(self) -> float | None:
        account = self._account
        if self._busy or account is None or account.filled_at is None:
            return None
        return max(0.0, account.filled_at + self.interval - time.monotonic())

    def _cycle(self, target: tuple[AuthContext | None, str | None] | None, *, full: bool) -> None:
        account = self._follow(target)
        if account is None:
            return
        if full:
            account.skipped.clear()
        try:
            self._fetch(account, full=full)
        except _Interrupted:
            pass
        except ConnectionFailedError as exc:
            self._set_status(FAILED, account, note=str(exc))
        except ApiError as exc:
            self._set_status(FAILED, account, note=f"Names could not be loaded: {exc}")
        self._reindex(account)

    def _follow(self, target: tuple[AuthContext | None, str | None] | None) -> _Account | None:
        """The account to fill: the one the shell reported, else the session's own."""
        if target is None:
            try:
                context, problem = self.session.context(), None
            except ContextError as exc:
                context, problem = None, exc.message
        else:
            context, problem = target
        if context is None:
            self._account = None
            self._set_status(NOT_LOGGED_IN, note=problem or "You are not logged in.")
            return None
        cache = self.session.cache(context)
        account = self._account
        if account is None or account.cache is not cache:
            account = _Account(context, cache)
            self._account = account
        else:
            account.context = context  # the same account; its token may be new
        return account

    def _fetch(self, account: _Account, *, full: bool) -> None:
        cache = account.cache
        kinds = [
            kind
            for kind in FILL_KINDS
            if full or (not cache.is_complete(kind) and kind not in account.skipped)
        ]
        if not kinds and account.me is not None:
            self._set_status(READY, account)
            return
        client = self._client(account)
        if client is None:
            return
        if account.me is None:
            account.me = self._me(client, account)
        for kind in kinds:
            self._set_status(LOADING, account, loading=(kind,))
            self._fill(client, account, kind)
        account.filled_at = time.monotonic()
        self._set_status(READY, account)

    def _client(self, account: _Account) -> Client | None:
        credentials = self.session.known_credentials(account.context)
        if credentials is None:
            self._set_status(
                WAITING, account, note="Names load once a command has logged in (IMPT_* login)."
            )
            return None
        if credentials.seconds_left() <= REFRESH_MARGIN_S:
            self._set_status(
                WAITING, account, note="The login is about to expire: names load after a command."
            )
            return None
        if self._http is None:
            self._http = new_http_session()
        return Client(
            account.context.endpoint,
            Credentials(credentials.access_token, credentials.expires_at),
            timeout=(5.0, 30.0),
            retry=RetryPolicy(attempts=2, base_s=0.5, cap_s=2.0, max_retry_after_s=5.0),
            session=self._http,
        )

    def _me(self, client: Client, account: _Account) -> Resource:
        def watch(exchange: Exchange) -> None:
            server = (exchange.response_headers or {}).get("Server", "")
            account.simulator = server.startswith(SIMULATOR_SERVER)

        client.observer = watch
        try:
            return client.get_resource("/accounts", "me")
        finally:
            client.observer = None

    def _fill(self, client: Client, account: _Account, kind: str) -> None:
        cache = account.cache
        changes = cache.changes(kind)
        summaries: list[Resource] = []
        shared: dict[tuple[str, str], dict[str, str]] = {}
        capped = False
        try:
            for resource in client.iter_list(ENTITIES[kind].collection):
                if len(summaries) % 100 == 0:
                    self._check(account)
                if len(summaries) >= self.max_per_kind:
                    capped = True
                    break
                if isinstance(resource, dict) and resource.get("id"):
                    summaries.append(summarize(kind, resource, shared))
        except ImpCentralError:
            account.skipped.add(kind)  # not for this account (a 403...): until the next full fill
            return
        if capped:
            account.skipped.add(kind)
        cache.store(
            kind, summaries, complete=not capped, summary=True, unless_changed_since=changes
        )

    def _check(self, account: _Account) -> None:
        """Stops the fill when the shell closes or has moved to another account."""
        if self._stopping:
            raise _Interrupted()
        target = self._target
        if target is not None:
            context = target[0]
            if context is None or self.session.cache(context) is not account.cache:
                raise _Interrupted()

    def _reindex(self, account: _Account) -> None:
        """Builds the index anew for the kinds that changed in the cache (and those whose
        descriptions name them) and swaps it in."""
        cache = account.cache
        generations = {kind: cache.generation(kind) for kind in FILL_KINDS}
        changed = {kind for kind in FILL_KINDS if account.indexed.get(kind) != generations[kind]}
        for kind in FILL_KINDS:  # in dependency order
            if any(parent in changed for parent in DEPENDS_ON.get(kind, ())):
                changed.add(kind)
        me_id = str(account.me["id"]) if account.me else None
        if not changed and account.index.me_id == me_id:
            return
        names = Names()
        resources = {kind: cache.all(kind) for kind in FILL_KINDS}
        for kind in ("account", "product", "dg"):
            names.add(kind, resources[kind])
        kinds = dict(account.index.kinds)
        for kind in FILL_KINDS:
            if kind in changed:
                kinds[kind] = build_kind(kind, resources[kind], names)
        account.index = CompletionIndex(kinds, me_id)
        account.indexed = generations
        self._changed()

    def _set_status(
        self,
        state: str,
        account: _Account | None = None,
        *,
        note: str = "",
        loading: tuple[str, ...] = (),
    ) -> None:
        if account is None:
            status = RefreshStatus(state, note)
        else:
            me = account.me or {}
            login = self.session.session_login
            status = RefreshStatus(
                state,
                note,
                loading,
                account=(me.get("attributes") or {}).get("username"),
                endpoint=account.context.endpoint,
                simulator=account.simulator
                or (login is not None and "simulator" in login.auth_type),
            )
        if status != self._status:
            self._status = status
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # noqa: BLE001 - a redraw that cannot happen is no error
                pass


def summarize(
    kind: str, resource: Mapping[str, Any], shared: dict[tuple[str, str], dict[str, str]]
) -> Resource:
    """What the cache keeps of an entity from a background fill: its identifiers, what its
    short view and its description show, and its relationships (each `{type, id}` shared
    with every other summary pointing to the same entity)."""
    entity = ENTITIES[kind]
    keep = {*KEY_ATTRS.get(kind, ()), *entity.list_attrs, *DESCRIPTION_ATTRS.get(kind, ())}
    attributes = resource.get("attributes") or {}
    relationships = {}
    for name, rel in (resource.get("relationships") or {}).items():
        if isinstance(rel, Mapping) and isinstance(rel.get("id"), str):
            key = (str(rel.get("type")), rel["id"])
            relationships[name] = shared.setdefault(key, {"type": key[0], "id": key[1]})
    return {
        "type": resource.get("type"),
        "id": resource["id"],
        "attributes": {name: attributes[name] for name in keep if name in attributes},
        "relationships": relationships,
    }
