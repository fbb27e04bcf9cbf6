"""`project create|link|info|update` against the simulator (commands.md §7, §11.9): the
Project file, the source files, the Device Groups made, and bad input changing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CANCELED, DEV, FAILS, OK, SimApi, lines, write_project

PRE_FACTORY = "pre_factoryfixture_devicegroup"
PRE_PROD = "pre_production_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
PROJECT = Path(".impt.project")


def project_file() -> dict:
    text = PROJECT.read_text()
    assert not text.endswith("\n")
    return json.loads(text)


def groups(api: SimApi) -> dict[str, dict]:
    return {g["attributes"]["name"]: g for g in api.client.list("/devicegroups")}


def nothing_created(api: SimApi, *files: str) -> bool:
    return (
        api.client.list("/devicegroups") == []
        and not PROJECT.exists()
        and not any(Path(f).exists() for f in files)
    )


# ============================================================================ create


def test_create_writes_the_project_and_its_empty_source_files(logged_in, api):
    product = api.product("MyProduct")
    r = logged_in("project create --product MyProduct --name MyDG --descr 'My app'")
    assert r.status == 0, r.out
    dg = groups(api)["MyDG"]
    assert dg["type"] == DEV and dg["attributes"]["description"] == "My app"
    assert dg["relationships"]["product"]["id"] == product["id"]
    out = lines(r.out)
    assert out[:4] == [
        'Device Group "MyDG" is created successfully.',
        'Device source file "device.nut" is created successfully.',
        'Agent source file "agent.nut" is created successfully.',
        "Project is created successfully.",
    ]
    assert out[4:8] == ["Project: ", "  Device file:  device.nut", "  Agent file:   agent.nut"] + [
        "  Device Group: "
    ]
    assert f"    id:          {dg['id']}" in out and "    type:        development" in out
    assert out[-4:] == [
        "    Product: ",
        f"      id:   {product['id']}",
        "      name: MyProduct",
        OK,
    ]
    assert list(project_file().items()) == [
        ("deviceGroupId", dg["id"]),
        ("deviceFile", "device.nut"),
        ("agentFile", "agent.nut"),
    ]
    assert PROJECT.read_text() == json.dumps(project_file(), indent=2)
    assert Path("device.nut").read_text() == "" and Path("agent.nut").read_text() == ""


def test_create_shows_the_group_the_server_answered_without_fetching_it_again(logged_in, api):
    api.product("MyProduct")
    logged_in("account info")  # the current account is known already
    sent = logged_in.record_requests()
    r = logged_in("project create --product MyProduct --name MyDG")
    assert r.status == 0, r.out
    new = project_file()["deviceGroupId"]
    assert sent.calls == [("GET", "/products"), ("POST", "/devicegroups")], sent.calls
    assert f"    id:          {new}" in lines(r.out)


def test_create_keeps_existing_source_files_and_creates_the_product(logged_in, api):
    Path("app.device.nut").write_text('server.log("kept");')
    r = logged_in(
        "project create -p NewProduct -c -n D1 -x app.device.nut -y app.agent.nut -z debug"
    )
    assert r.status == 0, r.out
    assert 'Product "NewProduct" is created successfully.' in r.out
    assert 'Device source file "app.device.nut"' not in r.out
    assert 'Agent source file "app.agent.nut" is created successfully.' in r.out
    assert Path("app.device.nut").read_text() == 'server.log("kept");'
    assert [p["attributes"]["name"] for p in api.client.list("/products")] == ["NewProduct"]
    assert project_file()["deviceFile"] == "app.device.nut"


def test_create_json_and_minimal_print_only_the_project(logged_in, api):
    api.product("P")
    r = logged_in("project create -p P -n D1 -z json")
    data = json.loads(r.out)
    assert list(data["Project"]) == ["Device file", "Agent file", "Device Group"]
    assert data["Project"]["Device Group"]["Product"]["name"] == "P"
    r = logged_in("project create -p P -n D2 -q -z minimal")
    assert lines(r.out)[0] == "Project: " and "created successfully" not in r.out


def test_create_pre_factory_creates_the_targets_in_impts_order(logged_in, api):
    api.product("MyProduct")
    r = logged_in(
        "project create --pre-factory --product MyProduct --name MyPreFactoryDG "
        '--descr "Factory Firmware" --dut MyPreDUTDG --create-dut '
        "--target MyPreProductionDG --create-target "
        "--device-file factory.device.nut --agent-file factory.agent.nut"
    )
    assert r.status == 0, r.out
    assert lines(r.out)[:3] == [
        'Device Group "MyPreProductionDG" is created successfully.',
        'Device Group "MyPreDUTDG" is created successfully.',
        'Device Group "MyPreFactoryDG" is created successfully.',
    ]
    made = groups(api)
    fixture = made["MyPreFactoryDG"]
    assert fixture["type"] == PRE_FACTORY
    assert made["MyPreProductionDG"]["type"] == PRE_PROD
    assert made["MyPreDUTDG"]["type"] == PRE_DUT
    rels = fixture["relationships"]
    assert rels["production_target"]["id"] == made["MyPreProductionDG"]["id"]
    assert rels["dut_target"]["id"] == made["MyPreDUTDG"]["id"]
    out = lines(r.out)
    target = out.index("    Production Target: ")
    assert out[target + 3] == "      name: MyPreProductionDG"
    assert out[out.index("    DUT Target: ") + 3] == "      name: MyPreDUTDG"


def test_create_pre_factory_uses_existing_targets(logged_in, api):
    product = api.product("P")
    pp = api.dg(product, "PP", PRE_PROD)
    pd = api.dg(product, "PD", PRE_DUT)
    r = logged_in("project create -p P -n F -f -t PP -r -u PD -w")
    assert r.status == 0, r.out
    assert lines(r.out)[0] == 'Device Group "F" is created successfully.'
    rels = groups(api)["F"]["relationships"]
    assert (rels["production_target"]["id"], rels["dut_target"]["id"]) == (pp["id"], pd["id"])


def test_create_pre_dut(logged_in, api):
    api.product("P")
    r = logged_in("project create -p P -n DutDev --pre-dut")
    assert r.status == 0, r.out
    assert groups(api)["DutDev"]["type"] == PRE_DUT
    assert "    type:        pre-dut" in lines(r.out)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-f -t T", 'Options "--pre-factory" and "--dut" must be specified together.'),
        ("-f -u D", 'Options "--pre-factory" and "--target" must be specified together.'),
        ("-t T", 'Options "--pre-factory" and "--target" must be specified together.'),
        ("-u D", 'Options "--pre-factory" and "--dut" must be specified together.'),
        ("-f --pre-dut -t T -u D", 'Options "--pre-factory" and "--pre-dut" are mutually'),
        ("", "Missing required argument: name"),
    ],
)
def test_create_syntax_checks(logged_in, api, line, message):
    name = "" if "required" in message else "-n D"
    r = logged_in(f"project create -p P {name} {line}")
    assert r.status == 1 and f"Error: {message}" in r.out and r.out.rstrip().endswith(FAILS)
    assert "Usage: impt project create --product <PRODUCT_IDENTIFIER>" in r.out


def test_create_bad_references_create_nothing(logged_in, api):
    product = api.product("P")
    other = api.product("Other")
    api.dg(other, "ForeignPP", PRE_PROD)
    api.dg(product, "Dev", DEV)
    for line, message in [
        ("-p Nope -n D", 'Product "Nope" is not found.'),
        ("-p P -n D -f -t PP -u PD -w", 'Production Target Device Group "PP" is not found.'),
        ("-p P -n D -f -t PP -r -u PD", 'DUT Target Device Group "PD" is not found.'),
        (
            "-p P -n D -f -t Dev -u PD -w",
            'Production Target Device Group "Dev" is of the type "development" but must be '
            'of the type "pre-production".',
        ),
        (
            "-p P -n D -f -t ForeignPP -u PD -w",
            "Production Target Device Group must be from the same Product.",
        ),
        (
            "-p New -c -n D -f -t ForeignPP -u PD -w",
            "Production Target Device Group must be from the same Product.",
        ),
    ]:
        r = logged_in(f"project create {line}")
        assert r.status == 1, line
        assert lines(r.out) == [f"Error: {message}", FAILS], line
        assert sorted(groups(api)) == ["Dev", "ForeignPP"], line
        assert [p["attributes"]["name"] for p in api.client.list("/products")] == ["P", "Other"]
        assert not PROJECT.exists() and not Path("device.nut").exists()


def test_create_over_an_existing_project_asks_first(logged_in, api):
    api.product("P")
    write_project("old-group", "old.nut", "old.agent.nut")
    before = PROJECT.read_text()
    r = logged_in("project create -p P -n D1", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == [
        "The current directory already contains Project File. It will be overwritten.",
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        CANCELED,
        FAILS,
    ]
    assert PROJECT.read_text() == before and groups(api) == {}
    r = logged_in("project create -p P -n D1", stdin="y\n")
    assert r.status == 0 and project_file()["deviceGroupId"] == groups(api)["D1"]["id"]
    r = logged_in("project create -p P -n D2 -q")
    assert r.status == 0 and "Are you sure" not in r.out
    assert project_file()["deviceGroupId"] == groups(api)["D2"]["id"]


def test_create_over_a_broken_project_file_asks_too(logged_in, api):
    api.product("P")
    PROJECT.write_text("{ broken")
    r = logged_in("project create -p P -n D1", stdin="n\n")
    assert r.status == 1 and "already contains Project File" in r.out
    assert PROJECT.read_text() == "{ broken"
    assert logged_in("project create -p P -n D1 -q").status == 0
    assert project_file()["deviceGroupId"] == groups(api)["D1"]["id"]


def test_create_refuses_what_could_not_be_written_before_creating_anything(logged_in, api):
    api.product("P")
    Path("src").mkdir()
    for option, message in [
        ("-x lib/device.nut", 'File error: lib/device.nut: directory "lib" does not exist.'),
        ("-y src", "File error: src: is a directory, not a source file."),
    ]:
        r = logged_in(f"project create -p P -n D1 {option}")
        assert lines(r.out) == [f"Error: {message}", FAILS] and r.status == 1
        assert nothing_created(api, "device.nut", "agent.nut")
    PROJECT.mkdir()
    r = logged_in("project create -p P -n D1 -q")
    assert r.status == 1
    assert lines(r.out)[0].endswith(".impt.project: is a directory, not a Project File.")
    assert groups(api) == {}


# ============================================================================== link


def test_link_to_an_existing_group(logged_in, api):
    product = api.product("MyProduct")
    dg = api.dg(product, "MyDG", descr="New description of my DG")
    r = logged_in("project link --dg MyDG")
    assert r.status == 0, r.out
    assert lines(r.out)[:7] == [
        'Device source file "device.nut" is created successfully.',
        'Agent source file "agent.nut" is created successfully.',
        "Project is linked successfully.",
        "Project: ",
        "  Device file:  device.nut",
        "  Agent file:   agent.nut",
        "  Device Group: ",
    ]
    assert "    description: New description of my DG" in lines(r.out)
    assert project_file() == {
        "deviceGroupId": dg["id"],
        "deviceFile": "device.nut",
        "agentFile": "agent.nut",
    }


def test_link_checks_the_type_and_asks_before_replacing(logged_in, api):
    product = api.product("P")
    api.dg(product, "PP", PRE_PROD)
    pd = api.dg(product, "PD", PRE_DUT)
    r = logged_in("project link -g PP")
    assert lines(r.out) == [
        'Error: Project can not be linked to Device Group of the type "pre-production". '
        'Only "development", "pre-factory" or "pre-dut" Device Groups are allowed.',
        FAILS,
    ]
    assert not PROJECT.exists() and not Path("device.nut").exists()
    r = logged_in("project link -g Nope")
    assert lines(r.out) == ['Error: Device Group "Nope" is not found.', FAILS]
    assert logged_in("project link -g PD -x d.nut -y a.nut").status == 0
    r = logged_in("project link -g PD", stdin="n\n")
    assert r.status == 1 and CANCELED in r.out and not Path("device.nut").exists()
    assert project_file() == {
        "deviceGroupId": pd["id"],
        "deviceFile": "d.nut",
        "agentFile": "a.nut",
    }


# ============================================================================== info


def test_info_and_info_full(logged_in, api):
    product = api.product("P")
    dg = api.dg(product, "D")
    device = api.assign(dg, api.devices()[0])[0]
    build = api.deploy(dg, 'server.log("x");', tags=["T1"])
    write_project(dg, "device.nut", "agent.nut")
    r = logged_in("project info")
    out = lines(r.out)
    assert out[:4] == ["Project: ", "  Device file:  device.nut", "  Agent file:   agent.nut"] + [
        "  Device Group: "
    ]
    assert "    Current Deployment: " in out and "    Devices: " not in out and "Auth: " not in out
    r = logged_in("project info --full")
    out = lines(r.out)
    assert (
        "    Devices: " in out and f"        name:          {device['attributes']['name']}" in out
    )
    auth = out.index("Auth: ")
    assert out[auth + 1 : auth + 3] == [
        "  Auth type:                 Global Auth file",
        f"  impCentral API endpoint:   {api.sim.base_url}",
    ]
    data = json.loads(logged_in("project info -u -z json").out)
    assert list(data) == ["Project", "Auth"]
    group = data["Project"]["Device Group"]
    assert group["Current Deployment"]["id"] == build["id"]
    assert group["Devices"][0]["Device"]["id"] == device["id"]
    assert data["Auth"]["Username"] == "demo"


def test_info_without_a_usable_project(logged_in, api):
    r = logged_in("project info")
    assert lines(r.out) == ["Error: Project File is not found in the current directory.", FAILS]
    for broken in ("{ no json", "[]", '{"deviceGroupId": ""}', '{"deviceGroupId": 7}'):
        PROJECT.write_text(broken)
        r = logged_in("project info")
        assert lines(r.out) == ["Error: Project File is corrupted.", FAILS], broken
        assert r.status == 1
    PROJECT.write_text('{"deviceGroupId": "d", "deviceFile": ["x"]}')
    assert lines(logged_in("project info").out)[0] == "Error: Project File is corrupted."
    write_project("27f8ee81-59cd-a9ad-d2a4-e430e4e19ae9", "device.nut", "agent.nut")
    r = logged_in("project info")
    assert lines(r.out) == [
        'Error: Device Group "27f8ee81-59cd-a9ad-d2a4-e430e4e19ae9", saved in Project File, '
        "does not exist anymore.",
        "Impossible to execute the command.",
        'Use "impt project delete" command to delete the outdated Project.',
        FAILS,
    ]


# ============================================================================ update


def test_update_the_group_and_the_files(logged_in, api):
    product = api.product("P")
    dg = api.dg(product, "MyDG")
    write_project(dg, "device.nut", "agent.nut")
    data = project_file()
    data["extra"] = {"kept": True}
    PROJECT.write_text(json.dumps(data, indent=2))
    Path("agent.nut").write_text("// agent")
    r = logged_in('project update --descr "New description of my DG" --device-file device1.nut')
    assert r.status == 0, r.out
    assert lines(r.out)[:5] == [
        f'Device Group "{dg["id"]}" is updated successfully.',
        'Device source file "device1.nut" is created successfully.',
        "Project is updated successfully.",
        "Project: ",
        "  Device file:  device1.nut",
    ]
    assert "    description: New description of my DG" in lines(r.out)
    assert api.entity("dg", dg)["attributes"]["description"] == "New description of my DG"
    assert project_file() == {
        "deviceGroupId": dg["id"],
        "deviceFile": "device1.nut",
        "agentFile": "agent.nut",
        "extra": {"kept": True},
    }
    assert Path("agent.nut").read_text() == "// agent" and not Path("device.nut").exists()
    r = logged_in("project update --name Renamed -z json")
    assert json.loads(r.out)["Project"]["Device Group"]["name"] == "Renamed"


def test_update_with_nothing_for_the_group_sends_no_update(logged_in, api):
    dg = api.dg(api.product("P"), "D", descr="keep")
    write_project(dg, "d.nut", "a.nut")
    recorder = logged_in.record_requests()
    r = logged_in("project update --descr '' -y other.nut")
    assert r.status == 0, r.out
    assert not any(method == "PATCH" for method, _ in recorder.calls)
    assert "is updated successfully" not in lines(r.out)[0]
    assert api.entity("dg", dg)["attributes"]["description"] == "keep"
    assert Path("d.nut").exists() and Path("other.nut").exists()


def test_update_bad_input_changes_nothing(logged_in, api):
    product = api.product("P")
    dg = api.dg(product, "D", descr="keep")
    api.dg(product, "PP", PRE_PROD)
    r = logged_in("project update --descr x")
    assert lines(r.out) == ["Error: Project File is not found in the current directory.", FAILS]
    write_project(dg, "d.nut", "a.nut")
    before = PROJECT.read_text()
    for line, message in [
        (
            "--descr x --target PP",
            'Invalid option "--target" for Device Group of the type "development". It may be '
            'specified for "pre-factory" or "factory" Device Groups only.',
        ),
        ("--descr x -x nodir/d.nut", 'File error: nodir/d.nut: directory "nodir" does not exist.'),
    ]:
        r = logged_in(f"project update {line}")
        assert lines(r.out) == [f"Error: {message}", FAILS] and r.status == 1
        assert PROJECT.read_text() == before
        assert api.entity("dg", dg)["attributes"]["description"] == "keep"
        assert not Path("d.nut").exists()
    api.delete("dg", dg)
    r = logged_in("project update --descr x -x new.nut")
    assert r.status == 1 and "saved in Project File, does not exist anymore." in r.out
    assert PROJECT.read_text() == before and not Path("new.nut").exists()


def test_project_files_are_written_atomically(logged_in, api, monkeypatch):
    """A failure while the Project file is written leaves the old one whole."""
    dg = api.dg(api.product("P"), "D")
    write_project(dg, "d.nut", "a.nut")
    before = PROJECT.read_text()

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    r = logged_in("project update -y other.nut")
    assert r.status == 1 and "No space left on device" in r.out
    assert PROJECT.read_text() == before
    assert sorted(p.name for p in Path().iterdir() if p.name.startswith(".impt")) == [
        ".impt.project"
    ]


def test_without_a_terminal_nothing_is_overwritten_or_deleted(logged_in, api, sim, home):
    """A question nobody can answer (a one-shot command with no terminal and no -q) stops
    the command before it changes anything."""
    dg = api.dg(api.product("P"), "D")
    write_project(dg, "d.nut", "a.nut")
    Path("d.nut").write_text("// mine")
    before = PROJECT.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    for line in ("project create -p P -n New", "project link -g D", "project delete --all"):
        done = subprocess.run(
            [sys.executable, "-m", "imptsh", *line.split()],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,  # no controlling terminal
        )
        assert done.returncode == 1, done.stdout
        assert done.stdout.rstrip().endswith(FAILS)
        assert PROJECT.read_text() == before and Path("d.nut").read_text() == "// mine"
        assert sorted(groups(api)) == ["D"]


def test_update_the_targets_of_a_pre_factory_project(logged_in, api):
    product = api.product("P")
    old_pp, old_pd = api.dg(product, "PP", PRE_PROD), api.dg(product, "PD", PRE_DUT)
    fixture = api.dg(product, "F", PRE_FACTORY, production_target=old_pp, dut_target=old_pd)
    new_pp, new_pd = api.dg(product, "PP2", PRE_PROD), api.dg(product, "PD2", PRE_DUT)
    write_project(fixture, "d.nut", "a.nut")
    r = logged_in("project update --target PP2 --dut PD2")
    assert r.status == 0, r.out
    assert lines(r.out)[0] == f'Device Group "{fixture["id"]}" is updated successfully.'
    rels = api.entity("dg", fixture)["relationships"]
    assert (rels["production_target"]["id"], rels["dut_target"]["id"]) == (
        new_pp["id"],
        new_pd["id"],
    )
    out = lines(r.out)
    assert out[out.index("    Production Target: ") + 3] == "      name: PP2"
    r = logged_in("project update --dut PP2")
    assert lines(r.out)[0] == (
        'Error: DUT Target Device Group "PP2" is of the type "pre-production" but must be of '
        'the type "pre-dut".'
    )
    assert api.entity("dg", fixture)["relationships"]["dut_target"]["id"] == new_pd["id"]
