"""One-shot start-up: what a CI step that runs `imptsh GROUP COMMAND` pays before and while
its command runs, next to what the same step costs with impt.

1. Import time, in a fresh interpreter each time (`python -c`, timed inside it): the entry
   point (`imptsh.cli`, all that `--version`, `--help` and usage errors load), what a
   one-shot `product list` loads (the session, its group, requests), and the interactive
   shell (cmd2, prompt_toolkit), for comparison.
2. Whole processes, wall time from the fork to the exit (and the CPU time they used, which
   the machine's load changes least): `imptsh --version`, and
   `imptsh product list` against the simulator next to a stand-in for `impt product list`
   (`impt_standin.js`: node, the official imp-central-api client impt is built on, the same
   Auth File and simulator; impt itself cannot be installed here) and the bare
   interpreters (`python -c pass`, `node -e 0`). The processes run interleaved, so that the
   machine's load falls on all of them alike; each figure is the median of `runs`.

Usage: .venv/bin/python bench/bench_oneshot.py [--runs N] [--url BASE_URL]
`measure()` returns the figures and `rows()` formats them for `run.py`.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_interactive import Row, table  # noqa: E402 - sibling scripts, not a package
from bench_session import _Workspace, imptsh_command  # noqa: E402
from bench_sim import Server  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
STANDIN = BENCH / "impt_standin.js"
NODE_MODULES = REPO / "tests" / "interop" / "node_modules"
VERSION_GOAL_MS = 100.0
OURS_ROW = "imptsh product list"
STANDIN_ROW = "impt product list stand-in (node, imp-central-api)"
PRODUCTS = 3

IMPORTS = {
    "imptsh.cli (what --version, --help and usage errors load)": "import imptsh.cli",
    "one-shot product list (cli, session, its group, requests)": (
        "import imptsh.cli, imptsh.session, imptsh.commands.runner, imptsh.commands.product, "
        "requests"
    ),
    "the interactive shell (cmd2, prompt_toolkit, every group)": (
        "import imptsh.cli, imptsh.shell; from imptsh.commands.registry import groups; groups()"
    ),
}
TIMED_IMPORT = "import time; t = time.perf_counter(); {imports}; print(time.perf_counter() - t)"


@dataclass
class Figures:
    imports_ms: dict[str, list[float]] = field(default_factory=dict)
    processes_ms: dict[str, list[float]] = field(default_factory=dict)
    """Wall time of each run of each process."""
    processes_cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    """The CPU time (user + system) each run used: what the machine's load changes least."""
    standin_problem: str | None = None
    """Why the node stand-in did not run (no node, no imp-central-api), if it did not."""


def import_times(runs: int) -> dict[str, list[float]]:
    """Milliseconds each group of imports takes in a fresh interpreter."""
    found: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(runs):
        for name, imports in IMPORTS.items():
            done = subprocess.run(
                [sys.executable, "-c", TIMED_IMPORT.format(imports=imports)],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            )
            found[name].append(float(done.stdout) * 1000)
    return found


def standin_problem() -> str | None:
    """Why the node stand-in cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_MODULES / "imp-central-api").is_dir():
        return f"imp-central-api is not installed (run `npm ci` in {NODE_MODULES.parent})"
    return None


def install_standin_client() -> None:
    """`npm ci` in tests/interop when imp-central-api is missing and npm is there (as the
    interoperability tests do); a failure only leaves the stand-in out."""
    if (NODE_MODULES / "imp-central-api").is_dir() or shutil.which("npm") is None:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=NODE_MODULES.parent,
        capture_output=True,
        timeout=300,
        check=False,
    )


def _timed(argv: list[str], ws: _Workspace, expect: str) -> tuple[float, float]:
    """The wall and CPU milliseconds of one run of `argv`, which must print `expect`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=ws.cwd,
        env=ws.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or expect not in done.stdout:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu * 1000


def process_times(base_url: str, root_url: str, runs: int, figures: Figures) -> None:
    """Wall and CPU times (ms) of the one-shot processes, run interleaved, into `figures`
    (and why the stand-in is missing, if it is)."""
    requests.post(f"{root_url}/_sim/reset", timeout=30).raise_for_status()
    problem = standin_problem()
    imptsh = imptsh_command()
    with _Workspace() as ws:
        login = ["auth", "login", "--local", "-e", base_url, "-u", "demo", "-w", "demo"]
        _timed([*imptsh, *login], ws, "SUCCEEDS")
        for n in range(PRODUCTS):
            _timed([*imptsh, "product", "create", "--name", f"OneShot{n}"], ws, "SUCCEEDS")
        listed = f"Product list ({PRODUCTS} items):"
        variants: dict[str, tuple[list[str], str]] = {
            "python -c pass (the interpreter alone)": ([sys.executable, "-c", "pass"], ""),
            "imptsh --version": ([*imptsh, "--version"], "."),
            OURS_ROW: ([*imptsh, "product", "list"], listed),
        }
        if problem is None:
            variants["node -e 0 (the interpreter alone)"] = (["node", "-e", "0"], "")
            variants[STANDIN_ROW] = (
                ["node", str(STANDIN)],
                listed,
            )
        for argv, expect in variants.values():  # a first run fills the file cache
            _timed(argv, ws, expect)
        figures.processes_ms = {name: [] for name in variants}
        figures.processes_cpu_ms = {name: [] for name in variants}
        for _ in range(runs):
            for name, (argv, expect) in variants.items():
                wall, cpu = _timed(argv, ws, expect)
                figures.processes_ms[name].append(wall)
                figures.processes_cpu_ms[name].append(cpu)
    figures.standin_problem = problem


def measure(base_url: str, root_url: str, *, runs: int = 15, install: bool = True) -> Figures:
    if install:
        install_standin_client()
    figures = Figures(imports_ms=import_times(max(3, runs // 2)))
    process_times(base_url, root_url, runs, figures)
    return figures


def rows(figures: Figures) -> list[Row]:
    found: list[Row] = []
    for name, times in figures.imports_ms.items():
        found.append(Row(f"import {name}", f"{statistics.median(times):.0f} ms"))
    medians = {name: statistics.median(times) for name, times in figures.processes_ms.items()}
    cpu = {name: statistics.median(times) for name, times in figures.processes_cpu_ms.items()}
    runs = len(next(iter(figures.processes_ms.values())))
    for name, median in medians.items():
        goal, ok = "", None
        if name == "imptsh --version":
            goal, ok = f"< {VERSION_GOAL_MS:.0f} ms", median < VERSION_GOAL_MS
        value = f"{median:.0f} ms (CPU {cpu[name]:.0f} ms)"
        found.append(Row(f"{name}, median of {runs}", value, goal, ok))
    if STANDIN_ROW in medians:
        ours, theirs = medians[OURS_ROW], medians[STANDIN_ROW]
        found.append(
            Row(
                "imptsh product list vs the impt stand-in",
                f"{theirs / ours:.2f} times as fast (CPU: {cpu[STANDIN_ROW] / cpu[OURS_ROW]:.2f})",
                "no slower (>= 1.00)",
                ours <= theirs,
            )
        )
    else:
        found.append(Row("impt product list stand-in", f"not run: {figures.standin_problem}"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each process")
    parser.add_argument("--url", help="an already running simulator (it is reset)")
    args = parser.parse_args(argv)
    with Server("url" if args.url else "process", args.url) as server:
        figures = measure(server.base_url, server.root_url, runs=args.runs)
    print(table(rows(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
