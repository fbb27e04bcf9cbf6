"""Reading what the guide's steps left on the server and on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SimApi

Resource = dict[str, Any]


def groups(api: SimApi) -> dict[str, Resource]:
    return {g["attributes"]["name"]: g for g in api.client.list("/devicegroups")}


def builds(api: SimApi, dg: Resource) -> list[Resource]:
    """The group's deployments, oldest first."""
    return api.client.list("/deployments", {"devicegroup.id": dg["id"]})


def current_build(api: SimApi, dg: Resource) -> Resource:
    return api.entity("build", dg["relationships"]["current_deployment"]["id"])


def devices(api: SimApi) -> dict[str, Resource]:
    return {d["attributes"]["name"]: d for d in api.devices()}


def group_of(device: Resource) -> str | None:
    return (device["relationships"].get("devicegroup") or {}).get("id")


def project_file(directory: Path) -> dict[str, Any]:
    return json.loads((directory / ".impt.project").read_text())


def attrs(resource: Resource) -> dict[str, Any]:
    return resource["attributes"]


def devices_in(api: SimApi, group: str) -> dict[str, Resource]:
    """The devices assigned to the group named `group`, by name (none if it is not there)."""
    dg = groups(api).get(group)
    if dg is None:
        return {}
    return {attrs(d)["name"]: d for d in api.devices(**{"devicegroup.id": dg["id"]})}


def history(api: SimApi, device_id: str) -> list[str]:
    """The messages the device logged, oldest first."""
    return [e["msg"] for e in api.client.iter_list(f"/devices/{device_id}/logs")][::-1]
