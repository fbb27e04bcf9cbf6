"""Backend rules, exercised without HTTP."""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

import pytest

from imptsh.sim import jsonapi, runner
from imptsh.sim.backend import Backend
from imptsh.sim.errors import ApiError, conflict
from imptsh.sim.model import DEV, DUT, FF, PRE_DUT, PRE_FF, PRE_PROD, PROD, txn
from imptsh.sim.resources import accounts, deployments, devicegroups, devices, logs, products
from imptsh.sim.streams import format_events

LINKS = jsonapi.Links("http://sim.test/v5", "http://sim.test")


@pytest.fixture
def b() -> Backend:
    backend = Backend(None, devices=3, token_ttl=3600)
    yield backend
    backend.close()


def me(b: Backend) -> str:
    return b.meta["default_account"]


def product(b: Backend, name: str = "P", acct: str | None = None) -> dict[str, Any]:
    return products.create_product(
        b, acct or me(b), {"data": {"type": "product", "attributes": {"name": name}}}
    )


def dg(
    b: Backend, pid: str, name: str = "G", typ: str = DEV, attrs=None, rels=None, acct=None
) -> dict[str, Any]:
    body = {
        "data": {
            "type": typ,
            "attributes": {"name": name, **(attrs or {})},
            "relationships": {"product": {"type": "product", "id": pid}, **(rels or {})},
        }
    }
    return devicegroups.create_devicegroup(b, acct or me(b), body)


def deploy(b: Backend, gid: str, dc: str = "", ac: str = "", **attrs: Any) -> dict[str, Any]:
    return deployments.create_deployment(
        b,
        me(b),
        {
            "data": {
                "type": "deployment",
                "attributes": {"device_code": dc, "agent_code": ac, **attrs},
                "relationships": {"devicegroup": {"type": DEV, "id": gid}},
            }
        },
    )


