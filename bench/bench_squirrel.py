"""Benchmark of the Squirrel code runner (``imptsh/sim/squirrel``), on the real VM.

(a) start N devices (default 100), each with device and agent code that logs one line:
    time for the ``start()`` calls, time until every line has been delivered, and the memory
    each worker process adds (proportional set size, so shared pages are counted once).
(b) N devices each logging 10 lines per second (an ``imp.wakeup(0.1)`` loop) for S seconds:
    lines delivered per second and the CPU time the whole runner used (workers, zygote and the
    runner's own threads) per second of wall time.
(c) one device logging as fast as it can (100 lines per handler, handlers chained with
    ``imp.wakeup(0)``) for S seconds: lines delivered per second.

Every phase is bounded in time; the run ends by itself in well under a minute.

Usage: .venv/bin/python bench/bench_squirrel.py [--devices N] [--seconds S]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imptsh.sim import squirrel  # noqa: E402
from imptsh.sim.runner import DeviceCode, RunnerCallbacks  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self._cond = threading.Condition()

    def log(self, device_id: str, log_type: str, msg: str) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


def device(number: int, device_code: str, agent_code: str = "") -> DeviceCode:
    return DeviceCode(
        device_id=f"bench{number:04d}",
        mac_address=f"0c:2a:69:00:{number // 256:02x}:{number % 256:02x}",
        agent_id=f"benchagent{number:04d}",
        deployment_id="bench",
        device_code=device_code,
        agent_code=agent_code,
        dg_id="bench",
        dg_type="development_devicegroup",
    )


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (FileNotFoundError, IndexError, ValueError):
            pass
    return total


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def all_pids(runner: squirrel.SquirrelRunner) -> list[int]:
    pids = [pid for sides in runner.workers().values() for pid in sides.values()]
    return pids + [os.getpid()]


def phase_start(devices: int) -> list[str]:
    counter = Counter()
    with squirrel.SquirrelRunner() as runner:
        runner.bind(RunnerCallbacks(log=counter.log))
        started = time.perf_counter()
        for number in range(devices):
            runner.start(device(number, 'server.log("device up");', 'server.log("agent up");'))
        calls = time.perf_counter() - started
        complete = counter.wait_for(2 * devices, 60)
        ran = time.perf_counter() - started
        workers = [pid for sides in runner.workers().values() for pid in sides.values()]
        pss = sum(pss_kib(pid) for pid in workers) / max(1, len(workers))
    note = "" if complete else f" (only {counter.count} of {2 * devices} lines arrived)"
    return [
        f"start {devices} devices: start() calls {calls:.2f} s, all code ran after {ran:.2f} s{note}",
        f"memory: {len(workers)} worker processes, {pss / 1024:.1f} MiB each (PSS)",
    ]


def phase_steady(devices: int, seconds: float) -> list[str]:
    counter = Counter()
    code = """
    local n = 0;
    function tick() { n++; server.log("line " + n); imp.wakeup(0.1, tick); }
    tick();
    """
    with squirrel.SquirrelRunner() as runner:
        runner.bind(RunnerCallbacks(log=counter.log))
        for number in range(devices):
            runner.start(device(number, code))
        counter.wait_for(devices, 30)
        pids = all_pids(runner)
        cpu_before, count_before, wall_before = (
            cpu_seconds(pids),
            counter.count,
            time.perf_counter(),
        )
        time.sleep(seconds)
        cpu_after, count_after, wall_after = cpu_seconds(pids), counter.count, time.perf_counter()
    wall = wall_after - wall_before
    rate = (count_after - count_before) / wall
    cpu = (cpu_after - cpu_before) / wall
    return [
        f"{devices} devices logging 10 lines/s each: {rate:,.0f} lines/s delivered "
        f"(expected {devices * 10:,}), runner CPU {cpu * 100:.0f}% of one core"
    ]


def phase_flood(seconds: float) -> list[str]:
    counter = Counter()
    code = """
    local n = 0;
    function burst() { for (local i = 0; i < 100; i++) { n++; server.log("line " + n); } imp.wakeup(0, burst); }
    burst();
    """
    with squirrel.SquirrelRunner() as runner:
        runner.bind(RunnerCallbacks(log=counter.log))
        runner.start(device(0, code))
        counter.wait_for(1000, 30)
        before, started = counter.count, time.perf_counter()
        time.sleep(seconds)
        rate = (counter.count - before) / (time.perf_counter() - started)
    return [f"one device logging as fast as it can: {rate:,.0f} lines/s delivered"]


def print_machine() -> None:
    """The machine, the Python and the date, above a standalone run's figures."""
    print(f"machine : {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs")
    print(f"python  : {platform.python_implementation()} {platform.python_version()}")
    print(f"date    : {_dt.date.today().isoformat()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if not squirrel.available():
        print(f"skipped: {squirrel.unavailable_reason()}")
        return 0
    print_machine()
    for line in phase_start(args.devices):
        print(line)
    for line in phase_steady(args.devices, args.seconds):
        print(line)
    for line in phase_flood(min(args.seconds, 5.0)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
