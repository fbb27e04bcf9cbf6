"""`dg` commands against the simulator (commands.md §11.5, §3.2, §9.3)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests

from imptsh.logs import StreamSink
from tests.conftest import CANCELED, DEV, FAILS, OK, SimApi, lines, sim_control, write_project

PROD = "production_devicegroup"
PRE_PROD = "pre_production_devicegroup"
DUT = "dut_devicegroup"
PRE_DUT = "pre_dut_devicegroup"
FACTORY = "factoryfixture_devicegroup"
PRE_FACTORY = "pre_factoryfixture_devicegroup"


@pytest.fixture
def p1(api: SimApi) -> str:
    return api.product("P1")["id"]


def device_ids(api: SimApi, n: int) -> list[str]:
    return [d["id"] for d in api.devices()[:n]]


def more_devices(sim, n: int) -> None:
    requests.post(f"{sim.root_url}/_sim/devices", json={"count": n}, timeout=10).raise_for_status()


# =============================================================================== create


def test_create_default_output(logged_in, api, p1):
    r = logged_in("dg create --name D1 --product P1")
    assert r.status == 0, r.out
    dg_id = api.client.list("/devicegroups")[0]["id"]
    assert lines(r.out) == [
        'Device Group "D1" is created successfully.',
        "Device Group: ",
        f"  id:   {dg_id}",
        "  type: development",
        "  name: D1",
        OK,
    ]
    dg = api.entity("dg", dg_id)
    assert dg["type"] == DEV
    assert dg["relationships"]["product"]["id"] == p1


def test_create_minimal_json_debug(logged_in, api, p1):
    r = logged_in("dg create --name D1 -p P1 -y pre-production -s Desc -r eu -z minimal")
    assert r.status == 0
    assert lines(r.out)[0] == "Device Group: "
    assert "  type: pre-production" in lines(r.out)
    assert "created successfully" not in r.out and OK not in r.out
    r = logged_in(["dg", "create", "--name", "D2", "--product", "P1", "-z", "json"])
    assert r.status == 0
    data = json.loads(r.out)
    assert list(data["Device Group"]) == ["id", "type", "name"]
    assert data["Device Group"]["name"] == "D2"
    r = logged_in("dg create --name D3 --product P1 -z debug")
    assert r.status == 0
    assert "Doing the request with options:" in r.out
    assert 'Device Group "D3" is created successfully.' in r.out
    assert r.out.rstrip().endswith(OK)
    d1 = next(g for g in api.client.list("/devicegroups") if g["attributes"]["name"] == "D1")
    assert d1["attributes"]["description"] == "Desc"
    assert d1["attributes"]["region"] == "eu"


def test_create_post_body(logged_in, api, p1):
    r = logged_in(
        ["dg", "create", "-n", "D1", "-p", "P1", "-e", '{"a": "1", "n": 2}', "-z", "debug"]
    )
    assert r.status == 0, r.out
    start = r.out.index("Doing the request with options:")
    post = r.out[start:]
    post = post[post.index('"method": "POST"') :]
    assert '"type": "development_devicegroup"' in post
    assert '"env_vars": {' in post
    dg = api.client.list("/devicegroups")[0]
    assert dg["attributes"]["env_vars"] == {"a": "1", "n": 2}
    assert dg["attributes"]["description"] == ""  # not sent: the server's default


def test_create_project_default_product(logged_in, api, p1):
    d0 = api.dg(p1, "D0")["id"]
    write_project(d0)
    r = logged_in("dg create --name D1")
    assert r.status == 0, r.out
    d1 = next(g for g in api.client.list("/devicegroups") if g["attributes"]["name"] == "D1")
    assert d1["relationships"]["product"]["id"] == p1


def test_create_no_product(logged_in, api, p1):
    r = logged_in("dg create --name D1")
    assert r.status == 1
    assert lines(r.out) == ["Error: No Product Identifier is specified.", FAILS]
    r = logged_in("dg create --name D1 --product nope")
    assert lines(r.out) == ['Error: Product "nope" is not found.', FAILS]
    r = logged_in("dg create --name D1 --product nope -z json")
    assert json.loads(r.out) == {"Error": 'Product "nope" is not found.'}
    assert api.client.list("/devicegroups") == []


def test_create_duplicate_name(logged_in, api, p1):
    api.dg(p1, "D1")
    r = logged_in("dg create --name D1 --product P1")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Duplicate Resource: Devicegroups must have unique names.",
        FAILS,
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "dg create --name F --dg-type factory --target T",
            'Option "--dut" must be specified for Device Group of type "factory".',
        ),
        (
            "dg create --name F --dg-type pre-factory --dut T",
            'Option "--target" must be specified for Device Group of type "pre-factory".',
        ),
        (
            "dg create --name F --region eu",
            'Invalid option "--region" for Device Group of the type "development". It may be '
            'specified for "pre-production" or "production" Device Groups only.',
        ),
        (
            "dg create --name F -y dut -r eu",
            'Invalid option "--region" for Device Group of the type "dut". It may be '
            'specified for "pre-production" or "production" Device Groups only.',
        ),
        (
            "dg create --name F -y nope",
            'Invalid values:\n  Argument: dg-type, Given: "nope", Choices: "development", '
            '"pre-factory", "pre-dut", "pre-production", "factory", "dut", "production"',
        ),
        ("dg create --dg-type dut", "Missing required argument: name"),
        ('dg create --name ""', 'Option "--name" must not be empty.'),
        ("dg create --name N --env-variable", "Not enough arguments following: env-variable"),
    ],
)
def test_create_syntax_errors(logged_in, api, line, message):
    r = logged_in(line)
    assert r.status == 1
    assert r.out.endswith(f"\nError: {message}\n{FAILS}\n"), r.out
    assert "Usage: impt dg create --name <device_group_name> [--dg-type" in r.out
    assert api.client.list("/devicegroups") == []


def test_create_usage_line(logged_in):
    r = logged_in("dg create --help")
    assert r.status == 0
    usage = " ".join(r.out.split("\n\n")[0].split())
    assert usage == (
        "Usage: impt dg create --name <device_group_name> [--dg-type <device_group_type>] "
        "[--product <PRODUCT_IDENTIFIER>] [--descr <device_group_description>] "
        "[--dut <DEVICE_GROUP_IDENTIFIER>] [--target <DEVICE_GROUP_IDENTIFIER>] "
        "[--region <region_name>] [--output <mode>] [--env-variable] [--help]"
    )


def test_create_factory_targets(logged_in, api, p1):
    prod = api.dg(p1, "Prod", PROD)["id"]
    dut = api.dg(p1, "Dut", DUT)["id"]
    r = logged_in("dg create --name F --product P1 -y factory --target Prod --dut Dut")
    assert r.status == 0, r.out
    assert "  type: factory" in lines(r.out)
    f = next(g for g in api.client.list("/devicegroups") if g["attributes"]["name"] == "F")
    assert f["relationships"]["production_target"] == {"type": PROD, "id": prod}
    assert f["relationships"]["dut_target"] == {"type": DUT, "id": dut}


def test_create_pre_factory_targets(logged_in, api, p1):
    api.dg(p1, "PreProd", PRE_PROD)
    api.dg(p1, "PreDut", PRE_DUT)
    api.dg(p1, "Prod", PROD)
    api.dg(p1, "Dut", DUT)
    r = logged_in("dg create --name F -p P1 -y pre-factory -t Prod -u PreDut")
    assert lines(r.out) == [
        'Error: Production Target Device Group "Prod" is of the type "production" but must be '
        'of the type "pre-production".',
        FAILS,
    ]
    r = logged_in("dg create --name F -p P1 -y pre-factory -t PreProd -u Dut")
    assert lines(r.out) == [
        'Error: DUT Target Device Group "Dut" is of the type "dut" but must be of the type '
        '"pre-dut".',
        FAILS,
    ]
    r = logged_in("dg create --name F -p P1 -y pre-factory -t PreProd -u PreDut")
    assert r.status == 0, r.out
    assert "  type: pre-factory" in lines(r.out)


def test_create_target_errors(logged_in, api, p1):
    p2 = api.product("P2")["id"]
    api.dg(p1, "Prod", PROD)
    api.dg(p2, "OtherDut", DUT)
    api.dg(p1, "Dev")
    cases = [
        (
            "dg create --name F -p P1 --target Prod",
            'Invalid option "--target" for Device Group of the type "development". It may be '
            'specified for "pre-factory" or "factory" Device Groups only.',
        ),
        (
            "dg create --name F -p P1 -y production --dut Prod",
            'Invalid option "--dut" for Device Group of the type "production". It may be '
            'specified for "pre-factory" or "factory" Device Groups only.',
        ),
        (
            "dg create --name F -p P1 -y factory --target nope --dut OtherDut",
            'Production Target Device Group "nope" is not found.',
        ),
        (
            "dg create --name F -p P1 -y factory --target Prod --dut nope",
            'DUT Target Device Group "nope" is not found.',
        ),
        (
            "dg create --name F -p P1 -y factory --target Dev --dut OtherDut",
            'Production Target Device Group "Dev" is of the type "development" but must be of '
            'the type "production".',
        ),
        (
            "dg create --name F -p P1 -y factory --target Prod --dut OtherDut",
            "DUT Target Device Group must be from the same Product.",
        ),
        (
            "dg create --name F -p P2 -y factory --target Prod --dut OtherDut",
            "Production Target Device Group must be from the same Product.",
        ),
    ]
    for line, message in cases:
        r = logged_in(line)
        assert r.status == 1
        assert lines(r.out) == [f"Error: {message}", FAILS], line
    assert len(api.client.list("/devicegroups")) == 3


def test_create_invalid_env_variable(logged_in, api, p1, capsys):
    r = logged_in(["dg", "create", "--name", "D1", "-p", "P1", "--env-variable", "abc"])
    assert r.status == 1
    assert lines(r.out) == ["Error: Unexpected token 'a', \"abc\" is not valid JSON", FAILS]
    assert capsys.readouterr().err == "Invalid JSON string: abc\n"
    r = logged_in(["dg", "create", "--name", "D1", "-p", "P1", "-e", '{"a":1 "b":2}', "-z", "json"])
    assert json.loads(r.out) == {
        "Error": "Expected ',' or '}' after property value in JSON at position 7"
    }
    assert capsys.readouterr().err == 'Invalid JSON string: {"a":1 "b":2}\n'
    assert api.client.list("/devicegroups") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "Unexpected token 'a', \"abc\" is not valid JSON"),
        ("{a:1}", "Expected property name or '}' in JSON at position 1"),
        ('{"a":1,}', "Expected double-quoted property name in JSON at position 7"),
        ('{"a" 1}', "Expected ':' after property name in JSON at position 5"),
        ("[1 2]", "Expected ',' or ']' after array element in JSON at position 3"),
        ('{"a":1} x', "Unexpected non-whitespace character after JSON at position 8"),
        ("{", "Unexpected end of JSON input"),
        ("", "Unexpected end of JSON input"),
        ("tru", "Unexpected end of JSON input"),
        ("[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"),
        ('{"a":', "Unexpected end of JSON input"),
        ('{"a":"b', "Unterminated string in JSON at position 7"),
        (
            '{"key1": "v", "key2": xyz}',
            'Unexpected token \'x\', ...", "key2": xyz}" is not valid JSON',
        ),
        ("trux", "Unexpected token 'x', \"trux\" is not valid JSON"),
        (
            '{"key1": "value1", "k": ?, "key3": 1}',
            'Unexpected token \'?\', ..."e1", "k": ?, "key3":"... is not valid JSON',
        ),
    ],
)
def test_js_json_messages(text, message):
    import json as _json

    from imptsh.commands.env_variable import js_json_error

    with pytest.raises(_json.JSONDecodeError) as info:
        _json.loads(text)
    assert js_json_error(text, info.value) == message


# =============================================================================== builds


@pytest.fixture
def builds_dg(api, p1):
    """D with b1 (flagged), b2, b3 (min supported), b4 (flagged, current)."""
    dg = api.dg(p1, "D")["id"]
    b = [
        api.deploy(dg, flagged=True)["id"],
        api.deploy(dg)["id"],
        api.deploy(dg)["id"],
        api.deploy(dg, flagged=True)["id"],
    ]
    api.set_min(dg, b[2])
    return dg, b


def test_builds_list(logged_in, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == "Deployment list (4 items):"
    assert sum(1 for line in out if line == "Deployment: ") == 4
    assert out[-1] == OK
    r = logged_in("dg builds -g D -z json")
    data = json.loads(r.out)
    assert sorted(x["Deployment"]["id"] for x in data) == sorted(b)
    assert all(x["Deployment"]["Device Group"]["name"] == "D" for x in data)


def test_builds_unflag_old(logged_in, api, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D --unflag-old")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == f'Deployment "{b[0]}" is updated successfully.'
    assert out[1] == "Deployment list (4 items):"
    assert api.entity("build", b[0])["attributes"]["flagged"] is False
    assert api.entity("build", b[3])["attributes"]["flagged"] is True
    r = logged_in("dg builds --dg D -o")
    assert lines(r.out)[0] == 'No "flagged" Deployments are found for Device Group "D".'


def test_builds_unflag_all(logged_in, api, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D --unflag --unflag-old -z minimal")
    assert r.status == 0
    assert "updated successfully" not in r.out
    assert lines(r.out)[0] == "Deployment: "
    assert api.entity("build", b[0])["attributes"]["flagged"] is False
    assert api.entity("build", b[3])["attributes"]["flagged"] is False


def test_builds_remove_confirmed_by_yes(logged_in, api, builds_dg):
    dg, b = builds_dg
    sha = api.entity("build", b[1])["attributes"]["sha"]
    r = logged_in("dg builds --dg D --remove", stdin="y\n")
    assert r.status == 0, r.out
    assert lines(r.out) == [
        "The following entities will be deleted:",
        "Deployment: ",
        f"  id:  {b[1]}",
        f"  sha: {sha}",
        "",
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): y",
        "",
        f'Deployment "{b[1]}" is deleted successfully.',
        "Deployment list (3 items):",
        *lines(r.out)[10:-1],
        OK,
    ]
    assert api.find("build", b[1]) is None
    assert api.find("build", b[0]) is not None  # flagged: kept


def test_builds_remove_declined(logged_in, api, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D --remove", stdin="n\n")
    assert r.status == 1
    assert lines(r.out)[-3:] == ["", CANCELED, FAILS]
    assert "Deployment list" not in r.out
    assert api.find("build", b[1]) is not None
    r = logged_in("dg builds --dg D --remove -z json", stdin="n\n")
    assert r.status == 1
    assert lines(r.out)[-1] == "{}"
    assert "The following entities will be deleted:" in r.out  # dialog in every mode


def test_builds_remove_invalid_answer_then_yes(logged_in, api, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D --remove --unflag-old", stdin="maybe\ny\n")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == f'Deployment "{b[0]}" is updated successfully.'
    assert "Invalid value!" in out
    assert out.count("Enter 'y' (yes) or 'n' (no): y") == 1
    deleted = {line for line in out if line.endswith("is deleted successfully.")}
    assert deleted == {
        f'Deployment "{b[0]}" is deleted successfully.',
        f'Deployment "{b[1]}" is deleted successfully.',
    }
    assert "Deployment list (2 items):" in out
    assert api.find("build", b[0]) is None and api.find("build", b[1]) is None


def test_builds_remove_quiet_and_nothing_left(logged_in, api, builds_dg):
    dg, b = builds_dg
    r = logged_in("dg builds --dg D --remove -q")
    assert r.status == 0
    assert "Are you sure" not in r.out and "will be deleted" not in r.out
    assert lines(r.out)[0] == f'Deployment "{b[1]}" is deleted successfully.'
    r = logged_in("dg builds --dg D --remove")  # nothing to delete: no confirmation asked
    assert r.status == 0
    assert lines(r.out)[:2] == [
        'No Deployments that can be deleted are found for Device Group "D".',
        "Deployment list (3 items):",
    ]
    r = logged_in("dg builds --dg D --remove -z json")
    assert len(json.loads(r.out)) == 3


def test_builds_of_a_fresh_group_keep_its_first_build(logged_in, api, p1):
    """A group's first build is its min supported one: nothing is older, so --remove finds
    nothing to delete (it once tried the current deployment) and --unflag-old nothing to
    unflag."""
    dg = api.dg(p1, "D")["id"]
    b1 = api.deploy(dg, flagged=True)["id"]
    b2 = api.deploy(dg, flagged=True)["id"]
    b3 = api.deploy(dg)["id"]
    assert api.entity("dg", dg)["relationships"]["min_supported_deployment"]["id"] == b1
    r = logged_in("dg builds -g D -r -o -q -z debug")
    assert r.status == 0, r.out
    assert 'No "flagged" Deployments are found for Device Group "D".' in r.out
    assert 'No Deployments that can be deleted are found for Device Group "D".' in r.out
    assert '"method": "DELETE"' not in r.out and '"method": "PATCH"' not in r.out
    assert all(api.entity("build", b)["attributes"]["flagged"] for b in (b1, b2))
    assert api.find("build", b3) is not None


def test_builds_empty_and_project_default(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    r = logged_in("dg builds")
    assert lines(r.out) == ["Error: No Device Group Identifier is specified.", FAILS]
    write_project(dg)
    r = logged_in("dg builds")
    assert lines(r.out) == ["No Deployments are found.", OK]
    r = logged_in("dg builds -z json")
    assert json.loads(r.out) == []
    r = logged_in("dg builds --dg nope")
    assert lines(r.out) == ['Error: Device Group "nope" is not found.', FAILS]


# =============================================================================== delete


def test_delete_confirmations(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    r = logged_in("dg delete --dg D", stdin="n\n")
    assert r.status == 1
    assert lines(r.out) == [
        "The following entities will be deleted:",
        "Device Group: ",
        f"  id:   {dg}",
        "  type: development",
        "  name: D",
        "",
        "Are you sure you want to continue?",
        "Enter 'y' (yes) or 'n' (no): n",
        "",
        CANCELED,
        FAILS,
    ]
    assert api.find("dg", dg) is not None
    r = logged_in("dg delete --dg D", stdin="x\nY\n")
    assert r.status == 0
    assert lines(r.out)[-5:] == [
        "Invalid value!",
        "Enter 'y' (yes) or 'n' (no): Y",
        "",
        'Device Group "D" is deleted successfully.',
        OK,
    ]
    assert api.find("dg", dg) is None
    r = logged_in("dg delete --dg D -q")
    assert lines(r.out) == ['Error: Device Group "D" is not found.', FAILS]


def test_delete_quiet_modes(logged_in, api, p1):
    a, b = api.dg(p1, "A")["id"], api.dg(p1, "B")["id"]
    r = logged_in(f"dg delete -g {a} -q -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in("dg delete -g B --confirmed -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    assert api.find("dg", a) is None and api.find("dg", b) is None


def test_delete_without_force_fails_with_api_error(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    api.deploy(dg, flagged=True)
    r = logged_in("dg delete --dg D -q")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Flagged Deployments Exist: Cannot delete a devicegroup with flagged "
        "deployments; delete those first.",
        FAILS,
    ]
    assert api.find("dg", dg) is not None


def test_delete_force(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    devs = device_ids(api, 2)
    api.assign(dg, *devs)
    flagged = api.deploy(dg, flagged=True)["id"]
    api.deploy(dg)
    r = logged_in("dg delete --dg D --force", stdin="y\n")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == "The following entities will be deleted:"
    assert "The following Devices will be unassigned from Device Groups:" in out
    assert (
        'The following Deployments are marked "flagged" to prevent deleting. They will be '
        'modified by setting "flagged" attribute to false:'
    ) in out
    done = out[out.index("Enter 'y' (yes) or 'n' (no): y") + 2 :]
    assert sorted(done[:2]) == sorted(f'Device "{d}" is unassigned successfully.' for d in devs)
    assert done[2:] == [
        f'Deployment "{flagged}" is updated successfully.',
        'Device Group "D" is deleted successfully.',
        OK,
    ]
    assert api.find("dg", dg) is None
    assert api.devices(**{"devicegroup.id": dg}) == []


def test_delete_project_default_keeps_project_file(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    write_project(dg)
    r = logged_in("dg delete -q")
    assert lines(r.out) == [f'Device Group "{dg}" is deleted successfully.', OK]
    assert Path(".impt.project").exists()
    r = logged_in("dg delete -q")
    assert lines(r.out) == [
        f'Error: Device Group "{dg}", saved in Project File, does not exist anymore.',
        "Impossible to execute the command.",
        'Use "impt project delete" command to delete the outdated Project.',
        FAILS,
    ]


# =============================================================================== info


def test_info_default(logged_in, api, p1, sim):
    dg = api.dg(p1, "D")["id"]
    b1 = api.deploy(dg)["id"]
    api.set_min(dg, b1)
    r = logged_in("dg info --dg D")
    assert r.status == 0, r.out
    out = lines(r.out)
    info = api.entity("dg", dg)
    sha = api.entity("build", b1)["attributes"]["sha"]
    w = len("Min supported Deployment: ")  # nested keys count for the alignment
    assert out[:5] == [
        "Device Group: ",
        f"  {'id: ':<{w}}{dg}",
        f"  {'type: ':<{w}}development",
        f"  {'name: ':<{w}}D",
        f"  {'description: ':<{w}}",
    ]
    assert f"  {'created_at: ':<{w}}{info['attributes']['created_at']}" in out
    tail = out[out.index("  Product: ") :]
    assert tail == [
        "  Product: ",
        f"    id:   {p1}",
        "    name: P1",
        "  Current Deployment: ",
        f"    id:  {b1}",
        f"    sha: {sha}",
        "  Min supported Deployment: ",
        f"    id:  {b1}",
        f"    sha: {sha}",
        OK,
    ]
    assert "Owner" not in r.out  # the current account
    r = logged_in("dg info --dg D -z json")
    data = json.loads(r.out)["Device Group"]
    assert list(data)[:2] == ["id", "type"]
    assert data["Product"] == {"id": p1, "name": "P1"}
    assert "Devices" not in data


def test_info_full(logged_in, api, p1, sim):
    more_devices(sim, 4)
    dg = api.dg(p1, "D")["id"]
    devs = device_ids(api, 7)
    api.assign(dg, *devs)
    hook = api.webhook(dg)["id"]
    r = logged_in("dg info --dg D --full")
    assert r.status == 0, r.out
    out = lines(r.out)
    webhooks = out.index("  Webhooks: ")
    assert out[webhooks + 1 : webhooks + 5] == [
        "    Webhook: ",
        f"      id:    {hook}",
        "      event: deployment",
        "      url:   https://example.com/hook",
    ]
    devices = out.index("  Devices: ")
    assert out[devices + 1] == "    Device: "
    assert out.count("    Device: ") == 5
    assert out[-2:] == ["    ... 2 more Device(s)", OK]
    r = logged_in("dg info --dg D -u -z minimal")
    assert lines(r.out)[-1] == "    ... 2 more Device(s)"
    r = logged_in("dg info --dg D -u -z json")
    data = json.loads(r.out)["Device Group"]
    assert len(data["Devices"]) == 7
    assert sorted(d["Device"]["id"] for d in data["Devices"]) == sorted(devs)
    assert data["Webhooks"] == [
        {"Webhook": {"id": hook, "event": "deployment", "url": "https://example.com/hook"}}
    ]


def test_info_full_targets(logged_in, api, p1):
    prod = api.dg(p1, "Prod", PROD)["id"]
    dut = api.dg(p1, "Dut", DUT)["id"]
    f = api.dg(
        p1,
        "F",
        FACTORY,
        production_target={"type": PROD, "id": prod},
        dut_target={"type": DUT, "id": dut},
    )["id"]
    r = logged_in("dg info --dg Prod --full -z json")
    data = json.loads(r.out)["Device Group"]
    assert data["Production Target for"] == [
        {"Device Group": {"id": f, "type": "factory", "name": "F"}}
    ]
    assert "DUT Target for" not in data and "Devices" not in data and "Webhooks" not in data
    r = logged_in("dg info --dg Dut --full")
    out = lines(r.out)
    assert out[out.index("  DUT Target for: ") + 1 :] == [
        "    Device Group: ",
        f"      id:   {f}",
        "      type: factory",
        "      name: F",
        OK,
    ]
    r = logged_in("dg info --dg F -z debug")
    out = lines(r.out)
    assert "  Production Target: " in out and "  DUT Target: " in out
    assert "Doing the request with options:" in out


def test_info_project_default_and_errors(logged_in, api, p1):
    r = logged_in("dg info")
    assert lines(r.out) == ["Error: No Device Group Identifier is specified.", FAILS]
    dg = api.dg(p1, "D")["id"]
    write_project(dg)
    r = logged_in("dg info")
    assert r.status == 0 and f"  id:          {dg}" in lines(r.out)
    api.dg(api.product("P2")["id"], "D")
    r = logged_in("dg info --dg D")
    assert r.status == 1
    out = lines(r.out)
    assert out[0] == 'Error: Multiple Device Groups "D" are found:'
    assert out[-2:] == ["Impossible to execute the command.", FAILS]
    r = logged_in("dg info --dg {me}{P1}{D}")
    assert r.status == 0 and f"  id:          {dg}" in lines(r.out)


# =============================================================================== list


def test_list_filters(logged_in, api, p1):
    p2 = api.product("P2")["id"]
    api.dg(p1, "A")
    api.dg(p1, "B", PROD)
    api.dg(p2, "C", DUT)
    r = logged_in("dg list")
    assert r.status == 0
    assert lines(r.out)[0] == "Device Group list (3 items):"
    r = logged_in("dg list --product P1 -z json")
    assert sorted(x["Device Group"]["name"] for x in json.loads(r.out)) == ["A", "B"]
    r = logged_in("dg list -y production -y dut -z json")
    assert sorted(x["Device Group"]["name"] for x in json.loads(r.out)) == ["B", "C"]
    r = logged_in("dg list -p P2 -y production")
    assert lines(r.out) == ["No Device Groups are found.", OK]
    r = logged_in("dg list -p nope -z json")
    assert json.loads(r.out) == []
    r = logged_in("dg list --owner me -p P2 -z minimal")
    assert lines(r.out)[:4] == ["Device Group: ", lines(r.out)[1], "  type:    dut", "  name:    C"]


def test_list_one_request_per_combination(logged_in, api, p1):
    api.product("P2")
    api.dg(p1, "A")
    logged_in("dg list -p P1 -p P2")  # resolves the products (fills the cache)
    sent = logged_in.record_requests()
    r = logged_in("dg list -p P1 -p P2 -y development -y production -z debug")
    assert r.status == 0
    urls = [line for line in lines(r.out) if '"url":' in line and "/devicegroups" in line]
    assert len(urls) == 4
    assert len(sent) == 4


# =============================================================================== reassign


def test_reassign(logged_in, api, p1):
    a, b = api.dg(p1, "A")["id"], api.dg(p1, "B")["id"]
    devs = device_ids(api, 2)
    api.assign(a, *devs)
    r = logged_in("dg reassign --from A --to B")
    assert r.status == 0, r.out
    out = lines(r.out)
    assert out[0] == (
        'The following Devices assigned to Device Group "A" are reassigned successfully to '
        'Device Group "B":'
    )
    assert out.count("Device: ") == 2 and out[-1] == OK
    assert sorted(d["id"] for d in api.devices(**{"devicegroup.id": b})) == sorted(devs)
    r = logged_in("dg reassign -f A -t B")
    assert lines(r.out) == ['Device Group "A" does not have assigned Devices.', OK]


def test_reassign_one_post_and_project_default(logged_in, api, p1, sim):
    more_devices(sim, 4)
    a, b = api.dg(p1, "A")["id"], api.dg(p1, "B")["id"]
    devs = device_ids(api, 7)
    api.assign(a, *devs)
    write_project(b)
    r = logged_in("dg reassign --from A -z debug")
    assert r.status == 0, r.out
    assert r.out.count('"method": "POST"') == 1
    out = lines(r.out)
    assert (
        'The following Devices assigned to Device Group "A" are reassigned successfully to '
        f'Device Group "{b}":'
    ) in out
    assert out.count("Device: ") == 5
    assert "And 2 more Device(s)." in out
    assert len(api.devices(**{"devicegroup.id": b})) == 7
    r = logged_in("dg reassign --from B -z json")
    assert r.status == 0 and json.loads(r.out) == {}


def test_reassign_errors(logged_in, api, p1):
    api.dg(p1, "A")
    r = logged_in("dg reassign --to A")
    assert r.out.endswith("Error: Missing required argument: from\nIMPT COMMAND FAILS\n")
    r = logged_in("dg reassign --from A")
    assert lines(r.out) == ["Error: No Device Group Identifier is specified.", FAILS]
    r = logged_in("dg reassign --from nope --to A")
    assert lines(r.out) == ['Error: Device Group "nope" is not found.', FAILS]


# =============================================================================== restart


def test_restart(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    r = logged_in("dg restart --dg D")
    assert lines(r.out) == ['Device Group "D" does not have assigned Devices.', OK]
    devs = device_ids(api, 2)
    api.assign(dg, *devs)
    r = logged_in("dg restart --dg D")
    assert r.status == 0
    out = lines(r.out)
    assert out[0] == 'Restart request for Devices assigned to Device Group "D" is successful:'
    assert out.count("Device: ") == 2 and out[-1] == OK
    r = logged_in("dg restart -g D -c")
    assert lines(r.out)[0] == (
        'Conditional restart request for Devices assigned to Device Group "D" is successful:'
    )
    r = logged_in("dg restart -g D -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in("dg restart -g D -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    tasks = logged_in.session.log_tasks
    tasks.background, tasks.sink = True, StreamSink(io.StringIO())  # as in the shell
    try:
        r = logged_in("dg restart -g D --log")
    finally:
        tasks.stop_all()
    assert lines(r.out)[-3:] == [
        f"Log stream for Device(s) {', '.join(devs)} is opened.",
        'Log task 1 runs in the background: "tasks" lists the log tasks, "tasks stop 1" '
        "stops this one.",
        OK,
    ]


def test_restart_debug_and_project(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    api.assign(dg, *device_ids(api, 1))
    write_project(dg)
    r = logged_in("dg restart -c -z debug")
    assert r.status == 0
    assert f"/devicegroups/{dg}/conditional_restart" in r.out
    assert f'Conditional restart request for Devices assigned to Device Group "{dg}"' in r.out


# =============================================================================== unassign


def test_unassign(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    r = logged_in("dg unassign --dg D")
    assert lines(r.out) == ['Device Group "D" does not have assigned Devices.', OK]
    devs = device_ids(api, 3)
    api.assign(dg, *devs)
    r = logged_in("dg unassign --dg D -z debug")
    assert r.status == 0
    assert r.out.count('"method": "DELETE"') == 1
    assert "X-Electricimp-Key" not in r.out
    out = lines(r.out)
    assert 'The following Devices are unassigned successfully from Device Group "D":' in out
    assert out.count("Device: ") == 3
    assert api.devices(**{"devicegroup.id": dg}) == []


def test_unassign_unbond_header(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    api.assign(dg, *device_ids(api, 1))
    r = logged_in('dg unassign --dg D --unbond ""  -z debug')
    assert r.status == 0 and "X-Electricimp-Key" not in r.out
    api.assign(dg, *device_ids(api, 1))
    r = logged_in("dg unassign --dg D -u secret-key -z debug")
    assert r.status == 0
    assert '"X-Electricimp-Key": "[hidden]"' in r.out
    assert "secret-key" not in r.out
    r = logged_in("dg unassign --dg D -u k -z minimal")
    assert r.status == 0 and r.out == ""


# =============================================================================== update


def test_update_attributes(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    r = logged_in(["dg", "update", "--dg", "D", "--name", "E", "--descr", "new", "-e", '{"k":"v"}'])
    assert lines(r.out) == ['Device Group "D" is updated successfully.', OK]
    attrs = api.entity("dg", dg)["attributes"]
    assert (attrs["name"], attrs["description"], attrs["env_vars"]) == ("E", "new", {"k": "v"})
    r = logged_in("dg update --dg E -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    r = logged_in("dg update --dg E -s '' -z minimal")
    assert r.status == 0 and r.out == ""
    assert api.entity("dg", dg)["attributes"]["description"] == ""
    write_project(dg)
    r = logged_in("dg update -n F -z debug")
    assert f'Device Group "{dg}" is updated successfully.' in r.out
    assert '"method": "PATCH"' in r.out


def test_update_invalid_json_changes_nothing(logged_in, api, p1, capsys):
    dg = api.dg(p1, "D")["id"]
    b1 = api.deploy(dg)["id"]
    b2 = api.deploy(dg)["id"]
    r = logged_in(["dg", "update", "-g", "D", "-n", "E", "-m", b2, "-e", "[1,"])
    assert r.status == 1
    assert lines(r.out) == ["Error: Unexpected end of JSON input", FAILS]
    assert capsys.readouterr().err == "Invalid JSON string: [1,\n"
    info = api.entity("dg", dg)
    assert info["attributes"]["name"] == "D"
    assert info["relationships"]["min_supported_deployment"]["id"] == b1


def test_update_load_code_after_blessing(logged_in, api, p1):
    api.dg(p1, "D")
    prod = api.dg(p1, "Prod", PROD)["id"]
    r = logged_in("dg update --dg D --load-code-after-blessing")
    assert lines(r.out) == [
        'Error: Invalid option "--load-code-after-blessing" for Device Group of the type '
        '"development". It may be specified for "pre-production" or "production" Device Groups '
        "only.",
        FAILS,
    ]
    r = logged_in("dg update --dg Prod -l false")
    assert r.status == 0, r.out
    assert api.entity("dg", prod)["attributes"]["load_code_after_blessing"] is False
    r = logged_in("dg update --dg Prod -l")
    assert r.status == 0
    assert api.entity("dg", prod)["attributes"]["load_code_after_blessing"] is True
    r = logged_in("dg update --dg Prod -l maybe")
    assert r.status == 1
    assert r.out.endswith("Error: Unknown arguments: maybe.\nIMPT COMMAND FAILS\n")


def test_update_targets(logged_in, api, p1):
    prod = api.dg(p1, "Prod", PROD)["id"]
    prod2 = api.dg(p1, "Prod2", PROD)["id"]
    dut = api.dg(p1, "Dut", DUT)["id"]
    f = api.dg(
        p1,
        "F",
        FACTORY,
        production_target={"type": PROD, "id": prod},
        dut_target={"type": DUT, "id": dut},
    )["id"]
    r = logged_in("dg update --dg Prod --target Prod2")
    assert lines(r.out) == [
        'Error: Invalid option "--target" for Device Group of the type "production". It may be '
        'specified for "pre-factory" or "factory" Device Groups only.',
        FAILS,
    ]
    r = logged_in("dg update --dg F --dut Prod2")
    assert lines(r.out) == [
        'Error: DUT Target Device Group "Prod2" is of the type "production" but must be of the '
        'type "dut".',
        FAILS,
    ]
    r = logged_in("dg update --dg F --target Prod2")
    assert lines(r.out) == ['Device Group "F" is updated successfully.', OK]
    assert api.entity("dg", f)["relationships"]["production_target"]["id"] == prod2


def test_update_min_supported(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    other = api.dg(p1, "O")["id"]
    foreign = api.deploy(other, tags=["foreign"])["id"]
    b1 = api.deploy(dg, tags=["t1"])["id"]
    b2 = api.deploy(dg, tags=["t2"])["id"]
    r = logged_in("dg update --dg D --min-supported-deployment foreign")
    assert lines(r.out) == [
        'Error: Deployment "foreign" does not belong to Device Group "D". Impossible to set it '
        "as Min supported Deployment.",
        FAILS,
    ]
    assert foreign
    # Moved forward from the first build (the group's min supported deployment since then).
    r = logged_in("dg update --dg D -m t2")
    assert lines(r.out) == [
        'Min supported Deployment for Device Group "D" is updated successfully.',
        'Device Group "D" is updated successfully.',
        OK,
    ]
    assert api.entity("dg", dg)["relationships"]["min_supported_deployment"]["id"] == b2
    r = logged_in("dg update --dg D -m t1 -n X")
    assert lines(r.out) == [
        "Error: Min supported Deployment cannot be set to an earlier Deployment than the "
        "current Min supported Deployment.",
        FAILS,
    ]
    assert api.entity("dg", dg)["attributes"]["name"] == "D"
    assert b1
    r = logged_in("dg update --dg D -m nope")
    assert lines(r.out) == ['Error: Deployment "nope" is not found.', FAILS]
    r = logged_in(f"dg update --dg D -m {b2}")
    assert r.status == 0


def test_update_min_supported_of_a_fresh_group(logged_in, api, p1):
    """impt compares -m with the current min supported deployment without a null check; it
    works on a fresh group because its first build becomes the min supported one."""
    dg = api.dg(p1, "D")["id"]
    r = logged_in("build deploy -g D -t first")
    assert r.status == 0, r.out
    build = api.entity("dg", dg)["relationships"]["current_deployment"]["id"]
    assert api.entity("dg", dg)["relationships"]["min_supported_deployment"]["id"] == build
    r = logged_in("dg update -g D -m first")
    assert lines(r.out) == [
        'Min supported Deployment for Device Group "D" is updated successfully.',
        'Device Group "D" is updated successfully.',
        OK,
    ]
    assert api.entity("dg", dg)["relationships"]["min_supported_deployment"]["id"] == build


def test_update_rejected_by_the_server_changes_nothing(logged_in, api, p1):
    """A name taken by another group fails the update before the min supported deployment
    is touched: nothing changes and nothing claims success."""
    dg = api.dg(p1, "A")["id"]
    api.dg(p1, "B")
    first = api.deploy(dg)["id"]
    build = api.deploy(dg, tags=["t1"])["id"]
    r = logged_in("dg update -g A -m t1 -n B")
    assert r.status == 1
    assert lines(r.out) == [
        "Error: Duplicate Resource: Devicegroups must have unique names.",
        FAILS,
    ]
    after = api.entity("dg", dg)
    assert after["attributes"]["name"] == "A"
    assert after["relationships"]["min_supported_deployment"]["id"] == first
    r = logged_in("dg update -g A -m t1 -n C")
    assert lines(r.out) == [
        'Min supported Deployment for Device Group "A" is updated successfully.',
        'Device Group "A" is updated successfully.',
        OK,
    ]
    after = api.entity("dg", dg)
    assert after["attributes"]["name"] == "C"
    assert after["relationships"]["min_supported_deployment"]["id"] == build


def test_update_says_what_changed_when_the_min_supported_put_fails(logged_in, api, p1, sim):
    dg = api.dg(p1, "A")["id"]
    first = api.deploy(dg)["id"]
    api.deploy(dg, tags=["t1"])

    def refuse_the_next_request(exchange):
        if exchange.method == "PATCH":
            sim_control(sim, "faults", {"status": 400, "count": 1})

    logged_in.session.observers.append(refuse_the_next_request)
    r = logged_in("dg update -g A -m t1 -s new")
    assert r.status == 1
    assert lines(r.out) == [
        'Device Group "A" is updated successfully.',
        "Error: Injected Fault: The simulator injected this error.",
        FAILS,
    ]
    after = api.entity("dg", dg)
    assert after["attributes"]["description"] == "new"
    assert after["relationships"]["min_supported_deployment"]["id"] == first


def test_update_errors(logged_in, api, p1):
    r = logged_in("dg update --name X")
    assert lines(r.out) == ["Error: No Device Group Identifier is specified.", FAILS]
    r = logged_in("dg update --dg nope --name X -z json")
    assert json.loads(r.out) == {"Error": 'Device Group "nope" is not found.'}
    r = logged_in("dg update --dg nope --name")
    assert r.out.endswith("Error: Not enough arguments following: name\nIMPT COMMAND FAILS\n")
    r = logged_in("dg update --help")
    usage = " ".join(r.out.split("\n\n")[0].split())
    assert usage.endswith(
        "[--min-supported-deployment <BUILD_IDENTIFIER>] [--output <mode>] [--env-variable] "
        "[--help]"
    )


# =============================================================================== economy


def test_request_economy(logged_in, api, p1):
    dg = api.dg(p1, "D")["id"]
    api.assign(dg, *device_ids(api, 2))
    logged_in("dg list")  # warms the cache (and the current account)
    sent = logged_in.record_requests()
    assert logged_in("dg restart -g D").status == 0
    assert len(sent) == 2  # devices of the group + the restart
    sent.clear()
    assert logged_in(f"dg info -g {dg}").status == 0
    assert len(sent) == 1  # the group (fresh); product cached by list
    sent.clear()
    assert logged_in("dg info -g D").status == 0
    assert len(sent) == 1  # the group (fresh); product cached
    sent.clear()
    assert logged_in("dg builds -g D").status == 0
    assert len(sent) == 2  # the group (fresh) + its deployments


def test_env_variable_error_goes_to_stderr_in_a_subprocess(logged_in, api, p1, home):
    """A real process: the `Invalid JSON string` line is the only one on stderr."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    env["HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "imptsh", "dg", "create", "-n", "D", "-p", "P1", "-e", "{x"],
        cwd=home / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == "Invalid JSON string: {x\n"
    assert proc.stdout == (
        "Error: Expected property name or '}' in JSON at position 1\nIMPT COMMAND FAILS\n"
    )
    assert api.client.list("/devicegroups") == []


def test_delete_target_of_another_group_fails(logged_in, api, p1):
    prod = api.dg(p1, "Prod", PROD)["id"]
    dut = api.dg(p1, "Dut", DUT)["id"]
    api.dg(
        p1,
        "F",
        FACTORY,
        production_target={"type": PROD, "id": prod},
        dut_target={"type": DUT, "id": dut},
    )["id"]
    r = logged_in("dg delete --dg Prod --force -q -z json")
    assert r.status == 1
    assert json.loads(r.out)["Error"].startswith("Dependent Devicegroups Exist: ")
    r = logged_in("dg delete --dg Prod -q")
    assert r.status == 1
    assert lines(r.out)[0].startswith("Error: Dependent Devicegroups Exist: ")
    assert api.find("dg", prod) is not None
