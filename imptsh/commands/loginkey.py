"""`loginkey create|delete|info|list|update` (commands.md §11.7).

Every call goes to `/accounts/me/login_keys`; create, update and delete carry the account
password in the `X-Electricimp-Password` header (`--pwd`, else prompted, hidden)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import listing
from ..deletion import DeletionPlan, execute
from ..entities import LOGINKEY
from ..errors import CommandError
from ..views import short_view
from .common import CONFIRMED, show_info
from .registry import new_group
from .runner import Invocation
from .spec import EMPTY_OK, Option

group = new_group("loginkey")

PASSWORD_HEADER = "X-Electricimp-Password"

LK = Option("lk", "k", "Login Key identifier.", placeholder="<login_key_id>", required=True)
PWD = Option(
    "pwd",
    "w",
    "The account password. If not specified, it is requested interactively.",
    EMPTY_OK,
    placeholder="<password>",
)
DESCR = Option(
    "descr",
    "s",
    "Description of the Login Key.",
    EMPTY_OK,
    placeholder="<login_key_description>",
)


def _password(inv: Invocation) -> str:
    """`--pwd`, else the hidden `Enter password: ` prompt."""
    if inv.args.pwd is not None:
        return str(inv.args.pwd)
    return inv.session.prompter.secret("Enter password: ")


def _get_key(inv: Invocation, key_id: str) -> dict[str, Any]:
    """The login key by id only (no listing): impt's not-found error otherwise."""
    key = inv.identifier.get("loginkey", key_id)
    if key is None:
        raise CommandError(f'{LOGINKEY.type_name} "{key_id}" is not found.')
    return key


@group.command(
    "create",
    "Creates a new Login Key for the current account.",
    [PWD, DESCR],
)
def create(inv: Invocation) -> None:
    password = _password(inv)
    attributes: dict[str, Any] = {}
    if inv.args.descr is not None:
        attributes["description"] = inv.args.descr
    key = inv.client.post(
        LOGINKEY.collection,
        {"data": {"type": "login_key", "attributes": attributes}},
        headers={PASSWORD_HEADER: password},
    )["data"]
    inv.cache.put("loginkey", key)
    inv.cache.invalidate("loginkey")
    inv.out.info(f'{LOGINKEY.type_name} "{key["id"]}" is created successfully.')
    inv.out.result(short_view("loginkey", key))


@group.command(
    "delete",
    "Deletes the specified Login Key.",
    [LK, PWD, CONFIRMED],
)
def delete(inv: Invocation) -> None:
    key_id = inv.args.lk
    key = _get_key(inv, key_id)
    headers: dict[str, str] = {}
    plan = DeletionPlan()
    plan.add("loginkey", key, key_id, headers=headers)

    def ask_password() -> None:
        headers[PASSWORD_HEADER] = _password(inv)

    # impt asks for the password only once the deletion is confirmed.
    execute(inv, plan, after_confirm=ask_password)
    inv.cache.invalidate("loginkey")


@group.command(
    "info",
    "Displays information about the specified Login Key.",
    [LK],
)
def info(inv: Invocation) -> None:
    key = _get_key(inv, inv.args.lk)
    show_info(inv, "loginkey", key, inv.args.lk)


@group.command(
    "list",
    "Displays information about all Login Keys of the current account.",
)
def list_(inv: Invocation) -> None:
    listing.print_list(inv, "loginkey", listing.fetch(inv, "loginkey", {}))


@group.command(
    "update",
    "Updates the description of the specified Login Key.",
    [LK, PWD, replace(DESCR, required=True)],
)
def update(inv: Invocation) -> None:
    password = _password(inv)
    key_id = inv.args.lk
    key = _get_key(inv, key_id)
    updated = inv.client.patch(
        f"{LOGINKEY.collection}/{key['id']}",
        {
            "data": {
                "type": "login_key",
                "id": key["id"],
                "attributes": {"description": inv.args.descr},
            }
        },
        headers={PASSWORD_HEADER: password},
    )
    if updated and isinstance(updated.get("data"), dict):
        inv.cache.put("loginkey", updated["data"])
    inv.cache.invalidate("loginkey")
    inv.out.info(f'{LOGINKEY.type_name} "{key_id}" is updated successfully.')
