"""Ways to follow the guide's steps: a series of one-shot `imptsh` processes, one shell
session fed its lines on stdin as the user would type them, and, to set up what a use case
assumes, the same commands in-process. (A shell session in a real terminal: `terminal`.)"""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Protocol

import requests

from imptsh.commands.runner import run_line
from imptsh.logs import StreamSink
from imptsh.session import Session
from tests.acceptance.guide import FIXTURE
from tests.acceptance.steps import OK, Step, Wait
from tests.conftest import SimApi

FAILS = "IMPT COMMAND FAILS"
WAIT = 60.0  # seconds a step may take to show what it should (a loaded machine is slow)
_TOKENS = {
    "<id>": r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}",
    "<dev>": r"[0-9a-f]{16}",
    "<sha>": r"[0-9a-f]{64}",
    "<mac>": r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}",
    "<ts>": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
    "<pad>": r" *",
    "<any>": r".*",
}
_TOKEN = re.compile("(" + "|".join(re.escape(t) for t in _TOKENS) + ")")


def pattern(template: str) -> re.Pattern[str]:
    parts = _TOKEN.split(template.rstrip())
    return re.compile("".join(_TOKENS.get(p, re.escape(p)) for p in parts))


def match_in_order(text: str, templates: Sequence[str], what: str = "output") -> None:
    """Every template matches a whole line of `text` (trailing spaces ignored), in order."""
    lines = [line.rstrip() for line in text.split("\n")]
    at = 0
    for template in templates:
        regex = pattern(template)
        for i in range(at, len(lines)):
            if regex.fullmatch(lines[i]):
                at = i + 1
                break
        else:
            shown = "\n".join(lines[max(0, at - 5) : at + 40])
            raise AssertionError(f"{what}: no line matching {template!r} after line {at}:\n{shown}")


def wait_for_lines(
    text: Callable[[], str], templates: Sequence[str], what: str, timeout: float = WAIT
) -> str:
    """`text()` once it has lines matching `templates` in order."""
    deadline = time.monotonic() + timeout
    while True:
        current = text()
        try:
            match_in_order(current, templates, what)
            return current
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def after_line(text: str, start: str) -> str:
    """`text` from its last line starting with `start` on."""
    at = text.rfind("\n" + start)
    assert at >= 0 or text.startswith(start), f"no line starting {start!r} in:\n{text}"
    return text[at + 1 :]


def logs_shown(text: str, task: int, logs: Sequence[str], what: str) -> None:
    """The lines of log task `task` appear, in order, after the line saying it started."""
    match_in_order(after_line(text, f"Log task {task} runs in the background"), logs, what)


