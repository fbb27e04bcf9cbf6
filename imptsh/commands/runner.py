"""Runs one impt command line: parse, execute, print impt's status lines, return the status.

This is the single place where a failure becomes `Error: ...` + `IMPT COMMAND FAILS` and a
non-zero status, for the shell, one-shot mode and scripts alike."""

from __future__ import annotations

import json
from typing import IO, Any

from ..api.errors import (
    ApiError,
    ConnectionFailedError,
    ImpCentralError,
    InvalidEndpointError,
    RefreshFailedError,
    TokenExpiredError,
)
from ..context import ContextError
from ..errors import Canceled, CommandError
from ..invocation import Invocation
from ..output.printer import FAILS, Output, color_wanted
from ..output.render import escape_controls
from ..project import ProjectFileError
from ..session import Session
from . import registry
from .spec import OUTPUT, Command, UsageError, wants_help

OK, FAILED = 0, 1


def run_line(
    session: Session,
    tokens: list[str],
    stream: IO[str],
    *,
    full_usage: bool = True,
    shell: bool = False,
) -> int:
    """`tokens` is everything after `impt`: group, command and options (with `shell`, the
    shell's own groups too)."""
    if not tokens or not registry.is_group(tokens[0], shell=shell):
        if tokens and tokens[0] in ("--help", "-h"):
            stream.write(registry.root_help() + "\n")
            return OK
        return _usage_failure(stream, registry.root_help(), "Please specify a valid command.")
    group = registry.group(tokens[0])
    if len(tokens) < 2 or tokens[1].startswith("-"):
        if len(tokens) >= 2 and wants_help(tokens[1:]):
            stream.write(group.help_text() + "\n")
            return OK
        return _usage_failure(stream, group.help_text(), "Please specify a valid command.")
    command = group.commands.get(tokens[1])
    if command is None:
        return _usage_failure(stream, group.help_text(), f"Unknown argument: {tokens[1]}")
    return run_command(session, command, tokens[2:], stream, full_usage=full_usage)


def run_command(
    session: Session,
    command: Command,
    tokens: list[str],
    stream: IO[str],
    *,
    full_usage: bool = True,
) -> int:
    if wants_help(tokens):
        stream.write(command.help_text() + "\n")
        return OK
    try:
        args = command.parse(tokens)
    except UsageError as exc:
        usage = command.help_text() if full_usage else "\nUsage: " + command.usage() + "\n"
        return _usage_failure(stream, usage, exc.message, status_line=not command.shell_only)
    out = Output(args.output, stream, color_wanted(stream, session.env))
    inv = Invocation(session, command, args, out)
    try:
        command.handler(inv)
    except Canceled:
        out.canceled()
    except CommandError as exc:
        out.error(exc.message)
        if exc.blocks is not None:
            out.blocks(exc.blocks)
        out.info(*exc.hints)
    except ContextError as exc:
        out.error(exc.message)
        if exc.hint:
            out.info(exc.hint)
    except ProjectFileError as exc:
        out.error(exc.message)
    except ImpCentralError as exc:
        report_api_error(out, exc)
    except TokenExpiredError:
        label = inv.context.label if inv._context else "Auth"
        out.error(
            f"Access token is expired for the {label} File. "
            "Information required to refresh access token is not saved."
        )
        _relogin_hint(out, inv)
    except RefreshFailedError:
        label = inv.context.label if inv._context else "Auth"
        out.error(f"Impossible to refresh access token for the {label} File.")
        _relogin_hint(out, inv)
    except (ConnectionFailedError, InvalidEndpointError) as exc:
        out.error(str(exc))
    except ApiError as exc:
        out.error(f"Internal error: {exc}.")
    except KeyboardInterrupt:
        stream.write("\n")
        out.canceled()
    except BrokenPipeError:
        raise  # nobody reads the output any more: there is nobody to tell
    except OSError as exc:
        name = getattr(exc, "filename", None) or ""
        out.error(f"File error: {name}: {exc.strerror or exc}.")
    except Exception as exc:  # noqa: BLE001 - never a traceback, whatever went wrong
        out.error(f"Internal error: {exc or exc.__class__.__name__}.")
    else:
        if not command.shell_only:  # imptsh's own commands print no impt status line
            out.succeeded()
        return OK
    if not command.shell_only:
        out.failed()
    return FAILED


def report_api_error(out: Output, exc: ImpCentralError) -> None:
    """impt's report of an API error: one `Error: <title>: <detail>` per error entry whose
    status is not 2xx, each followed by the compiler's locations of its `meta` list (text
    modes: a line each; json: appended to the error's text)."""
    for err in _non_2xx(exc.errors):
        line = _error_line(err) or exc.message
        locations = _meta_locations(err)
        if out.is_json:
            out.error(" ".join([line, *locations]))
        else:
            out.error(line)
            for location in locations:
                out.write(escape_controls(location))


def _non_2xx(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    picked = [e for e in errors if not str(e.get("status", "")).startswith("2")]
    return picked or [{}]


def _error_line(err: dict[str, Any]) -> str:
    title, detail = err.get("title"), err.get("detail")
    return f"{title}: {detail}" if title and detail else str(title or detail or "")


# impCentral's compile errors name the place as file/row/column; other tools and older
# documents say line/col. Whatever an item has is shown; an item with none of it is shown
# as it came.
_ROW_KEYS = ("row", "line")
_COLUMN_KEYS = ("column", "col")
_TEXT_KEYS = ("text", "message", "detail")


def _meta_locations(err: dict[str, Any]) -> list[str]:
    """`<file> <type> (line <row>, column <col>): <text>` for every item of a `meta` list."""
    meta = err.get("meta")
    if not isinstance(meta, list):
        return []
    return [_location(item) for item in meta if item not in (None, {}, "")]


def _location(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    row, column, text = (_first(item, keys) for keys in (_ROW_KEYS, _COLUMN_KEYS, _TEXT_KEYS))
    place = ", ".join(
        f"{name} {value}"
        for name, value in (("line", row), ("column", column))
        if value is not None
    )
    source = " ".join(str(item[k]) for k in ("file", "type") if item.get(k))
    where = " ".join(part for part in (source, f"({place})" if place else "") if part)
    if not where:
        return str(text) if text is not None else json.dumps(item, ensure_ascii=False)
    return f"{where}: {text}" if text is not None else where


def _first(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


def _relogin_hint(out: Output, inv: Invocation) -> None:
    ctx = inv._context
    if ctx is not None and ctx.file is not None:
        hint = ctx.file.relogin_hint()
        if hint:
            out.info(hint)


def _usage_failure(stream: IO[str], usage: str, message: str, *, status_line: bool = True) -> int:
    stream.write(f"{usage}\nError: {message}\n" + (f"{FAILS}\n" if status_line else ""))
    stream.flush()
    return FAILED


def output_mode(tokens: list[str]) -> str | None:
    """The `-z` mode of a command line, if it names a valid one (for early decisions)."""
    for i, token in enumerate(tokens):
        if token in ("-z", "--output") and i + 1 < len(tokens):
            return tokens[i + 1] if tokens[i + 1] in (OUTPUT.choices or ()) else None
        if token.startswith("--output="):
            return token.split("=", 1)[1]
    return None
