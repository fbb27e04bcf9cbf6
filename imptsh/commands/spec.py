"""Declarative command specs and impt's option parser (yargs rules as impt configures them)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.endpoints import endpoint_problem
from ..output.render import escape_controls

# Option kinds (commands.md §1.2).
VALUE = "value"  # one value, must not be empty
EMPTY_OK = "empty_ok"  # one value, "" allowed
FLAG = "flag"  # no value; a following true/false is consumed
OPT_BOOL = "opt_bool"  # [true|false], bare means true
NUMBER = "number"  # numeric value
POS_INT = "pos_int"  # positive integer
URL = "url"  # an http:// or https:// URL

# Input rules every string option follows: no empty or white-space-only value unless the
# kind allows "" (then "" is the only blank value), and no control characters. Passwords
# are taken as typed; free text may have tabs and line breaks.
ANY_TEXT = frozenset({"pwd"})
FREE_TEXT = frozenset({"descr"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FREE_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_NUMERIC = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")


class UsageError(Exception):
    """A syntax error found before anything runs; printed with the command's usage."""

    def __init__(self, message: str):
        message = escape_controls(message)  # it may quote what was typed
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Option:
    long: str
    alias: str | None
    help: str
    kind: str = VALUE
    placeholder: str | None = None
    required: bool = False
    repeat: bool = False
    choices: tuple[str, ...] | None = None
    default: Any = None
    complete: str | None = None
    """What completes the value: "file" (a path), an entity kind (`device`), or a kind and
    one of its identification attributes (`build:tags`)."""

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.kind not in (FLAG, OPT_BOOL)

    def usage(self) -> str:
        text = f"--{self.long}"
        if self.kind == OPT_BOOL:
            text += " [true|false]"
        elif self.placeholder:
            text += f" {self.placeholder}"
        return text if self.required else f"[{text}]"

    def type_tag(self) -> str:
        if self.repeat:
            return "[array]"
        if self.kind in (FLAG, OPT_BOOL):
            return "[boolean]"
        if self.kind in (NUMBER, POS_INT):
            return "[number]"
        return "[string]"


OUTPUT = Option(
    "output",
    "z",
    "Adjusts the command's output.",
    placeholder="<mode>",
    choices=("minimal", "json", "debug"),
)
HELP = Option("help", "h", "Displays description of the command. Ignores any other options.", FLAG)


class Args:
    """Parsed options: attribute access by option name (dashes as underscores)."""

    def __init__(self, values: dict[str, Any], given: set[str]):
        self._values = values
        self._given = given

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def given(self, dest: str) -> bool:
        return dest in self._given

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


Handler = Callable[..., Any]
Check = Callable[[Args], str | None]


@dataclass
class Command:
    group: str
    name: str
    description: str
    options: tuple[Option, ...]
    handler: Handler
    check: Check | None = None
    usage_text: str | None = None
    shell_only: bool = False

    @property
    def all_options(self) -> tuple[Option, ...]:
        return (*self.options, OUTPUT, HELP)

    @property
    def prefix(self) -> str:
        """How the command line starts: `impt ` for impt's commands, nothing for imptsh's."""
        return "" if self.shell_only else "impt "

    def usage(self) -> str:
        if self.usage_text:
            return f"{self.prefix}{self.group} {self.name} {self.usage_text}"
        parts = [opt.usage() for opt in self.all_options]
        return f"{self.prefix}{self.group} {self.name} " + " ".join(parts)

    def find(self, name: str, *, short: bool) -> Option | None:
        for opt in self.all_options:
            if (opt.alias if short else opt.long) == name:
                return opt
        return None

    def help_text(self) -> str:
        lines = ["", "Usage: " + _wrap(self.usage(), 80), "", _wrap(self.description, 80), ""]
        lines.append("Options:")
        rows = []
        for opt in self.all_options:
            flags = f"--{opt.long}" + (f", -{opt.alias}" if opt.alias else "")
            tags = [opt.type_tag()]
            if opt.required:
                tags.append("[required]")
            if opt.choices:
                tags.append("[choices: " + ", ".join(f'"{c}"' for c in opt.choices) + "]")
            desc = opt.help + (" (may be repeated several times)" if opt.repeat else "")
            rows.append((flags, desc, " ".join(tags)))
        width = max(len(r[0]) for r in rows) + 2
        for flags, desc, tags in rows:
            body = textwrap.wrap(f"{desc}  {tags}", 78 - width - 2) or [""]
            lines.append(f"  {flags.ljust(width)}{body[0]}")
            lines.extend(" " * (width + 2) + more for more in body[1:])
        return "\n".join(lines)

    def parse(self, tokens: list[str]) -> Args:
        return parse_options(self, tokens)


