"""Ways to follow the guide's steps: one shell session fed a script on stdin, one shell
session in a real terminal (tmux) answering its questions, a series of one-shot `imptsh`
processes, and, to set up what a use case assumes, the same commands in-process."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from imptsh.commands.runner import run_line
from imptsh.session import Session
from tests.acceptance.guide import FIXTURE, Step

FAILS = "IMPT COMMAND FAILS"
_TOKENS = {
    "<id>": r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}",
    "<dev>": r"[0-9a-f]{16}",
    "<sha>": r"[0-9a-f]{64}",
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

    def add_fixture_device(self) -> None:
        """The guide's BlinkUp fixture joins the account (the mobile app's part)."""
        requests.post(
            f"{self.sim.root_url}/_sim/devices", json={"devices": [FIXTURE]}, timeout=10
        ).raise_for_status()

    def imptsh(self) -> list[str]:
        return [sys.executable, "-m", "imptsh", "--endpoint", self.sim.base_url]


# -- one command at a time ------------------------------------------------------------------

Execute = Callable[[list[str], Path], tuple[int, str]]


After = Callable[[int, Step], None]
"""Called with a step's index and the step once it is done."""


def follow(
    guide: Guide, steps: Sequence[Step], execute: Execute, after: After | None = None
) -> None:
    """Runs the steps one command at a time (`-q` where the guide answers a question),
    doing `mkdir`, `cd` and the user's edits itself; every command must succeed and print
    its expected lines."""
    cwd = guide.work
    for n, step in enumerate(steps):
        if after is not None and n:
            after(n - 1, steps[n - 1])
        if step.edit:
            for name, code in step.edit.items():
                (cwd / name).write_text(code)
        elif step.line.startswith("mkdir "):
            (cwd / step.line.split()[1]).mkdir()
        elif step.line.startswith("cd "):
            cwd = (cwd / step.line.split()[1]).resolve()
        else:
            tokens = shlex.split(step.line)[1:] + (["-q"] if step.confirm else [])
            status, out = execute(tokens, cwd)
            assert status == 0, f"{step.line}\n{out}"
            assert FAILS not in out, out
            match_in_order(out, step.expect, step.line)
    if after is not None and steps:
        after(len(steps) - 1, steps[-1])


def one_shot(guide: Guide) -> Execute:
    """Each command as its own `imptsh GROUP COMMAND ...` process, without a terminal."""

    def execute(tokens: list[str], cwd: Path) -> tuple[int, str]:
        done = subprocess.run(
            [*guide.imptsh(), *tokens],
            cwd=cwd,
            env=guide.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,  # no controlling terminal: a question would fail at once
        )
        assert done.stderr == "", done.stderr
        return done.returncode, done.stdout

    return execute


def in_process(guide: Guide) -> Execute:
    """The commands in this process, in one session (to set up what a use case assumes)."""
    session = Session(env=guide.env, home=guide.home, default_endpoint=guide.sim.base_url)

    def execute(tokens: list[str], cwd: Path) -> tuple[int, str]:
        out = io.StringIO()
        before = Path.cwd()
        os.chdir(cwd)
        try:
            status = run_line(session, tokens, out)
        finally:
            os.chdir(before)
        return status, out.getvalue()

    return execute


# -- one shell session, fed a script --------------------------------------------------------


def shell_script(guide: Guide, steps: Sequence[Step]) -> str:
    """The steps as lines typed into one shell: the user's edits copy files written
    beforehand (`shell cp`), questions are answered in advance with `-q`."""
    staging = guide.home / "staging"
    staging.mkdir(exist_ok=True)
    lines = []
    for n, step in enumerate(steps):
        for name, code in step.edit.items():
            staged = staging / f"{n}-{name}"
            staged.write_text(code)
            lines.append(f"shell cp {shlex.quote(str(staged))} {shlex.quote(name)}")
        if step.line:
            lines.append(step.line + (" -q" if step.confirm else ""))
    return "\n".join(lines) + "\n"


