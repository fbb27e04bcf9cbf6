"""impCentral's operations, one function each: the request body, the request, and what the
operation does to the session's entity cache.

Commands and the deletion engine change things on the server only through these functions;
reads go through `identify.Identifier`, which fills the cache. Arguments are ids and API
values (JSON:API `type`s such as `development_devicegroup`, MIME content types), never what
a user typed. Functions return the resource the server answered with, when it answers one.

Cache rules: a created or updated entity is stored and its collection stops counting as
complete; a deleted entity is forgotten; an operation that changes other entities as a side
effect (a deployment changes its Device Group's current deployment, an assignment changes
the device) forgets or invalidates those too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..cache import EntityCache
from ..entities import ENTITIES
from .client import Client
from .errors import ImpCentralError, NotFoundError, UnexpectedResponseError

if TYPE_CHECKING:
    from .events import EventStream

Resource = dict[str, Any]

PASSWORD_HEADER = "X-Electricimp-Password"
UNBOND_KEY_HEADER = "X-Electricimp-Key"


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
"""Default of arguments for which None is a value that can be sent (`env_vars`)."""

# What else a deletion makes stale: a Device Group's devices become unassigned, its
# webhooks go and its deployments lose their group; a Product's groups and builds go.
_DELETION_STALES = {"dg": ("build", "device", "webhook"), "product": ("dg", "build")}


# -- products ---------------------------------------------------------------------------------


def create_product(
    client: Client,
    cache: EntityCache,
    name: str,
    *,
    description: str | None = None,
    owner_id: str | None = None,
) -> Resource:
    data: Resource = {"type": "product", "attributes": _given(name=name, description=description)}
    if owner_id is not None:
        data["relationships"] = {"owner": {"type": "account", "id": owner_id}}
    return _created(cache, "product", client.post("/products", {"data": data}))


def update_product(
    client: Client,
    cache: EntityCache,
    product_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Resource | None:
    attributes = _given(name=name, description=description)
    return _update(client, cache, "product", "product", product_id, attributes)


# -- device groups ----------------------------------------------------------------------------


def create_device_group(
    client: Client,
    cache: EntityCache,
    dg_type: str,
    name: str,
    product_id: str,
    *,
    description: str | None = None,
    region: str | None = None,
    env_vars: Any = UNCHANGED,
    production_target: Resource | None = None,
    dut_target: Resource | None = None,
) -> Resource:
    """`dg_type` is the API type (`development_devicegroup`, ...); the targets are Device
    Group resources."""
    attributes = _given(name=name, description=description, region=region)
    if env_vars is not UNCHANGED:
        attributes["env_vars"] = env_vars
    relationships = {
        "product": {"type": "product", "id": product_id},
        **_targets(production_target, dut_target),
    }
    data = {"type": dg_type, "attributes": attributes, "relationships": relationships}
    return _created(cache, "dg", client.post("/devicegroups", {"data": data}))


def update_device_group(
    client: Client,
    cache: EntityCache,
    dg: Resource,
    *,
    name: str | None = None,
    description: str | None = None,
    load_code_after_blessing: bool | None = None,
    env_vars: Any = UNCHANGED,
    production_target: Resource | None = None,
    dut_target: Resource | None = None,
) -> Resource | None:
    """`dg` is the Device Group resource (its `type` goes into the body)."""
    attributes = _given(
        name=name, description=description, load_code_after_blessing=load_code_after_blessing
    )
    if env_vars is not UNCHANGED:
        attributes["env_vars"] = env_vars
    data: Resource = {"type": dg["type"], "id": dg["id"], "attributes": attributes}
    relationships = _targets(production_target, dut_target)
    if relationships:
        data["relationships"] = relationships
    return _stored(cache, "dg", client.patch(f"/devicegroups/{dg['id']}", {"data": data}))


def set_min_supported_deployment(
    client: Client, cache: EntityCache, dg_id: str, build_id: str
) -> None:
    client.put(
        f"/devicegroups/{dg_id}/relationships/min_supported_deployment",
        {"data": {"type": "deployment", "id": build_id}},
    )
    cache.forget("dg", dg_id)


def restart_device_group(client: Client, dg_id: str, *, conditional: bool = False) -> None:
    """Restarts every device of the group; `conditional`: only those whose deployment is
    no longer supported restart at once, the others when their code decides."""
    client.post(f"/devicegroups/{dg_id}/{_restart_action(conditional)}")


def assign_devices(
    client: Client, cache: EntityCache, dg_id: str, device_ids: Iterable[str]
) -> None:
    """Assigns (or reassigns) the devices to the group, in one request."""
    ids = list(device_ids)
    client.post(f"/devicegroups/{dg_id}/relationships/devices", _device_list(ids))
    _forget(cache, "device", ids)


def unassign_devices(
    client: Client,
    cache: EntityCache,
    dg_id: str,
    device_ids: Iterable[str],
    *,
    unbond_key: str | None = None,
) -> None:
    """Unassigns the devices from the group, in one request. `unbond_key` is required for
    production groups. See `already_unassigned` for the answer when none is assigned."""
    ids = list(device_ids)
    headers = {UNBOND_KEY_HEADER: unbond_key} if unbond_key else None
    try:
        client.delete(
            f"/devicegroups/{dg_id}/relationships/devices", _device_list(ids), headers=headers
        )
    finally:
        _forget(cache, "device", ids)  # assigned or not, what the cache held is stale


def already_unassigned(exc: ImpCentralError) -> bool:
    """Whether an `unassign_devices` failure only says the devices are not in the group."""
    if exc.status == 404:
        return True
    return exc.status == 400 and all(str(e.get("status")) == "404" for e in exc.errors)


# -- devices ------------------------------------------------------------------------------------


def update_device(client: Client, cache: EntityCache, device_id: str, name: str) -> Resource | None:
    return _update(client, cache, "device", "device", device_id, {"name": name})


def restart_device(client: Client, device_id: str, *, conditional: bool = False) -> None:
    client.post(f"/devices/{device_id}/{_restart_action(conditional)}")


# -- deployments --------------------------------------------------------------------------------


def create_deployment(
    client: Client,
    cache: EntityCache,
    dg: Resource,
    *,
    device_code: str,
    agent_code: str,
    description: str | None = None,
    origin: str | None = None,
    flagged: bool | None = None,
    tags: list[str] | None = None,
) -> Resource:
    """A new deployment (build) of `dg`, which becomes its current deployment. The answer's
    `meta` may carry warnings (`title`, `detail`)."""
    attributes = _given(
        device_code=device_code,
        agent_code=agent_code,
        description=description,
        origin=origin,
        flagged=flagged,
        tags=tags,
    )
    relationships = {"devicegroup": {"type": dg["type"], "id": dg["id"]}}
    data = {"type": "deployment", "attributes": attributes, "relationships": relationships}
    build = _created(cache, "build", client.post("/deployments", {"data": data}))
    cache.forget("dg", dg["id"])
    return build


def update_deployment(
    client: Client,
    cache: EntityCache,
    build_id: str,
    *,
    description: str | None = None,
    flagged: bool | None = None,
    tags: list[str] | None = None,
) -> Resource | None:
    """`tags` replaces the deployment's tags; `flagged=False` unflags it (a flagged
    deployment cannot be deleted)."""
    attributes = _given(description=description, flagged=flagged, tags=tags)
    return _update(client, cache, "build", "deployment", build_id, attributes)


# -- webhooks -----------------------------------------------------------------------------------


def create_webhook(
    client: Client, cache: EntityCache, dg: Resource, url: str, event: str, content_type: str
) -> Resource:
    """`content_type` is the MIME type (`application/json`)."""
    data = {
        "type": "webhook",
        "attributes": {"url": url, "event": event, "content_type": content_type},
        "relationships": {"devicegroup": {"type": dg["type"], "id": dg["id"]}},
    }
    return _created(cache, "webhook", client.post("/webhooks", {"data": data}))


def update_webhook(
    client: Client,
    cache: EntityCache,
    webhook_id: str,
    *,
    url: str | None = None,
    content_type: str | None = None,
) -> Resource | None:
    attributes = _given(url=url, content_type=content_type)
    return _update(client, cache, "webhook", "webhook", webhook_id, attributes)


# -- login keys ---------------------------------------------------------------------------------


def create_login_key(
    client: Client, cache: EntityCache, password: str, *, description: str | None = None
) -> Resource:
    """A new login key of the current account; `password` is the account's password."""
    body = {"data": {"type": "login_key", "attributes": _given(description=description)}}
    answer = client.post(ENTITIES["loginkey"].collection, body, headers=_password(password))
    return _created(cache, "loginkey", answer)


