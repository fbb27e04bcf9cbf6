"""What each impCentral operation does to the session's entity cache, against the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from imptsh.api import resources
from imptsh.api.errors import ImpCentralError, NotFoundError
from imptsh.cache import EntityCache
from tests.conftest import DEV, SimApi


@pytest.fixture
def cache() -> EntityCache:
    return EntityCache()


def complete(cache: EntityCache, *kinds: str) -> None:
    """Marks the kinds' collections as fully listed (as an unfiltered list does)."""
    for kind in kinds:
        cache.store(kind, cache.all(kind), complete=True)


def test_a_created_entity_is_cached_and_its_collection_no_longer_complete(
    api: SimApi, cache: EntityCache
) -> None:
    complete(cache, "product")
    product = resources.create_product(api.client, cache, "P", description="d")
    assert cache.get("product", product["id"]) == product
    assert not cache.is_complete("product")
    attributes = product["attributes"]
    assert (attributes["name"], attributes["description"]) == ("P", "d")


def test_an_update_stores_what_the_server_answered(api: SimApi, cache: EntityCache) -> None:
    product = api.product("P")
    complete(cache, "product")
    resources.update_product(api.client, cache, product["id"], name="Q")
    assert cache.get("product", product["id"])["attributes"]["name"] == "Q"
    assert not cache.is_complete("product")


def test_a_deployment_makes_its_device_group_stale(api: SimApi, cache: EntityCache) -> None:
    dg = api.dg(api.product("P"), "G")
    cache.put("dg", dg)
    build = resources.create_deployment(api.client, cache, dg, device_code="", agent_code="")
    assert cache.get("build", build["id"]) == build
    assert cache.get("dg", dg["id"]) is None  # its current deployment changed
    cache.put("dg", dg)
    resources.set_min_supported_deployment(api.client, cache, dg["id"], build["id"])
    assert cache.get("dg", dg["id"]) is None
    assert api.entity("dg", dg)["relationships"]["min_supported_deployment"]["id"] == build["id"]


def test_assignment_forgets_the_devices_even_when_refused(api: SimApi, cache: EntityCache) -> None:
    dg = api.dg(api.product("P"), "G")
    devices = api.devices()[:2]
    for device in devices:
        cache.put("device", device)
    complete(cache, "device")
    resources.assign_devices(api.client, cache, dg["id"], [d["id"] for d in devices])
    assert [cache.get("device", d["id"]) for d in devices] == [None, None]
    assert not cache.is_complete("device")
    assert {api.device(d)["relationships"]["devicegroup"]["id"] for d in devices} == {dg["id"]}
    cache.put("device", devices[0])
    other = api.dg(api.product("Q"), "H")
    with pytest.raises(ImpCentralError) as refused:
        resources.unassign_devices(api.client, cache, other["id"], [devices[0]["id"]])
    assert resources.already_unassigned(refused.value)
    assert cache.get("device", devices[0]["id"]) is None


def test_deleting_forgets_the_entity_and_what_it_made_stale(
    api: SimApi, cache: EntityCache
) -> None:
    dg = api.dg(api.product("P"), "G")
    cache.put("dg", dg)
    complete(cache, "dg", "build", "device", "webhook", "product")
    resources.delete_entity(api.client, cache, "dg", dg["id"])
    assert cache.get("dg", dg["id"]) is None
    assert [cache.is_complete(k) for k in ("dg", "build", "device", "webhook")] == [False] * 4
    assert cache.is_complete("product")
    assert api.find("dg", dg) is None


def test_deleting_what_is_already_gone_forgets_it_too(api: SimApi, cache: EntityCache) -> None:
    gone: dict[str, Any] = {"type": DEV, "id": "00000000-0000-0000-0000-000000000000"}
    cache.put("dg", gone)
    with pytest.raises(NotFoundError):
        resources.delete_entity(api.client, cache, "dg", gone["id"])
    assert cache.get("dg", gone["id"]) is None


def test_a_login_key_needs_the_password(api: SimApi, cache: EntityCache) -> None:
    key = resources.create_login_key(api.client, cache, "demo", description="k")
    assert cache.get("loginkey", key["id"])["attributes"]["description"] == "k"
    with pytest.raises(ImpCentralError) as wrong:
        resources.delete_entity(api.client, cache, "loginkey", key["id"], password="nope")
    assert wrong.value.status in (401, 403)
    assert cache.get("loginkey", key["id"]) is not None  # still there
    resources.delete_entity(api.client, cache, "loginkey", key["id"], password="demo")
    assert cache.get("loginkey", key["id"]) is None
