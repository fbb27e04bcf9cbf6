"""Entity views (commands.md §3.2, §3.3) rendered with impt's text formatter."""

from __future__ import annotations

import json
from typing import Any

from imptsh.output.render import Corrupted, format_json, format_text
from imptsh.views import (
    corrupted_message,
    dg_full_extras,
    dg_full_view,
    ident_info,
    info_view,
    list_header,
    list_view,
    list_views,
    more_marker,
    no_items_message,
    product_full_view,
    project_view,
    short_view,
    truncate_blocks,
)

ME = "c1d61eef-d544-4d09-c8dc-d43e6742cae3"
OTHER = "5a1b2c3d-0000-4000-8000-00000000abcd"
SHA1 = "4c6d8b2f9b1a7e3c5d0f2a4b6c8e0d1f3a5b7c9e1d3f5a7b9c1e3d5f7a9b1c3d"
SHA2 = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
TS = "2018-07-22T11:27:49.633Z"


def account(acc_id: str, username: str, email: str) -> dict[str, Any]:
    return {
        "type": "account",
        "id": acc_id,
        "attributes": {"username": username, "email": email},
        "relationships": {},
    }


def product(prod_id: str, name: str, owner: str = ME) -> dict[str, Any]:
    return {
        "type": "product",
        "id": prod_id,
        "attributes": {
            "name": name,
            "description": "My test product",
            "created_at": TS,
            "updated_at": TS,
        },
        "relationships": {
            "owner": {"type": "account", "id": owner},
            "creator": {"type": "account", "id": owner},
        },
    }


def dg(
    dg_id: str, api_type: str, name: str, prod_id: str = "prod-1", **rels: str
) -> dict[str, Any]:
    relationships: dict[str, Any] = {
        "product": {"type": "product", "id": prod_id},
        "owner": {"type": "account", "id": ME},
        "creator": {"type": "account", "id": ME},
    }
    for rel, target in rels.items():
        rel_type = "deployment" if rel.endswith("deployment") else f"{target.split(':')[0]}"
        relationships[rel] = {"type": rel_type, "id": target.split(":")[-1]}
    return {
        "type": api_type,
        "id": dg_id,
        "attributes": {
            "name": name,
            "description": f"{name} group",
            "region": None,
            "created_at": TS,
            "updated_at": TS,
            "env_vars": {"URL": "https://example.com", "LEVEL": 2},
        },
        "relationships": relationships,
    }


def deployment(
    dep_id: str, sha: str, dg_id: str | None, *, tags: list[str], flagged: bool, origin: Any
) -> dict[str, Any]:
    relationships: dict[str, Any] = {
        "product": {"type": "product", "id": "prod-1"},
        "owner": {"type": "account", "id": ME},
        "creator": {"type": "account", "id": ME},
    }
    if dg_id is not None:
        relationships["devicegroup"] = {"type": "development_devicegroup", "id": dg_id}
    return {
        "type": "deployment",
        "id": dep_id,
        "attributes": {
            "device_code": 'server.log("Hello World, from your Device!");',
            "agent_code": 'server.log("Hello World, from your Agent!");\n// end',
            "description": "",
            "origin": origin,
            "flagged": flagged,
            "tags": tags,
            "sha": sha,
            "created_at": TS,
            "updated_at": TS,
        },
        "relationships": relationships,
    }


def device(dev_id: str, name: str | None, dg_id: str | None, online: bool = True) -> dict[str, Any]:
    relationships: dict[str, Any] = {"owner": {"type": "account", "id": ME}}
    if dg_id is not None:
        relationships["devicegroup"] = {"type": "development_devicegroup", "id": dg_id}
        relationships["product"] = {"type": "product", "id": "prod-1"}
    return {
        "type": "device",
        "id": dev_id,
        "attributes": {
            "name": name,
            "agent_id": f"agent-{dev_id}",
            "agent_url": f"https://agent.electricimp.com/agent-{dev_id}",
            "device_online": online,
            "device_state_changed_at": TS,
            "agent_running": True,
            "agent_state_changed_at": None,
            "last_enrolled_at": TS,
            "imp_type": "imp001",
            "ip_address": "93.80.11.190",
            "mac_address": "0c:2a:69:05:0d:62",
            "free_memory": 84720,
            "rssi": -51,
            "swversion": "1ae4c87 - release-36.13 - Wed Dec 20 10:52:30 2017 - production",
            "plan_id": None,
        },
        "relationships": relationships,
    }


