"""The simulated impCentral: the model bound to a store, a code runner and a fault table,
with the seeded default account and devices. Knows nothing about HTTP.

Everything a request can do lives in the resource modules (:mod:`imptsh.sim.resources`),
which take the backend as their first argument.
"""

from __future__ import annotations

from typing import Any

from .faults import Faults
from .model import Model, txn
from .resources import accounts, devices, factory, logs
from .runner import DEFAULT_PERIOD, CodeRunner, LiteralRunner, RunnerCallbacks, start_all
from .stats import RequestStats
from .store import Store


class Backend(Model):
    """Accounts, entities, devices, logs and log streams, in memory and in SQLite."""

    def __init__(
        self,
        db: str | None = None,
        *,
        user: str = "demo",
        password: str = "demo",
        email: str = "demo@example.com",
        devices: int = 3,
        device_name_prefix: str = Model.device_name_prefix,
        token_ttl: float = 3600,
        runner: CodeRunner | None = None,
        tick_seconds: float = DEFAULT_PERIOD,
        defer_start: bool = False,
    ) -> None:
        """``defer_start``: devices of a loaded ``db`` start running their code only at
        :meth:`start_loaded_code` (the simulator first learns where it serves agent URLs)."""
        super().__init__(
            Store(db),
            runner if runner is not None else LiteralRunner(0),
            Faults(),
            token_ttl=token_ttl,
        )
        self.defaults = {"user": user, "password": password, "email": email, "devices": devices}
        self.device_name_prefix = device_name_prefix
        self.tick_seconds = tick_seconds
        self.stats = RequestStats()
        self._closed = False
        self.runner.bind(RunnerCallbacks(log=self._runner_log, factory=self._runner_factory))
        if self.store.is_empty():
            self.reset()
        else:
            self.load()
            if not defer_start:
                self.start_loaded_code()

    def _runner_log(self, device_id: str, log_type: str, message: str) -> None:
        self.append_logs([(device_id, log_type, message)])

    def _runner_factory(self, device_id: str, event: str, data: dict[str, Any]) -> Any:
        return factory.on_event(self, device_id, event, data)

    def start_loaded_code(self) -> None:
        """Online devices that ran a deployment when the state was saved run it again."""
        with self.lock:
            codes = [devices.running_code(self, d, "restart") for d in self.t["device"].values()]
        start_all(self.runner, [code for code in codes if code is not None])

    def reset(self) -> None:
        """Forget everything (running code included) and re-seed the default account and
        devices."""
        with self.lock:
            logs.close_streams(self)
            self.wipe()
            self.faults.clear()
            self.stats.clear()
            d = self.defaults
            self._seed(d["user"], d["password"], d["email"], d["devices"])
            ticket = self.runner_calls.ticket()
        self.runner_calls.run(ticket, [self._stop_all_code])

    def _stop_all_code(self) -> None:
        for device_id in self.runner.running():
            self.runner.stop(device_id)

    @txn
    def _seed(self, user: str, password: str, email: str, count: int) -> None:
        acct = accounts.create_account(self, user, password, email, None)
        self.meta["default_account"] = acct["id"]
        for _ in range(count):
            devices.create_device(self, acct["id"], {})

    def tick(self) -> None:
        """One period (``tick_seconds``) of device time for every device running code."""
        for device_id in self.runner.running():
            self.runner.advance_clock(device_id, self.tick_seconds)

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
        logs.close_streams(self)
        self.runner.close()
        self.store.close()
