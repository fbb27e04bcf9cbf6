"""Embedding API (:func:`start`) and the ``imptsh-sim`` command line."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import squirrel
from .backend import Backend
from .http import API_PREFIX, App, SimHTTPServer
from .jsonapi import Links
from .resources.logs import close_streams
from .runner import DEFAULT_PERIOD, CodeRunner, LiteralRunner

RUNNER_NAMES = ("auto", "squirrel", "literal")
RunnerChoice = CodeRunner | Callable[[], CodeRunner] | str | None
MAX_SPEED = 10_000.0


class RunnerUnavailable(Exception):
    """The Squirrel runner was asked for and cannot run here (the message says why)."""


def literal_notice(reason: str) -> str:
    """What the simulator says once when it falls back to the literal runner."""
    return (
        f"device and agent code is not executed ({reason}); simulated devices only repeat "
        'the string literals of their code\'s top-level server.log("...") calls.'
    )


def make_runner(
    runner: RunnerChoice, log_interval: float, speed: float = 1.0
) -> tuple[CodeRunner, str | None]:
    """The code runner to use and, when the Squirrel runner was wanted but cannot run, the
    one-line notice saying so.

    ``runner``: None or ``"auto"`` (the Squirrel runner when the VM is available, else a
    :class:`LiteralRunner` emitting every ``log_interval`` seconds), ``"squirrel"`` (that
    runner or :class:`RunnerUnavailable`), ``"literal"``, a :class:`CodeRunner`, or a class /
    zero-argument factory making one. ``speed``: device clocks run that many times faster
    than real time (the named runners only)."""
    if not 0 < speed <= MAX_SPEED:
        raise ValueError(f"speed must be a number above 0 and at most {MAX_SPEED:g}, not {speed!r}")
    if runner is None or isinstance(runner, str):
        name = runner or "auto"
        if name not in RUNNER_NAMES:
            raise ValueError(f"runner must be one of {', '.join(RUNNER_NAMES)}, not {name!r}")
        if name == "literal":
            return LiteralRunner(log_interval, speed), None
        reason = squirrel.unavailable_reason()
        if reason is None:
            try:
                return squirrel.SquirrelRunner(speed=speed), None
            except (OSError, RuntimeError) as exc:  # the fork server could not start
                reason = f"the Squirrel runner could not start: {exc}"
        if name == "squirrel":
            raise RunnerUnavailable(reason)
        return LiteralRunner(log_interval, speed), literal_notice(reason)
    if isinstance(runner, type) or not hasattr(runner, "bind"):
        return runner(), None  # a class or a factory function
    return runner, None


class Simulator:
    """A running simulator: HTTP server thread + backend (+ its code runner's threads)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        db: str | None,
        user: str,
        password: str,
        email: str,
        devices: int,
        token_ttl: float,
        device_name_prefix: str = "myDevice",
        log_interval: float,
        rate_limit: int = 0,
        runner: RunnerChoice = None,
        speed: float = 1.0,
    ) -> None:
        code_runner, self.runner_notice = make_runner(runner, log_interval, speed)
        """One line saying that device code is not executed, and why (None when it is)."""
        try:
            self.backend = Backend(
                db,
                user=user,
                password=password,
                email=email,
                devices=devices,
                device_name_prefix=device_name_prefix,
                token_ttl=token_ttl,
                runner=code_runner,
                tick_seconds=log_interval if log_interval > 0 else DEFAULT_PERIOD,
                defer_start=True,
            )
        except BaseException:
            code_runner.close()
            raise
        self.app = App(self.backend, rate_limit=rate_limit)
        try:
            self.httpd = SimHTTPServer((host, port), self.app)
        except BaseException:
            self.backend.close()
            raise
        self.host = host
        self.port: int = self.httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.root_url = f"http://{shown}:{self.port}"
        self.base_url = self.root_url + API_PREFIX
        self.app.default_links = Links(self.base_url, self.root_url)
        # Code asking for its own agent URL gets one it can be reached at.
        reachable = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, shown)
        self.backend.agent_root = f"http://{reachable}:{self.port}"
        self.backend.start_loaded_code()
        self._serve = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._stop_lock = threading.Lock()
        self._stopped = False
        # The listening socket is bound and listening before the thread starts, so the
        # server accepts connections as soon as this constructor returns.
        self._serve.start()

    @property
    def runner(self) -> CodeRunner:
        return self.backend.runner

    def reset(self) -> None:
        """Same effect as ``POST /_sim/reset``."""
        self.backend.reset()

    def stop(self) -> None:
        """Close streams, stop threads, close the database. Idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self.app.stopping.set()
        close_streams(self.backend)
        self.app.wait_streams_finished(2.0)  # let writers send "closed" before cutting sockets
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_all_connections()
        self._serve.join(timeout=5)
        self.backend.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    db: str | None = None,
    user: str = "demo",
    password: str = "demo",
    email: str = "demo@example.com",
    devices: int = 3,
    token_ttl: float = 3600,
    log_interval: float = 5.0,
    rate_limit: int = 0,
    runner: RunnerChoice = None,
    device_name_prefix: str = "myDevice",
    speed: float = 1.0,
) -> Simulator:
    """Start a simulator in background threads; returns once it accepts connections.

    ``runner`` runs device and agent code (see :func:`make_runner`): by default the Squirrel
    runner when the VM is installed, else a :class:`LiteralRunner` emitting every
    ``log_interval`` seconds (``runner_notice`` then says why). ``speed``: device clocks run
    that many times faster than real time. The simulator owns the runner from then on (it
    closes it on stop).
    The seeded devices are named ``<device_name_prefix>1`` .. ``<device_name_prefix><devices>``."""
    return Simulator(
        host=host,
        port=port,
        db=db,
        user=user,
        password=password,
        email=email,
        devices=devices,
        token_ttl=token_ttl,
        log_interval=log_interval,
        rate_limit=rate_limit,
        runner=runner,
        device_name_prefix=device_name_prefix,
        speed=speed,
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imptsh-sim", description="A local simulator of the impCentral API v5."
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (0 = pick a free one)")
    p.add_argument("--db", default=None, help="SQLite file that keeps state across restarts")
    p.add_argument("--user", default="demo", help="username of the seeded account (demo)")
    p.add_argument("--password", default="demo", help="password of the seeded account (demo)")
    p.add_argument("--email", default="demo@example.com", help="email of the seeded account")
    p.add_argument("--devices", type=int, default=3, help="number of seeded devices (3)")
    p.add_argument(
        "--device-name-prefix",
        default="myDevice",
        metavar="PREFIX",
        help="seeded devices are named PREFIX1, PREFIX2, ... (myDevice)",
    )
    p.add_argument("--token-ttl", type=float, default=3600, help="access token lifetime (s)")
    p.add_argument(
        "--log-interval",
        type=float,
        default=5.0,
        help="the literal runner's period: seconds between the periodic log lines of devices "
        "that do not execute their code (0 = only when the control plane moves their clocks)",
    )
    p.add_argument(
        "--runner",
        choices=RUNNER_NAMES,
        default="auto",
        help="what runs device and agent code: squirrel (a Squirrel VM, needs "
        "pip install 'imptsh[squirrel]'), literal (only repeats top-level server.log "
        "strings) or auto (squirrel when installed; the default)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help=f"device clocks run this many times faster than real time (1; at most {MAX_SPEED:g})",
    )
    p.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="enforce N requests per second per client with 429s (0 = off, the default)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.devices < 0:
        print("imptsh-sim: --devices must be >= 0", file=sys.stderr)
        return 2
    if not 0 < len(args.device_name_prefix) <= 60:
        print("imptsh-sim: --device-name-prefix takes 1 to 60 characters", file=sys.stderr)
        return 2
    if not 0 < args.speed <= MAX_SPEED:
        print(
            f"imptsh-sim: --speed takes a number above 0 and at most {MAX_SPEED:g}, "
            f"not {args.speed:g}",
            file=sys.stderr,
        )
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sim = start(
            host=args.host,
            port=args.port,
            db=args.db,
            user=args.user,
            password=args.password,
            email=args.email,
            devices=args.devices,
            token_ttl=args.token_ttl,
            log_interval=args.log_interval,
            rate_limit=args.rate_limit,
            device_name_prefix=args.device_name_prefix,
            runner=args.runner,
            speed=args.speed,
        )
    except RunnerUnavailable as exc:
        print(f"imptsh-sim: --runner squirrel cannot run here: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"imptsh-sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if sim.runner_notice:
        print(f"imptsh-sim: {sim.runner_notice}", file=sys.stderr, flush=True)
    print(f"imptsh-sim listening on {sim.base_url}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
