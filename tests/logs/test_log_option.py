"""`--log` of `device restart`, `dg restart` and `build run`: a background log task whose
devices are subscribed before the restart, so that the restart's own lines are shown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OK, lines
from tests.logs.conftest import LogSession, wait_until

OPENED = "Log stream for Device(s) {} is opened."


@pytest.fixture
def running(api: Any) -> tuple[dict[str, Any], list[str]]:
    """A Device Group whose current deployment logs `tick` (agent) and two devices in it."""
    dg = api.dg(api.product("P"), "Run")
    api.deploy(dg, 'server.log("device tick");', agent_code='server.log("agent tick");')
    ids = [d["id"] for d in api.devices()[:2]]
    api.assign(dg, *ids)
    return dg, ids


def restart_lines(logs: LogSession, device: str) -> list[str]:
    return [
        m for m in logs.log_lines(device) if m in ("Device connected", "Agent restarted: reload.")
    ]


def test_device_restart_log_shows_the_restarts_own_lines(
    logs: LogSession, running: tuple[dict[str, Any], list[str]]
) -> None:
    _, (device, _) = running
    result = logs(f"device restart -d {device} --log")
    assert result.status == 0, result.out
    assert lines(result.out) == [
        f'Restart request for Device "{device}" is successful.',
        OPENED.format(device),
        'Log task 1 runs in the background: "tasks" lists the log tasks, "tasks stop 1" '
        "stops this one.",
        OK,
    ]
    wait_until(lambda: len(restart_lines(logs, device)) == 2, what="the restart's lines")
    assert restart_lines(logs, device) == ["Agent restarted: reload.", "Device connected"]
    wait_until(lambda: "device tick" in logs.log_lines(device), what="a line of its code")


def test_dg_restart_log_follows_every_device(
    logs: LogSession, running: tuple[dict[str, Any], list[str]]
) -> None:
    dg, ids = running
    result = logs(f"dg restart -g {dg['id']} -l")
    assert result.status == 0, result.out
    assert OPENED.format(", ".join(ids)) in lines(result.out)
    for device in ids:
        wait_until(lambda device=device: len(restart_lines(logs, device)) == 2)
    assert logs.tasks.summary()[0].devices == tuple(ids)


def test_build_run_log_says_it_ran_then_opens_the_stream(
    logs: LogSession, running: tuple[dict[str, Any], list[str]], tmp_path
) -> None:
    dg, ids = running
    (tmp_path / "d.nut").write_text('server.log("new code");')
    result = logs(f"build run -g {dg['id']} -x {tmp_path / 'd.nut'} --log")
    assert result.status == 0, result.out
    out = lines(result.out)
    ran = next(i for i, ln in enumerate(out) if ln.endswith("is run successfully."))
    assert out[ran + 1] == OPENED.format(", ".join(ids))
    for device in ids:
        wait_until(lambda device=device: "new code" in logs.log_lines(device))


def test_restart_without_devices_starts_no_task(logs: LogSession, api: Any) -> None:
    dg = api.dg(api.product("P"), "Empty")
    result = logs(f"dg restart -g {dg['id']} --log")
    assert lines(result.out) == [f'Device Group "{dg["id"]}" does not have assigned Devices.', OK]
    assert logs.tasks.summary() == []


def test_a_failed_restart_leaves_no_task(logs: LogSession, api: Any) -> None:
    device = api.devices()[0]["id"]  # unassigned: the server refuses to restart it
    result = logs(f"device restart -d {device} --log")
    assert result.status == 1
    assert "Error: Device Not Assigned" in result.out
    assert logs.tasks.summary() == []
