"""`log get|stream` (commands.md §11.6, §12), and the log task that `--log` of `build run`,
`dg restart` and `device restart` starts.

A stream runs as a log task on the session's shared server stream (`imptsh.logs`). In the
interactive shell and in scripts the task runs in the background and the command returns
at once (`tasks` controls it); in one-shot mode and with `-c` the command shows the lines
until Ctrl-C or until the server closes the stream, as impt does."""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ..api import resources
from ..api.client import Client
from ..errors import Canceled, CommandError
from ..invocation import Invocation
from ..logs import LineStyle, LogTask, StreamSink
from ..logs.history import read_newest_first
from ..logs.lines import from_history
from ..logs.shared import Attached
from ..logs.task import FAILED, OUTPUT_CLOSED
from ..output.printer import SUCCEEDS
from ..views import list_views
from .common import device_opt, dg_devices, dg_opt
from .spec import POS_INT, Group, Option

group = Group("log", "Logs manipulation commands.")

Resource = dict[str, Any]

DEFAULT_PAGE_SIZE = 20
ALL_PAGES_SIZE = 100  # pages fetched at once when every page is printed without prompts
MORE = "Press <Enter> to see more logs or <Ctrl-C> to exit."
NO_MORE = "No more logs are available."


# -- log get -----------------------------------------------------------------------------


@group.command(
    "get",
    "Displays historical logs for the specified Device. Newest first, page by page: on a "
    "terminal, <Enter> shows the next page; when the output or the input is not a terminal, "
    "every page is printed without waiting. If the Device is not specified, the only Device "
    "assigned to the Device Group referenced by the Project File is used.",
    [
        device_opt(
            "Device identifier: Device id, MAC address, agent id or name. If not specified, "
            "the only Device of the Project's Device Group is used."
        ),
        Option(
            "page-size",
            "s",
            f"Number of log entries in one page (default {DEFAULT_PAGE_SIZE}).",
            POS_INT,
            placeholder="<number_of_entries>",
        ),
        Option(
            "page-number",
            "n",
            "Displays only this page (1 is the newest entries).",
            POS_INT,
            placeholder="<page_number>",
        ),
    ],
)
def get(inv: Invocation) -> None:
    device = _the_device(inv)
    args = inv.args
    style = LineStyle(inv.out.mode, inv.out.color)
    size = args.page_size or DEFAULT_PAGE_SIZE
    if args.page_number:
        entries, _ = resources.device_log_page(inv.client, device["id"], args.page_number, size)
        _print_page(inv, style, device["id"], entries)
        return
    if _on_terminal(inv):
        _page_interactively(inv, style, device["id"], size)
    else:
        _print_every_page(inv, style, device["id"], args.page_size or ALL_PAGES_SIZE)


def _the_device(inv: Invocation) -> Resource:
    if inv.args.device:
        return inv.identifier.resolve("device", inv.args.device)
    dg = inv.project_dg()
    devices = dg_devices(inv, dg["id"]) if dg is not None else []
    if not devices:
        raise CommandError("No Device Identifier is specified.")
    if len(devices) > 1:
        raise CommandError(
            "Multiple Devices are found:",
            blocks=list_views("device", devices, inv.related(bulk=True), me_id=inv.me_id),
            hints=("Impossible to execute the command.",),
        )
    return devices[0]


def _on_terminal(inv: Invocation) -> bool:
    """Pages wait for <Enter> only when a person reads them and can press it."""
    try:
        shown = inv.out.stream.isatty()
    except (AttributeError, ValueError):
        shown = False
    return shown and inv.session.prompter.on_terminal


def _print_page(inv: Invocation, style: LineStyle, device_id: str, entries: list[Resource]) -> None:
    if inv.out.is_json:
        inv.out.result(entries)
        return
    for entry in entries:
        inv.out.write(style.history_line(from_history(entry, device_id)))


