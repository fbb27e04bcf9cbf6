"""Where a log task's lines go: straight to a text stream (one-shot, scripts, pipes, a
stream in the foreground), or above the prompt of the interactive shell."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO, Any, Protocol


class Sink(Protocol):
    interactive: bool
    """Whether a person reads it at a prompt (notices are then shown in every output mode)."""

    def write(self, lines: list[str]) -> None:
        """Prints the lines, in order, each whole; safe from any thread."""
        ...


class StreamSink:
    interactive = False

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


class AlertSink:
    """Lines printed above the prompt without disturbing what is being typed (cmd2's
    `add_alert`): shown while the prompt waits for input, held while a command runs."""

    interactive = True

    def __init__(self, add_alert: Callable[..., Any]):
        self._add_alert = add_alert

    def write(self, lines: list[str]) -> None:
        if lines:
            self._add_alert(msg="\n".join(lines))
