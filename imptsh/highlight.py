"""Terminal colours for what imptsh prints: Squirrel source code, JSON output, log lines.

Callers decide whether colours are wanted (`output.printer.color_wanted`); these functions
only add ANSI codes. The text between the codes is always the text given, and every line's
codes are closed on that line, so the result has exactly as many lines as the input.

Pygments is imported on the first call that needs it, never when this module is imported:
most commands print no colour at all and start-up time matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygments.lexer import Lexer

__all__ = ["LOG_COLOURS", "highlight_json", "highlight_log_line", "highlight_squirrel"]

LOG_COLOURS: dict[str, tuple[str, str]] = {
    "server.error": ("\x1b[31m", "\x1b[39m"),  # red
    "agent.error": ("\x1b[31m", "\x1b[39m"),
    "lastexitcode": ("\x1b[33m", "\x1b[39m"),  # yellow: why the device last restarted
    "agent.log": ("\x1b[35m", "\x1b[39m"),  # magenta, to tell agent from device lines
    "status": ("\x1b[36m", "\x1b[39m"),  # cyan: connection and code-load events
    "powerstate": ("\x1b[36m", "\x1b[39m"),
    "firmware": ("\x1b[36m", "\x1b[39m"),
    "server.sleep": ("\x1b[2m", "\x1b[22m"),  # dim
}
"""Log type → (start, end) codes; a type not listed (`server.log`, ...) keeps the default
colour."""


@lru_cache(maxsize=1)
def _squirrel_lexer() -> Lexer:
    from .squirrel.pygments_lexer import SquirrelLexer

    return SquirrelLexer()


@lru_cache(maxsize=1)
def _json_lexer() -> Lexer:
    from pygments.lexers import JsonLexer

    return JsonLexer()


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import Terminal256Formatter

    return Terminal256Formatter(style="default")


def _coloured(text: str, lexer: Lexer) -> str:
    if not text:
        return text
    from pygments import format as pygments_format

    # get_tokens_unprocessed, not get_tokens: the latter rewrites `\r\n`, strips a BOM and
    # adds a final newline, and the text must stay exactly as given. The formatter closes
    # its codes before every newline, so the line count stays too.
    tokens: Iterable[tuple[Any, str]] = (
        (ttype, value) for _, ttype, value in lexer.get_tokens_unprocessed(text)
    )
    return pygments_format(tokens, _formatter())


def highlight_squirrel(code: str) -> str:
    """`code` with ANSI colour codes added; the text between the codes is unchanged and the
    result has exactly as many lines as `code` (every line's codes are closed on it)."""
    return _coloured(code, _squirrel_lexer())


def highlight_json(text: str) -> str:
    """JSON text (as `-z json` prints it) with ANSI colour codes, same contract as
    :func:`highlight_squirrel`."""
    return _coloured(text, _json_lexer())


def highlight_log_line(log_type: str, line: str) -> str:
    """A log line coloured by its log type (`server.error` red, `agent.log` magenta,
    `status` cyan, ...); `server.log` and unknown types are returned as they are. Each line
    of a multi-line message is coloured on its own."""
    codes = LOG_COLOURS.get(log_type)
    if codes is None or not line:
        return line
    start, end = codes
    return "\n".join(f"{start}{part}{end}" if part else part for part in line.split("\n"))
