"""`account info|list`."""

from __future__ import annotations

from .. import listing
from ..views import info_view
from .common import ACCOUNT_ID
from .registry import new_group
from .runner import Invocation
from .spec import Option

group = new_group("account")


@group.command(
    "info",
    "Displays information about the specified Account (the current account by default).",
    [
        Option(
            "user",
            "u",
            'Account identifier: "me", an account id, email or username (default: "me").',
            placeholder=ACCOUNT_ID,
            complete="account",
        )
    ],
)
def info(inv: Invocation) -> None:
    value = inv.args.user or "me"
    account = inv.me() if value == "me" else inv.identifier.resolve("account", value)
    warnings: list[str] = []
    view = info_view(
        "account",
        account,
        inv.related(bulk=False),
        me_id=inv.me_id,
        warnings=warnings,
        ident=value,
    )
    if inv.out.text_mode:
        for warning in warnings:
            inv.out.write(f"Error: {warning}")
    inv.out.result(view)


@group.command(
    "list",
    "Displays information about the current account and the accounts it collaborates on.",
)
def list_(inv: Invocation) -> None:
    listing.print_list(inv, "account", listing.fetch(inv, "account", {}))
