"""`impt build ...` against the simulator (commands.md §11.3)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from imptsh.logs import StreamSink
from tests.conftest import FAILS, OK, SimApi, lines, row, sim_control, write_project

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONFIRM = "Are you sure you want to continue?\nEnter 'y' (yes) or 'n' (no): "


@pytest.fixture
def world(api: SimApi) -> dict[str, Any]:
    """Product P with development DG G (and its product P2 / DG G2)."""
    p = api.product("P")
    p2 = api.product("P2")
    return {"p": p, "p2": p2, "g": api.dg(p, "G", descr="G descr"), "g2": api.dg(p2, "G2")}


def created_id(out: str) -> str:
    m = re.search(r'Deployment "([0-9a-f-]{36})" is created successfully\.', out)
    assert m, out
    return m.group(1)


# -- deploy ----------------------------------------------------------------------------------


def test_deploy_files_and_attributes(logged_in: Any, api: SimApi, world: dict) -> None:
    Path("d.nut").write_text('server.log("dev");\r\nlocal x = "é";', encoding="utf-8")
    Path("a.nut").write_text('server.log("agent");\n', encoding="utf-8")
    r = logged_in("build deploy -g G -x d.nut -y a.nut -s D -o O -t t1 --tag t2 --flagged")
    assert r.status == 0, r.out
    new = created_id(r.out)
    build = api.get(f"/deployments/{new}")
    attrs = build["attributes"]
    assert attrs["device_code"] == 'server.log("dev");\r\nlocal x = "é";'
    assert attrs["agent_code"] == 'server.log("agent");\n'
    assert (attrs["description"], attrs["origin"], attrs["tags"], attrs["flagged"]) == (
        "D",
        "O",
        ["t1", "t2"],
        True,
    )
    assert build["relationships"]["devicegroup"]["id"] == world["g"]["id"]
    assert lines(r.out) == [
        f'Deployment "{new}" is created successfully.',
        "Deployment: ",
        f"  id:      {new}",
        f"  sha:     {attrs['sha']}",
        "  tags:    t1, t2",
        "  origin:  O",
        "  flagged: true",
        OK,
    ]


def test_deploy_empty_code_without_files_and_output_modes(
    logged_in: Any, api: SimApi, world: dict
) -> None:
    r = logged_in("build deploy -g G")
    assert r.status == 0
    out = lines(r.out)
    assert out[:2] == [
        "--device-file option is not specified, empty device code will be deployed.",
        "--agent-file option is not specified, empty agent code will be deployed.",
    ]
    new = created_id(r.out)
    attrs = api.get(f"/deployments/{new}")["attributes"]
    assert attrs["device_code"] == attrs["agent_code"] == ""
    assert attrs["flagged"] is False
    # minimal: only the block
    r = logged_in("build deploy -g G -z minimal")
    assert r.status == 0
    assert lines(r.out)[0] == "Deployment: "
    assert "created successfully" not in r.out and OK not in r.out
    # json: the short view object
    r = logged_in("build deploy -g G -z json -t rc")
    assert r.status == 0
    obj = json.loads(r.out)
    assert list(obj["Deployment"]) == ["id", "sha", "tags"]
    assert obj["Deployment"]["tags"] == ["rc"]


def test_deploy_debug_body_types_relationship_and_omits_flagged(
    logged_in: Any, api: SimApi, world: dict
) -> None:
    dg = api.dg(world["p"], "PD", "pre_dut_devicegroup")
    r = logged_in(f"build deploy -g {dg['id']} -z debug")
    assert r.status == 0, r.out
    start = r.out.index('"method": "POST"')
    body = r.out[start : r.out.index("Response code", start)]
    assert '"type": "pre_dut_devicegroup"' in body
    assert '"flagged"' not in body
    r = logged_in(f"build deploy -g {dg['id']} --flagged false")
    assert api.get(f"/deployments/{created_id(r.out)}")["attributes"]["flagged"] is False


def test_deploy_project_defaults(logged_in: Any, api: SimApi, world: dict) -> None:
    write_project(world["g"], "device.nut", "agent.nut")
    Path("device.nut").write_text("dev code")
    Path("agent.nut").write_text("agent code")
    r = logged_in("build deploy")
    assert r.status == 0, r.out
    attrs = api.get(f"/deployments/{created_id(r.out)}")["attributes"]
    assert (attrs["device_code"], attrs["agent_code"]) == ("dev code", "agent code")


def test_deploy_errors(logged_in: Any, api: SimApi, world: dict) -> None:
    r = logged_in("build deploy -g G -x not-exist-file")
    assert r.status == 1
    assert lines(r.out) == [
        'Error: File with IMP device source code "not-exist-file" is not found.',
        FAILS,
    ]
    r = logged_in("build deploy -g G -y not-exist-file -z json")
    assert r.status == 1
    assert json.loads(r.out) == {
        "Error": 'File with IMP agent source code "not-exist-file" is not found.'
    }
    r = logged_in("build deploy -g not-exist-device-group")
    assert 'Error: Device Group "not-exist-device-group" is not found.' in r.out
    r = logged_in("build deploy")
    assert r.status == 1
    assert "Error: No Device Group Identifier is specified." in r.out
    assert api.get("/deployments") == []
    r = logged_in("build deploy -g G --tag")
    assert r.status == 1 and "Error: Not enough arguments following: tag" in r.out


def test_deploy_compile_error_is_reported(logged_in: Any, sim: Any, world: dict) -> None:
    sim_control(sim, "faults", {"compile_error": True})
    r = logged_in("build deploy -g G")
    assert r.status == 1
    assert "Error: Compilation Error: Device code compile failed" in r.out
    assert "device_code error (line 1, column 1): expression expected" in r.out


# -- run -------------------------------------------------------------------------------------


def test_run_sets_min_supported_and_restarts(
    logged_in: Any, api: SimApi, sim: Any, world: dict
) -> None:
    g = world["g"]
    devices = api.devices()
    api.assign(g, devices[0]["id"], devices[1]["id"])
    Path("d.nut").write_text('server.log("hello");')
    r = logged_in("build run -g G -x d.nut")
    assert r.status == 0, r.out
    new = created_id(r.out)
    out = lines(r.out)
    assert out[1:4] == [
        f'Deployment "{new}" is created successfully.',
        'Min supported Deployment for Device Group "G" is updated successfully.',
        'Restart request for Devices assigned to Device Group "G" is successful:',
    ]
    assert out.count("Device: ") == 2
    assert out[-1] == OK
    dg = api.get(f"/devicegroups/{g['id']}")
    assert dg["relationships"]["min_supported_deployment"]["id"] == new
    assert dg["attributes"]["description"] == "G descr"  # not blanked without --descr
    logs = api.get(f"/devices/{devices[0]['id']}/logs")
    assert any(e["msg"].startswith("Downloading new code") for e in logs)


def test_run_without_log_says_the_deployment_is_run(
    logged_in: Any, api: SimApi, world: dict
) -> None:
    devices = api.devices()
    api.assign(world["g"], devices[0])
    r = logged_in("build run -g G")
    assert r.status == 0, r.out
    new = created_id(r.out)
    assert lines(r.out)[-2:] == [f'Deployment "{new}" is run successfully.', OK]


def test_run_descr_conditional_log_and_no_devices(logged_in: Any, api: SimApi, world: dict) -> None:
    g = world["g"]
    r = logged_in("build run -g G -s NEW")
    assert r.status == 0, r.out
    assert lines(r.out)[-3:] == [
        'Device Group "G" is updated successfully.',
        'Device Group "G" does not have assigned Devices.',
        OK,
    ]
    assert api.get(f"/devicegroups/{g['id']}")["attributes"]["description"] == "NEW"
    api.assign(g, api.devices()[0]["id"])
    write_project(g)
    tasks = logged_in.session.log_tasks
    tasks.background, tasks.sink = True, StreamSink(io.StringIO())  # as in the shell
    try:
        r = logged_in("build run --conditional --log -z debug")
    finally:
        tasks.stop_all()
    assert r.status == 0, r.out
    new = created_id(r.out)
    assert (
        f'Min supported Deployment for Device Group "{g["id"]}" is updated successfully.' in r.out
    )
    assert f"/devicegroups/{g['id']}/conditional_restart" in r.out
    assert '"method": "PATCH"' not in r.out
    tail = lines(r.out)
    i = tail.index(
        f'Conditional restart request for Devices assigned to Device Group "{g["id"]}" '
        "is successful:"
    )
    assert tail[i + 1] == "Device: "
    device = api.devices()[0]["id"]
    assert tail[-4:] == [
        f'Deployment "{new}" is run successfully.',
        f"Log stream for Device(s) {device} is opened.",
        'Log task 1 runs in the background: "tasks" lists the log tasks, "tasks stop 1" '
        "stops this one.",
        OK,
    ]
    r = logged_in("build run -g G -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    r = logged_in("build run -g G -z minimal")
    assert r.status == 0 and r.out == ""


def test_run_restart_lists_at_most_five_devices(logged_in: Any, api: SimApi, sim: Any) -> None:
    sim_control(sim, "devices", {"count": 4})
    g = api.dg(api.product("P"), "G")
    api.assign(g, *[d["id"] for d in api.devices()])
    r = logged_in("build run -g G")
    assert r.status == 0
    assert r.out.count("Device: ") == 5
    assert "And 2 more Device(s)." in r.out


# -- copy ------------------------------------------------------------------------------------


def test_copy(logged_in: Any, api: SimApi, world: dict) -> None:
    src = api.deploy(world["g"], "dev", description="D", origin="O", tags=["a", "b"], flagged=True)
    r = logged_in(f"build copy -b {src['id']} -g G2")
    assert r.status == 0, r.out
    new = created_id(r.out)
    assert lines(r.out) == [
        f'Deployment "{new}" is created successfully.',
        f'Deployment "{src["id"]}" is copied successfully to Deployment "{new}".',
        OK,
    ]
    copy = api.get(f"/deployments/{new}")
    assert copy["relationships"]["devicegroup"]["id"] == world["g2"]["id"]
    attrs = copy["attributes"]
    assert (attrs["device_code"], attrs["description"], attrs["origin"]) == ("dev", "", None)
    assert (attrs["tags"], attrs["flagged"]) == ([], False)
    r = logged_in("build copy -b a -g G2 --all -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    all_copy = [b for b in api.get("/deployments") if b["id"] not in (src["id"], new)][0][
        "attributes"
    ]
    assert (all_copy["description"], all_copy["origin"], all_copy["tags"]) == ("D", "O", ["a", "b"])
    assert all_copy["flagged"] is True


def test_copy_project_default_and_errors(logged_in: Any, api: SimApi, world: dict) -> None:
    r = logged_in("build copy -g G2")
    assert r.status == 1 and "Error: No Deployment Identifier is specified." in r.out
    r = logged_in("build copy -b x")
    assert r.status == 1 and "Error: Missing required argument: dg" in r.out
    src = api.deploy(world["g"], "dev")
    write_project(world["g"], "device.nut", "agent.nut")
    r = logged_in("build copy -g G2")
    assert r.status == 0
    assert f'Deployment "{src["id"]}" is copied successfully to Deployment' in r.out
    r = logged_in("build copy -b not-exist-deployment -g G2")
    assert lines(r.out) == ['Error: Deployment "not-exist-deployment" is not found.', FAILS]


# -- delete ----------------------------------------------------------------------------------


def test_delete_min_supported_rule(logged_in: Any, api: SimApi, world: dict) -> None:
    g = world["g"]
    old = api.deploy(g, "1")
    mid = api.deploy(g, "2")
    api.deploy(g, "3")
    api.set_min(g, mid)
    for build in (mid["id"], "3"):
        ident = build if build != "3" else api.get("/deployments")[-1]["id"]
        r = logged_in(f"build delete -b {ident} -q")
        assert r.status == 1
        assert lines(r.out) == [
            f'Error: Impossible to delete Deployment "{ident}". It is the Min supported '
            f'Deployment or newer for Device Group "{g["id"]}".',
            FAILS,
        ]
    r = logged_in(f"build delete -b {old['id']} -q")
    assert r.status == 0
    assert lines(r.out) == [f'Deployment "{old["id"]}" is deleted successfully.', OK]
    assert len(api.get("/deployments")) == 2


def test_delete_of_a_first_build_is_refused_before_any_delete(
    logged_in: Any, api: SimApi, world: dict
) -> None:
    """A group's first build is its min supported deployment: imptsh refuses to delete it
    with impt's message, having sent no DELETE (the server would refuse it too)."""
    r = logged_in("build deploy -g G -t only")
    build = created_id(r.out)
    sent = logged_in.record_requests()
    r = logged_in("build delete -b only -q")
    assert r.status == 1
    assert sent.calls and {method for method, _ in sent.calls} == {"GET"}
    assert lines(r.out)[-2:] == [
        'Error: Impossible to delete Deployment "only". It is the Min supported Deployment or '
        f'newer for Device Group "{world["g"]["id"]}".',
        FAILS,
    ]
    assert [b["id"] for b in api.get("/deployments")] == [build]


