"""`account info|list`."""

from __future__ import annotations

from .. import listing
from ..invocation import Invocation
from .common import ACCOUNT_ID, show_info
from .spec import Group, Option

group = Group("account", "Account information commands.")


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
    show_info(inv, "account", account, value)


@group.command(
    "list",
    "Displays information about the current account and the accounts it collaborates on.",
)
def list_(inv: Invocation) -> None:
    listing.print_list(inv, "account", listing.fetch(inv, "account", {}))
