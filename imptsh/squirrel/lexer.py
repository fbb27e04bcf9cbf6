"""A lossless tokenizer for Squirrel 3 source code, following the rules of Squirrel's own
lexer (`sqlexer.cpp`): the same operators, literals, comments and keywords.

Lossless: the tokens' texts joined are the source, whitespace and comments included, so the
tokens can both drive highlighting and locate things by line and column. It never raises:
whatever Squirrel's compiler would reject (an unterminated string or comment, a bad escape,
an invalid number, a stray character) becomes an ERROR token and lexing goes on.
"""

from __future__ import annotations

from collections.abc import Iterable

from .tokens import KEYWORDS, Token, TokenKind

__all__ = ["code_tokens", "literal_value", "tokenize"]

_SPACE = " \t\r"
_DIGITS = "0123456789"
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"
_IDENT_START = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_IDENT_PART = _IDENT_START + _DIGITS
_PUNCT = "{}()[];,"
_SIMPLE_ESCAPES = {
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "v": "\v",
    "f": "\f",
    "0": "\0",
    "\\": "\\",
    '"': '"',
    "'": "'",
}

# Operators by first character, longest first (Squirrel has no `&=`, `|=`, `^=` or `<<=`).
_OPERATORS: dict[str, tuple[str, ...]] = {
    "=": ("==", "="),
    "<": ("<=>", "<=", "<-", "<<", "</", "<"),
    ">": (">>>", ">=", ">>", ">"),
    "!": ("!=", "!"),
    "&": ("&&", "&"),
    "|": ("||", "|"),
    ":": ("::", ":"),
    "*": ("*=", "*"),
    "%": ("%=", "%"),
    "-": ("-=", "--", "-"),
    "+": ("+=", "++", "+"),
    "/": ("/=", "/>", "/"),
    "?": ("?",),
    "^": ("^",),
    "~": ("~",),
    "@": ("@",),
}


def tokenize(source: str) -> list[Token]:
    """All tokens of `source`, in order; `"".join(t.text for t in tokens) == source`."""
    return _Scanner(source).run()


def code_tokens(tokens: Iterable[Token]) -> list[Token]:
    """`tokens` without whitespace, newlines and comments."""
    skipped = (TokenKind.WHITESPACE, TokenKind.NEWLINE, TokenKind.COMMENT)
    return [t for t in tokens if t.kind not in skipped]


def literal_value(token: Token) -> str | None:
    """The text a STRING, VERBATIM or CHAR token stands for (escapes decoded); None for
    any other token."""
    text = token.text
    if token.kind is TokenKind.VERBATIM:
        return text[2:-1].replace('""', '"')
    if token.kind not in (TokenKind.STRING, TokenKind.CHAR):
        return None
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
            continue
        size, char = _escape(body, i)
        out.append(char or "")
        i += size
    return "".join(out)


