"""`product create|delete|info|list|update`."""

from __future__ import annotations

from dataclasses import replace

from .. import listing
from ..api import resources
from ..deletion import DeletionPlan, execute
from ..invocation import Invocation
from ..views import info_view, product_full_view, rel_id, short_view
from .common import (
    CONFIRMED,
    FORCE,
    attr,
    dg_devices,
    owner_opt,
    product_opt,
    resolve_product,
)
from .spec import EMPTY_OK, FLAG, Group, Option

group = Group("product", "Product manipulation commands.")

NAME = Option("name", "n", "Name of the Product.", placeholder="<product_name>")
DESCR = Option(
    "descr", "s", "Description of the Product.", EMPTY_OK, placeholder="<product_description>"
)
PROJECT_DEFAULT = " If not specified, the Product of the Device Group referenced by the Project File in the current directory is used."


@group.command(
    "create",
    "Creates a new Product.",
    [
        replace(NAME, required=True),
        DESCR,
        owner_opt("Account identifier of the Product's owner (default: the current account)."),
    ],
)
def create(inv: Invocation) -> None:
    args = inv.args
    owner = inv.identifier.resolve("account", args.owner) if args.owner else None
    product = resources.create_product(
        inv.client,
        inv.cache,
        args.name,
        description=args.descr,
        owner_id=owner["id"] if owner else None,
    )
    inv.out.info(f'Product "{args.name}" is created successfully.')
    inv.out.result(short_view("product", product))


@group.command(
    "delete",
    "Deletes the specified Product. With --force also deletes its Device Groups (unassigning "
    "their Devices and unflagging their Deployments); with --builds also deletes all its "
    "Deployments." + PROJECT_DEFAULT,
    [
        product_opt("Product identifier." + PROJECT_DEFAULT),
        Option("builds", "b", "Also deletes all Deployments of the Product.", FLAG),
        FORCE,
        CONFIRMED,
    ],
)
def delete(inv: Invocation) -> None:
    product, ident = resolve_product(inv, inv.args.product)
    plan = DeletionPlan()
    plan.add("product", product, ident)
    pid = product["id"]
    if inv.args.force:
        for dg in inv.identifier.list("dg", {"product.id": pid}):
            plan.add("dg", dg)
            for device in dg_devices(inv, dg["id"]):
                plan.add_unassign(device)
            for build in inv.identifier.list(
                "build", {"devicegroup.id": dg["id"], "flagged": "true"}
            ):
                plan.add_unflag(build)
    if inv.args.builds:
        for build in inv.identifier.list("build", {"product.id": pid}):
            plan.add("build", build)
            if inv.args.force and attr(build, "flagged") and rel_id(build, "devicegroup") is None:
                plan.add_unflag(build)
    execute(inv, plan)


@group.command(
    "info",
    "Displays information about the specified Product. With --full also its Device Groups, "
    "their Webhooks and Devices." + PROJECT_DEFAULT,
    [
        product_opt("Product identifier." + PROJECT_DEFAULT),
        Option("full", "u", "Also shows the Product's Device Groups and their Devices.", FLAG),
    ],
)
def info(inv: Invocation) -> None:
    product, ident = resolve_product(inv, inv.args.product)
    product = inv.identifier.fresh("product", product)
    warnings: list[str] = []
    related = inv.related(bulk=inv.args.full)
    if inv.args.full:
        dgs = inv.identifier.list("dg", {"product.id": product["id"]})
        devices = inv.identifier.list("device", {"product.id": product["id"]}) if dgs else []
        webhooks = [
            w
            for w in (inv.identifier.list("webhook") if dgs else [])
            if rel_id(w, "devicegroup") in {d["id"] for d in dgs}
        ]
        view = product_full_view(
            product,
            related,
            dgs,
            webhooks,
            devices,
            text_mode=inv.out.text_mode,
            me_id=inv.me_id,
            warnings=warnings,
            ident=ident,
        )
    else:
        view = info_view(
            "product", product, related, me_id=inv.me_id, warnings=warnings, ident=ident
        )
    inv.out.warnings(warnings)
    inv.out.result(view)


@group.command(
    "list",
    "Displays information about all Products available to the current account, or those of "
    "the specified owners.",
    [owner_opt("Lists the Products of this owner only.", repeat=True)],
)
def list_(inv: Invocation) -> None:
    owners = listing.filter_ids(inv, "account", inv.args.owner)
    products = listing.fetch(inv, "product", {"owner.id": owners})
    listing.print_list(inv, "product", products)


@group.command(
    "update",
    "Updates the specified Product." + PROJECT_DEFAULT,
    [product_opt("Product identifier." + PROJECT_DEFAULT), NAME, DESCR],
)
def update(inv: Invocation) -> None:
    product, ident = resolve_product(inv, inv.args.product)
    resources.update_product(
        inv.client, inv.cache, product["id"], name=inv.args.name, description=inv.args.descr
    )
    inv.out.info(f'Product "{ident}" is updated successfully.')