def test_delete_confirmation_paths(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "x", tags=["T"])
    api.set_min(world["g"], api.deploy(world["g"], "y"))  # `build` is older than the minimum
    summary = [
        "The following entities will be deleted:",
        "Deployment: ",
        f"  id:   {build['id']}",
        f"  sha:  {build['attributes']['sha']}",
        "  tags: T",
        "",
    ]
    r = logged_in("build delete -b T", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == summary + [
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        "Operation is canceled.",
        FAILS,
    ]
    r = logged_in("build delete -b T -z json", stdin="n\n")
    assert r.status == 1 and lines(r.out)[-1] == "{}"
    r = logged_in("build delete -b T", stdin="maybe\ny\n")
    assert r.status == 0
    assert lines(r.out)[len(summary) :] == [
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): maybe",
        "Invalid value!",
        "Enter 'y' (yes) or 'n' (no): y",
        "",
        'Deployment "T" is deleted successfully.',
        OK,
    ]
    assert len(api.get("/deployments")) == 1


def test_delete_flagged_needs_force(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "x", flagged=True)
    api.set_min(world["g"], api.deploy(world["g"], "y"))
    r = logged_in(f"build delete -b {build['id']} -q")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Resource Flagged: You cannot delete flagged deployments; set the flagged "
        "attribute to false and try again.",
        FAILS,
    ]
    r = logged_in(f"build delete -b {build['id']} --force", stdin="y\n")
    assert r.status == 0, r.out
    assert 'The following Deployments are marked "flagged" to prevent deleting.' in r.out
    assert lines(r.out)[-3:] == [
        f'Deployment "{build["id"]}" is updated successfully.',
        f'Deployment "{build["id"]}" is deleted successfully.',
        OK,
    ]
    r = logged_in("build delete -b not-exist-deployment -q -z minimal")
    assert lines(r.out) == ['Error: Deployment "not-exist-deployment" is not found.']


