"""The `imptsh` entry point: imptsh's own flags, then the shell, one command, or a script."""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .api.endpoints import endpoint_problem
from .commands.registry import GROUP_DESCRIPTIONS, is_group

if TYPE_CHECKING:
    from .bundled_sim import BundledSimulator
    from .context import SessionLogin
    from .session import Session

# What runs a command (the session, the requester, the command's group) is imported once
# the command line is known to need it: `--version`, `--help` and usage errors load none of
# it, and a one-shot command loads only its own group (see commands/registry.py).

__all__ = ["main", "simulator"]

USAGE = """\
Usage:
  imptsh [FLAGS]                          start the interactive shell
  imptsh [FLAGS] GROUP COMMAND [OPTIONS]  run one impt command and exit with its status
  imptsh [FLAGS] -c "COMMAND LINE"        run one command line
  imptsh [FLAGS] FILE                     run a script file line by line

Flags:
  --sim               start the bundled impCentral simulator and log in to it for this
                      session only (no auth file or IMPT_* variable is read or written)
  --devices N         number of simulated devices with --sim (default 3)
  --endpoint URL      default endpoint for `auth login` in this session (http:// or https://)
  -c LINE             run LINE and exit
  --keep-going        in a script, go on after a failing line (exit status 1 at the end)
  --rc FILE           run FILE before the first command instead of ~/.imptrc and ./.imptrc
  --no-rc             do not run any startup file
  --version           print the version and exit
  --help, -h          print this help and exit

Command groups:
"""


class CliError(Exception):
    pass


@dataclass
class Flags:
    sim: bool = False
    devices: int = 3
    endpoint: str | None = None
    command_line: str | None = None
    keep_going: bool = False
    rc: str | None = None
    no_rc: bool = False
    rest: list[str] = field(default_factory=list)


def parse_flags(argv: list[str]) -> Flags | str:
    """imptsh's flags come before the command; returns Flags or a word to print and exit."""
    flags = Flags()
    i = 0

    def value(name: str) -> str:
        nonlocal i
        if i + 1 >= len(argv):
            raise CliError(f"{name} needs a value.")
        i += 1
        return argv[i]

    while i < len(argv):
        arg = argv[i]
        if arg in ("--help", "-h"):
            return "help"
        if arg == "--version":
            return "version"
        if arg == "--sim":
            flags.sim = True
        elif arg == "--devices":
            raw = value("--devices")
            if not raw.isdigit() or not 0 <= int(raw) <= 1000:
                raise CliError(f"--devices takes a whole number from 0 to 1000, not {raw!r}.")
            flags.devices = int(raw)
        elif arg == "--endpoint":
            flags.endpoint = value("--endpoint")
            problem = endpoint_problem(flags.endpoint)
            if problem is not None:
                raise CliError(
                    f'--endpoint "{flags.endpoint}" is not an impCentral API endpoint: it '
                    f"{problem} (e.g. https://api.electricimp.com/v5)."
                )
        elif arg == "-c":
            flags.command_line = value("-c")
        elif arg == "--keep-going":
            flags.keep_going = True
        elif arg == "--rc":
            flags.rc = value("--rc")
        elif arg == "--no-rc":
            flags.no_rc = True
        elif arg.startswith("-"):
            raise CliError(
                f"Unknown flag: {arg}. imptsh's flags are --sim, --devices, --endpoint, -c, "
                "--keep-going, --rc, --no-rc, --version and --help; impt options go after "
                "GROUP COMMAND."
            )
        else:
            flags.rest = argv[i:]
            break
        i += 1
    if flags.sim and flags.endpoint is not None:
        raise CliError(
            "--sim and --endpoint cannot be used together: --sim talks only to the bundled "
            "simulator."
        )
    return flags


def help_text() -> str:
    width = max(len(g) for g in GROUP_DESCRIPTIONS) + 2
    lines = [f"  {name.ljust(width)}{text}" for name, text in GROUP_DESCRIPTIONS.items()]
    return USAGE + "\n".join(lines) + "\n\nRun `imptsh GROUP --help` for a group's commands."


@contextmanager
def simulator(devices: int) -> Iterator[tuple[str, SessionLogin]]:
    """The bundled simulator on a free loopback port, logged in as its demo user (started
    at once)."""
    from .bundled_sim import BundledSimulator

    bundled = BundledSimulator(devices)
    try:
        bundled.wait()
        yield bundled.endpoint, bundled.login
    finally:
        bundled.stop()


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates a great deal and frees little: the garbage collector would only
    # slow the first prompt down. It runs again once the prompt is drawn (or at the end).
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        gc.enable()


def _main(argv: list[str]) -> int:
    try:
        flags = parse_flags(argv)
    except CliError as exc:
        print(f"imptsh: {exc}", file=sys.stderr)
        return 2
    if flags == "help":
        print(help_text())
        return 0
    if flags == "version":
        print(__version__)
        return 0
    assert isinstance(flags, Flags)
    from .session import Session

    try:
        if flags.sim:
            from .bundled_sim import BundledSimulator

            bundled = BundledSimulator(flags.devices)
            try:
                banner = (
                    f"Connected to the bundled impCentral simulator at {bundled.endpoint} as "
                    f'user "demo" with {flags.devices} simulated devices. This login lives only '
                    "in this session: no auth file or IMPT_* variable is used, and commands "
                    "never reach impCentral."
                )
                session = Session(session_login=bundled.login, default_endpoint=bundled.endpoint)
                return run(flags, session, banner, bundled=bundled)
            finally:
                bundled.stop()
        session = Session(default_endpoint=flags.endpoint)
        return run(flags, session, _endpoint_banner(session) if flags.endpoint else "")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _output_closed()