def _page_interactively(inv: Invocation, style: LineStyle, device_id: str, size: int) -> None:
    """impt's paging: a page, the status and <Enter> prompt lines, the next page on
    <Enter>; after a short page, <Enter> ends it. Ctrl-C or the end of input ends it too."""
    number = 1
    try:
        while True:
            entries, _ = resources.device_log_page(inv.client, device_id, number, size)
            _print_page(inv, style, device_id, entries)
            inv.out.info(SUCCEEDS, "", MORE)
            if not _enter_pressed(inv):
                return
            if len(entries) < size:
                inv.out.info(NO_MORE)
                return
            number += 1
    except KeyboardInterrupt:  # Ctrl-C while a page is fetched or printed: it ends too
        inv.out.write("")


def _enter_pressed(inv: Invocation) -> bool:
    try:
        inv.session.prompter.ask("")
    except Canceled:  # Ctrl-C or the end of input: the paging ends
        return False
    return True


def _print_every_page(inv: Invocation, style: LineStyle, device_id: str, size: int) -> None:
    """Every entry, newest first, without prompts; lines a growing log pushes from one page
    to the next are printed once. `-z json` prints them as one array."""
    found: list[Resource] = []
    for page in read_newest_first(inv.client, device_id, size):
        if inv.out.is_json:
            found.extend({"ts": ln.ts, "type": ln.type, "msg": ln.msg} for ln in page)
        else:
            for line in page:
                inv.out.write(style.history_line(line))
    if inv.out.is_json:
        inv.out.result(found)


# -- log stream --------------------------------------------------------------------------


@group.command(
    "stream",
    "Displays logs from the specified Devices in real time. In the interactive shell and in "
    "scripts the stream runs in the background as a log task (see `tasks`); otherwise it "
    "runs until <Ctrl-C>. With neither --device nor --dg, the Devices of the Device Group "
    "referenced by the Project File are used.",
    [
        replace(
            device_opt("Device identifier: Device id, MAC address, agent id or name."),
            repeat=True,
        ),
        replace(
            dg_opt("Device Group identifier: logs of every Device assigned to it."),
            repeat=True,
        ),
    ],
)
def stream(inv: Invocation) -> None:
    device_ids = stream_devices(inv)
    task, attached = start_task(inv, device_ids)
    run_task(inv, task, attached)


def stream_devices(inv: Invocation) -> list[str]:
    """Every `--device`, every Device of every `--dg`, else the Project's Device Group's
    Devices; each once."""
    ids: list[str] = []
    for value in inv.args.device:
        ids.append(inv.identifier.resolve("device", value)["id"])
    for value in inv.args.dg:
        dg = inv.identifier.resolve("dg", value)
        ids.extend(d["id"] for d in dg_devices(inv, dg["id"]))
    if not inv.args.device and not inv.args.dg:
        dg = inv.project_dg()
        if dg is not None:
            ids.extend(d["id"] for d in dg_devices(inv, dg["id"]))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise CommandError("No Device Identifier is specified.")
    return ids


# -- tasks: starting and running ---------------------------------------------------------


def account_key(inv: Invocation) -> Hashable:
    """One server stream per account: the endpoint and the account id."""
    return (inv.client.endpoint, inv.me_id)


def start_task(inv: Invocation, device_ids: list[str]) -> tuple[LogTask, Attached]:
    """A log task on the devices, held (nothing shown) until `run_task`: the devices are
    subscribed before a restart so that its lines are not missed, and shown after the
    restart's messages."""
    tasks = inv.session.log_tasks
    template = inv.client

    def make_client() -> Client:
        # Its own client: the stream's requests are never another command's (-z debug).
        return Client(
            template.endpoint,
            template.credentials,
            retry=template.retry,
            observer=inv.session.observe,
        )

    sink = None if tasks.background else StreamSink(inv.out.stream)
    style = LineStyle(inv.out.mode, inv.out.color)
    task, attached = tasks.start(
        account_key(inv), make_client, device_ids, style, sink=sink, paused=True
    )
    if not attached.devices:
        raise CommandError(_refusal(inv, attached.refused, everything=True))
    return task, attached


