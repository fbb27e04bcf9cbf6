"""Runs a script (a file, standard input or `-c LINE`) line by line, as the shell would.

A line made only of impt commands, written so that the shell would read every word the
same way, runs as one-shot mode runs a command: the interactive shell (cmd2, prompt_toolkit
and what they load, most of imptsh's start-up time) is not needed for it. The shell starts
at the first line that needs it (a shell command such as `cd`, `alias` or `history`, a
redirection or a pipe, a backslash or a quote inside a word, an unknown command...) and
runs that line and every line after it, with the commands run so far in its history, so a
script behaves exactly as if the shell had run it from the start."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .commands.registry import is_group
from .commands.runner import run_line
from .files import read_text
from .lines import LineSyntaxError, split_commands, words
from .session import Session

if TYPE_CHECKING:
    from .shell import ImptShell

_QUOTES = "\"'"
_REDIRECTIONS = "|<>"  # the shell's output redirection and pipes (and input, never allowed)
_BLANKS = " \t"  # the only white space both the shell's reader and `lines` split at


def impt_commands(line: str) -> list[tuple[str, list[str]]] | None:
    """Each command of `line` and its words, when every command is a plain impt command
    that the shell would split into the same words; None when only the shell can run it."""
    try:
        commands = split_commands(line)
    except LineSyntaxError:
        return None  # the shell reports it
    found = []
    for command in commands:
        if any(ch.isspace() and ch not in _BLANKS for ch in command):
            return None
        spans = [(command[w.start : w.end], w.text) for w in words(command)]
        if not spans or spans[0][0] != spans[0][1] or not is_group(spans[0][1]):
            return None
        if not all(_read_alike(raw) for raw, _ in spans):
            return None
        found.append((command, [text for _, text in spans]))
    return found


def _read_alike(raw: str) -> bool:
    """Whether the shell's reader (quotes kept, then a pair around the whole word removed)
    and `lines` (POSIX quoting) make the same word of `raw`: no backslash, no redirection,
    and a quote only as a pair around the whole word."""
    if "\\" in raw:
        return False
    if raw[0] in _QUOTES:
        return len(raw) > 1 and raw[-1] == raw[0] and raw[0] not in raw[1:-1]
    return not any(ch in _QUOTES or ch in _REDIRECTIONS for ch in raw)


class LineRunner(Protocol):
    """What runs a script's lines: the shell, or a script runner that starts it as needed."""

    quitting: bool

    def run_command_line(self, line: str) -> int: ...
    def echo_line(self, line: str) -> None: ...


def run_lines(runner: LineRunner, name: str, lines: Iterable[str], *, keep_going: bool) -> int:
    """Runs a script's lines; a failing line ends it (or, with `keep_going`, the status at
    the end) and is named as `imptsh: NAME:LINE: command failed: ...` on stderr."""
    failed = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        runner.echo_line(line)
        status = runner.run_command_line(line)
        if status:
            failed = 1
            print(f"imptsh: {name}:{number}: command failed: {line}", file=sys.stderr)
            if not keep_going:
                return status
        if runner.quitting:
            break
    return failed


def run_file(runner: LineRunner, path: Path, *, keep_going: bool) -> int:
    """Runs a script file; an unreadable one runs nothing and fails."""
    try:
        text = read_text(path)
    except OSError as exc:
        print(f"imptsh: cannot read {path}: {exc.strerror or exc}.", file=sys.stderr)
        return 1
    return run_lines(runner, str(path), text.splitlines(), keep_going=keep_going)


class ScriptRunner:
    """Runs a script's lines for `session`; `make_shell` makes the shell when a line needs
    it (or when `shell` is asked for)."""

    def __init__(self, session: Session, make_shell: Callable[[], ImptShell]):
        self.session = session
        self._make_shell = make_shell
        self._shell: ImptShell | None = None
        self._ran: list[str] = []
        """Commands run without the shell, for its history once it starts."""
        self._logs_in_background = False

    @property
    def shell(self) -> ImptShell:
        if self._shell is None:
            shell = self._make_shell()
            for command in self._ran:
                shell.history.append(shell.statement_parser.parse(command))
            self._ran.clear()
            if self._logs_in_background:
                shell.run_logs_in_background(above_prompt=False)
            self._shell = shell
        return self._shell

    def run_logs_in_background(self) -> None:
        """`log stream` and --log start background tasks (their lines go to stdout), as in
        a script the shell runs."""
        self._logs_in_background = True
        if self._shell is not None:
            self._shell.run_logs_in_background(above_prompt=False)
        else:
            self.session.log_tasks_in_background = True

    def run_file(self, path: Path, *, keep_going: bool) -> int:
        return run_file(self, path, keep_going=keep_going)

    def run_lines(self, name: str, lines: Iterable[str], *, keep_going: bool) -> int:
        return run_lines(self, name, lines, keep_going=keep_going)

    def echo_line(self, line: str) -> None:
        if self._shell is not None:
            self._shell.echo_line(line)

    @property
    def quitting(self) -> bool:
        return self._shell is not None and self._shell.quitting

    def run_command_line(self, line: str) -> int:
        """Runs one line, stopping at its first failing command; returns its status."""
        commands = impt_commands(line) if self._shell is None else None
        if commands is None:
            return self.shell.run_command_line(line)
        for command, tokens in commands:
            self._ran.append(command)
            status = run_line(self.session, tokens, sys.stdout, full_usage=False)
            if status:
                return status
        return 0