def _output_closed() -> int:
    """Whoever read imptsh's output has gone (`imptsh ... | head -1`): stop quietly, as a
    Unix tool killed by SIGPIPE does, and keep Python from complaining at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _endpoint_banner(session: Session) -> str:
    from .context import ContextError

    lines = [f"auth login in this session logs in to {session.default_endpoint}."]
    try:
        ctx = session.context()
    except ContextError:
        return lines[0]
    if ctx.endpoint != session.default_endpoint:
        lines.append(
            f"Until then commands use the existing login ({ctx.auth_type}) at {ctx.endpoint}."
        )
    return " ".join(lines)


def run(
    flags: Flags,
    session: Session,
    banner: str = "",
    bundled: BundledSimulator | None = None,
) -> int:
    """Runs what `flags` ask for. `bundled` is the `--sim` simulator: an interactive shell
    starts it once its first prompt is shown (and shows its notice above the prompt),
    anything else at once (its notice on stderr)."""
    rest = flags.rest
    interactive = flags.command_line is None and not rest and sys.stdin.isatty()
    if not interactive:
        gc.enable()  # no prompt to hurry to
        if bundled is not None:
            bundled.start(notify=_print_notice)
    if rest and is_group(rest[0]) and flags.command_line is None:
        from .commands.runner import run_line

        if flags.rc:
            status = _make_shell(session).run_file(Path(flags.rc), keep_going=True)
            if status:
                return status
        return run_line(session, rest, sys.stdout)
    if flags.command_line is not None and rest:
        print(
            f"imptsh: -c takes the whole command line; unexpected: {' '.join(rest)}",
            file=sys.stderr,
        )
        return 2
    if rest and (len(rest) > 1 or not Path(rest[0]).is_file()):
        print(
            f"imptsh: {rest[0]!r} is neither a command group "
            f"({', '.join(GROUP_DESCRIPTIONS)}) nor a script file.",
            file=sys.stderr,
        )
        return 2
    from .script import ScriptRunner

    # A script's lines of impt commands run without the shell; it starts when a line needs it.
    script = ScriptRunner(session, lambda: _make_shell(session, interactive=interactive))
    if flags.command_line is not None:
        # one command line, like one-shot mode: a log stream runs until Ctrl-C
        if flags.rc:
            script.shell.run_file(Path(flags.rc), keep_going=True)
        return script.run_command_line(flags.command_line)
    # In the shell and in scripts, log streams are background tasks.
    if interactive:
        script.shell.run_logs_in_background(above_prompt=True)
    else:
        script.run_logs_in_background()
    try:
        if flags.rc:
            script.shell.run_file(Path(flags.rc), keep_going=True)
        if rest:
            return script.run_file(Path(rest[0]), keep_going=flags.keep_going)
        if not interactive:
            try:
                return script.run_lines("<stdin>", _stdin_lines(), keep_going=flags.keep_going)
            except _StdinNotText:
                return 1
        shell = script.shell
        if not flags.no_rc and not flags.rc:
            for rc in _default_rc_files(session):
                shell.run_file(rc, keep_going=True)
        if shell.quitting:
            return shell.exit_code
        if banner:
            shell.poutput(banner)
        shell.after_first_prompt(_collect_garbage_again)
        if bundled is not None:
            shell.after_first_prompt(lambda: bundled.start(notify=shell.alert))
        shell.refresh_prompt()
        shell.exit_code = 0
        return shell.cmdloop()
    finally:
        _end_log_tasks(session, announce=not interactive)


def _print_notice(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _end_log_tasks(session: Session, *, announce: bool) -> None:
    """Background log tasks end with the script or the shell that started them."""
    tasks = session.started_log_tasks
    if tasks is None:
        return  # no command asked for the log machinery: nothing to stop
    for task in tasks.stop_all("the script ended" if announce else "imptsh ended"):
        if announce:
            print(f"Log task {task.id} is stopped: the script has ended.", flush=True)


def _collect_garbage_again() -> None:
    """What start-up left is there to stay: the collector leaves it alone from now on."""
    gc.freeze()
    gc.enable()


def _make_shell(session: Session, *, interactive: bool = False):  # noqa: ANN202 - lazy cmd2
    """The shell; only an interactive one keeps a history file."""
    from .shell import ImptShell, history_path

    return ImptShell(session, history_file=history_path(session.env) if interactive else None)


def _default_rc_files(session: Session) -> list[Path]:
    home_rc = session.home / ".imptrc"
    local_rc = Path(os.getcwd()) / ".imptrc"
    files = [p for p in (home_rc, local_rc) if p.is_file()]
    return list(dict.fromkeys(p.resolve() for p in files))


def _stdin_lines() -> Iterator[str]:
    """The lines of a script on standard input, as they arrive; one that is not UTF-8
    ends the script (it is named, nothing after it runs)."""
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            print(
                f"imptsh: <stdin>:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                f"column {exc.start + 1}); nothing from there on runs.",
                file=sys.stderr,
            )
            raise _StdinNotText() from None


class _StdinNotText(Exception):
    pass


if __name__ == "__main__":
    sys.exit(main())