def webhook(wh_id: str, dg_id: str, event: str, content_type: str) -> dict[str, Any]:
    return {
        "type": "webhook",
        "id": wh_id,
        "attributes": {
            "url": f"https://example.com/{event}",
            "event": event,
            "content_type": content_type,
        },
        "relationships": {"devicegroup": {"type": "production_devicegroup", "id": dg_id}},
    }


ACCOUNTS = [account(ME, "username", "user@email.com"), account(OTHER, "other", "o@ex.com")]
PRODUCTS = [product("prod-1", "MyProduct"), product("prod-2", "TheirProduct", owner=OTHER)]
DEP1 = deployment("dep-1", SHA1, "dg-dev", tags=["RC1", "stable"], flagged=True, origin="github")
DEP2 = deployment("dep-2", SHA2, "dg-dev", tags=[], flagged=False, origin=None)
DGS = [
    dg(
        "dg-dev",
        "development_devicegroup",
        "MyDG",
        current_deployment="dep-1",
        min_supported_deployment="dep-2",
    ),
    dg(
        "dg-fac",
        "factoryfixture_devicegroup",
        "Fixtures",
        production_target="production_devicegroup:dg-prod",
        dut_target="dut_devicegroup:dg-dut",
    ),
    dg("dg-prod", "production_devicegroup", "Prod"),
    dg("dg-dut", "dut_devicegroup", "DUT"),
]
DEVICES = [device("dev-1", "MyDevice", "dg-dev")]
INDEX: dict[tuple[str, str], dict[str, Any]] = {}
for kind, items in (
    ("account", ACCOUNTS),
    ("product", PRODUCTS),
    ("dg", DGS),
    ("build", [DEP1, DEP2]),
    ("device", DEVICES),
):
    for item in items:
        INDEX[(kind, item["id"])] = item

CALLS: list[tuple[str, str]] = []


def related(kind: str, entity_id: str) -> dict[str, Any] | None:
    CALLS.append((kind, entity_id))
    return INDEX.get((kind, entity_id))


def text(obj: Any, **kw: Any) -> str:
    return format_text(obj, **kw)


# --- product -------------------------------------------------------------------------------


def test_product_list_block_with_owner() -> None:
    block = list_view("product", PRODUCTS[1], related, me_id=ME)
    assert text(block) == (
        "Product: \n"
        "  id:    prod-2\n"
        "  name:  TheirProduct\n"
        "  Owner: \n"
        "    id:       5a1b2c3d-0000-4000-8000-00000000abcd\n"
        "    email:    o@ex.com\n"
        "    username: other"
    )


def test_product_list_block_without_owner_when_mine() -> None:
    CALLS.clear()
    block = list_view("product", PRODUCTS[0], related, me_id=ME)
    assert text(block) == "Product: \n  id:   prod-1\n  name: MyProduct"
    assert CALLS == []  # the current account is not even looked up


def test_product_list_json() -> None:
    blocks = list_views("product", PRODUCTS, related, me_id=ME)
    assert json.loads(format_json(blocks)) == [
        {"Product": {"id": "prod-1", "name": "MyProduct"}},
        {
            "Product": {
                "id": "prod-2",
                "name": "TheirProduct",
                "Owner": {"id": OTHER, "email": "o@ex.com", "username": "other"},
            }
        },
    ]


def test_product_info_shows_owner_and_creator_when_not_me() -> None:
    block = info_view("product", PRODUCTS[1], related, me_id=ME)
    assert list(block["Product"]) == [
        "id",
        "name",
        "description",
        "created_at",
        "updated_at",
        "Owner",
        "Creator",
    ]
    assert text(info_view("product", PRODUCTS[1], related)) == text(block)


# --- device group --------------------------------------------------------------------------


def test_dg_short_and_list_view() -> None:
    assert short_view("dg", DGS[0]) == {
        "Device Group": {"id": "dg-dev", "type": "development", "name": "MyDG"}
    }
    assert text(list_view("dg", DGS[0], related, me_id=ME), minimal=True) == (
        "Device Group: \n"
        "  id:      dg-dev\n"
        "  type:    development\n"
        "  name:    MyDG\n"
        "  Product: \n"
        "    id:   prod-1\n"
        "    name: MyProduct"
    )


