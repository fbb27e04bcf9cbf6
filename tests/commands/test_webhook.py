"""`webhook create|delete|info|list|update` against the simulator (commands.md §11.10)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ASK, CANCELED, FAILS, OK, SimApi, write_project

URL = "https://example.com/hook"


def _listed(logged_in: Any, line: str) -> list[str]:
    r = logged_in(line + " -z json")
    assert r.status == 0, r.out
    return [item["Webhook"]["id"] for item in json.loads(r.out)]


# -- create ---------------------------------------------------------------------------------


def test_create(logged_in: Any, api: SimApi) -> None:
    dg = api.dg(api.product("P"), "DG")
    r = logged_in(f"webhook create --dg DG --url {URL} --event deployment --mime json")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    wh_id = lines[0].split('"')[1]
    assert lines == [
        f'Webhook "{wh_id}" is created successfully.',
        "Webhook: ",
        f"  id:    {wh_id}",
        "  event: deployment",
        f"  url:   {URL}",
        OK,
    ]
    created = api.find("webhook", wh_id)
    assert created["attributes"]["content_type"] == "application/json"
    assert created["relationships"]["devicegroup"]["id"] == dg["id"]


def test_create_sends_typed_relationship(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "F", "pre_dut_devicegroup")
    sent = logged_in.record_requests()
    r = logged_in(f"webhook create -g F -u {URL} -e blessing -m urlencoded -z minimal")
    assert r.status == 0, r.out
    assert r.out.splitlines()[0] == "Webhook: "
    data = next(s.body for s in sent.sent if s.method == "POST")["data"]
    assert data["attributes"] == {
        "url": URL,
        "event": "blessing",
        "content_type": "application/x-www-form-urlencoded",
    }
    assert data["relationships"]["devicegroup"]["type"] == "pre_dut_devicegroup"


def test_create_json_and_debug(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "DG")
    r = logged_in(f"webhook create -g DG -u {URL} -e blinkup -m json -z json")
    assert r.status == 0
    block = json.loads(r.out)["Webhook"]
    assert list(block) == ["id", "event", "url"] and block["event"] == "blinkup"
    r = logged_in(f"webhook create -g DG -u {URL}/2 -e blinkup -m json -z debug")
    assert r.status == 0
    assert '"method": "POST"' in r.out and "is created successfully." in r.out
    assert r.out.splitlines()[-1] == OK


def test_create_hierarchical_dg(logged_in: Any, api: SimApi) -> None:
    p1, p2 = api.product("P1"), api.product("P2")
    api.dg(p1, "DG")
    dg2 = api.dg(p2, "DG")
    r = logged_in(f"webhook create -g DG -u {URL} -e deployment -m json")
    assert r.status == 1
    assert r.out.splitlines()[0] == 'Error: Multiple Device Groups "DG" are found:'
    assert r.out.splitlines()[-2:] == ["Impossible to execute the command.", FAILS]
    r = logged_in(f"webhook create -g {{me}}{{P2}}{{DG}} -u {URL} -e deployment -m json -z json")
    assert r.status == 0, r.out
    wh = api.find("webhook", json.loads(r.out)["Webhook"]["id"])
    assert wh["relationships"]["devicegroup"]["id"] == dg2["id"]


def test_create_invalid_url(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "DG")
    r = logged_in("webhook create -g DG -u not-a-url -e deployment -m json")
    assert r.status == 1
    assert r.out.splitlines() == ["Error: Invalid URL: The provided URL is invalid.", FAILS]
    assert _listed(logged_in, "webhook list") == []


def test_create_dg_errors(logged_in: Any, api: SimApi) -> None:
    r = logged_in(f"webhook create -g nope -u {URL} -e deployment -m json")
    assert r.out.splitlines() == ['Error: Device Group "nope" is not found.', FAILS]
    r = logged_in(f"webhook create -u {URL} -e deployment -m json")
    assert r.out.splitlines() == ["Error: No Device Group Identifier is specified.", FAILS]


def test_create_project_default(logged_in: Any, api: SimApi) -> None:
    dg = api.dg(api.product("P"), "DG")
    write_project(dg)
    r = logged_in(f"webhook create -u {URL} -e deployment -m json -z json")
    assert r.status == 0, r.out
    wh = api.find("webhook", json.loads(r.out)["Webhook"]["id"])
    assert wh["relationships"]["devicegroup"]["id"] == dg["id"]
    write_project("gone")
    r = logged_in(f"webhook create -u {URL} -e deployment -m json")
    assert r.status == 1
    assert r.out.splitlines() == [
        'Error: Device Group "gone", saved in Project File, does not exist anymore.',
        "Impossible to execute the command.",
        'Use "impt project delete" command to delete the outdated Project.',
        FAILS,
    ]


def test_create_syntax_errors(logged_in: Any) -> None:
    r = logged_in("webhook create -g DG")
    assert r.out.splitlines()[-2:] == [
        "Error: Missing required arguments: url, event, mime",
        FAILS,
    ]
    r = logged_in(f"webhook create -g DG -u {URL} -e sometimes -m json")
    assert r.out.splitlines()[-3:] == [
        "Error: Invalid values:",
        '  Argument: event, Given: "sometimes", Choices: "blessing", "blinkup", "deployment"',
        FAILS,
    ]
    r = logged_in(f"webhook create -g DG -u {URL} -e blinkup -m xml")
    assert 'Argument: mime, Given: "xml", Choices: "json", "urlencoded"' in r.out
    assert r.status == 1
    r = logged_in(["webhook", "create", "-u", "", "-e", "blinkup", "-m", "json"])
    assert 'Error: Option "--url" must not be empty.' in r.out
    r = logged_in("webhook create --help")
    assert (
        "Usage: impt webhook create [--dg <DEVICE_GROUP_IDENTIFIER>] --url <target_url> --event"
        in r.out.replace("\n", " ")
    )


# -- info -------------------------------------------------------------------------------------


def test_info(logged_in: Any, api: SimApi) -> None:
    product = api.product("P")
    dg = api.dg(product, "DG")
    wh = api.webhook(dg, event="blessing")
    r = logged_in(f"webhook info --wh {wh['id']}")
    assert r.status == 0, r.out
    lines = r.out.splitlines()
    assert lines[:5] == [
        "Webhook: ",
        f"  id:           {wh['id']}",
        f"  url:          {URL}",
        "  event:        blessing",
        "  content_type: json",
    ]
    assert [line.split(":")[0] for line in lines[5:7]] == ["  created_at", "  updated_at"]
    assert lines[7:-1] == [
        "  Device Group: ",
        f"    id:   {dg['id']}",
        "    type: development",
        "    name: DG",
        "  Product: ",
        f"    id:   {product['id']}",
        "    name: P",
    ]
    assert lines[-1] == OK
    data = json.loads(logged_in(f"webhook info -w {wh['id']} -z json").out)["Webhook"]
    assert data["content_type"] == "json"
    assert data["Device Group"] == {"id": dg["id"], "type": "development", "name": "DG"}
    assert "Owner" not in data and "Creator" not in data
    r = logged_in(f"webhook info -w {wh['id']} -z minimal")
    assert "  content_type: json" in r.out.splitlines() and OK not in r.out


def test_info_urlencoded_other_owner_and_debug(
    logged_in: Any, api: SimApi, other: dict[str, Any]
) -> None:
    dg = api.dg(api.product("Theirs", owner=other["id"]), "DG")
    wh = api.webhook(dg)
    assert logged_in(f"webhook update -w {wh['id']} -m urlencoded").status == 0
    r = logged_in(f"webhook info -w {wh['id']} -z debug")
    assert r.status == 0
    assert "  content_type: urlencoded" in r.out.splitlines()
    assert "Doing the request with options:" in r.out
    data = json.loads(logged_in(f"webhook info -w {wh['id']} -z json").out)["Webhook"]
    assert data["Owner"] == {"id": other["id"], "email": "other@example.com", "username": "other"}


@pytest.mark.parametrize("ident", ["not-exist-webhook", "00000000-0000-0000-0000-000000000000"])
def test_info_not_found(logged_in: Any, ident: str) -> None:
    r = logged_in(f"webhook info --wh {ident}")
    assert r.status == 1
    assert r.out.splitlines() == [f'Error: Webhook "{ident}" is not found.', FAILS]
    r = logged_in(f"webhook info --wh {ident} -z json")
    assert json.loads(r.out) == {"Error": f'Webhook "{ident}" is not found.'}
    r = logged_in("webhook info")
    assert r.out.splitlines()[-2:] == ["Error: Missing required argument: wh", FAILS]
    r = logged_in("webhook info --wh")
    assert r.out.splitlines()[-2:] == ["Error: Not enough arguments following: wh", FAILS]


# -- update -----------------------------------------------------------------------------------


def test_update(logged_in: Any, api: SimApi) -> None:
    wh = api.webhook(api.dg(api.product("P"), "DG"))
    r = logged_in(f"webhook update --wh {wh['id']} --url https://example.org/new --mime urlencoded")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [f'Webhook "{wh["id"]}" is updated successfully.', OK]
    attrs = api.find("webhook", wh["id"])["attributes"]
    assert attrs["url"] == "https://example.org/new"
    assert attrs["content_type"] == "application/x-www-form-urlencoded"
    r = logged_in(f"webhook update -w {wh['id']} -m json -z json")
    assert r.status == 0 and json.loads(r.out) == {}
    assert api.find("webhook", wh["id"])["attributes"]["content_type"] == "application/json"
    r = logged_in(f"webhook update -w {wh['id']} -u https://example.org/3 -z minimal")
    assert r.status == 0 and r.out == ""
    assert api.find("webhook", wh["id"])["attributes"]["url"] == "https://example.org/3"
    r = logged_in(f"webhook update -w {wh['id']} -u https://example.org/4 -z debug")
    assert '"method": "PATCH"' in r.out
    assert r.out.splitlines()[-2:] == [f'Webhook "{wh["id"]}" is updated successfully.', OK]


def test_update_errors(logged_in: Any, api: SimApi) -> None:
    wh = api.webhook(api.dg(api.product("P"), "DG"))
    r = logged_in(f"webhook update -w {wh['id']} -u bad-url")
    assert r.out.splitlines() == ["Error: Invalid URL: The provided URL is invalid.", FAILS]
    assert api.find("webhook", wh["id"])["attributes"]["url"] == URL
    r = logged_in("webhook update -w not-exist-webhook -u https://example.org")
    assert r.out.splitlines() == ['Error: Webhook "not-exist-webhook" is not found.', FAILS]
    r = logged_in(f"webhook update -w {wh['id']} -m text")
    assert 'Argument: mime, Given: "text", Choices: "json", "urlencoded"' in r.out
    r = logged_in("webhook update -u https://example.org")
    assert r.out.splitlines()[-2:] == ["Error: Missing required argument: wh", FAILS]


# -- delete -----------------------------------------------------------------------------------


def _summary(wh: dict) -> list[str]:
    return [
        "The following entities will be deleted:",
        "Webhook: ",
        f"  id:    {wh['id']}",
        f"  event: {wh['attributes']['event']}",
        f"  url:   {wh['attributes']['url']}",
        "",
        "Are you sure you want to continue?",
    ]


def test_delete_yes(logged_in: Any, api: SimApi) -> None:
    wh = api.webhook(api.dg(api.product("P"), "DG"))
    r = logged_in(f"webhook delete --wh {wh['id']}", stdin="y\n")
    assert r.status == 0, r.out
    assert r.out.splitlines() == [
        *_summary(wh),
        ASK + "y",
        "",
        f'Webhook "{wh["id"]}" is deleted successfully.',
        OK,
    ]
    assert api.find("webhook", wh["id"]) is None


def test_delete_no_and_invalid(logged_in: Any, api: SimApi) -> None:
    wh = api.webhook(api.dg(api.product("P"), "DG"))
    r = logged_in(f"webhook delete --wh {wh['id']}", stdin="n\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_summary(wh), ASK + "n", "", CANCELED, FAILS]
    assert api.find("webhook", wh["id"]) is not None
    r = logged_in(f"webhook delete --wh {wh['id']} -z json", stdin="no\nn\n")
    assert r.status == 1
    assert r.out.splitlines() == [*_summary(wh), ASK + "no", "Invalid value!", ASK + "n", "", "{}"]
    r = logged_in(f"webhook delete --wh {wh['id']} -z minimal", stdin="x\ny\n")
    assert r.status == 0
    assert r.out.splitlines() == [*_summary(wh), ASK + "x", "Invalid value!", ASK + "y", ""]
    assert api.find("webhook", wh["id"]) is None


def test_delete_confirmed(logged_in: Any, api: SimApi) -> None:
    dg = api.dg(api.product("P"), "DG")
    a, b = api.webhook(dg), api.webhook(dg)
    r = logged_in(f"webhook delete -w {a['id']} -q")
    assert r.out.splitlines() == [f'Webhook "{a["id"]}" is deleted successfully.', OK]
    r = logged_in(f"webhook delete -w {b['id']} --confirmed -z debug")
    assert '"method": "DELETE"' in r.out
    assert f'Webhook "{b["id"]}" is deleted successfully.' in r.out
    assert _listed(logged_in, "webhook list") == []


def test_delete_not_found(logged_in: Any) -> None:
    r = logged_in("webhook delete --wh not-exist-webhook", stdin="y\n")
    assert r.status == 1
    assert r.out.splitlines() == ['Error: Webhook "not-exist-webhook" is not found.', FAILS]


# -- list ---------------------------------------------------------------------------------------


def test_list_empty(logged_in: Any) -> None:
    assert logged_in("webhook list").out.splitlines() == ["No Webhooks are found.", OK]
    assert logged_in("webhook list -z minimal").out == ""
    assert json.loads(logged_in("webhook list -z json").out) == []


def test_list_output(logged_in: Any, api: SimApi, other: dict[str, Any]) -> None:
    dg = api.dg(api.product("P"), "DG")
    wh = api.webhook(dg)
    r = logged_in("webhook list")
    assert r.out.splitlines() == [
        "Webhook list (1 items):",
        "Webhook: ",
        f"  id:           {wh['id']}",
        "  event:        deployment",
        f"  url:          {URL}",
        "  Device Group: ",
        f"    id:   {dg['id']}",
        "    type: development",
        "    name: DG",
        OK,
    ]
    theirs = api.webhook(api.dg(api.product("Theirs", owner=other["id"]), "TDG"))
    data = json.loads(logged_in("webhook list -z json").out)
    assert [d["Webhook"]["id"] for d in data] == [wh["id"], theirs["id"]]
    assert "Owner" not in data[0]["Webhook"]
    assert data[1]["Webhook"]["Owner"]["id"] == other["id"]
    r = logged_in("webhook list -z debug")
    assert "Webhook list (2 items):" in r.out and r.out.splitlines()[-1] == OK


@pytest.fixture
def world(api: SimApi, other: dict[str, Any]) -> dict[str, Any]:
    """Two owners, three products, DGs of several types, five webhooks."""
    p1, p2 = api.product("P1"), api.product("P2")
    p3 = api.product("P3", owner=other["id"])
    d1 = api.dg(p1, "D1")
    d2 = api.dg(p1, "D2", "pre_production_devicegroup")
    d3 = api.dg(p2, "D1")
    d4 = api.dg(p3, "D4", "pre_dut_devicegroup")
    return {
        "other": other,
        "w1": api.webhook(d1, "https://a.example.com/", "deployment")["id"],
        "w2": api.webhook(d2, "https://b.example.com/", "blessing")["id"],
        "w3": api.webhook(d3, "https://a.example.com/", "blinkup")["id"],
        "w4": api.webhook(d4, "https://b.example.com/", "deployment")["id"],
        "w5": api.webhook(d1, "https://c.example.com/", "blinkup")["id"],
        "d1": d1["id"],
        "p1": p1["id"],
    }


@pytest.mark.parametrize(
    "filters, expected",
    [
        ("", ["w1", "w2", "w3", "w4", "w5"]),
        ("--owner me", ["w1", "w2", "w3", "w5"]),
        ("-o other", ["w4"]),
        ("-o other -o demo", ["w1", "w2", "w3", "w4", "w5"]),
        ("-o nobody", []),
        ("--product P1", ["w1", "w2", "w5"]),
        ("-p P1 -p P3", ["w1", "w2", "w4", "w5"]),
        ("-p {me}{P2}", ["w3"]),
        ("-p nothing", []),
        ("--dg D1", ["w1", "w5", "w3"]),  # ambiguous: every match, one list per DG
        ("-g D1 -p P1", ["w1", "w5"]),
        ("-g {me}{P2}{D1}", ["w3"]),
        ("-g D2 -g D4", ["w2", "w4"]),
        ("-g nothing", []),
        ("--dg-type development", ["w1", "w3", "w5"]),
        ("-y pre-production -y pre-dut", ["w2", "w4"]),
        ("-y production", []),
        ("--url https://a.example.com/", ["w1", "w3"]),
        ("-u https://a.example.com", []),  # exact match only
        ("-u https://a.example.com/ -u https://c.example.com/", ["w1", "w3", "w5"]),
        ("--event blinkup", ["w3", "w5"]),
        ("-e blessing -e deployment", ["w1", "w2", "w4"]),
        ("-o me -y development -e blinkup -u https://c.example.com/", ["w5"]),
    ],
)
def test_list_filters(logged_in: Any, world: dict, filters: str, expected: list[str]) -> None:
    assert _listed(logged_in, f"webhook list {filters}") == [world[w] for w in expected]


def test_list_filter_by_owner_id_and_dg_id(logged_in: Any, world: dict) -> None:
    assert _listed(logged_in, f"webhook list -o {world['other']['id']}") == [world["w4"]]
    assert _listed(logged_in, f"webhook list -g {world['d1']}") == [world["w1"], world["w5"]]
    assert _listed(logged_in, f"webhook list -p {world['p1']} -e deployment") == [world["w1"]]


def test_list_filter_errors(logged_in: Any) -> None:
    r = logged_in("webhook list -y office")
    assert 'Argument: dg-type, Given: "office", Choices: "development", "pre-factory"' in r.out
    r = logged_in("webhook list -e never")
    assert 'Argument: event, Given: "never"' in r.out
    assert r.status == 1
    r = logged_in(["webhook", "list", "--dg", ""])
    assert r.out.splitlines() == ["Error: No Device Group Identifier is specified.", FAILS]
    r = logged_in(["webhook", "list", "--product", ""])
    assert r.out.splitlines() == ["Error: No Product Identifier is specified.", FAILS]


def test_list_empty_dg_uses_project(logged_in: Any, world: dict) -> None:
    write_project(world["d1"])
    assert _listed(logged_in, 'webhook list --dg ""') == [world["w1"], world["w5"]]
    assert _listed(logged_in, 'webhook list --product ""') == [
        world["w1"],
        world["w2"],
        world["w5"],
    ]


def test_list_request_economy(logged_in: Any, world: dict) -> None:
    logged_in("account info")
    sent = logged_in.record_requests()
    logged_in("account info")  # me is remembered
    assert sent.calls == []
    assert len(_listed(logged_in, "webhook list -o me -p P1 -y development")) == 2
    # `me` is remembered: one product list to resolve P1, one webhook list, one bulk device
    # group list; never one request per webhook
    assert sent.calls == [
        ("GET", "/products"),
        ("GET", "/webhooks"),
        ("GET", "/devicegroups"),
    ]
    sent.clear()
    assert len(_listed(logged_in, "webhook list -g D2")) == 1
    hooks = [s for s in sent.sent if s.path == "/webhooks"]
    assert len(hooks) == 1 and hooks[0].params["filter[devicegroup.id]"]
    # with every DG cached, an artificial owner filter costs one webhook list
    sent.clear()
    assert len(_listed(logged_in, "webhook list -o other")) == 1
    assert [s.path for s in sent.sent] in (["/webhooks"], ["/accounts", "/webhooks"])
