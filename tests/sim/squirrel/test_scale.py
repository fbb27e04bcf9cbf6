"""Many devices at once: start time and log throughput are measured (and printed), not asserted."""

from __future__ import annotations

import time

from .conftest import Recorder, code, requires_vm

pytestmark = requires_vm

DEVICES = 100


def test_a_hundred_devices_start_and_all_run(runner, recorder: Recorder, capsys) -> None:
    device = 'server.log("device up");'
    agent = 'server.log("agent up");'
    started = time.perf_counter()
    for number in range(DEVICES):
        runner.start(code(f"device-{number:03d}", device=device, agent=agent))
    returned = time.perf_counter() - started
    recorder.wait_for(lambda: len(recorder.lines) == 2 * DEVICES, timeout=120)
    running = time.perf_counter() - started
    assert len(runner.running()) == DEVICES
    for number in range(DEVICES):
        assert sorted(recorder.of(f"device-{number:03d}")) == ["agent up", "device up"]
    with capsys.disabled():
        print(
            f"\n{DEVICES} devices: start() calls took {returned:.2f} s, "
            f"all device and agent code had run after {running:.2f} s"
        )
