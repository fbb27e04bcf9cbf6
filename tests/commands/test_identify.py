"""Entity identification (commands.md §4) through real commands: attribute order, ambiguity,
hierarchical identifiers, not-found forms and request economy."""

from __future__ import annotations

import json
from typing import Any

from imptsh.cache import EntityCache
from imptsh.completion.refresher import summarize
from imptsh.identify import Identifier
from tests.conftest import FAILS, FAST_RETRY, SimApi, sim_control

IMPOSSIBLE = "Impossible to execute the command."


def _found(logged_in: Any, line: str, type_name: str) -> str:
    """Runs an info command in json mode and returns the id of the entity it showed."""
    r = logged_in(line + " -z json")
    assert r.status == 0, r.out
    return json.loads(r.out)[type_name]["id"]


def _fails(logged_in: Any, line: str, message: str) -> None:
    r = logged_in(line)
    assert r.status == 1, r.out
    assert r.out.splitlines() == [f"Error: {message}", FAILS]
    r = logged_in(line + " -z json")
    assert r.status == 1
    assert json.loads(r.out) == {"Error": message}


# -- ambiguity --------------------------------------------------------------------------------


def test_ambiguous_device_name_lists_candidates(logged_in: Any, api: SimApi, sim: Any) -> None:
    a, b, c = api.devices()
    api.rename(a, "twin")
    api.rename(b, "twin")
    seeded = sim_control(sim, "devices", {"devices": [{"name": "twin"}]})["data"][0]
    r = logged_in("device info --device twin")
    assert r.status == 1
    lines = r.out.splitlines()
    assert lines[0] == 'Error: Multiple Devices "twin" are found:'
    assert lines[-2:] == [IMPOSSIBLE, FAILS]
    candidates = lines[1:-2]
    assert candidates.count("Device: ") == 3
    for device in (a, b, seeded):
        assert f"  id:            {device['id']}" in candidates
        assert f"  mac_address:   {device['attributes']['mac_address']}" in candidates
    assert candidates.count("  name:          twin") == 3
    assert c["id"] not in r.out
    assert "Owner" not in r.out  # the candidates are the current account's


def test_ambiguous_device_modes(logged_in: Any, api: SimApi) -> None:
    a, b, _ = api.devices()
    api.rename(a, "twin")
    api.rename(b, "twin")
    r = logged_in("device info --device twin")
    lines = r.out.splitlines()
    assert lines[0] == 'Error: Multiple Devices "twin" are found:'
    assert lines.count("Device: ") == 2 and lines[-2:] == [IMPOSSIBLE, FAILS]
    r = logged_in("device info --device twin -z minimal")
    assert r.status == 1
    assert r.out.splitlines() == lines[:-2]  # no hint, no status line
    r = logged_in("device info --device twin -z json")
    assert r.status == 1
    assert json.loads(r.out) == {"Error": 'Multiple Devices "twin" are found:'}
    # the device's id still identifies it
    assert _found(logged_in, f"device info -d {a['id']}", "Device") == a["id"]


def test_ambiguous_product_across_owners(logged_in: Any, api: SimApi, other: dict) -> None:
    mine = api.product("P")
    theirs = api.product("P", owner=other["id"])
    r = logged_in("product info -p P")
    assert r.status == 1
    assert r.out.splitlines() == [
        'Error: Multiple Products "P" are found:',
        "Product: ",
        f"  id:   {mine['id']}",
        "  name: P",
        "Product: ",
        f"  id:    {theirs['id']}",
        "  name:  P",
        "  Owner: ",
        f"    id:       {other['id']}",
        "    email:    other@example.com",
        "    username: other",
        IMPOSSIBLE,
        FAILS,
    ]


