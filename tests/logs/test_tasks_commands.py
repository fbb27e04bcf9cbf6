"""`tasks`: listing, stopping, adding and removing devices, pausing, filtering and waiting,
with the errors a mistyped line gets."""

from __future__ import annotations

import io
import json
import shlex
import threading
from typing import Any

from imptsh.commands.tasks import run_tasks
from tests.conftest import Result, lines, sim_control
from tests.logs.conftest import LogSession, wait_until


def tasks(logs: LogSession, line: str = "") -> Result:
    out = io.StringIO()
    status = run_tasks(logs.impt.session, shlex.split(line), out)
    return Result(status, out.getvalue())


def test_list_shows_devices_lines_and_state(logs: LogSession, devices: list[str]) -> None:
    assert lines(tasks(logs).out) == ["No Log Tasks are found."]
    assert json.loads(tasks(logs, "list -z json").out) == []
    a, b = devices[:2]
    logs(f"log stream -d {a} -d {b}")
    logs.push(a, ["one", "two"])
    wait_until(lambda: len(logs.log_lines()) == 2)
    result = tasks(logs)
    assert result.status == 0
    assert lines(result.out) == [
        "Log Task list (1 items):",
        "Log Task: ",
        "  id:             1",
        f"  devices:        {a}, {b}",
        "  lines received: 2",
        "  lines shown:    2",
        "  state:          running",
    ]
    assert "IMPT COMMAND" not in result.out  # imptsh's own command: no impt status line
    (entry,) = json.loads(tasks(logs, "list -z json").out)
    assert entry["Log Task"]["devices"] == [a, b]


def test_stop_one_or_all(logs: LogSession, devices: list[str]) -> None:
    for device in devices:
        logs(f"log stream -d {device}")
    assert lines(tasks(logs, "stop 2").out) == ["Log task 2 is stopped."]
    assert [s.id for s in logs.tasks.summary()] == [1, 3]
    result = tasks(logs, "stop 2")
    assert result.status == 1
    assert lines(result.out) == ["Error: Log task 2 is not found (log tasks running: 1, 3)."]
    assert lines(tasks(logs, "stop --all").out) == ["Log tasks 1, 3 are stopped."]
    assert lines(tasks(logs, "stop -a").out) == ["No log task is running."]
    assert tasks(logs, "stop").out.startswith("Error: No log task is running.")


def test_add_and_remove_devices(logs: LogSession, devices: list[str]) -> None:
    a, b, c = devices
    logs(f"log stream -d {a}")
    assert lines(tasks(logs, f"add 1 -d {b} -d {c}").out) == [
        f"Device(s) {b}, {c} are streamed in log task 1."
    ]
    logs.push(c, ["from c"])
    wait_until(lambda: logs.log_lines(c) == ["from c"])
    assert lines(tasks(logs, f"remove 1 --device {c}").out) == [
        f"Device(s) {c} are no longer streamed in log task 1."
    ]
    logs.push(c, ["not shown"])
    logs.push(a, ["from a"])
    wait_until(lambda: logs.log_lines(a) == ["from a"])
    assert logs.log_lines(c) == ["from c"]
    wrong = tasks(logs, f"remove 1 -d {c}")
    assert wrong.status == 1
    assert lines(wrong.out) == [
        f"Error: Log task 1 does not stream Device(s) {c}; it streams {a}, {b}."
    ]
    everything = tasks(logs, f"remove 1 -d {a} -d {b}")
    assert lines(everything.out) == [
        'Error: Log task 1 would stream no Device; "tasks stop 1" stops it.'
    ]
    assert tasks(logs, "add 1").out.startswith(
        'Error: Option "--device" or "--dg" must be specified.'
    )
    assert 'Error: Device "nosuch" is not found.' in tasks(logs, "add 1 -d nosuch").out


def test_add_beyond_the_limit_names_the_devices_left_out(
    logs: LogSession, sim: Any, api: Any
) -> None:
    sim_control(sim, "devices", {"count": 3})
    ids = [d["id"] for d in api.devices()]
    logs(" ".join(["log stream", *(f"-d {d}" for d in ids[:4])]))
    result = tasks(logs, " ".join(["add 1", *(f"-d {d}" for d in ids[4:])]))
    assert result.status == 1
    assert lines(result.out) == [
        f"Device(s) {ids[4]} are streamed in log task 1.",
        f"Error: Device(s) {ids[5]} are not streamed: one log stream carries at most 5 "
        "Devices and 5 are streamed already.",
    ]


