"""`project delete` (commands.md §9, §11.9): the Project file, its source files and its
entities through the deletion engine, with impt's summary, confirmation and rules for what
else depends on the Product."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CANCELED, FAILS, OK, SimApi, lines, write_project

PRE_FACTORY = "pre_factoryfixture_devicegroup"
PRE_PROD = "pre_production_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
PROJECT = Path(".impt.project")
QUESTION = ["Are you sure you want to continue?", "Enter 'y' (yes) or 'n' (no): "]


def exists(api: SimApi, kind: str, ref) -> bool:
    return api.find(kind, ref) is not None


def app_project(api: SimApi) -> dict:
    """A development project: its group has a device, two builds (the newer flagged)."""
    product = api.product("MyProduct")
    dg = api.dg(product, "MyDG")
    device = api.assign(dg, api.devices()[0])[0]
    old = api.deploy(dg, 'server.log("1");')
    new = api.deploy(dg, 'server.log("2");', tags=["TAG1"], flagged=True)
    write_project(dg, "device.nut", "agent.nut")
    Path("device.nut").write_text("// device")
    Path("agent.nut").write_text("// agent")
    return {"product": product, "dg": dg, "device": device, "old": old, "new": new}


def test_without_a_project_file_there_is_nothing_to_do(logged_in):
    r = logged_in("project delete --all")
    assert r.status == 0
    assert lines(r.out) == ["There is no Project File in the current directory.", OK]


def test_plain_delete_asks_and_removes_only_the_project_file(logged_in, api):
    world = app_project(api)
    r = logged_in("project delete", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == [
        "Project File in the current directory will be deleted.",
        QUESTION[0],
        QUESTION[1] + "n",
        "",
        CANCELED,
        FAILS,
    ]
    assert PROJECT.exists()
    r = logged_in("project delete", stdin="y\n")
    assert r.status == 0 and lines(r.out)[-2:] == ["Project is deleted successfully.", OK]
    assert not PROJECT.exists() and Path("device.nut").exists()
    assert exists(api, "dg", world["dg"]) and exists(api, "product", world["product"])


def test_files_deletes_the_source_files_but_never_the_local_auth_file(logged_in, api, sim):
    app_project(api)
    assert logged_in(f"auth login --local -e {sim.base_url} -u demo -w demo").status == 0
    Path("agent.nut").unlink()
    r = logged_in("project delete --files", stdin="y\n")
    assert r.status == 0, r.out
    assert lines(r.out) == [
        "The following files will be deleted:",
        "Device/agent source files: device.nut",
        "",
        "Project File in the current directory will be deleted.",
        QUESTION[0],
        QUESTION[1] + "y",
        "",
        'Device/agent source files "device.nut" are deleted successfully.',
        "Project is deleted successfully.",
        OK,
    ]
    assert not Path("device.nut").exists() and not PROJECT.exists()
    assert Path(".impt.auth").exists()


def test_all_deletes_the_group_its_builds_and_the_product_it_was_alone_in(logged_in, api):
    w = app_project(api)
    dg_id, old, new = w["dg"]["id"], w["old"]["id"], w["new"]["id"]
    r = logged_in("project delete --all", stdin="y\n")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[:3] == [
        "The following entities will be deleted:",
        "Product: ",
        "  id:   " + w["product"]["id"],
    ]
    assert out.index("Device Group: ") < out.index("Deployment: ")
    assert "The following Devices will be unassigned from Device Groups:" in out
    flagged = out.index(
        'The following Deployments are marked "flagged" to prevent deleting. They will be '
        'modified by setting "flagged" attribute to false:'
    )
    assert out[flagged + 2] == f"  id:      {new}"
    assert "Device/agent source files: device.nut, agent.nut" in out
    done = out[out.index(QUESTION[1] + "y") + 2 :]
    assert done[:4] == [
        f'Device "{w["device"]["id"]}" is unassigned successfully.',
        f'Deployment "{new}" is updated successfully.',
        f'Device Group "{dg_id}" is deleted successfully.',
        f'Product "{w["product"]["id"]}" is deleted successfully.',
    ]
    # impCentral deletes a group's deployments with it
    assert sorted(done[4:6]) == sorted(
        [f'Deployment "{old}" is already deleted.', f'Deployment "{new}" is already deleted.']
    )
    assert done[6:] == [
        'Device/agent source files "device.nut", "agent.nut" are deleted successfully.',
        "Project is deleted successfully.",
        OK,
    ]
    assert not exists(api, "product", w["product"]) and not exists(api, "dg", dg_id)
    assert "devicegroup" not in api.device(w["device"])["relationships"]
    assert not PROJECT.exists() and not Path("device.nut").exists()


def test_entities_keeps_a_product_other_groups_and_devices_depend_on(logged_in, api):
    w = app_project(api)
    other = api.dg(w["product"], "OtherDG")
    other_device = api.assign(other, api.devices()[1])[0]
    r = logged_in("project delete --entities -q")
    assert r.status == 0, r.out
    assert "Product" not in r.out and "files" not in r.out
    assert exists(api, "product", w["product"]) and exists(api, "dg", other)
    assert api.device(other_device)["relationships"]["devicegroup"]["id"] == other["id"]
    assert not exists(api, "dg", w["dg"]) and Path("device.nut").exists()


def test_a_declined_deletion_changes_nothing(logged_in, api):
    w = app_project(api)
    r = logged_in("project delete --all", stdin="n\n")
    assert r.status == 1 and lines(r.out)[-2:] == [CANCELED, FAILS]
    assert exists(api, "dg", w["dg"]) and exists(api, "product", w["product"])
    assert api.entity("build", w["new"])["attributes"]["flagged"] is True
    assert api.device(w["device"])["relationships"]["devicegroup"]["id"] == w["dg"]["id"]
    assert PROJECT.exists() and Path("device.nut").read_text() == "// device"


def fixture_project(api: SimApi, *, shared_target: bool) -> dict:
    product = api.product("P")
    pp = api.dg(product, "PP", PRE_PROD)
    pd = api.dg(product, "PD", PRE_DUT)
    fixture = api.dg(product, "F", PRE_FACTORY, production_target=pp, dut_target=pd)
    world = {"product": product, "pp": pp, "pd": pd, "fixture": fixture}
    if shared_target:
        pd2 = api.dg(product, "PD2", PRE_DUT)
        world["other"] = api.dg(product, "F2", PRE_FACTORY, production_target=pp, dut_target=pd2)
    write_project(fixture, "f.device.nut", "f.agent.nut")
    return world


def test_entities_of_a_pre_factory_project_take_its_targets_and_product(logged_in, api):
    w = fixture_project(api, shared_target=False)
    r = logged_in("project delete --entities -q")
    assert r.status == 0, r.out
    assert lines(r.out)[:4] == [
        f'Device Group "{w["fixture"]["id"]}" is deleted successfully.',
        f'Device Group "{w["pp"]["id"]}" is deleted successfully.',
        f'Device Group "{w["pd"]["id"]}" is deleted successfully.',
        f'Product "{w["product"]["id"]}" is deleted successfully.',
    ]
    assert api.client.list("/products") == []


def test_a_target_another_fixture_uses_is_kept(logged_in, api):
    w = fixture_project(api, shared_target=True)
    r = logged_in("project delete --entities -q")
    assert r.status == 0, r.out
    assert not exists(api, "dg", w["fixture"]) and not exists(api, "dg", w["pd"])
    for kept in ("pp", "other", "product"):
        assert exists(api, "dg" if kept != "product" else "product", w[kept]), kept


def test_a_group_deleted_elsewhere_leaves_only_files_to_delete(logged_in, api):
    w = app_project(api)
    api.update_build(w["new"], flagged=False)
    api.client.delete(
        f"/devicegroups/{w['dg']['id']}/relationships/devices",
        {"data": [{"type": "device", "id": w["device"]["id"]}]},
    )
    api.delete("dg", w["dg"])
    r = logged_in("project delete --all -q")
    assert r.status == 0, r.out
    assert lines(r.out) == [
        'Device/agent source files "device.nut", "agent.nut" are deleted successfully.',
        "Project is deleted successfully.",
        OK,
    ]
    assert exists(api, "product", w["product"])


def test_a_broken_project_file_can_be_deleted_alone(logged_in, api):
    Path("device.nut").write_text("// mine")
    PROJECT.write_text('{"productId": "from an old tool"}')
    for option in ("--files", "--entities", "--all"):
        r = logged_in(f"project delete {option} -q")
        assert r.status == 1
        assert lines(r.out) == [
            "Error: Project File is corrupted, so the files and entities it links are unknown. "
            'Run "impt project delete" without --files, --entities or --all to delete only the '
            "Project File.",
            FAILS,
        ]
        assert PROJECT.exists() and Path("device.nut").exists()
    r = logged_in("project delete", stdin="y\n")
    assert r.status == 0 and not PROJECT.exists() and Path("device.nut").exists()


def test_a_directory_in_the_project_files_place_is_not_deleted(logged_in):
    PROJECT.mkdir()
    r = logged_in("project delete -q")
    assert r.status == 1 and "is a directory, not a Project File." in lines(r.out)[0]
    assert PROJECT.is_dir()
