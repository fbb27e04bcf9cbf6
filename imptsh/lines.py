"""The words of a typed command line, with where each one is in the text.

The shell uses this to split a line into its `;`-separated commands and to find option
values (secrets) without changing anything else in the line. Quoting follows the POSIX
shell: '...' is literal, "..." honours backslash escapes of `"`, `\\`, `$` and `` ` ``,
a backslash outside quotes escapes the next character, `#` at the start of a word starts
a comment that runs to the end of the line."""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = ";"
_DOUBLE_QUOTE_ESCAPES = '"\\$`'


class LineSyntaxError(ValueError):
    """A line that cannot be split into words, e.g. with a quotation mark never closed."""


@dataclass(frozen=True)
class Word:
    """One word: its text once quotes and escapes are removed, and its span in the line."""

    text: str
    start: int
    end: int
    separator: bool = False


def words(line: str) -> list[Word]:
    """The words of `line`, with every unquoted `;` as a separator word of its own."""
    return _scan(line)[0]


def _scan(line: str) -> tuple[list[Word], int]:
    """The words of `line` and where its commands end (a comment's start, or the end)."""
    found: list[Word] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char.isspace():
            i += 1
        elif char == SEPARATOR:
            found.append(Word(SEPARATOR, i, i + 1, separator=True))
            i += 1
        elif char == "#":
            return found, i
        else:
            word = _word(line, i)
            found.append(word)
            i = word.end
    return found, n


def _word(line: str, start: int) -> Word:
    text: list[str] = []
    i, n = start, len(line)
    while i < n and not line[i].isspace() and line[i] != SEPARATOR:
        char = line[i]
        if char == "'":
            close = line.find("'", i + 1)
            if close < 0:
                raise LineSyntaxError(_unclosed("'", i))
            text.append(line[i + 1 : close])
            i = close + 1
        elif char == '"':
            i += 1
            while True:
                if i >= n:
                    raise LineSyntaxError(_unclosed('"', line.rfind('"', 0, i)))
                if line[i] == '"':
                    i += 1
                    break
                if line[i] == "\\" and i + 1 < n and line[i + 1] in _DOUBLE_QUOTE_ESCAPES:
                    i += 1
                text.append(line[i])
                i += 1
        elif char == "\\":
            if i + 1 < n:
                text.append(line[i + 1])
            i += 2
        else:
            text.append(char)
            i += 1
    return Word("".join(text), start, min(i, n))


def _unclosed(mark: str, position: int) -> str:
    name = 'quotation mark (")' if mark == '"' else "apostrophe (')"
    return f"the {name} at position {position + 1} is never closed"


def split_commands(line: str) -> list[str]:
    """The commands of `line` in order, split at unquoted `;`, without a trailing comment
    (empty ones dropped)."""
    commands: list[str] = []
    start = 0
    found, end = _scan(line)
    for word in found:
        if word.separator:
            commands.append(line[start : word.start])
            start = word.end
    commands.append(line[start:end])
    return [c.strip() for c in commands if c.strip()]