# -- cleanup ---------------------------------------------------------------------------------


def test_cleanup(logged_in: Any, api: SimApi, sim: Any, world: dict) -> None:
    r = logged_in("build cleanup -q")
    assert lines(r.out) == ["No Deployments are found.", OK]
    z1 = api.zombie(world["p"], "1")
    z2 = api.zombie(world["p"], "2", flagged=True)
    z3 = api.zombie(world["p2"], "3")
    live = api.deploy(world["g"], "live")
    # --product restricts to that product's zombies; flagged ones stay without --unflag
    r = logged_in("build cleanup -p P", stdin="y\n")
    assert r.status == 0, r.out
    assert lines(r.out)[:5] == [
        "The following entities will be deleted:",
        "Deployment: ",
        f"  id:  {z1['id']}",
        f"  sha: {z1['attributes']['sha']}",
        "",
    ]
    assert lines(r.out)[-2:] == [f'Deployment "{z1["id"]}" is deleted successfully.', OK]
    left = {b["id"] for b in api.get("/deployments")}
    assert left == {z2["id"], z3["id"], live["id"]}
    r = logged_in("build cleanup --unflag -q")
    assert r.status == 0
    out = lines(r.out)
    assert out[0] == f'Deployment "{z2["id"]}" is updated successfully.'
    assert sorted(out[1:3]) == sorted(
        f'Deployment "{z["id"]}" is deleted successfully.' for z in (z2, z3)
    )
    assert {b["id"] for b in api.get("/deployments")} == {live["id"]}
    r = logged_in("build cleanup -p nothing-like-this -z json")
    assert r.status == 0 and json.loads(r.out) == {}