def test_dg_unknown_type() -> None:
    weird = dict(DGS[2], type="mystery_devicegroup")
    assert short_view("dg", weird)["Device Group"]["type"] == "unknown"


def test_dg_info_with_targets() -> None:
    block = info_view("dg", DGS[1], related, me_id=ME)
    assert text(block) == (
        "Device Group: \n"
        "  id:                dg-fac\n"
        "  type:              factory\n"
        "  name:              Fixtures\n"
        "  description:       Fixtures group\n"
        "  region:            \n"
        "  created_at:        2018-07-22T11:27:49.633Z\n"
        "  updated_at:        2018-07-22T11:27:49.633Z\n"
        "  env_vars: \n"
        "    URL:   https://example.com\n"
        "    LEVEL: 2\n"
        "  Product: \n"
        "    id:   prod-1\n"
        "    name: MyProduct\n"
        "  Production Target: \n"
        "    id:   dg-prod\n"
        "    type: production\n"
        "    name: Prod\n"
        "  DUT Target: \n"
        "    id:   dg-dut\n"
        "    type: dut\n"
        "    name: DUT"
    )


def test_dg_info_with_deployments() -> None:
    fields = info_view("dg", DGS[0], related, me_id=ME)["Device Group"]
    assert list(fields)[-3:] == ["Product", "Current Deployment", "Min supported Deployment"]
    assert fields["Current Deployment"] == {
        "id": "dep-1",
        "sha": SHA1,
        "tags": ["RC1", "stable"],
        "origin": "github",
        "flagged": True,
    }
    assert fields["Min supported Deployment"] == {"id": "dep-2", "sha": SHA2}


# --- device --------------------------------------------------------------------------------


def test_device_info_with_dg_and_current_deployment() -> None:
    block = info_view("device", DEVICES[0], related, me_id=ME, ident="MyDevice")
    assert text(block, minimal=True) == (
        "Device: \n"
        "  id:                      dev-1\n"
        "  name:                    MyDevice\n"
        "  agent_id:                agent-dev-1\n"
        "  agent_url:               https://agent.electricimp.com/agent-dev-1\n"
        "  device_online:           true\n"
        "  device_state_changed_at: 2018-07-22T11:27:49.633Z\n"
        "  agent_running:           true\n"
        "  agent_state_changed_at:  \n"
        "  last_enrolled_at:        2018-07-22T11:27:49.633Z\n"
        "  imp_type:                imp001\n"
        "  ip_address:              93.80.11.190\n"
        "  mac_address:             0c:2a:69:05:0d:62\n"
        "  free_memory:             84720\n"
        "  rssi:                    -51\n"
        "  swversion:               1ae4c87 - release-36.13 - Wed Dec 20 10:52:30 2017"
        " - production\n"
        "  plan_id:                 \n"
        "  Device Group: \n"
        "    id:                 dg-dev\n"
        "    type:               development\n"
        "    name:               MyDG\n"
        "    Current Deployment: \n"
        f"      id:      dep-1\n"
        f"      sha:     {SHA1}\n"
        "      tags:    RC1,stable\n"
        "      origin:  github\n"
        "      flagged: true\n"
        "  Product: \n"
        "    id:   prod-1\n"
        "    name: MyProduct"
    )


def test_device_list_view_has_no_current_deployment_and_skips_offline() -> None:
    offline = device("dev-2", None, "dg-dev", online=False)
    fields = list_view("device", offline, related, me_id=ME)["Device"]
    assert list(fields) == ["id", "mac_address", "agent_id", "Device Group"]
    assert fields["Device Group"] == {"id": "dg-dev", "type": "development", "name": "MyDG"}
    assert list(list_view("device", DEVICES[0], related, me_id=ME)["Device"]) == [
        "id",
        "name",
        "mac_address",
        "agent_id",
        "device_online",
        "Device Group",
    ]


def test_unassigned_device_info_has_no_dg() -> None:
    fields = info_view("device", device("dev-3", "Free", None), related, me_id=ME)["Device"]
    assert "Device Group" not in fields
    assert "Product" not in fields