def _escape(text: str, i: int) -> tuple[int, str | None]:
    """(length, decoded character) of the escape sequence at `text[i]` (a backslash); the
    character is None when Squirrel rejects the sequence."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt == "x":
        end = i + 2
        while end < len(text) and end < i + 6 and text[end] in _HEX:
            end += 1
        if end == i + 2:
            return 2, None
        return end - i, chr(int(text[i + 2 : end], 16))
    if nxt in _SIMPLE_ESCAPES:
        return 2, _SIMPLE_ESCAPES[nxt]
    if nxt in ("", "\n"):
        return 1, None
    return 2, None


class _Scanner:
    def __init__(self, source: str):
        self.src = source
        self.pos = 0
        self.line = 1
        self.column = 1
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        src = self.src
        while self.pos < len(src):
            kind, end = self._next(src[self.pos])
            self._emit(kind, end)
        return self.tokens

    def _emit(self, kind: TokenKind, end: int) -> None:
        text = self.src[self.pos : end]
        self.tokens.append(Token(kind, text, self.line, self.column, self.pos))
        newlines = text.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(text) - text.rfind("\n")
        else:
            self.column += len(text)
        self.pos = end

    def _peek(self, ahead: int = 1) -> str:
        i = self.pos + ahead
        return self.src[i] if i < len(self.src) else ""

    def _next(self, c: str) -> tuple[TokenKind, int]:
        """Kind and end of the token starting at `self.pos` with character `c`."""
        if c in _SPACE:
            return TokenKind.WHITESPACE, self._run_of(self.pos, _SPACE)
        if c == "\n":
            return TokenKind.NEWLINE, self.pos + 1
        if c == "#" or (c == "/" and self._peek() == "/"):
            end = self.src.find("\n", self.pos)
            return TokenKind.COMMENT, len(self.src) if end < 0 else end
        if c == "/" and self._peek() == "*":
            end = self.src.find("*/", self.pos + 2)
            if end < 0:
                return TokenKind.ERROR, len(self.src)
            return TokenKind.COMMENT, end + 2
        if c == "@" and self._peek() == '"':
            return self._verbatim()
        if c == '"' or c == "'":
            return self._quoted(c)
        if c in _DIGITS:
            return self._number()
        if c in _IDENT_START:
            end = self._run_of(self.pos, _IDENT_PART)
            word = self.src[self.pos : end]
            return (TokenKind.KEYWORD if word in KEYWORDS else TokenKind.IDENT), end
        if c in _PUNCT:
            return TokenKind.PUNCT, self.pos + 1
        if c == ".":
            if self._peek() != ".":
                return TokenKind.PUNCT, self.pos + 1
            if self._peek(2) == ".":
                return TokenKind.PUNCT, self.pos + 3
            return TokenKind.ERROR, self.pos + 2  # `..` is not a Squirrel token
        for op in _OPERATORS.get(c, ()):
            if self.src.startswith(op, self.pos):
                return TokenKind.OPERATOR, self.pos + len(op)
        return TokenKind.ERROR, self.pos + 1

    def _run_of(self, start: int, chars: str) -> int:
        end = start + 1
        while end < len(self.src) and self.src[end] in chars:
            end += 1
        return end

    def _verbatim(self) -> tuple[TokenKind, int]:
        src, i = self.src, self.pos + 2
        while True:
            close = src.find('"', i)
            if close < 0:
                return TokenKind.ERROR, len(src)
            if src.startswith('""', close):
                i = close + 2
                continue
            return TokenKind.VERBATIM, close + 1

    def _quoted(self, delim: str) -> tuple[TokenKind, int]:
        """A string or character literal; a newline or the end of the source before the
        closing delimiter ends an ERROR token (the newline is not part of it)."""
        src, i = self.src, self.pos + 1
        valid, units = True, 0
        while i < len(src) and src[i] != delim:
            if src[i] == "\n":
                return TokenKind.ERROR, i
            if src[i] == "\\":
                size, char = _escape(src, i)
                valid = valid and char is not None
                units += 1
                i += size
                continue
            units += len(src[i].encode("utf-8", "surrogatepass"))
            i += 1
        if i >= len(src):
            return TokenKind.ERROR, len(src)
        if not valid:
            return TokenKind.ERROR, i + 1
        if delim == "'":
            # A character constant is exactly one byte long.
            return (TokenKind.CHAR if units == 1 else TokenKind.ERROR), i + 1
        return TokenKind.STRING, i + 1

    def _number(self) -> tuple[TokenKind, int]:
        src, start = self.src, self.pos
        nxt = self._peek()
        if src[start] == "0" and nxt in ("x", "X"):
            end = start + 2
            while end < len(src) and src[end] in _HEX:
                end += 1
            return TokenKind.NUMBER, end
        if src[start] == "0" and nxt and nxt in _OCTAL:
            end = self._run_of(start + 1, _OCTAL)
            if end < len(src) and src[end] in _DIGITS:
                return TokenKind.ERROR, self._run_of(end, _DIGITS)  # 8 or 9 in an octal
            return TokenKind.NUMBER, end
        end = start + 1
        while end < len(src) and (src[end] in _DIGITS or src[end] in ".eE"):
            if src[end] in "eE":
                end += 1
                if end < len(src) and src[end] in "+-":
                    end += 1
                if end >= len(src) or src[end] not in _DIGITS:
                    return TokenKind.ERROR, end  # exponent expected
            end += 1
        return TokenKind.NUMBER, end