def err(fn, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value


def dev_ids(b: Backend) -> list[str]:
    return [d["id"] for d in devices.list_devices(b, me(b), {})]


# ------------------------------------------------------------------ auth


def test_login_by_username_and_email_and_bad_password(b: Backend) -> None:
    for ident in ("demo", "demo@example.com"):
        tok = accounts.login(b, {"id": ident, "password": "demo"}, None)
        assert set(tok) == {"access_token", "expires_in", "expires_at", "refresh_token"}
        assert len(tok["refresh_token"]) == 64
        assert tok["expires_at"].endswith("Z")
        assert accounts.authenticate(b, tok["access_token"]) == me(b)
    e = err(accounts.login, b, {"id": "demo", "password": "nope"}, None)
    assert (e.status, e.code, e.title) == (401, "PX100", "Invalid Credentials")


def test_otp_flow(b: Backend) -> None:
    accounts.seed_account(
        b, {"username": "alice", "password": "pw", "email": "a@x.org", "otp": "123456"}
    )
    e = err(accounts.login, b, {"id": "alice", "password": "pw"}, None)
    assert e.status == 403
    login_token = e.error_objects()[0]["meta"]["login_token"]
    assert err(accounts.login, b, {"login_token": login_token}, "000000").status == 401
    tok = accounts.login(b, {"login_token": login_token}, "123456")
    assert "refresh_token" in tok
    # A login token is single use.
    assert err(accounts.login, b, {"login_token": login_token}, "123456").status == 401


def test_token_expiry_and_refresh() -> None:
    b = Backend(None, token_ttl=0.2)
    try:
        tok = accounts.login(b, {"id": "demo", "password": "demo"}, None)
        assert accounts.authenticate(b, tok["access_token"])
        time.sleep(0.3)
        e = err(accounts.authenticate, b, tok["access_token"])
        assert e.status == 401
        new = accounts.exchange(b, {"token": tok["refresh_token"]})
        assert accounts.authenticate(b, new["access_token"]) == b.meta["default_account"]
        assert err(accounts.exchange, b, {"token": "f" * 64}).status == 404
        assert err(accounts.exchange, b, {"key": "0123456789abcdef"}).status == 404
    finally:
        b.close()


def test_login_keys_need_password_and_have_a_limit(b: Backend) -> None:
    body = {"data": {"type": "login_key", "attributes": {"description": "k"}}}
    assert err(accounts.create_login_key, b, me(b), body, None).status == 401
    assert err(accounts.create_login_key, b, me(b), body, "wrong").status == 401
    keys = [accounts.create_login_key(b, me(b), body, "demo") for _ in range(10)]
    e = err(accounts.create_login_key, b, me(b), body, "demo")
    assert e.title == "Account Limit Reached"
    assert len(accounts.list_login_keys(b, me(b))) == 10
    tok = accounts.exchange(b, {"key": keys[0]["id"]})
    assert accounts.authenticate(b, tok["access_token"]) == me(b)
    assert accounts.get_login_key(b, me(b), keys[0]["id"])["usages"] == 1


# ------------------------------------------------------------------ products / groups


def test_product_rules_and_rollback(b: Backend) -> None:
    p = product(b, "P")
    e = err(product, b, "P")
    assert (e.title, e.detail) == ("Duplicate Resource", "Products must have unique names.")
    assert len(products.list_products(b, me(b), {})) == 1
    dg(b, p["id"])
    e = err(products.delete_product, b, me(b), p["id"])
    assert e.title == "Dependent Devicegroups Exist"
    assert e.detail == "Cannot delete a product with associated devicegroups."
    seq = b.meta["seq"]
    # Rejected requests leave no trace, not even in counters.
    err(
        products.create_product, b, me(b), {"data": {"type": "product", "attributes": {"name": ""}}}
    )
    assert b.meta["seq"] == seq


def test_devicegroup_types_defaults_and_region(b: Backend) -> None:
    p = product(b)["id"]
    dev = dg(b, p, "d")
    prod = dg(b, p, "p", PROD, attrs={"region": "eu"})
    pre = dg(b, p, "pp", PRE_PROD)
    assert prod["load_code_after_blessing"] is True and pre["load_code_after_blessing"] is True
    assert (
        "load_code_after_blessing"
        not in jsonapi.resource(b, "devicegroup", dev, LINKS)["attributes"]
    )
    assert jsonapi.resource(b, "devicegroup", prod, LINKS)["attributes"]["region"] == "eu"
    assert err(dg, b, p, "x", DEV, {"region": "eu"}).status == 400
    assert err(dg, b, p, "x", DEV, {"load_code_after_blessing": True}).status == 400
    e = err(dg, b, p, "d")
    assert e.detail == "Devicegroups must have unique names."


def test_fixture_targets_strict_pairing_and_same_product(b: Backend) -> None:
    p = product(b)["id"]
    other = product(b, "Other")["id"]
    prod, dut = dg(b, p, "prod", PROD)["id"], dg(b, p, "dut", DUT)["id"]
    pprod, pdut = dg(b, p, "pprod", PRE_PROD)["id"], dg(b, p, "pdut", PRE_DUT)["id"]
    odut = dg(b, other, "odut", DUT)["id"]

    def rels(pt: str, dt: str, pt_type=PROD, dt_type=DUT) -> dict[str, Any]:
        return {
            "production_target": {"type": pt_type, "id": pt},
            "dut_target": {"type": dt_type, "id": dt},
        }

    ff = dg(b, p, "ff", FF, rels=rels(prod, dut))
    assert ff["production_target"] == prod and ff["dut_target"] == dut
    dg(b, p, "pff", PRE_FF, rels=rels(pprod, pdut, PRE_PROD, PRE_DUT))
    assert err(dg, b, p, "x", FF, None, rels(pprod, dut)).status == 400  # wrong pairing
    assert err(dg, b, p, "x", FF, None, rels(prod, odut)).status == 400  # other product
    assert err(dg, b, p, "x", FF).status == 400  # targets missing
    assert err(dg, b, p, "x", DEV, None, rels(prod, dut)).status == 400  # not a fixture
    # A target cannot be deleted while targeted.
    assert err(devicegroups.delete_devicegroup, b, me(b), prod).status == 409


def test_update_devicegroup_type_cannot_change(b: Backend) -> None:
    p = product(b)["id"]
    g = dg(b, p)
    body = {"data": {"type": PROD, "id": g["id"], "attributes": {"name": "n"}}}
    assert err(devicegroups.update_devicegroup, b, me(b), g["id"], body).status == 400
    body["data"]["type"] = DEV
    assert devicegroups.update_devicegroup(b, me(b), g["id"], body)["name"] == "n"
    body["data"]["attributes"] = {"region": "us"}
    assert err(devicegroups.update_devicegroup, b, me(b), g["id"], body).status == 400


# ------------------------------------------------------------------ deployments


def test_deployment_sha_tags_and_current(b: Backend) -> None:
    g = dg(b, product(b)["id"])
    d = deploy(b, g["id"], "dev", "agent", tags=["RC1", "a.b-c*_"])
    assert d["sha"] == hashlib.sha256(b"devagent").hexdigest()
    assert b.t["devicegroup"][g["id"]]["current_deployment"] == d["id"]
    assert err(deploy, b, g["id"], "", "", tags=["bad tag"]).status == 400
    assert err(deploy, b, g["id"], "", "", tags=["x" * 501]).status == 400
    assert err(deploy, b, g["id"], "", "", color="red").pointer == "/data/attributes/color"
    found = deployments.list_deployments(b, me(b), {"tags": "RC1,a.b-c*_"})
    assert [x["id"] for x in found] == [d["id"]]
    assert deployments.list_deployments(b, me(b), {"tags": "RC1,nope"}) == []
    assert err(deployments.list_deployments, b, me(b), {"flagged": "maybe"}).status == 400
    assert err(deployments.list_deployments, b, me(b), {"colour": "x"}).status == 400


def flag(b: Backend, dep: dict[str, Any], flagged: bool) -> None:
    body = {"data": {"type": "deployment", "attributes": {"flagged": flagged}}}
    deployments.update_deployment(b, me(b), dep["id"], body)


def set_min(b: Backend, g: str, dep: dict[str, Any]) -> None:
    devicegroups.set_min_supported(b, me(b), g, {"data": {"type": "deployment", "id": dep["id"]}})


def test_first_deployment_becomes_min_supported(b: Backend) -> None:
    g = dg(b, product(b)["id"])["id"]
    d1 = deploy(b, g, "1")
    group = b.t["devicegroup"][g]
    assert (group["current_deployment"], group["min_supported_deployment"]) == (d1["id"], d1["id"])
    d2 = deploy(b, g, "2")
    group = b.t["devicegroup"][g]
    assert (group["current_deployment"], group["min_supported_deployment"]) == (d2["id"], d1["id"])
    rels = jsonapi.resource(b, "devicegroup", group, LINKS)["relationships"]
    assert rels["min_supported_deployment"] == {"type": "deployment", "id": d1["id"]}


def test_deployment_delete_rules(b: Backend) -> None:
    g = dg(b, product(b)["id"])["id"]
    d1, d2, d3 = (deploy(b, g, str(i)) for i in range(3))
    flagged = deploy(b, g, "f", flagged=True)
    e = err(deployments.delete_deployment, b, me(b), flagged["id"])
    assert e.title == "Resource Flagged"
    assert e.detail.startswith("You cannot delete flagged deployments")
    flag(b, flagged, False)
    # The current deployment, the min supported one (the first) and newer ones stay.
    for dep in (flagged, d1, d2):
        assert err(deployments.delete_deployment, b, me(b), dep["id"]).title == "Deployment In Use"
    set_min(b, g, d2)
    assert err(deployments.delete_deployment, b, me(b), d2["id"]).status == 409
    assert err(deployments.delete_deployment, b, me(b), d3["id"]).status == 409
    # older than min_supported: ok
    deployments.delete_deployment(b, me(b), d1["id"])
    # setting the same min_supported again is allowed (it is not older)
    set_min(b, g, d2)


def test_deleting_a_group_deletes_its_deployments(b: Backend) -> None:
    p = product(b)["id"]
    g = dg(b, p)["id"]
    other = dg(b, p, "other")["id"]
    doomed = [deploy(b, g, str(i)) for i in range(3)]
    kept = deploy(b, other, "kept")
    flag(b, doomed[1], True)
    e = err(devicegroups.delete_devicegroup, b, me(b), g)
    assert e.title == "Flagged Deployments Exist"
    assert all(d["id"] in b.t["deployment"] for d in doomed)
    flag(b, doomed[1], False)
    devicegroups.delete_devicegroup(b, me(b), g)
    left = deployments.list_deployments(b, me(b), {"product.id": p})
    assert [d["id"] for d in left] == [kept["id"]]
    assert all(err(deployments.get_deployment, b, me(b), d["id"]).status == 404 for d in doomed)


def zombie(b: Backend, pid: str, **attrs: Any) -> dict[str, Any]:
    return deployments.create_zombie(
        b,
        {
            "data": {
                "type": "deployment",
                "attributes": {"device_code": "z", "agent_code": "", **attrs},
                "relationships": {"product": {"type": "product", "id": pid}},
            }
        },
    )


def test_zombie_deployments(b: Backend) -> None:
    p = product(b)["id"]
    z = zombie(b, p, tags=["old"], flagged=True)
    assert z["devicegroup"] is None and z["product"] == p and z["owner"] == me(b)
    rendered = jsonapi.resource(b, "deployment", z, LINKS)
    assert "devicegroup" not in rendered["relationships"]
    assert rendered["attributes"]["tags"] == ["old"] and rendered["attributes"]["flagged"]
    assert [d["id"] for d in deployments.list_deployments(b, me(b), {"product.id": p})] == [z["id"]]
    assert err(deployments.delete_deployment, b, me(b), z["id"]).title == "Resource Flagged"
    flag(b, z, False)
    deployments.delete_deployment(b, me(b), z["id"])
    assert err(zombie, b, "no-such-product").status == 404
    assert err(zombie, b, p, colour="red").status == 400
    assert b.t["deployment"] == {}


def test_min_supported_must_not_move_back(b: Backend) -> None:
    g = dg(b, product(b)["id"])["id"]
    d1, d2 = deploy(b, g, "1"), deploy(b, g, "2")
    devicegroups.set_min_supported(b, me(b), g, {"data": {"type": "deployment", "id": d2["id"]}})
    e = err(
        devicegroups.set_min_supported,
        b,
        me(b),
        g,
        {"data": {"type": "deployment", "id": d1["id"]}},
    )
    assert e.status == 400
    other = dg(b, b.t["devicegroup"][g]["product"], "other")["id"]
    d3 = deploy(b, other, "3")
    e = err(
        devicegroups.set_min_supported,
        b,
        me(b),
        g,
        {"data": {"type": "deployment", "id": d3["id"]}},
    )
    assert e.status == 400


# ------------------------------------------------------------------ devices


def test_device_shapes(b: Backend) -> None:
    d = devices.list_devices(b, me(b), {})[0]
    res = jsonapi.resource(b, "device", d, LINKS)
    assert list(res["attributes"]) == [
        "name",
        "agent_id",
        "agent_url",
        "device_online",
        "device_state_changed_at",
        "agent_running",
        "agent_state_changed_at",
        "last_enrolled_at",
        "imp_type",
        "ip_address",
        "mac_address",
        "free_memory",
        "rssi",
        "swversion",
        "plan_id",
    ]
    assert len(res["id"]) == 16 and int(res["id"], 16) >= 0
    assert res["attributes"]["mac_address"].startswith("0c:2a:69:")
    assert "devicegroup" not in res["relationships"]


def test_assign_filters_and_agent_id_resolution(b: Backend) -> None:
    p = product(b)["id"]
    g = dg(b, p)["id"]
    ids = dev_ids(b)
    mac = b.t["device"][ids[1]]["mac_address"]
    devicegroups.assign_devices(
        b, me(b), g, {"data": [{"type": "device", "id": ids[0]}, {"id": mac}]}
    )
    assigned = {d["id"] for d in devices.list_devices(b, me(b), {"devicegroup.id": g})}
    assert assigned == {ids[0], ids[1]}
    assert [d["id"] for d in devices.list_devices(b, me(b), {"devicegroup.owner.id": "null"})] == [
        ids[2]
    ]
    assert len(devices.list_devices(b, me(b), {"product.id": p, "devicegroup.type": DEV})) == 2
    agent = jsonapi.resource(b, "device", b.t["device"][ids[0]], LINKS)["attributes"]["agent_id"]
    assert len(agent) == 12
    assert devices.get_device(b, me(b), agent)["id"] == ids[0]
    assert devices.get_device(b, me(b), mac.upper())["id"] == ids[1]
    # Partial failure: the known device moves, the unknown one is reported as a 404.
    g2 = dg(b, p, "G2")["id"]
    e = err(devicegroups.assign_devices, b, me(b), g2, {"data": [{"id": ids[2]}, {"id": "nope"}]})
    assert e.status == 400 and [x["status"] for x in e.error_objects()] == ["404"]
    assert b.t["device"][ids[2]]["devicegroup"] == g2
    # Unassign a device that is not in the group -> 400 of 404s.
    e = err(devicegroups.unassign_devices, b, me(b), g, {"data": [{"id": ids[2]}]})
    assert [x["status"] for x in e.error_objects()] == ["404"]
    devicegroups.unassign_devices(b, me(b), g, {"data": [{"id": ids[0]}]})
    assert b.t["device"][ids[0]]["devicegroup"] is None
    # agent id does not resolve for unassigned devices
    assert err(devices.get_device, b, me(b), agent).status == 404


def test_production_groups_refuse_manual_assignment(b: Backend) -> None:
    p = product(b)["id"]
    prod = dg(b, p, "prod", PROD)["id"]
    e = err(devicegroups.assign_devices, b, me(b), prod, {"data": [{"id": dev_ids(b)[0]}]})
    assert e.error_objects()[0]["status"] == "400"


def test_restart_emits_status_lines_and_switches_code(b: Backend) -> None:
    g = dg(b, product(b)["id"])["id"]
    dev = dev_ids(b)[0]
    assert err(devices.restart_device, b, me(b), dev, False).status == 409  # unassigned
    d1 = deploy(b, g, 'server.log("one");', 'server.log("a");')
    devicegroups.assign_devices(b, me(b), g, {"data": [{"id": dev}]})
    msgs = [e["msg"] for e in logs.device_logs(b, me(b), dev)]
    assert msgs[:3] == [
        "Device connected",
        "Downloading new code; 0.50% program storage used",
        "Agent restarted: reload.",
    ]
    assert b.t["device"][dev]["deployment"] == d1["id"]
    d2 = deploy(b, g, 'server.log("two");')
    assert b.t["device"][dev]["deployment"] == d1["id"]  # deploy alone does not restart
    devicegroups.restart_devicegroup(b, me(b), g, False)
    assert b.t["device"][dev]["deployment"] == d2["id"]
    b.tick()
    newest = logs.device_logs(b, me(b), dev)[0]
    assert newest == {"ts": newest["ts"], "type": "server.log", "msg": "two"}


def test_conditional_restart_respects_shutdown_handler(b: Backend) -> None:
    g = dg(b, product(b)["id"])["id"]
    dev = dev_ids(b)[0]
    deploy(b, g, "server.onshutdown(function(r) {});")
    devicegroups.assign_devices(b, me(b), g, {"data": [{"id": dev}]})
    running = b.t["device"][dev]["deployment"]
    deploy(b, g, "new")
    devices.restart_device(b, me(b), dev, True)
    assert b.t["device"][dev]["deployment"] == running  # app decides; not restarted
    assert "SHUTDOWN_NEWSQUIRREL" in logs.device_logs(b, me(b), dev)[0]["msg"]


def test_log_retention_keeps_1000(b: Backend) -> None:
    dev = dev_ids(b)[0]
    logs.inject_logs(
        b, dev, {"lines": [{"type": "server.log", "msg": str(i)} for i in range(1200)]}
    )
    history = logs.device_logs(b, me(b), dev)
    assert len(history) == 1000
    assert history[0]["msg"] == "1199" and history[-1]["msg"] == "200"


def test_two_accounts_are_isolated(b: Backend) -> None:
    other = accounts.seed_account(b, {"username": "bob", "password": "pw", "email": "b@x.org"})[
        "id"
    ]
    p = product(b)["id"]
    assert err(products.get_product, b, other, p).status == 404
    assert products.list_products(b, other, {}) == []
    assert devices.list_devices(b, other, {}) == []
    body = {"data": {"type": "product", "attributes": {"name": "hacked"}}}
    assert err(products.update_product, b, other, p, body).status == 404
    assert err(devices.get_device, b, other, dev_ids(b)[0]).status == 404
    # Collaboration makes them visible.
    accounts.add_collaborator(b, {"account": "demo", "collaborator": "bob"})
    assert [x["id"] for x in products.list_products(b, other, {})] == [p]
    assert len(accounts.list_accounts(b, other, {})) == 2


# ------------------------------------------------------------------ streams


def test_stream_eviction_and_close_order(b: Backend) -> None:
    extra = devices.seed_devices(b, {"count": 3})
    ids = dev_ids(b)
    assert len(ids) == 6 and len(extra) == 3
    s = logs.create_stream(b, me(b))
    gen = s.attach()
    for d in ids:
        logs.stream_add(b, me(b), s.id, d)
    events, _ = s.wait(gen, 1)
    states = [(p["state"], p.get("device_id")) for _, p in events]
    assert states[-2:] == [("unsubscribed", ids[0]), ("subscribed", ids[5])]
    assert s.devices == ids[1:]
    s2 = logs.create_stream(b, me(b))
    events, finished = s.wait(gen, 1)
    assert finished and events[-1] == ("state_change", {"state": "closed"})
    assert err(logs.get_stream, b, s.id).status == 404
    assert logs.get_stream(b, s2.id) is s2


def test_format_events_framing() -> None:
    line = {
        "device_id": "0123456789abcdef",
        "ts": "2020-01-01T00:00:00.000Z",
        "type": "server.log",
        "msg": "a\nb",
        "env": "development",
    }
    text = format_events([("message", line), ("state_change", {"state": "opened"})], "text")
    assert text == (
        b"event: message\ndata: 0123456789abcdef 2020-01-01T00:00:00.000Z development "
        b"server.log a\ndata: b\n\nevent: state_change\ndata: opened\n\n"
    )
    js = format_events([("state_change", {"state": "subscribed", "device_id": "x"})], "json")
    assert js == b'event: state_change\ndata: {"state":"subscribed","device_id":"x"}\n\n'


# ------------------------------------------------------------------ devices module


def test_log_literals_top_level_only() -> None:
    src = r"""
    // server.log("commented");
    server.log("Hello \"World\"");
    /* server.log("block"); */
    function f() { server.log("inside"); }
    server.log( "spaced" ) ;
    server.log("x" + y);
    local t = { k = "server.log(\"no\")" };
    server.log("tab\there");
    """
    assert runner.log_literals(src) == ['Hello "World"', "spaced", "tab\there"]


def test_generators() -> None:
    import random
    import re

    rng = random.Random(1)
    assert re.fullmatch(r"[0-9a-f]{16}", devices.new_device_id(rng))
    assert re.fullmatch(r"0c:2a:69(:[0-9a-f]{2}){3}", devices.new_mac(rng))
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", devices.new_agent_id(rng))
    # An agent id can follow an option on a command line: it never starts with - (or _).
    firsts = {devices.new_agent_id(rng)[0] for _ in range(3000)}
    assert not firsts & {"-", "_"} and len(firsts) > 50


# ------------------------------------------------------------------ persistence


def test_persistence_across_instances(tmp_path) -> None:
    path = str(tmp_path / "sim.db")
    b1 = Backend(path)
    acct = b1.meta["default_account"]
    pid = product(b1, "Kept")["id"]
    dev = dev_ids(b1)[0]
    logs.inject_logs(b1, dev, {"lines": ["hello"]})
    tok = accounts.login(b1, {"id": "demo", "password": "demo"}, None)
    b1.close()
    b2 = Backend(path)
    try:
        assert b2.meta["default_account"] == acct
        assert products.get_product(b2, acct, pid)["name"] == "Kept"
        assert logs.device_logs(b2, acct, dev)[0]["msg"] == "hello"
        assert accounts.authenticate(b2, tok["access_token"]) == acct
        assert len(devices.list_devices(b2, acct, {})) == 3  # not re-seeded
    finally:
        b2.close()


def state(b: Backend) -> tuple[Any, ...]:
    """Everything a request can change: records, counters, device histories."""
    histories = {d: [(e["type"], e["msg"]) for e in lines] for d, lines in b.logs.items()}
    return copy.deepcopy(b.t), dict(b.meta), histories, dict(b.log_seq)


def test_a_rejected_request_changes_nothing_in_memory_or_on_disk(tmp_path) -> None:
    path = str(tmp_path / "sim.db")
    b = Backend(path)
    acct = me(b)
    p = product(b, "Before")
    g = dg(b, p["id"])["id"]
    first = deploy(b, g, 'server.log("one");')
    dev = dev_ids(b)[0]
    devicegroups.assign_devices(b, acct, g, {"data": [{"id": dev}]})
    before = state(b)

    @txn
    def change_then_refuse(m: Backend) -> None:
        """One request that changes a good deal before it is refused."""
        rename = {"data": {"type": "product", "attributes": {"name": "After"}}}
        products.update_product(m, acct, p["id"], rename)
        product(m, "New")
        deploy(m, g, 'server.log("two");')  # a new current deployment
        devicegroups.restart_devicegroup(m, acct, g)  # status lines, the device switches
        logs.inject_logs(m, dev, {"lines": ["injected"]})
        devicegroups.unassign_devices(m, acct, g, {"data": [{"id": dev}]})
        devices.delete_device(m, acct, dev_ids(m)[1])
        raise conflict("Refused", "Refused after changing state.")

    assert err(change_then_refuse, b).title == "Refused"
    assert state(b) == before
    assert b.t["devicegroup"][g]["current_deployment"] == first["id"]
    b.close()
    reopened = Backend(path)
    try:
        assert state(reopened) == before
    finally:
        reopened.close()
