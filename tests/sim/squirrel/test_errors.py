"""Errors as a user sees them: compile errors, runtime errors, runaway code, crashing workers."""

from __future__ import annotations

import os
import signal
import time

from imptsh.sim.runner import CodeError

from .conftest import Recorder, code, requires_vm

pytestmark = requires_vm


def test_compile_errors_name_file_row_and_column(runner) -> None:
    device = 'server.log("fine");\nlocal x = ;\n'
    agent = "function f() {\n  return 1\n"
    assert runner.compile_errors(device, agent) == [
        CodeError("device_code", 2, 11, "expression expected"),
        CodeError("agent_code", 3, 1, "expression expected"),
    ]


def test_valid_code_has_no_compile_errors(runner) -> None:
    assert runner.compile_errors('server.log("hi");', "http.onrequest(function(q, r) {});") == []
    assert runner.compile_errors("", "") == []


def test_compile_errors_quote_the_compiler(runner) -> None:
    (error,) = runner.compile_errors("while (true) { }\nbreak;", "")
    assert (error.file, error.row, error.text) == (
        "device_code",
        2,
        "'break' has to be in a loop block",
    )


def test_code_that_does_not_compile_logs_instead_of_running(runner, recorder: Recorder) -> None:
    runner.start(code(device="local x = ;", agent='server.log("agent runs");'))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 3)
    assert sorted(recorder.typed("dev1")) == [
        ("agent.log", "agent runs"),
        ("server.error", "ERROR:   at main device_code:1"),
        ("server.error", "ERROR: expression expected"),
    ]


def test_runtime_error_logs_message_and_location_then_restarts(runner, recorder: Recorder) -> None:
    device = """server.log("booted");
function read(sensor) {
    return sensor.value;
}
function poll() {
    local v = read(null);
    return v;
}
imp.wakeup(1, poll);
"""
    runner.start(code(device=device))
    recorder.wait_line("dev1", "booted")
    runner.advance_clock("dev1", 1)
    runner.advance_clock("dev1", 1)  # the first restart comes after a 1 s back-off
    recorder.wait_for(lambda: recorder.of("dev1").count("booted") == 2)
    assert recorder.typed("dev1") == [
        ("server.log", "booted"),
        ("server.error", "ERROR: the index 'value' does not exist"),
        ("server.error", "ERROR:   at read device_code:3"),
        ("server.error", "ERROR:   from poll device_code:6"),
        ("status", "Device restarted: runtime error."),
        ("server.log", "booted"),
    ]


def test_repeated_crashes_back_off(runner, recorder: Recorder) -> None:
    runner.start(code(device='server.log("boot"); local x = null; x.y;'))
    recorder.wait_line("dev1", "does not exist")
    for boots, advance in ((2, 1), (3, 2), (4, 4), (5, 8)):
        runner.advance_clock("dev1", advance - 0.5)
        assert recorder.of("dev1").count("boot") == boots - 1
        runner.advance_clock("dev1", 0.5)
        assert recorder.of("dev1").count("boot") == boots


def test_agent_runtime_errors_are_agent_errors(runner, recorder: Recorder) -> None:
    runner.start(code(agent='server.log("agent up");\nthrow "agent broke";'))
    recorder.wait_line("dev1", "agent broke")
    runner.advance_clock("dev1", 1)
    recorder.wait_for(lambda: recorder.of("dev1").count("agent up") == 2)
    assert recorder.typed("dev1")[:4] == [
        ("agent.log", "agent up"),
        ("agent.error", "ERROR: agent broke"),
        ("agent.error", "ERROR:   at main agent_code:2"),
        ("status", "Agent restarted: runtime error."),
    ]


def test_an_unhandled_exception_handler_keeps_the_code_running(runner, recorder: Recorder) -> None:
    device = """
    imp.onunhandledexception(function(error) { server.log("caught globally: " + error); });
    imp.wakeup(0, function() { undefined_function(); });
    imp.wakeup(1, function() { server.log("still running"); });
    """
    runner.start(code(device=device))
    recorder.wait_line("dev1", "caught globally")
    runner.advance_clock("dev1", 1)
    assert recorder.of("dev1") == [
        "caught globally: the index 'undefined_function' does not exist",
        "still running",
    ]


