"""Questions asked on the user's terminal: confirmations, choices, names and secrets.

Answers come from the controlling terminal (`/dev/tty`), as impt's prompts do, never from
standard input: the next lines of a script are commands, not answers. With no terminal a
question fails at once and says what to pass instead (`-q/--confirmed`, `--pwd`, ...), so a
job that nobody watches never waits for an answer."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import termios
from collections.abc import Iterator
from typing import IO

from .errors import Canceled, CommandError
from .output.render import escape_controls

TERMINAL = "/dev/tty"
CONFIRMATION = "Are you sure you want to continue?"
METHOD_CHOICE = "Choose authentication method:"

# What each question asks for, and what to pass instead when there is nobody to answer it.
_NO_TERMINAL: dict[str, tuple[str, str]] = {
    CONFIRMATION: ("ask for confirmation", "Add -q/--confirmed to run it without asking."),
    METHOD_CHOICE: (
        "ask how to log in",
        "Pass --user and --pwd, or --lk (or set IMPT_USER and IMPT_PASSWORD, or IMPT_LOGINKEY).",
    ),
    "Enter username or email address: ": ("ask for the user name", "Pass --user."),
    "Enter password: ": (
        "ask for the password",
        "Pass --pwd, set IMPT_PASSWORD, or log in with a login key (--lk or IMPT_LOGINKEY).",
    ),
    "Enter one-time password: ": (
        "ask for the one-time password",
        "Log in with a login key (--lk or IMPT_LOGINKEY) where nobody can type one.",
    ),
    "Enter Login Key: ": ("ask for the login key", "Pass --lk or set IMPT_LOGINKEY."),
}


class NoTerminalError(CommandError):
    """A question was asked where nobody can answer it (no controlling terminal)."""

    def __init__(self, question: str, cause: str):
        what, hint = _NO_TERMINAL.get(question, (f'ask "{question.strip()}"', ""))
        message = f"Cannot {what}: there is no terminal ({TERMINAL}: {cause})."
        super().__init__(f"{message} {hint}".rstrip())


class Prompter:
    """Asks questions; `answers` replaces the terminal (tests), `stdout` shows the dialog."""

    def __init__(self, answers: IO[str] | None = None, stdout: IO[str] | None = None):
        self.answers = answers
        self._stdout = stdout

    @property
    def stdout(self) -> IO[str]:
        return self._stdout if self._stdout is not None else sys.stdout

    @stdout.setter
    def stdout(self, stream: IO[str]) -> None:
        self._stdout = stream

    # -- questions ------------------------------------------------------------------------

    @property
    def on_terminal(self) -> bool:
        """Whether a person at a terminal answers: the session's input is a terminal and the
        controlling terminal can be opened (stand-in answers count when they are one)."""
        if self.answers is not None:
            return _is_terminal(self.answers)
        if not _is_terminal(sys.stdin):
            return False
        try:
            os.close(os.open(TERMINAL, os.O_RDWR | os.O_NOCTTY))
        except OSError:
            return False
        return True

    def ask(self, text: str) -> str:
        """Prints `text` and returns the answer line; end of input or Ctrl-C cancels."""
        with self._source(text) as source:
            return self._read(source, text)

    def secret(self, text: str) -> str:
        """A hidden answer: the terminal does not echo it, the transcript shows nothing."""
        with self._source(text) as source:
            return self._read(source, text, hidden=True)

    def confirm(self, context: str | None = None) -> None:
        """impt's yes/no dialog; returns on yes, raises Canceled on no."""
        with self._source(CONFIRMATION) as source:
            if context:
                self._say(escape_controls(context))
            self._say(CONFIRMATION)
            while True:
                answer = self._read(source, "Enter 'y' (yes) or 'n' (no): ").strip().lower()
                if answer in ("y", "n"):
                    self._say("")
                    if answer == "n":
                        raise Canceled()
                    return
                self._say("Invalid value!")

    def choose(self, question: str, choices: list[str]) -> int:
        """A numbered choice (`Enter 1 or 2: `); returns the 1-based index."""
        with self._source(question) as source:
            self._say(question)
            for n, label in enumerate(choices, 1):
                self._say(f"  ({n}) {label}")
            self._say("")
            numbers = [str(n) for n in range(1, len(choices) + 1)]
            while True:
                answer = self._read(source, f"Enter {' or '.join(numbers)}: ").strip()
                if answer in numbers:
                    self._say("")
                    return int(answer)
                self._say("Invalid value!")

    # -- machinery ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _source(self, question: str) -> Iterator[IO[str]]:
        """Where the answers to `question` come from, opened before anything is printed."""
        if self.answers is not None:
            yield self.answers
            return
        try:
            fd = os.open(TERMINAL, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            raise NoTerminalError(question, exc.strerror or str(exc)) from None
        with io.TextIOWrapper(io.FileIO(fd, "r+"), encoding="utf-8", errors="replace") as tty:
            yield tty

    def _say(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def _read(self, source: IO[str], text: str, *, hidden: bool = False) -> str:
        self.stdout.write(text)
        self.stdout.flush()
        try:
            with _no_echo(source) if hidden else contextlib.nullcontext():
                line = source.readline()
        except KeyboardInterrupt:
            # A terminal that echoes what is typed has shown the ^C already.
            shown = source is not self.answers and not hidden and _echoes(source)
            self.stdout.write("\n" if shown else "^C\n")
            self.stdout.flush()
            raise Canceled() from None
        if not line:
            self._say("")
            raise Canceled()
        if hidden or not _is_terminal(self.stdout) or source is self.answers:
            # The terminal did not show it (hidden, or the dialog goes elsewhere): end the
            # prompt's line, and show what was typed unless it is a secret.
            self._say("" if hidden else line.rstrip("\r\n"))
        return line.rstrip("\r\n")


@contextlib.contextmanager
def _no_echo(source: IO[str]) -> Iterator[None]:
    """Turns the terminal's echo off while a secret is typed (a no-op for other streams)."""
    try:
        fd = source.fileno()
        saved = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


def _echoes(source: IO[str]) -> bool:
    try:
        flags = termios.tcgetattr(source.fileno())[3]
    except (AttributeError, OSError, ValueError, termios.error):
        return False
    return bool(flags & termios.ECHO and flags & termios.ECHOCTL)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
