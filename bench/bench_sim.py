"""Throughput benchmark for the bundled impCentral API simulator.

Measures, on loopback:

(a) simple authenticated GETs per second (``GET /v5/products/<id>`` and ``GET /v5/accounts/me``)
    over keep-alive ``requests.Session`` objects (one connection, then several threads each
    with its own connection), and the same over bare ``http.client`` connections, whose lower
    client-side cost shows more of the server's own capacity. Target: >= 1,000 requests/s.
(b) log lines per second delivered to one SSE log stream: a stream is opened, a device added,
    batches of lines are pushed through the control plane (``POST /_sim/devices/{d}/logs``)
    and a streaming reader counts lines until all of them have arrived. Target: >= 5,000/s.

By default the simulator is started as a separate process (``imptsh-sim --port 0``) so that
the benchmark client and the server do not share one interpreter; ``--url`` measures an
already running simulator instead, ``--in-process`` uses ``imptsh.sim.server.start``.
Every phase is bounded by a request count and a time budget; the whole run stops by itself
within about a minute.

Usage: .venv/bin/python bench/bench_sim.py [--threads N] [--lines N] [--url BASE_URL]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

USER, PASSWORD = "demo", "demo"
GET_TARGET = 1_000.0
LOG_TARGET = 5_000.0
MARKER = "bench-line-"


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    target: float | None
    unit: str
    note: str = ""
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


# --------------------------------------------------------------------------- server handling


class Server:
    """A simulator to measure: spawned with the CLI, started in-process, or given by URL."""

    def __init__(self, mode: str, url: str | None, *, log_interval: float | None = None) -> None:
        self.mode = mode
        self.base_url = url or ""
        self.log_interval = log_interval
        """Seconds between the simulated devices' own log lines (None: the default)."""
        self._proc: subprocess.Popen[str] | None = None
        self._sim = None

    def __enter__(self) -> Server:
        if self.mode == "url":
            return self
        if self.mode == "in-process":
            from imptsh.sim.server import start

            self._sim = start(
                host="127.0.0.1",
                port=0,
                db=None,
                user=USER,
                password=PASSWORD,
                email="demo@example.com",
                devices=3,
                token_ttl=3600,
                log_interval=5.0,
            )
            self.base_url = self._sim.base_url
            return self
        cmd = [
            sys.executable,
            "-c",
            "import sys; from imptsh.sim.server import main; sys.exit(main())",
            "--port",
            "0",
        ]
        if self.log_interval is not None:
            cmd += ["--log-interval", str(self.log_interval)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        found: list[str] = []
        seen: list[str] = []

        def pump() -> None:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                if not found:
                    seen.append(line)
                    m = re.search(r"listening on (http://\S+/v5)", line)
                    if m:
                        found.append(m.group(1))
            # keep draining so the server never blocks on a full pipe

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 15
        while not found and time.monotonic() < deadline and self._proc.poll() is None:
            time.sleep(0.05)
        if not found:
            self.__exit__(None, None, None)
            raise SystemExit("imptsh-sim did not announce its URL:\n" + "".join(seen))
        self.base_url = found[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sim is not None:
            self._sim.stop()
            self._sim = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None

    @property
    def root_url(self) -> str:
        return re.sub(r"/v5/?$", "", self.base_url)


# --------------------------------------------------------------------------- helpers


JSONAPI = {"Content-Type": "application/vnd.api+json"}


def login(base: str) -> str:
    r = requests.post(base + "/auth", json={"id": USER, "password": PASSWORD}, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def auth_session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({"Authorization": "Bearer " + token, **JSONAPI})
    return s


def setup_entities(base: str, root: str) -> tuple[str, str]:
    """Resets the simulator, creates a product and a development group with one device in it.

    Returns (product id, device id)."""
    requests.post(root + "/_sim/reset", timeout=10).raise_for_status()
    token = login(base)
    s = auth_session(token)
    name = f"bench-{int(time.time() * 1000)}"
    r = s.post(base + "/products", json={"data": {"type": "product", "attributes": {"name": name}}})
    r.raise_for_status()
    product = r.json()["data"]["id"]
    body = {
        "data": {
            "type": "development_devicegroup",
            "attributes": {"name": name},
            "relationships": {"product": {"type": "product", "id": product}},
        }
    }
    r = s.post(base + "/devicegroups", json=body)
    r.raise_for_status()
    dg = r.json()["data"]["id"]
    r = s.get(base + "/devices")
    r.raise_for_status()
    device = r.json()["data"][0]["id"]
    r = s.post(
        base + f"/devicegroups/{dg}/relationships/devices",
        json={"data": [{"type": "device", "id": device}]},
    )
    r.raise_for_status()
    s.close()
    return product, device


# --------------------------------------------------------------------------- (a) GETs


def bench_gets(
    base: str,
    token: str,
    paths: list[str],
    threads: int,
    max_requests: int,
    budget: float,
    client: str = "requests",
) -> Result:
    """Issues GETs round-robin over ``paths`` from ``threads`` keep-alive connections until
    ``max_requests`` are done in total or ``budget`` seconds have passed.

    ``client`` is ``requests`` (one ``requests.Session`` per thread) or ``http.client`` (one
    bare ``http.client.HTTPConnection`` per thread: far less client-side CPU per request, so
    the figure is closer to what the server itself can do)."""
    lock = threading.Lock()
    state = {"issued": 0, "errors": 0}
    latencies: list[list[float]] = [[] for _ in range(threads)]
    stop_at = [0.0]
    barrier = threading.Barrier(
        threads + 1, action=lambda: stop_at.__setitem__(0, time.monotonic() + budget)
    )
    parts = urlsplit(base)
    headers = {"Authorization": "Bearer " + token, **JSONAPI}

    def make_getter() -> tuple[object, object]:
        if client == "requests":
            session = auth_session(token)
            urls = [base + p for p in paths]
            return session, lambda i: session.get(urls[i % len(urls)]).status_code
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        targets = [parts.path + p for p in paths]

        def get(i: int) -> int:
            conn.request("GET", targets[i % len(targets)], headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status

        return conn, get

    def worker(idx: int) -> None:
        handle, get = make_getter()
        if get(0) != 200:  # opens the keep-alive connection before timing starts
            state["errors"] += 1
        barrier.wait()
        i = idx
        mine = latencies[idx]
        while time.monotonic() < stop_at[0]:
            with lock:
                if state["issued"] >= max_requests:
                    break
                state["issued"] += 1
            t0 = time.perf_counter()
            status = get(i)
            mine.append((time.perf_counter() - t0) * 1000.0)
            if status != 200:
                with lock:
                    state["errors"] += 1
            i += 1
        handle.close()

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join(budget + 10)
    elapsed = time.perf_counter() - t0
    flat = [x for per in latencies for x in per]
    note = f"{state['errors']} non-200" if state["errors"] else ""
    conns = "1 connection" if threads == 1 else f"{threads} threads x 1 connection"
    shown = " + ".join(re.sub(r"/products/[^/]+$", "/products/<id>", p) for p in paths)
    return Result(
        f"GET {shown} ({client}, {conns})",
        len(flat) - state["errors"],
        elapsed,
        GET_TARGET,
        "req/s",
        note,
        flat,
    )


# --------------------------------------------------------------------------- (b) log stream


def bench_logstream(
    base: str, root: str, token: str, device: str, total: int, batch: int, budget: float
) -> Result:
    s = auth_session(token)
    r = s.post(base + "/logstream")
    r.raise_for_status()
    stream_id = r.json()["data"]["id"]

    received = {"lines": 0, "opened": False, "subscribed": False}
    all_in = threading.Event()
    opened = threading.Event()
    subscribed = threading.Event()
    errors: list[str] = []
    marker = MARKER.encode()

    # http.client rather than requests: read1() hands over whatever bytes have arrived,
    # whether or not the response is chunked, which is what a streaming reader needs.
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=budget + 5)
    conn.request(
        "GET",
        f"{parts.path}/logstream/{stream_id}?format=json",
        headers={"Accept": "text/event-stream", "Cache-Control": "no-cache"},
    )
    sse = conn.getresponse()
    if sse.status != 200:
        raise SystemExit(f"GET /logstream/{stream_id} -> {sse.status}: {sse.read(200)!r}")

    def reader() -> None:
        buf = b""
        event = b""
        try:
            while True:
                chunk = sse.read1(65536)
                if not chunk:
                    break
                buf += chunk
                *complete, buf = buf.split(b"\n")
                for line in complete:
                    if line.startswith(b"event: "):
                        event = line[7:].strip()
                    elif line.startswith(b"data: "):
                        if event == b"state_change":
                            if b"opened" in line:
                                opened.set()
                            elif b"unsubscribed" not in line and b"subscribed" in line:
                                subscribed.set()
                        elif marker in line:
                            received["lines"] += 1
                            if received["lines"] >= total:
                                all_in.set()
                                return
                    elif line == b"":
                        event = b""
        except Exception as exc:  # connection closed at the end of the run
            if not all_in.is_set():
                errors.append(repr(exc))

    t_reader = threading.Thread(target=reader, daemon=True)
    t_reader.start()
    if not opened.wait(5):
        raise SystemExit("log stream: no 'opened' state_change within 5 s")
    s.put(base + f"/logstream/{stream_id}/{device}").raise_for_status()
    if not subscribed.wait(5):
        raise SystemExit("log stream: no 'subscribed' state_change within 5 s")

    push = requests.Session()
    url = root + f"/_sim/devices/{device}/logs"
    deadline = time.monotonic() + budget
    t0 = time.perf_counter()
    sent = 0
    while sent < total and time.monotonic() < deadline:
        n = min(batch, total - sent)
        lines = [{"type": "server.log", "msg": f"{MARKER}{sent + i}"} for i in range(n)]
        push.post(url, json={"lines": lines}, timeout=30).raise_for_status()
        sent += n
    all_in.wait(max(0.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - t0
    got = received["lines"]
    conn.close()
    push.close()
    s.close()
    note = "" if got >= total else f"only {got} of {sent} pushed lines arrived in time"
    if errors:
        note = (note + "; " if note else "") + "reader error: " + errors[0]
    return Result(
        f"log lines to 1 SSE stream (json, batches of {batch})",
        got,
        elapsed,
        LOG_TARGET,
        "lines/s",
        note,
    )


# --------------------------------------------------------------------------- report


def machine_lines(server: Server, mode: str) -> list[str]:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"imptsh simulator benchmark, {now}",
        f"machine : {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs",
        f"python  : {platform.python_implementation()} {platform.python_version()}",
        f"server  : {mode} at {server.base_url}",
    ]


def table(results: list[Result]) -> str:
    rows = [("measurement", "count", "seconds", "rate", "p50 ms", "p99 ms", "target", "")]
    for r in results:
        if r.latencies_ms:
            lat = sorted(r.latencies_ms)
            p50 = f"{statistics.median(lat):.2f}"
            p99 = f"{lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.2f}"
        else:
            p50 = p99 = "-"
        verdict = ""
        if r.target is not None:
            verdict = "ok" if r.rate >= r.target else "BELOW TARGET"
        if r.note:
            verdict = (verdict + " " if verdict else "") + f"({r.note})"
        rows.append(
            (
                r.name,
                str(r.count),
                f"{r.seconds:.2f}",
                f"{r.rate:,.0f} {r.unit}",
                p50,
                p99,
                f">= {r.target:,.0f}" if r.target else "",
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--url", help="base URL of a running simulator (…/v5); it will be reset")
    src.add_argument("--in-process", action="store_true", help="run the simulator in-process")
    ap.add_argument("--threads", type=int, default=4, help="client threads for the GET phase")
    ap.add_argument("--requests", type=int, default=6000, help="max GETs per GET phase")
    ap.add_argument("--seconds", type=float, default=8.0, help="time budget per GET phase")
    ap.add_argument("--lines", type=int, default=50000, help="log lines to push")
    ap.add_argument("--batch", type=int, default=500, help="log lines per control-plane POST")
    ap.add_argument("--log-seconds", type=float, default=20.0, help="time budget, log phase")
    args = ap.parse_args(argv)

    mode = "url" if args.url else ("in-process" if args.in_process else "subprocess (imptsh-sim)")
    server_mode = "url" if args.url else ("in-process" if args.in_process else "subprocess")
    results: list[Result] = []
    with Server(server_mode, args.url.rstrip("/") if args.url else None) as server:
        base, root = server.base_url, server.root_url
        product, device = setup_entities(base, root)
        token = login(base)
        paths = [f"/products/{product}", "/accounts/me"]
        half, short = args.requests // 2, args.seconds / 2
        results.append(bench_gets(base, token, paths, 1, half, short))
        results.append(bench_gets(base, token, paths, args.threads, args.requests, args.seconds))
        results.append(bench_gets(base, token, paths, 1, half, short, client="http.client"))
        results.append(
            bench_gets(base, token, paths, args.threads, args.requests, short, client="http.client")
        )
        results.append(
            bench_logstream(base, root, token, device, args.lines, args.batch, args.log_seconds)
        )
        print("\n".join(machine_lines(server, mode)))
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
