"""Session versus processes: the Development Guide script (`devguide.py`, 50 commands) run

(a) as one session, `imptsh SCRIPT`, and
(b) as 50 processes, `imptsh GROUP COMMAND ...` one after the other (what a CI script that
    calls imptsh once per step does),

each run against a simulator reset just before it, in a new empty directory with its own
HOME. Reported: the wall time of each (median of the runs) and their ratio, and for every
command the HTTP requests it sent in both, counted by the simulator (`GET /_sim/stats`
before and after it) next to the fewest a fresh process could send (`devguide.STEPS`).

For the session's counts the script is piped into one `imptsh` a line at a time, the next
line sent once the previous one's status line has arrived; that run also gives each
command's time in a session. The processes' counts come from a run of (b).

Usage: .venv/bin/python bench/bench_session.py [--runs N] [--url BASE_URL]
`measure()` returns the figures and `rows()`/`script_table()` format them for `run.py`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_interactive import Row, table  # noqa: E402 - sibling scripts, not a package
from bench_sim import Server  # noqa: E402
from devguide import STEPS, script_lines  # noqa: E402

RATIO_GOAL = 20.0
STATUS_LINES = ("IMPT COMMAND SUCCEEDS", "IMPT COMMAND FAILS")


@dataclass
class Figures:
    session_s: list[float] = field(default_factory=list)
    """Wall time of each `imptsh SCRIPT` run."""
    processes_s: list[float] = field(default_factory=list)
    """Wall time of each run of 50 processes."""
    session_requests: list[int] = field(default_factory=list)
    process_requests: list[int] = field(default_factory=list)
    session_ms: list[float] = field(default_factory=list)
    """Each command's time in the piped session (from sending its line to its status)."""
    process_ms: list[float] = field(default_factory=list)
    """Each process's wall time, in the counted run of (b)."""

    @property
    def ratio(self) -> float:
        return statistics.median(self.processes_s) / statistics.median(self.session_s)


def imptsh_command() -> list[str]:
    """The `imptsh` console script next to this Python (what users run), else `-m`."""
    script = Path(sys.executable).with_name("imptsh")
    return [str(script)] if script.exists() else [sys.executable, "-m", "imptsh"]


def clean_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMPT_", "IMPTSH_"))}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", NO_COLOR="1")
    return env


class Simulator:
    """The simulator the runs use: reset before each, its request counter read around each
    command."""

    def __init__(self, base_url: str, root_url: str):
        self.base_url = base_url
        self.root_url = root_url
        self._http = requests.Session()

    def reset(self) -> None:
        self._http.post(f"{self.root_url}/_sim/reset", timeout=30).raise_for_status()

    def requests_so_far(self) -> int:
        answer = self._http.get(f"{self.root_url}/_sim/stats", timeout=10)
        answer.raise_for_status()
        return int(answer.json()["meta"]["requests"])


class _Workspace:
    """A new empty working directory with a HOME of its own."""

    def __enter__(self) -> _Workspace:
        self._tmp = tempfile.TemporaryDirectory(prefix="imptsh-bench-")
        self.home = self._tmp.name
        self.cwd = Path(self.home) / "work"
        self.cwd.mkdir()
        self.env = clean_env(self.home)
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()