def update_login_key(
    client: Client, cache: EntityCache, key_id: str, password: str, description: str
) -> Resource | None:
    attributes = {"description": description}
    return _update(client, cache, "loginkey", "login_key", key_id, attributes, _password(password))


# -- deleting -----------------------------------------------------------------------------------


def delete_entity(
    client: Client,
    cache: EntityCache,
    kind: str,
    entity_id: str,
    *,
    password: str | None = None,
) -> None:
    """Deletes one entity of `kind` (`product`, `dg`, `device` (removes it from the
    account), `build`, `webhook`, `loginkey`: a login key needs the account `password`).
    A NotFoundError still forgets the entity: it is gone either way."""
    path = f"{ENTITIES[kind].collection}/{entity_id}"
    headers = _password(password) if password is not None else None
    try:
        client.delete(path, headers=headers)
    except NotFoundError:
        _forget_deleted(cache, kind, entity_id)
        raise
    _forget_deleted(cache, kind, entity_id)


# -- device logs --------------------------------------------------------------------------------


def device_log_page(
    client: Client, device_id: str, page_number: int, page_size: int
) -> tuple[list[Resource], bool]:
    """One page of a device's log history (`ts`, `type`, `msg` entries, newest first; page 1
    holds the newest) and whether an older page follows."""
    doc = client.get(
        f"/devices/{device_id}/logs",
        {"page[number]": page_number, "page[size]": page_size},
    )
    data = doc.get("data")
    if not isinstance(data, list):
        raise UnexpectedResponseError()
    entries = [entry for entry in data if isinstance(entry, dict)]
    links = doc.get("links")
    if isinstance(links, dict) and links:
        more = bool(links.get("next"))
    else:  # a server that sends no links: a full page may have a successor
        more = len(entries) >= page_size
    return entries, more and bool(entries)


