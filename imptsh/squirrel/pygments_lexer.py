"""A Pygments lexer for Squirrel, built on :func:`imptsh.squirrel.tokenize`.

This module imports Pygments; import it only when something is to be highlighted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pygments.lexer import Lexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    _TokenType,
)

from .lexer import tokenize
from .tokens import Token, TokenKind

__all__ = ["SquirrelLexer"]

_CONSTANTS = frozenset({"true", "false", "null"})
_DECLARATIONS = frozenset({"local", "const", "enum", "static", "function", "class"})
_PSEUDO = frozenset({"this", "base", "__LINE__", "__FILE__"})
_WORD_OPERATORS = frozenset({"in", "instanceof", "typeof", "delete", "clone"})
_BUILTINS = frozenset(
    {
        # impOS globals on devices and agents
        "imp",
        "server",
        "hardware",
        "agent",
        "device",
        "http",
        "nv",
        "crypto",
        # the Squirrel standard library as impOS provides it
        "array",
        "blob",
        "clock",
        "date",
        "format",
        "getroottable",
        "math",
        "regexp",
        "split",
        "time",
        "type",
    }
)
_STRING_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{1,4}|.)", re.DOTALL)
_VERBATIM_QUOTE = re.compile('""')

_KIND_TYPES: dict[TokenKind, _TokenType] = {
    TokenKind.CHAR: String.Char,
    TokenKind.OPERATOR: Operator,
    TokenKind.PUNCT: Punctuation,
    TokenKind.WHITESPACE: Text,  # uncoloured: no codes around every space
    TokenKind.NEWLINE: Text,
    TokenKind.ERROR: Error,
}


class SquirrelLexer(Lexer):
    """Squirrel 3 (Electric Imp's language); the text is never altered (no newline
    normalisation when driven through :meth:`get_tokens_unprocessed`)."""

    name = "Squirrel"
    aliases = ["squirrel", "nut"]
    filenames = ["*.nut"]

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, _TokenType, str]]:
        previous: Token | None = None  # the previous code token
        for token in tokenize(text):
            if token.kind in (TokenKind.STRING, TokenKind.VERBATIM):
                yield from _string_parts(token)
            else:
                yield token.offset, _token_type(token, previous), token.text
            if token.kind not in (TokenKind.WHITESPACE, TokenKind.NEWLINE, TokenKind.COMMENT):
                previous = token


def _token_type(token: Token, previous: Token | None) -> _TokenType:
    kind, text = token.kind, token.text
    if kind is TokenKind.KEYWORD:
        if text in _CONSTANTS:
            return Keyword.Constant
        if text in _PSEUDO:
            return Name.Builtin.Pseudo
        if text in _WORD_OPERATORS:
            return Operator.Word
        if text in _DECLARATIONS:
            return Keyword.Declaration
        return Keyword
    if kind is TokenKind.IDENT:
        after = previous.text if previous is not None else ""
        if after == "function":
            return Name.Function
        if after in ("class", "extends"):
            return Name.Class
        if text in _BUILTINS and after != ".":
            return Name.Builtin
        return Name
    if kind is TokenKind.NUMBER:
        return _number_type(text)
    if kind is TokenKind.COMMENT:
        return Comment.Multiline if text.startswith("/*") else Comment.Single
    return _KIND_TYPES[kind]


def _number_type(text: str) -> _TokenType:
    if text[:2] in ("0x", "0X"):
        return Number.Hex
    if any(c in text for c in ".eE"):
        return Number.Float
    if len(text) > 1 and text[0] == "0" and all(c in "01234567" for c in text):
        return Number.Oct
    return Number.Integer


def _string_parts(token: Token) -> Iterator[tuple[int, _TokenType, str]]:
    """A string literal as String.Double runs and String.Escape sequences (`\\n` in a
    string, `""` in a verbatim string)."""
    text, verbatim = token.text, token.kind is TokenKind.VERBATIM
    escapes = _VERBATIM_QUOTE if verbatim else _STRING_ESCAPE
    position = 0
    for match in escapes.finditer(text, 2 if verbatim else 1, len(text) - 1):
        if match.start() > position:
            yield token.offset + position, String.Double, text[position : match.start()]
        yield token.offset + match.start(), String.Escape, match.group()
        position = match.end()
    yield token.offset + position, String.Double, text[position:]
