"""Factory-only calls: they throw in application firmware and reach the platform in factory groups."""

from __future__ import annotations

import pytest

from imptsh.sim import squirrel
from imptsh.sim.runner import RunnerCallbacks

from .conftest import Recorder, code, requires_vm

pytestmark = requires_vm

CALLS = {
    "server.bless()": "server.bless(true, function(ok) {});",
    "server.factoryblinkup()": 'server.factoryblinkup("ssid", "secret", hardware.pin1, BLINKUP_ACTIVEHIGH);',
    "imp.clearconfiguration()": "imp.clearconfiguration();",
}


@pytest.mark.parametrize(
    "dg_type", ["development_devicegroup", "production_devicegroup", "pre_production_devicegroup"]
)
@pytest.mark.parametrize("call", sorted(CALLS))
def test_factory_calls_throw_in_application_firmware(
    runner, recorder: Recorder, call: str, dg_type: str
) -> None:
    device = f'server.log("booted");\n{CALLS[call]}\nserver.log("not reached");'
    runner.start(code(device=device, dg_type=dg_type))
    recorder.wait_line("dev1", "ERROR:   at main")
    runner.advance_clock("dev1", 1)
    recorder.wait_for(lambda: recorder.of("dev1").count("booted") == 2)
    assert recorder.typed("dev1")[:5] == [
        ("server.log", "booted"),
        (
            "server.error",
            f"ERROR: {call} is only available in factory firmware (this device runs {dg_type} code)",
        ),
        ("server.error", "ERROR:   at main device_code:2"),
        ("status", "Device restarted: runtime error."),
        ("server.log", "booted"),
    ]
    assert recorder.factory_events == []


def test_application_firmware_can_catch_the_throw(runner, recorder: Recorder) -> None:
    device = 'try { server.bless(true, null); } catch (e) { server.log("caught: " + e); }'
    runner.start(code(device=device))
    recorder.wait_line("dev1", "caught")
    assert recorder.typed("dev1") == [
        (
            "server.log",
            "caught: server.bless() is only available in factory firmware "
            "(this device runs development_devicegroup code)",
        )
    ]


@pytest.mark.parametrize(
    "dg_type",
    [
        "factoryfixture_devicegroup",
        "pre_factoryfixture_devicegroup",
        "dut_devicegroup",
        "pre_dut_devicegroup",
    ],
)
def test_factory_calls_reach_the_factory_callback(runner, recorder: Recorder, dg_type: str) -> None:
    device = """
    server.factoryblinkup("factory-wifi", "secret", hardware.pin1, BLINKUP_ACTIVEHIGH);
    imp.clearconfiguration();
    server.bless(true, function(ok) { server.log("blessed: " + ok); });
    """
    runner.start(code(device=device, dg_type=dg_type))
    recorder.wait_for(lambda: len(recorder.factory_events) == 4)
    assert recorder.of("dev1") == ["blessed: true"]
    assert recorder.factory_events == [
        ("dev1", "blinkup", {"ssid": "factory-wifi", "flags": 1}),
        ("dev1", "clearconfiguration", {"flags": 0}),
        ("dev1", "bless", {"result": True}),
        ("dev1", "blessed", {"result": True}),
    ]


def test_blinkup_flags_are_a_bitfield(runner, recorder: Recorder) -> None:
    """Fixture firmware names its BlinkUp flags, as Electric Imp's examples do."""
    device = 'server.factoryblinkup("factory", "secret", hardware.pin5, BLINKUP_FAST);'
    device += 'server.factoryblinkup("", "", hardware.pin5, BLINKUP_FAST | BLINKUP_ACTIVEHIGH);'
    runner.start(code(device=device, dg_type="pre_factoryfixture_devicegroup"))
    recorder.wait_for(lambda: len(recorder.factory_events) == 2)
    assert recorder.factory_events == [
        ("dev1", "blinkup", {"ssid": "factory", "flags": 2}),
        ("dev1", "blinkup", {"ssid": "", "flags": 3}),
    ]


def test_blessed_comes_once_the_code_has_had_its_answer(runner, recorder: Recorder) -> None:
    """`blessed` follows what the bless callback logged, also when the callback fails or
    never returns (the platform goes on either way)."""
    device = """
    server.bless(true, function(ok) { server.log("first " + ok); });
    server.bless(true, function(ok) { server.log("second"); throw "oops"; });
    """
    runner.start(code(device=device, dg_type="dut_devicegroup"))
    recorder.wait_for(lambda: len(recorder.factory_events) == 4)
    events = [(e[1], e[2]) for e in recorder.factory_events[:4]]
    assert (
        events
        == [("bless", {"result": True}), ("bless", {"result": True})]
        + [("blessed", {"result": True})] * 2
    )
    assert recorder.of("dev1")[:3] == ["first true", "second", "ERROR: oops"]


def test_blessed_comes_when_the_callback_never_returns(make_runner, recorder: Recorder) -> None:
    runner = make_runner(handler_timeout=0.5)
    recorder.factory_answer = False
    device = 'server.bless(true, function(ok) { server.log("got " + ok); while (true) {} });'
    runner.start(code(device=device, dg_type="pre_dut_devicegroup"))
    recorder.wait_for(lambda: ("dev1", "blessed", {"result": False}) in recorder.factory_events)
    assert recorder.of("dev1")[0] == "got false"
    assert recorder.factory_events[:2] == [
        ("dev1", "bless", {"result": True}),
        ("dev1", "blessed", {"result": False}),
    ]


def test_bless_reports_what_the_factory_callback_answers(runner, recorder: Recorder) -> None:
    recorder.factory_answer = False
    runner.start(
        code(
            device='server.bless(true, function(ok) { server.log("blessed: " + ok); });',
            dg_type="dut_devicegroup",
        )
    )
    recorder.wait_line("dev1", "blessed")
    assert recorder.of("dev1") == ["blessed: false"]


def test_without_a_factory_callback_factory_calls_succeed_quietly(recorder: Recorder) -> None:
    runner = squirrel.SquirrelRunner()
    try:
        runner.bind(RunnerCallbacks(log=recorder.log))
        device = """
        imp.clearconfiguration();
        server.bless(true, function(ok) { server.log("blessed: " + ok); });
        """
        runner.start(code(device=device, dg_type="dut_devicegroup"))
        recorder.wait_line("dev1", "blessed")
        assert recorder.of("dev1") == ["blessed: true"]
    finally:
        runner.close()