# -- get / info ------------------------------------------------------------------------------


def test_get_writes_files_byte_for_byte(logged_in: Any, api: SimApi, world: dict) -> None:
    code = 'local a = "é";\r\nserver.log(a);'
    build = api.deploy(world["g"], code, tags=["v1"])
    api.update_build(build["id"], description="descr")
    r = logged_in("build get -b v1 -x d.nut -y a.nut")
    assert r.status == 0, r.out
    assert Path("d.nut").read_bytes() == code.encode("utf-8")
    assert Path("a.nut").read_bytes() == b""
    out = lines(r.out)
    assert out[0] == 'Deployment "v1" source file(s) are downloaded successfully.'
    assert out[1:4] == ["Deployment: ", row("id", build["id"], 12), "  device_code: "]
    assert out[4:8] == ['    """', '      local a = "é";\r', "      server.log(a);", '    """']
    assert row("agent_code", "", 12) in out
    assert row("description", "descr", 12) in out
    assert out[-1] == OK
    r = logged_in("build get -b v1 -x d2.nut -y a2.nut -z json")
    obj = json.loads(r.out)["Deployment"]
    assert obj["device_code"] == code and obj["Device Group"]["type"] == "development"


def test_get_file_options_and_project_defaults(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "dev", agent_code="agent")
    r = logged_in(f"build get -b {build['id']} -y a.nut")
    assert r.status == 1
    assert lines(r.out)[0] == 'Error: Option "--device-file" must be specified.'
    r = logged_in(f"build get -b {build['id']} -x d.nut")
    assert lines(r.out)[0] == 'Error: Option "--agent-file" must be specified.'
    assert not Path("d.nut").exists()
    r = logged_in(f"build get -b {build['id']} -x d.nut --device-only -z minimal")
    assert r.status == 0 and Path("d.nut").read_text() == "dev"
    assert not Path("a.nut").exists()
    r = logged_in(f"build get -b {build['id']} -y a.nut -j -z minimal")
    assert r.status == 0 and Path("a.nut").read_text() == "agent"
    Path("d.nut").unlink()
    Path("a.nut").unlink()
    r = logged_in("build get")
    assert r.status == 1 and "Error: No Deployment Identifier is specified." in r.out
    write_project(world["g"], "pd.nut", "pa.nut")
    r = logged_in("build get")
    assert r.status == 0, r.out
    assert f'Deployment "{build["id"]}" source file(s) are downloaded successfully.' in r.out
    assert (Path("pd.nut").read_text(), Path("pa.nut").read_text()) == ("dev", "agent")


