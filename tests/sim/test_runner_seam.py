"""The code-runner seam: when the backend calls its runner, and what reaches the runner,
driven over HTTP against a simulator started with a recording runner."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from imptsh.sim.backend import Backend
from imptsh.sim.errors import ApiError, conflict
from imptsh.sim.model import txn
from imptsh.sim.resources import deployments, devicegroups, devices, products
from imptsh.sim.runner import CodeError, LiteralRunner
from imptsh.sim.server import Simulator, start

from .helpers import DEV, Client
from .recording_runner import AGENT_ANSWER, RecordingRunner


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[Simulator, RecordingRunner]]:
    runner = RecordingRunner()
    sim = start(port=0, log_interval=0, runner=runner)
    try:
        yield sim, runner
    finally:
        sim.stop()


@pytest.fixture
def rec(recorder: tuple[Simulator, RecordingRunner]) -> RecordingRunner:
    sim, runner = recorder
    sim.reset()
    runner.problems = []
    runner.forget()
    return runner


@pytest.fixture
def c(recorder: tuple[Simulator, RecordingRunner], rec: RecordingRunner) -> Client:
    return Client(recorder[0])


def history(c: Client, dev: str) -> list[str]:
    """A device's log messages, oldest first."""
    r = c.get(f"/devices/{dev}/logs?page[size]=100")
    assert r.status_code == 200, r.text
    return [e["msg"] for e in reversed(r.json()["data"])]


def group_with_code(c: Client) -> tuple[str, str, dict]:
    gid = c.dg(c.product())
    dep = c.deploy(gid, 'server.log("d");', 'server.log("a");')
    return gid, c.devices()[0]["id"], dep


# ------------------------------------------------------------------ life cycle


def test_assignment_starts_the_code_after_the_status_lines(c: Client, rec: RecordingRunner) -> None:
    gid, dev, dep = group_with_code(c)
    assert c.assign(gid, dev).status_code == 204
    [code] = rec.starts()
    device = c.get(f"/devices/{dev}").json()["data"]
    assert (code.device_id, code.deployment_id, code.dg_id, code.dg_type) == (
        dev,
        dep["id"],
        gid,
        DEV,
    )
    assert code.mac_address == device["attributes"]["mac_address"]
    assert code.agent_id == device["attributes"]["agent_id"]
    assert (code.device_code, code.agent_code) == ('server.log("d");', 'server.log("a");')
    assert code.reason == "new_code"
    # The platform's lines come first; the runner's own line (logged from inside start,
    # which must not deadlock) after them.
    assert history(c, dev) == [
        "Agent restarted: reload.",
        "Downloading new code; 0.50% program storage used",
        "Device connected",
        f"started {dep['id']}",
    ]
    assert rec.running() == {dev: dep["id"]}


