"""Device groups: types and targets, min supported deployment, restarts and device
assignment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ApiError, bad_attribute, bad_relationship, bad_request, conflict
from ..model import (
    DG_TYPES,
    FIXTURE_TYPES,
    PRODUCTION_TYPES,
    Model,
    Record,
    by_creation,
    txn,
)
from ..records import (
    DESCRIPTION,
    NAME,
    Field,
    Parse,
    boolean,
    check_filters,
    env_vars,
    insert,
    patch,
    read_changes,
    read_data,
    read_new,
    text,
)
from ..routing import BODY, Route, collection_routes
from . import devices

TARGETS = ("production_target", "dut_target")
_REGION = text(64, min_len=1, null=True)


def _region(typ: str) -> Parse:
    def parse(name: str, value: Any) -> str | None:
        if value is not None and typ not in PRODUCTION_TYPES:
            raise bad_attribute(
                name, "'region' may only be set on production and pre-production groups."
            )
        return _REGION(name, value)

    return parse


def _fields(typ: str) -> tuple[Field, ...]:
    fields = (
        Field("name", NAME, required=True),
        Field("description", DESCRIPTION, default=""),
        Field("region", _region(typ), updatable=False),
        Field("env_vars", env_vars),
    )
    if typ in PRODUCTION_TYPES:
        fields += (Field("load_code_after_blessing", boolean, default=True),)
    return fields


def list_devicegroups(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, ("owner.id", "product.id", "type"))
    if "type" in filters and filters["type"] not in DG_TYPES:
        raise bad_request(f"Invalid value for filter[type]: {filters['type']!r}.", "filter[type]")
    fields = {"owner.id": "owner", "product.id": "product", "type": "type"}
    with m.lock:
        owners = m.visible_owners(account_id)
        return by_creation(
            g
            for g in m.t["devicegroup"].values()
            if g["owner"] in owners and all(g[fields[k]] == v for k, v in filters.items())
        )


def get_devicegroup(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        return m.get_visible("devicegroup", ident, account_id)


def _unique_name(m: Model, product: str, name: str, exclude: str | None = None) -> None:
    for g in m.t["devicegroup"].values():
        if g["product"] == product and g["name"] == name and g["id"] != exclude:
            raise conflict("Duplicate Resource", "Devicegroups must have unique names.")


def _targets(
    m: Model, account_id: str, typ: str, product: str, rels: dict[str, Any], creating: bool
) -> dict[str, str]:
    """The factory fixture targets named in ``rels``, checked for type pairing and product."""
    if typ not in FIXTURE_TYPES:
        for name in TARGETS:
            if name in rels:
                raise bad_relationship(
                    name, f"'{name}' is only allowed on factory fixture devicegroups."
                )
        return {}
    out: dict[str, str] = {}
    for name, want in zip(TARGETS, FIXTURE_TYPES[typ], strict=True):
        if name not in rels:
            if creating:
                raise bad_relationship(name, f"Relationship '{name}' is required for {typ}.")
            continue
        target = m.get_visible("devicegroup", rels[name]["id"], account_id)
        if target["type"] != want:
            raise bad_relationship(name, f"'{name}' of a {typ} must be a {want}.")
        if target["product"] != product:
            raise bad_relationship(
                name, f"'{name}' must belong to the same product as the devicegroup."
            )
        out[name] = target["id"]
    return out


def _requested_type(body: Any) -> str:
    data = body.get("data") if isinstance(body, dict) else None
    typ = data.get("type") if isinstance(data, dict) else None
    return typ if isinstance(typ, str) else ""


@txn
def create_devicegroup(m: Model, account_id: str, body: Any) -> Record:
    doc = read_new(
        body,
        DG_TYPES,
        _fields(_requested_type(body)),
        rels=("product", *TARGETS),
        required_rels=("product",),
    )
    product = m.get_visible("product", doc.rels["product"]["id"], account_id)
    targets = _targets(m, account_id, doc.type, product["id"], doc.rels, True)
    _unique_name(m, product["id"], doc.values["name"])
    values = {
        "type": doc.type,
        "product": product["id"],
        "owner": product["owner"],
        "creator": account_id,
        "load_code_after_blessing": None,
        **doc.values,
        "current_deployment": None,
        "min_supported_deployment": None,
        **{name: targets.get(name) for name in TARGETS},
    }
    return insert(m, "devicegroup", values)


@txn
def update_devicegroup(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.get_visible("devicegroup", ident, account_id)

    def same_type(typ: str) -> None:
        if typ != rec["type"]:
            raise bad_request(
                f"'data.type' must be the devicegroup's type '{rec['type']}'; the type of a "
                "devicegroup cannot be changed.",
                "/data/type",
            )

    doc = read_changes(
        body, (*DG_TYPES, "devicegroup"), _fields(rec["type"]), rels=TARGETS, check_type=same_type
    )
    if "name" in doc.values:
        _unique_name(m, rec["product"], doc.values["name"], rec["id"])
    targets = _targets(m, account_id, rec["type"], rec["product"], doc.rels, False)
    return patch(m, "devicegroup", rec, {**doc.values, **targets})


@txn
def delete_devicegroup(m: Model, account_id: str, ident: str) -> None:
    """Refused while devices are assigned, a deployment is flagged or another group targets
    it; its deployments and webhooks are deleted with it."""
    rec = m.get_visible("devicegroup", ident, account_id)
    gid = rec["id"]
    if any(d.get("devicegroup") == gid for d in m.t["device"].values()):
        raise conflict(
            "Dependent Devices Exist",
            "Cannot delete a devicegroup with assigned devices; unassign them first.",
            code="CX003",
        )
    deps = [p for p in m.t["deployment"].values() if p.get("devicegroup") == gid]
    if any(p["flagged"] for p in deps):
        raise conflict(
            "Flagged Deployments Exist",
            "Cannot delete a devicegroup with flagged deployments; delete those first.",
            code="CX004",
        )
    for g in m.t["devicegroup"].values():
        if g["id"] != gid and gid in (g.get("production_target"), g.get("dut_target")):
            raise conflict(
                "Dependent Devicegroups Exist",
                "Cannot delete a devicegroup that is the production_target or dut_target "
                "of another devicegroup.",
                code="CX002",
            )
    for p in deps:
        m.delete("deployment", p["id"])
    for w in list(m.t["webhook"].values()):
        if w.get("devicegroup") == gid:
            m.delete("webhook", w["id"])
    m.delete("devicegroup", gid)


@txn
def set_min_supported(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.get_visible("devicegroup", ident, account_id)
    data = read_data(body, "deployment")
    dep = m.get_visible("deployment", data["id"], account_id) if data.get("id") else None
    if dep is None:
        raise bad_request("'data.id' (a deployment id) is required.", "/data/id")
    if dep.get("devicegroup") != rec["id"]:
        raise bad_request(
            "The deployment does not belong to this devicegroup.",
            "/data/id",
            title="Invalid Relationship",
        )
    cur = m.t["deployment"].get(rec.get("min_supported_deployment") or "")
    if cur is not None and dep["seq"] < cur["seq"]:
        raise bad_request(
            "min_supported_deployment cannot be set to a deployment older than the "
            "current min_supported_deployment.",
            "/data/id",
            title="Invalid Relationship",
        )
    return m.update("devicegroup", rec, min_supported_deployment=dep["id"])


@txn
def restart_devicegroup(m: Model, account_id: str, ident: str, conditional: bool = False) -> None:
    rec = m.get_visible("devicegroup", ident, account_id)
    group = by_creation(d for d in m.t["device"].values() if d.get("devicegroup") == rec["id"])
    for dev in group:
        if conditional:
            devices.conditional_restart(m, dev)
        else:
            devices.restart(m, dev)


def conditional_restart_devicegroup(m: Model, account_id: str, ident: str) -> None:
    restart_devicegroup(m, account_id, ident, conditional=True)


# ---------------------------------------------------------------------------------------
# device assignment (not atomic: valid entries are applied, failed ones reported)
# ---------------------------------------------------------------------------------------


def _device_idents(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise bad_request("The request body must contain a 'data' array of devices.", "/data")
    idents = []
    for i, item in enumerate(body["data"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise bad_request(f"data[{i}] must be an object with an 'id'.", f"/data/{i}/id")
        if item.get("type", "device") != "device":
            raise bad_request(f"data[{i}].type must be 'device'.", f"/data/{i}/type")
        idents.append(item["id"])
    return idents


def _device_error(i: int, ident: str, status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "status": str(status),
        "code": "NF001" if status == 404 else "CX006",
        "title": title,
        "detail": detail,
        "source": {"pointer": f"/data/{i}/id"},
        "meta": {"id": ident},
    }


def _assignment_problem(m: Model, dev: Record, dg: Record) -> str | None:
    if dg["type"] in PRODUCTION_TYPES:
        cur = m.t["devicegroup"].get(dev.get("devicegroup") or "")
        if cur is None or cur["type"] not in PRODUCTION_TYPES or cur["product"] != dg["product"]:
            return (
                "Devices get into production groups by blessing; they can only be moved "
                "between production groups of the same product."
            )
    if dg["type"] in FIXTURE_TYPES and dev["imp_type"] == "imp001":
        return "imp001-based devices cannot be assigned to factory fixture groups."
    return None


Problem = tuple[int, str, str]  # (status, title, detail) of one failed entry


def _for_each_device(
    m: Model,
    account_id: str,
    ident: str,
    body: Any,
    step: Callable[[Record | None, Record, str], Problem | None],
) -> None:
    """Apply ``step(device or None, group, identifier)`` to every listed device; the entries
    it refuses make one 400 with an error each, while the others' changes are kept."""
    rec = m.get_visible("devicegroup", ident, account_id)
    errors = []
    for i, dev_ident in enumerate(_device_idents(body)):
        try:
            dev: Record | None = m.resolve_device(dev_ident, account_id)
        except ApiError:
            dev = None
        problem = step(dev, rec, dev_ident)
        if problem is not None:
            errors.append(_device_error(i, dev_ident, *problem))
    if errors:
        raise ApiError(400, "VX004", "Invalid Devices", "", errors=errors, keep_changes=True)