def shell_session(guide: Guide, steps: Sequence[Step]) -> str:
    """One `imptsh` shell reading the steps on stdin; returns its transcript after checking
    that every line succeeded and printed what the guide's step prints."""
    done = subprocess.run(
        guide.imptsh(),
        input=shell_script(guide, steps),
        cwd=guide.work,
        env=guide.env,
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "" and FAILS not in done.stdout, done.stdout + done.stderr
    match_in_order(done.stdout, [t for s in steps for t in s.expect], "shell session")
    return done.stdout


# -- one shell session in a real terminal ---------------------------------------------------

_PROMPT = re.compile(r"^imptsh(?: [^>]*)?>(?: |$)")
_QUESTION = re.compile(r"^Enter 'y' \(yes\) or 'n' \(no\):")
_EXITED = re.compile(r"^EXITED=")
_STATUS = re.compile(r"^IMPT COMMAND (SUCCEEDS|FAILS)$")


def count(line_start: re.Pattern[str], screen: str) -> int:
    return sum(1 for line in screen.split("\n") if line_start.match(line))


class Terminal:
    """`imptsh` in a tmux pane of its own tmux server (private socket, long history)."""

    def __init__(self, guide: Guide):
        self.socket = f"imptsh-guide-{uuid.uuid4().hex[:8]}"
        conf = guide.home / "tmux.conf"
        conf.write_text("set -g history-limit 50000\n")
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in guide.env.items() if k != "TMUX")
        command = " ".join(shlex.quote(a) for a in guide.imptsh())
        shell = (
            f"cd {shlex.quote(str(guide.work))} && env -i {env} TERM=xterm-256color "
            f"{command} --no-rc; echo EXITED=$?; sleep 60"
        )
        self._tmux("-f", str(conf), "new-session", "-d", "-s", "g", "-x", "200", "-y", "50", shell)
        self.socket_path = Path(self._tmux("display-message", "-p", "#{socket_path}").strip())

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        ).stdout

    def screen(self) -> str:
        raw = self._tmux("capture-pane", "-p", "-J", "-t", "g", "-S", "-50000")
        return "\n".join(line.rstrip() for line in raw.splitlines()).rstrip("\n")

    def wait_for_more(
        self, line_start: re.Pattern[str], seen: int, what: str, timeout: float = 30
    ) -> str:
        """The screen once more than `seen` lines start like `line_start` (a prompt, a
        question)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if count(line_start, screen) > seen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{what} never came; screen:\n{self.screen()}")

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", "g", "-l", line)
        self._tmux("send-keys", "-t", "g", "Enter")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self.socket_path.unlink(missing_ok=True)


def terminal_session(guide: Guide, steps: Sequence[Step], after: After | None = None) -> str:
    """One `imptsh` shell in a real terminal: the steps typed at its prompt, each question
    answered `y` on the terminal, the user's edits made between commands. Returns the
    transcript, checked for every step's summary, question and output."""
    term = Terminal(guide)
    try:
        screen = term.wait_for_more(_PROMPT, 0, "a prompt")
        for n, step in enumerate(steps):
            for name, code in step.edit.items():
                (_cwd_of(guide, steps[:n]) / name).write_text(code)
            if step.line:
                seen = {p: count(p, screen) for p in (_PROMPT, _QUESTION, _STATUS)}
                term.type(step.line)
                if step.confirm:
                    term.wait_for_more(_QUESTION, seen[_QUESTION], f"{step.line}'s question")
                    term.type("y")
                if step.command:
                    term.wait_for_more(_STATUS, seen[_STATUS], f"{step.line}'s status line")
                screen = term.wait_for_more(_PROMPT, seen[_PROMPT], f"{step.line}'s prompt")
            if after is not None:
                after(n, step)
        term.type("quit")
        transcript = term.wait_for_more(_EXITED, 0, "the end of the shell", timeout=15)
    finally:
        term.close()
    assert "EXITED=0" in transcript and FAILS not in transcript, transcript
    templates = [t for s in steps for t in (*s.dialog, *s.expect)]
    match_in_order(transcript, templates, "terminal session")
    return transcript


def _cwd_of(guide: Guide, done: Sequence[Step]) -> Path:
    """The shell's directory after the steps `done` (for the user's edits)."""
    cwd = guide.work
    for step in done:
        if step.line.startswith("cd "):
            cwd = (cwd / step.line.split()[1]).resolve()
    return cwd