def test_pause_holds_lines_and_resume_shows_them(logs: LogSession, devices: list[str]) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    assert lines(tasks(logs, "pause").out) == [
        "Log task 1 is paused. At most 10000 lines are held per task."
    ]
    logs.push(a, ["held 1", "held 2"])
    wait_until(lambda: logs.tasks.get(1).held == 2)
    assert logs.log_lines() == []
    assert logs.tasks.summary()[0].state == "paused"
    assert "  lines held:     2" in tasks(logs).out
    assert lines(tasks(logs, "resume 1").out) == ["Log task 1 is resumed."]
    assert logs.log_lines() == ["held 1", "held 2"]
    logs.push(a, ["live"])
    wait_until(lambda: logs.log_lines() == ["held 1", "held 2", "live"])


def test_filter_by_type_and_pattern(logs: LogSession, devices: list[str]) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    result = tasks(logs, "filter 1 --type server.error --type agent.error")
    assert lines(result.out) == ["Log task 1 shows only lines of type agent.error or server.error."]
    logs.push(
        a,
        [
            {"type": "server.log", "msg": "quiet"},
            {"type": "server.error", "msg": "ERROR: one"},
            {"type": "agent.error", "msg": "ERROR: two"},
        ],
    )
    wait_until(lambda: logs.tasks.get(1).received == 3)
    assert logs.log_lines() == ["ERROR: one", "ERROR: two"]
    tasks(logs, "filter 1 --match 'temp=[0-9]+'")
    logs.push(a, ["temp=21", "temp=?", {"type": "status", "msg": "temp=22"}])
    wait_until(lambda: logs.tasks.get(1).received == 6)
    assert logs.log_lines()[2:] == ["temp=21", "temp=22"]
    assert "  filter:         message matching 'temp=[0-9]+'" in tasks(logs).out
    assert lines(tasks(logs, "filter 1 --clear").out) == ["Log task 1 shows every line."]
    logs.push(a, ["anything"])
    wait_until(lambda: "anything" in logs.log_lines())


def test_filter_refuses_what_it_cannot_use(logs: LogSession, devices: list[str]) -> None:
    logs(f"log stream -d {devices[0]}")
    bad_regex = tasks(logs, "filter 1 --match 'a('")
    assert bad_regex.status == 1
    assert lines(bad_regex.out) == [
        'Error: Option "--match" must be a regular expression (Python syntax): missing ), '
        "unterminated subpattern at position 1."
    ]
    bad_type = tasks(logs, "filter 1 --type server.warning")
    assert bad_type.status == 1
    assert 'Argument: type, Given: "server.warning", Choices: "server.log"' in bad_type.out
    assert "IMPT COMMAND FAILS" not in bad_type.out
    assert "Usage: tasks filter" in bad_type.out
    assert lines(tasks(logs, "filter 1").out) == [
        'Error: Option "--type", "--match" or "--clear" must be specified.'
    ]
    assert tasks(logs, "filter x").out.endswith('Error: Option "--task" must be a number.\n')
    assert lines(tasks(logs, "frobnicate").out)[-1] == "Error: Unknown argument: frobnicate"


def test_wait_for_a_line_or_a_timeout(logs: LogSession, devices: list[str]) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    timer = threading.Timer(0.3, lambda: logs.push(a, ["booting", "ready: yes"]))
    timer.start()
    result = tasks(logs, "wait --match '^ready' --timeout 20")
    assert result.status == 0, result.out
    assert lines(result.out) == ["Log task 1 showed a line matching '^ready'."]
    missing = tasks(logs, "wait 1 --match never --timeout 0.2")
    assert missing.status == 1
    assert lines(missing.out) == [
        "Error: Log task 1 showed no line matching 'never' within 0.2 seconds."
    ]
    assert lines(tasks(logs, "wait -s 0.1").out) == ["Waited 0.1 seconds."]


def test_wait_counts_a_line_that_came_just_before_and_uses_each_match_once(
    logs: LogSession, devices: list[str]
) -> None:
    a = devices[0]
    logs(f"log stream -d {a}")
    logs.push(a, ["ready"])
    wait_until(lambda: logs.log_lines() == ["ready"])
    assert tasks(logs, "wait --match ready --timeout 20").status == 0
    again = tasks(logs, "wait --match ready --timeout 0.2")
    assert again.status == 1, again.out
    logs.push(a, ["ready"])
    assert tasks(logs, "wait --match ready --timeout 20").status == 0
