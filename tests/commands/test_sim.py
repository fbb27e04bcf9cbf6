"""The shell's `sim` group: rehearsing the Development Guide's factory setup offline in a shell
session (factory BlinkUp, blessing, `device list`/`device info` showing the blessed devices,
the recorded webhooks), and what it says outside a simulator session."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from imptsh.session import Session
from imptsh.shell import ImptShell
from tests.conftest import FAILS, FAST_RETRY, OK, SimApi, lines, run_imptsh, sim_control

WAIT = 20.0

FIXTURE_CODE = """
function blink() {
    server.factoryblinkup("factory-wifi", "secret", hardware.pin1, 0);
    imp.wakeup(600, blink);
}
imp.wakeup(600, blink);
server.log("fixture ready");
"""
DUT_CODE = 'server.bless(true, function(ok) { server.log("blessed: " + ok); });'
APP_CODE = 'server.log("application running");'


class Shell:
    """One in-process shell session; `run` returns what a command line printed."""

    def __init__(self, home: Path):
        self.out = io.StringIO()
        session = Session(
            env=os.environ, home=home, stdin=io.StringIO(), stdout=self.out, retry=FAST_RETRY
        )
        self.app = ImptShell(session, stdout=self.out)

    def run(self, line: str) -> str:
        self.out.seek(0)
        self.out.truncate()
        self.app.onecmd_plus_hooks(line)
        return self.out.getvalue()

    @property
    def status(self) -> int:
        return self.app.last_status


@pytest.fixture
def shell(home: Path, monkeypatch: pytest.MonkeyPatch) -> Shell:
    monkeypatch.setattr("sys.argv", ["imptsh"])
    return Shell(home)


def wait_until(found: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (value := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def messages(api: SimApi, device_id: str) -> list[str]:
    return [e["msg"] for e in api.client.iter_list(f"/devices/{device_id}/logs")][::-1]


def test_the_factory_setup_rehearsed_in_a_shell_session(
    shell: Shell, squirrel_sim: Any, home: Path
) -> None:
    api = SimApi(squirrel_sim)
    work = home / "work"
    (work / "fixture.nut").write_text(FIXTURE_CODE)
    (work / "dut.nut").write_text(DUT_CODE)
    (work / "app.nut").write_text(APP_CODE)
    (work / "agent.nut").write_text("")
    for line in (
        f"auth login --endpoint {squirrel_sim.base_url} --user demo --pwd demo",
        "product create -n MyProduct",
        "dg create -n MyPreProductionDG -y pre-production -p MyProduct",
        "dg create -n MyPreDUTDG -y pre-dut -p MyProduct",
        "dg create -n MyPreFactoryDG -y pre-factory -p MyProduct --dut MyPreDUTDG "
        "--target MyPreProductionDG",
        "build deploy -g MyPreProductionDG -x app.nut -y agent.nut",
        "build deploy -g MyPreDUTDG -x dut.nut -y agent.nut",
        "build deploy -g MyPreFactoryDG -x fixture.nut -y agent.nut",
        "webhook create -g MyPreProductionDG -u https://example.com/blessed -e blessing -m json",
        "device assign -d myDevice1 -g MyPreFactoryDG -q",
    ):
        out = shell.run(line)
        assert shell.status == 0, (line, out)
    fixture = api.devices()[0]
    wait_until(lambda: "fixture ready" in messages(api, fixture["id"]), "the fixture's code")

    out = shell.run("sim blinkup --fixture myDevice1 --count 3")
    assert shell.status == 0, out
    text = lines(out)
    assert text[0] == (
        '3 new Device(s) are in front of BlinkUp fixture "myDevice1" (3 waiting in all): its '
        'code\'s next server.factoryblinkup() call enrols them in Device Group "MyPreDUTDG".'
    )
    assert [t.split()[-1] for t in text if t.startswith("  name:")] == ["dut1", "dut2", "dut3"]
    assert text[-1] == OK

    sim_control(squirrel_sim, f"devices/{fixture['id']}/clock", {"seconds": 600})
    duts = [d for d in api.devices() if (d["attributes"]["name"] or "").startswith("dut")]
    for dut in duts:
        wait_until(
            lambda dut=dut: "application running" in messages(api, dut["id"]),
            f"{dut['attributes']['name']} to run the application",
        )

    out = shell.run("device list -g MyPreProductionDG")
    assert shell.status == 0, out
    assert lines(out)[0] == "Device list (3 items):"
    assert sorted(t.split()[-1] for t in lines(out) if t.startswith("  name:")) == [
        "dut1",
        "dut2",
        "dut3",
    ]
    out = shell.run("device info -d dut2 -z json")
    info = json.loads(out)["Device"]
    assert info["device_online"] is True
    assert info["Device Group"]["name"] == "MyPreProductionDG"
    assert info["Device Group"]["type"] == "pre-production"
    assert "blessed: true" in messages(api, info["id"])

    out = shell.run("sim webhooks")
    assert shell.status == 0, out
    text = lines(out)
    assert text[0] == "Webhook delivery list (3 items):"
    assert text.count("  event:        blessing") == 3
    assert text.count("  url:          https://example.com/blessed") == 3
    assert text.count("  delivered:    false (not sent: the simulator has no internet access)") == 3
    out = shell.run("sim webhooks -z json")
    bodies = [json.loads(d["Webhook delivery"]["body"]) for d in json.loads(out)]
    assert sorted(b["device_id"] for b in bodies) == sorted(d["id"] for d in duts)

    out = shell.run("sim blinkup --device dut1")
    assert shell.status == 0, out
    plan = api.device(duts[0]["id"])["attributes"]["plan_id"]
    assert lines(out) == [
        f'Device "dut1" is blinked up by an end user (plan id {plan}): it reconnected, and its '
        "Device Group's blinkup webhooks are recorded (see sim webhooks).",
        OK,
    ]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "sim blinkup",
            "Give --fixture (a factory BlinkUp of new devices) or --device (an end user's).",
        ),
        ("sim blinkup --fixture a --device b", "Give --fixture or --device, not both."),
        ("sim blinkup --device a --count 2", "--count goes with --fixture only."),
        ("sim blinkup --fixture a --count 101", 'Option "--count" must be at most 100.'),
        (
            "sim blinkup --fixture a --count 0",
            'Option "--count" must have a positive integer value.',
        ),
    ],
)
def test_bad_sim_command_lines_are_refused(shell: Shell, line: str, error: str) -> None:
    out = shell.run(line)
    assert shell.status == 1
    assert lines(out)[-2:] == [f"Error: {error}", FAILS]


def test_the_simulator_refuses_what_is_no_fixture_and_nothing_changes(
    shell: Shell, squirrel_sim: Any
) -> None:
    shell.run(f"auth login --endpoint {squirrel_sim.base_url} --user demo --pwd demo")
    api = SimApi(squirrel_sim)
    device = api.devices()[0]["id"]
    out = shell.run("sim blinkup --fixture myDevice1")
    assert shell.status == 1
    assert lines(out) == [
        f"Error: Invalid Request: Device {device} is not a BlinkUp fixture: it must be "
        "assigned to a pre_factoryfixture_devicegroup or factoryfixture_devicegroup.",
        FAILS,
    ]
    out = shell.run("sim blinkup --fixture no-such-device")
    assert lines(out) == ['Error: Device "no-such-device" is not found.', FAILS]
    out = shell.run("sim blinkup --device myDevice2")
    assert shell.status == 1 and lines(out)[0].startswith("Error: Invalid Request: Device ")
    assert len(api.devices()) == 3


def _auth_file(home: Path, endpoint: str) -> None:
    (home / ".impt.auth").write_text(
        json.dumps(
            {"endpoint": endpoint, "accessToken": "t", "expiresAt": "2999-01-01T00:00:00.000Z"}
        )
    )


def test_outside_a_simulator_session_sim_says_what_it_needs(shell: Shell, home: Path) -> None:
    _auth_file(home, "https://api.electricimp.com/v5")
    out = shell.run("sim webhooks")
    assert shell.status == 1
    assert lines(out) == [
        "Error: sim commands need imptsh's simulator: this session talks to "
        "https://api.electricimp.com/v5, not to a simulator on this machine. Start `imptsh "
        "--sim`, or log in to an `imptsh-sim` running on this machine.",
        FAILS,
    ]
    _auth_file(home, "http://127.0.0.1:9/v5")
    out = shell.run("sim blinkup --fixture 0c2a69000001")
    assert shell.status == 1
    assert lines(out)[0].startswith(
        "Error: sim commands need imptsh's simulator: http://127.0.0.1:9/v5 does not answer ("
    )


def test_an_imptsh_sim_session_has_the_sim_group_and_one_shot_mode_does_not(home: Path) -> None:
    proc = run_imptsh(["--sim", "--no-rc", "-c", "sim webhooks"], cwd=home / "work")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc.stdout) == ["Webhook delivery list (0 items):", OK]
    proc = run_imptsh(["sim", "webhooks"], cwd=home / "work")
    assert proc.returncode == 2
    assert "'sim' is neither a command group" in proc.stderr


def test_help_lists_the_sim_group_among_the_shell_commands(shell: Shell) -> None:
    out = shell.run("help")
    [sim] = [line for line in lines(out) if line.startswith("  sim ")]
    assert sim.split(None, 1)[1] == (
        "factory BlinkUp, end-user BlinkUp, webhook deliveries (simulator sessions only)"
    )
    assert lines(out).index(sim) > lines(out).index("Shell commands:")
    out = shell.run("help sim")
    assert "Usage: impt sim <command> [options]" in out and "impt sim blinkup" in out
