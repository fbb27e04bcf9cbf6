"""The interactive shell: a cmd2 app with one CommandSet per impt command group.

Every command line, however it arrives (typed, `-c`, a script, `run_script`, a startup
file), goes through `onecmd_plus_hooks`: it is split at `;`, each command runs in order,
and every failure, impt's or a shell built-in's, ends with `IMPT COMMAND FAILS` and sets
the status."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cmd2
from cmd2 import CommandSet, Completions, Statement
from cmd2.exceptions import Cmd2ArgparseError, PassThroughException
from cmd2.parsing import StatementParser
from prompt_toolkit.key_binding import merge_key_bindings

from . import __version__, script, toolbar
from .commands.completion import complete_line
from .commands.registry import GROUP_DESCRIPTIONS, groups
from .commands.runner import run_line
from .commands.spec import Group
from .commands.tasks import run_tasks, shell_group
from .completion.refresher import CacheRefresher
from .history import (
    ScrubbedHistory,
    ScrubbedLineHistory,
    history_path,
    secure_file,
    write_history,
)
from .lines import LineSyntaxError, split_commands
from .logs import AlertSink, StreamSink
from .output.printer import FAILS
from .output.render import escape_controls
from .session import Session
from .shell_prompt import PromptAndToolbar

__all__ = ["ImptShell", "history_path"]

SHELL_CATEGORY = "Shell"
GROUPS_CATEGORY = "impCentral (impt command groups)"
SHORTCUTS = {"!": "shell", "?": "help", "@": "run_script"}
# cmd2 settings that mean something in imptsh; the others (styles, tracebacks...) do not.
SETTINGS = (
    "echo",
    "editor",
    "timing",
    "toolbar",
    "max_completion_table_items",
    "max_column_completion_results",
)

SHELL_HELP = (
    ("cd DIR", "change directory; the auth and project context follow it"),
    ("pwd", "print the working directory"),
    ("mkdir DIR...", "create directories (and their missing parents)"),
    ("tasks", "log tasks (log stream, --log): list, stop, add, remove, pause, filter"),
    ("history", "list, search and re-run previous commands (secrets are kept as ***)"),
    ("alias", "name a command line: alias create pl product list"),
    ("macro", "an alias with arguments: macro create pi product info -p {1}"),
    ("set", "show or change a setting: " + ", ".join(SETTINGS)),
    ("shortcuts", "list the shortcuts: !CMD (shell), ?WORD (help), @FILE (run_script)"),
    ("run_script FILE", "run the commands in FILE; stops at the first failing line"),
    ("shell CMD", "run CMD in the system shell (also !CMD)"),
    ("quit", "leave imptsh (also Ctrl-D)"),
    ("sim", "factory BlinkUp, end-user BlinkUp, webhook deliveries (simulator sessions only)"),
)


def _group_command_set(group: Group) -> type[CommandSet]:
    """A CommandSet class for one group (cmd2 registers one instance per class)."""

    def do_group(self: CommandSet, statement: Statement) -> None:
        self._cmd.run_tokens([group.name, *statement.argv[1:]])

    def complete_group(self: CommandSet, text: str, line: str, begidx: int, endidx: int) -> Any:
        shell = self._cmd
        return complete_line(
            shell.refresher, group, text, line, begidx, endidx, paths=shell.path_complete
        )

    def help_group(self: CommandSet) -> None:
        self._cmd.poutput(group.help_text())

    do_group.__doc__ = GROUP_DESCRIPTIONS.get(group.name, group.description)
    namespace = {
        "DEFAULT_CATEGORY": GROUPS_CATEGORY,
        f"do_{group.name}": cmd2.with_category(GROUPS_CATEGORY)(do_group),
        f"complete_{group.name}": complete_group,
        f"help_{group.name}": help_group,
    }
    return type(f"{group.name.capitalize()}CommandSet", (CommandSet,), namespace)


class ImptShell(PromptAndToolbar, cmd2.Cmd):
    # cmd2 built-ins imptsh does not offer: an editor or Python where there may be no
    # terminal, and a script runner that does not stop at a failing line.
    do_edit = None
    do_run_pyscript = None
    do__relative_run_script = None

    def __init__(
        self,
        session: Session,
        *,
        history_file: Path | None = None,
        banner: str = "",
        **kwargs: Any,
    ):
        if history_file is not None:
            secure_file(history_file)
        super().__init__(
            allow_cli_args=False,
            persistent_history_file=str(history_file) if history_file else "",
            include_py=False,
            include_ipy=False,
            terminators=(),
            shortcuts=SHORTCUTS,
            enable_bottom_toolbar=True,
            refresh_interval=1.0,  # the log tasks' line counts move without a key pressed
            **kwargs,
        )
        self.session = session
        self.refresher = CacheRefresher(session, on_change=self._redraw)
        self.toolbar = toolbar.wanted(session.env)
        self._logged_in = False
        self._project_label: str | None = None
        self._first_prompt_work: list[Callable[[], None]] = [self.refresher.start]
        self.banner = banner
        self.last_status = 0
        self.stop_on_failure = False
        self.quitting = False  # `quit` ran: no line after it runs
        self._process_stdout = self.stdout
        self._reported = False
        self._failed_builtin = False
        self._running_command = False
        self._dg_names: dict[tuple[str, str], str] = {}
        for group in groups(shell=True).values():
            self.register_command_set(_group_command_set(group)())
        self.add_settable(
            cmd2.Settable(
                "toolbar",
                bool,
                f"show the bottom toolbar (also {toolbar.ENV_VAR}=off at start-up)",
                self,
            )
        )
        for name in list(self.settables):
            if name not in SETTINGS:
                self.remove_settable(name)
        self.default_to_shell = False
        self.refresh_prompt()

    # -- running lines ------------------------------------------------------------------

    def onecmd_plus_hooks(self, line: str, **kwargs: Any) -> bool:  # type: ignore[override]
        """Runs every `;`-separated command of `line` in order; with `stop_on_failure`
        (scripts, -c) the first failing one ends the line. `last_status` is 1 when any
        command failed."""
        try:
            commands = split_commands(line)
        except LineSyntaxError as exc:
            self._fail(f"Invalid command line: {exc}.")
            self.exit_code = 1
            return False
        if not commands:  # blank, or only a comment
            self.last_status = 0
            return False
        failed = 0
        stop = False
        for command in commands:
            stop = self._run_command(command, **kwargs)
            failed = failed or self.last_status
            if stop or (failed and self.stop_on_failure):
                break
        self.last_status = failed
        self.quitting = self.quitting or stop
        return stop

    def _run_command(self, command: str, **kwargs: Any) -> bool:
        self.last_status = 0
        self._reported = False
        self._failed_builtin = False
        stop = super().onecmd_plus_hooks(command, **kwargs)
        if self._failed_builtin and not self._reported:
            self.poutput(FAILS)
            self.last_status = 1
        if not stop:
            self.exit_code = self.last_status
        return stop

    def onecmd(self, statement: Statement | str, *, add_to_history: bool = True) -> bool:
        if not isinstance(statement, Statement):
            statement = self._input_line_to_statement(statement)
        if statement.command == "history" and not self._history_args_ok(statement):
            return False
        self._running_command = True
        try:
            stop = super().onecmd(statement, add_to_history=add_to_history)
        except Cmd2ArgparseError:
            self._failed_builtin = True  # cmd2 printed the usage and the error
            raise
        finally:
            self._running_command = False
        if statement.command == "shell" and isinstance(self.last_result, int) and self.last_result:
            self.poutput(f"Error: The shell command exited with status {self.last_result}.")
            self._failed_builtin = True
        return stop

    def perror(self, *objects: Any, **kwargs: Any) -> None:
        """A built-in's error (on stderr, as cmd2 prints it) marks its command as failed."""
        if self._running_command:
            self._failed_builtin = True
            objects = ("Error: " + escape_controls(" ".join(str(o) for o in objects)),)
        super().perror(*objects, **kwargs)

    def pexcept(self, exception: BaseException, **kwargs: Any) -> None:
        if isinstance(exception, BrokenPipeError):
            return  # the reader of a pipe left: output ends quietly
        self._failed_builtin = True
        text = escape_controls(str(exception) or type(exception).__name__)
        super().perror(f"Error: {text}.")

    def _history_args_ok(self, statement: Statement) -> bool:
        if {"-e", "--edit"} & set(statement.arg_list) and not _has_terminal(self.stdin):
            self._fail("history --edit needs a terminal to run the editor in.")
            return False
        return True

    def run_tokens(self, tokens: list[str]) -> int:
        """Runs one impt command (everything after `impt`)."""
        try:
            status = run_line(self.session, tokens, self.stdout, full_usage=False, shell=True)
        except BrokenPipeError as exc:
            if self.stdout is self._process_stdout:
                raise PassThroughException(wrapped_ex=exc) from None  # nobody reads imptsh
            status = 0  # the command reading this one's output has had enough
        self._set_status(status)
        return status

    def run_command_line(self, line: str) -> int:
        """Runs one line as a script line (stopping at its first failing command) and
        returns its status."""
        saved, self.stop_on_failure = self.stop_on_failure, True
        try:
            self.onecmd_plus_hooks(line)
        finally:
            self.stop_on_failure = saved
        return self.last_status

    def run_lines(self, name: str, lines: Iterable[str], *, keep_going: bool) -> int:
        return script.run_lines(self, name, lines, keep_going=keep_going)

    def run_file(self, path: Path, *, keep_going: bool) -> int:
        return script.run_file(self, path, keep_going=keep_going)

    def echo_line(self, line: str) -> None:
        """With `set echo true`, a script's line as if typed at the prompt."""
        if self.echo:
            self.poutput(f"{self.prompt}{line}")

    def _set_status(self, status: int) -> None:
        self.last_status = status
        self._reported = True

    def _fail(self, message: str) -> None:
        self.poutput(f"Error: {escape_controls(message)}")
        self.poutput(FAILS)
        self._set_status(1)

    def default(self, statement: Statement) -> bool | None:
        self._fail(
            f"Unknown command: {statement.command}. Type a command group "
            f"({', '.join(groups())}) or a shell command (type help for the list)."
        )
        return None

    def precmd(self, statement: Statement | str) -> Statement:
        self.refresher.pause()
        return super().precmd(statement)

    def postcmd(self, stop: bool, statement: Statement | str) -> bool:
        """After every command: the prompt, and the background fill (the auth context may
        have changed, and the command may have changed entities)."""
        context, problem = self._current_context()
        self.prompt = self.prompt_for(context, problem)
        if context is not None or problem is not None:
            self.refresher.after_command(context, problem)
        self.refresher.resume()
        return stop

    def postloop(self) -> None:
        self.refresher.close()

    # -- history ------------------------------------------------------------------------

    def _initialize_history(self, hist_file: str) -> None:
        super()._initialize_history(hist_file)
        loaded = self.history
        parser = StatementParser(terminators=(), shortcuts=SHORTCUTS)
        self.history = ScrubbedHistory(loaded, parse=parser.parse)
        self.history.session_start_index = loaded.session_start_index
        if self.persistent_history_file and [i.raw for i in loaded] != [
            i.raw for i in self.history
        ]:
            self._persist_history()  # a file an older imptsh wrote with secrets in it

    def _get_history(self, args: Any) -> Any:
        try:
            return super()._get_history(args)
        except IndexError:
            count = len(self.history)
            raise ValueError(
                f"There is no history item {args.arg}: the history has {count} item"
                + ("" if count == 1 else "s")
            ) from None

    def _persist_history(self) -> None:
        if not self.persistent_history_file:
            return
        try:
            write_history(
                Path(self.persistent_history_file), self.history, self._persistent_history_length
            )
        except OSError as exc:
            super().perror(f"Cannot write the history file {exc.filename}: {exc.strerror}.")

    def _create_main_session(self, **kwargs: Any) -> Any:
        session = super()._create_main_session(**kwargs)
        stop_keys = self.log_task_keys(self._stop_log_tasks)
        session.key_bindings = merge_key_bindings([session.key_bindings, stop_keys])
        recall = ScrubbedLineHistory.of_scrubbed(item.raw for item in self.history)
        session.history = recall
        session.default_buffer.history = recall
        return session

    # -- help -------------------------------------------------------------------------

    def do_help(self, statement: Statement) -> None:  # type: ignore[override]
        """Lists the command groups, or describes a group or one of its commands."""
        words = statement.argv[1:]
        registry = groups()
        if not words:
            width = max(len(name) for name in [*registry, *(n for n, _ in SHELL_HELP)]) + 2
            self.poutput("impCentral command groups (impt's commands, same options):")
            for name in registry:
                self.poutput(f"  {name.ljust(width)}{GROUP_DESCRIPTIONS[name]}")
            self.poutput("")
            self.poutput("Shell commands:")
            for name, text in SHELL_HELP:
                self.poutput(f"  {name.ljust(width)}{text}")
            self.poutput("")
            self.poutput('Type "GROUP --help" or "GROUP COMMAND --help" for details.')
            self.poutput("Several commands on one line: separate them with ';'.")
            return
        if words[0] in groups(shell=True):
            group = groups(shell=True)[words[0]]
            if len(words) > 1 and words[1] in group.commands:
                self.poutput(group.commands[words[1]].help_text())
            else:
                self.poutput(group.help_text())
            return
        super().do_help(statement)

    # -- shell-only commands ------------------------------------------------------------

    @cmd2.with_category(SHELL_CATEGORY)
    def do_cd(self, statement: Statement) -> None:
        """Changes the working directory; the auth and project context follow it."""
        args = statement.argv[1:]
        target = Path(os.path.expanduser(args[0] if args else "~"))
        if len(args) > 1:
            self._fail("cd takes one directory.")
            return
        try:
            os.chdir(target)
        except FileNotFoundError:
            self._fail(f"cd: no such directory: {target}")
            return
        except NotADirectoryError:
            self._fail(f"cd: not a directory: {target}")
            return
        except PermissionError:
            self._fail(f"cd: permission denied: {target}")
            return
        self._set_status(0)

    @cmd2.with_category(SHELL_CATEGORY)
    def do_pwd(self, statement: Statement) -> None:
        """Prints the working directory."""
        self.poutput(os.getcwd())
        self._set_status(0)

    @cmd2.with_category(SHELL_CATEGORY)
    def do_run_script(self, statement: Statement | str) -> None:  # type: ignore[override]
        """Runs the commands in FILE, stopping at the first failing line."""
        if not isinstance(statement, Statement):  # `history --edit` passes the file name
            statement = self.statement_parser.parse(f"run_script {statement}")
        args = statement.argv[1:]
        if len(args) != 1:
            self._fail("run_script takes one script file.")
            return
        status = self.run_file(Path(os.path.expanduser(args[0])), keep_going=False)
        self._set_status(status)

    @cmd2.with_category(SHELL_CATEGORY)
    def do_mkdir(self, statement: Statement) -> None:
        """Creates directories (and their missing parents), as in the Development Guide's
        `mkdir dev`; an existing one is an error."""
        names = [a for a in statement.argv[1:] if a != "-p"]
        if not names:
            self._fail("mkdir takes one or more directory names.")
            return
        for name in names:
            target = Path(os.path.expanduser(name))
            try:
                target.mkdir(parents=True, exist_ok="-p" in statement.argv[1:])
            except FileExistsError:
                self._fail(f"mkdir: already exists: {target}")
                return
            except OSError as exc:
                self._fail(f"mkdir: cannot create {target}: {exc.strerror or exc}")
                return
        self._set_status(0)

    @cmd2.with_category(SHELL_CATEGORY)
    def do_impt(self, statement: Statement) -> None:
        """Runs an impt command line as typed for impt: `impt product list`."""
        args = statement.argv[1:]
        if args in (["--version"], ["-v"]):
            self.poutput(__version__)
            self._set_status(0)
            return
        self.run_tokens(args)

    def complete_impt(self, text: str, line: str, begidx: int, endidx: int) -> Any:
        rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
        offset = len(line) - len(rest)
        words = rest.split()
        if words and words[0] in groups() and (len(words) > 1 or rest.endswith(" ")):
            return complete_line(
                self.refresher,
                groups()[words[0]],
                text,
                rest,
                begidx - offset,
                endidx - offset,
                paths=self.path_complete,
            )
        return cmd2.Completions.from_values([g for g in groups() if g.startswith(text)])

    @cmd2.with_category(SHELL_CATEGORY)
    def do_tasks(self, statement: Statement) -> None:
        """Lists and controls the log tasks that `log stream` and --log start."""
        self._set_status(run_tasks(self.session, statement.argv[1:], self.stdout))

    def complete_tasks(self, text: str, line: str, begidx: int, endidx: int) -> Any:
        return complete_line(
            self.refresher, shell_group, text, line, begidx, endidx, paths=self.path_complete
        )

    def help_tasks(self) -> None:
        self.poutput(shell_group.help_text())

    def _stop_log_tasks(self) -> None:
        """`tasks stop --all`, its message shown above the prompt (any thread)."""
        said = io.StringIO()
        run_tasks(self.session, ["stop", "--all"], said)
        self.alert(said.getvalue().rstrip("\n"))

    def alert(self, text: str) -> None:
        """`text` above the prompt, without disturbing what is being typed (any thread)."""
        self.add_alert(msg=text)

    def run_logs_in_background(self, *, above_prompt: bool) -> None:
        """`log stream` and --log start background tasks from now on; their lines go above
        the prompt (interactive) or straight to stdout (scripts)."""
        tasks = self.session.log_tasks
        tasks.background = True
        tasks.sink = AlertSink(self.add_alert) if above_prompt else StreamSink(self.stdout)

    # -- prompt -------------------------------------------------------------------------
    def complete_cd(self, text: str, line: str, begidx: int, endidx: int) -> Completions:
        return self.path_complete(text, line, begidx, endidx, path_filter=os.path.isdir)

    complete_mkdir = complete_cd

    def complete_run_script(self, text: str, line: str, begidx: int, endidx: int) -> Completions:
        return self.path_complete(text, line, begidx, endidx)


def _has_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
