"""Log streaming benchmark: imptsh's log tasks against the bundled simulator on loopback.

Measures
(a) throughput: lines per second from the simulator through a real `imptsh log stream`
    process to a pipe, every line checked to arrive once and in order (target >= 5,000/s);
(b) latency: from sending a line to the simulator's control plane to reading it from that
    pipe, one line at a time (target: median < 50 ms);
(c) completion under load: `complete_line` timed in-process, answered by the session's
    background fill (the shell's `CacheRefresher`), while a background log task of the same
    session receives about 1,000 lines per second (target: every call < 20 ms).

The simulator runs in its own process (as in `bench_sim.py`) and the lines of (c) are
pushed by another process, so the timings are imptsh's own. `measure()` returns the figures
(for `bench/run.py`); `python bench/bench_logs.py` prints them with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sim import PASSWORD, USER, Server  # noqa: E402 - a sibling script, not a package

THROUGHPUT_TARGET = 5_000.0
LATENCY_TARGET_MS = 50.0
COMPLETION_TARGET_MS = 20.0
MARKER = "bench-"


@dataclass
class Figures:
    lines: int = 0
    seconds: float = 0.0
    lost: int = 0
    repeated: int = 0
    out_of_order: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    completion_ms: list[float] = field(default_factory=list)
    completion_load: float = 0.0
    """Lines per second the session received while completion was timed."""

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


# -------------------------------------------------------------------------- plumbing


def _devices(base: str) -> list[str]:
    token = requests.post(
        base + "/auth", json={"id": USER, "password": PASSWORD}, timeout=10
    ).json()["access_token"]
    answer = requests.get(
        base + "/devices", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    answer.raise_for_status()
    return [d["id"] for d in answer.json()["data"]]


def _push(session: requests.Session, root: str, device: str, messages: list[str]) -> None:
    session.post(
        f"{root}/_sim/devices/{device}/logs", json={"lines": messages}, timeout=30
    ).raise_for_status()


class StreamProcess:
    """`imptsh log stream -d DEVICE` with its stdout on a pipe, read by a thread that notes
    when each bench line arrives."""

    def __init__(self, base: str, device: str, home: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
        env.update(
            IMPT_ENDPOINT=base, IMPT_USER=USER, IMPT_PASSWORD=PASSWORD, HOME=home, NO_COLOR="1"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imptsh", "log", "stream", "-d", device],
            env=env,
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.arrivals: list[tuple[int, float]] = []
        self.ready = threading.Event()
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self.ready.wait(30):
            self.close()
            raise SystemExit("imptsh log stream did not open: " + self.proc.stderr.read())

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if not self.ready.is_set():
                if raw.startswith("Press <Ctrl-C> to exit."):
                    self.ready.set()
                continue
            at = time.perf_counter()
            message = raw.rstrip("\n").rsplit(" ", 1)[-1]
            if message.startswith(MARKER):
                with self._new:
                    self.arrivals.append((int(message[len(MARKER) :]), at))
                    self._new.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._new:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._new.wait(left)
        return True

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -------------------------------------------------------------------------- (a) and (b)


def throughput_and_latency(
    base: str, root: str, device: str, *, lines: int, batch: int, samples: int
) -> Figures:
    figures = Figures()
    pusher = requests.Session()
    with tempfile.TemporaryDirectory() as home:
        stream = StreamProcess(base, device, home)
        try:
            start = time.perf_counter()
            for first in range(0, lines, batch):
                _push(
                    pusher,
                    root,
                    device,
                    [f"{MARKER}{n}" for n in range(first, min(first + batch, lines))],
                )
            complete = stream.wait_for(lines, timeout=max(30.0, lines / 1000))
            with stream._new:
                got = [n for n, _ in stream.arrivals]
                last = stream.arrivals[-1][1] if stream.arrivals else start
            figures.lines = len(set(got) & set(range(lines)))
            figures.seconds = last - start
            figures.lost = lines - figures.lines if complete else lines - len(set(got))
            figures.repeated = len(got) - len(set(got))
            figures.out_of_order = sum(1 for a, b in zip(got, got[1:], strict=False) if b < a)
            for k in range(samples):
                n = lines + k
                sent = time.perf_counter()
                _push(pusher, root, device, [f"{MARKER}{n}"])
                if not stream.wait_for(lines + k + 1, timeout=10):
                    break
                with stream._new:
                    arrived = stream.arrivals[-1][1]
                figures.latencies_ms.append((arrived - sent) * 1000)
                time.sleep(0.01)
        finally:
            stream.close()
    return figures


# -------------------------------------------------------------------------- (c)


PUSHER = """
import sys, time, requests
root, device, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
s = requests.Session()
tick, n = 0.05, 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    began = time.monotonic()
    count = int(rate * tick)
    s.post(f"{root}/_sim/devices/{device}/logs",
           json={"lines": [f"load-{n + i}" for i in range(count)]}, timeout=30)
    n += count
    time.sleep(max(0.0, tick - (time.monotonic() - began)))
