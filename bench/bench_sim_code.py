"""Benchmark of device code running in the simulator, measured through its HTTP API.

(a) N devices (default 100) in one Device Group whose device and agent code each log one
    line: one ``POST /devicegroups/{id}/restart``, then the time until every device and every
    agent has logged. The same restart against a simulator that does not run code (the
    literal runner: status lines only) is "the restart itself"; the difference is what
    starting the code costs.
(b) N devices each logging 10 lines per second (an ``imp.wakeup(0.1)`` loop) for S seconds,
    then read back through ``GET /devices/{id}/logs``: lines per second delivered, and whether
    each device's history holds its numbered lines 1..n without a gap or a repeat.

Both phases run an in-process simulator and talk to it over loopback with imptsh's API client.
Line arrival in (a) is timed by watching the lines the simulator stores (a hook on the
backend); everything else goes through HTTP. ``measure()`` returns the rows for a one-stop
benchmark runner; ``main()`` prints them with the machine and the date.

Usage: .venv/bin/python bench/bench_sim_code.py [--devices N] [--seconds S]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imptsh.api import resources  # noqa: E402
from imptsh.api.auth import login_with_password  # noqa: E402
from imptsh.api.client import Client, Credentials  # noqa: E402
from imptsh.cache import EntityCache  # noqa: E402
from imptsh.sim import squirrel  # noqa: E402
from imptsh.sim.server import Simulator, start  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_interactive import Row  # noqa: E402 - a sibling script, not a package
from bench_squirrel import print_machine  # noqa: E402

DEV = "development_devicegroup"
START_TARGET_S = 1.0  # starting the code may take this much longer than the restart itself


class LineWatch:
    """Counts the lines the simulator stores whose text is `marker` (any line: None), as
    they are stored."""

    def __init__(self, sim: Simulator, marker: str | None) -> None:
        self.marker = marker
        self.count = 0
        self._cond = threading.Condition()
        store = sim.backend.append_logs

        def append_logs(lines: list[tuple[str, str, str]]) -> None:
            store(lines)
            hits = sum(1 for _, _, msg in lines if marker is None or msg == marker)
            if hits:
                with self._cond:
                    self.count += hits
                    self._cond.notify_all()

        sim.backend.append_logs = append_logs  # type: ignore[method-assign]

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


def logged_in(sim: Simulator) -> Client:
    client = Client(sim.base_url)
    tokens = login_with_password(client, "demo", "demo", lambda: "")
    client.credentials = Credentials(tokens["access_token"], tokens["expires_at"])
    return client


def group_running(
    sim: Simulator, devices: int, device_code: str, agent_code: str
) -> tuple[Client, str, list[str]]:
    """A Development Device Group with `devices` devices assigned and this code deployed
    (assigning them has started it once)."""
    client = logged_in(sim)
    cache = EntityCache()
    product = resources.create_product(client, cache, "Bench")
    group = resources.create_device_group(client, cache, DEV, "Bench", product["id"])
    ids = [d["id"] for d in client.list("/devices")]
    resources.create_deployment(
        client, cache, group, device_code=device_code, agent_code=agent_code
    )
    for first in range(0, len(ids), 100):
        resources.assign_devices(client, cache, group["id"], ids[first : first + 100])
    return client, group["id"], ids


def timed_restart(runner: str, devices: int) -> tuple[float, float | None]:
    """(seconds the restart request took, seconds until every device and agent logged after
    it, or None when they did not within a minute)."""
    code = 'server.log("up");'
    with start(port=0, devices=devices, log_interval=0, runner=runner) as sim:
        client, group, _ = group_running(sim, devices, code, code.replace("up", "agent up"))
        time.sleep(1.0 if runner == "squirrel" else 0.0)  # the first start has settled
        watch = LineWatch(sim, "up")
        agents = LineWatch(sim, "agent up")
        started = time.perf_counter()
        resources.restart_device_group(client, group)
        request = time.perf_counter() - started
        if runner != "squirrel":
            return request, None
        done = watch.wait_for(devices, 60) and agents.wait_for(devices, 60)
        return request, (time.perf_counter() - started) if done else None


def phase_start(devices: int) -> list[Row]:
    itself, _ = timed_restart("literal", devices)
    request, everything = timed_restart("squirrel", devices)
    rows = [
        Row(
            f"dg restart of {devices} devices, no code run (the restart itself)",
            f"{itself:.2f} s",
            "",
            None,
        ),
        Row(
            f"dg restart of {devices} devices running Squirrel: the request",
            f"{request:.2f} s",
            "",
            None,
        ),
    ]
    if everything is None:
        rows.append(Row("every device and agent logged", "not within 60 s", "", False))
        return rows
    extra = everything - itself
    rows.append(
        Row(
            "every device and agent has logged after",
            f"{everything:.2f} s ({extra:+.2f} s on the restart itself)",
            f"< +{START_TARGET_S:g} s",
            extra < START_TARGET_S,
        )
    )
    return rows


STEADY = """
local n = 0;
function tick() { n++; server.log(n.tostring()); imp.wakeup(0.1, tick); }
tick();
"""


def phase_steady(devices: int, seconds: float) -> list[Row]:
    with start(port=0, devices=devices, log_interval=0, runner="squirrel") as sim:
        watch = LineWatch(sim, None)
        client, group, ids = group_running(sim, devices, STEADY, "")
        time.sleep(1.0)  # assigning them has started their code; let it settle
        stored, started = watch.count, time.perf_counter()
        time.sleep(seconds)
        stored, wall = watch.count - stored, time.perf_counter() - started
        for first in range(0, len(ids), 100):
            resources.unassign_devices(client, EntityCache(), group, ids[first : first + 100])
        total, broken = 0, 0
        for device in ids:
            numbers = [
                int(entry["msg"])
                for entry in client.iter_list(f"/devices/{device}/logs", page_size=100)
                if entry["type"] == "server.log"
            ]
            numbers.reverse()
            total += len(numbers)
            broken += numbers != list(range(1, len(numbers) + 1))
    rate = stored / wall
    return [
        Row(
            f"{devices} devices logging 10 lines/s each for {seconds:g} s",
            f"{rate:,.0f} lines/s stored (expected about {devices * 10:,}); {total:,} lines read "
            "back",
            f">= {devices * 9:,}/s",
            rate >= devices * 9,
        ),
        Row(
            "devices whose history has a gap or a repeat",
            f"{broken} of {devices}",
            "0",
            broken == 0,
        ),
    ]


def measure(devices: int = 100, seconds: float = 5.0) -> list[Row]:
    """The rows of both phases (empty when the Squirrel VM is not installed)."""
    if not squirrel.available():
        return []
    return [*phase_start(devices), *phase_steady(devices, seconds)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not squirrel.available():
        print(f"skipped: {squirrel.unavailable_reason()}")
        return 0
    print_machine()
    rows = measure(args.devices, args.seconds)
    width = max(len(r.name) for r in rows)
    for row in rows:
        verdict = "" if row.ok is None else ("  ok" if row.ok else "  MISSED")
        target = f"  (target {row.goal})" if row.goal else ""
        print(f"{row.name.ljust(width)}  {row.value}{target}{verdict}")
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
