"""The bundled simulator of `imptsh --sim`, started in a background thread.

Its loopback port is taken at once, so the banner can name the endpoint before anything
else happens; the simulator itself (its modules, its database, the demo login) starts when
`start()` is called, which an interactive shell does once its first prompt is on the
screen. Whatever needs the login before then (a startup file's command, a one-shot
command) waits for it, starting it if nobody has."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from .api.auth import login_with_password
from .api.client import Client, Credentials
from .context import ContextError, SessionLogin

SIM_AUTH_TYPE = "Bundled impCentral simulator (this session only; no auth file)"
HOST = "127.0.0.1"
API_PREFIX = "/v5"


class BundledSimulator:
    """One `--sim` simulator: `endpoint` and `login` exist at once, the server once started."""

    def __init__(self, devices: int):
        self.devices = devices
        # A bound but not listening socket keeps the port from being handed to anyone
        # else; the simulator binds it too (both set SO_REUSEADDR), then it is closed.
        self._reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._reservation.bind((HOST, 0))
        self.port: int = self._reservation.getsockname()[1]
        self.endpoint = f"http://{HOST}:{self.port}{API_PREFIX}"
        self.login = SessionLogin(self.endpoint, self, SIM_AUTH_TYPE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._server: Any = None
        self._credentials: Credentials | None = None
        self._error: str | None = None
        self._stopped = False
        self._notify: Callable[[str], None] | None = None

    def start(self, notify: Callable[[str], None] | None = None) -> None:
        """Starts the simulator and logs in, in a background thread (once). `notify` gets
        what the simulator says at start (that it cannot run device code, and why)."""
        with self._lock:
            if notify is not None:
                self._notify = notify
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(
                target=self._start_simulator, name="imptsh-sim-start", daemon=True
            )
            self._thread.start()

    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self) -> Credentials:
        """The demo login's credentials once the simulator is up."""
        self.start()
        if self._thread is None:
            raise ContextError("The bundled simulator has stopped.")
        self._done.wait()
        if self._credentials is None:
            raise ContextError(f"The bundled simulator could not start: {self._error}.")
        return self._credentials

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._done.wait()
        if self._server is not None:
            self._server.stop()
        self._reservation.close()

    def _start_simulator(self) -> None:
        try:
            from .sim.server import start  # only a --sim session loads the simulator

            self._server = start(host=HOST, port=self.port, devices=self.devices)
            self._reservation.close()
            if self._server.base_url != self.endpoint:
                raise RuntimeError(f"it listens on {self._server.base_url}, not {self.endpoint}")
            client = Client(self.endpoint)
            tokens = login_with_password(client, "demo", "demo", lambda: "")
            self._credentials = Credentials(
                tokens["access_token"],
                tokens["expires_at"],
                refresh_token=tokens.get("refresh_token"),
            )
            notice = self._server.runner_notice
            if notice and self._notify is not None:
                self._notify(f"Note: {notice[0].upper()}{notice[1:]}")
        except Exception as exc:  # noqa: BLE001 - reported to whoever waits for the login
            self._error = str(exc) or type(exc).__name__
        finally:
            self._done.set()