def test_ambiguous_product_resolved_by_hierarchy_or_id(
    logged_in: Any, api: SimApi, other: dict
) -> None:
    mine = api.product("P")
    theirs = api.product("P", owner=other["id"])
    r = logged_in("product info -p P")
    assert r.status == 1
    lines = r.out.splitlines()
    assert lines[0] == 'Error: Multiple Products "P" are found:'
    assert f"  id:    {theirs['id']}" in lines and lines[-2:] == [IMPOSSIBLE, FAILS]
    assert f"    id:       {other['id']}" in lines
    # the hierarchical form picks one
    assert _found(logged_in, "product info -p {me}{P}", "Product") == mine["id"]
    assert _found(logged_in, "product info -p {other}{P}", "Product") == theirs["id"]
    assert _found(logged_in, "product info -p {other@example.com}{P}", "Product") == theirs["id"]
    assert _found(logged_in, f"product info -p {{{other['id']}}}{{P}}", "Product") == theirs["id"]
    # the id always works
    assert _found(logged_in, f"product info -p {theirs['id']}", "Product") == theirs["id"]


def test_ambiguous_dg_name(logged_in: Any, api: SimApi) -> None:
    p1, p2 = api.product("P1"), api.product("P2")
    g1, g2 = api.dg(p1, "DG"), api.dg(p2, "DG")
    r = logged_in("dg info -g DG")
    assert r.status == 1
    lines = r.out.splitlines()
    assert lines[0] == 'Error: Multiple Device Groups "DG" are found:'
    assert lines[1:5] == [
        "Device Group: ",
        f"  id:      {g1['id']}",
        "  type:    development",
        "  name:    DG",
    ]
    assert lines[5:8] == ["  Product: ", f"    id:   {p1['id']}", "    name: P1"]
    assert lines[-2:] == [IMPOSSIBLE, FAILS]
    assert _found(logged_in, "dg info -g {me}{P2}{DG}", "Device Group") == g2["id"]
    assert _found(logged_in, "dg info -g {demo}{P1}{DG}", "Device Group") == g1["id"]


# -- hierarchical identifiers -------------------------------------------------------------------


def test_hierarchical_empty_parts(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "DG")
    _fails(logged_in, "product info -p {}{P}", "No Account Identifier is specified.")
    _fails(logged_in, "product info -p {me}{}", "No Product Identifier is specified.")
    _fails(logged_in, "dg info -g {}{P}{DG}", "No Account Identifier is specified.")
    _fails(logged_in, "dg info -g {me}{}{DG}", "No Product Identifier is specified.")
    _fails(logged_in, "dg info -g {me}{P}{}", "No Device Group Identifier is specified.")


def test_hierarchical_not_found_forms(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "DG")
    # the failing level is reported with its own type and part
    _fails(logged_in, "product info -p {nobody}{P}", 'Account "nobody" is not found.')
    _fails(logged_in, "product info -p {me}{X}", 'Product "X" is not found.')
    _fails(logged_in, "dg info -g {me}{X}{DG}", 'Product "X" is not found.')
    _fails(logged_in, "dg info -g {me}{P}{X}", 'Device Group "X" is not found.')
    # a wrong number of parts is a plain identifier
    _fails(logged_in, "product info -p {P}", 'Product "{P}" is not found.')
    _fails(logged_in, "product info -p {me}{P}{}", 'Product "{me}{P}{}" is not found.')
    _fails(logged_in, "dg info -g {P}{DG}", 'Device Group "{P}{DG}" is not found.')
    _fails(
        logged_in,
        "dg info -g not-exist-device-group",
        'Device Group "not-exist-device-group" is not found.',
    )


def test_hierarchical_other_owner_is_not_mine(logged_in: Any, api: SimApi, other: dict) -> None:
    api.dg(api.product("Theirs", owner=other["id"]), "DG")
    _fails(logged_in, "product info -p {me}{Theirs}", 'Product "Theirs" is not found.')
    assert _found(logged_in, "dg info -g {other}{Theirs}{DG}", "Device Group")


def test_hierarchical_falls_back_to_plain_name(logged_in: Any, api: SimApi) -> None:
    odd = api.product("{me}{Z}")  # no product Z: the literal name is used
    assert _found(logged_in, "product info -p {me}{Z}", "Product") == odd["id"]
    api.product("Z")
    real = [p for p in api.client.list("/products") if p["attributes"]["name"] == "Z"][0]
    # once the hierarchical form resolves, it wins
    assert _found(logged_in, "product info -p {me}{Z}", "Product") == real["id"]