def test_runaway_code_is_stopped_while_others_keep_going(make_runner, recorder: Recorder) -> None:
    runner = make_runner(handler_timeout=1.0)
    runner.start(code("busy", device='server.log("spinning"); while (true) {}'))
    ticker = """
    local n = 0;
    function tick() { n++; server.log("tick " + n); imp.wakeup(0.05, tick); }
    tick();
    """
    agent = 'http.onrequest(function(request, response) { response.send(200, "alive"); });'
    runner.start(code("calm", device=ticker, agent=agent))
    spinning = recorder.wait_line("busy", "spinning")
    # While "busy" spins, the runner answers and "calm" keeps logging.
    assert runner.agent_request("agent-calm", "GET", "/", "", {}, b"") == (
        200,
        {"content-type": "text/plain; charset=utf-8"},
        b"alive",
    )
    assert set(runner.running()) == {"busy", "calm"}
    stopped = recorder.wait_line("busy", "without returning")
    assert stopped.type == "server.error"
    assert stopped.msg == (
        "ERROR: the device code ran for more than 1 s without returning to the event loop, "
        "so it was stopped"
    )
    # The watchdog let it run (not a time limit: both are times of receipt, and "spinning"
    # may arrive late while the handler's second already counts).
    assert stopped.at - spinning.at >= 0.5
    calm_during = [
        line
        for line in recorder.lines
        if line.device_id == "calm" and spinning.at < line.at < stopped.at
    ]
    assert len(calm_during) >= 5
    recorder.wait_for(lambda: recorder.of("busy").count("spinning") == 2)
    assert recorder.typed("busy")[:3] == [
        ("server.log", "spinning"),
        ("server.error", stopped.msg),
        ("status", "Device restarted: watchdog."),
    ]


def test_a_runaway_agent_does_not_stop_its_device(make_runner, recorder: Recorder) -> None:
    runner = make_runner(handler_timeout=0.5)
    device = 'function tick() { server.log("tick"); imp.wakeup(0.05, tick); } tick();'
    runner.start(code(device=device, agent="while (true) {}"))
    recorder.wait_line("dev1", "agent code ran for more than 0.5 s")
    ticks = recorder.of("dev1").count("tick")
    recorder.wait_for(lambda: recorder.of("dev1").count("tick") > ticks + 3)


def test_a_killed_worker_restarts_on_a_fresh_one(runner, recorder: Recorder) -> None:
    runner.start(code("one", device='server.log("one up");'))
    runner.start(code("two", device='server.log("two up");'))
    recorder.wait_line("one", "one up")
    recorder.wait_line("two", "two up")
    before = runner.workers()
    os.kill(before["one"]["device"], signal.SIGKILL)
    recorder.wait_line("one", "ended by SIGKILL")
    recorder.wait_for(lambda: recorder.of("one").count("one up") == 2)
    after = runner.workers()
    assert after["one"]["device"] != before["one"]["device"]
    assert after["one"]["agent"] == before["one"]["agent"]
    assert after["two"] == before["two"]
    assert recorder.of("two") == ["two up"]
    assert recorder.typed("one")[1:3] == [
        (
            "server.error",
            "ERROR: the device code crashed the Squirrel VM (its process was ended by SIGKILL)",
        ),
        ("status", "Device restarted: crash."),
    ]


def test_unbounded_recursion_crashes_only_its_own_code(make_runner, recorder: Recorder) -> None:
    runner = make_runner(memory_limit_mb=256)
    device = 'server.log("recursing"); function f(n) { return f(n + 1) + 1; } f(0);'
    runner.start(code(device=device, agent='server.log("agent fine");'))
    error = recorder.wait_line("dev1", "crashed the Squirrel VM", timeout=60)
    assert error.type == "server.error"
    assert "unbounded recursion or running out of memory" in error.msg
    assert recorder.of("dev1", "agent.log") == ["agent fine"]


def test_the_parent_never_waits_long_for_a_stuck_worker(make_runner, recorder: Recorder) -> None:
    runner = make_runner(handler_timeout=30.0, request_timeout=0.5)
    agent = """
    http.onrequest(function(request, response) { response.send(200, "never"); });
    imp.wakeup(0.2, function() { while (true) {} });
    """
    runner.start(code(agent=agent))
    time.sleep(0.5)
    started = time.monotonic()
    status, _, _ = runner.agent_request("agent-dev1", "GET", "/", "", {}, b"")
    runner.advance_clock("other-device", 5)
    runner.stop("dev1")
    assert status == 504
    assert time.monotonic() - started < 20  # bounded by request_timeout, not by the loop


def test_losing_the_zygote_restarts_every_device_on_a_new_one(runner, recorder: Recorder) -> None:
    runner.start(code("one", device='server.log("one up");'))
    runner.start(code("two", device='server.log("two up");'))
    recorder.wait_line("one", "one up")
    recorder.wait_line("two", "two up")
    workers = runner.workers()
    with open(f"/proc/{workers['one']['device']}/stat") as stat:
        zygote = int(stat.read().rsplit(")", 1)[1].split()[1])
    os.kill(zygote, signal.SIGKILL)
    recorder.wait_for(lambda: recorder.of("one").count("one up") == 2, timeout=30)
    recorder.wait_for(lambda: recorder.of("two").count("two up") == 2, timeout=30)
    after = runner.workers()
    assert after["one"]["device"] not in workers["one"].values()
    assert after["two"]["device"] not in workers["two"].values()
    assert runner.compile_errors("server.log(1);", "") == []
