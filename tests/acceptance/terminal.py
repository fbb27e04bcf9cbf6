"""Following the guide in one `imptsh` shell in a real terminal (tmux): the steps typed at
its prompt, its questions answered and its pages turned on the terminal, a log stream
(which runs in the background there) stopped with Ctrl-C at the empty prompt."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.acceptance.runners import FAILS, After, Guide, logs_shown, match_in_order
from tests.acceptance.steps import MORE, Step

_PROMPT = re.compile(r"^imptsh(?: [^>]*)?>(?: |$)")
_QUESTION = re.compile(r"^Enter 'y' \(yes\) or 'n' \(no\):")
_PAGE = re.compile("^" + re.escape(MORE) + "$")
_STOPPED = re.compile(r"^Log tasks? [\d, ]+ (?:is|are) stopped\.$")
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
        self, line_start: re.Pattern[str], seen: int, what: str, timeout: float = 60
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

    def wait_for_logs(self, task: int, templates: Sequence[str], what: str) -> None:
        """Waits for log task `task` to show lines matching `templates` in order."""
        deadline = time.monotonic() + 60
        while True:
            try:
                logs_shown(self.screen(), task, templates, what)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", "g", "-l", line)
        self._tmux("send-keys", "-t", "g", "Enter")

    def press(self, key: str) -> None:
        self._tmux("send-keys", "-t", "g", key)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self.socket_path.unlink(missing_ok=True)


def terminal_session(guide: Guide, steps: Sequence[Step], after: After | None = None) -> str:
    """One `imptsh` shell in a real terminal: the steps typed at its prompt, each question
    answered `y` and each page turned with the step's keys on the terminal, the user's
    edits made between commands, a log stream stopped with Ctrl-C at the empty prompt once
    its lines are on the screen. Returns the transcript, checked for every step's summary,
    question, output and log lines."""
    term = Terminal(guide)
    templates: list[str] = []
    streams: list[tuple[int, tuple[str, ...]]] = []
    try:
        screen = term.wait_for_more(_PROMPT, 0, "a prompt")
        for n, step in enumerate(steps):
            if step.until is not None:
                guide.wait(step.until)
            for name, code in step.edit.items():
                (_cwd_of(guide, steps[:n]) / name).write_text(code)
            if step.stop_logging:
                task = sum(1 for s in steps[:n] if s.starts_logging)
                term.wait_for_logs(task, step.logs, f"log task {task}")
                stopped = count(_STOPPED, term.screen())
                term.press("C-c")  # at the empty prompt: the background log task stops
                screen = term.wait_for_more(_STOPPED, stopped, f"log task {task} to stop")
                templates.append(f"Log task {task} is stopped.")
                streams.append((task, step.logs))
            elif step.line:
                seen = {p: count(p, screen) for p in (_PROMPT, _QUESTION, _PAGE, _STATUS)}
                term.type(step.line)
                if step.confirm:
                    term.wait_for_more(_QUESTION, seen[_QUESTION], f"{step.line}'s question")
                    term.type("y")
                for pages, key in enumerate(step.keys, seen[_PAGE]):
                    term.wait_for_more(_PAGE, pages, f"{step.line}'s page")
                    term.press(key)
                if step.command:
                    term.wait_for_more(_STATUS, seen[_STATUS], f"{step.line}'s status line")
                screen = term.wait_for_more(_PROMPT, seen[_PROMPT], f"{step.line}'s prompt")
                shown = step.expect if step.on_terminal is None else step.on_terminal
                templates += [*step.dialog, *shown]
            if after is not None:
                after(n, step)
        term.type("quit")
        transcript = term.wait_for_more(_EXITED, 0, "the end of the shell", timeout=15)
    finally:
        term.close()
    assert "EXITED=0" in transcript and FAILS not in transcript, transcript
    match_in_order(transcript, templates, "terminal session")
    for task, logs in streams:
        logs_shown(transcript, task, logs, f"log task {task}")
    return transcript


def _cwd_of(guide: Guide, done: Sequence[Step]) -> Path:
    """The shell's directory after the steps `done` (for the user's edits)."""
    cwd = guide.work
    for step in done:
        if step.line.startswith("cd "):
            cwd = (cwd / step.line.split()[1]).resolve()
    return cwd
