"""Squirrel 3 source code as Electric Imp runs it: a lossless tokenizer
(`tokenize(source)`, `code_tokens(tokens)`) and its token types."""

from __future__ import annotations

from .lexer import code_tokens, literal_value, tokenize
from .tokens import KEYWORDS, Token, TokenKind

__all__ = ["KEYWORDS", "Token", "TokenKind", "code_tokens", "literal_value", "tokenize"]
