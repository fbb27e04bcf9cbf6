"""Background log tasks against the simulator: lines arrive once and in order, tasks share
the account's one server stream, the per-stream device limit, drops and what a reconnection
recovers, a task stopped while lines arrive, the server closing the stream."""

from __future__ import annotations

import time
from typing import Any

from imptsh.logs import LogConfig
from tests.conftest import OK, lines, sim_control
from tests.logs.conftest import LogSession, make_tasks, wait_until


def started(result: Any, task_id: int) -> None:
    assert result.status == 0, result.out
    assert f"Log task {task_id} runs in the background" in result.out


def test_every_line_arrives_once_and_in_order(logs: LogSession, devices: list[str]) -> None:
    a, b = devices[:2]
    result = logs(f"log stream -d {a} -d {b}")
    started(result, 1)
    assert lines(result.out)[0] == f"Log stream for Device(s) {a}, {b} is opened."
    assert lines(result.out)[-1] == OK
    sent_a = [f"a{n}" for n in range(600)]
    sent_b = [f"b{n}" for n in range(300)]
    for chunk in range(0, 600, 100):
        logs.push(a, sent_a[chunk : chunk + 100])
        logs.push(b, sent_b[chunk // 2 : chunk // 2 + 50])
    wait_until(lambda: len(logs.log_lines()) >= 900, what="900 lines")
    time.sleep(0.2)
    assert logs.log_lines(a) == sent_a
    assert logs.log_lines(b) == sent_b
    assert logs.tasks.summary()[0].lines == 900


def test_the_line_format_is_impts(logs: LogSession, devices: list[str]) -> None:
    logs(f"log stream -d {devices[0]}")
    logs.push(devices[0], [{"type": "agent.error", "msg": "ERROR: boom"}])
    text = wait_until(lambda: [ln for ln in logs.text().splitlines() if "boom" in ln])[0]
    prefix, ts, rest = text.split(" ", 2)
    assert prefix == f"[{devices[0]}]" and ts.endswith("Z") and rest == "[agent.error] ERROR: boom"


def test_json_mode_prints_one_object_per_line(logs: LogSession, devices: list[str]) -> None:
    import json

    result = logs(f"log stream -d {devices[0]} -z json")
    assert result.status == 0 and "Log stream" not in result.out
    logs.push(devices[0], ["one", "two"])
    wait_until(lambda: logs.text().count("\n") >= 2)
    objects = [json.loads(raw) for raw in logs.text().splitlines()]
    assert [(o["device_id"], o["type"], o["msg"]) for o in objects] == [
        (devices[0], "server.log", "one"),
        (devices[0], "server.log", "two"),
    ]


def test_two_tasks_share_one_server_stream(logs: LogSession, devices: list[str]) -> None:
    a, b = devices[:2]
    sent = logs.impt.record_requests()
    started(logs(f"log stream -d {a}"), 1)
    started(logs(f"log stream -d {b}"), 2)
    assert [c for c in sent.calls if c[0] == "POST" and c[1] == "/logstream"] == [
        ("POST", "/logstream")
    ]
    assert len([c for c in sent.calls if c[0] == "GET" and c[1].startswith("/logstream/")]) == 1
    logs.push(a, ["for one"])
    logs.push(b, ["for two"])
    wait_until(lambda: len(logs.log_lines()) == 2)
    summary = {s.id: s for s in logs.tasks.summary()}
    assert summary[1].devices == (a,) and summary[1].lines == 1
    assert summary[2].devices == (b,) and summary[2].lines == 1
    assert {s.state for s in summary.values()} == {"running"}


def test_a_device_of_two_tasks_is_added_once_and_shown_by_both(
    logs: LogSession, devices: list[str]
) -> None:
    a = devices[0]
    sent = logs.impt.record_requests()
    logs(f"log stream -d {a}")
    logs(f"log stream -d {a}")
    assert len([c for c in sent.calls if c[0] == "PUT"]) == 1
    logs.push(a, ["twice"])
    wait_until(lambda: len(logs.log_lines()) == 2)
    assert logs.log_lines() == ["twice", "twice"]
    sent.clear()
    logs.tasks.stop(logs.tasks.get(1))
    assert [c[0] for c in sent.calls] == []  # task 2 still shows it: it stays on the stream
    logs.push(a, ["once"])
    wait_until(lambda: "once" in logs.log_lines())
    time.sleep(0.1)
    assert logs.log_lines() == ["twice", "twice", "once"]
    logs.tasks.stop(logs.tasks.get(2))
    assert [c[0] for c in sent.calls] == ["DELETE"]


def test_the_stream_carries_at_most_the_configured_number_of_devices(
    logs: LogSession, sim: Any, api: Any
) -> None:
    sim_control(sim, "devices", {"count": 5})
    ids = [d["id"] for d in api.devices()]
    assert len(ids) == 8
    first = logs(" ".join(["log stream", *(f"-d {d}" for d in ids[:4])]))
    started(first, 1)
    second = logs(" ".join(["log stream", *(f"-d {d}" for d in ids[4:7])]))
    started(second, 2)
    assert (
        f"Device(s) {ids[5]}, {ids[6]} are not streamed: one log stream carries at most 5 "
        "Devices." in second.out
    )
    assert logs.tasks.get(2).devices == (ids[4],)
    third = logs(f"log stream -d {ids[7]}")
    assert third.status == 1
    assert (
        "Error: No Device can be streamed: one log stream carries at most 5 Devices and "
        "log tasks 1, 2 stream 5 already." in third.out
    )
    assert [s.id for s in logs.tasks.summary()] == [1, 2]
    # room again once a task stops
    logs.tasks.stop(logs.tasks.get(2))
    started(logs(f"log stream -d {ids[7]}"), 3)


def test_a_device_the_server_takes_off_the_stream_is_named(
    logged_in: Any, sim: Any, api: Any
) -> None:
    import io

    out = io.StringIO()
    # configured above the server's real limit of 5: the server evicts the oldest device
    logged_in.session.log_tasks = make_tasks(LogConfig(device_limit=6), out)
    sim_control(sim, "devices", {"count": 3})
    ids = [d["id"] for d in api.devices()]
    try:
        result = logged_in(" ".join(["log stream", *(f"-d {d}" for d in ids)]))
        assert result.status == 0, result.out
        wait_until(lambda: "no longer streamed" in out.getvalue())
        assert (
            f"Device {ids[0]} is no longer streamed: the server took it off the log stream "
            "(a log stream carries at most 6 devices)." in out.getvalue()
        )
        assert logged_in.session.log_tasks.get(1).devices == tuple(ids[1:])
    finally:
        logged_in.session.log_tasks.stop_all()
