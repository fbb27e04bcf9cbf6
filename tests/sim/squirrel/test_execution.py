"""Device and agent code runs on the VM: logs, timers, the clock, start and stop."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest

from .conftest import Recorder, code, requires_vm

pytestmark = requires_vm


def test_a_loop_logs_each_message_once_in_order(runner, recorder: Recorder) -> None:
    device = 'for (local i = 1; i <= 20; i++) server.log("Message #" + i + "#");'
    runner.start(code(device=device))
    recorder.wait_line("dev1", "Message #20#")
    assert recorder.typed("dev1") == [("server.log", f"Message #{i}#") for i in range(1, 21)]


def test_agent_and_device_lines_have_their_own_types(runner, recorder: Recorder) -> None:
    runner.start(
        code(
            device='server.log("d"); server.error("e");',
            agent='server.log("a"); server.error("f");',
        )
    )
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 4)
    assert sorted(recorder.typed("dev1")) == [
        ("agent.error", "f"),
        ("agent.log", "a"),
        ("server.error", "e"),
        ("server.log", "d"),
    ]


def test_non_string_values_are_logged_as_the_imp_shows_them(runner, recorder: Recorder) -> None:
    device = """
    server.log(42); server.log(1.5); server.log(true); server.log(null);
    server.log({a = 1}); server.log([1, 2]);
    server.log("done");
    """
    runner.start(code(device=device))
    recorder.wait_line("dev1", "done")
    logged = recorder.of("dev1")
    assert logged[:4] == ["42", "1.5", "true", "(null : 0x0)"]
    assert re.fullmatch(r"\(table : 0x[0-9a-f]+\)", logged[4])
    assert re.fullmatch(r"\(array : 0x[0-9a-f]+\)", logged[5])


def test_a_wakeup_chain_fires_in_order_when_the_clock_is_advanced(
    runner, recorder: Recorder
) -> None:
    device = """
    local count = 0;
    local first = time();
    function tick() {
        count++;
        server.log("tick " + count + " after " + (time() - first) + " s");
        if (count < 5) imp.wakeup(60, tick);
    }
    imp.wakeup(60, tick);
    server.log("started");
    """
    runner.start(code(device=device))
    recorder.wait_line("dev1", "started")
    runner.advance_clock("dev1", 299)
    assert recorder.of("dev1")[1:] == [f"tick {n} after {60 * n} s" for n in range(1, 5)]
    runner.advance_clock("dev1", 1)
    assert recorder.of("dev1")[-1] == "tick 5 after 300 s"


def test_cancelled_wakeups_do_not_fire(runner, recorder: Recorder) -> None:
    device = """
    local timer = imp.wakeup(10, function() { server.log("cancelled one fired"); });
    imp.wakeup(20, function() { server.log("kept one fired"); });
    imp.cancelwakeup(timer);
    """
    runner.start(code(device=device))
    time.sleep(0.3)
    runner.advance_clock("dev1", 30)
    assert recorder.of("dev1") == ["kept one fired"]


def test_time_and_date_follow_the_device_clock(runner, recorder: Recorder) -> None:
    device = """
    function report() {
        local d = date();
        server.log(format("%d %d-%02d-%02d %02d:%02d:%02d wday %d yday %d usec %d",
            time(), d.year, d.month + 1, d.day, d.hour, d.min, d.sec, d.wday, d.yday, d.usec));
    }
    report();
    imp.wakeup(86400, report);
    agent.send("ready", null);
    """
    runner.start(code(device=device))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 1)
    runner.advance_clock("dev1", 86400)
    before, after = recorder.of("dev1")
    assert int(after.split()[0]) - int(before.split()[0]) == 86400
    stamp = int(after.split()[0])
    expected = time.gmtime(stamp)
    assert after.split(" ", 1)[1] == time.strftime("%Y-%m-%d %H:%M:%S", expected) + (
        f" wday {(expected.tm_wday + 1) % 7} yday {expected.tm_yday - 1} usec 0"
    )


def test_speed_makes_device_time_pass_faster(make_runner, recorder: Recorder) -> None:
    runner = make_runner(speed=120.0)
    runner.start(code(device='imp.wakeup(120, function() { server.log("two minutes later"); });'))
    recorder.wait_line("dev1", "two minutes later", timeout=15)


def test_imp_and_hardware_identify_the_device(runner, recorder: Recorder) -> None:
    device = """
    server.log(hardware.getdeviceid());
    server.log(imp.getmacaddress());
    server.log(typeof hardware.millis() + " " + typeof hardware.micros());
    server.log(imp.configparams.len());
    server.log(math.sqrt(16) + " " + math.abs(-3) + " " + format("%05.1f", 3.14159));
    server.log(split("a,b,c", ",").len() + " " + strip("  x  "));
    hardware.pin1.configure(DIGITAL_OUT);
    hardware.pin1.write(1);
    hardware.i2c89.configure(CLOCK_SPEED_400_KHZ);
    """
    runner.start(code(device=device))
    recorder.wait_for(lambda: len(recorder.of("dev1")) >= 6)
    mac = "0c2a690000" + f"{sum(b'dev1') % 256:02x}"
    assert recorder.of("dev1")[:6] == ["dev1", mac, "integer integer", "0", "4 3 003.1", "3 x"]


def test_peripherals_are_stubs_that_accept_anything(runner, recorder: Recorder) -> None:
    device = """
    hardware.pin1.configure(DIGITAL_OUT, 1);
    hardware.pinA.write(1);
    hardware.uart12.configure(115200, 8, PARITY_NONE, 1, NO_CTSRTS);
    hardware.spi257.configure(MSB_FIRST, 1000);
    server.log(hardware.pin1.read() + " " + hardware.uart12.read() + " " + hardware.i2c89.write(0x10, "x"));
    """
    runner.start(code(device=device))
    recorder.wait_for(lambda: recorder.of("dev1"))
    assert recorder.of("dev1") == ["0 -1 0"]


def test_configparams_come_from_the_code_extra(runner, recorder: Recorder) -> None:
    device = 'server.log(imp.configparams.factory_fixture_url + " " + imp.configparams.n);'
    runner.start(code(device=device, configparams={"factory_fixture_url": "https://f", "n": 2}))
    recorder.wait_for(lambda: recorder.of("dev1"))
    assert recorder.of("dev1") == ["https://f 2"]


def test_the_code_cannot_reach_outside_the_simulated_imp(runner, recorder: Recorder) -> None:
    device = """
    foreach (name in ["system", "file", "dofile", "getenv", "remove", "seterrorhandler"]) {
        server.log(name + " " + (name in getroottable()));
    }
    """
    runner.start(code(device=device))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 6)
    assert all(line.endswith(" false") for line in recorder.of("dev1"))


def test_stop_ends_the_code_and_running_tracks_it(runner, recorder: Recorder) -> None:
    device = """
    function tick() { server.log("tick"); imp.wakeup(0.05, tick); }
    tick();
    """
    runner.start(code("dev1", device=device))
    runner.start(code("dev2", device=device))
    assert runner.running() == {"dev1": "deployment-dev1", "dev2": "deployment-dev2"}
    recorder.wait_for(lambda: len(recorder.of("dev1")) >= 3)
    runner.stop("dev1")
    assert runner.running() == {"dev2": "deployment-dev2"}
    stopped_at = len(recorder.of("dev1"))
    dev2_before = len(recorder.of("dev2"))
    recorder.wait_for(lambda: len(recorder.of("dev2")) >= dev2_before + 5)
    assert len(recorder.of("dev1")) == stopped_at
    assert "dev1" not in runner.workers()


def test_start_again_replaces_the_running_code(runner, recorder: Recorder) -> None:
    runner.start(
        code(
            device='server.log("first version"); imp.wakeup(0.2, function() { server.log("old timer"); });'
        )
    )
    recorder.wait_line("dev1", "first version")
    runner.start(code(device='server.log("second version");'))
    recorder.wait_line("dev1", "second version")
    time.sleep(0.5)
    assert recorder.of("dev1") == ["first version", "second version"]


def test_close_leaves_no_worker_processes(make_runner, recorder: Recorder) -> None:
    import os

    runner = make_runner()
    runner.start(code(device='server.log("up");', agent='server.log("up");'))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 2)
    pids = list(runner.workers()["dev1"].values())
    runner.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)
    assert os.getpid() not in pids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("bad", [0, -1.0])
def test_runner_options_are_checked(bad: float) -> None:
    from imptsh.sim.squirrel import SquirrelRunner

    with pytest.raises(ValueError, match="speed must be a positive number"):
        SquirrelRunner(speed=bad)


def test_callbacks_run_with_the_root_table_as_this(runner, recorder: Recorder) -> None:
    # Globals created in callbacks are globals; names the runner uses internally
    # (timer, message, http, idle...) do not shadow the application's own.
    device = """
    timer <- "application's timer";
    message <- "application's message";
    imp.wakeup(0, function() {
        created_in_callback <- 42;
        server.log(timer + ", " + message);
    });
    agent.on("check", function(_) { server.log("global " + created_in_callback); });
    imp.wakeup(0.01, function() { agent.send("ask", null); });
    """
    agent = 'device.on("ask", function(_) { device.send("check", null); });'
    runner.start(code(device=device, agent=agent))
    recorder.wait_line("dev1", "global")
    assert recorder.of("dev1") == ["application's timer, application's message", "global 42"]


def test_onidle_runs_once_when_nothing_else_is_due(runner, recorder: Recorder) -> None:
    device = """
    imp.onidle(function() { server.log("idle"); });
    imp.wakeup(0, function() { server.log("timer"); });
    server.log("top level");
    """
    runner.start(code(device=device))
    recorder.wait_line("dev1", "idle")
    time.sleep(0.2)
    assert recorder.of("dev1") == ["top level", "timer", "idle"]


def test_imp_sleep_blocks_without_tripping_the_watchdog(make_runner, recorder: Recorder) -> None:
    runner = make_runner(handler_timeout=0.5)
    device = """
    local before = hardware.millis();
    imp.sleep(0.8);
    server.log("slept " + (hardware.millis() - before >= 800));
    """
    runner.start(code(device=device))
    recorder.wait_line("dev1", "slept")
    assert recorder.typed("dev1") == [("server.log", "slept true")]


def test_server_sleepfor_sleeps_and_wakes_with_the_agent_told(runner, recorder: Recorder) -> None:
    device = """
    if (!("nv" in getroottable())) nv <- {count = 0};
    nv.count++;
    server.log("awake, reason " + hardware.wakereason() + ", boot " + nv.count);
    if (hardware.wakereason() != WAKEREASON_TIMER) server.sleepfor(300);
    server.log("after sleepfor");
    """
    agent = """
    device.ondisconnect(function() { server.log("device gone"); });
    device.onconnect(function() { server.log("device back"); });
    """
    runner.start(dataclasses.replace(code(device=device, agent=agent), reason="new_code"))
    recorder.wait_line("dev1", "device gone")
    sleeping = [line for line in recorder.typed("dev1") if line[0] == "server.sleep"]
    assert len(sleeping) == 1 and sleeping[0][1].startswith("sleeping until ")
    runner.advance_clock("dev1", 300)
    recorder.wait_line("dev1", "device back")
    assert recorder.of("dev1", "server.log") == [
        "awake, reason 4, boot 1",
        "awake, reason 1, boot 2",
        "after sleepfor",
    ]


def test_server_restart_restarts_the_code(runner, recorder: Recorder) -> None:
    device = """
    server.log("boot " + hardware.wakereason());
    if (hardware.wakereason() != WAKEREASON_SW_RESTART) server.restart();
    """
    runner.start(dataclasses.replace(code(device=device), reason="new_code"))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 3)
    assert recorder.typed("dev1") == [
        ("server.log", "boot 4"),
        ("status", "Device restarted: server.restart()."),
        ("server.log", "boot 10"),
    ]


def test_start_many_starts_each_device_with_its_own_code(runner, recorder: Recorder) -> None:
    names = ("dev1", "dev2", "dev3")
    runner.start(code("dev2", device='server.log("old code");'))
    recorder.wait_line("dev2", "old code")
    runner.start_many(
        [code(name, device=f'server.log("{name} is " + hardware.getdeviceid());') for name in names]
    )
    for name in names:
        recorder.wait_line(name, "is")
    assert {name: recorder.of(name)[-1] for name in names} == {
        name: f"{name} is {name}" for name in names
    }
    assert recorder.of("dev2") == ["old code", "dev2 is dev2"]  # restarted, once
    assert sorted(runner.running()) == list(names)
    assert all(set(sides) == {"agent", "device"} for sides in runner.workers().values())