# --- deployment ----------------------------------------------------------------------------


def test_deployment_short_view_with_tags_and_flagged() -> None:
    block = short_view("build", DEP1)
    expected = (
        "Deployment: \n"
        "  id:      dep-1\n"
        f"  sha:     {SHA1}\n"
        "  tags:    RC1, stable\n"
        "  origin:  github\n"
        "  flagged: true"
    )
    assert text(block) == expected
    assert text(block, minimal=True) == expected.replace("RC1, stable", "RC1,stable")
    assert json.loads(format_json(block))["Deployment"]["tags"] == ["RC1", "stable"]


def test_deployment_short_view_skips_empty() -> None:
    assert short_view("build", DEP2) == {"Deployment": {"id": "dep-2", "sha": SHA2}}


def test_deployment_info_view_keeps_empties_and_code_blocks() -> None:
    block = info_view("build", DEP2, related, me_id=ME)
    rendered = text(block)
    assert rendered.startswith(
        "Deployment: \n"
        "  id:           dep-2\n"
        '  device_code:  server.log("Hello World, from your Device!");\n'
        "  agent_code: \n"
        '    """\n'
        '      server.log("Hello World, from your Agent!");\n'
        "      // end\n"
        '    """\n'
        "  description:  \n"
        "  origin:       \n"
        "  flagged:      false\n"
        "  tags:         \n"
        f"  sha:          {SHA2}\n"
    )
    assert rendered.endswith(
        "  Device Group: \n"
        "    id:   dg-dev\n"
        "    type: development\n"
        "    name: MyDG\n"
        "  Product: \n"
        "    id:   prod-1\n"
        "    name: MyProduct"
    )
    assert json.loads(format_json(block))["Deployment"]["tags"] == ""


# --- webhook / account / login key ---------------------------------------------------------


def test_webhook_views() -> None:
    wh = webhook("wh-1", "dg-prod", "blessing", "application/x-www-form-urlencoded")
    assert short_view("webhook", wh) == {
        "Webhook": {"id": "wh-1", "event": "blessing", "url": "https://example.com/blessing"}
    }
    fields = info_view("webhook", wh, related, me_id=ME)["Webhook"]
    assert fields["content_type"] == "urlencoded"
    assert fields["Device Group"] == {"id": "dg-prod", "type": "production", "name": "Prod"}
    odd = webhook("wh-2", "dg-prod", "blinkup", "text/plain")
    assert info_view("webhook", odd, related)["Webhook"]["content_type"] == "unknown"


def test_account_and_login_key_views() -> None:
    assert text(short_view("account", ACCOUNTS[0])) == (
        "Account: \n"
        "  id:       c1d61eef-d544-4d09-c8dc-d43e6742cae3\n"
        "  email:    user@email.com\n"
        "  username: username"
    )
    assert list(info_view("account", ACCOUNTS[0], related, me_id=ME)["Account"]) == [
        "id",
        "username",
        "email",
    ]
    key = {
        "type": "login_key",
        "id": "0123456789abcdef",
        "attributes": {"description": "", "usages": 0},
        "relationships": {},
    }
    assert short_view("loginkey", key) == {"Login Key": {"id": "0123456789abcdef", "usages": 0}}


# --- corrupted -----------------------------------------------------------------------------


def test_corrupted_relationship_without_display_name() -> None:
    gone = dict(DEP2, relationships={"devicegroup": {"type": "dut_devicegroup", "id": "dg-x"}})
    warnings: list[str] = []
    block = list_view("build", gone, related, me_id=ME, warnings=warnings)
    assert isinstance(block["Deployment"]["Corrupted Device Group"], Corrupted)
    assert text(block) == (
        "Deployment: \n"
        "  id:                     dep-2\n"
        f"  sha:                    {SHA2}\n"
        "  Corrupted Device Group: \n"
        "    id: dg-x"
    )
    assert text(block, color=True).endswith("    \x1b[32mid: \x1b[39m\x1b[31mdg-x\x1b[39m")
    assert warnings == [
        'Unexpected state. Deployment "dep-2" is related to corrupted Device Group "dg-x" '
        "which does not exist."
    ]


