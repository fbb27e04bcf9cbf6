"""The simulator over HTTP, driven with ``requests`` against ``start(port=0)``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from imptsh.sim.server import start

from .helpers import DEV, SSE, Client

PROD = "production_devicegroup"
DUT = "dut_devicegroup"
FF = "factoryfixture_devicegroup"


def error(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/vnd.api+json"
    errs = r.json()["errors"]
    for e in errs:
        assert isinstance(e["status"], str)
        assert e["title"] and e["detail"] is not None and "code" in e
    return errs[0]


# ------------------------------------------------------------------ auth


def test_login_and_bad_credentials(client: Client) -> None:
    r = client.s.post(client.base + "/auth", json={"id": "demo@example.com", "password": "demo"})
    body = r.json()
    assert r.status_code == 200 and body["expires_in"] == 3600
    assert body["expires_at"].endswith("Z") and len(body["refresh_token"]) == 64
    r = client.s.post(client.base + "/auth", json={"id": "demo", "password": "x"})
    e = error(r, 401)
    assert (e["title"], e["code"]) == ("Invalid Credentials", "PX100")


def test_requests_need_a_token(client: Client) -> None:
    r = requests.get(client.base + "/products")
    assert error(r, 401)["status"] == "401"
    r = requests.get(client.base + "/products", headers={"Authorization": "Bearer nope"})
    error(r, 401)


def test_otp_login(client: Client) -> None:
    r = client.control(
        "accounts", {"username": "otp", "password": "pw", "email": "o@x.org", "otp": "123456"}
    )
    assert r.status_code == 201
    r = requests.post(client.base + "/auth", json={"id": "otp", "password": "pw"})
    e = error(r, 403)
    lt = e["meta"]["login_token"]
    r = requests.post(
        client.base + "/auth", json={"login_token": lt}, headers={"X-Electricimp-OTP-Token": "1"}
    )
    error(r, 401)
    r = requests.post(
        client.base + "/auth",
        json={"login_token": lt},
        headers={"X-Electricimp-OTP-Token": "123456"},
    )
    assert r.status_code == 200 and "access_token" in r.json()


def test_token_expiry_refresh_and_refresh_token_list() -> None:
    with start(port=0, token_ttl=0.5, log_interval=0, runner="literal") as sim:
        c = Client(sim)
        assert c.get("/products").status_code == 200
        time.sleep(0.7)
        error(c.get("/products"), 401)
        r = requests.post(sim.base_url + "/auth/token", json={"token": c.refresh_token})
        assert r.status_code == 200 and set(r.json()) == {
            "access_token",
            "expires_in",
            "expires_at",
        }
        c.use(r.json()["access_token"])
        assert c.get("/products").status_code == 200
        tokens = c.get("/accounts/me/refresh_tokens").json()["data"]
        assert len(tokens) == 1 and tokens[0]["type"] == "refresh_token"
        assert c.delete(f"/accounts/me/refresh_tokens/{tokens[0]['id']}").status_code == 204
        r = requests.post(sim.base_url + "/auth/token", json={"token": c.refresh_token})
        error(r, 404)
        # The access token obtained before the delete keeps working.
        assert c.get("/products").status_code == 200


def test_login_keys(client: Client) -> None:
    pw = {"X-Electricimp-Password": "demo"}
    body = {"data": {"type": "login_key", "attributes": {"description": "ci"}}}
    error(client.post("/accounts/me/login_keys", body), 401)
    r = client.post("/accounts/me/login_keys", body, headers=pw)
    assert r.status_code == 201
    key = r.json()["data"]
    assert key["type"] == "login_key" and key["attributes"]["description"] == "ci"
    r = requests.post(client.base + "/auth/token", json={"key": key["id"]})
    assert r.status_code == 200
    got = client.get(f"/accounts/me/login_keys/{key['id']}").json()["data"]
    assert got["attributes"]["usages"] == 1
    patch = {"data": {"type": "login_key", "id": key["id"], "attributes": {"description": "x"}}}
    r = client.patch(f"/accounts/me/login_keys/{key['id']}", patch, headers=pw)
    assert r.json()["data"]["attributes"]["description"] == "x"
    for _ in range(9):
        assert client.post("/accounts/me/login_keys", body, headers=pw).status_code == 201
    e = error(client.post("/accounts/me/login_keys", body, headers=pw), 409)
    assert e["title"] == "Account Limit Reached"
    assert client.delete(f"/accounts/me/login_keys/{key['id']}", headers=pw).status_code == 204
    error(client.delete(f"/accounts/me/login_keys/{key['id']}", headers=pw), 404)
    error(requests.post(client.base + "/auth/token", json={"key": key["id"]}), 404)


def test_accounts(client: Client) -> None:
    me = client.get("/accounts/me").json()["data"]
    assert me["type"] == "account" and me["attributes"]["username"] == "demo"
    assert client.get(f"/accounts/{me['id']}").json()["data"]["id"] == me["id"]
    error(client.get("/accounts/demo"), 404)
    client.control("accounts", {"username": "bob", "password": "pw", "email": "b@x.org"})
    assert len(client.get("/accounts").json()["data"]) == 1
    client.control("collaborators", {"account": "bob", "collaborator": "demo"})
    listed = client.get("/accounts").json()
    assert {a["attributes"]["username"] for a in listed["data"]} == {"demo", "bob"}
    assert "links" in listed and "next" not in listed["links"]


# ------------------------------------------------------------------ products, groups


def test_product_crud_and_rules(client: Client) -> None:
    pid = client.product("P1", description="d")
    r = client.get(f"/products/{pid}")
    data = r.json()["data"]
    assert data["links"]["self"] == f"{client.base}/products/{pid}"
    assert data["relationships"]["owner"]["type"] == "account"
    assert r.headers["x-ratelimit-limit"] == "40"
    assert int(r.headers["x-ratelimit-remaining"]) >= 0 and r.headers["x-ratelimit-reset"]
    e = error(
        client.post("/products", {"data": {"type": "product", "attributes": {"name": "P1"}}}), 409
    )
    assert e["detail"] == "Products must have unique names."
    patch = {"data": {"type": "product", "id": pid, "attributes": {"name": "P2"}}}
    assert client.patch(f"/products/{pid}", patch).json()["data"]["attributes"]["name"] == "P2"
    gid = client.dg(pid)
    e = error(client.delete(f"/products/{pid}"), 409)
    assert e["title"] == "Dependent Devicegroups Exist"
    assert client.delete(f"/devicegroups/{gid}").status_code == 204
    assert client.delete(f"/products/{pid}").status_code == 204
    error(client.delete(f"/products/{pid}"), 404)


@pytest.mark.parametrize(
    "ident",
    ["P1", "{me}{P1}", "%7Bme%7D%7BP1%7D", "0c:2a:69:00:00:00", "not-a-uuid", "a%2Fb", "x" * 300],
)
def test_unknown_ids_are_404(client: Client, ident: str) -> None:
    client.product("P1")
    for coll in ("products", "devicegroups", "devices", "deployments", "webhooks", "accounts"):
        e = error(client.get(f"/{coll}/{ident}"), 404)
        assert e["status"] == "404"


def test_pagination_links(client: Client) -> None:
    for i in range(45):
        client.product(f"P{i:02d}")
    r = client.get("/products")
    body = r.json()
    assert len(body["data"]) == 20 and body["links"]["next"].startswith(client.base + "/products?")
    seen: list[str] = []
    url = (
        client.base
        + "/products?filter[owner.id]="
        + body["data"][0]["relationships"]["owner"]["id"]
        + "&page[size]=20"
    )
    pages = 0
    while url:
        page = client.s.get(url).json()
        seen += [p["id"] for p in page["data"]]
        url = page["links"].get("next")
        assert "filter[owner.id]=" in page["links"]["self"]
        pages += 1
    assert pages == 3 and len(seen) == 45 == len(set(seen))
    names = [client.get(f"/products/{i}").json()["data"]["attributes"]["name"] for i in seen[:3]]
    assert names == ["P00", "P01", "P02"]  # stable creation order
    big = client.get("/products?page[size]=500").json()
    assert len(big["data"]) == 45  # clamped to 100 per page
    assert big["links"]["self"].endswith("page[number]=1&page[size]=100")
    past = client.get("/products?page[number]=9").json()
    assert past["data"] == [] and "next" not in past["links"]
    error(client.get("/products?page[number]=0"), 400)
    error(client.get("/products?page[size]=abc"), 400)
    encoded = client.get("/products?page%5Bnumber%5D=3&page%5Bsize%5D=20").json()
    assert len(encoded["data"]) == 5 and "next" not in encoded["links"]


def test_devicegroup_rules(client: Client) -> None:
    pid = client.product()
    r = client.post("/devicegroups", client.dg_body(pid, "prod", PROD, attrs={"region": "eu"}))
    prod = r.json()["data"]
    assert prod["attributes"]["load_code_after_blessing"] is True
    assert prod["attributes"]["region"] == "eu"
    dut = client.dg(pid, "dut", DUT)
    r = client.post("/devicegroups", client.dg_body(pid, "dev", DEV))
    dev = r.json()["data"]
    assert "load_code_after_blessing" not in dev["attributes"]
    assert dev["attributes"]["region"] is None
    error(client.post("/devicegroups", client.dg_body(pid, "dev", DEV)), 409)
    e = error(
        client.post("/devicegroups", client.dg_body(pid, "x", DEV, attrs={"region": "eu"})), 400
    )
    assert "region" in e["detail"] and e["source"]["pointer"] == "/data/attributes/region"
    rels = {
        "production_target": {"type": PROD, "id": prod["id"]},
        "dut_target": {"type": DUT, "id": dut},
    }
    r = client.post("/devicegroups", client.dg_body(pid, "ff", FF, rels=rels))
    assert r.status_code == 201
    ff = r.json()["data"]
    assert ff["relationships"]["production_target"] == {"type": PROD, "id": prod["id"]}
    error(client.post("/devicegroups", client.dg_body(pid, "ff2", FF)), 400)
    error(client.delete(f"/devicegroups/{prod['id']}"), 409)  # is a target
    listed = client.get(f"/devicegroups?filter[type]={FF}").json()["data"]
    assert [g["id"] for g in listed] == [ff["id"]]
    error(client.get("/devicegroups?filter[type]=bogus"), 400)
    error(client.get("/devicegroups?filter[colour]=red"), 400)
    patch = {
        "data": {"type": DEV, "id": dev["id"], "attributes": {"env_vars": {"A1": "x", "n": 2}}}
    }
    r = client.patch(f"/devicegroups/{dev['id']}", patch)
    assert r.json()["data"]["attributes"]["env_vars"] == {"A1": "x", "n": 2}
    patch["data"]["type"] = PROD
    error(client.patch(f"/devicegroups/{dev['id']}", patch), 400)


def test_devices_and_assignment(client: Client) -> None:
    pid = client.product()
    gid = client.dg(pid)
    devs = client.devices()
    assert len(devs) == 3
    d0, d1, d2 = devs
    mac = d1["attributes"]["mac_address"]
    r = client.assign(gid, d0["id"], mac)
    assert r.status_code == 204
    got = client.get(f"/devices/{d0['id']}").json()["data"]
    assert got["relationships"]["devicegroup"] == {"type": DEV, "id": gid}
    assert got["relationships"]["product"]["id"] == pid
    agent = got["attributes"]["agent_id"]
    assert got["attributes"]["agent_url"] == f"{client.sim.root_url}/_agent/{agent}"
    for ident in (agent, got["attributes"]["mac_address"]):
        assert client.get(f"/devices/{ident}").json()["data"]["id"] == d0["id"]
    unassigned = client.devices("?filter[devicegroup.owner.id]=null")
    assert [d["id"] for d in unassigned] == [d2["id"]]
    assert len(client.devices(f"?filter[devicegroup.id]={gid}&filter[product.id]={pid}")) == 2
    r = client.assign(gid, d2["id"], "nope", "0c:2a:69:ff:ff:ff")
    assert r.status_code == 400
    assert [e["status"] for e in r.json()["errors"]] == ["404", "404"]
    r = client.delete(
        f"/devicegroups/{gid}/relationships/devices", {"data": [{"type": "device", "id": mac}]}
    )
    assert r.status_code == 204
    assert "devicegroup" not in client.get(f"/devices/{d1['id']}").json()["data"]["relationships"]
    patch = {"data": {"type": "device", "id": mac, "attributes": {"name": "kitchen"}}}
    assert client.patch(f"/devices/{mac}", patch).json()["data"]["attributes"]["name"] == "kitchen"
    error(client.delete(f"/devices/{d0['id']}"), 409)  # assigned
    error(client.post(f"/devices/{d1['id']}/restart"), 409)  # unassigned
    assert client.post(f"/devices/{d0['id']}/restart").status_code == 204
    assert client.post(f"/devices/{d0['id']}/conditional_restart").status_code == 204
    assert client.delete(f"/devices/{d1['id']}").status_code == 204
    error(client.get(f"/devices/{d1['id']}"), 404)


def test_deployments(client: Client) -> None:
    gid = client.dg(client.product())
    d = client.deploy(gid, "dc", "ac", description="first", origin="git", tags=["RC1"])
    a = d["attributes"]
    assert a["sha"] == hashlib.sha256(b"dcac").hexdigest()
    assert (a["origin"], a["tags"], a["flagged"]) == ("git", ["RC1"], False)
    assert d["relationships"]["devicegroup"]["type"] == DEV
    g = client.get(f"/devicegroups/{gid}").json()["data"]
    assert g["relationships"]["current_deployment"] == {"type": "deployment", "id": d["id"]}
    d2 = client.deploy(gid, "2", flagged=True)
    flagged = client.get("/deployments?filter[flagged]=true").json()["data"]
    assert [x["id"] for x in flagged] == [d2["id"]]
    assert client.get(f"/deployments?filter[sha]={a['sha']}").json()["data"][0]["id"] == d["id"]
    assert len(client.get("/deployments?filter[tags]=RC1").json()["data"]) == 1
    e = error(client.delete(f"/deployments/{d2['id']}"), 409)
    assert e["title"] == "Resource Flagged"
    r = client.put(
        f"/devicegroups/{gid}/relationships/min_supported_deployment",
        {"data": {"type": "deployment", "id": d2["id"]}},
    )
    assert r.status_code == 200
    error(client.delete(f"/deployments/{d2['id']}"), 409)
    assert client.delete(f"/deployments/{d['id']}").status_code == 204
    error(client.get(f"/deployments/{d['id']}"), 404)
    patch = {"data": {"type": "deployment", "id": d2["id"], "attributes": {"tags": ["a", "b"]}}}
    assert client.patch(f"/deployments/{d2['id']}", patch).json()["data"]["attributes"]["tags"] == [
        "a",
        "b",
    ]
    patch["data"]["attributes"] = {"device_code": "x"}
    error(client.patch(f"/deployments/{d2['id']}", patch), 400)


def test_compile_error_fault(client: Client) -> None:
    gid = client.dg(client.product())
    meta = [{"file": "agent_code", "type": "error", "row": 2, "column": 5, "text": "oops"}]
    r = client.control("faults", {"compile_error": {"detail": "Agent code failed", "meta": meta}})
    assert r.status_code == 200
    r = client.post(
        "/deployments",
        {
            "data": {
                "type": "deployment",
                "attributes": {"device_code": "", "agent_code": "x"},
                "relationships": {"devicegroup": {"type": DEV, "id": gid}},
            }
        },
    )
    e = error(r, 400)
    assert (e["code"], e["title"], e["meta"]) == ("CX005", "Compilation Error", meta)
    assert client.get("/deployments").json()["data"] == []
    client.deploy(gid, "", "x")  # only one compile error was queued
    for bad in ({"meta": [{"file": "device_code"}]}, {"meta": []}, {"detail": 5}, "yes"):
        assert client.control("faults", {"compile_error": bad}).status_code == 400, bad
    assert requests.get(client.sim.root_url + "/_sim/faults").json()["meta"]["compile_error"] == []
    client.deploy(gid, "", "y")


def test_webhooks(client: Client) -> None:
    gid = client.dg(client.product())

    def body(url: str, event: str = "deployment", ctype: str = "application/json") -> dict:
        return {
            "data": {
                "type": "webhook",
                "attributes": {"url": url, "event": event, "content_type": ctype},
                "relationships": {"devicegroup": {"type": DEV, "id": gid}},
            }
        }

    e = error(client.post("/webhooks", body("invalidurl")), 400)
    assert (e["title"], e["detail"]) == ("Invalid URL", "The provided URL is invalid.")
    error(client.post("/webhooks", body("https://example.com/h", event="boot")), 400)
    error(client.post("/webhooks", body("https://example.com/h", ctype="text/plain")), 400)
    r = client.post("/webhooks", body("https://example.com/h"))
    assert r.status_code == 201
    wh = r.json()["data"]
    assert wh["relationships"]["devicegroup"]["type"] == DEV
    patch = {"data": {"type": "webhook", "id": wh["id"], "attributes": {"event": "blinkup"}}}
    error(client.patch(f"/webhooks/{wh['id']}", patch), 400)
    patch["data"]["attributes"] = {"content_type": "application/x-www-form-urlencoded"}
    assert client.patch(f"/webhooks/{wh['id']}", patch).status_code == 200
    listed = client.get(f"/webhooks?filter[devicegroup.id]={gid}").json()["data"]
    assert [w["id"] for w in listed] == [wh["id"]]
    assert client.delete(f"/webhooks/{wh['id']}").status_code == 204
    error(client.delete(f"/webhooks/{wh['id']}"), 404)


# ------------------------------------------------------------------ bad input


def test_bad_input_is_400_and_changes_nothing(client: Client) -> None:
    r = client.req("POST", "/products", data=b"{not json")
    assert error(r, 400)["code"] == "VX000"
    r = client.req("POST", "/products", data=b"\xff\xfe")
    error(r, 400)
    cases = [
        ({"data": {"type": "product", "attributes": {"name": 5}}}, "/data/attributes/name"),
        ({"data": {"type": "product", "attributes": {}}}, "/data/attributes/name"),
        ({"data": {"type": "product", "attributes": {"name": "a", "x": 1}}}, "/data/attributes/x"),
        ({"data": {"type": "widget", "attributes": {"name": "a"}}}, "/data/type"),
        ({"data": []}, "/data"),
        ([], ""),
    ]
    for body, pointer in cases:
        e = error(client.post("/products", body), 400)
        assert e["source"]["pointer"] == pointer, body
    # The body may be sent with any content type and is still parsed as JSON.
    r = client.req(
        "POST",
        "/products",
        data=json.dumps({"data": {"type": "product", "attributes": {"name": "ok"}}}),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 201
    assert len(client.get("/products").json()["data"]) == 1


def test_big_body_is_413(client: Client) -> None:
    r = client.req("POST", "/products", data=b"x" * (1024 * 1024 + 1))
    error(r, 413)
    assert client.get("/products").status_code == 200


def test_unknown_route_and_method(client: Client) -> None:
    error(client.get("/nothing"), 404)
    error(client.req("PUT", "/products"), 405)
    error(requests.get(client.sim.root_url + "/v4/products"), 404)


# ------------------------------------------------------------------ isolation


def test_two_accounts_cannot_see_each_other(client: Client) -> None:
    client.control("accounts", {"username": "eve", "password": "pw", "email": "e@x.org"})
    eve = Client(client.sim, "eve", "pw")
    pid = client.product("Mine")
    gid = client.dg(pid)
    dev = client.devices()[0]["id"]
    assert eve.get("/products").json()["data"] == []
    assert eve.get("/devices").json()["data"] == []
    for path in (f"/products/{pid}", f"/devicegroups/{gid}", f"/devices/{dev}"):
        error(eve.get(path), 404)
    error(eve.delete(f"/products/{pid}"), 404)
    patch = {"data": {"type": "product", "id": pid, "attributes": {"name": "x"}}}
    error(eve.patch(f"/products/{pid}", patch), 404)
    error(eve.assign(gid, dev), 404)
    body = client.dg_body(pid, "evil")
    error(eve.post("/devicegroups", body), 404)
    assert client.get(f"/products/{pid}").json()["data"]["attributes"]["name"] == "Mine"
    # eve's own product with the same name is fine (names are unique per owner)
    eve.product("Mine")


# ------------------------------------------------------------------ logs and streams


def test_historical_logs_newest_first_with_pages(client: Client) -> None:
    dev = client.devices()[0]["id"]
    lines = [{"type": "server.log", "msg": f"#{i}"} for i in range(1, 21)]
    assert client.control(f"devices/{dev}/logs", {"lines": lines}).status_code == 200
    page = client.get(f"/devices/{dev}/logs?page[size]=5&page[number]=3").json()
    assert [e["msg"] for e in page["data"]] == ["#10", "#9", "#8", "#7", "#6"]
    assert set(page["data"][0]) == {"ts", "type", "msg"}
    assert "next" in page["links"]
    last = client.get(f"/devices/{dev}/logs?page[size]=5&page[number]=4").json()
    assert "next" not in last["links"]


def test_stream_flow_json(client: Client) -> None:
    devs = client.devices()
    sid, sse = client.stream("json")
    try:
        assert sse.next() == ("state_change", '{"state":"opened"}')
        assert sse.headers["Content-Type"] == "text/event-stream"
        mac = devs[0]["attributes"]["mac_address"]
        assert client.put(f"/logstream/{sid}/{mac}").status_code == 204
        ev, data = sse.next()
        assert ev == "state_change"
        assert json.loads(data) == {"state": "subscribed", "device_id": devs[0]["id"]}
        client.control(
            f"devices/{devs[0]['id']}/logs", {"lines": [{"type": "agent.log", "msg": "hi"}]}
        )
        client.control(f"devices/{devs[1]['id']}/logs", {"lines": ["not subscribed"]})
        ev, data = sse.next()
        msg = json.loads(data)
        assert ev == "message" and msg["msg"] == "hi" and msg["type"] == "agent.log"
        assert msg["device_id"] == devs[0]["id"] and msg["ts"].endswith("Z")
        assert client.delete(f"/logstream/{sid}/{devs[0]['id']}").status_code == 204
        assert json.loads(sse.next()[1])["state"] == "unsubscribed"
        error(client.put(f"/logstream/{sid}/nope"), 404)
        error(client.put(f"/logstream/{'0' * 8}/{devs[0]['id']}"), 404)
    finally:
        sse.close()


def test_stream_text_format_and_framing(client: Client) -> None:
    dev = client.devices()[0]["id"]
    sid, sse = client.stream("text")
    try:
        assert sse.next() == ("state_change", "opened")
        client.put(f"/logstream/{sid}/{dev}")
        assert sse.next() == ("state_change", f"{dev} subscribed")
        client.control(f"devices/{dev}/logs", {"lines": [{"type": "server.log", "msg": "a b"}]})
        ev, data = sse.next()
        parts = data.split(" ", 4)
        assert ev == "message" and parts[0] == dev and parts[2] == "development"
        assert parts[3:] == ["server.log", "a b"]
        assert sse.raw_lines[:3] == ["event: state_change", "data: opened", ""]
    finally:
        sse.close()


def test_stream_without_and_with_bearer(client: Client) -> None:
    r = client.post("/logstream")
    sid = r.json()["data"]["id"]
    assert r.json()["data"]["attributes"]["url"] == f"{client.base}/logstream/{sid}"
    sse = SSE(f"{client.base}/logstream/{sid}", {"Authorization": f"Bearer {client.token}"})
    try:
        assert sse.status == 200 and sse.next() == ("state_change", "opened")
    finally:
        sse.close()
    bad = SSE(f"{client.base}/logstream/does-not-exist")
    assert bad.status == 404


def test_stream_eviction_at_five(client: Client) -> None:
    client.control("devices", {"count": 3})
    devs = [d["id"] for d in client.devices()]
    sid, sse = client.stream("json")
    try:
        sse.next()
        for d in devs:
            assert client.put(f"/logstream/{sid}/{d}").status_code == 204
        events = [json.loads(data) for _, data in sse.take(7)]
        assert events[5] == {"state": "unsubscribed", "device_id": devs[0]}
        assert events[6] == {"state": "subscribed", "device_id": devs[5]}
    finally:
        sse.close()


def test_new_stream_closes_old_one_first(client: Client) -> None:
    sid, sse = client.stream("json")
    try:
        sse.next()
        sid2, sse2 = client.stream("json")
        assert sse.next() == ("state_change", '{"state":"closed"}')
        assert sse.next() is None  # the response ended after the closed event
        error(client.put(f"/logstream/{sid}/{client.devices()[0]['id']}"), 404)
        assert SSE(f"{client.base}/logstream/{sid}").status == 404
        assert sse2.next() == ("state_change", '{"state":"opened"}')
        sse2.close()
    finally:
        sse.close()


def test_device_code_literals_reach_stream(client: Client) -> None:
    gid = client.dg(client.product())
    dev = client.devices()[0]["id"]
    client.deploy(gid, 'server.log("tick from device");', 'server.log("tick from agent");')
    sid, sse = client.stream("json")
    try:
        sse.next()
        client.put(f"/logstream/{sid}/{dev}")
        sse.next()
        client.assign(gid, dev)
        status = [json.loads(sse.next()[1])["msg"] for _ in range(3)]
        assert status == [
            "Agent restarted: reload.",
            "Downloading new code; 0.50% program storage used",
            "Device connected",
        ]
        client.control("tick")
        got = [json.loads(sse.next()[1]) for _ in range(2)]
        assert [(g["type"], g["msg"]) for g in got] == [
            ("server.log", "tick from device"),
            ("agent.log", "tick from agent"),
        ]
        client.control(f"devices/{dev}/offline")
        assert json.loads(sse.next()[1])["msg"] == "Device disconnected"
        assert client.get(f"/devices/{dev}").json()["data"]["attributes"]["device_online"] is False
        client.control(f"devices/{dev}/online")
        assert json.loads(sse.next()[1])["msg"] == "Agent restarted: reload."
    finally:
        sse.close()


def test_drop_streams_fault(client: Client) -> None:
    sid, sse = client.stream("json")
    sse.next()
    client.control("faults", {"drop_streams": True})
    assert sse.next() is None
    assert SSE(f"{client.base}/logstream/{sid}").status == 404


# ------------------------------------------------------------------ control plane


def test_seed_devices_with_attributes(client: Client) -> None:
    r = client.control(
        "devices",
        {
            "devices": [
                {
                    "name": "lamp",
                    "mac_address": "0C:2A:69:AA:BB:CC",
                    "imp_type": "imp001",
                    "device_online": False,
                }
            ]
        },
    )
    assert r.status_code == 201
    d = r.json()["data"][0]
    assert d["attributes"]["mac_address"] == "0c:2a:69:aa:bb:cc"
    assert (d["attributes"]["name"], d["attributes"]["device_online"]) == ("lamp", False)
    assert client.get("/devices/0c:2a:69:aa:bb:cc").json()["data"]["id"] == d["id"]
    assert client.control("devices", {"devices": [{"colour": "red"}]}).status_code == 400
    assert len(client.devices()) == 4


def test_faults_429_503_latency(client: Client) -> None:
    client.control("faults", {"status": 429, "count": 2, "retry_after": 3})
    for _ in range(2):
        r = client.get("/products")
        error(r, 429)
        assert r.headers["Retry-After"] == "3" and r.headers["x-ratelimit-remaining"] == "0"
    # control-plane requests do not consume faults
    client.control("faults", {"status": 503, "count": 1})
    client.control("devices", {"count": 1})
    error(client.get("/products"), 503)
    assert client.get("/products").status_code == 200
    client.control("faults", {"latency_ms": 200, "count": 1})
    t0 = time.monotonic()
    client.get("/products")
    assert time.monotonic() - t0 >= 0.19
    t0 = time.monotonic()
    client.get("/products")
    assert time.monotonic() - t0 < 0.15
    assert client.control("faults", {"nonsense": 1}).status_code == 400


def test_control_reset(client: Client) -> None:
    client.product()
    assert client.control("reset").status_code == 200
    error(client.get("/products"), 401)  # tokens are gone too
    c2 = Client(client.sim)
    assert c2.get("/products").json()["data"] == []


def _non_loopback_address() -> str:
    """An IPv4 address of this machine that is not loopback (skips the test without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # picks the outgoing address; UDP sends nothing
            addr = s.getsockname()[0]
        except OSError:
            addr = "127.0.0.1"
    if addr.startswith("127.") or addr == "0.0.0.0":
        pytest.skip("this machine has no non-loopback IPv4 address")
    return addr


def test_server_binds_loopback_by_default(client: Client) -> None:
    addr = _non_loopback_address()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((addr, client.sim.port), timeout=5).close()
    assert requests.get(f"{client.sim.root_url}/v5/products", timeout=5).status_code == 401


def test_control_plane_refuses_non_loopback_clients() -> None:
    addr = _non_loopback_address()
    with start(host="0.0.0.0", port=0, log_interval=0, runner="literal") as sim:
        c = Client(sim)
        pid = c.product("Kept")
        remote = f"http://{addr}:{sim.port}"
        for path in ("reset", "devices", "faults"):
            r = requests.post(f"{remote}/_sim/{path}", json={"count": 1}, timeout=5)
            e = error(r, 403)
            assert (e["code"], e["detail"]) == ("PX200", "The control plane is loopback-only.")
        # The API itself is served to other hosts, and nothing was reset or seeded.
        r = requests.get(f"{remote}/v5/products/{pid}", headers=c.s.headers, timeout=5)
        assert r.status_code == 200 and r.json()["data"]["attributes"]["name"] == "Kept"
        assert len(c.devices()) == 3
        assert c.control("devices", {"count": 1}).status_code == 201  # loopback: served


def test_keep_alive_connection_reused(client: Client) -> None:
    with socket.create_connection(("127.0.0.1", client.sim.port)) as s:
        req = (
            f"GET /v5/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {client.token}\r\n\r\n"
        ).encode()
        f = s.makefile("rb")
        for _ in range(3):
            s.sendall(req)
            status = f.readline()
            assert status.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := f.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert json.loads(f.read(length))["links"]["self"].startswith("http://x/v5/products")


# ------------------------------------------------------------------ persistence & CLI


def test_persistence_across_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    with start(port=0, db=db, log_interval=0, runner="literal") as sim:
        c = Client(sim)
        pid = c.product("Persisted")
        token = c.token
    with start(port=0, db=db, log_interval=0, runner="literal") as sim:
        c = Client(sim, user="")
        c.use(token)
        assert c.get(f"/products/{pid}").json()["data"]["attributes"]["name"] == "Persisted"
        assert len(c.devices()) == 3


def _spawn(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "imptsh.sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("imptsh-sim listening on http://127.0.0.1:"), line
    assert line.rstrip().endswith("/v5")
    return proc, line.split(" on ", 1)[1].strip()


def test_cli_ready_line_and_sigterm(tmp_path: Path) -> None:
    proc, base = _spawn("--devices", "5", "--user", "u1", "--password", "p1")
    try:
        r = requests.post(base + "/auth", json={"id": "u1", "password": "p1"})
        tok = r.json()["access_token"]
        devs = requests.get(base + "/devices", headers={"Authorization": f"Bearer {tok}"})
        assert len(devs.json()["data"]) == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == ""


def test_kill_9_keeps_committed_state(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    proc, base = _spawn("--db", db)
    try:
        tok = requests.post(base + "/auth", json={"id": "demo", "password": "demo"}).json()
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        r = requests.post(
            base + "/products",
            json={"data": {"type": "product", "attributes": {"name": "Survivor"}}},
            headers=h,
        )
        assert r.status_code == 201
        pid = r.json()["data"]["id"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    proc, base = _spawn("--db", db)
    try:
        r = requests.get(f"{base}/products/{pid}", headers=h)
        assert r.status_code == 200 and r.json()["data"]["attributes"]["name"] == "Survivor"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


# ------------------------------------------------------------------ robustness


def test_keep_alive_comment(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import imptsh.sim.http as simhttp

    monkeypatch.setattr(simhttp, "KEEPALIVE_SECONDS", 0.1)
    _sid, sse = client.stream("text")
    try:
        sse.next()
        deadline = time.monotonic() + 5
        while ": keep-alive" not in sse.raw_lines and time.monotonic() < deadline:
            time.sleep(0.05)
        i = sse.raw_lines.index(": keep-alive")
        assert sse.raw_lines[i + 1] == ""
    finally:
        sse.close()


def test_internal_error_is_json_500_without_traceback(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(client.sim.backend, "visible_owners", boom)
    r = client.get("/products")
    e = error(r, 500)
    assert "secret" not in r.text and "Traceback" not in r.text
    assert e["code"] == "XX000"
    assert "RuntimeError" in capsys.readouterr().err


def test_protocol_errors_and_head(client: Client) -> None:
    with socket.create_connection(("127.0.0.1", client.sim.port)) as s:
        s.sendall(b"BROKEN\r\n\r\n")
        data = s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and json.loads(body)["errors"][0]["status"] == "400"
    r = requests.head(client.base + "/products")
    assert r.status_code == 405 and r.content == b""


def test_concurrent_clients(client: Client) -> None:
    import concurrent.futures

    def work(i: int) -> int:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {client.token}"
        body = {"data": {"type": "product", "attributes": {"name": f"C{i}"}}}
        assert s.post(client.base + "/products", json=body).status_code == 201
        return sum(s.get(client.base + "/devices").status_code == 200 for _ in range(10))

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        assert sum(pool.map(work, range(10))) == 100
    assert len(client.get("/products?page[size]=100").json()["data"]) == 10


def test_stream_delivers_many_lines_quickly(client: Client) -> None:
    dev = client.devices()[0]["id"]
    sid, sse = client.stream("json")
    try:
        sse.next()
        client.put(f"/logstream/{sid}/{dev}")
        sse.next()
        t0 = time.monotonic()
        for k in range(10):
            lines = [{"type": "server.log", "msg": f"{k}-{j}"} for j in range(500)]
            client.control(f"devices/{dev}/logs", {"lines": lines})
        got = [json.loads(d)["msg"] for _, d in sse.take(5000)]
        assert got[0] == "0-0" and got[-1] == "9-499"
        assert time.monotonic() - t0 < 5  # well above 1,000 lines/s even on a slow box
    finally:
        sse.close()


def test_rate_limit_enforced_when_enabled() -> None:
    with start(port=0, log_interval=0, rate_limit=3, runner="literal") as sim:
        c = Client(sim)
        responses = [c.get("/products") for _ in range(8)]
        codes = [r.status_code for r in responses]
        # 3 per one-second window: at most two windows are touched by 8 quick requests.
        assert 429 in codes and codes.count(200) <= 6
        limited = responses[codes.index(429)]
        assert limited.headers["Retry-After"] == "1" and limited.headers["x-ratelimit-limit"] == "3"
        sim.stop()
        sim.stop()  # idempotent


def test_stop_sends_closed_to_open_streams() -> None:
    sim = start(port=0, log_interval=0, runner="literal")
    c = Client(sim)
    _sid, sse = c.stream("json")
    assert sse.next() == ("state_change", '{"state":"opened"}')
    sim.stop()
    assert sse.next() == ("state_change", '{"state":"closed"}')
    assert sse.next() is None
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.base_url + "/products", timeout=2)


def test_periodic_device_logs() -> None:
    with start(port=0, log_interval=0.1, runner="literal") as sim:
        c = Client(sim)
        gid = c.dg(c.product())
        dev = c.devices()[0]["id"]
        c.deploy(gid, 'server.log("periodic");\nfunction f() { server.log("never"); }')
        c.assign(gid, dev)
        time.sleep(0.5)
        msgs = [e["msg"] for e in c.get(f"/devices/{dev}/logs?page[size]=100").json()["data"]]
        assert msgs.count("periodic") >= 2 and "never" not in msgs
        others = c.devices()[1]["id"]
        assert c.get(f"/devices/{others}/logs").json()["data"] == []  # runs no code


def test_zombie_control_call(client: Client) -> None:
    pid = client.product()
    body = {
        "data": {
            "type": "deployment",
            "attributes": {"device_code": "dc", "agent_code": "ac", "description": "old build"},
            "relationships": {"product": {"type": "product", "id": pid}},
        }
    }
    r = client.control("zombies", body)
    assert r.status_code == 201, r.text
    z = r.json()["data"]
    assert z["type"] == "deployment" and "devicegroup" not in z["relationships"]
    assert z["attributes"]["sha"] == hashlib.sha256(b"dcac").hexdigest()
    got = client.get(f"/deployments/{z['id']}").json()["data"]
    assert got["attributes"]["description"] == "old build"
    assert got["relationships"]["product"] == {"type": "product", "id": pid}
    body["data"]["relationships"]["product"]["id"] = "nope"
    assert client.control("zombies", body).status_code == 404
    body["data"]["relationships"] = {}
    assert client.control("zombies", body).status_code == 400
    assert len(client.get("/deployments").json()["data"]) == 1
