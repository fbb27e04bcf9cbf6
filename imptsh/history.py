"""Command history without secrets, in a file only its owner can read.

Every line that goes into the shell's history (the `history` command, the persistent file
and the line editor's up-arrow recall) has the values of password, login key and unbond key
options, and of `IMPT_PASSWORD=`/`IMPT_LOGINKEY=` assignments, replaced by `***`."""

from __future__ import annotations

import contextlib
import lzma
import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from cmd2.history import History, HistoryItem
from cmd2.parsing import Statement
from cmd2.pt_utils import Cmd2History

from .commands.registry import groups
from .commands.spec import Command
from .files import write_bytes_atomically
from .lines import LineSyntaxError, Word, words

MASK = "***"
SECRET_OPTIONS = frozenset(
    {"pwd", "password", "lk", "loginkey", "login-key", "unbond", "token", "refresh-token"}
)
SECRET_VARIABLES = ("IMPT_PASSWORD", "IMPT_LOGINKEY")
# What a short option means where the command is not known (inside an alias definition...):
# only the aliases that mean a secret in every impt command that has them.
_SECRET_SHORTS = {"w": "pwd", "k": "lk"}
FILE_MODE = 0o600


def history_path(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "imptsh" / "history"


def scrub_line(line: str) -> str:
    """`line` with every secret value replaced by `***`, the rest unchanged."""
    if not _may_hold_secret(line):
        return line  # most lines: a long history loads at start-up
    try:
        found = words(line)
    except LineSyntaxError:
        found = _plain_words(line)
    replacements: list[tuple[int, int, str]] = []
    command: Command | None = None
    value_next = False  # the word is the value of the option before it
    for index, word in enumerate(found):
        following = found[index + 1] if index + 1 < len(found) else None
        if word.separator:
            command, value_next = None, False
            continue
        if value_next:
            value_next = False
            continue
        if following is not None and not following.separator:
            command = _command_named(word.text, following.text) or command
        shortcut = "!" if word.text.startswith("!") else ""
        for variable in SECRET_VARIABLES:
            if word.text[len(shortcut) :].startswith(variable + "="):
                replacements.append((word.start, word.end, f"{shortcut}{variable}={MASK}"))
        if not word.text.startswith("-") or word.text == "-":
            continue
        flag, equals, _ = word.text.partition("=")
        name = _option_name(flag, command)
        if name in SECRET_OPTIONS:
            if equals:
                replacements.append((word.start, word.end, f"{flag}={MASK}"))
            elif following is not None and not following.separator:
                replacements.append((following.start, following.end, MASK))
                value_next = True
        elif not equals and command is not None:
            option = command.find(name, short=False)
            value_next = option is not None and option.takes_value
    for start, end, text in sorted(replacements, reverse=True):
        line = line[:start] + text + line[end:]
    return line


_QUOTING = re.compile(r"['\"\\]")
_BLANKS = re.compile(r"[\s;]+")


def _may_hold_secret(line: str) -> bool:
    """False only for a line that surely holds no secret: no quote or backslash (so every
    word is as written), no secret variable and no word that is a secret option's flag."""
    if _QUOTING.search(line) or any(variable in line for variable in SECRET_VARIABLES):
        return True
    flags = _secret_flags()
    return any(
        word.startswith("-") and word.partition("=")[0] in flags for word in _BLANKS.split(line)
    )


@lru_cache(maxsize=1)
def _secret_flags() -> frozenset[str]:
    """Every flag that may name a secret option in some command (or where none is known)."""
    shorts = {
        option.alias
        for group in groups().values()
        for command in group.commands.values()
        for option in command.all_options
        if option.long in SECRET_OPTIONS and option.alias
    }
    shorts |= set(_SECRET_SHORTS)
    return frozenset(
        {f"--{name}" for name in SECRET_OPTIONS}
        | {f"-{name}" for name in SECRET_OPTIONS}
        | {f"-{short}" for short in shorts}
    )


def _plain_words(line: str) -> list[Word]:
    """Whitespace-separated words, for a line whose quoting is broken."""
    found: list[Word] = []
    start = None
    for i, char in enumerate(line + " "):
        if char.isspace():
            if start is not None:
                found.append(Word(line[start:i], start, i))
                start = None
        elif start is None:
            start = i
    return found


def _command_named(group: str, name: str) -> Command | None:
    found = groups().get(group)
    return found.commands.get(name) if found is not None else None


def _option_name(flag: str, command: Command | None) -> str:
    if flag.startswith("--"):
        return flag[2:]
    short = flag[1:]
    if command is not None:
        option = command.find(short, short=True)
        return option.long if option is not None else short
    return _SECRET_SHORTS.get(short, short)


def scrub_statement(statement: Statement, parse: Callable[[str], Statement]) -> Statement:
    """The statement as the history keeps it: re-parsed from its scrubbed text."""
    clean = scrub_line(statement.raw)
    if clean == statement.raw:
        return statement
    try:
        return parse(clean)
    except Exception:  # noqa: BLE001 - whatever the parser thinks, keep no secret
        return Statement("", raw=clean)


class ScrubbedHistory(History):
    """The shell's history (`history`, the persistent file): nothing secret goes in."""

    def __init__(
        self, seq: Iterable[HistoryItem] = (), *, parse: Callable[[str], Statement]
    ) -> None:
        self._parse = parse
        super().__init__(HistoryItem(scrub_statement(item.statement, parse)) for item in seq)

    def append(self, new: Statement | HistoryItem) -> None:  # type: ignore[override]
        statement = new if isinstance(new, Statement) else new.statement
        super().append(HistoryItem(scrub_statement(statement, self._parse)))


class ScrubbedLineHistory(Cmd2History):
    """The line editor's history (up-arrow recall) of the interactive shell."""

    @classmethod
    def of_scrubbed(cls, lines: Iterable[str]) -> ScrubbedLineHistory:
        """The recall history of lines already scrubbed (the shell's history)."""
        recall = cls()
        for line in lines:
            Cmd2History.append_string(recall, line)
        return recall

    def append_string(self, string: str) -> None:
        super().append_string(scrub_line(string))


def secure_file(path: Path) -> None:
    """The history file's directory exists, and the file (if any) is readable by its owner
    only, whatever mode an older version created it with."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        if path.is_file() and (path.stat().st_mode & 0o777) != FILE_MODE:
            os.chmod(path, FILE_MODE)


def write_history(path: Path, history: History, length: int) -> None:
    """The persistent history file as cmd2 reads it (lzma-compressed JSON), mode 0600."""
    history.truncate(length)
    data = lzma.compress(history.to_json().encode("utf-8"))
    write_bytes_atomically(path, data, FILE_MODE)