def test_get_overwrite_confirmation(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "new dev", agent_code="new agent")
    Path("d.nut").write_text("old dev")
    Path("a.nut").write_text("old agent")
    cmd = f"build get -b {build['id']} -x d.nut -y a.nut"
    context = "Source file(s) d.nut, a.nut already exist. They will be overwritten."
    r = logged_in(cmd, stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == [
        context,
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        "Operation is canceled.",
        FAILS,
    ]
    assert Path("d.nut").read_text() == "old dev"
    r = logged_in(cmd + " -j", stdin="x\ny\n")
    assert r.status == 0
    assert lines(r.out)[:6] == [
        "Source file(s) a.nut already exist. They will be overwritten.",
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): x",
        "Invalid value!",
        "Enter 'y' (yes) or 'n' (no): y",
        "",
    ]
    assert (Path("d.nut").read_text(), Path("a.nut").read_text()) == ("old dev", "new agent")
    r = logged_in(cmd + " -q")
    assert r.status == 0 and "Are you sure" not in r.out
    assert Path("d.nut").read_text() == "new dev"


def test_get_highlights_code_only_with_colour(
    logged_in: Any, api: SimApi, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "function f() {\n  return 1; // one\n}"
    long_code = "local x = 1;\n" * 50
    build = api.deploy(world["g"], code, agent_code=long_code)
    plain = logged_in(f"build get -b {build['id']} -x d.nut -y a.nut -q").out
    assert "\x1b[" not in plain
    monkeypatch.setattr("imptsh.commands.runner.color_wanted", lambda *a, **k: True)
    coloured = logged_in(f"build get -b {build['id']} -x d.nut -y a.nut -q").out
    assert "\x1b[32mid: \x1b[39m" in coloured  # keys green as usual
    assert "\x1b[38;5;" in coloured  # 256-colour code tokens
    assert ANSI.sub("", coloured) == plain
    code_lines = [line for line in coloured.split("\n") if "return" in line]
    assert len(code_lines) == 1 and "\x1b[38;5;" in code_lines[0]
    assert "      ..." in plain.split("\n")  # the 512-character cut is kept
    minimal = logged_in(f"build info -b {build['id']} -z minimal").out
    assert "\x1b[" not in minimal


def test_info(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "x", tags=["t"], origin="o")
    r = logged_in("build info -b t")
    assert r.status == 0
    out = lines(r.out)
    keys = [line.split(":")[0].strip() for line in out[1:] if line.startswith("  ") and ":" in line]
    assert keys[:10] == [
        "id",
        "device_code",
        "agent_code",
        "description",
        "origin",
        "flagged",
        "tags",
        "sha",
        "created_at",
        "updated_at",
    ]
    assert row("flagged", "false", 12) in out
    assert "  Device Group: " in out and "  Product: " in out
    assert "Owner" not in r.out  # the current account
    r = logged_in("build info -b t -z json")
    obj = json.loads(r.out)["Deployment"]
    assert obj["id"] == build["id"] and obj["tags"] == ["t"]
    assert obj["Device Group"] == {"id": world["g"]["id"], "type": "development", "name": "G"}
    assert obj["Product"] == {"id": world["p"]["id"], "name": "P"}
    r = logged_in("build info -b not-exist-deployment")
    assert lines(r.out) == ['Error: Deployment "not-exist-deployment" is not found.', FAILS]
    r = logged_in("build info")
    assert "Error: No Deployment Identifier is specified." in r.out
    write_project(world["g"], "device.nut", "agent.nut")
    r = logged_in("build info -z minimal")
    assert r.status == 0 and row("id", build["id"], 12) in r.out


def test_info_of_project_with_vanished_dg(logged_in: Any, api: SimApi, world: dict) -> None:
    write_project(world["g"], "device.nut", "agent.nut")
    api.delete("dg", world["g"])
    r = logged_in("build info")
    assert lines(r.out) == [
        f'Error: Device Group "{world["g"]["id"]}", saved in Project File, does not exist anymore.',
        "Impossible to execute the command.",
        'Use "impt project delete" command to delete the outdated Project.',
        FAILS,
    ]


# -- list ------------------------------------------------------------------------------------


@pytest.fixture
def builds(api: SimApi, sim: Any, world: dict) -> dict[str, Any]:
    pd = api.dg(world["p"], "PD", "pre_dut_devicegroup")
    return {
        "g1": api.deploy(world["g"], "1", tags=["t1", "t2"]),
        "g2": api.deploy(world["g"], "2", flagged=True),
        "pd": api.deploy(pd, "3", tags=["t1"]),
        "other": api.deploy(world["g2"], "4"),
        "zombie": api.zombie(world["p"], "5"),
    }


def listed(out: str) -> set[str]:
    return set(re.findall(r"^  id: +(\S+)$", out, re.M))


def test_list_filters(logged_in: Any, builds: dict, world: dict) -> None:
    ids = {k: v["id"] for k, v in builds.items()}
    cases = {
        "": set(ids.values()),
        "--owner me": set(ids.values()),
        "-p P": {ids["g1"], ids["g2"], ids["pd"], ids["zombie"]},
        "-p P -p P2": set(ids.values()),
        "-g G": {ids["g1"], ids["g2"]},
        "-y pre-dut": {ids["pd"]},
        "-y development -y pre-dut": {ids["g1"], ids["g2"], ids["pd"], ids["other"]},
        "-t t1": {ids["g1"], ids["pd"]},
        "-t t1 -t t2": {ids["g1"], ids["pd"]},
        f"-s {builds['other']['attributes']['sha']}": {ids["other"]},
        "--flagged": {ids["g2"]},
        "--unflagged -p P": {ids["g1"], ids["pd"], ids["zombie"]},
        "--flagged --unflagged -g G": {ids["g1"], ids["g2"]},
        "--zombie": {ids["zombie"]},
        "--non-zombie -p P": {ids["g1"], ids["g2"], ids["pd"]},
        "-m -n -p P": {ids["g1"], ids["g2"], ids["pd"], ids["zombie"]},
        "-m -y development": set(),
        "-p not-exist-product": set(),
    }
    for options, expected in cases.items():
        r = logged_in(f"build list {options} -z minimal")
        assert r.status == 0, (options, r.out)
        assert listed(r.out) == expected, options


def test_list_output(logged_in: Any, builds: dict, world: dict) -> None:
    r = logged_in("build list -g G")
    assert r.status == 0
    out = lines(r.out)
    assert out[0] == "Deployment list (2 items):"
    g1, g2 = builds["g1"], builds["g2"]
    assert out[1:11] == [
        "Deployment: ",
        row("id", g1["id"], 12),
        row("sha", g1["attributes"]["sha"], 12),
        row("tags", "t1, t2", 12),
        "  Device Group: ",
        f"    id:   {world['g']['id']}",
        "    type: development",
        "    name: G",
        "Deployment: ",
        row("id", g2["id"], 12),
    ]
    assert row("flagged", "true", 12) in out
    assert out[-1] == OK
    r = logged_in("build list -g G -z minimal")
    assert row("tags", "t1,t2", 12) in r.out
    r = logged_in("build list -g G -z json")
    data = json.loads(r.out)
    assert [d["Deployment"]["id"] for d in data] == [g1["id"], g2["id"]]
    assert data[0]["Deployment"]["tags"] == ["t1", "t2"]
    r = logged_in("build list -t nothing")
    assert lines(r.out) == ["No Deployments are found.", OK]
    r = logged_in("build list -t nothing -z json")
    assert json.loads(r.out) == []


def test_list_errors_and_project_default(logged_in: Any, builds: dict, world: dict) -> None:
    r = logged_in("build list --flagged false")
    assert r.status == 1
    assert lines(r.out)[-2:] == ['Error: Option "--flagged" has incorrect value "false".', FAILS]
    r = logged_in("build list -y nope")
    assert r.status == 1 and "Invalid values:" in r.out
    r = logged_in('build list -g ""')
    assert "Error: No Device Group Identifier is specified." in r.out
    write_project(world["g"], "device.nut", "agent.nut")
    r = logged_in('build list -g "" -z minimal')
    assert listed(r.out) == {builds["g1"]["id"], builds["g2"]["id"]}


def test_list_request_economy(logged_in: Any, builds: dict) -> None:
    logged_in("build list -z minimal")  # warms up accounts/me
    sent = logged_in.record_requests()
    r = logged_in("build list -z minimal")
    assert r.status == 0
    # the deployments list plus at most one bulk list per related kind (device groups)
    assert len(sent) <= 2


# -- update ----------------------------------------------------------------------------------


def test_update(logged_in: Any, api: SimApi, world: dict) -> None:
    build = api.deploy(world["g"], "x", tags=["a", "b", "c"], description="D")
    r = logged_in("build update -b b -t d -t a -r b -r zz -s NEW --flagged")
    assert r.status == 0, r.out
    assert lines(r.out) == ['Deployment "b" is updated successfully.', OK]
    attrs = api.get(f"/deployments/{build['id']}")["attributes"]
    assert (attrs["tags"], attrs["description"], attrs["flagged"]) == (
        ["a", "c", "d"],
        "NEW",
        True,
    )
    r = logged_in(f"build update -b {build['id']} --flagged false -s '' -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    attrs = api.get(f"/deployments/{build['id']}")["attributes"]
    assert (attrs["tags"], attrs["description"], attrs["flagged"]) == (["a", "c", "d"], "", False)
    write_project(world["g"], "device.nut", "agent.nut")
    r = logged_in("build update -z debug")
    assert r.status == 0
    assert '"attributes": {}' in r.out
    assert f'Deployment "{build["id"]}" is updated successfully.' in r.out
    r = logged_in("build update -b nope -t x")
    assert lines(r.out) == ['Error: Deployment "nope" is not found.', FAILS]


def test_update_by_tag_after_the_group_was_recreated(logged_in: Any, api: SimApi) -> None:
    """Deleting a Device Group deletes its builds, so a tag used again in a group of the same
    name identifies one build."""
    api.product("P")
    assert logged_in("dg create -n G -p P").status == 0
    assert logged_in("build deploy -g G -t v1").status == 0
    assert logged_in("dg delete -g G -q").status == 0
    assert logged_in("dg create -n G -p P").status == 0
    new = created_id(logged_in("build deploy -g G -t v1").out)
    r = logged_in("build update -b v1 -s again")
    assert lines(r.out) == ['Deployment "v1" is updated successfully.', OK]
    [build] = api.get("/deployments")
    assert (build["id"], build["attributes"]["description"]) == (new, "again")


def test_help_and_usage(logged_in: Any) -> None:
    r = logged_in("build deploy --help")
    assert r.status == 0
    assert "Usage: impt build deploy [--dg <DEVICE_GROUP_IDENTIFIER>] [--device-file" in r.out
    r = logged_in("build get -h")
    assert "--device-only, -i" in r.out and "--agent-only, -j" in r.out
