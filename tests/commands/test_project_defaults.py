"""The Project's defaults in every command impt gives them to (commands.md §4.4): its Device
Group, Product, source files and latest build, inside a project made by `project create`;
impt's errors when the group is gone or there is no project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FAILS, SimApi, lines, write_project

# Every command that falls back on the Project, with that option omitted.
DEFAULTED = [
    ("build deploy", "Device Group"),
    ("build run", "Device Group"),
    ("build update --tag T", "Deployment"),
    ("build info", "Deployment"),
    ("build get -q", "Deployment"),
    ("build copy --dg Other", "Deployment"),
    ("device assign --device myDevice2", "Device Group"),
    ("device list --dg ''", "Device Group"),
    ("build list --product ''", "Product"),
    ("dg builds", "Device Group"),
    ("dg create --name New", "Product"),
    ("dg delete -q", "Device Group"),
    ("dg info", "Device Group"),
    ("dg list --product ''", "Product"),
    ("dg reassign --from Other", "Device Group"),
    ("dg restart", "Device Group"),
    ("dg unassign", "Device Group"),
    ("dg update --descr x", "Device Group"),
    ("product delete -q", "Product"),
    ("product info", "Product"),
    ("product update --descr x", "Product"),
    ("webhook create --url https://example.com/h --event deployment --mime json", "Device Group"),
    ("webhook list --dg ''", "Device Group"),
]


@pytest.fixture
def project(logged_in, api: SimApi) -> dict:
    r = logged_in("project create -p MyProduct -c -n MyDG -x app.device.nut -y app.agent.nut")
    assert r.status == 0, r.out
    Path("app.device.nut").write_text('server.log("from the project");')
    Path("app.agent.nut").write_text("// agent")
    dg_id = json.loads(Path(".impt.project").read_text())["deviceGroupId"]
    other_product = api.product("OtherProduct")
    return {
        "dg": api.entity("dg", dg_id),
        "product": api.get("/products")[0],
        "other": api.dg(other_product, "Other"),
    }


def test_builds_go_to_the_project_group_from_its_files_and_update_the_latest(
    logged_in, api, project
):
    dg_id = project["dg"]["id"]
    r = logged_in("device assign --device myDevice1")
    assert lines(r.out)[0] == (
        f'Device "myDevice1" is assigned successfully to Device Group "{dg_id}".'
    )
    assert logged_in("build run").status == 0
    first = api.entity("dg", dg_id)["relationships"]["current_deployment"]["id"]
    Path("app.device.nut").write_text('server.log("second");')
    r = logged_in("build run")
    assert r.status == 0 and f'Device Group "{dg_id}" is successful:' in r.out
    assert logged_in("build deploy").status == 0  # the latest, but not the min supported
    group = api.entity("dg", dg_id)["relationships"]
    latest = group["current_deployment"]["id"]
    assert len({first, latest, group["min_supported_deployment"]["id"]}) == 3
    assert api.entity("build", latest)["attributes"]["device_code"] == 'server.log("second");'
    assert api.entity("build", latest)["attributes"]["agent_code"] == "// agent"
    r = logged_in('build update --descr "My Release Candidate 1" --tag MyRC1 --flagged')
    assert lines(r.out)[0] == f'Deployment "{latest}" is updated successfully.'
    updated = api.entity("build", latest)["attributes"]
    assert (updated["tags"], updated["flagged"]) == (["MyRC1"], True)
    assert api.entity("build", first)["attributes"]["flagged"] is False
    assert json.loads(logged_in("build info -z json").out)["Deployment"]["id"] == latest
    r = logged_in("dg unassign")
    assert f'unassigned successfully from Device Group "{dg_id}":' in r.out
    assert "devicegroup" not in api.devices()[0]["relationships"]


def test_empty_list_filters_stand_for_the_project(logged_in, api, project):
    api.assign(project["other"], api.devices()[1])
    api.assign(project["dg"], api.devices()[0])
    listed = json.loads(logged_in("dg list --product '' -z json").out)
    assert [g["Device Group"]["name"] for g in listed] == ["MyDG"]
    listed = json.loads(logged_in("device list --dg '' -z json").out)
    assert [d["Device"]["name"] for d in listed] == ["myDevice1"]


@pytest.mark.parametrize(("line", "kind"), DEFAULTED)
def test_a_group_deleted_elsewhere_is_named_by_every_default(logged_in, api, project, line, kind):
    api.delete("dg", project["dg"])
    before = Path(".impt.project").read_text()
    r = logged_in(line)
    assert r.status == 1, r.out
    assert (
        f'Error: Device Group "{project["dg"]["id"]}", saved in Project File, does not exist '
        "anymore." in lines(r.out)
    )
    assert lines(r.out)[-3:] == [
        "Impossible to execute the command.",
        'Use "impt project delete" command to delete the outdated Project.',
        FAILS,
    ]
    assert Path(".impt.project").read_text() == before


@pytest.mark.parametrize(("line", "kind"), DEFAULTED)
def test_without_a_project_every_default_is_missing(logged_in, api, line, kind):
    api.dg(api.product("P"), "Other")
    r = logged_in(line)
    assert r.status == 1, r.out
    assert f"Error: No {kind} Identifier is specified." in lines(r.out)


def test_a_corrupted_project_file_stops_every_default(logged_in, api):
    api.dg(api.product("P"), "Other")
    Path(".impt.project").write_text('{"deviceGroupId": ["not", "an", "id"]}')
    for line, _ in DEFAULTED:
        r = logged_in(line)
        assert lines(r.out) == ["Error: Project File is corrupted.", FAILS], line


def test_missing_source_files_at_deploy_time(logged_in, api, project):
    Path("app.agent.nut").unlink()
    for line in ("build deploy", "build run"):
        r = logged_in(line)
        assert lines(r.out) == [
            'Error: File with IMP agent source code "app.agent.nut" is not found.',
            FAILS,
        ]
    write_project(project["dg"], "", "")
    r = logged_in("build deploy")
    assert lines(r.out)[:2] == [
        "--device-file option is not specified, empty device code will be deployed.",
        "--agent-file option is not specified, empty agent code will be deployed.",
    ]
    assert api.client.list("/deployments", {"devicegroup.id": project["dg"]["id"]})