@dataclass
class Group:
    name: str
    description: str
    commands: dict[str, Command] = field(default_factory=dict)
    shell_only: bool = False
    """imptsh's own commands (not impt's): usage without `impt`, no impt status lines."""

    def command(
        self,
        name: str,
        description: str,
        options: list[Option] | tuple[Option, ...] = (),
        *,
        check: Check | None = None,
        usage: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[name] = Command(
                self.name,
                name,
                description,
                tuple(options),
                handler,
                check,
                usage,
                self.shell_only,
            )
            return handler

        return register

    @property
    def prefix(self) -> str:
        return "" if self.shell_only else "impt "

    def usage(self) -> str:
        return f"{self.prefix}{self.name} <command> [options]"

    def help_text(self) -> str:
        lines = ["", f"Usage: {self.usage()}", "", self.description, "", "Commands:"]
        width = max(len(f"{self.prefix}{self.name} {n}") for n in self.commands) + 2
        for name, cmd in self.commands.items():
            summary = cmd.description.split(". ")[0].rstrip(".") + "."
            lines.append(f"  {f'{self.prefix}{self.name} {name}'.ljust(width)}{summary}")
        lines += ["", "Options:", "  --help, -h  Displays description of the command.  [boolean]"]
        return "\n".join(lines)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def wants_help(tokens: list[str]) -> bool:
    return any(t in ("--help", "-h") or t.startswith("--help=") for t in tokens)


def parse_options(command: Command, tokens: list[str]) -> Args:
    values: dict[str, Any] = {}
    given: set[str] = set()
    unknown: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("-") or token == "-" or _NUMERIC.match(token):
            positional.append(token)
            continue
        short = not token.startswith("--")
        name = token[1:] if short else token[2:]
        inline: str | None = None
        if "=" in name:
            name, inline = name.split("=", 1)
        opt = command.find(name, short=short)
        if opt is None:
            unknown.append(name)
            continue
        if opt.dest in given and not opt.repeat:
            raise UsageError(f'Option "--{opt.long}" must not be specified multiple times.')
        given.add(opt.dest)
        if opt.kind in (FLAG, OPT_BOOL):
            word = inline
            if word is None and i < len(tokens) and tokens[i] in ("true", "false"):
                word = tokens[i]
                i += 1
            if word is None:
                value: Any = True
            elif word in ("true", "false"):
                if opt.kind == FLAG and word == "false":
                    raise UsageError(f'Option "--{opt.long}" has incorrect value "false".')
                value = word == "true"
            else:
                raise UsageError(f'Option "--{opt.long}" has incorrect value "{word}".')
            values[opt.dest] = value
            continue
        if inline is None:
            if i >= len(tokens) or (tokens[i].startswith("-") and not _NUMERIC.match(tokens[i])):
                raise UsageError(f"Not enough arguments following: {name}")
            inline = tokens[i]
            i += 1
        value = _convert(opt, inline)
        if opt.repeat:
            values.setdefault(opt.dest, []).append(value)
        else:
            values[opt.dest] = value
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise UsageError(f"Unknown argument{plural}: {', '.join(unknown)}")
    if positional:
        raise UsageError(f"Unknown arguments: {', '.join(positional)}.")
    missing = [opt.long for opt in command.all_options if opt.required and opt.dest not in given]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise UsageError(f"Missing required argument{plural}: {', '.join(missing)}")
    for opt in command.all_options:
        if opt.dest not in values:
            values[opt.dest] = [] if opt.repeat else opt.default
    args = Args(values, given)
    if command.check is not None:
        problem = command.check(args)
        if problem:
            raise UsageError(problem)
    return args


def _convert(opt: Option, raw: str) -> Any:
    if opt.choices is not None and raw not in opt.choices:
        choices = ", ".join(f'"{c}"' for c in opt.choices)
        raise UsageError(
            f'Invalid values:\n  Argument: {opt.long}, Given: "{raw}", Choices: {choices}'
        )
    if opt.kind in (VALUE, EMPTY_OK, URL) and opt.long not in ANY_TEXT:
        _check_text(opt, raw)
    if opt.kind == URL:
        problem = endpoint_problem(raw)
        if problem is not None:
            raise UsageError(
                f'Option "--{opt.long}" must be an http:// or https:// URL: "{raw}" {problem}.'
            )
    if opt.kind in (NUMBER, POS_INT):
        if not _NUMERIC.match(raw.strip()):
            raise UsageError(f'Option "--{opt.long}" must be a number.')
        number = float(raw)
        if opt.kind == POS_INT:
            if number <= 0 or number != int(number):
                raise UsageError(f'Option "--{opt.long}" must have a positive integer value.')
            return int(number)
        return int(number) if number == int(number) else number
    return raw


def _check_text(opt: Option, raw: str) -> None:
    """The rules every string value follows (see ANY_TEXT)."""
    may_be_empty = opt.kind == EMPTY_OK or opt.repeat
    if raw == "" and not may_be_empty:
        raise UsageError(f'Option "--{opt.long}" must not be empty.')
    if raw and not raw.strip():
        if may_be_empty:
            raise UsageError(
                f'Option "--{opt.long}" must not be only white space (give "" for an empty value).'
            )
        raise UsageError(f'Option "--{opt.long}" must not be empty.')
    control = (_FREE_TEXT_CONTROL if opt.long in FREE_TEXT else _CONTROL).search(raw)
    if control is not None:
        raise UsageError(
            f'Option "--{opt.long}" must not contain control characters '
            f"(\\x{ord(control.group()):02x} at position {control.start() + 1})."
        )
