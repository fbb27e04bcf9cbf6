"""The simulator runs the deployed Squirrel, as a client sees it: code deployed with imptsh's
commands or its API client, logs read back through the API (history pages and log streams),
clocks moved on through the control plane, agents reached at the URL `device info` shows.

The history is read with the client's paging of `GET /devices/{id}/logs` (small pages, so
that several are needed); `imptsh log get` will read the same pages once the `log` group
exists."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from imptsh.api import resources
from tests.conftest import FAILS, Impt, SimApi, lines, sim_control

WAIT = 20.0  # upper bound for what should happen soon; never reached when things work


@pytest.fixture
def api(squirrel_sim: Any) -> SimApi:
    return SimApi(squirrel_sim)


@pytest.fixture
def impt_sq(impt: Impt, squirrel_sim: Any) -> Impt:
    """`impt` logged in to the Squirrel-running simulator."""
    result = impt(f"auth login --endpoint {squirrel_sim.base_url} --user demo --pwd demo")
    assert result.status == 0, result.out
    return impt


def history(api: SimApi, device_id: str, page_size: int = 100) -> list[tuple[str, str]]:
    """(type, message) of every line in the device's history, oldest first, read page by
    page."""
    newest_first = api.client.iter_list(f"/devices/{device_id}/logs", page_size=page_size)
    return [(e["type"], e["msg"]) for e in reversed(list(newest_first))]


def wait_until(found: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_line(api: SimApi, device_id: str, text: str) -> list[tuple[str, str]]:
    """The history once a line containing `text` is in it."""

    def seen() -> list[tuple[str, str]] | None:
        lines_ = history(api, device_id)
        return lines_ if any(text in msg for _, msg in lines_) else None

    return wait_until(seen, f"{text!r} in the log of {device_id}")


def run_code(api: SimApi, device_code: str, agent_code: str = "", **dg: Any) -> tuple[str, str]:
    """A Development Device Group running this code on the first device: (group, device)."""
    group = api.dg(api.product("P"), "G", **dg)
    device = api.devices()[0]["id"]
    api.deploy(group, device_code, agent_code=agent_code)
    api.assign(group, device)  # the device restarts into the group's code
    return group["id"], device


def code_lines(log: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The lines the code produced (not the platform's status lines)."""
    return [(t, m) for t, m in log if t != "status"]


# -- logs --------------------------------------------------------------------------------------


LOOP = 'for (local i = 1; i <= 20; i++) server.log("Message #" + i + "#");'
MESSAGES = [("server.log", f"Message #{i}#") for i in range(1, 21)]


def test_every_line_of_a_loop_reaches_the_history_and_the_stream_in_order_once(
    api: SimApi,
) -> None:
    device = api.devices()[0]["id"]
    stream_id = resources.create_log_stream(api.client)
    events = resources.open_log_stream(api.client, stream_id)
    with events:
        assert json.loads(next(events).data)["state"] == "opened"
        resources.add_to_log_stream(api.client, stream_id, device)
        assert json.loads(next(events).data)["state"] == "subscribed"
        run_code(api, LOOP)
        streamed = []
        for event in events:
            if event.name == "message":
                line = json.loads(event.data)
                streamed.append((line["type"], line["msg"]))
                if line["msg"] == "Message #20#":
                    break
    assert code_lines(streamed) == MESSAGES
    assert streamed[0] == ("status", "Agent restarted: reload.")
    log = history(api, device, page_size=7)
    assert code_lines(log) == MESSAGES
    assert log == streamed  # the same lines, the same order, each once


# -- time ----------------------------------------------------------------------------------


TIMERS = """
local n = 0;
function tick() {
    n++;
    server.log("tick " + n + " at +" + (time() - start));
    if (n < 3) imp.wakeup(3600, tick);
}
start <- time();
imp.wakeup(3600, tick);
imp.wakeup(5400, function() { server.log("half past at +" + (time() - start)); });
server.log("waiting");
"""


def test_timers_fire_in_order_as_the_control_plane_moves_the_clock_on(
    api: SimApi, squirrel_sim: Any
) -> None:
    _, device = run_code(api, TIMERS)
    wait_for_line(api, device, "waiting")
    assert sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 7200}) == {
        "meta": {"device_id": device, "seconds": 7200}
    }
    # The control call answers once the lines of what fell due have been delivered.
    assert code_lines(history(api, device)) == [
        ("server.log", "waiting"),
        ("server.log", "tick 1 at +3600"),
        ("server.log", "half past at +5400"),
        ("server.log", "tick 2 at +7200"),
    ]
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 3600})
    assert code_lines(history(api, device))[-1] == ("server.log", "tick 3 at +10800")


# -- device and agent ----------------------------------------------------------------------


