"""The interactive shell: a cmd2 app with one CommandSet per impt command group."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import cmd2
from cmd2 import CommandSet, Statement

from .api.client import Client
from .commands.completion import complete_line
from .commands.registry import GROUP_DESCRIPTIONS, groups
from .commands.runner import run_line
from .commands.spec import Group
from .commands.tasks import run_tasks, shell_group
from .context import ContextError
from .logs import AlertSink, StreamSink
from .project import ProjectFileError
from .session import Session

SHELL_CATEGORY = "Shell"
GROUPS_CATEGORY = "impCentral (impt command groups)"


SHELL_HELP = (
    ("cd DIR", "change directory; the auth and project context follow it"),
    ("pwd", "print the working directory"),
    ("tasks", "log tasks (log stream, --log): list, stop, add, remove, pause, filter"),
    ("history", "list, search and re-run previous commands"),
    ("run_script FILE", "run the commands in FILE"),
    ("shell CMD", "run CMD in the system shell (also !CMD)"),
    ("quit", "leave imptsh (also Ctrl-D)"),
)


def history_path(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "imptsh" / "history"


def _group_command_set(group: Group) -> type[CommandSet]:
    """A CommandSet class for one group (cmd2 registers one instance per class)."""

    def do_group(self: CommandSet, statement: Statement) -> None:
        self._cmd.run_tokens([group.name, *statement.argv[1:]])

    def complete_group(self: CommandSet, text: str, line: str, begidx: int, endidx: int) -> Any:
        return complete_line(self._cmd.session, group, text, line, begidx, endidx)

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


class ImptShell(cmd2.Cmd):
    def __init__(
        self,
        session: Session,
        *,
        history_file: Path | None = None,
        banner: str = "",
        **kwargs: Any,
    ):
        if history_file is not None:
            history_file.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            allow_cli_args=False,
            persistent_history_file=str(history_file) if history_file else "",
            include_py=False,
            include_ipy=False,
            **kwargs,
        )
        self.session = session
        self.banner = banner
        self.last_status = 0
        self._dg_names: dict[tuple[str, str], str] = {}
        for group in groups().values():
            self.register_command_set(_group_command_set(group)())
        self.hidden_commands += ["run_pyscript", "edit", "macro", "shortcuts"]
        self.default_to_shell = False
        self.refresh_prompt()

    # -- running ------------------------------------------------------------------------

    def run_tokens(self, tokens: list[str]) -> int:
        status = run_line(self.session, tokens, self.stdout, full_usage=False)
        self.last_status = status
        self.exit_code = status
        return status

    def run_command_line(self, line: str) -> int:
        """Runs one line as if typed at the prompt and returns its status."""
        self.last_status = 0
        self.onecmd_plus_hooks(line)
        return self.last_status

    def default(self, statement: Statement) -> bool | None:
        word = statement.command
        self.poutput(
            f"Error: Unknown command: {word}. Type a command group "
            f"({', '.join(groups())}) or a shell command (cd, pwd, tasks, help, quit)."
        )
        self.last_status = self.exit_code = 1
        return None

    def postcmd(self, stop: bool, statement: Statement | str) -> bool:
        self.refresh_prompt()
        return stop

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
            return
        if words[0] in registry:
            group = registry[words[0]]
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
        self.last_status = self.exit_code = 0

    @cmd2.with_category(SHELL_CATEGORY)
    def do_pwd(self, statement: Statement) -> None:
        """Prints the working directory."""
        self.poutput(os.getcwd())
        self.last_status = self.exit_code = 0

    @cmd2.with_category(SHELL_CATEGORY)
    def do_impt(self, statement: Statement) -> None:
        """Runs an impt command line as typed for impt: `impt product list`."""
        self.run_tokens(statement.argv[1:])

    def complete_impt(self, text: str, line: str, begidx: int, endidx: int) -> Any:
        rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
        offset = len(line) - len(rest)
        words = rest.split()
        if words and words[0] in groups() and (len(words) > 1 or rest.endswith(" ")):
            return complete_line(
                self.session, groups()[words[0]], text, rest, begidx - offset, endidx - offset
            )
        return cmd2.Completions.from_values([g for g in groups() if g.startswith(text)])

    @cmd2.with_category(SHELL_CATEGORY)
    def do_tasks(self, statement: Statement) -> None:
        """Lists and controls the log tasks that `log stream` and --log start."""
        status = run_tasks(self.session, statement.argv[1:], self.stdout)
        self.last_status = self.exit_code = status

    def complete_tasks(self, text: str, line: str, begidx: int, endidx: int) -> Any:
        return complete_line(self.session, shell_group, text, line, begidx, endidx)

    def help_tasks(self) -> None:
        self.poutput(shell_group.help_text())

    def run_logs_in_background(self, *, above_prompt: bool) -> None:
        """`log stream` and --log start background tasks from now on; their lines go above
        the prompt (interactive) or straight to stdout (scripts)."""
        tasks = self.session.log_tasks
        tasks.background = True
        tasks.sink = AlertSink(self.add_alert) if above_prompt else StreamSink(self.stdout)

    def _fail(self, message: str) -> None:
        self.poutput(f"Error: {message}")
        self.last_status = self.exit_code = 1

    # -- prompt -------------------------------------------------------------------------

    def refresh_prompt(self) -> None:
        self.prompt = self.compute_prompt()

    def compute_prompt(self) -> str:
        try:
            ctx = self.session.context()
        except ContextError:
            return "imptsh (not logged in)> "
        try:
            project = self.session.project()
        except ProjectFileError:
            return "imptsh (broken project file)> "
        if project is None:
            return "imptsh> "
        return f"imptsh {self._dg_label(ctx, project.device_group_id)}> "

    def _dg_label(self, ctx: Any, dg_id: str) -> str:
        key = (ctx.endpoint, dg_id)
        if key not in self._dg_names:
            name = None
            try:
                cached = self.session.cache(ctx).get("dg", dg_id)
                if cached is None:
                    probe = Client(ctx.endpoint, ctx.credentials, timeout=(2.0, 3.0))
                    if ctx.credentials is not None:
                        cached = probe.find_resource("/devicegroups", dg_id)
                if cached is not None:
                    name = (cached.get("attributes") or {}).get("name")
            except Exception:  # noqa: BLE001 - the prompt must never fail
                name = None
            if name is None:
                return dg_id[:8]
            self._dg_names[key] = name
        return self._dg_names[key]


def interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