def test_hierarchical_in_list_filters(logged_in: Any, api: SimApi) -> None:
    p1, p2 = api.product("P1"), api.product("P2")
    g1, g2 = api.dg(p1, "DG"), api.dg(p2, "DG")
    for g in (g1, g2):
        api.webhook(g, "https://example.com/", "blinkup")
    r = logged_in("webhook list -g {me}{P2}{DG} -z json")
    assert [w["Webhook"]["Device Group"]["id"] for w in json.loads(r.out)] == [g2["id"]]
    # an ambiguous plain filter selects every match; an unknown one nothing
    r = logged_in("webhook list -g DG -z json")
    assert len(json.loads(r.out)) == 2
    r = logged_in("webhook list -g {me}{P3}{DG}")
    assert r.out.splitlines() == ["No Webhooks are found.", "IMPT COMMAND SUCCEEDS"]


# -- devices ------------------------------------------------------------------------------------


def test_device_by_id_mac_agent_id_and_name(logged_in: Any, api: SimApi) -> None:
    a, b, c = api.devices()
    api.rename(c, "kitchen")
    c_assigned = api.assign(api.dg(api.product("P"), "DG"), c)[0]
    agent_id = c_assigned["attributes"]["agent_id"]
    assert agent_id
    assert _found(logged_in, f"device info -d {a['id']}", "Device") == a["id"]
    assert (
        _found(logged_in, f"device info -d {b['attributes']['mac_address']}", "Device") == b["id"]
    )
    assert _found(logged_in, f"device info -d {agent_id}", "Device") == c["id"]
    assert _found(logged_in, "device info -d kitchen", "Device") == c["id"]
    _fails(logged_in, "device info -d not-exist-device", 'Device "not-exist-device" is not found.')


def test_device_attribute_order(logged_in: Any, api: SimApi) -> None:
    a, b, _ = api.devices()
    # a device named like another device's MAC: the MAC match wins
    api.rename(a, b["attributes"]["mac_address"])
    assert (
        _found(logged_in, f"device info -d {b['attributes']['mac_address']}", "Device") == (b["id"])
    )
    # a device named like another device's id: the id wins
    api.rename(a, b["id"])
    assert _found(logged_in, f"device info -d {b['id']}", "Device") == b["id"]


# -- builds -------------------------------------------------------------------------------------


def test_build_by_sha_tag_origin(logged_in: Any, api: SimApi) -> None:
    dg = api.dg(api.product("P"), "DG")
    one = api.deploy(dg, "one", tags=["t1", "shared"], origin="github")
    two = api.deploy(dg, "two", tags=["shared"], origin="t1")
    three = api.deploy(dg, "three", origin="local")
    assert _found(logged_in, f"build info -b {one['id']}", "Deployment") == one["id"]
    assert _found(logged_in, f"build info -b {two['attributes']['sha']}", "Deployment") == two["id"]
    # `t1` is a tag of one and the origin of two: tags come first
    assert _found(logged_in, "build info -b t1", "Deployment") == one["id"]
    assert _found(logged_in, "build info -b local", "Deployment") == three["id"]
    r = logged_in("build info -b shared")
    assert r.status == 1
    lines = r.out.splitlines()
    assert lines[0] == 'Error: Multiple Deployments "shared" are found:'
    assert lines.count("Deployment: ") == 2
    assert lines[-2:] == [IMPOSSIBLE, FAILS]
    _fails(
        logged_in,
        "build info -b not-exist-deployment",
        'Deployment "not-exist-deployment" is not found.',
    )


def test_build_same_sha_is_ambiguous(logged_in: Any, api: SimApi) -> None:
    dg = api.dg(api.product("P"), "DG")
    first = api.deploy(dg, "same")
    api.deploy(dg, "same")
    r = logged_in(f"build info -b {first['attributes']['sha']}")
    assert r.status == 1
    assert (
        r.out.splitlines()[0]
        == f'Error: Multiple Deployments "{first["attributes"]["sha"]}" are found:'
    )


