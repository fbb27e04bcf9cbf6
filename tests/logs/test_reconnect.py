"""Drops of the server stream (the simulator cuts every stream without a `closed` event):
the stream is re-created, every device added again, the missed lines fetched from history,
one notice printed, no line repeated. Also: the server closing the stream, and a task
stopped while lines arrive."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from imptsh.api import resources
from tests.logs.conftest import LogSession, wait_until

AGAIN = "and is open again"


def hold_reconnection(logs: LogSession) -> None:
    """The next API requests fail (503) until `release`: a drop now leaves a gap."""
    logs.fault(status=503, count=100_000)


def release(logs: LogSession) -> None:
    requests.delete(f"{logs.sim.root_url}/_sim/faults", timeout=10).raise_for_status()


def drop(logs: LogSession) -> None:
    logs.fault(drop_streams=True)


def notices(logs: LogSession) -> list[str]:
    return [ln for ln in logs.text().splitlines() if AGAIN in ln]


def test_a_drop_without_missed_lines(logs: LogSession, devices: list[str]) -> None:
    a = devices[0]
    sent = logs.impt.record_requests()
    logs(f"log stream -d {a}")
    logs.push(a, ["before 1", "before 2"])
    wait_until(lambda: len(logs.log_lines()) == 2)
    drop(logs)
    wait_until(lambda: notices(logs), what="the reconnection notice")
    assert notices(logs) == [
        "The log stream was lost (the server ended the log stream) and is open again; the "
        "devices' log history shows no missed line."
    ]
    logs.push(a, ["after"])
    wait_until(lambda: "after" in logs.log_lines())
    time.sleep(0.1)
    assert logs.log_lines() == ["before 1", "before 2", "after"]
    posts = [c for c in sent.calls if c == ("POST", "/logstream")]
    puts = [c for c in sent.calls if c[0] == "PUT" and c[1].endswith(f"/{a}")]
    assert (len(posts), len(puts)) == (2, 2)
    assert logs.tasks.summary()[0].state == "running"


def test_lines_logged_while_the_stream_is_down_are_recovered_once(
    logs: LogSession, devices: list[str]
) -> None:
    a, b = devices[:2]
    logs(f"log stream -d {a}")
    logs(f"log stream -d {b}")
    logs.push(a, ["a before"])
    logs.push(b, ["b before"])
    wait_until(lambda: len(logs.log_lines()) == 2)
    hold_reconnection(logs)
    drop(logs)
    wait_until(lambda: "cannot be re-opened yet" in logs.text(), what="the retry notice")
    assert logs.tasks.summary()[0].state == "reconnecting"
    gap_a = [f"a gap {n}" for n in range(150)]  # more than one history page
    logs.push(a, gap_a[:70])
    logs.push(b, ["b gap"])
    logs.push(a, gap_a[70:])
    release(logs)
    wait_until(lambda: notices(logs), what="the reconnection notice")
    logs.push(a, ["a after"])
    logs.push(b, ["b after"])
    wait_until(lambda: "b after" in logs.log_lines() and "a after" in logs.log_lines())
    time.sleep(0.1)
    assert logs.log_lines(a) == ["a before", *gap_a, "a after"]
    assert logs.log_lines(b) == ["b before", "b gap", "b after"]
    assert notices(logs) == [
        "The log stream was lost (the server ended the log stream) and is open again; 151 "
        "missed lines recovered from the devices' log history follow."
    ]
    text = logs.text()
    assert text.index(notices(logs)[0]) < text.index("a gap 0")  # the notice comes first
    assert {s.state for s in logs.tasks.summary()} == {"running"}


def test_lines_cut_off_by_the_drop_and_logged_on_are_each_printed_once(
    logs: LogSession, devices: list[str]
) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    sent = [f"line {n}" for n in range(2000)]

    def keep_logging() -> None:
        for start in range(0, len(sent), 50):
            logs.push(a, sent[start : start + 50])
            if start == 500:
                drop(logs)
            if start == 1200:
                drop(logs)
            time.sleep(0.002)

    pusher = threading.Thread(target=keep_logging)
    pusher.start()
    pusher.join(60)
    wait_until(lambda: len(notices(logs)) == 2, what="two reconnections")
    logs.push(a, ["last"])
    wait_until(lambda: "last" in logs.log_lines(), what="the last line")
    assert logs.log_lines(a) == [*sent, "last"]


def test_a_gap_longer_than_the_history_is_named(logs: LogSession, devices: list[str]) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    logs.push(a, ["before"])
    wait_until(lambda: logs.log_lines() == ["before"])
    before_ts = logs.text().splitlines()[-1].split(" ")[1]
    hold_reconnection(logs)
    drop(logs)
    wait_until(lambda: "cannot be re-opened yet" in logs.text())
    gap = [f"gap {n}" for n in range(1200)]  # the simulator keeps the newest 1000
    for start in range(0, 1200, 200):
        logs.push(a, gap[start : start + 200])
    release(logs)
    wait_until(lambda: notices(logs), what="the reconnection notice")
    (notice,) = notices(logs)
    oldest = [ln for ln in logs.text().splitlines() if ln.endswith("] gap 200")][0].split(" ")[1]
    assert notice.endswith(
        f"1000 missed lines recovered from the devices' log history follow. Lines may still "
        f"be missing for device {a} between {before_ts} and {oldest}."
    )
    assert logs.log_lines() == ["before", *gap[200:]]


def test_the_server_closing_the_stream_ends_the_tasks(
    logs: LogSession, devices: list[str], api: Any
) -> None:
    logs(f"log stream -d {devices[0]}")
    logs(f"log stream -d {devices[1]}")
    resources.create_log_stream(api.client)  # another client of the account opens one
    wait_until(lambda: not logs.tasks.summary(), what="the tasks to end")
    assert (
        "The log stream is closed: another client opened this account's log stream. "
        "Log tasks 1, 2 ended." in logs.text().splitlines()
    )


def test_a_task_stopped_while_lines_arrive_prints_nothing_more(
    logs: LogSession, devices: list[str]
) -> None:
    a, b = devices[:2]
    logs(f"log stream -d {a}")
    logs(f"log stream -d {b}")
    sent = logs.impt.record_requests()
    done = threading.Event()

    def keep_logging() -> None:
        n = 0
        while not done.is_set():
            logs.push(a, [f"a {n}", f"a {n + 1}"])
            logs.push(b, [f"b {n}"])
            n += 2
            time.sleep(0.005)

    pusher = threading.Thread(target=keep_logging)
    pusher.start()
    try:
        wait_until(lambda: len(logs.log_lines(a)) > 50)
        task = logs.tasks.get(1)
        assert logs.tasks.stop(task)
        shown = len(logs.log_lines(a))
        b_then = len(logs.log_lines(b))
        wait_until(lambda: len(logs.log_lines(b)) > b_then + 30, what="more lines of b")
    finally:
        done.set()
        pusher.join(10)
    assert len(logs.log_lines(a)) == shown
    assert [f"a {n}" for n in range(shown)] == logs.log_lines(a)
    deletes = [path for method, path in sent.calls if method == "DELETE"]
    assert len(deletes) == 1 and deletes[0].startswith("/logstream/")
    assert deletes[0].endswith(f"/{a}")
    assert [s.id for s in logs.tasks.summary()] == [2]
    assert task.state == "stopped"
