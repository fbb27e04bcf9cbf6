"""Tab completion of entity identifiers from the background fill, in-process against the
simulator: every identifier kind, hierarchical identifiers, what others change on the
server, what commands change, paths, and the hints when no name can be offered."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from imptsh.api import resources
from imptsh.commands.completion import MAX_CANDIDATES
from imptsh.completion.refresher import FAILED, READY
from tests.completion.conftest import logged_in_and_filled, metas, settle, tab, texts
from tests.conftest import RequestRecorder, SimApi, sim_control
from tests.conftest import run_in_shell as run


@pytest.fixture
def filled(shell: Any, sim: Any) -> Any:
    """A shell logged in to the simulator whose background fill has run."""
    return logged_in_and_filled(shell, sim)


def test_names_load_in_the_background_right_after_login(shell, sim):
    shell.refresher.start()
    settle(shell)
    assert "Not logged in" in tab(shell, "device info --device my").error
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")  # no command lists devices
    settle(shell)
    offered = tab(shell, "device info --device myD")
    assert texts(offered) == ["myDevice1", "myDevice2", "myDevice3"]
    device = SimApi(sim).devices()[1]
    assert metas(offered)["myDevice2"] == f"myDevice2, {device['id']}, online, unassigned"


@pytest.fixture
def world(api: SimApi) -> dict[str, Any]:
    """A Product, a Device Group with a device and a tagged build, a webhook, a login key."""
    product = api.product("Thermo")
    group = api.dg(product, "ThermoDev")
    build = api.deploy(group, "server.log(1);", tags=["rc1", "beta"], origin="ci-42")
    device = api.assign(group, api.devices()[0])[0]
    webhook = api.webhook(group)
    key = resources.create_login_key(api.client, api.cache, "demo", description="ci key")
    me = api.get("/accounts/me")
    return {
        "product": product,
        "dg": group,
        "build": build,
        "device": device,
        "webhook": webhook,
        "key": key,
        "me": me,
    }


def _identifier_cases(w: dict[str, Any]) -> list[tuple[str, str]]:
    """(typed line, the identifier Tab must offer) for every kind and attribute."""
    device, build, me = w["device"]["attributes"], w["build"]["attributes"], w["me"]
    return [
        ("product info -p Th", "Thermo"),
        (f"product info -p {w['product']['id'][:6]}", w["product"]["id"]),
        ("dg info --dg Thermo", "ThermoDev"),
        (f"dg info -g {w['dg']['id'][:6]}", w["dg"]["id"]),
        (f"device restart -d {w['device']['id'][:5]}", w["device"]["id"]),
        (f"device info -d {device['mac_address'][:8]}", device["mac_address"]),
        (f"device info -d {device['agent_id'][:4]}", device["agent_id"]),
        ("device assign -d myDevice1 --dg Th", "ThermoDev"),
        (f"build info -b {w['build']['id'][:6]}", w["build"]["id"]),
        (f"build info -b {build['sha'][:6]}", build["sha"]),
        ("build info -b rc", "rc1"),
        ("build info -b ci-", "ci-42"),
        ("dg update --min-supported-deployment be", "beta"),
        ("build list --sha " + build["sha"][:3], build["sha"]),
        ("build update --remove-tag b", "beta"),
        ("product create -n X --owner de", "demo"),
        ("product create -n X --owner demo@", "demo@example.com"),
        ("product list --owner m", "me"),
        (f"account info --user {me['id'][:6]}", me["id"]),
        (f"webhook info --wh {w['webhook']['id'][:5]}", w["webhook"]["id"]),
        ("dg create -n X -p Thermo --target Th", "ThermoDev"),
        ("impt device info --device myDevice", "myDevice1"),
    ]


def test_every_kind_of_identifier_completes_with_a_description(world, shell, sim):
    logged_in_and_filled(shell, sim)
    for line, expected in _identifier_cases(world):
        offered = tab(shell, line)
        assert expected in texts(offered), (line, offered)
        assert metas(offered)[expected], line
    product = metas(tab(shell, "product info -p Th"))["Thermo"]
    assert product == f"Product, Thermo, of demo, {world['product']['id']}"
    group = metas(tab(shell, "dg info -g Th"))["ThermoDev"]
    assert group == f"development Device Group, ThermoDev, of Thermo, {world['dg']['id']}"
    device = metas(tab(shell, "device info -d myDevice1"))["myDevice1"]
    assert device == f"myDevice1, {world['device']['id']}, online, ThermoDev"
    build = metas(tab(shell, "build info -b rc"))["rc1"]
    assert build.startswith("Deployment of ThermoDev, ") and "tags rc1, beta" in build
    # an attribute-bound option offers that attribute only
    shas = texts(tab(shell, "build list --sha "))
    assert shas == [world["build"]["attributes"]["sha"]]
    assert texts(tab(shell, "build list --tag ")) == ["beta", "rc1"]
    # a login key's id is the key itself: never offered, never kept by the fill
    assert texts(tab(shell, f"loginkey info --lk {world['key']['id'][:5]}")) == []
    assert shell.session.cache(shell.session.context()).all("loginkey") == []


def test_an_empty_word_offers_names_and_a_nameless_entity_by_id(filled, api):
    api.product("Alpha")
    build = api.deploy(api.dg(api.product("Beta"), "G"), "")
    filled.refresher.refresh()
    settle(filled)
    assert texts(tab(filled, "product info -p ")) == ["Alpha", "Beta"]
    assert texts(tab(filled, "build info -b ")) == [build["id"]]  # no tag: its id


def test_hierarchical_identifiers_complete_segment_by_segment(filled, api, other):
    mine = api.dg(api.product("Shared"), "MineDG")
    api.dg(api.product("Other"), "OtherDG")
    theirs = api.product("Shared", owner=other["id"])
    api.dg(theirs, "TheirDG")
    filled.refresher.refresh()
    settle(filled)
    first = tab(filled, "dg info --dg {")
    assert texts(first) == ["{demo}{", "{me}{", "{other}{"]
    assert not first.allow_finalization  # more segments follow: no space after it
    assert texts(tab(filled, "dg info --dg {me}{")) == ["{me}{Other}{", "{me}{Shared}{"]
    assert texts(tab(filled, "dg info --dg {other}{")) == ["{other}{Shared}{"]
    last = tab(filled, "dg info --dg {me}{Shared}{")
    assert texts(last) == ["{me}{Shared}{MineDG}"] and last.allow_finalization
    assert texts(tab(filled, "dg info --dg {other}{Shared}{")) == ["{other}{Shared}{TheirDG}"]
    assert texts(tab(filled, "dg info --dg {me}{Shared}")) == ["{me}{Shared}{MineDG}"]
    product = tab(filled, "product info -p {me}{Sh")
    assert texts(product) == ["{me}{Shared}"] and product.allow_finalization
    assert texts(tab(filled, "dg info --dg {nobody}{")) == []
    out = run(filled, "dg info --dg {me}{Shared}{MineDG} -z json")
    assert json.loads(out)["Device Group"]["id"] == mine["id"]


def test_a_group_created_elsewhere_completes_after_a_refresh(filled, api):
    api.dg(api.product("P"), "FromColleague")
    assert texts(tab(filled, "dg info --dg From")) == []
    filled.refresher.refresh()
    settle(filled)
    assert texts(tab(filled, "dg info --dg From")) == ["FromColleague"]


def test_the_periodic_refresh_brings_in_what_others_changed(shell, sim, api):
    shell.refresher.interval = 0.3
    logged_in_and_filled(shell, sim)
    api.rename(api.devices()[0], "RenamedByColleague")
    deadline = time.monotonic() + 20
    while texts(tab(shell, "device info -d Renamed")) != ["RenamedByColleague"]:
        assert time.monotonic() < deadline, "the periodic refresh never brought the name"
        time.sleep(0.1)


def test_what_a_command_changes_completes_at_once(filled, api):
    group = api.dg(api.product("P"), "Target")
    filled.refresher.refresh()
    settle(filled)
    run(filled, "dg create -n Fresh -p P")
    settle(filled)
    assert texts(tab(filled, "dg info --dg Fre")) == ["Fresh"]
    run(filled, "dg delete --dg Fresh -q")
    settle(filled)
    assert texts(tab(filled, "dg info --dg Fre")) == []
    run(filled, "device assign -d myDevice2 -g Target -q")
    settle(filled)
    device = api.devices()[1]
    assert device["relationships"]["devicegroup"]["id"] == group["id"]
    assert metas(tab(filled, "device info -d myDevice2"))["myDevice2"].endswith(", Target")


def test_not_logged_in_gives_a_hint_not_an_error(shell):
    shell.refresher.start()
    settle(shell)
    offered = tab(shell, "device info --device my")
    assert not offered
    assert "Not logged in: run auth login" in offered.error
    assert "Traceback" not in offered.error


def test_an_unreachable_server_gives_a_hint(shell, home):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    auth = {
        "endpoint": f"http://127.0.0.1:{port}/v5",
        "accessToken": "t",
        "expiresAt": "2999-01-01T00:00:00Z",
    }
    (home / ".impt.auth").write_text(json.dumps(auth))
    shell.refresher.start()
    settle(shell)
    assert shell.refresher.status().state == FAILED
    offered = tab(shell, "device info --device my")
    assert f"Cannot reach impCentral at http://127.0.0.1:{port}/v5" in offered.error
    assert "Traceback" not in offered.error


def test_the_fill_stays_out_of_the_commands_requests(shell, sim):
    recorder = RequestRecorder(shell.session)
    logged_in_and_filled(shell, sim)
    assert shell.refresher.status().state == READY
    assert recorder.calls == []  # the fill sent its requests, but not as the session
    out = run(shell, "product list -z debug")
    assert out.count("Doing the request with options:") == 1


def test_a_name_from_the_fill_is_resolved_with_one_get_of_the_whole_device(filled, api):
    recorder = RequestRecorder(filled.session)
    device = api.devices()[1]
    out = run(filled, "device info -d myDevice2")
    assert "IMPT COMMAND SUCCEEDS" in out and "swversion:" in out  # the whole resource
    assert recorder.calls[0] == ("GET", f"/devices/{device['id']}")
    assert not [path for _, path in recorder.calls if path.split("?")[0] == "/devices"]


def test_many_matches_are_cut_without_inserting_more_than_they_share(filled, sim):
    names = [f"bulk-{n:03d}" for n in range(150)] + ["bulkz-last"]
    sim_control(sim, "devices", {"devices": [{"name": name} for name in names]})
    filled.refresher.refresh()
    settle(filled)
    offered = tab(filled, "device info -d bulk")
    shown = texts(offered)
    assert len(shown) == MAX_CANDIDATES
    assert shown[:-1] == names[: MAX_CANDIDATES - 1] and shown[-1] == "bulkz-last"
    assert "(and 51 more: type more of the name)" in offered[-1].display_meta
    assert texts(tab(filled, "device info -d bulk-14")) == names[140:150]


def test_names_with_control_characters_are_shown_escaped(filled, api):
    api.rename(api.devices()[0], "evil\x1b[2Jname")
    filled.refresher.refresh()
    settle(filled)
    item = tab(filled, "device info -d evil")[0]
    assert item.text == "evil\x1b[2Jname"  # what identifies it
    assert "\x1b" not in item.display and "\x1b" not in item.display_meta
    assert "evil\\x1b[2Jname" in item.display


def test_at_most_so_many_entities_of_a_kind_are_kept(shell, sim):
    shell.refresher.max_per_kind = 2
    logged_in_and_filled(shell, sim)
    assert len(texts(tab(shell, "device info -d myDevice"))) == 2
    assert "IMPT COMMAND SUCCEEDS" in run(shell, "device info -d myDevice3")  # asks the server


def test_file_options_cd_and_scripts_complete_paths(shell, home):
    Path("sub").mkdir()
    Path("app.device.nut").write_text("")
    Path("script.imptsh").write_text("pwd\n")
    assert texts(tab(shell, "cd s")) == ["sub/"]
    assert texts(tab(shell, "cd a")) == []  # a file is no place to go
    assert texts(tab(shell, "mkdir s")) == ["sub/"]
    assert texts(tab(shell, "build deploy --device-file app")) == ["app.device.nut"]
    assert texts(tab(shell, "project create -x app")) == ["app.device.nut"]
    assert texts(tab(shell, "run_script scr")) == ["script.imptsh"]
    assert texts(tab(shell, "@scr")) == ["@script.imptsh"]


def test_a_fill_under_way_never_brings_back_what_a_command_deleted(filled, sim):
    sim_control(sim, "devices", {"count": 497, "name_prefix": "bulk-"})  # 5 pages of devices
    sim_control(sim, "faults", {"latency_ms": 250, "count": 12})
    filled.refresher.refresh()
    deadline = time.monotonic() + 20
    while filled.refresher.status().loading != ("device",):
        assert time.monotonic() < deadline, filled.refresher.status()
        time.sleep(0.01)
    out = run(filled, "device remove -d myDevice2 -q")  # while the fill reads the pages
    assert "IMPT COMMAND SUCCEEDS" in out, out
    settle(filled)
    assert texts(tab(filled, "device info -d myDevice")) == ["myDevice1", "myDevice3"]


def test_names_follow_cd_into_another_auth_context(filled, sim, home):
    sim_control(sim, "accounts", {"username": "solo", "password": "pw", "email": "s@x.org"})
    solo = home / "work" / "solo"
    solo.mkdir()
    run(filled, f"cd {solo}")
    run(filled, f"auth login --local -e {sim.base_url} -u solo -w pw")
    run(filled, "product create -n SoloProduct")
    settle(filled)
    assert texts(tab(filled, "product info -p Solo")) == ["SoloProduct"]
    assert "solo @ " in filled.get_bottom_toolbar()
    run(filled, "cd ..")  # demo's global login again: it cannot see solo's product
    settle(filled)
    assert texts(tab(filled, "product info -p Solo")) == []
    assert "demo @ " in filled.get_bottom_toolbar()


def test_a_login_from_variables_loads_names_once_a_command_logged_in(shell, sim, monkeypatch):
    monkeypatch.setenv("IMPT_USER", "demo")
    monkeypatch.setenv("IMPT_PASSWORD", "demo")
    monkeypatch.setenv("IMPT_ENDPOINT", sim.base_url)
    shell.refresher.start()
    settle(shell)
    waiting = tab(shell, "device info -d my")
    assert "once a command has logged in" in waiting.error  # the fill never logs in itself
    run(shell, "product list")
    settle(shell)
    assert texts(tab(shell, "device info -d my")) == ["myDevice1", "myDevice2", "myDevice3"]


def test_the_fill_never_refreshes_a_token_itself(shell, sim, home):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    auth_file = home / ".impt.auth"
    data = json.loads(auth_file.read_text())
    soon = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 60))
    auth_file.write_text(json.dumps({**data, "expiresAt": soon}))  # within the refresh margin
    before = auth_file.read_text()
    run(shell, "pwd")
    shell.refresher.start()
    settle(shell)
    assert "about to expire" in tab(shell, "device info -d my").error
    assert auth_file.read_text() == before  # no token exchanged behind the user's back
    run(shell, "product list")  # the command refreshes it...
    assert auth_file.read_text() != before
    settle(shell)
    assert texts(tab(shell, "device info -d my")) == ["myDevice1", "myDevice2", "myDevice3"]
