"""Failures a command reports to the user (the runner turns them into impt's lines)."""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """`Error: <message>`, then optional entity blocks, then optional INFO hint lines."""

    def __init__(self, message: str, blocks: Any = None, hints: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.blocks = blocks
        self.hints = hints


class Canceled(Exception):
    """The user declined a confirmation, pressed Ctrl-C at a prompt, or input ended."""