def run_task(inv: Invocation, task: LogTask, attached: Attached) -> None:
    """Prints that the stream is open and shows its lines: in the background (returns at
    once) or until Ctrl-C / the server closing it (impt's behaviour)."""
    tasks = inv.session.log_tasks
    if attached.refused:
        _warn(inv, _refusal(inv, attached.refused, everything=False))
    devices = list(task.devices)
    listed = ", ".join(devices[:5]) + (", ..." if len(devices) > 5 else "")
    inv.out.info(f"Log stream for Device(s) {listed} is opened.")
    if tasks.background:
        stop = f'"tasks stop {task.id}" stops this one'
        if tasks.sink.interactive:
            stop += ", Ctrl-C at an empty prompt stops them all"
        inv.out.info(
            f'Log task {task.id} runs in the background: "tasks" lists the log tasks, {stop}.'
        )
        task.resume()
        return
    inv.out.printed_result = True  # the lines are the result: no `{}` in json mode
    try:
        # Ctrl-C ends the stream from the moment it is open, also while the status lines
        # or the lines held during a restart are printed.
        inv.out.info(SUCCEEDS, "", "Press <Ctrl-C> to exit.")
        task.resume()
        while not task.ended.wait(0.25):
            pass
    except KeyboardInterrupt:
        tasks.stop(task, "stopped by Ctrl-C")
        return
    if task.state == FAILED:
        if task.end_reason == OUTPUT_CLOSED:  # `imptsh log stream ... | head`: done
            _discard_output(inv)
            return
        raise CommandError(task.end_reason)


def _discard_output(inv: Invocation) -> None:
    """The reader of the output went away: what is still to be written (buffered lines,
    the status line) goes nowhere instead of failing, as after `yes | head`."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - stands in for the output until the end
    try:
        os.dup2(sink.fileno(), inv.out.stream.fileno())
    except (AttributeError, ValueError, OSError):
        pass  # not a file: nothing is buffered for it either
    inv.out.stream = sink


def cancel_task(inv: Invocation, task: LogTask) -> None:
    """Drops a task started for a command that then failed."""
    inv.session.log_tasks.stop(task, "its command failed")


def _refusal(inv: Invocation, refused: list[str], *, everything: bool) -> str:
    tasks = inv.session.log_tasks
    limit = tasks.config.device_limit
    rule = f"one log stream carries at most {limit} Devices"
    if not everything:
        return f"Device(s) {', '.join(refused)} are not streamed: {rule}."
    others = [str(t.id) for t in tasks.all() if t.devices]
    plural = "s" if len(others) > 1 else ""
    return (
        f"No Device can be streamed: {rule} and log task{plural} {', '.join(others)} "
        f"stream{'' if plural else 's'} {limit} already. Stop a log task or remove Devices "
        'from one ("tasks stop", "tasks remove").'
    )


def _warn(inv: Invocation, message: str) -> None:
    if inv.out.is_json:
        inv.out.error(message)
    else:
        inv.out.write(message)


class Follow:
    """`--log` of a restart: the devices' log task starts (held) before the restart, so
    that the restart's own lines are shown, and shows its lines after the messages."""

    def __init__(self, inv: Invocation, wanted: bool):
        self.inv = inv
        self.wanted = wanted
        self.started: tuple[LogTask, Attached] | None = None

    def start(self, devices: list[Resource]) -> None:
        if self.wanted and devices:
            self.started = start_task(self.inv, [d["id"] for d in devices])

    def cancel(self) -> None:
        if self.started is not None:
            cancel_task(self.inv, self.started[0])

    def run(self) -> None:
        if self.started is not None:
            run_task(self.inv, *self.started)


@contextmanager
def following(inv: Invocation, wanted: bool) -> Iterator[Follow]:
    """`with following(inv, inv.args.log) as follow:` ... `follow.start(devices)` before
    the restart; the task runs when the block ends, and is dropped if the block fails."""
    follow = Follow(inv, wanted)
    try:
        yield follow
    except BaseException:
        follow.cancel()
        raise
    follow.run()
