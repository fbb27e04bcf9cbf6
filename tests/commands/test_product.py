"""`product create|delete|info|list|update` against the simulator (commands.md §11.8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ASK, CANCELED, FAILS, OK, SimApi, sim_control, write_project

QUESTION = "Are you sure you want to continue?"
DEPENDENT = (
    "Error: Dependent Devicegroups Exist: Cannot delete a product with associated devicegroups."
)
DUPLICATE = "Error: Duplicate Resource: Products must have unique names."


def block(title: str, fields: dict[str, Any], indent: int = 0) -> list[str]:
    """An entity block as impt's text renderer prints it (commands.md §2.3, scalars only)."""
    pad = " " * indent
    width = max(len(k) for k in fields)
    lines = [f"{pad}{title}: "]
    for key, value in fields.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"{pad}  {key}: {' ' * (width - len(key))}{value}")
    return lines


def device_block(device: dict) -> list[str]:
    a = device["attributes"]
    fields = {"id": device["id"]}
    for key in ("name", "mac_address", "agent_id", "device_online"):
        if a.get(key) not in (None, "", False):
            fields[key] = a[key]
    return block("Device", fields)


def build_block(build: dict) -> list[str]:
    a = build["attributes"]
    fields = {"id": build["id"], "sha": a["sha"]}
    if a.get("flagged"):
        fields["flagged"] = True
    return block("Deployment", fields)


def product_names(api: SimApi) -> list[str]:
    return [p["attributes"]["name"] for p in api.client.list("/products")]


def _me_id(logged_in: Any) -> str:
    return json.loads(logged_in("account info -z json").out)["Account"]["id"]


# -- create ---------------------------------------------------------------------------------


def test_create(logged_in: Any, api: SimApi) -> None:
    r = logged_in("product create --name P")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    pid = lines[2].split()[-1]
    assert lines == [
        'Product "P" is created successfully.',
        *block("Product", {"id": pid, "name": "P"}),
        OK,
    ]
    product = api.find("product", pid)
    assert product["attributes"]["name"] == "P"
    assert product["attributes"]["description"] == ""


def test_create_modes_and_description(logged_in: Any, api: SimApi) -> None:
    r = logged_in("product create -n M -s 'my product' -z minimal")
    assert r.status == 0
    pid = r.out.splitlines()[1].split()[-1]
    assert r.out.splitlines() == block("Product", {"id": pid, "name": "M"})
    assert api.find("product", pid)["attributes"]["description"] == "my product"
    r = logged_in("product create -n J -z json")
    assert r.status == 0
    data = json.loads(r.out)
    assert list(data["Product"]) == ["id", "name"] and data["Product"]["name"] == "J"
    r = logged_in(["product", "create", "-n", "D", "-s", "", "-z", "debug"])
    assert r.status == 0
    assert '"method": "POST"' in r.out and '"Authorization": "[hidden]"' in r.out
    assert 'Product "D" is created successfully.' in r.out
    assert r.out.splitlines()[-1] == OK


