"""What the Squirrel tokenizer produces: token kinds, tokens and the keyword table."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["KEYWORDS", "Token", "TokenKind"]


class TokenKind(enum.Enum):
    KEYWORD = "keyword"
    IDENT = "ident"
    NUMBER = "number"
    STRING = "string"
    """A double-quoted string literal, quotes included."""
    VERBATIM = "verbatim"
    """A verbatim string `@"..."`: may span lines, `""` stands for one quote, no escapes."""
    CHAR = "char"
    """A character literal `'a'` (an integer in Squirrel)."""
    COMMENT = "comment"
    OPERATOR = "operator"
    PUNCT = "punct"
    WHITESPACE = "whitespace"
    """A run of spaces, tabs and carriage returns."""
    NEWLINE = "newline"
    ERROR = "error"
    """Text the Squirrel compiler rejects: an unterminated string or comment, a bad escape,
    an invalid number, a character Squirrel has no token for."""


KEYWORDS: frozenset[str] = frozenset(
    """
    base break case catch class clone const constructor continue default delete do else enum
    extends false for foreach function if in instanceof local null resume return static switch
    this throw true try typeof while yield __LINE__ __FILE__
    """.split()
)
"""Squirrel 3's reserved words (the keyword table of its lexer)."""


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    line: int
    """1-based line of the token's first character."""
    column: int
    """1-based column (in characters) of the token's first character."""
    offset: int
    """Index of the token's first character in the source."""

    @property
    def end(self) -> int:
        """Index just past the token's last character."""
        return self.offset + len(self.text)

    def is_op(self, *texts: str) -> bool:
        """Whether this is an operator or punctuation token spelt as one of `texts`."""
        return self.kind in (TokenKind.OPERATOR, TokenKind.PUNCT) and self.text in texts
