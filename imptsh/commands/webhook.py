"""`webhook create|delete|info|list|update` (commands.md §11.10)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import listing
from ..api import resources
from ..deletion import DeletionPlan, execute
from ..entities import (
    DG_TYPES,
    WEBHOOK,
    WEBHOOK_EVENTS,
    WEBHOOK_MIME_TYPES,
    content_type_of_mime,
)
from ..invocation import Invocation
from ..views import rel_id, short_view
from .common import (
    CONFIRMED,
    attr,
    dg_opt,
    dg_type_opt,
    get_by_id,
    owner_opt,
    product_opt,
    resolve_dg,
    show_info,
)
from .spec import Group, Option

group = Group("webhook", "Webhook manipulation commands.")

Resource = dict[str, Any]

PROJECT_DEFAULT = (
    " If not specified, the Device Group referenced by the Project File in the current "
    "directory is used."
)

WH = Option(
    "wh", "w", "Webhook identifier.", placeholder="<webhook_id>", required=True, complete="webhook"
)
URL = Option("url", "u", "The Webhook target URL.", placeholder="<target_url>")
EVENT = Option(
    "event",
    "e",
    "The event that triggers the Webhook.",
    placeholder="<triggered_event>",
    choices=WEBHOOK_EVENTS,
)
MIME = Option(
    "mime",
    "m",
    "The MIME content type of the event data sent to the Webhook.",
    placeholder="<content_type>",
    choices=tuple(WEBHOOK_MIME_TYPES),
)


@group.command(
    "create",
    "Creates a new Webhook for the specified Device Group." + PROJECT_DEFAULT,
    [
        dg_opt("Device Group identifier." + PROJECT_DEFAULT),
        replace(URL, required=True),
        replace(EVENT, required=True),
        replace(MIME, required=True),
    ],
)
def create(inv: Invocation) -> None:
    args = inv.args
    dg, _ = resolve_dg(inv, args.dg)
    webhook = resources.create_webhook(
        inv.client, inv.cache, dg, args.url, args.event, content_type_of_mime(args.mime)
    )
    inv.out.info(f'{WEBHOOK.type_name} "{webhook["id"]}" is created successfully.')
    inv.out.result(short_view("webhook", webhook))


@group.command("delete", "Deletes the specified Webhook.", [WH, CONFIRMED])
def delete(inv: Invocation) -> None:
    wh_id = inv.args.wh
    plan = DeletionPlan()
    plan.add("webhook", get_by_id(inv, "webhook", wh_id), wh_id)
    execute(inv, plan)


@group.command("info", "Displays information about the specified Webhook.", [WH])
def info(inv: Invocation) -> None:
    wh_id = inv.args.wh
    webhook = get_by_id(inv, "webhook", wh_id)
    show_info(inv, "webhook", webhook, wh_id)


@group.command(
    "list",
    "Displays information about all Webhooks available to the current account, or those "
    "that match all the specified filters.",
    [
        owner_opt("Lists the Webhooks of Device Groups of this owner only.", repeat=True),
        product_opt("Lists the Webhooks of Device Groups of this Product only.", repeat=True),
        dg_opt("Lists the Webhooks of this Device Group only.", repeat=True),
        dg_type_opt("Lists the Webhooks of Device Groups of this type only.", repeat=True),
        replace(URL, help="Lists the Webhooks with this target URL only.", repeat=True),
        replace(EVENT, help="Lists the Webhooks triggered by this event only.", repeat=True),
    ],
)
def list_(inv: Invocation) -> None:
    args = inv.args
    owners = listing.filter_ids(inv, "account", args.owner)
    products = listing.filter_ids(inv, "product", args.product)
    dgs = listing.filter_ids(inv, "dg", args.dg)
    dg_types = {DG_TYPES[t] for t in args.dg_type} or None
    urls = set(args.url) or None
    events = set(args.event) or None
    # --owner/--product go through each webhook's Device Group: one bulk list, not a
    # request per webhook.
    related = inv.related(bulk=True)

    def dg_of(webhook: Resource) -> Resource | None:
        dg_id = rel_id(webhook, "devicegroup")
        return related("dg", dg_id) if dg_id else None

    def keep(webhook: Resource) -> bool:
        if owners is not None or products is not None:
            dg = dg_of(webhook)
            if dg is None:
                return False
            if owners is not None and rel_id(dg, "owner") not in owners:
                return False
            if products is not None and rel_id(dg, "product") not in products:
                return False
        if dg_types is not None and _dg_type(webhook, dg_of) not in dg_types:
            return False
        if urls is not None and attr(webhook, "url") not in urls:
            return False
        return events is None or attr(webhook, "event") in events

    webhooks = listing.fetch(inv, "webhook", {"devicegroup.id": dgs}, keep=keep)
    listing.print_list(inv, "webhook", webhooks)


def _dg_type(webhook: Resource, dg_of: Any) -> str | None:
    """API type of the webhook's Device Group, from the relationship (else the group)."""
    rel = (webhook.get("relationships") or {}).get("devicegroup")
    if not isinstance(rel, dict) or not rel.get("id"):
        return None
    if rel.get("type") in DG_TYPES.values():
        return str(rel["type"])
    dg = dg_of(webhook)
    return dg.get("type") if dg else None


@group.command(
    "update",
    "Updates the specified Webhook.",
    [WH, URL, MIME],
)
def update(inv: Invocation) -> None:
    args = inv.args
    wh_id = args.wh
    webhook = get_by_id(inv, "webhook", wh_id)
    resources.update_webhook(
        inv.client,
        inv.cache,
        webhook["id"],
        url=args.url,
        content_type=None if args.mime is None else content_type_of_mime(args.mime),
    )
    inv.out.info(f'{WEBHOOK.type_name} "{wh_id}" is updated successfully.')