def test_create_duplicate(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    r = logged_in("product create --name P")
    assert r.status == 1
    assert r.out.splitlines() == [DUPLICATE, FAILS]
    r = logged_in("product create --name P -z minimal")
    assert r.out.splitlines() == [DUPLICATE]
    r = logged_in("product create --name P -z json")
    assert r.status == 1
    assert '"Product"' not in r.out
    assert product_names(api) == ["P"]


def test_create_owner(logged_in: Any, api: SimApi, other: dict) -> None:
    me = _me_id(logged_in)
    r = logged_in("product create --name Mine --owner me -z json")
    assert r.status == 0, r.out
    pid = json.loads(r.out)["Product"]["id"]
    assert api.find("product", pid)["relationships"]["owner"]["id"] == me
    for owner, name in (("other", "T1"), ("other@example.com", "T2"), (other["id"], "T3")):
        r = logged_in(f"product create -n {name} -o {owner} -z json")
        assert r.status == 0, r.out
        product = api.find("product", json.loads(r.out)["Product"]["id"])
        assert product["relationships"]["owner"]["id"] == other["id"]
    # names are unique per owner only
    assert logged_in("product create -n T1").status == 0


def test_create_errors(logged_in: Any, api: SimApi) -> None:
    r = logged_in("product create --name P --owner nobody")
    assert r.out.splitlines() == ['Error: Account "nobody" is not found.', FAILS]
    r = logged_in("product create")
    assert r.out.splitlines()[-2:] == ["Error: Missing required argument: name", FAILS]
    r = logged_in(["product", "create", "--name", ""])
    assert r.out.splitlines()[-2:] == ['Error: Option "--name" must not be empty.', FAILS]
    r = logged_in("product create --name")
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: name", FAILS]
    r = logged_in("product create -n A -o x -o y")
    assert 'Error: Option "--owner" must not be specified multiple times.' in r.out
    r = logged_in("product create --help")
    assert r.status == 0
    assert "Usage: impt product create --name <product_name> [--descr" in r.out
    assert product_names(api) == []


# -- list -----------------------------------------------------------------------------------


def test_list_empty(logged_in: Any) -> None:
    r = logged_in("product list")
    assert r.out.splitlines() == ["No Products are found.", OK]
    assert logged_in("product list -z minimal").out == ""
    assert json.loads(logged_in("product list -z json").out) == []


def test_list(logged_in: Any, api: SimApi, other: dict) -> None:
    a, b = api.product("A"), api.product("B")
    t = api.product("T", owner=other["id"])
    r = logged_in("product list")
    assert r.status == 0
    assert r.out.splitlines() == [
        "Product list (3 items):",
        *block("Product", {"id": a["id"], "name": "A"}),
        *block("Product", {"id": b["id"], "name": "B"}),
        "Product: ",
        f"  id:    {t['id']}",
        "  name:  T",
        "  Owner: ",
        f"    id:       {other['id']}",
        "    email:    other@example.com",
        "    username: other",
        OK,
    ]
    r = logged_in("product list -z minimal")
    assert r.out.splitlines()[:3] == block("Product", {"id": a["id"], "name": "A"})
    data = json.loads(logged_in("product list -z json").out)
    assert [d["Product"]["name"] for d in data] == ["A", "B", "T"]
    assert data[2]["Product"]["Owner"]["username"] == "other"
    r = logged_in("product list -z debug")
    assert "Product list (3 items):" in r.out and '"method": "GET"' in r.out


@pytest.mark.parametrize(
    "owners, expected",
    [
        ("--owner me", ["A", "B"]),
        ("-o demo", ["A", "B"]),
        ("-o other", ["T"]),
        ("-o other@example.com -o me", ["T", "A", "B"]),
        ("-o nobody", []),
        ("-o nobody -o other", ["T"]),
    ],
)
def test_list_owner_filter(
    logged_in: Any, api: SimApi, other: dict, owners: str, expected: list[str]
) -> None:
    api.product("A")
    api.product("B")
    api.product("T", owner=other["id"])
    r = logged_in(f"product list {owners} -z json")
    assert r.status == 0
    assert [d["Product"]["name"] for d in json.loads(r.out)] == expected
    if not expected:
        assert logged_in(f"product list {owners}").out.splitlines() == [
            "No Products are found.",
            OK,
        ]


def test_list_empty_owner_value(logged_in: Any) -> None:
    r = logged_in(["product", "list", "--owner", ""])
    assert r.status == 1
    assert r.out.splitlines() == ["Error: No Account Identifier is specified.", FAILS]


# -- info -----------------------------------------------------------------------------------


def _info_lines(product: dict) -> list[str]:
    a = product["attributes"]
    return block(
        "Product",
        {
            "id": product["id"],
            "name": a["name"],
            "description": a["description"],
            "created_at": a["created_at"],
            "updated_at": a["updated_at"],
        },
    )


def test_info(logged_in: Any, api: SimApi) -> None:
    product = api.product("P", descr="about P")
    for ident in ("P", product["id"], "{me}{P}", "{demo}{P}"):
        r = logged_in(f"product info --product {ident}")
        assert r.status == 0, r.out
        assert r.out.splitlines() == [*_info_lines(product), OK]
    r = logged_in("product info -p P -z minimal")
    assert r.out.splitlines() == _info_lines(product)
    data = json.loads(logged_in("product info -p P -z json").out)["Product"]
    assert list(data) == ["id", "name", "description", "created_at", "updated_at"]
    r = logged_in("product info -p P -z debug")
    assert "Response code: 200" in r.out and r.out.splitlines()[-1] == OK


def test_info_empty_description(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    r = logged_in("product info -p P -z minimal")
    assert "  description: " in r.out.splitlines()  # empty value, alignment padding kept
    assert json.loads(logged_in("product info -p P -z json").out)["Product"]["description"] == ""


def test_info_of_other_owner(logged_in: Any, api: SimApi, other: dict) -> None:
    t = api.product("T", owner=other["id"])
    data = json.loads(logged_in("product info -p T -z json").out)["Product"]
    owner = {"id": other["id"], "email": "other@example.com", "username": "other"}
    assert data["Owner"] == owner
    assert "Creator" not in data  # demo created it
    r = logged_in("product info -p {other}{T} -z minimal")
    assert r.status == 0 and f"  id:          {t['id']}" in r.out.splitlines()


def test_info_not_found(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    for ident in ("not-exist-product", "00000000-0000-0000-0000-000000000000", "{P}"):
        r = logged_in(f"product info -p {ident}")
        assert r.status == 1
        assert r.out.splitlines() == [f'Error: Product "{ident}" is not found.', FAILS]
    r = logged_in("product info -p not-exist-product -z json")
    assert json.loads(r.out) == {"Error": 'Product "not-exist-product" is not found.'}
    r = logged_in("product info")
    assert r.out.splitlines() == ["Error: No Product Identifier is specified.", FAILS]
    r = logged_in(["product", "info", "-p", ""])
    assert r.out.splitlines()[-2:] == ['Error: Option "--product" must not be empty.', FAILS]


def test_info_full(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    empty = api.dg(product, "Empty")
    dg = api.dg(product, "DG")
    build = api.deploy(dg, "x", flagged=True)
    devices = api.assign(dg, *api.devices()[:2])
    hook = api.webhook(dg, "https://example.com/h", "blinkup")
    r = logged_in("product info -p P --full")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    head = _info_lines(product)
    # `Device Groups` is the longest key now
    assert lines[0] == "Product: "
    assert lines[1] == f"  id:            {product['id']}"
    assert lines[6] == "  Device Groups: "
    indent = lambda ls, n: [" " * n + line for line in ls]  # noqa: E731
    sha = build["attributes"]["sha"]
    expected = [
        *indent(
            block("Device Group", {"id": empty["id"], "type": "development", "name": "Empty"}), 4
        ),
        "    Device Group: ",
        f"      id:                       {dg['id']}",
        "      type:                     development",
        "      name:                     DG",
        "      Current Deployment: ",
        f"        id:      {build['id']}",
        f"        sha:     {sha}",
        "        flagged: true",
        # the group's first deployment is its min supported one too
        "      Min supported Deployment: ",
        f"        id:      {build['id']}",
        f"        sha:     {sha}",
        "        flagged: true",
        "      Webhooks: ",
        *indent(
            block(
                "Webhook", {"id": hook["id"], "event": "blinkup", "url": "https://example.com/h"}
            ),
            8,
        ),
        "      Devices: ",
        *indent(device_block(devices[0]), 8),
        *indent(device_block(devices[1]), 8),
    ]
    assert lines[7:-1] == expected
    assert len(head) == 6
    data = json.loads(logged_in("product info -p P -u -z json").out)["Product"]
    dgs = data["Device Groups"]
    assert [d["Device Group"]["name"] for d in dgs] == ["Empty", "DG"]
    assert "Devices" not in dgs[0]["Device Group"]
    assert [d["Device"]["id"] for d in dgs[1]["Device Group"]["Devices"]] == [
        d["id"] for d in devices
    ]


def test_info_full_caps_devices_in_text(logged_in: Any, api: SimApi, sim: Any) -> None:
    sim_control(sim, "devices", {"count": 5})
    dg = api.dg(api.product("P"), "DG")
    api.assign(dg, *api.devices())  # 8 devices
    r = logged_in("product info -p P --full -z minimal")
    assert r.out.count("        Device: ") == 5
    assert r.out.splitlines()[-1] == "        ... 3 more Device(s)"
    data = json.loads(logged_in("product info -p P --full -z json").out)
    assert len(data["Product"]["Device Groups"][0]["Device Group"]["Devices"]) == 8


def test_info_full_without_dgs(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    r = logged_in("product info -p P --full")
    assert r.out.splitlines() == [*_info_lines(product), OK]


# -- project defaults ---------------------------------------------------------------------------


def test_project_default(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    api.product("Other")
    write_project(api.dg(product, "DG"), "device.nut", "agent.nut")
    r = logged_in("product info")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [*_info_lines(product), OK]
    r = logged_in("product update --descr changed")
    assert r.out.splitlines() == [f'Product "{product["id"]}" is updated successfully.', OK]
    assert api.find("product", product["id"])["attributes"]["description"] == "changed"
    # an explicit option wins over the project
    r = logged_in("product info -p Other -z json")
    assert json.loads(r.out)["Product"]["name"] == "Other"


def test_project_stale(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    write_project("not-exist-device-group", "device.nut", "agent.nut")
    for line in ("product info", "product update -n X", "product delete -q"):
        r = logged_in(line)
        assert r.status == 1
        assert r.out.splitlines() == [
            'Error: Device Group "not-exist-device-group", saved in Project File, '
            "does not exist anymore.",
            "Impossible to execute the command.",
            'Use "impt project delete" command to delete the outdated Project.',
            FAILS,
        ]
    r = logged_in("product info -z json")
    assert json.loads(r.out) == {
        "Error": 'Device Group "not-exist-device-group", saved in Project File, '
        "does not exist anymore."
    }
    assert product_names(api) == ["P"]


def test_project_corrupted(logged_in: Any, api: SimApi) -> None:
    Path(".impt.project").write_text("{not json")
    r = logged_in("product info")
    assert r.out.splitlines() == ["Error: Project File is corrupted.", FAILS]


def test_project_delete_default(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    write_project(api.dg(product, "DG"), "device.nut", "agent.nut")
    r = logged_in("product delete --force -q")
    assert r.status == 0, r.out
    assert r.out.splitlines()[-2:] == [f'Product "{product["id"]}" is deleted successfully.', OK]


# -- update ---------------------------------------------------------------------------------


def test_update(logged_in: Any, api: SimApi) -> None:
    product = api.product("P", descr="old")
    r = logged_in("product update --product P --name Q --descr new")
    assert r.status == 0, r.out
    assert r.out.splitlines() == ['Product "P" is updated successfully.', OK]
    attrs = api.find("product", product["id"])["attributes"]
    assert (attrs["name"], attrs["description"]) == ("Q", "new")
    # the renamed product is found by its new name at once, the old name is gone
    assert logged_in("product info -p Q").status == 0
    r = logged_in("product info -p P")
    assert r.out.splitlines() == ['Error: Product "P" is not found.', FAILS]
    r = logged_in(["product", "update", "-p", product["id"], "-s", "", "-z", "json"])
    assert r.status == 0 and json.loads(r.out) == {}
    assert api.find("product", product["id"])["attributes"]["description"] == ""
    r = logged_in("product update -p Q -n R -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in("product update -p R -s dbg -z debug")
    assert '"method": "PATCH"' in r.out
    assert r.out.splitlines()[-2:] == ['Product "R" is updated successfully.', OK]


def test_update_errors(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    api.product("Q")
    r = logged_in("product update -p P -n Q")
    assert r.out.splitlines() == [DUPLICATE, FAILS]
    r = logged_in("product update -p nope -n Z")
    assert r.out.splitlines() == ['Error: Product "nope" is not found.', FAILS]
    r = logged_in(["product", "update", "-p", "P", "-n", ""])
    assert r.out.splitlines()[-2:] == ['Error: Option "--name" must not be empty.', FAILS]
    r = logged_in("product update -n Z")
    assert r.out.splitlines() == ["Error: No Product Identifier is specified.", FAILS]
    assert sorted(product_names(api)) == ["P", "Q"]


# -- delete ---------------------------------------------------------------------------------


def _product_summary(product: dict) -> list[str]:
    return [
        "The following entities will be deleted:",
        *block("Product", {"id": product["id"], "name": product["attributes"]["name"]}),
        "",
        QUESTION,
    ]


def test_delete_yes(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    r = logged_in("product delete --product P", stdin="y\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        *_product_summary(product),
        ASK + "y",
        "",
        'Product "P" is deleted successfully.',
        OK,
    ]
    assert product_names(api) == []
    r = logged_in("product info -p P")
    assert r.out.splitlines() == ['Error: Product "P" is not found.', FAILS]


def test_delete_no(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    r = logged_in("product delete -p P", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_product_summary(product), ASK + "n", "", CANCELED, FAILS]
    r = logged_in("product delete -p P -z json", stdin="N\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_product_summary(product), ASK + "N", "", "{}"]
    r = logged_in("product delete -p P -z minimal", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_product_summary(product), ASK + "n", ""]
    r = logged_in("product delete -p P", stdin="")  # end of input cancels
    assert r.status == 1 and r.out.splitlines()[-2:] == [CANCELED, FAILS]
    assert product_names(api) == ["P"]


def test_delete_invalid_then_yes(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    r = logged_in("product delete -p P", stdin="yes\n\ny\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        *_product_summary(product),
        ASK + "yes",
        "Invalid value!",
        ASK,
        "Invalid value!",
        ASK + "y",
        "",
        'Product "P" is deleted successfully.',
        OK,
    ]


def test_delete_confirmed_modes(logged_in: Any, api: SimApi) -> None:
    for name in ("A", "B", "C", "D"):
        api.product(name)
    r = logged_in("product delete -p A -q")
    assert r.out.splitlines() == ['Product "A" is deleted successfully.', OK]
    r = logged_in("product delete -p B --confirmed -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    r = logged_in("product delete -p C -q -z minimal")
    assert r.status == 0 and r.out == ""
    r = logged_in("product delete -p D -q -z debug")
    assert '"method": "DELETE"' in r.out
    assert r.out.splitlines()[-2:] == ['Product "D" is deleted successfully.', OK]
    assert product_names(api) == []


def test_delete_not_found(logged_in: Any) -> None:
    r = logged_in("product delete -p not-exist-product", stdin="y\n")
    assert r.status == 1
    assert r.out.splitlines() == ['Error: Product "not-exist-product" is not found.', FAILS]
    r = logged_in("product delete -q")
    assert r.out.splitlines() == ["Error: No Product Identifier is specified.", FAILS]


def test_delete_with_dg_needs_force(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    api.dg(product, "DG")
    r = logged_in("product delete -p P -q")
    assert r.status == 1
    assert r.out.splitlines() == [DEPENDENT, FAILS]
    r = logged_in("product delete -p P", stdin="y\n")
    assert r.out.splitlines()[-2:] == [DEPENDENT, FAILS]
    assert product_names(api) == ["P"]


@pytest.fixture
def loaded(api: SimApi) -> dict[str, Any]:
    """P with DG (two assigned devices, a flagged and an unflagged build) and an empty DG."""
    product = api.product("P")
    dg = api.dg(product, "DG")
    old = api.deploy(dg, "old")
    flagged = api.deploy(dg, "new", flagged=True)
    devices = api.assign(dg, *api.devices()[:2])
    empty = api.dg(product, "Empty")
    flagged = api.find("build", flagged["id"])
    return {
        "product": product,
        "dg": dg,
        "empty": empty,
        "old": api.find("build", old["id"]),
        "flagged": flagged,
        "devices": devices,
    }


def _dg_block(dg: dict) -> list[str]:
    return block(
        "Device Group", {"id": dg["id"], "type": "development", "name": dg["attributes"]["name"]}
    )


def test_delete_force_summary_and_yes(logged_in: Any, api: SimApi, loaded: dict) -> None:
    p, dg, empty, flagged = loaded["product"], loaded["dg"], loaded["empty"], loaded["flagged"]
    d1, d2 = loaded["devices"]
    r = logged_in("product delete -p P --force", stdin="y\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        "The following entities will be deleted:",
        *block("Product", {"id": p["id"], "name": "P"}),
        *_dg_block(dg),
        *_dg_block(empty),
        "",
        "The following Devices will be unassigned from Device Groups:",
        *device_block(d1),
        *device_block(d2),
        "",
        'The following Deployments are marked "flagged" to prevent deleting. They will be '
        'modified by setting "flagged" attribute to false:',
        *build_block(flagged),
        "",
        QUESTION,
        ASK + "y",
        "",
        f'Device "{d1["id"]}" is unassigned successfully.',
        f'Device "{d2["id"]}" is unassigned successfully.',
        f'Deployment "{flagged["id"]}" is updated successfully.',
        f'Device Group "{dg["id"]}" is deleted successfully.',
        f'Device Group "{empty["id"]}" is deleted successfully.',
        'Product "P" is deleted successfully.',
        OK,
    ]
    assert product_names(api) == []
    for device in (d1, d2):
        assert "devicegroup" not in api.find("device", device["id"])["relationships"]
    # deleting a Device Group deletes its deployments too
    assert api.find("build", flagged["id"]) is None
    assert api.find("build", loaded["old"]["id"]) is None


def test_delete_force_no_and_invalid(logged_in: Any, api: SimApi, loaded: dict) -> None:
    r = logged_in("product delete -p P -f", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines()[-5:] == [QUESTION, ASK + "n", "", CANCELED, FAILS]
    assert api.find("build", loaded["flagged"]["id"])["attributes"]["flagged"] is True
    assert product_names(api) == ["P"]
    r = logged_in("product delete -p P -f -z minimal", stdin="?\ny\n")
    assert r.status == 0
    assert r.out.splitlines()[-4:] == [ASK + "?", "Invalid value!", ASK + "y", ""]
    assert product_names(api) == []


def test_delete_force_builds(logged_in: Any, api: SimApi, loaded: dict) -> None:
    p, dg, empty = loaded["product"], loaded["dg"], loaded["empty"]
    old, flagged = loaded["old"], loaded["flagged"]
    d1, d2 = loaded["devices"]
    r = logged_in("product delete -p P --force --builds", stdin="y\n")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert lines[: 1 + 3 + 4 + 4] == [
        "The following entities will be deleted:",
        *block("Product", {"id": p["id"], "name": "P"}),
        *_dg_block(dg),
        *_dg_block(empty),
    ]
    assert "The following Devices will be unassigned from Device Groups:" in lines
    assert [*build_block(old), *build_block(flagged)] == lines[12 : 12 + 3 + 4]
    assert lines[-9:] == [
        f'Device "{d1["id"]}" is unassigned successfully.',
        f'Device "{d2["id"]}" is unassigned successfully.',
        f'Deployment "{flagged["id"]}" is updated successfully.',
        f'Device Group "{dg["id"]}" is deleted successfully.',
        f'Device Group "{empty["id"]}" is deleted successfully.',
        'Product "P" is deleted successfully.',
        # went with their Device Group
        f'Deployment "{old["id"]}" is already deleted.',
        f'Deployment "{flagged["id"]}" is already deleted.',
        OK,
    ]
    assert api.find("build", old["id"]) is None
    assert api.find("build", flagged["id"]) is None


def test_delete_force_confirmed_json(logged_in: Any, api: SimApi, loaded: dict) -> None:
    r = logged_in("product delete -p P -f -b -q -z json")
    assert r.status == 0, r.out
    assert json.loads(r.out) == {}
    assert product_names(api) == []
    assert api.find("build", loaded["old"]["id"]) is None


def test_delete_builds_without_force(logged_in: Any, api: SimApi) -> None:
    build = api.zombie(api.product("P"), "z")
    r = logged_in("product delete -p P --builds -q")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        'Product "P" is deleted successfully.',
        f'Deployment "{build["id"]}" is deleted successfully.',
        OK,
    ]


def test_delete_builds_flagged_zombie_needs_force(logged_in: Any, api: SimApi) -> None:
    build = api.zombie(api.product("P"), "z", flagged=True)
    r = logged_in("product delete -p P --builds -q")
    assert r.status == 1
    assert r.out.splitlines() == [
        'Product "P" is deleted successfully.',
        "Error: Resource Flagged: You cannot delete flagged deployments; set the flagged "
        "attribute to false and try again.",
        FAILS,
    ]
    assert api.find("build", build["id"]) is not None


def test_delete_force_builds_unflags_zombie(logged_in: Any, api: SimApi) -> None:
    build = api.zombie(api.product("P"), "z", flagged=True)
    r = logged_in("product delete -p P --builds --force", stdin="y\n")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert (
        'The following Deployments are marked "flagged" to prevent deleting. They will be '
        'modified by setting "flagged" attribute to false:'
    ) in lines
    assert lines[-4:] == [
        f'Deployment "{build["id"]}" is updated successfully.',
        'Product "P" is deleted successfully.',
        f'Deployment "{build["id"]}" is deleted successfully.',
        OK,
    ]
    assert api.find("build", build["id"]) is None


def test_delete_summary_caps_at_five(logged_in: Any, api: SimApi, sim: Any) -> None:
    sim_control(sim, "devices", {"count": 4})
    product = api.product("P")
    dg = api.dg(product, "DG")
    api.assign(dg, *api.devices())  # 7 devices
    r = logged_in("product delete -p P -f", stdin="n\n")
    lines = r.out.splitlines()
    assert lines.count("Device: ") == 5
    assert "And 2 more Device(s)." in lines


def test_delete_syntax(logged_in: Any) -> None:
    r = logged_in("product delete -p P --force false")
    assert r.out.splitlines()[-2:] == [
        'Error: Option "--force" has incorrect value "false".',
        FAILS,
    ]
    r = logged_in("product delete -p P -q xyz")
    assert r.out.splitlines()[-2:] == ["Error: Unknown arguments: xyz.", FAILS]
    r = logged_in("product delete -qz json")
    assert r.out.splitlines()[-2:] == ["Error: Unknown argument: qz", FAILS]


# -- request economy --------------------------------------------------------------------------


def test_info_by_name_request_economy(logged_in: Any, api: SimApi) -> None:
    api.product("P")
    api.product("Q")
    _me_id(logged_in)
    sent = logged_in.record_requests()
    assert logged_in("product info -p P").status == 0
    lists = [c for c in sent.calls if c == ("GET", "/products")]
    assert len(lists) == 1, sent.calls
    sent.clear()
    assert logged_in("product list").status == 0
    assert sent.calls == [("GET", "/products")]
    sent.clear()
    assert logged_in("product update -p Q -s x").status == 0
    assert ("GET", "/products") not in sent.calls  # resolved from the session cache