def test_corrupted_relationship_with_display_name() -> None:
    broken = dg("dg-b", "development_devicegroup", "Broken", current_deployment="dep-gone")
    broken["relationships"]["owner"] = {"type": "account", "id": "acc-gone"}
    warnings: list[str] = []
    fields = info_view("dg", broken, related, me_id=ME, warnings=warnings, ident="Broken")[
        "Device Group"
    ]
    assert fields["Current Deployment"] == {"id": "dep-gone"}
    assert isinstance(fields["Current Deployment"], Corrupted)
    assert fields["Owner"] == {"id": "acc-gone"}
    assert warnings == [
        corrupted_message('Device Group "Broken"', 'Deployment "dep-gone"'),
        corrupted_message('Device Group "Broken"', 'Account "acc-gone"'),
    ]


def test_corrupted_current_deployment_inside_device_info() -> None:
    broken = dg("dg-c", "development_devicegroup", "C", current_deployment="dep-gone")
    INDEX[("dg", "dg-c")] = broken
    try:
        warnings: list[str] = []
        dev = device("dev-9", "Nine", "dg-c")
        fields = info_view("device", dev, related, me_id=ME, warnings=warnings)["Device"]
        assert fields["Device Group"]["Current Deployment"] == Corrupted(id="dep-gone")
        assert warnings == [
            'Unexpected state. Device Group "dg-c" is related to corrupted '
            'Deployment "dep-gone" which does not exist.'
        ]
    finally:
        del INDEX[("dg", "dg-c")]


def test_warnings_are_optional() -> None:
    gone = dict(DEP2, relationships={"devicegroup": {"type": "dut_devicegroup", "id": "dg-x"}})
    assert "Corrupted Device Group" in list_view("build", gone, related)["Deployment"]


# --- full views ----------------------------------------------------------------------------

SEVEN = [device(f"pd-{i}", f"D{i}", "dg-prod", online=i % 2 == 0) for i in range(1, 8)]
PROD_HOOKS = [webhook("wh-1", "dg-prod", "blessing", "application/json")]


def test_full_dg_with_seven_devices_text_mode() -> None:
    block = dg_full_view(DGS[2], related, DGS, PROD_HOOKS, SEVEN, text_mode=True, me_id=ME)
    rendered = text(block)
    tail = rendered[rendered.index("  Production Target for: ") :]
    assert tail == (
        "  Production Target for: \n"
        "    Device Group: \n"
        "      id:   dg-fac\n"
        "      type: factory\n"
        "      name: Fixtures\n"
        "  Webhooks: \n"
        "    Webhook: \n"
        "      id:    wh-1\n"
        "      event: blessing\n"
        "      url:   https://example.com/blessing\n"
        "  Devices: \n"
        "    Device: \n"
        "      id:          pd-1\n"
        "      name:        D1\n"
        "      mac_address: 0c:2a:69:05:0d:62\n"
        "      agent_id:    agent-pd-1\n"
        "    Device: \n"
        "      id:            pd-2\n"
        "      name:          D2\n"
        "      mac_address:   0c:2a:69:05:0d:62\n"
        "      agent_id:      agent-pd-2\n"
        "      device_online: true\n"
        "    Device: \n"
        "      id:          pd-3\n"
        "      name:        D3\n"
        "      mac_address: 0c:2a:69:05:0d:62\n"
        "      agent_id:    agent-pd-3\n"
        "    Device: \n"
        "      id:            pd-4\n"
        "      name:          D4\n"
        "      mac_address:   0c:2a:69:05:0d:62\n"
        "      agent_id:      agent-pd-4\n"
        "      device_online: true\n"
        "    Device: \n"
        "      id:          pd-5\n"
        "      name:        D5\n"
        "      mac_address: 0c:2a:69:05:0d:62\n"
        "      agent_id:    agent-pd-5\n"
        "    ... 2 more Device(s)"
    )
    assert "DUT Target for" not in block["Device Group"]


def test_full_dg_with_seven_devices_json_mode() -> None:
    block = dg_full_view(DGS[2], related, DGS, PROD_HOOKS, SEVEN, text_mode=False, me_id=ME)
    data = json.loads(format_json(block))["Device Group"]
    assert [d["Device"]["id"] for d in data["Devices"]] == [f"pd-{i}" for i in range(1, 8)]
    assert data["Webhooks"] == [
        {"Webhook": {"id": "wh-1", "event": "blessing", "url": "https://example.com/blessing"}}
    ]
    assert data["Production Target for"][0]["Device Group"]["id"] == "dg-fac"
    assert list(data)[-3:] == ["Production Target for", "Webhooks", "Devices"]


