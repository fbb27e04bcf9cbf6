"""`tasks`: imptsh's shell commands for the session's log tasks (impt has no such group, and
`log` keeps exactly impt's commands). A task is what `log stream` or `--log` started.

    tasks [list]                         id, devices, lines received and shown, state, filter
    tasks stop ID | --all                ends a task (or every task)
    tasks add ID --device D [--dg G]     streams more devices in a running task
    tasks remove ID --device D [--dg G]  stops streaming devices in it
    tasks pause [ID]  /  tasks resume [ID]   holds a task's lines / shows them (all tasks
                                         without ID)
    tasks filter ID [--type T]... [--match REGEX] | --clear
    tasks wait [ID] [--match REGEX] [--timeout SECONDS]   (for scripts)

A bare number after the command is its `--task`."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from typing import IO, Any

from ..errors import CommandError
from ..invocation import Invocation
from ..logs import LogTask
from ..logs.lines import LOG_TYPES
from ..logs.task import LineFilter
from ..session import Session
from .common import device_opt, dg_devices, dg_opt
from .runner import FAILED, run_command
from .spec import FLAG, NUMBER, POS_INT, Group, Option

shell_group = Group(
    "tasks",
    "Log tasks of this session: what `log stream` and --log started (imptsh shell commands). "
    "A bare number after the command is its --task: `tasks stop 2`. In the interactive shell, "
    "Ctrl-C at an empty prompt stops them all.",
    shell_only=True,
)

TASK = Option(
    "task", "t", "Log task number, as `tasks list` shows it.", POS_INT, placeholder="<ID>"
)
ALL = Option("all", "a", "Every log task.", FLAG)
DEVICES = replace(device_opt("Device identifier."), repeat=True)
DGS = replace(dg_opt("Device Group identifier: every Device assigned to it."), repeat=True)
MATCH = Option(
    "match",
    "m",
    "Regular expression (Python syntax) searched in each line's message.",
    placeholder="<regex>",
)


def run_tasks(session: Session, tokens: list[str], stream: IO[str]) -> int:
    """`tasks [COMMAND] [ID] [OPTIONS]`; `tasks` alone lists the tasks."""
    if not tokens:
        tokens = ["list"]
    if tokens[0] in ("--help", "-h"):
        stream.write(shell_group.help_text() + "\n")
        return 0
    command = shell_group.commands.get(tokens[0])
    if command is None:
        stream.write(f"{shell_group.help_text()}\nError: Unknown argument: {tokens[0]}\n")
        return FAILED
    rest = tokens[1:]
    if rest and not rest[0].startswith("-") and command.find("task", short=False):
        rest = ["--task", *rest]
    return run_command(session, command, rest, stream, full_usage=False)


# -- list ----------------------------------------------------------------------------------


@shell_group.command("list", "Lists the log tasks: devices, lines received and shown, state.")
def list_(inv: Invocation) -> None:
    tasks = inv.session.log_tasks.all()
    if not tasks:
        inv.out.info("No Log Tasks are found.")
        if inv.out.is_json:
            inv.out.result([])
        return
    inv.out.info(f"Log Task list ({len(tasks)} items):")
    inv.out.result([{"Log Task": _fields(task)} for task in tasks])


def _fields(task: LogTask) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": task.id,
        "devices": list(task.devices),
        "lines received": task.received,
        "lines shown": task.shown,
        "state": task.state,
    }
    if task.held:
        fields["lines held"] = task.held
    if task.line_filter:
        fields["filter"] = task.line_filter.describe()
    return fields


# -- stop ----------------------------------------------------------------------------------


@shell_group.command(
    "stop", "Stops a log task (its devices leave the log stream), or every one.", [TASK, ALL]
)
def stop(inv: Invocation) -> None:
    registry = inv.session.log_tasks
    if inv.args.all:
        stopped = registry.stop_all()
        if not stopped:
            inv.out.info("No log task is running.")
        else:
            inv.out.info(_tasks_done([t.id for t in stopped], "stopped"))
        return
    task = _task(inv, required=True)
    registry.stop(task)
    inv.out.info(f"Log task {task.id} is stopped.")


# -- add / remove --------------------------------------------------------------------------


@shell_group.command(
    "add",
    "Streams more Devices in a running log task (while the log stream has room).",
    [TASK, DEVICES, DGS],
)
def add(inv: Invocation) -> None:
    task = _task(inv, required=True)
    wanted = _devices(inv)
    try:
        attached = inv.session.log_tasks.add(task, wanted)
    except LookupError:
        raise CommandError(f"Log task {task.id} has ended.") from None
    if attached.devices:
        inv.out.info(f"Device(s) {', '.join(attached.devices)} are streamed in log task {task.id}.")
    if attached.refused:
        limit = inv.session.log_tasks.config.device_limit
        raise CommandError(
            f"Device(s) {', '.join(attached.refused)} are not streamed: one log stream carries "
            f"at most {limit} Devices and {limit} are streamed already."
        )


@shell_group.command("remove", "Stops streaming Devices in a log task.", [TASK, DEVICES, DGS])
def remove(inv: Invocation) -> None:
    task = _task(inv, required=True)
    wanted = _devices(inv)
    shown = set(task.devices)
    missing = [d for d in wanted if d not in shown]
    if missing:
        raise CommandError(
            f"Log task {task.id} does not stream Device(s) {', '.join(missing)}; it streams "
            f"{', '.join(task.devices)}."
        )
    if shown <= set(wanted):
        raise CommandError(
            f'Log task {task.id} would stream no Device; "tasks stop {task.id}" stops it.'
        )
    try:
        gone = inv.session.log_tasks.remove(task, wanted)
    except LookupError:
        raise CommandError(f"Log task {task.id} has ended.") from None
    inv.out.info(f"Device(s) {', '.join(gone)} are no longer streamed in log task {task.id}.")


def _devices(inv: Invocation) -> list[str]:
    if not inv.args.device and not inv.args.dg:
        raise CommandError('Option "--device" or "--dg" must be specified.')
    ids = [inv.identifier.resolve("device", value)["id"] for value in inv.args.device]
    for value in inv.args.dg:
        dg = inv.identifier.resolve("dg", value)
        ids.extend(d["id"] for d in dg_devices(inv, dg["id"]))
    if not ids:
        raise CommandError("No Device Identifier is specified.")
    return list(dict.fromkeys(ids))


# -- pause / resume ------------------------------------------------------------------------


@shell_group.command(
    "pause",
    "Holds the lines of a log task (of every task without one) until `tasks resume`.",
    [TASK],
)
def pause(inv: Invocation) -> None:
    tasks = _tasks_or_all(inv)
    for task in tasks:
        task.pause()
    inv.out.info(
        _tasks_done([t.id for t in tasks], "paused")
        + f" At most {inv.session.log_tasks.config.paused_max_lines} lines are held per task."
    )


@shell_group.command(
    "resume",
    "Shows the held lines of a log task (of every task without one) and goes on.",
    [TASK],
)
def resume(inv: Invocation) -> None:
    tasks = _tasks_or_all(inv)
    for task in tasks:
        dropped = task.resume()
        if dropped:
            inv.out.info(
                f"Log task {task.id}: {dropped} older line(s) were dropped while it was paused."
            )
    inv.out.info(_tasks_done([t.id for t in tasks], "resumed"))


# -- filter --------------------------------------------------------------------------------


@shell_group.command(
    "filter",
    "Filters the lines of a log task. It shows only lines of the given types and/or whose "
    "message matches a regular expression; --clear shows every line again.",
    [
        TASK,
        Option(
            "type",
            "y",
            "Log type to show.",
            placeholder="<log_type>",
            repeat=True,
            choices=LOG_TYPES,
        ),
        MATCH,
        Option("clear", "c", "Removes the filter.", FLAG),
    ],
)
def filter_(inv: Invocation) -> None:
    task = _task(inv, required=True)
    args = inv.args
    if args.clear:
        if args.type or args.match is not None:
            raise CommandError('Option "--clear" cannot be combined with "--type" or "--match".')
        task.line_filter = LineFilter()
        inv.out.info(f"Log task {task.id} shows every line.")
        return
    if not args.type and args.match is None:
        raise CommandError('Option "--type", "--match" or "--clear" must be specified.')
    task.line_filter = LineFilter(frozenset(args.type), _pattern(args.match))
    inv.out.info(f"Log task {task.id} shows only lines of {task.line_filter.describe()}.")


def _pattern(raw: str | None) -> re.Pattern[str] | None:
    if raw is None:
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        raise CommandError(
            f'Option "--match" must be a regular expression (Python syntax): {exc}.'
        ) from None


# -- wait ----------------------------------------------------------------------------------


@shell_group.command(
    "wait",
    "Waits for a log task's line, for a time or for the task to end (in a script, say). It "
    "waits until the task gets a line whose message matches --match (lines that arrived "
    "since the previous match count too), until --timeout seconds have passed, or until the "
    "task ends. It fails when the timeout comes first while --match was given, or when the "
    "task ends without a match.",
    [
        TASK,
        MATCH,
        Option("timeout", "s", "Seconds to wait at most.", NUMBER, placeholder="<seconds>"),
    ],
)
def wait(inv: Invocation) -> None:
    task = _task(inv, required=False)
    args = inv.args
    pattern = _pattern(args.match)
    timeout = args.timeout
    if timeout is not None and timeout < 0:
        raise CommandError('Option "--timeout" must not be negative.')
    seen = task.watch(pattern) if pattern is not None else threading.Event()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not seen.is_set() and not task.ended.is_set():
            left = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if left <= 0:
                break
            seen.wait(left)
    finally:
        task.unwatch(seen)
    if seen.is_set():
        inv.out.info(f"Log task {task.id} showed a line matching {pattern.pattern!r}.")
        return
    if task.ended.is_set():
        if pattern is not None:
            raise CommandError(
                f"Log task {task.id} ended ({task.end_reason}) without a line matching "
                f"{pattern.pattern!r}."
            )
        inv.out.info(f"Log task {task.id} ended: {task.end_reason}.")
        return
    if pattern is not None:
        raise CommandError(
            f"Log task {task.id} showed no line matching {pattern.pattern!r} within "
            f"{timeout:g} seconds."
        )
    inv.out.info(f"Waited {timeout:g} seconds.")


# -- the parts -----------------------------------------------------------------------------


def _task(inv: Invocation, *, required: bool) -> LogTask:
    """The task `--task` names; without it, the only task (an error if `required`)."""
    registry = inv.session.log_tasks
    running = registry.all()
    number = inv.args.task
    if number is None:
        if required or len(running) != 1:
            if not running:
                raise CommandError("No log task is running.")
            raise CommandError(
                f'Option "--task" must be specified: log tasks {_ids(running)} are running.'
            )
        return running[0]
    task = registry.get(number)
    if task is None:
        known = f"log tasks running: {_ids(running)}" if running else "no log task is running"
        raise CommandError(f"Log task {number} is not found ({known}).")
    return task


def _tasks_or_all(inv: Invocation) -> list[LogTask]:
    if inv.args.task is not None:
        return [_task(inv, required=True)]
    running = inv.session.log_tasks.all()
    if not running:
        raise CommandError("No log task is running.")
    return running


def _ids(tasks: list[LogTask]) -> str:
    return ", ".join(str(t.id) for t in tasks)


def _tasks_done(ids: list[int], what: str) -> str:
    if len(ids) == 1:
        return f"Log task {ids[0]} is {what}."
    return f"Log tasks {', '.join(map(str, ids))} are {what}."