def test_device_and_agent_send_each_other_messages(api: SimApi) -> None:
    device_code = """
    agent.on("pong", function(n) { server.log("pong " + n); });
    agent.send("ping", 1);
    """
    agent_code = """
    device.on("ping", function(n) { server.log("ping " + n); device.send("pong", n + 1); });
    """
    _, device = run_code(api, device_code, agent_code)
    log = wait_for_line(api, device, "pong")
    assert code_lines(log) == [("agent.log", "ping 1"), ("server.log", "pong 2")]


AGENT_HANDLER = """
http.onrequest(function(request, response) {
    response.header("content-type", "application/json");
    response.send(200, http.jsonencode({
        method = request.method, path = request.path, who = request.query.who,
        body = request.body, me = http.agenturl()
    }));
});
"""


def test_the_agent_answers_requests_to_the_url_device_info_shows(
    api: SimApi, impt_sq: Impt
) -> None:
    _, device = run_code(api, "", AGENT_HANDLER)
    info = impt_sq(f"device info -d {device} -z json")
    assert info.status == 0, info.out
    url = json.loads(info.out)["Device"]["agent_url"]
    answer = wait_until(
        lambda: (r := requests.post(f"{url}/led?who=me", data="on", timeout=10)).ok and r,
        "the agent's HTTP handler",
    )
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"method": "POST", "path": "/led", "who": "me", "body": "on", "me": url}


# -- errors --------------------------------------------------------------------------------


BROKEN = 'server.log("fine");\nlocal x = (1 + ;\n'


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "",
            [
                "Error: Compilation Error: Device code compile failed",
                "device_code error (line 2, column 16): expression expected",
                FAILS,
            ],
        ),
        (
            "-z minimal",
            [
                "Error: Compilation Error: Device code compile failed",
                "device_code error (line 2, column 16): expression expected",
            ],
        ),
    ],
)
def test_a_syntax_error_is_refused_at_deploy_with_its_file_line_and_column(
    api: SimApi, impt_sq: Impt, mode: str, expected: list[str]
) -> None:
    group = api.dg(api.product("P"), "G")
    Path("broken.nut").write_text(BROKEN)
    Path("agent.nut").write_text('server.log("agent");')
    r = impt_sq(f"build deploy -g G -x broken.nut -y agent.nut {mode}")
    assert r.status == 1
    assert lines(r.out) == expected
    assert api.get("/deployments") == []
    assert "current_deployment" not in api.entity("dg", group)["relationships"]


def test_syntax_errors_in_both_files_are_reported_in_json(api: SimApi, impt_sq: Impt) -> None:
    api.dg(api.product("P"), "G")
    Path("broken.nut").write_text(BROKEN)
    Path("agent.nut").write_text("function (")
    r = impt_sq("build deploy -g G -x broken.nut -y agent.nut -z json")
    assert r.status == 1
    assert json.loads(r.out) == {
        "Error": "Compilation Error: Device code compile failed "
        "device_code error (line 2, column 16): expression expected "
        "agent_code error (line 1, column 10): expected 'IDENTIFIER'"
    }
    r = impt_sq("build deploy -g G -x broken.nut -y agent.nut -z debug")
    assert r.status == 1
    assert lines(r.out)[-4:] == [
        "Error: Compilation Error: Device code compile failed",
        "device_code error (line 2, column 16): expression expected",
        "agent_code error (line 1, column 10): expected 'IDENTIFIER'",
        FAILS,
    ]


RUNTIME_ERROR = """
server.log("booted " + hardware.wakereason());
function read(table) { return table.missing; }
function poll() { local value = read({}); return value; }
poll();
"""


def test_a_runtime_error_is_logged_with_its_place_and_the_device_restarts(
    api: SimApi, squirrel_sim: Any
) -> None:
    _, device = run_code(api, RUNTIME_ERROR)
    wait_for_line(api, device, "ERROR:   from main")
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 1})  # the back-off
    error = [
        ("server.error", "ERROR: the index 'missing' does not exist"),
        ("server.error", "ERROR:   at read device_code:3"),
        ("server.error", "ERROR:   from poll device_code:4"),
        ("server.error", "ERROR:   from main device_code:5"),
    ]
    log = wait_until(
        lambda: (h := history(api, device)).count(error[-1]) == 2 and h, "the second error"
    )
    assert log[0] == ("status", "Agent restarted: reload.")
    assert log[1][1].startswith("Downloading new code; ")
    assert log[2] == ("status", "Device connected")
    assert log[3:] == [
        ("server.log", "booted 4"),  # WAKEREASON_NEW_SQUIRREL: new code
        *error,
        ("status", "Device restarted: runtime error."),
        ("server.log", "booted 5"),  # WAKEREASON_SQUIRREL_ERROR
        *error,
    ]