@txn
def assign_devices(m: Model, account_id: str, ident: str, body: Any) -> None:
    def assign(dev: Record | None, dg: Record, dev_ident: str) -> Problem | None:
        if dev is None:
            return 404, "Resource Not Found", f"Could not find the specified device: {dev_ident}."
        if dev.get("devicegroup") == dg["id"]:
            return None
        problem = _assignment_problem(m, dev, dg)
        if problem:
            return 400, "Invalid Assignment", problem
        devices.assign(m, dev, dg)
        return None

    _for_each_device(m, account_id, ident, body, assign)


@txn
def unassign_devices(m: Model, account_id: str, ident: str, body: Any) -> None:
    def unassign(dev: Record | None, dg: Record, dev_ident: str) -> Problem | None:
        if dev is None or dev.get("devicegroup") != dg["id"]:
            detail = f"Could not find the specified device in this devicegroup: {dev_ident}."
            return 404, "Resource Not Found", detail
        devices.unassign(m, dev)
        return None

    _for_each_device(m, account_id, ident, body, unassign)


ROUTES = [
    *collection_routes(
        "devicegroups",
        "devicegroup",
        list_=list_devicegroups,
        create=create_devicegroup,
        get=get_devicegroup,
        update=update_devicegroup,
        delete=delete_devicegroup,
    ),
    Route("POST", "devicegroups/*/restart", restart_devicegroup),
    Route("POST", "devicegroups/*/conditional_restart", conditional_restart_devicegroup),
    Route(
        "PUT",
        "devicegroups/*/relationships/min_supported_deployment",
        set_min_supported,
        (BODY,),
        "devicegroup",
    ),
    Route("POST", "devicegroups/*/relationships/devices", assign_devices, (BODY,)),
    Route("DELETE", "devicegroups/*/relationships/devices", unassign_devices, (BODY,)),
]
