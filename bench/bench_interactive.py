"""Interactive-shell benchmark: Tab completion latency with many devices, and the time from
starting `imptsh` to its first prompt.

1. Completion. A simulator runs in a process of its own with N devices (default 10,000,
   seeded through its control plane); a shell in this process logs in, its background fill
   loads every entity, then Tab is pressed on `device info --device <prefix>` for prefixes
   of names, ids, MAC addresses and the empty word, through cmd2's completer as the prompt
   calls it. Reported: the fill's duration, the memory it kept (RSS growth), and the
   latency median and 95th percentile, at rest and while a refill of all N devices runs.
   Goal: p95 <= 20 ms.
2. Start-up. `imptsh --no-rc` (and `imptsh --sim --no-rc`) on a pseudo-terminal, from the
   fork to the moment the prompt text arrives (cursor position requests are answered as a
   terminal would). The package is byte-compiled first, as an installation leaves it
   (`--no-compile` measures whatever is there). Goal: median <= 0.4 s.

Usage: .venv/bin/python bench/bench_interactive.py [--devices N] [--samples N] [--runs N]
The functions `bench_completion` and `bench_startup` return table rows for other scripts.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as _dt
import gc
import io
import os
import platform
import pty
import random
import re
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
COMPLETION_GOAL_MS = 20.0
STARTUP_GOAL_S = 0.4
PROMPT = re.compile(rb"imptsh[^\n>]*>")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Row:
    name: str
    value: str
    goal: str = ""
    ok: bool | None = None


# -- a simulator of its own ---------------------------------------------------------------


class SimProcess:
    """`imptsh-sim` in a process of its own (so that its work does not share this one's GIL)."""

    def __enter__(self) -> SimProcess:
        cmd = [
            sys.executable,
            "-c",
            "import sys; from imptsh.sim.server import main; sys.exit(main())",
            "--port",
            "0",
            "--log-interval",
            "0",
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"listening on (http://\S+/v5)", line)
        if not found:
            self.proc.kill()
            raise SystemExit(f"imptsh-sim did not start: {line}")
        self.base_url = found.group(1)
        self.root_url = self.base_url.removesuffix("/v5")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def seed_devices(self, total: int) -> None:
        seed_devices(self.root_url, total)


class RunningSim:
    """A simulator someone else started (`run.py`'s): reset before and after use."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url.removesuffix("/v5")

    def __enter__(self) -> RunningSim:
        requests.post(f"{self.root_url}/_sim/reset", timeout=60).raise_for_status()
        return self

    def __exit__(self, *exc: object) -> None:
        requests.post(f"{self.root_url}/_sim/reset", timeout=60).raise_for_status()

    def seed_devices(self, total: int) -> None:
        seed_devices(self.root_url, total)


def seed_devices(root_url: str, total: int) -> None:
    """`total` devices in all (the simulator starts with 3)."""
    left = total - 3
    while left > 0:
        batch = min(left, 1000)
        answer = requests.post(f"{root_url}/_sim/devices", json={"count": batch}, timeout=120)
        answer.raise_for_status()
        left -= batch


# -- completion latency -------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _prefixes(devices: list[dict], samples: int, rng: random.Random) -> list[str]:
    """What a user types before Tab: beginnings of names, ids and MACs, and nothing."""
    prefixes = [""]
    while len(prefixes) < samples:
        device = rng.choice(devices)
        attrs = device.get("attributes") or {}
        value = rng.choice(
            [attrs.get("name") or device["id"], device["id"], attrs.get("mac_address") or ""]
        )
        prefixes.append(value[: rng.randint(1, max(1, len(value)))])
    return prefixes


def bench_completion(
    devices: int = 10_000, samples: int = 300, url: str | None = None
) -> list[Row]:
    """Tab latency against a simulator with `devices` devices (see the module docstring):
    one of its own, or the one at `url` (reset before and after)."""
    saved_home, saved_cwd = os.environ.get("HOME"), os.getcwd()
    try:
        return _bench_completion(devices, samples, url)
    finally:
        os.chdir(saved_cwd)
        if saved_home is not None:
            os.environ["HOME"] = saved_home


def _bench_completion(devices: int, samples: int, url: str | None) -> list[Row]:
    from imptsh.session import Session
    from imptsh.shell import ImptShell

    rows: list[Row] = []
    with RunningSim(url) if url else SimProcess() as sim, tempfile.TemporaryDirectory() as home:
        sim.seed_devices(devices)
        os.environ["HOME"] = home
        os.chdir(home)
        shell = ImptShell(Session(env=os.environ, home=Path(home)), stdout=io.StringIO())
        shell.onecmd_plus_hooks(f"auth login -e {sim.base_url} -u demo -w demo")
        gc.collect()
        before = _rss_mb()
        started = time.perf_counter()
        shell.refresher.start()
        if not shell.refresher.wait_until_idle(600):
            raise SystemExit("the background fill did not finish")
        filled = time.perf_counter() - started
        gc.collect()
        kept = _rss_mb() - before
        cache = shell.session.cache(shell.session.context())
        count = len(cache.all("device"))
        rows.append(Row(f"background fill of {count:,} devices (all kinds)", f"{filled:.2f} s"))
        rows.append(Row("memory kept by the cache and the index (RSS growth)", f"{kept:.0f} MB"))
        prefixes = _prefixes(cache.all("device"), samples, random.Random(7))
        at_rest, offered = _tab_latencies(shell, prefixes)
        rows.extend(_latency_rows("Tab on `device info --device <prefix>`", at_rest))
        rows.append(
            Row(
                "  candidates per Tab (median, at most 100 shown)",
                f"{statistics.median(offered):.0f}",
            )
        )
        shell.refresher.refresh()
        busy: list[float] = []
        while shell.refresher.wait_until_idle(0) is False or not busy:
            latencies, _ = _tab_latencies(shell, prefixes[:50])
            busy.extend(latencies)
            if shell.refresher.wait_until_idle(0):
                break
        rows.extend(_latency_rows("Tab while all devices are fetched again", busy))
        shell.refresher.close()
    return rows


def _tab_latencies(shell: object, prefixes: list[str]) -> tuple[list[float], list[int]]:
    latencies, offered = [], []
    for prefix in prefixes:
        line = f"device info --device {prefix}"
        begidx = len(line) - len(prefix)
        started = time.perf_counter()
        found = shell.complete(prefix, line, begidx, len(line))
        latencies.append((time.perf_counter() - started) * 1000)
        offered.append(len(found))
    return latencies, offered


def _latency_rows(name: str, latencies: list[float]) -> list[Row]:
    p95 = _percentile(latencies, 0.95)
    return [
        Row(f"{name}: median", f"{statistics.median(latencies):.2f} ms"),
        Row(
            f"{name}: p95 ({len(latencies)} presses)",
            f"{p95:.2f} ms",
            f"<= {COMPLETION_GOAL_MS:.0f} ms",
            p95 <= COMPLETION_GOAL_MS,
        ),
    ]


# -- start-up -------------------------------------------------------------------------------


def time_to_prompt(argv: list[str], home: str, timeout: float = 20.0) -> float:
    """Seconds from starting `argv` on a pseudo-terminal until the prompt text is shown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT")}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", TERM="xterm-256color")
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes imptsh
        os.chdir(home)
        os.execvpe(argv[0], argv, env)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            if b"\x1b[6n" in chunk:  # where is the cursor? (a terminal answers at once)
                os.write(fd, b"\x1b[1;1R")
            seen += chunk
            if PROMPT.search(ANSI.sub(b"", seen)):
                return time.perf_counter() - started
        raise RuntimeError(f"no prompt from {argv}: {seen[-300:]!r}")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def bench_startup(runs: int = 15, compile_first: bool = True) -> list[Row]:
    """Median and worst time to the first prompt, with and without `--sim`."""
    if compile_first:
        compileall.compile_dir(REPO / "imptsh", quiet=1)
    imptsh = str(Path(sys.executable).with_name("imptsh"))
    rows = []
    with tempfile.TemporaryDirectory() as home:
        for extra in ([], ["--sim"]):
            argv = [imptsh, *extra, "--no-rc"]
            time_to_prompt(argv, home)  # warm the file cache
            times = [time_to_prompt(argv, home) for _ in range(runs)]
            median = statistics.median(times)
            name = " ".join(["imptsh", *extra, "--no-rc"])
            rows.append(
                Row(
                    f"{name}: first prompt, median of {runs}",
                    f"{median:.3f} s",
                    f"<= {STARTUP_GOAL_S} s",
                    median <= STARTUP_GOAL_S,
                )
            )
            rows.append(Row(f"{name}: fastest / slowest", f"{min(times):.3f} / {max(times):.3f} s"))
    return rows


# -- report -----------------------------------------------------------------------------------


def machine_lines() -> list[str]:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"imptsh interactive benchmark, {now}",
        f"machine : {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, load {load}",
        f"python  : {platform.python_implementation()} {platform.python_version()}",
    ]


def table(rows: list[Row]) -> str:
    lines = [("measurement", "value", "goal", "")]
    for row in rows:
        verdict = "" if row.ok is None else ("ok" if row.ok else "MISSED")
        lines.append((row.name, row.value, row.goal, verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices in the account")
    parser.add_argument("--samples", type=int, default=300, help="Tab presses measured")
    parser.add_argument("--runs", type=int, default=15, help="starts measured per variant")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile first")
    parser.add_argument("--skip-completion", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    if not args.skip_startup:
        rows.extend(bench_startup(args.runs, compile_first=not args.no_compile))
    if not args.skip_completion:
        rows.extend(bench_completion(args.devices, args.samples))
    print("\n".join(machine_lines()))
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