"""


def completion_under_load(
    base: str, root: str, device: str, *, rate: float, calls: int
) -> tuple[list[float], float]:
    """`complete_line` timings (ms) while a background task receives `rate` lines/s, and
    the rate the task actually received during the timing."""
    from imptsh.api.auth import login_with_password
    from imptsh.api.client import Client, Credentials
    from imptsh.commands.completion import complete_line
    from imptsh.commands.registry import group
    from imptsh.commands.runner import run_line
    from imptsh.completion.refresher import CacheRefresher
    from imptsh.context import SessionLogin
    from imptsh.logs import StreamSink
    from imptsh.session import Session

    tokens = login_with_password(Client(base), USER, PASSWORD, lambda: "")
    credentials = Credentials(
        tokens["access_token"], tokens["expires_at"], refresh_token=tokens.get("refresh_token")
    )
    session = Session(session_login=SessionLogin(base, credentials))
    tasks = session.log_tasks
    tasks.background = True
    sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    tasks.sink = StreamSink(sink)
    quiet = io.StringIO()
    refresher = CacheRefresher(session)  # what completion answers from, as in the shell
    refresher.start()
    if not refresher.wait_until_idle(60) or refresher.index() is None:
        raise SystemExit(f"the background fill did not load the account: {refresher.status()}")
    if run_line(session, ["log", "stream", "-d", device], quiet) != 0:
        raise SystemExit("log stream did not start: " + quiet.getvalue())
    seconds = max(3.0, calls * 0.01 + 2.0)
    pusher = subprocess.Popen([sys.executable, "-c", PUSHER, root, device, str(rate), str(seconds)])
    timings: list[float] = []
    try:
        time.sleep(1.0)  # the load is flowing
        before = tasks.summary()[0].lines
        began = time.perf_counter()
        device_group = group("device")
        line = "device info --device "
        for _ in range(calls):
            t0 = time.perf_counter()
            offered = complete_line(refresher, device_group, "", line, len(line), len(line))
            timings.append((time.perf_counter() - t0) * 1000)
            if not offered:
                raise SystemExit("completion offered no device: it measured nothing")
            time.sleep(0.005)
        received = tasks.summary()[0].lines - before
        load = received / (time.perf_counter() - began)
    finally:
        pusher.wait(seconds + 30)
        tasks.stop_all()
        refresher.close()
        sink.close()
    return timings, load


# -------------------------------------------------------------------------- running


def measure(
    url: str | None = None,
    *,
    lines: int = 20_000,
    batch: int = 500,
    samples: int = 200,
    completion_calls: int = 300,
    completion_rate: float = 1_000.0,
) -> Figures:
    """Runs (a), (b) and (c) against a simulator of its own (or the one at `url`, which is
    reset) and returns the figures."""
    with Server("url" if url else "process", url) as server:
        requests.post(server.root_url + "/_sim/reset", timeout=10).raise_for_status()
        devices = _devices(server.base_url)
        figures = throughput_and_latency(
            server.base_url,
            server.root_url,
            devices[0],
            lines=lines,
            batch=batch,
            samples=samples,
        )
        figures.completion_ms, figures.completion_load = completion_under_load(
            server.base_url,
            server.root_url,
            devices[1],
            rate=completion_rate,
            calls=completion_calls,
        )
    return figures


def report(figures: Figures) -> str:
    lat = sorted(figures.latencies_ms)
    comp = sorted(figures.completion_ms)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    median_lat = statistics.median(lat) if lat else float("nan")
    worst_comp = comp[-1] if comp else float("nan")
    rows = [
        (
            "lines/s, simulator → imptsh log stream → pipe",
            f"{figures.rate:,.0f} ({figures.lines:,} lines, {figures.lost} lost, "
            f"{figures.repeated} repeated, {figures.out_of_order} out of order)",
            f"≥ {THROUGHPUT_TARGET:,.0f}, none lost",
            figures.rate >= THROUGHPUT_TARGET and figures.lost == 0 and figures.repeated == 0,
        ),
        (
            "push-to-print latency, ms",
            f"median {median_lat:.1f}, p95 {pct(lat, 0.95):.1f}, max {pct(lat, 1.0):.1f}",
            f"median < {LATENCY_TARGET_MS:.0f}",
            median_lat < LATENCY_TARGET_MS,
        ),
        (
            f"complete_line under {figures.completion_load:,.0f} lines/s, ms",
            f"median {statistics.median(comp) if comp else float('nan'):.2f}, "
            f"p95 {pct(comp, 0.95):.2f}, max {worst_comp:.2f}",
            f"every call < {COMPLETION_TARGET_MS:.0f}",
            worst_comp < COMPLETION_TARGET_MS,
        ),
    ]
    head = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{_dt.date.today().isoformat()}"
    )
    width = max(len(r[0]) for r in rows)
    lines = [head, ""]
    for name, value, target, ok in rows:
        lines.append(
            f"{name.ljust(width)}  {value}  [target {target}: {'met' if ok else 'MISSED'}]"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--completion-calls", type=int, default=300)
    parser.add_argument("--completion-rate", type=float, default=1_000.0)
    parser.add_argument("--url", help="an already running simulator (it is reset)")
    args = parser.parse_args(argv)
    figures = measure(
        args.url,
        lines=args.lines,
        batch=args.batch,
        samples=args.samples,
        completion_calls=args.completion_calls,
        completion_rate=args.completion_rate,
    )
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
