"""Every imptsh benchmark against one fresh simulator, in one table.

1. One-shot start-up (`bench_oneshot.py`): import times, `imptsh --version`, and
   `imptsh product list` next to a node stand-in for `impt product list`.
2. Session versus processes (`bench_session.py`): the Development Guide script's 50
   commands as one `imptsh SCRIPT` and as 50 processes, and the HTTP requests of each
   command (the simulator counts them) next to the fewest possible (the script's table).
3. Start-up to the first prompt, with and without `--sim` (`bench_interactive.py`).
4. Tab completion latency with 10,000 devices in the account (`bench_interactive.py`).
5. Log lines per second and push-to-print latency into a pipe, and completion while a
   log task receives lines (`bench_logs.py`).
6. Simulator throughput: authenticated GETs per second (`bench_sim.py`).
7. The Squirrel code runner starting devices (`bench_squirrel.py`, when the VM is installed).
8. Device code through the simulator (`bench_sim_code.py`, when the VM is installed): one
   `dg restart` of many devices until every device's code has logged, and devices logging
   steadily without a line lost.

The simulator runs in a process of its own (`imptsh-sim --log-interval 0`) and is reset
before each phase. Timings are medians of several runs; ratios and request counts are what
survive a noisy machine best. `--quick` makes every phase short (CI runs it so that this
script keeps working); its figures are not worth quoting.

Usage: .venv/bin/python bench/run.py [--quick] [--url BASE_URL]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_interactive  # noqa: E402 - sibling scripts, not a package
import bench_logs  # noqa: E402
import bench_oneshot  # noqa: E402
import bench_session  # noqa: E402
import bench_sim  # noqa: E402
import bench_sim_code  # noqa: E402
from bench_interactive import Row, table  # noqa: E402

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    oneshot_runs: int
    script_runs: int
    startup_runs: int
    devices: int
    tab_presses: int
    log_lines: int
    latency_samples: int
    completion_calls: int
    get_seconds: float
    squirrel_devices: int
    code_seconds: float
    install_standin: bool
    """Whether `npm ci` may install imp-central-api for the node stand-in."""


FULL = Sizes(15, 3, 15, 10_000, 300, 20_000, 200, 300, 4.0, 100, 5.0, True)
QUICK = Sizes(3, 1, 2, 300, 30, 2_000, 20, 40, 0.5, 5, 1.0, False)


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_lines(base_url: str, started: str, load: str) -> list[str]:
    """The machine, the date and the load (at the start and at the end of the run)."""
    node = "not installed"
    if shutil.which("node"):
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return [
        f"imptsh benchmarks, {started}",
        f"machine : {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, "
        f"load {load} at the start, {load_average()} at the end",
        f"python  : {platform.python_implementation()} {platform.python_version()}; node {node}",
        f"server  : imptsh-sim at {base_url}",
    ]


def oneshot_rows(base_url: str, root_url: str, sizes: Sizes) -> list[Row]:
    figures = bench_oneshot.measure(
        base_url, root_url, runs=sizes.oneshot_runs, install=sizes.install_standin
    )
    return bench_oneshot.rows(figures)


def startup_rows(sizes: Sizes) -> list[Row]:
    return bench_interactive.bench_startup(sizes.startup_runs)


def completion_rows(base_url: str, sizes: Sizes) -> list[Row]:
    return bench_interactive.bench_completion(sizes.devices, sizes.tab_presses, url=base_url)


def log_rows(base_url: str, sizes: Sizes) -> list[Row]:
    figures = bench_logs.measure(
        base_url,
        lines=sizes.log_lines,
        samples=sizes.latency_samples,
        completion_calls=sizes.completion_calls,
    )
    latencies = figures.latencies_ms
    completions = figures.completion_ms
    return [
        Row(
            "log lines/s, simulator -> imptsh log stream -> pipe",
            f"{figures.rate:,.0f} ({figures.lines:,} lines, {figures.lost} lost, "
            f"{figures.repeated} repeated, {figures.out_of_order} out of order)",
            f">= {bench_logs.THROUGHPUT_TARGET:,.0f}, none lost",
            figures.rate >= bench_logs.THROUGHPUT_TARGET and figures.lost == 0,
        ),
        Row(
            f"push-to-print latency, median / p95 ({len(latencies)} lines)",
            f"{statistics.median(latencies):.1f} / {_percentile(latencies, 0.95):.1f} ms",
            f"median < {bench_logs.LATENCY_TARGET_MS:.0f} ms",
            statistics.median(latencies) < bench_logs.LATENCY_TARGET_MS,
        ),
        Row(
            f"completion while a log task receives {figures.completion_load:,.0f} lines/s, "
            "median / p95 / max",
            f"{statistics.median(completions):.2f} / {_percentile(completions, 0.95):.2f} / "
            f"{max(completions):.2f} ms",
            f"every call < {bench_logs.COMPLETION_TARGET_MS:.0f} ms",
            max(completions) < bench_logs.COMPLETION_TARGET_MS,
        ),
    ]


def simulator_rows(base_url: str, root_url: str, sizes: Sizes) -> list[Row]:
    product, _ = bench_sim.setup_entities(base_url, root_url)
    token = bench_sim.login(base_url)
    paths = [f"/products/{product}", "/accounts/me"]
    found = []
    for client, threads in (("http.client", 4), ("requests", 1)):
        result = bench_sim.bench_gets(
            base_url, token, paths, threads, 100_000, sizes.get_seconds, client=client
        )
        value = f"{result.rate:,.0f} (p50 {statistics.median(result.latencies_ms):.2f} ms)"
        if client == "http.client":
            name = f"simulator: authenticated GETs/s ({threads} http.client connections)"
            goal = bench_sim.GET_TARGET
            found.append(Row(name, value, f">= {goal:,.0f}", result.rate >= goal))
        else:  # requests spends more of the shared CPUs than the server does
            found.append(Row("  the same through 1 requests.Session (client-bound)", value))
    return found


def squirrel_rows(sizes: Sizes) -> list[Row]:
    try:
        import bench_squirrel
    except ImportError as exc:  # the Squirrel VM (an optional extra) is not installed
        return [Row("Squirrel runner", f"not run: {exc}")]
    if not bench_squirrel.squirrel.available():
        return [Row("Squirrel runner", f"not run: {bench_squirrel.squirrel.unavailable_reason()}")]
    return [
        Row(f"Squirrel runner: {line}", "")
        for line in bench_squirrel.phase_start(sizes.squirrel_devices)
    ]


def device_code_rows(sizes: Sizes) -> list[Row]:
    """On a simulator of its own that runs device code (the shared one runs none)."""
    if not bench_sim_code.squirrel.available():
        reason = bench_sim_code.squirrel.unavailable_reason()
        return [Row("device code through the simulator", f"not run: {reason}")]
    return bench_sim_code.measure(sizes.squirrel_devices, sizes.code_seconds)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _phase(name: str, measure: Callable[[], T], reset: Callable[[], None]) -> T:
    """Runs one phase on a freshly reset simulator, saying on stderr what runs and for how
    long."""
    print(f"... {name}", file=sys.stderr, flush=True)
    reset()
    started = time.perf_counter()
    found = measure()
    print(f"    {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run of every phase")
    parser.add_argument("--url", help="an already running simulator (it is reset)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    with bench_sim.Server("url" if args.url else "process", args.url, log_interval=0) as server:
        base, root = server.base_url, server.root_url
        sim = bench_session.Simulator(base, root)
        started = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = load_average()
        rows: list[Row] = []
        rows += _phase("one-shot start-up", lambda: oneshot_rows(base, root, sizes), sim.reset)
        session = _phase(
            "session vs processes",
            lambda: bench_session.measure(base, root, runs=sizes.script_runs),
            sim.reset,
        )
        rows += bench_session.rows(session)
        rows += _phase("start-up to the first prompt", lambda: startup_rows(sizes), sim.reset)
        rows += _phase("completion", lambda: completion_rows(base, sizes), sim.reset)
        rows += _phase("log streams", lambda: log_rows(base, sizes), sim.reset)
        rows += _phase("simulator", lambda: simulator_rows(base, root, sizes), sim.reset)
        rows += _phase("Squirrel runner", lambda: squirrel_rows(sizes), sim.reset)
        rows += _phase("device code", lambda: device_code_rows(sizes), sim.reset)
        header = machine_lines(base, started, load)
    print("\n".join(header))
    print()
    print(table(rows))
    print()
    print("Requests per command of the Development Guide script (counted by the simulator):")
    print()
    print(bench_session.script_table(session))
    return 0


if __name__ == "__main__":
    sys.exit(main())
