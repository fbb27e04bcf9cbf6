"""`log stream` in the foreground as impt runs it (one-shot mode, commands.md §12.2): a real
`imptsh` process ended by Ctrl-C (SIGINT), the server closing the stream, a dropped stream
re-created with impt's messages, the output modes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from imptsh.api import resources
from imptsh.logs import LogConfig
from tests.conftest import FAILS, OK, Impt, Result, lines, sim_control, write_project
from tests.logs.conftest import FAST_RECONNECT, make_tasks, wait_until

OPENED = "Log stream for Device(s) {} is opened."
PRESS = "Press <Ctrl-C> to exit."


class Foreground:
    """A command line run in-process in the foreground (as one-shot mode runs it), on a
    thread, its output readable while it runs."""

    def __init__(self, impt: Impt, line: str):
        self.out = io.StringIO()
        self.result: Result | None = None
        impt.session.log_tasks = make_tasks(LogConfig(reconnect_delays=FAST_RECONNECT), self.out)
        impt.session.log_tasks.background = False

        def run() -> None:
            from imptsh.commands.runner import run_line

            status = run_line(impt.session, line.split(), self.out)
            self.result = Result(status, self.out.getvalue())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def text(self) -> str:
        return self.out.getvalue()

    def wait(self, timeout: float = 20) -> Result:
        self.thread.join(timeout)
        assert self.result is not None, self.text()
        return self.result


def push(sim: Any, device: str, messages: list[str]) -> None:
    sim_control(sim, f"devices/{device}/logs", {"lines": messages})


def one_shot_log_stream(device: str, home: Any) -> subprocess.Popen[str]:
    """`imptsh log stream -d DEVICE` as a process of its own, logged in by the global auth
    file (no IMPT_* variables), its output piped to the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "imptsh", "log", "stream", "-d", device],
        cwd=home / "work",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_one_shot_log_stream_ends_with_ctrl_c(logged_in: Impt, sim: Any, api: Any, home) -> None:
    device = api.devices()[0]["id"]
    proc = one_shot_log_stream(device, home)
    try:
        got: list[str] = []
        for _ in range(4):
            got.append(proc.stdout.readline().rstrip("\n"))
        assert got == [OPENED.format(device), OK, "", PRESS]
        push(sim, device, ["first", "second"])
        for _ in range(2):
            got.append(proc.stdout.readline().rstrip("\n"))
        assert [g.split(" ", 2)[2] for g in got[4:]] == [
            "[server.log] first",
            "[server.log] second",
        ]
        assert all(g.startswith(f"[{device}] ") for g in got[4:])
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, errors
    assert rest == OK + "\n"
    assert errors == ""


class CtrlCAt(io.StringIO):
    """An output whose user presses Ctrl-C as soon as `text` is on it: the write raises
    KeyboardInterrupt, as SIGINT does in the thread running the command."""

    def __init__(self, text: str):
        super().__init__()
        self.text, self.pressed = text, False
        self.command_thread = threading.current_thread()

    def write(self, s: str) -> int:
        written = super().write(s)
        if (
            not self.pressed
            and self.text in s
            and threading.current_thread() is self.command_thread
        ):
            self.pressed = True
            raise KeyboardInterrupt
        return written


def test_ctrl_c_as_the_stream_opens_ends_it_as_any_ctrl_c(logged_in: Impt, api: Any) -> None:
    """However early it comes once the stream is open (here: as impt's "Press <Ctrl-C> to
    exit." is printed), Ctrl-C ends the stream with success, as impt's does."""
    from imptsh.commands.runner import run_line

    device = api.devices()[0]["id"]
    out = CtrlCAt(PRESS)
    tasks = make_tasks(LogConfig(), out)
    tasks.background = False
    logged_in.session.log_tasks = tasks
    status = run_line(logged_in.session, ["log", "stream", "-d", device], out)
    assert out.pressed
    assert (status, lines(out.getvalue())) == (0, [OPENED.format(device), OK, "", PRESS, OK])
    assert tasks.all() == []


def test_the_server_closing_the_stream_ends_the_command(
    logged_in: Impt, sim: Any, api: Any
) -> None:
    device = api.devices()[0]["id"]
    run = Foreground(logged_in, f"log stream -d {device}")
    wait_until(lambda: PRESS in run.text())
    push(sim, device, ["hello"])
    wait_until(lambda: "hello" in run.text())
    resources.create_log_stream(api.client)
    result = run.wait()
    assert result.status == 0
    assert lines(result.out)[:4] == [OPENED.format(device), OK, "", PRESS]
    assert lines(result.out)[-2:] == ["The log stream is closed.", OK]
    assert logged_in.session.log_tasks.summary() == []


def test_a_dropped_stream_is_reopened_with_impts_messages(
    logged_in: Impt, sim: Any, api: Any
) -> None:
    device = api.devices()[0]["id"]
    run = Foreground(logged_in, f"log stream -d {device}")
    wait_until(lambda: PRESS in run.text())
    sim_control(sim, "faults", {"drop_streams": True})
    wait_until(lambda: run.text().count(PRESS) == 2)
    push(sim, device, ["after"])
    wait_until(lambda: "after" in run.text())
    resources.create_log_stream(api.client)
    result = run.wait()
    assert result.status == 0
    assert lines(result.out)[4:13] == [
        "Error: The server ended the log stream.",
        "The log stream is lost. Trying to reconnect...",
        OPENED.format(device),
        OK,
        "",
        PRESS,
        "The log stream was lost (the server ended the log stream) and is open again; the "
        "devices' log history shows no missed line.",
        lines(result.out)[11],
        "The log stream is closed.",
    ]
    assert lines(result.out)[11].endswith("[server.log] after")


def test_minimal_and_json_show_only_the_lines(logged_in: Impt, sim: Any, api: Any) -> None:
    device = api.devices()[0]["id"]
    for mode in ("minimal", "json"):
        run = Foreground(logged_in, f"log stream -d {device} -z {mode}")
        wait_until(lambda run=run: logged_in.session.log_tasks.summary())
        push(sim, device, [f"in {mode}"])
        wait_until(lambda run=run, mode=mode: f"in {mode}" in run.text())
        resources.create_log_stream(api.client)
        result = run.wait()
        assert result.status == 0
        assert len(lines(result.out)) == 1 and f"in {mode}" in result.out


def test_no_device_no_stream(logged_in: Impt, api: Any) -> None:
    assert lines(logged_in("log stream").out) == [
        "Error: No Device Identifier is specified.",
        FAILS,
    ]
    dg = api.dg(api.product("P"), "Empty")
    assert lines(logged_in(f"log stream --dg {dg['id']}").out) == [
        "Error: No Device Identifier is specified.",
        FAILS,
    ]
    write_project(dg)
    assert logged_in("log stream").status == 1
    assert logged_in.session.log_tasks.summary() == []


def test_a_reader_going_away_ends_the_stream_quietly(logged_in: Impt, sim: Any, api: Any, home):
    """`imptsh log stream ... | head -5`: once the pipe's reader is gone, the stream ends
    without a traceback or an error."""
    device = api.devices()[0]["id"]
    proc = one_shot_log_stream(device, home)
    try:
        assert [proc.stdout.readline() for _ in range(4)][-1] == PRESS + "\n"
        push(sim, device, ["one"])
        assert proc.stdout.readline().endswith("one\n")
        proc.stdout.close()
        for n in range(50):
            if proc.poll() is not None:
                break
            push(sim, device, [f"into the void {n}"])
            time.sleep(0.1)
        errors = proc.stderr.read()
        status = proc.wait(20)
    finally:
        proc.kill()
    assert (status, errors) == (0, "")
