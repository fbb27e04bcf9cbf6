"""A one-line progress indicator for operations over many entities: `Deleting 37/120...`,
rewritten in place on the terminal's last line and cleared when the operation ends. Lines
the command prints meanwhile appear above it. Nothing is shown when the output is not a
terminal (a pipe, a file, a test's buffer)."""

from __future__ import annotations

from typing import IO


class ProgressLine:
    """The line itself; `Output` hides it while it prints a line, then draws it again."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.text = ""
        self._shown = False

    def show(self, text: str) -> None:
        self.hide()
        self.text = text
        self.redraw()
        self.stream.flush()

    def hide(self) -> None:
        if self._shown:
            # `\r` and spaces rather than an erase sequence: dumb terminals understand them.
            self.stream.write("\r" + " " * len(self.text) + "\r")
            self._shown = False

    def redraw(self) -> None:
        if self.text and not self._shown:
            self.stream.write(self.text)
            self._shown = True

    def clear(self) -> None:
        self.hide()
        self.text = ""


class Progress:
    """`label done/total...` (or `label...` with no total) while a step runs; `step()` moves
    on. A context manager: leaving it clears the line, however the operation ended."""

    def __init__(self, line: ProgressLine | None, label: str, total: int | None = None):
        self._line = line
        self.label = label
        self.total = total
        self.done = 0

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._line is not None:
            self._line.clear()
            self._line.stream.flush()

    def step(self) -> None:
        """One more item is done (the line then names the next one as running)."""
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if self._line is None:
            return
        if self.total is None:
            self._line.show(f"{self.label}...")
        elif self.done < self.total:
            self._line.show(f"{self.label} {self.done + 1}/{self.total}...")
        else:
            self._line.clear()
