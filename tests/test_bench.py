"""`bench/run.py --quick` runs every benchmark briefly, so that the benchmarks keep working
as the code changes. Timings are never checked (the machine decides them); what is checked
is that every phase ran and printed its rows, and the one figure that does not depend on
the machine: the HTTP requests each command of the Development Guide script sends as a
process of its own, which must be the fewest the script's table says are possible."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

PHASE_ROWS = [
    "import imptsh.cli",
    "imptsh --version, median of",
    "imptsh product list, median of",
    "session vs processes",
    "HTTP requests of the script",
    "imptsh --no-rc: first prompt",
    "imptsh --sim --no-rc: first prompt",
    "Tab on `device info --device <prefix>`: p95",
    "log lines/s",
    "push-to-print latency",
    "completion while a log task receives",
    "simulator: authenticated GETs/s",
    "  the same through 1 requests.Session",
    "Squirrel runner",
    "dg restart of 5 devices",
]


@pytest.mark.timeout(900)
def test_the_quick_benchmark_run_completes_and_prints_its_tables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=850,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Traceback" not in out + done.stderr
    assert re.search(r"machine : .+, \d+ CPUs", out)
    summary = [line for line in out.splitlines() if line.startswith("| ")]
    for row in PHASE_ROWS:
        assert any(line.startswith(f"| {row}") for line in summary), row
    script = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.split("Requests per command", 1)[1].splitlines()
        if re.match(r"\| \d+ ", line)
    ]
    assert [int(row[0]) for row in script] == list(range(1, 51))
    too_many = [f"{row[1]}: {row[3]} > {row[4]}" for row in script if "(+" in row[3]]
    assert too_many == []