@dataclass
class Guide:
    """Where the guide is followed: a scratch HOME whose `work` directory is where the
    user starts, and the simulator standing in for impCentral."""

    sim: Any
    home: Path

    @property
    def work(self) -> Path:
        return self.home / "work"

    @property
    def auth_file(self) -> Path:
        return self.home / ".impt.auth"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"))
        env.pop("NO_COLOR", None)
        return env

    @cached_property
    def api(self) -> SimApi:
        """The account's own client, for watching what happens on the server."""
        return SimApi(self.sim)

    def add_fixture_device(self) -> None:
        """The guide's BlinkUp fixture joins the account (the mobile app's part)."""
        requests.post(
            f"{self.sim.root_url}/_sim/devices", json={"devices": [FIXTURE]}, timeout=10
        ).raise_for_status()

    def imptsh(self) -> list[str]:
        return [sys.executable, "-m", "imptsh", "--endpoint", self.sim.base_url]

    def wait(self, until: Wait, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not until.done(self.api):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {until.what}")
            time.sleep(0.1)


class Reader:
    """Everything a process writes to one of its pipes, read as it comes."""

    def __init__(self, pipe: IO[str]):
        self._chunks: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self._chunks.append(line)

    def text(self) -> str:
        return "".join(self._chunks)

    def finish(self) -> str:
        self._thread.join(timeout=10)
        return self.text()


# -- one command at a time ------------------------------------------------------------------


class Logging(Protocol):
    """A log stream a command opened, as its user sees it."""

    def output(self) -> str: ...

    def stop(self) -> tuple[int, str]:
        """The user's Ctrl-C: the command's status and everything it printed."""
        ...


class Execute(Protocol):
    def run(self, line: str, cwd: Path) -> tuple[int, str]: ...

    def start_logging(self, line: str, cwd: Path) -> Logging: ...


After = Callable[[int, Step], None]
"""Called with a step's index and the step once it is done."""


def follow(
    guide: Guide, steps: Sequence[Step], execute: Execute, after: After | None = None
) -> None:
    """Runs the steps one command at a time (`-q` where the guide answers a question),
    doing `mkdir`, `cd`, the user's edits and waits itself; every command must succeed and
    print its expected lines, every log stream must show its lines before it is stopped."""
    cwd = guide.work
    logging: Logging | None = None
    for n, step in enumerate(steps):
        if after is not None and n:
            after(n - 1, steps[n - 1])
        if step.until is not None:
            guide.wait(step.until)
        if step.edit:
            for name, code in step.edit.items():
                (cwd / name).write_text(code)
        elif step.line.startswith("mkdir "):
            (cwd / step.line.split()[1]).mkdir()
        elif step.line.startswith("cd "):
            cwd = (cwd / step.line.split()[1]).resolve()
        elif step.stop_logging:
            assert logging is not None, "no log stream to stop"
            wait_for_lines(logging.output, step.logs, "the log stream")
            status, out = logging.stop()
            assert status == 0 and FAILS not in out, out
            logging = None
        elif step.line:
            line = step.line + (" -q" if step.confirm else "")
            if step.starts_logging:
                logging = execute.start_logging(line, cwd)
                wait_for_lines(logging.output, step.expect, step.line)
                continue
            status, out = execute.run(line, cwd)
            assert status == 0, f"{step.line}\n{out}"
            assert FAILS not in out, out
            match_in_order(out, step.expect, step.line)
    assert logging is None, "a log stream was left open"
    if after is not None and steps:
        after(len(steps) - 1, steps[-1])


class OneShot:
    """Each command as its own `imptsh GROUP COMMAND ...` process without a terminal (a
    shell command such as `sim blinkup` as `imptsh -c LINE`); a log stream runs in the
    foreground until the user's Ctrl-C (SIGINT), as impt's does."""

    def __init__(self, guide: Guide):
        self.guide = guide

    def _argv(self, line: str) -> list[str]:
        words = shlex.split(line)
        if words[0] == "impt":
            return [*self.guide.imptsh(), *words[1:]]
        return [*self.guide.imptsh(), "-c", line]

    def run(self, line: str, cwd: Path) -> tuple[int, str]:
        done = subprocess.run(
            self._argv(line),
            cwd=cwd,
            env=self.guide.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=WAIT,
            start_new_session=True,  # no controlling terminal: a question would fail at once
        )
        assert done.stderr == "", done.stderr
        return done.returncode, done.stdout

    def start_logging(self, line: str, cwd: Path) -> Logging:
        return _ForegroundStream(self._argv(line), cwd, self.guide.env)


class _ForegroundStream:
    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]):
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.out = Reader(self.process.stdout)
        self.err = Reader(self.process.stderr)

    def output(self) -> str:
        if self.process.poll() is not None:
            raise AssertionError(f"the log stream ended by itself:\n{self.out.finish()}")
        return self.out.text()

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        try:
            status = self.process.wait(timeout=WAIT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        out = self.out.finish()
        assert self.err.finish() == ""
        # Ctrl-C ends impt's stream: its status line, exit status 0
        assert out.rstrip("\n").split("\n")[-1] == OK, out
        return status, out


def one_shot(guide: Guide) -> OneShot:
    return OneShot(guide)


class InProcess:
    """The commands in this process, in one session (to set up what a use case assumes);
    log streams run in the background, as in a script."""

    def __init__(self, guide: Guide):
        self.session = Session(env=guide.env, home=guide.home, default_endpoint=guide.sim.base_url)
        self.session.log_tasks.background = True

    def run(self, line: str, cwd: Path) -> tuple[int, str]:
        words = shlex.split(line)
        shell = words[0] != "impt"
        out = io.StringIO()
        before = Path.cwd()
        os.chdir(cwd)
        try:
            status = run_line(self.session, words if shell else words[1:], out, shell=shell)
        finally:
            os.chdir(before)
        return status, out.getvalue()

    def start_logging(self, line: str, cwd: Path) -> Logging:
        lines = io.StringIO()
        self.session.log_tasks.sink = StreamSink(lines)
        status, out = self.run(line, cwd)
        assert status == 0, out
        return _BackgroundTask(self.session, out, lines)


class _BackgroundTask:
    def __init__(self, session: Session, out: str, lines: io.StringIO):
        self.session, self.out, self.lines = session, out, lines

    def output(self) -> str:
        return self.out + self.lines.getvalue()

    def stop(self) -> tuple[int, str]:
        assert self.session.log_tasks.stop_all(), "the log task has ended by itself"
        return 0, self.output()


def in_process(guide: Guide) -> InProcess:
    return InProcess(guide)


# -- one shell session, fed on stdin ---------------------------------------------------------


def shell_session(guide: Guide, steps: Sequence[Step], after: After | None = None) -> str:
    """One `imptsh` shell reading the steps on stdin, given each line once the previous
    ones have printed what they should (as a user would type them); the user's edits copy
    files written beforehand (`shell cp`), questions are answered in advance with `-q`, and
    a log stream, which runs in the background, is waited for (`tasks wait`) and stopped
    (`tasks stop`). Returns the transcript after checking that every line succeeded and
    printed what the guide's step prints."""
    staging = guide.home / "staging"
    staging.mkdir(exist_ok=True)
    process = subprocess.Popen(
        guide.imptsh(),
        cwd=guide.work,
        env=guide.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out, err = Reader(process.stdout), Reader(process.stderr)
    expected: list[str] = []
    streams: list[tuple[int, tuple[str, ...]]] = []
    try:
        for n, step in enumerate(steps):
            if step.until is not None:
                wait_for_lines(out.text, expected, "shell session")
                guide.wait(step.until)
            lines: list[str] = []
            for name, code in step.edit.items():
                staged = staging / f"{n}-{name}"
                staged.write_text(code)
                lines.append(f"shell cp {shlex.quote(str(staged))} {shlex.quote(name)}")
            if step.stop_logging:
                task = sum(1 for s in steps[:n] if s.starts_logging)
                lines += [f"tasks wait {task} --match {_match(t)} --timeout 60" for t in step.logs]
                lines.append(f"tasks stop {task}")
                expected.append(f"Log task {task} is stopped.")
                streams.append((task, step.logs))
            elif step.line:
                lines.append(step.line + (" -q" if step.confirm else ""))
                expected += step.expect
            process.stdin.write("".join(line + "\n" for line in lines))
            process.stdin.flush()
            if after is not None:
                wait_for_lines(out.text, expected, "shell session")
                after(n, step)
        process.stdin.close()
        process.wait(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    transcript, errors = out.finish(), err.finish()
    assert process.returncode == 0, transcript + errors
    assert errors == "" and FAILS not in transcript, transcript + errors
    match_in_order(transcript, expected, "shell session")
    for task, logs in streams:
        logs_shown(transcript, task, logs, f"log task {task}")
    return transcript


def _match(template: str) -> str:
    """`tasks wait --match`'s regular expression for a log line template's message."""
    message = template.split("] ", 2)[2]
    return shlex.quote(f"^{pattern(message).pattern}$")
