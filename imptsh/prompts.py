"""Questions asked on the terminal, or read from stdin when it is not a terminal."""

from __future__ import annotations

import getpass
import sys
from typing import IO

from .errors import Canceled


class Prompter:
    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None):
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout

    def _interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def on_terminal(self) -> bool:
        """Whether answers come from a terminal (a person), not from a pipe or a file."""
        return self._interactive()

    def ask(self, text: str) -> str:
        """Prints `text` and returns the answer line; end of input or Ctrl-C cancels."""
        self.stdout.write(text)
        self.stdout.flush()
        try:
            line = self.stdin.readline()
        except KeyboardInterrupt:
            self.stdout.write("^C\n")
            raise Canceled() from None
        if not line:
            self.stdout.write("\n")
            raise Canceled()
        if not self._interactive():
            self.stdout.write(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\r\n")

    def secret(self, text: str) -> str:
        """A hidden answer: no echo on a terminal, a plain line from a pipe."""
        if self._interactive():
            try:
                return getpass.getpass(text, stream=self.stdout)
            except (KeyboardInterrupt, EOFError):
                self.stdout.write("\n")
                raise Canceled() from None
        self.stdout.write(text)
        self.stdout.flush()
        line = self.stdin.readline()
        self.stdout.write("\n")
        if not line:
            raise Canceled()
        return line.rstrip("\r\n")

    def confirm(self, context: str | None = None) -> None:
        """impt's yes/no dialog; returns on yes, raises Canceled on no."""
        if context:
            self.stdout.write(context + "\n")
        self.stdout.write("Are you sure you want to continue?\n")
        while True:
            answer = self.ask("Enter 'y' (yes) or 'n' (no): ").strip().lower()
            if answer in ("y", "n"):
                self.stdout.write("\n")
                if answer == "n":
                    raise Canceled()
                return
            self.stdout.write("Invalid value!\n")

    def choose(self, question: str, choices: list[str]) -> int:
        """A numbered choice (`Enter 1 or 2: `); returns the 1-based index."""
        self.stdout.write(question + "\n")
        for n, label in enumerate(choices, 1):
            self.stdout.write(f"  ({n}) {label}\n")
        self.stdout.write("\n")
        numbers = [str(n) for n in range(1, len(choices) + 1)]
        while True:
            answer = self.ask(f"Enter {' or '.join(numbers)}: ").strip()
            if answer in numbers:
                self.stdout.write("\n")
                return int(answer)
            self.stdout.write("Invalid value!\n")