# -- log streams --------------------------------------------------------------------------------


def create_log_stream(client: Client) -> str:
    """Opens a new log stream of the account (closing the one it had) and returns its id."""
    answer = client.post("/logstream")
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        raise UnexpectedResponseError()
    return str(data["id"])


def add_to_log_stream(client: Client, stream_id: str, device_id: str) -> None:
    """Adds a device (id, MAC or agent id) to the stream; the server keeps at most a few
    devices per stream and drops the oldest with an `unsubscribed` state change."""
    client.put(f"/logstream/{stream_id}/{device_id}")


def remove_from_log_stream(client: Client, stream_id: str, device_id: str) -> None:
    client.delete(f"/logstream/{stream_id}/{device_id}")


def open_log_stream(client: Client, stream_id: str, *, fmt: str = "json") -> EventStream:
    """The stream's server-sent events: `state_change` (`opened` first, then `subscribed`,
    `unsubscribed`, `closed`) and `message` (one log line each). With `fmt="json"` every
    `data` is one JSON object (`device_id`, `ts`, `type`, `msg` for messages)."""
    return client.stream_events(f"/logstream/{stream_id}", params={"format": fmt})


# -- the parts ----------------------------------------------------------------------------------


def _given(**values: Any) -> Resource:
    """The attributes that were given (None means: leave as it is / server default)."""
    return {name: value for name, value in values.items() if value is not None}


def _targets(production_target: Resource | None, dut_target: Resource | None) -> Resource:
    relationships: Resource = {}
    for name, target in (("production_target", production_target), ("dut_target", dut_target)):
        if target is not None:
            relationships[name] = {"type": target["type"], "id": target["id"]}
    return relationships


def _device_list(device_ids: list[str]) -> Resource:
    return {"data": [{"type": "device", "id": device_id} for device_id in device_ids]}


def _restart_action(conditional: bool) -> str:
    return "conditional_restart" if conditional else "restart"


def _password(password: str) -> dict[str, str]:
    return {PASSWORD_HEADER: password}


def _update(
    client: Client,
    cache: EntityCache,
    kind: str,
    api_type: str,
    entity_id: str,
    attributes: Mapping[str, Any],
    headers: dict[str, str] | None = None,
) -> Resource | None:
    body = {"data": {"type": api_type, "id": entity_id, "attributes": dict(attributes)}}
    answer = client.patch(f"{ENTITIES[kind].collection}/{entity_id}", body, headers=headers)
    return _stored(cache, kind, answer)


def _created(cache: EntityCache, kind: str, answer: Any) -> Resource:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise UnexpectedResponseError()
    cache.put(kind, data)
    cache.invalidate(kind)
    return data


def _stored(cache: EntityCache, kind: str, answer: Any) -> Resource | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict):
        cache.put(kind, data)
    cache.invalidate(kind)
    return data if isinstance(data, dict) else None


def _forget(cache: EntityCache, kind: str, ids: Iterable[str]) -> None:
    for entity_id in ids:
        cache.forget(kind, entity_id)


def _forget_deleted(cache: EntityCache, kind: str, entity_id: str) -> None:
    cache.forget(kind, entity_id)
    cache.invalidate(*_DELETION_STALES.get(kind, ()))
