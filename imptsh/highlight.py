"""Syntax highlighting of Squirrel source code for terminal output.

Squirrel is a C-like language (`local`, `function`, `class`, `//` and `/* */` comments,
double-quoted strings); Pygments has no Squirrel lexer, so the JavaScript lexer is used: it
knows `function`, `class`, `return`, `if/else`, `for`, `while`, `null`, `true/false` and
the literal and comment syntax. Only used when colours are on; everything else prints plain.
"""

from __future__ import annotations

from functools import lru_cache

from pygments import highlight
from pygments.formatters import Terminal256Formatter
from pygments.lexer import Lexer
from pygments.lexers import JavascriptLexer

__all__ = ["highlight_squirrel"]


@lru_cache(maxsize=1)
def _lexer() -> Lexer:
    # Keep the text exactly as given: no stripped or added newlines, no tab expansion.
    return JavascriptLexer(stripnl=False, stripall=False, ensurenl=False, tabsize=0)


@lru_cache(maxsize=1)
def _formatter() -> Terminal256Formatter:
    return Terminal256Formatter(style="default")


def highlight_squirrel(code: str) -> str:
    """`code` with ANSI colour codes added; the text between the codes is unchanged and the
    result has exactly as many lines as `code` (every line's codes are closed on it)."""
    if not code:
        return code
    coloured = highlight(code, _lexer(), _formatter())
    lines = coloured.split("\n")
    wanted = code.count("\n") + 1
    if len(lines) > wanted:  # a formatter-added final newline
        lines = lines[: wanted - 1] + ["".join(lines[wanted - 1 :])]
    if len(lines) != wanted:
        return code
    return "\n".join(lines)