def test_the_code_is_given_the_agent_url_device_info_shows(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    [code] = rec.starts()
    assert code.extra == {
        "agent_url": c.get(f"/devices/{dev}").json()["data"]["attributes"]["agent_url"]
    }
    assert code.extra["agent_url"].startswith(c.sim.root_url + "/_agent/")


class BatchingRunner(RecordingRunner):
    """A recording runner that also offers ``start_many``."""

    def start_many(self, codes: list) -> None:
        self.calls.append(("start_many", [code.device_id for code in codes]))
        for code in codes:
            self.start(code)


def test_a_group_restart_hands_its_devices_to_the_runner_together() -> None:
    runner = BatchingRunner()
    with start(port=0, log_interval=0, runner=runner) as sim:
        c = Client(sim)
        gid, _, _ = group_with_code(c)
        ids = [d["id"] for d in c.devices()]
        c.assign(gid, *ids)
        runner.forget()
        assert c.post(f"/devicegroups/{gid}/restart").status_code == 204
        assert runner.named("start_many") == [("start_many", ids)]
        assert [code.device_id for code in runner.starts()] == ids
        runner.forget()
        assert c.post(f"/devices/{ids[1]}/restart").status_code == 204
        assert runner.named("start_many") == []  # one device: a plain start
        assert [code.device_id for code in runner.starts()] == [ids[1]]


def test_assignment_to_a_group_without_code_starts_nothing(c: Client, rec: RecordingRunner) -> None:
    gid = c.dg(c.product())
    dev = c.devices()[0]["id"]
    assert c.assign(gid, dev).status_code == 204
    assert rec.starts() == [] and rec.running() == {}


def test_restarts_start_the_current_deployment(c: Client, rec: RecordingRunner) -> None:
    gid, dev, first = group_with_code(c)
    c.assign(gid, dev)
    second = c.deploy(gid, "v2")
    assert len(rec.starts()) == 1  # a new deployment alone restarts nobody
    assert c.post(f"/devices/{dev}/restart").status_code == 204
    assert rec.starts()[-1].deployment_id == second["id"]
    assert rec.starts()[-1].reason == "new_code"
    assert c.post(f"/devicegroups/{gid}/restart").status_code == 204
    assert (rec.starts()[-1].deployment_id, rec.starts()[-1].reason) == (second["id"], "restart")
    # Conditional restart of a device already running the current deployment: nothing.
    assert c.post(f"/devicegroups/{gid}/conditional_restart").status_code == 204
    assert len(rec.starts()) == 3
    third = c.deploy(gid, "v3")
    assert c.post(f"/devices/{dev}/conditional_restart").status_code == 204
    assert rec.starts()[-1].deployment_id == third["id"]
    assert first["id"] != second["id"] != third["id"]


def test_offline_stops_and_online_starts(c: Client, rec: RecordingRunner) -> None:
    gid, dev, dep = group_with_code(c)
    c.assign(gid, dev)
    rec.forget()
    c.control(f"devices/{dev}/offline")
    assert rec.calls == [("stop", dev)]
    c.post(f"/devicegroups/{gid}/restart")  # offline devices ignore restarts
    assert rec.named("start") == []
    c.control(f"devices/{dev}/online")
    [code] = rec.starts()
    assert (code.deployment_id, code.reason) == (dep["id"], "online")


def test_unassign_and_delete_stop(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    rec.forget()
    r = c.delete(f"/devicegroups/{gid}/relationships/devices", {"data": [{"id": dev}]})
    assert r.status_code == 204
    assert rec.calls == [("stop", dev)] and rec.running() == {}
    rec.forget()
    assert c.delete(f"/devices/{dev}").status_code == 204
    assert rec.calls == [("stop", dev)]


def test_reset_stops_everything_running(
    recorder: tuple[Simulator, RecordingRunner], c: Client, rec: RecordingRunner
) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    recorder[0].reset()
    assert rec.calls[-1] == ("stop", dev) and rec.running() == {}


def test_partial_assignment_starts_the_assigned_device(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    r = c.assign(gid, dev, "not-a-device")  # not atomic: the valid entry is applied
    assert r.status_code == 400
    assert [code.device_id for code in rec.starts()] == [dev]


def test_a_rejected_transaction_calls_nothing() -> None:
    runner = RecordingRunner()
    b = Backend(None, runner=runner)
    try:
        acct = b.meta["default_account"]
        product = products.create_product(
            b, acct, {"data": {"type": "product", "attributes": {"name": "P"}}}
        )
        body = {
            "data": {
                "type": DEV,
                "attributes": {"name": "G"},
                "relationships": {"product": {"type": "product", "id": product["id"]}},
            }
        }
        gid = devicegroups.create_devicegroup(b, acct, body)["id"]
        deployments.create_deployment(
            b,
            acct,
            {
                "data": {
                    "type": "deployment",
                    "attributes": {"device_code": "", "agent_code": ""},
                    "relationships": {"devicegroup": {"type": DEV, "id": gid}},
                }
            },
        )
        dev = next(iter(b.t["device"]))
        devicegroups.assign_devices(b, acct, gid, {"data": [{"id": dev}]})
        assert len(runner.starts()) == 1
        runner.forget()

        @txn
        def restart_then_refuse(m: Backend) -> None:
            devicegroups.restart_devicegroup(m, acct, gid)
            devices.set_online(m, dev, False)
            raise conflict("Refused", "The test refuses this request.")

        with pytest.raises(ApiError):
            restart_then_refuse(b)
        assert runner.calls == []
        devicegroups.restart_devicegroup(b, acct, gid)
        assert [call[0] for call in runner.calls] == ["start"]
    finally:
        b.close()


def test_loaded_state_restarts_running_devices(tmp_path: Path) -> None:
    db = str(tmp_path / "sim.db")
    with start(port=0, db=db, log_interval=0, runner=RecordingRunner) as sim:
        c = Client(sim)
        gid, dev, dep = group_with_code(c)
        c.assign(gid, dev)
    runner = RecordingRunner()
    with start(port=0, db=db, log_interval=0, runner=lambda: runner) as sim:
        [code] = runner.starts()
        assert (code.device_id, code.deployment_id, code.reason) == (dev, dep["id"], "restart")
    assert runner.closed


# ------------------------------------------------------------------ compile errors


def test_compile_errors_reject_the_deployment(c: Client, rec: RecordingRunner) -> None:
    gid = c.dg(c.product())
    rec.problems = [
        CodeError("device_code", 3, 24, "expression expected"),
        CodeError("agent_code", 1, 2, "unknown variable", type="warning"),
    ]
    body = {
        "data": {
            "type": "deployment",
            "attributes": {"device_code": "x(", "agent_code": "y"},
            "relationships": {"devicegroup": {"type": DEV, "id": gid}},
        }
    }
    r = c.post("/deployments", body)
    assert r.status_code == 400, r.text
    [err] = r.json()["errors"]
    assert (err["status"], err["code"], err["title"]) == ("400", "CX005", "Compilation Error")
    assert err["meta"] == [
        {
            "file": "device_code",
            "type": "error",
            "row": 3,
            "column": 24,
            "text": "expression expected",
        },
        {
            "file": "agent_code",
            "type": "warning",
            "row": 1,
            "column": 2,
            "text": "unknown variable",
        },
    ]
    assert rec.named("compile_errors") == [("compile_errors", "x(", "y")]
    assert c.get("/deployments").json()["data"] == []
    group = c.get(f"/devicegroups/{gid}").json()["data"]
    assert "current_deployment" not in group["relationships"]
    rec.problems = []
    assert c.post("/deployments", body).status_code == 201


def test_invalid_deployments_are_not_compiled(c: Client, rec: RecordingRunner) -> None:
    body = {
        "data": {
            "type": "deployment",
            "attributes": {"device_code": "", "agent_code": ""},
            "relationships": {"devicegroup": {"type": DEV, "id": "unknown-group"}},
        }
    }
    assert c.post("/deployments", body).status_code == 404
    assert rec.named("compile_errors") == []


# ------------------------------------------------------------------ agent URLs and clocks


def test_agent_url_requests_reach_the_runner(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    attrs = c.get(f"/devices/{dev}").json()["data"]["attributes"]
    url = attrs["agent_url"]
    assert url == f"{c.sim.root_url}/_agent/{attrs['agent_id']}"
    r = requests.put(url + "/led/1?level=3", data=b"on", headers={"X-Test": "yes"}, timeout=10)
    assert (r.status_code, r.content) == (AGENT_ANSWER[0], AGENT_ANSWER[2])
    assert r.headers["X-Agent"] == "recorded"
    assert r.headers["Content-Type"] == "application/json"
    [(_, agent_id, method, path, query, headers, body)] = rec.named("agent_request")
    assert (agent_id, method, path, query, body) == (
        attrs["agent_id"],
        "PUT",
        "/led/1",
        "level=3",
        b"on",
    )
    assert headers["X-Test"] == "yes"
    r = requests.get(url, timeout=10)
    assert r.status_code == AGENT_ANSWER[0] and rec.named("agent_request")[-1][3] == ""


def test_unknown_agent_is_404_without_asking_the_runner(c: Client, rec: RecordingRunner) -> None:
    r = requests.get(c.sim.root_url + "/_agent/AAAAAAAAAAAA", timeout=10)
    assert r.status_code == 404 and r.text == "Agent not found"
    assert rec.named("agent_request") == []


def test_clock_control_call(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    r = c.control(f"devices/{dev}/clock", {"seconds": 2.5})
    assert r.status_code == 200, r.text
    assert r.json() == {"meta": {"device_id": dev, "seconds": 2.5}}
    assert rec.named("advance_clock") == [("advance_clock", dev, 2.5)]
    assert history(c, dev)[-1] == "clock 2.5"
    for bad in ({"seconds": -1}, {"seconds": "5"}, {}, {"seconds": 1, "x": 2}):
        assert c.control(f"devices/{dev}/clock", bad).status_code == 400, bad
    assert c.control("devices/nope/clock", {"seconds": 1}).status_code == 404
    assert len(rec.named("advance_clock")) == 1


def test_tick_advances_every_running_device_by_one_period(c: Client, rec: RecordingRunner) -> None:
    gid, dev, _ = group_with_code(c)
    c.assign(gid, dev)
    c.control("tick")
    assert rec.named("advance_clock") == [("advance_clock", dev, 5.0)]


def all_logs(c: Client, dev: str) -> list[str]:
    """Every log message of a device, oldest first."""
    newest_first: list[str] = []
    page = 1
    while True:
        r = c.get(f"/devices/{dev}/logs?page[size]=100&page[number]={page}")
        data = r.json()["data"]
        if not data:
            return list(reversed(newest_first))
        newest_first += [e["msg"] for e in data]
        page += 1


def test_runner_log_is_thread_safe_and_keeps_each_writers_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "sim.db")
    writers, lines = 4, 200
    old = sys.getswitchinterval()
    with start(port=0, db=db, log_interval=0, runner=RecordingRunner) as sim:
        dev = Client(sim).devices()[0]["id"]
        log = sim.runner.callbacks.log

        def write(n: int) -> None:
            for i in range(lines):
                log(dev, "server.log", f"{n}:{i}")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        sys.setswitchinterval(1e-6)  # switch threads as often as possible
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(old)
        before = all_logs(Client(sim), dev)
    with start(port=0, db=db, log_interval=0, runner="literal") as sim:
        after = all_logs(Client(sim), dev)
    for msgs in (before, after):  # in memory, and as stored
        assert len(msgs) == writers * lines
        for n in range(writers):
            mine = [m for m in msgs if m.startswith(f"{n}:")]
            assert mine == [f"{n}:{i}" for i in range(lines)]


# ------------------------------------------------------------------ the literal runner


def test_the_literal_runner_repeats_the_top_level_log_strings() -> None:
    with start(port=0, log_interval=0, runner="literal") as sim:
        assert isinstance(sim.runner, LiteralRunner)
        c = Client(sim)
        gid, dev, _ = group_with_code(c)
        c.assign(gid, dev)
        url = c.get(f"/devices/{dev}").json()["data"]["attributes"]["agent_url"]
        r = requests.post(url, data=b"x", timeout=10)
        assert (r.status_code, r.text) == (404, "no HTTP handler")
        assert r.headers["Content-Type"].startswith("text/plain")
        # Device time: one period is 5 s when --log-interval is 0.
        c.control(f"devices/{dev}/clock", {"seconds": 12})
        assert history(c, dev)[-4:] == ["d", "a", "d", "a"]
        c.control(f"devices/{dev}/clock", {"seconds": 3})
        assert history(c, dev)[-6:] == ["d", "a", "d", "a", "d", "a"]
        c.control(f"devices/{dev}/clock", {"seconds": 4.9})
        assert len(history(c, dev)) == 3 + 6  # status lines + three periods