# -- accounts, login keys, webhooks ----------------------------------------------------------------


def test_account_forms(logged_in: Any, other: dict) -> None:
    assert _found(logged_in, "account info -u other", "Account") == other["id"]
    assert _found(logged_in, "account info -u other@example.com", "Account") == other["id"]
    _fails(logged_in, "account info -u not-exist-user", 'Account "not-exist-user" is not found.')


def test_id_only_entities(logged_in: Any, api: SimApi) -> None:
    _fails(
        logged_in,
        "loginkey info -k not-exist-loginkey",
        'Login Key "not-exist-loginkey" is not found.',
    )
    _fails(
        logged_in, "webhook info -w not-exist-webhook", 'Webhook "not-exist-webhook" is not found.'
    )


# -- request economy ----------------------------------------------------------------------------


def test_product_name_costs_one_list(logged_in: Any, api: SimApi) -> None:
    for n in range(3):
        api.product(f"P{n}")
    logged_in("account info")
    sent = logged_in.record_requests()
    assert logged_in("product info -p P1").status == 0
    assert sent.calls.count(("GET", "/products")) == 1, sent.calls
    assert [c for c in sent.calls if c[1].startswith("/products")][1:] == [
        ("GET", c[1]) for c in sent.calls if c[1].startswith("/products/")
    ]
    sent.clear()
    # an unknown name: still a single list request, no probing
    logged_in("product info -p nothing")
    assert sent.calls == [("GET", "/products")]
    sent.clear()
    # the session cache answers known names without listing again
    assert logged_in("product update -p P2 -s x").status == 0
    assert ("GET", "/products") not in sent.calls
    sent.clear()
    # an id is fetched directly
    pid = api.client.list("/products")[0]["id"]
    assert logged_in(f"product info -p {pid}").status == 0
    assert ("GET", "/products") not in sent.calls


def test_hierarchical_request_economy(logged_in: Any, api: SimApi) -> None:
    api.dg(api.product("P"), "DG")
    logged_in("account info")
    sent = logged_in.record_requests()
    assert logged_in("dg info -g {me}{P}{DG}").status == 0
    assert sent.calls.count(("GET", "/products")) <= 1
    assert sent.calls.count(("GET", "/devicegroups")) <= 1


# -- summaries from a background fill ---------------------------------------------------------


def _summaries(devices: list[dict[str, Any]]) -> EntityCache:
    """A cache as a background fill leaves it: every device as a summary."""
    cache = EntityCache()
    shared: dict[tuple[str, str], dict[str, str]] = {}
    summaries = [summarize("device", d, shared) for d in devices]
    cache.store("device", summaries, complete=True, summary=True)
    return cache


def test_an_entity_held_as_a_summary_is_fetched_whole(api: SimApi, sim: Any) -> None:
    """A background fill keeps summaries; identification hands commands the whole entity
    (one GET by id, no list), and leaves out one deleted or renamed since."""
    devices = api.devices()
    cache = _summaries(devices)
    assert "swversion" not in cache.get("device", devices[1]["id"])["attributes"]
    client = SimApi(sim).client
    client.retry = FAST_RETRY
    sent: list[str] = []
    client.observer = lambda exchange: sent.append(f"{exchange.method} {exchange.url}")
    found = Identifier(client, cache).resolve("device", "myDevice2")
    assert found["attributes"]["swversion"] and found["id"] == devices[1]["id"]
    assert sent == [f"GET {sim.base_url}/devices/{devices[1]['id']}"]
    assert not cache.is_summary("device", devices[1]["id"])  # now held whole
    api.rename(devices[0], "renamed")  # the summary still says myDevice1
    assert Identifier(client, _summaries(devices)).find_all("device", "myDevice1") == []
    api.delete("device", devices[2])
    assert Identifier(client, _summaries(devices)).find_all("device", "myDevice3") == []
