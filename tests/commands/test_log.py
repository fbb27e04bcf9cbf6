"""`log get` and `log stream` as impt has them (commands.md §11.6, §12): paging through 250
lines of history in every output mode, piped and on a terminal; the stream in the foreground
(one-shot mode), ended by Ctrl-C, by the server, and reconnecting after a drop; `--log` of
the restart commands."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAILS, OK, Impt, lines, sim_control, write_project

HISTORY = 250
MORE = "Press <Enter> to see more logs or <Ctrl-C> to exit."
ENTRY = re.compile(r"^(\S+Z) \[server\.log\] (history \d+)$")


@pytest.fixture
def device(api: Any, sim: Any) -> str:
    """A device with 250 lines of history, `history 0` (oldest) to `history 249`."""
    device_id = api.devices()[0]["id"]
    for start in range(0, HISTORY, 50):
        sim_control(
            sim,
            f"devices/{device_id}/logs",
            {"lines": [f"history {n}" for n in range(start, start + 50)]},
        )
    return device_id


def messages(out: str) -> list[str]:
    return [m.group(2) for m in map(ENTRY.match, lines(out)) if m]


def newest_first(first: int, last: int) -> list[str]:
    """`history first` down to `history last`."""
    return [f"history {n}" for n in range(first, last - 1, -1)]


# -- log get: piped -------------------------------------------------------------------------


def test_piped_log_get_prints_every_page_without_prompts(logged_in: Impt, device: str) -> None:
    result = logged_in(f"log get -d {device}")
    assert result.status == 0, result.out
    assert messages(result.out) == newest_first(249, 0)
    assert len(lines(result.out)) == HISTORY + 1 and lines(result.out)[-1] == OK
    assert MORE not in result.out


def test_piped_log_get_with_a_page_size_pages_through_all(logged_in: Impt, device: str) -> None:
    sent = logged_in.record_requests()
    result = logged_in(f"log get -d {device} --page-size 60 -z minimal")
    assert messages(result.out) == newest_first(249, 0)
    assert len(lines(result.out)) == HISTORY  # minimal: no status line
    pages = [s.params for s in sent.sent if s.path.endswith("/logs")]
    assert pages == [{"page[number]": n, "page[size]": 60} for n in range(1, 6)]


def test_piped_log_get_json_is_one_array_of_the_entries(logged_in: Impt, device: str) -> None:
    result = logged_in(f"log get -d {device} -z json")
    entries = json.loads(result.out)
    assert [e["msg"] for e in entries] == newest_first(249, 0)
    assert set(entries[0]) == {"ts", "type", "msg"}


def test_log_get_debug_shows_the_requests(logged_in: Impt, device: str) -> None:
    result = logged_in(f"log get -d {device} -z debug --page-number 3 --page-size 100")
    assert f'"url": "{logged_in.session.context().endpoint}/devices/{device}/logs"' in result.out
    assert '"page[number]": 3' in result.out
    assert messages(result.out) == newest_first(49, 0)
    assert lines(result.out)[-1] == OK


def test_page_number_prints_that_page_only(logged_in: Impt, device: str) -> None:
    second = logged_in(f"log get -d {device} -n 2 -s 100")
    assert messages(second.out) == newest_first(149, 50)
    assert lines(second.out)[-1] == OK and MORE not in second.out
    default_size = logged_in(f"log get -d {device} --page-number 3")
    assert messages(default_size.out) == newest_first(209, 190)
    past_the_end = logged_in(f"log get -d {device} -n 9 -s 100")
    assert lines(past_the_end.out) == [OK]
    as_json = logged_in(f"log get -d {device} -n 13 -z json")
    assert [e["msg"] for e in json.loads(as_json.out)] == newest_first(9, 0)
    assert json.loads(logged_in(f"log get -d {device} -n 14 -z json").out) == []


def test_the_device_defaults_to_the_projects_only_device(
    logged_in: Impt, api: Any, device: str
) -> None:
    product = api.product("P")
    dg = api.dg(product, "DG")
    write_project(dg)
    assert lines(logged_in("log get").out) == ["Error: No Device Identifier is specified.", FAILS]
    api.assign(dg, device)  # which logs its restart's status lines
    assert messages(logged_in("log get -n 1 -s 30").out)[:10] == newest_first(249, 240)
    other = api.devices()[1]
    api.assign(dg, other)
    result = logged_in("log get")
    assert result.status == 1
    assert lines(result.out)[0] == "Error: Multiple Devices are found:"
    assert f"  id:            {device}" in result.out and other["id"] in result.out
    assert lines(result.out)[-2:] == ["Impossible to execute the command.", FAILS]


def test_log_get_refuses_bad_page_options(logged_in: Impt, device: str) -> None:
    for option, message in (
        ("--page-size 0", 'Option "--page-size" must have a positive integer value.'),
        ("--page-number 1.5", 'Option "--page-number" must have a positive integer value.'),
        ("--page-size x", 'Option "--page-size" must be a number.'),
    ):
        result = logged_in(f"log get -d {device} {option}")
        assert result.status == 1
        assert lines(result.out)[-2:] == [f"Error: {message}", FAILS]
    assert lines(logged_in("log get -d nosuch").out) == [
        'Error: Device "nosuch" is not found.',
        FAILS,
    ]


# -- log get: on a terminal -----------------------------------------------------------------


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pseudo-terminal
    on stdin, as a user's shell would give it (prompts read `/dev/tty`)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """`imptsh ARGS` with a pseudo-terminal as stdin and stdout."""

    def __init__(self, args: list[str], cwd: Path):
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
        env["TERM"] = "dumb"  # no colour codes to strip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imptsh", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30, count: int = 1) -> str:
        """Reads until `text` was printed `count` times."""
        deadline = time.monotonic() + timeout
        while self.seen.count(text) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never came; got:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{text!r} never came before the end:\n{self.seen}")
                self.seen += chunk.decode().replace("\r\n", "\n")
        return self.seen

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            os.close(self.master)


def test_log_get_on_a_terminal_waits_for_enter_between_pages(
    logged_in: Impt, device: str, home: Path
) -> None:
    term = Pty(["log", "get", "-d", device, "-s", "100"], home / "work")
    term.expect(MORE)
    assert messages(term.seen) == newest_first(249, 150)
    assert term.seen.rstrip().endswith(f"{OK}\n\n{MORE}")
    term.send("\n")
    term.expect("history 50\n" + OK + "\n\n" + MORE)
    term.send("\n")
    term.expect("history 0\n" + OK + "\n\n" + MORE)
    assert messages(term.seen) == newest_first(249, 0)
    term.send("\n")
    term.expect("No more logs are available.\n" + OK)
    assert term.close() == 0


def test_ctrl_c_ends_the_paging_successfully(logged_in: Impt, device: str, home: Path) -> None:
    term = Pty(["log", "get", "-d", device], home / "work")
    term.expect(MORE)
    time.sleep(0.2)
    term.send("\x03")  # Ctrl-C typed: the terminal shows ^C and interrupts the paging
    term.expect("^C\n" + OK)
    assert term.close() == 0
    assert messages(term.seen) == newest_first(249, 230)


def test_json_pages_wait_without_the_prompt_line(logged_in: Impt, device: str, home: Path) -> None:
    term = Pty(["log", "get", "-d", device, "-z", "json"], home / "work")
    term.expect("]")
    first = json.loads(term.seen[: term.seen.index("]") + 1])
    assert [e["msg"] for e in first] == newest_first(249, 230)
    term.send("\n")
    term.expect("]", count=2)
    second = term.seen[term.seen.index("]") + 1 :]
    assert [e["msg"] for e in json.loads(second[: second.index("]") + 1])] == newest_first(229, 210)
    assert MORE not in term.seen and OK not in term.seen
    os.killpg(term.proc.pid, signal.SIGINT)
    assert term.close() == 0


def test_piped_log_get_of_a_device_still_logging_prints_each_entry_once(
    logged_in: Impt, device: str, sim: Any
) -> None:
    done = threading.Event()

    def keep_logging() -> None:
        n = 0
        while not done.is_set():
            sim_control(sim, f"devices/{device}/logs", {"lines": [f"live {n}", f"live {n + 1}"]})
            n += 2

    pusher = threading.Thread(target=keep_logging)
    pusher.start()
    try:
        time.sleep(0.1)
        result = logged_in(f"log get -d {device} -s 10 -z minimal")
    finally:
        done.set()
        pusher.join(10)
    got = [ln.split(" ", 2)[2] for ln in lines(result.out)]
    assert len(got) == len(set(got))
    assert got[-HISTORY:] == newest_first(249, 0)
