"""Factory-firmware checks in `build deploy`/`build run` (`--force`) and `build check`,
against the simulator and real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SimApi as Api
from tests.conftest import run_imptsh

OK = "IMPT COMMAND SUCCEEDS"
FAILS = "IMPT COMMAND FAILS"
BLESS_CODE = "local b = server.bless;\nb(true, cb); // server.factoryblinkup() is only a comment\n"
DEV_REASON = (
    "is reserved for DUT firmware; it throws and restarts devices in a development Device Group."
)


@pytest.fixture
def api(sim: Any) -> Api:
    return Api(sim)


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    p = api.product("P")
    return {
        "p": p,
        "g": api.dg(p, "G"),
        "dut": api.dg(p, "PD", "pre_dut_devicegroup"),
    }


def lines(out: str) -> list[str]:
    return out.rstrip("\n").split("\n")


def deployments(api: Api, dg: dict[str, Any]) -> list[dict[str, Any]]:
    return api.get("/deployments", **{"filter[devicegroup.id]": dg["id"]})


def sent(out: str) -> list[str]:
    """The methods of the requests in a `-z debug` transcript (the client's observer)."""
    return [
        line.split('"method": "')[1].rstrip('",')
        for line in out.split("\n")
        if line.strip().startswith('"method": ')
    ]


def json_docs(text: str) -> list[Any]:
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    return docs


# -- deploy / run ----------------------------------------------------------------------------


def test_deploy_refused_without_force_sends_nothing(logged_in: Any, api: Api, world: dict) -> None:
    Path("d.nut").write_text(BLESS_CODE)
    debug = logged_in("build deploy -g G -x d.nut -z debug")
    assert debug.status == 1
    assert sent(debug.out) and set(sent(debug.out)) == {"GET"}  # the group lookup only
    assert deployments(api, world["g"]) == []
    r = logged_in("build deploy -g G -x d.nut")
    assert r.status == 1
    assert lines(r.out) == [
        "--agent-file option is not specified, empty agent code will be deployed.",
        f"Error: d.nut:1: server.bless() {DEV_REASON} Use --force to deploy anyway.",
        f'Error: d.nut:2: server.bless() (through "b") {DEV_REASON} Use --force to deploy anyway.',
        FAILS,
    ]
    assert deployments(api, world["g"]) == []


def test_deploy_with_force_goes_on(logged_in: Any, api: Api, world: dict) -> None:
    Path("d.nut").write_text(BLESS_CODE)
    r = logged_in("build deploy -g G -x d.nut --force -f -z debug")
    assert r.status == 0, r.out
    assert sent(r.out).count("POST") == 1
    assert f"Error: d.nut:1: server.bless() {DEV_REASON} Deploying anyway (--force)." in lines(
        r.out
    )
    (build,) = deployments(api, world["g"])
    assert build["attributes"]["device_code"] == BLESS_CODE
    assert build["attributes"]["flagged"] is True  # -f is still --flagged


def test_run_refused_without_force_and_allowed_with_it(
    logged_in: Any, api: Api, world: dict
) -> None:
    devices = api.devices()
    api.assign(world["g"], devices[0]["id"])
    Path("a.nut").write_text('server.log("ok");\nimp.clearconfiguration();\n')
    r = logged_in("build run -g G -y a.nut -z debug")
    assert r.status == 1
    assert set(sent(r.out)) == {"GET"}  # no deployment, no min-supported PUT, no restart
    assert "Error: a.nut:2: imp.clearconfiguration() is a device call" in r.out
    assert r.out.rstrip().endswith("Use --force to deploy anyway.\n" + FAILS)
    assert deployments(api, world["g"]) == []
    dg = api.get(f"/devicegroups/{world['g']['id']}")
    assert dg["relationships"].get("min_supported_deployment") in (None, {})
    r = logged_in("build run -g G -y a.nut --force")
    assert r.status == 0, r.out
    assert "Deploying anyway (--force)." in r.out
    assert "Restart request for Devices assigned to" in r.out
    assert len(deployments(api, world["g"])) == 1


def test_warnings_and_recommendations_do_not_stop_a_deploy(
    logged_in: Any, api: Api, world: dict
) -> None:
    Path("d.nut").write_text('server.log("testing");\n')
    r = logged_in("build deploy -g PD -x d.nut")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[1].startswith("Warning: d.nut: no server.bless() call: DUT firmware in a pre-DUT")
    assert out[2].startswith("Recommendation: d.nut: no imp.clearconfiguration() call: ")
    assert out[3].startswith('Deployment "') and out[-1] == OK
    assert len(deployments(api, world["dut"])) == 1
    # minimal and json modes show the RESULT only
    minimal = logged_in("build deploy -g PD -x d.nut -z minimal")
    assert minimal.status == 0 and "Warning" not in minimal.out
    as_json = logged_in("build deploy -g PD -x d.nut -z json")
    assert list(json.loads(as_json.out)) == ["Deployment"]


def test_project_files_and_json_errors(logged_in: Any, api: Api, world: dict) -> None:
    data = {"deviceGroupId": world["dut"]["id"], "deviceFile": "dut.nut", "agentFile": "a.nut"}
    Path(".impt.project").write_text(json.dumps(data))
    Path("dut.nut").write_text("server.bless(true, cb);\nimp.clearconfiguration();\n")
    Path("a.nut").write_text("local s = server;\ns.factoryblinkup(ssid, key, pin, mode);\n")
    r = logged_in("build deploy -z json")
    assert r.status == 1
    assert json_docs(r.out) == [
        {
            "Error": 'a.nut:2: server.factoryblinkup() (through "s") is a device call: the '
            "agent's server and imp objects have no such member, so the agent stops with an "
            "error here. Call it in the device code. Use --force to deploy anyway."
        }
    ]
    assert deployments(api, world["dut"]) == []
    Path("a.nut").write_text("")
    assert logged_in("build deploy").status == 0
    assert len(deployments(api, world["dut"])) == 1


def test_force_option_in_help(logged_in: Any) -> None:
    for command in ("deploy", "run"):
        help_text = logged_in(f"build {command} --help").out
        assert "[--force]" in help_text
        assert "  --force  " in help_text and "--force, -" not in help_text
        assert "--flagged, -f" in help_text


# -- build check -----------------------------------------------------------------------------


def test_check_by_type_needs_no_login(impt: Any, home: Path) -> None:
    Path("d.nut").write_text(BLESS_CODE)
    r = impt("build check --dg-type development -x d.nut")
    assert r.status == 1
    assert lines(r.out) == [
        f"Error: d.nut:1: server.bless() {DEV_REASON}",
        f'Error: d.nut:2: server.bless() (through "b") {DEV_REASON}',
        'Error: Factory-firmware checks of "d.nut" for a development Device Group: 2 errors, '
        "0 warnings, 0 recommendations.",
        FAILS,
    ]
    r = impt("build check --dg-type dut -x d.nut")
    assert r.status == 0
    assert lines(r.out) == [
        "Recommendation: d.nut: no imp.clearconfiguration() call: blessed devices keep the "
        "factory's network and enrollment credentials; DUT firmware should clear them "
        "(strongly recommended).",
        'Factory-firmware checks of "d.nut" for a dut Device Group: 0 errors, 0 warnings, '
        "1 recommendation.",
        OK,
    ]
    assert not list(home.rglob(".impt.auth"))


def test_check_by_group_on_the_server_and_project_defaults(
    logged_in: Any, api: Api, world: dict
) -> None:
    Path("d.nut").write_text(BLESS_CODE)
    r = logged_in("build check -g PD -x d.nut")
    assert r.status == 0, r.out
    assert lines(r.out)[-2:] == [
        'Factory-firmware checks of "d.nut" for a pre-dut Device Group: 0 errors, 0 warnings, '
        "1 recommendation.",
        OK,
    ]
    r = logged_in("build check -g G -x d.nut")
    assert r.status == 1 and "2 errors" in r.out
    data = {"deviceGroupId": world["g"]["id"], "deviceFile": "d.nut", "agentFile": "a.nut"}
    Path(".impt.project").write_text(json.dumps(data))
    Path("a.nut").write_text('server.log("agent");')
    r = logged_in("build check")
    assert r.status == 1
    assert 'checks of "d.nut", "a.nut" for a development Device Group: 2 errors' in r.out
    r = logged_in("build check --dg-type factory -x clean.nut", stdin="")
    assert lines(r.out) == [
        'Error: File with IMP device source code "clean.nut" is not found.',
        FAILS,
    ]
    Path("clean.nut").write_text("server.factoryblinkup(ssid, key, pin, mode);")
    assert logged_in("build check --dg-type factory -x clean.nut").status == 0
    assert deployments(api, world["g"]) == []


def test_check_json_output(impt: Any) -> None:
    Path("d.nut").write_text("imp.clearconfiguration();\n")
    r = impt("build check --dg-type pre-factory -x d.nut -z json")
    assert r.status == 0
    assert json.loads(r.out) == {
        "Findings": [
            {
                "severity": "warning",
                "file": "d.nut",
                "line": 1,
                "method": "imp.clearconfiguration",
                "message": "imp.clearconfiguration() is meant for DUT firmware; in fixture "
                "firmware (a pre-factory Device Group) it wipes the fixture's own network and "
                "enrollment settings.",
            },
            {
                "severity": "warning",
                "file": "d.nut",
                "line": "",
                "method": "server.factoryblinkup",
                "message": "no server.factoryblinkup() call: fixture firmware in a pre-factory "
                "Device Group must run factory BlinkUp, or it configures no devices under test.",
            },
        ]
    }
    r = impt("build check --dg-type production -x d.nut -z json")
    assert r.status == 1
    findings, error = json_docs(r.out)
    assert [f["severity"] for f in findings["Findings"]] == ["error"]
    assert error == {
        "Error": 'Factory-firmware checks of "d.nut" for a production Device Group: 1 error, '
        "0 warnings, 0 recommendations."
    }


def test_check_bad_input(impt: Any) -> None:
    r = impt("build check --dg G --dg-type dut -x d.nut")
    assert r.status == 1
    assert lines(r.out)[-2:] == [
        'Error: Options "--dg" and "--dg-type" are mutually exclusive.',
        FAILS,
    ]
    r = impt("build check --dg-type dut")
    assert lines(r.out) == [
        'Error: No source files are specified: use "--device-file <device_file>" and/or '
        '"--agent-file <agent_file>", or run the command in a Project directory.',
        FAILS,
    ]
    r = impt("build check -x d.nut")
    assert r.status == 1 and "Error: No Device Group is specified" in r.out
    r = impt("build check --dg-type nonsense -x d.nut")
    assert r.status == 1 and 'Argument: dg-type, Given: "nonsense"' in r.out


def test_check_exit_codes_in_one_shot_mode(home: Path) -> None:
    work = Path.cwd()
    env = {"HOME": str(home)}
    (work / "bad.nut").write_text("if (ok) server.bless(true, cb);\n")
    (work / "warn.nut").write_text("// no factory BlinkUp yet\n")
    (work / "good.nut").write_text('server.log("app");\n')
    bad = run_imptsh(
        ["build", "check", "--dg-type", "production", "-x", "bad.nut"], cwd=work, env=env
    )
    assert bad.returncode == 1, bad.stdout
    assert bad.stdout.startswith("Error: bad.nut:1: server.bless() is reserved for DUT firmware")
    assert bad.stdout.endswith(FAILS + "\n") and "Traceback" not in bad.stderr
    warn = run_imptsh(
        ["build", "check", "--dg-type", "factory", "-x", "warn.nut"], cwd=work, env=env
    )
    assert warn.returncode == 0, warn.stdout
    assert warn.stdout.startswith("Warning: warn.nut: no server.factoryblinkup() call")
    good = run_imptsh(
        ["build", "check", "--dg-type", "development", "-x", "good.nut"], cwd=work, env=env
    )
    assert good.returncode == 0
    assert good.stdout.endswith("0 errors, 0 warnings, 0 recommendations.\n" + OK + "\n")
    as_json = run_imptsh(
        ["build", "check", "--dg-type", "development", "-y", "bad.nut", "-z", "json"],
        cwd=work,
        env=env,
    )
    assert as_json.returncode == 1
    assert json_docs(as_json.stdout)[0]["Findings"][0]["file"] == "bad.nut"


def test_check_with_everything_given_ignores_a_broken_project_file(impt: Any) -> None:
    Path(".impt.project").write_text("{not json")
    Path("d.nut").write_text("server.factoryblinkup(ssid, key, pin, mode);")
    Path("a.nut").write_text("")
    r = impt("build check --dg-type factory -x d.nut -y a.nut")
    assert r.status == 0, r.out
    r = impt("build check --dg-type factory -x d.nut")  # the agent file would come from it
    assert lines(r.out) == ["Error: Project File is corrupted.", FAILS]