def test_a_device_that_never_returns_is_stopped_while_the_simulator_answers(
    api: SimApi, impt_sq: Impt
) -> None:
    agent = 'http.onrequest(function(req, res) { res.send(200, "agent here"); });'
    _, device = run_code(api, 'server.log("spinning");\nwhile (true) {}', agent)
    wait_for_line(api, device, "spinning")
    # The device's worker is stuck in its loop; the API, the commands and the device's
    # own agent go on answering.
    r = impt_sq("device list -z json")
    assert r.status == 0 and len(json.loads(r.out)) == 3
    url = api.device(device)["attributes"]["agent_url"]
    assert requests.get(url, timeout=10).text == "agent here"
    log = wait_for_line(api, device, "Device restarted: watchdog.")
    assert code_lines(log)[:2] == [
        ("server.log", "spinning"),
        (
            "server.error",
            "ERROR: the device code ran for more than 1 s without returning to the event "
            "loop, so it was stopped",
        ),
    ]


@pytest.mark.parametrize(
    "call",
    [
        'server.bless(true, function(ok) { server.log("blessed " + ok); })',
        'server.factoryblinkup("factory", "secret", hardware.pin1, 0)',
        "imp.clearconfiguration()",
    ],
)
def test_factory_calls_throw_in_application_firmware(
    api: SimApi, squirrel_sim: Any, call: str
) -> None:
    name = call[: call.index("(")] + "()"
    _, device = run_code(api, f'server.log("before");\n{call};\nserver.log("after");')
    wait_for_line(api, device, "ERROR:   at main")
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 1})
    log = wait_until(
        lambda: (h := history(api, device)).count(("server.log", "before")) == 2 and h,
        "the code to run again",
    )
    assert log[3:8] == [
        ("server.log", "before"),
        (
            "server.error",
            f"ERROR: {name} is only available in factory firmware (this device runs "
            "development_devicegroup code)",
        ),
        ("server.error", "ERROR:   at main device_code:2"),
        ("status", "Device restarted: runtime error."),
        ("server.log", "before"),
    ]
    assert api.device(device)["relationships"]["devicegroup"]["type"] == ("development_devicegroup")


# -- the device's life cycle ---------------------------------------------------------------


def booted(name: str) -> str:
    return f'server.log("{name} " + hardware.wakereason());'


EVERY_MINUTE = """
local minutes = 0;
function minute() { minutes++; server.log("minute " + minutes); imp.wakeup(60, minute); }
imp.wakeup(60, minute);
"""


def test_code_follows_restarts_new_deployments_and_assignment(
    api: SimApi, impt_sq: Impt, squirrel_sim: Any
) -> None:
    group, device = run_code(api, booted("v1"), 'server.log("agent v1");')
    wait_for_line(api, device, "v1 4")
    assert impt_sq("dg restart -g G").status == 0
    wait_for_line(api, device, "v1 10")  # WAKEREASON_SW_RESTART
    assert impt_sq(f"device restart -d {device}").status == 0
    wait_until(
        lambda: (h := history(api, device)).count(("server.log", "v1 10")) == 2 and h,
        "the second restart",
    )
    # A new deployment runs once the devices restart into it.
    api.deploy(group, booted("v2"), agent_code='server.log("agent v2");')
    # (a clock step answers once the device's worker has handled everything sent before)
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 0})
    assert ("server.log", "v2 4") not in history(api, device)
    resources.restart_device(api.client, device)
    wait_for_line(api, device, "v2 4")
    wait_for_line(api, device, "agent v2")
    # Moved to another group: that group's code; unassigned: nothing runs.
    other = api.dg(api.product("Q"), "H")
    api.deploy(other, booted("h") + EVERY_MINUTE)
    api.assign(other, device)
    wait_for_line(api, device, "h 4")
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 60})
    assert history(api, device)[-1] == ("server.log", "minute 1")
    agent_url = api.device(device)["attributes"]["agent_url"]
    api.client.delete(
        f"/devicegroups/{other['id']}/relationships/devices",
        {"data": [{"type": "device", "id": device}]},
    )
    before = history(api, device)
    assert requests.get(agent_url, timeout=10).status_code == 404
    sim_control(squirrel_sim, f"devices/{device}/clock", {"seconds": 600})
    assert history(api, device) == before


def test_each_device_runs_its_own_copy_of_the_code(api: SimApi) -> None:
    group = api.dg(api.product("P"), "G")
    ids = [d["id"] for d in api.devices()]
    api.assign(group, *ids)
    api.deploy(group, 'server.log("I am " + hardware.getdeviceid());')
    resources.restart_device_group(api.client, group["id"])
    for device in ids:
        assert code_lines(wait_for_line(api, device, "I am")) == [("server.log", f"I am {device}")]
