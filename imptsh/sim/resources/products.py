"""Products."""

from __future__ import annotations

from typing import Any

from ..errors import conflict, not_found
from ..model import Model, Record, by_creation, txn
from ..records import DESCRIPTION, NAME, Field, check_filters, insert, patch, read_changes, read_new
from ..routing import collection_routes

FIELDS = (Field("name", NAME, required=True), Field("description", DESCRIPTION, default=""))


def list_products(m: Model, account_id: str, filters: dict[str, str]) -> list[Record]:
    check_filters(filters, ("owner.id",))
    with m.lock:
        owners = m.visible_owners(account_id)
        want = filters.get("owner.id")
        return by_creation(
            p
            for p in m.t["product"].values()
            if p["owner"] in owners and (want is None or p["owner"] == want)
        )


def get_product(m: Model, account_id: str, ident: str) -> Record:
    with m.lock:
        return m.get_visible("product", ident, account_id)


def _unique_name(m: Model, owner: str, name: str, exclude: str | None = None) -> None:
    for p in m.t["product"].values():
        if p["owner"] == owner and p["name"] == name and p["id"] != exclude:
            raise conflict("Duplicate Resource", "Products must have unique names.")


@txn
def create_product(m: Model, account_id: str, body: Any) -> Record:
    doc = read_new(body, "product", FIELDS, rels=("owner",))
    owner = account_id
    if "owner" in doc.rels:
        owner = doc.rels["owner"]["id"]
        if owner not in m.visible_owners(account_id):
            raise not_found("account")
    _unique_name(m, owner, doc.values["name"])
    return insert(m, "product", {"owner": owner, "creator": account_id, **doc.values})


@txn
def update_product(m: Model, account_id: str, ident: str, body: Any) -> Record:
    rec = m.get_visible("product", ident, account_id)
    changes = read_changes(body, "product", FIELDS).values
    if "name" in changes:
        _unique_name(m, rec["owner"], changes["name"], rec["id"])
    return patch(m, "product", rec, changes)


@txn
def delete_product(m: Model, account_id: str, ident: str) -> None:
    """Refused while device groups belong to it; its zombie deployments stay."""
    rec = m.get_visible("product", ident, account_id)
    if any(g["product"] == rec["id"] for g in m.t["devicegroup"].values()):
        raise conflict(
            "Dependent Devicegroups Exist",
            "Cannot delete a product with associated devicegroups.",
            code="CX002",
        )
    m.delete("product", rec["id"])


ROUTES = collection_routes(
    "products",
    "product",
    list_=list_products,
    create=create_product,
    get=get_product,
    update=update_product,
    delete=delete_product,
)