def test_dg_full_extras_omits_empty_trees() -> None:
    assert dg_full_extras(DGS[0], DGS, [], [], text_mode=True) == {}
    dut = dg_full_extras(DGS[3], DGS, [], [], text_mode=True)
    assert list(dut) == ["DUT Target for"]
    assert dut["DUT Target for"] == [short_view("dg", DGS[1])]
    five = dg_full_extras(DGS[2], [], [], SEVEN[:5], text_mode=True)
    assert len(five["Devices"]) == 5


def test_product_full_view() -> None:
    devices = [*DEVICES, *SEVEN[:2]]
    hooks = [*PROD_HOOKS, webhook("wh-9", "dg-other", "blinkup", "application/json")]
    block = product_full_view(PRODUCTS[0], related, DGS, hooks, devices, text_mode=True, me_id=ME)
    fields = block["Product"]
    assert list(fields) == [
        "id",
        "name",
        "description",
        "created_at",
        "updated_at",
        "Device Groups",
    ]
    groups = [g["Device Group"] for g in fields["Device Groups"]]
    assert list(groups[0]) == [
        "id",
        "type",
        "name",
        "Current Deployment",
        "Min supported Deployment",
        "Devices",
    ]
    assert groups[0]["Devices"] == [short_view("device", DEVICES[0])]
    assert list(groups[1]) == ["id", "type", "name", "Production Target", "DUT Target"]
    assert list(groups[2]) == ["id", "type", "name", "Production Target for", "Webhooks", "Devices"]
    assert list(groups[3]) == ["id", "type", "name", "DUT Target for"]
    rendered = text(block)
    assert (
        "  Device Groups: \n"
        "    Device Group: \n"
        "      id:                       dg-dev\n"
        "      type:                     development\n"
        "      name:                     MyDG\n"
        "      Current Deployment: \n"
    ) in rendered
    assert (
        "    Device Group: \n"
        "      id:                dg-fac\n"
        "      type:              factory\n"
        "      name:              Fixtures\n"
        "      Production Target: \n"
        "        id:   dg-prod\n"
        "        type: production\n"
        "        name: Prod\n"
        "      DUT Target: \n"
        "        id:   dg-dut\n"
        "        type: dut\n"
        "        name: DUT\n"
        "    Device Group: \n"
        "      id:                    dg-prod\n"
    ) in rendered


def test_product_full_view_without_dgs() -> None:
    block = product_full_view(PRODUCTS[0], related, [], [], [], text_mode=True, me_id=ME)
    assert "Device Groups" not in block["Product"]


def test_project_view() -> None:
    dg_block = info_view("dg", DGS[0], related, me_id=ME)
    block = project_view("device.nut", "agent.nut", dg_block)
    rendered = text(block)
    assert rendered.startswith(
        "Project: \n"
        "  Device file:  device.nut\n"
        "  Agent file:   agent.nut\n"
        "  Device Group: \n"
        "    id:                       dg-dev\n"
        "    type:                     development\n"
    )


# --- messages ------------------------------------------------------------------------------


def test_messages() -> None:
    assert ident_info("dg", "MyDG") == 'Device Group "MyDG"'
    assert ident_info("build", "abc") == 'Deployment "abc"'
    assert list_header("loginkey", 1) == "Login Key list (1 items):"
    assert no_items_message("dg") == "No Device Groups are found."
    assert no_items_message("loginkey") == "No Login Keys are found."
    assert more_marker("device", 3) == "... 3 more Device(s)"


def test_truncate_blocks() -> None:
    blocks = [short_view("device", d) for d in SEVEN]
    shown, more = truncate_blocks(blocks)
    assert shown == blocks[:5]
    assert more == "And 2 more Device(s)."
    assert truncate_blocks(blocks[:5]) == (blocks[:5], None)
    assert truncate_blocks([]) == ([], None)


def test_views_do_not_alias_resources() -> None:
    block = short_view("build", DEP1)
    block["Deployment"]["tags"].append("x")
    assert DEP1["attributes"]["tags"] == ["RC1", "stable"]