def run_session(sim: Simulator, lines: list[str]) -> float:
    """(a): `imptsh SCRIPT`; its wall time."""
    sim.reset()
    with _Workspace() as ws:
        script = Path(ws.home) / "devguide.imptsh"
        script.write_text("\n".join(lines) + "\n")
        started = time.perf_counter()
        done = subprocess.run(
            [*imptsh_command(), str(script)],
            cwd=ws.cwd,
            env=ws.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the script failed in a session:\n{done.stderr}{done.stdout[-2000:]}")
    return elapsed


def run_processes(sim: Simulator, lines: list[str]) -> tuple[float, list[float], list[int]]:
    """(b): one process per command; the sum of their wall times, each one's, and the
    requests each sent."""
    sim.reset()
    walls: list[float] = []
    counts: list[int] = []
    with _Workspace() as ws:
        for line in lines:
            before = sim.requests_so_far()
            started = time.perf_counter()
            done = subprocess.run(
                [*imptsh_command(), *shlex.split(line)],
                cwd=ws.cwd,
                env=ws.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
            walls.append(time.perf_counter() - started)
            counts.append(sim.requests_so_far() - before)
            if done.returncode != 0:
                raise SystemExit(f"`imptsh {line}` failed:\n{done.stdout[-2000:]}{done.stderr}")
    return sum(walls), walls, counts


def run_counted_session(sim: Simulator, lines: list[str]) -> tuple[list[int], list[float]]:
    """The script piped into one `imptsh` a line at a time: the requests each command sent
    and its time (from its line to its status line)."""
    sim.reset()
    counts: list[int] = []
    times: list[float] = []
    with _Workspace() as ws:
        shell = subprocess.Popen(
            imptsh_command(),
            cwd=ws.cwd,
            env=ws.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert shell.stdin is not None and shell.stdout is not None
        try:
            for line in lines:
                before = sim.requests_so_far()
                started = time.perf_counter()
                shell.stdin.write(line + "\n")
                shell.stdin.flush()
                output = []
                while not output or output[-1] not in STATUS_LINES:
                    got = shell.stdout.readline()
                    if not got:
                        raise SystemExit(f"imptsh ended during `{line}`:\n{''.join(output)}")
                    output.append(got.rstrip("\n"))
                times.append((time.perf_counter() - started) * 1000)
                counts.append(sim.requests_so_far() - before)
                if output[-1] != STATUS_LINES[0]:
                    raise SystemExit(f"`{line}` failed in the session:\n" + "\n".join(output))
        finally:
            shell.stdin.close()
            shell.wait(30)
    return counts, times


def measure(base_url: str, root_url: str, *, runs: int = 3) -> Figures:
    """Runs (a) and (b) `runs` times each (alternately, so that the machine's load falls on
    both alike) and the counted session once."""
    sim = Simulator(base_url, root_url)
    lines = script_lines(base_url)
    figures = Figures()
    for run in range(runs):
        figures.session_s.append(run_session(sim, lines))
        total, walls, counts = run_processes(sim, lines)
        figures.processes_s.append(total)
        if run == 0:
            figures.process_ms = [w * 1000 for w in walls]
            figures.process_requests = counts
    figures.session_requests, figures.session_ms = run_counted_session(sim, lines)
    return figures


def rows(figures: Figures) -> list[Row]:
    runs = len(figures.session_s)
    session = statistics.median(figures.session_s)
    processes = statistics.median(figures.processes_s)
    steps = len(STEPS)
    return [
        Row(
            f"{steps}-command script, one session (`imptsh SCRIPT`), median of {runs}",
            f"{session:.2f} s",
        ),
        Row(f"{steps}-command script, {steps} processes, median of {runs}", f"{processes:.2f} s"),
        Row(
            "session vs processes",
            f"{figures.ratio:.1f} times faster",
            f">= {RATIO_GOAL:.0f} times",
            figures.ratio >= RATIO_GOAL,
        ),
        Row(
            "one command: in a session / as a process (median)",
            f"{statistics.median(figures.session_ms):.0f} ms / "
            f"{statistics.median(figures.process_ms):.0f} ms",
        ),
        Row(
            "HTTP requests of the script: session / processes / fewest possible",
            f"{sum(figures.session_requests)} / {sum(figures.process_requests)} / "
            f"{sum(step.minimum for step in STEPS)}",
        ),
    ]


def script_table(figures: Figures) -> str:
    """Every command with its requests (session, process, fewest) and why that many."""
    lines = [
        ("#", "command", "session", "process", "fewest", "ms in session", "what the fewest are"),
    ]
    for n, step in enumerate(STEPS):
        line = step.line.replace("{endpoint}", "URL")
        extra = figures.process_requests[n] - step.minimum
        lines.append(
            (
                str(n + 1),
                line,
                str(figures.session_requests[n]),
                f"{figures.process_requests[n]}" + (f" (+{extra})" if extra > 0 else ""),
                str(step.minimum),
                f"{figures.session_ms[n]:.0f}",
                step.why,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of (a) and of (b)")
    parser.add_argument("--url", help="an already running simulator (it is reset)")
    args = parser.parse_args(argv)
    with Server("url" if args.url else "process", args.url) as server:
        figures = measure(server.base_url, server.root_url, runs=args.runs)
    print(table(rows(figures)))
    print()
    print(script_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
