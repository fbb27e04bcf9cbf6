"""Deployments: creation (after the code runner's compile check), flags and tags, the
delete rules, zombies (deployments without a device group, made by the control plane)."""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import ApiError, bad_request, conflict, not_found
from ..model import Model, Record, by_creation, txn
from ..records import (
    DESCRIPTION,
    Document,
    Field,
    boolean,
    check_filters,
    insert,
    patch,
    read_changes,
    read_new,
    tags,
    text,
)
from ..routing import collection_routes
from ..runner import CodeError

MAX_CODE = 4 * 1024 * 1024
FIELDS = (
    Field("device_code", text(MAX_CODE), required=True, updatable=False),
    Field("agent_code", text(MAX_CODE), required=True, updatable=False),
    Field("description", DESCRIPTION, default=""),
    Field("origin", text(255, null=True), updatable=False),
    Field("flagged", boolean, default=False),
    Field("tags", tags, default=[]),
)
_FILTERS = (
    "owner.id",
    "creator.id",
    "product.id",
    "devicegroup.id",
    "sha",
    "flagged",
    "flagger.id",
    "tags",
)
_FILTER_FIELDS = {
    "owner.id": "owner",
    "creator.id": "creator",
    "product.id": "product",
    "devicegroup.id": "devicegroup",
    "sha": "sha",
    "flagger.id": "flagger",
}


def list_deployments(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, _FILTERS)
    flagged = filters.get("flagged", "any")
    if flagged not in ("true", "false", "any"):
        raise bad_request("filter[flagged] must be 'true', 'false' or 'any'.", "filter[flagged]")
    wanted_tags = [t for t in filters.get("tags", "").split(",") if t]
    wanted = [(field, filters[key]) for key, field in _FILTER_FIELDS.items() if key in filters]
    with m.lock:
        owners = m.visible_owners(account_id)
        return by_creation(
            p
            for p in m.t["deployment"].values()
            if p["owner"] in owners
            and (flagged == "any" or p["flagged"] == (flagged == "true"))
            and all(p.get(field) == value for field, value in wanted)
            and all(t in p["tags"] for t in wanted_tags)
        )


def get_deployment(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        return m.get_visible("deployment", ident, account_id)


def compile_error(problems: list[CodeError], detail: str | None = None) -> ApiError:
    """impCentral's compile error: one ``meta`` item per problem."""
    if detail is None:
        failed = "Device" if any(p.file == "device_code" for p in problems) else "Agent"
        detail = f"{failed} code compile failed"
    meta = [
        {"file": p.file, "type": p.type, "row": p.row, "column": p.column, "text": p.text}
        for p in problems
    ]
    return ApiError(400, "CX005", "Compilation Error", detail, meta=meta)


def _check_compiles(m: Model, device_code: str, agent_code: str) -> None:
    """An injected compile-error fault, else the code runner, decides whether code compiles."""
    fault = m.faults.take_compile_error()
    if fault is not None:
        raise compile_error(list(fault.problems), fault.detail)
    problems = m.runner.compile_errors(device_code, agent_code)
    if problems:
        raise compile_error(problems)


def create_deployment(m: Model, account_id: str, body: Any) -> Record:
    """Validate, check that the code compiles (outside the lock: compiling may take a while),
    then create it as the group's current deployment (and as its min supported deployment
    when the group has none yet)."""
    doc = read_new(
        body, "deployment", FIELDS, rels=("devicegroup",), required_rels=("devicegroup",)
    )
    with m.lock:
        m.get_visible("devicegroup", doc.rels["devicegroup"]["id"], account_id)
    _check_compiles(m, doc.values["device_code"], doc.values["agent_code"])
    return _insert(m, account_id, doc)


def _insert_record(
    m: Model, values: dict[str, Any], product: Record, dg: Record | None, creator: str
) -> Record:
    sha = hashlib.sha256((values["device_code"] + values["agent_code"]).encode()).hexdigest()
    return insert(
        m,
        "deployment",
        {
            **values,
            "sha": sha,
            "devicegroup": dg["id"] if dg else None,
            "product": product["id"],
            "owner": product["owner"],
            "creator": creator,
            "flagger": creator if values["flagged"] else None,
        },
    )


@txn
def _insert(m: Model, account_id: str, doc: Document) -> Record:
    dg = m.get_visible("devicegroup", doc.rels["devicegroup"]["id"], account_id)
    dep = _insert_record(m, doc.values, m.t["product"][dg["product"]], dg, account_id)
    minimum = dg.get("min_supported_deployment") or dep["id"]
    m.update("devicegroup", dg, current_deployment=dep["id"], min_supported_deployment=minimum)
    return dep


@txn
def create_zombie(m: Model, body: Any) -> Record:
    """Control plane: a deployment of a product without a device group, as deployments of
    groups deleted before 2024 are (deleting a group now deletes its deployments)."""
    doc = read_new(body, "deployment", FIELDS, rels=("product",), required_rels=("product",))
    product = m.t["product"].get(doc.rels["product"]["id"])
    if product is None:
        raise not_found("product")
    return _insert_record(m, doc.values, product, None, product["owner"])


@txn
def update_deployment(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.get_visible("deployment", ident, account_id)
    changes = read_changes(body, "deployment", FIELDS).values
    if "flagged" in changes:
        if changes["flagged"] and not rec["flagged"]:
            changes["flagger"] = account_id
        elif not changes["flagged"]:
            changes["flagger"] = None
    return patch(m, "deployment", rec, changes)


@txn
def delete_deployment(m: Model, account_id: str, ident: str) -> None:
    """Refused for flagged deployments and for a group's current deployment, its min
    supported deployment and anything newer than that."""
    rec = m.get_visible("deployment", ident, account_id)
    if rec["flagged"]:
        raise conflict(
            "Resource Flagged",
            "You cannot delete flagged deployments; set the flagged attribute to false "
            "and try again.",
            code="CX009",
        )
    dg = m.t["devicegroup"].get(rec.get("devicegroup") or "")
    if dg is not None:
        minimum = m.t["deployment"].get(dg.get("min_supported_deployment") or "")
        if rec["id"] == dg.get("current_deployment") or (
            minimum is not None and rec["seq"] >= minimum["seq"]
        ):
            raise conflict(
                "Deployment In Use",
                "Cannot delete the current deployment or min_supported_deployment of a "
                "devicegroup, or any deployment newer than its min_supported_deployment.",
                code="CX011",
            )
    m.delete("deployment", rec["id"])


ROUTES = collection_routes(
    "deployments",
    "deployment",
    list_=list_deployments,
    create=create_deployment,
    get=get_deployment,
    update=update_deployment,
    delete=delete_deployment,
)
