"""`loginkey create|delete|info|list|update` (commands.md §11.7).

Every call goes to `/accounts/me/login_keys`; create, update and delete carry the account
password in the `X-Electricimp-Password` header (`--pwd`, else prompted, hidden)."""

from __future__ import annotations

from dataclasses import replace

from .. import listing
from ..api import resources
from ..deletion import DeletionPlan, execute
from ..entities import LOGINKEY
from ..invocation import Invocation
from ..views import short_view
from .common import CONFIRMED, get_by_id, show_info
from .spec import EMPTY_OK, Group, Option

group = Group("loginkey", "Login Key manipulation commands.")

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


@group.command(
    "create",
    "Creates a new Login Key for the current account.",
    [PWD, DESCR],
)
def create(inv: Invocation) -> None:
    password = _password(inv)
    key = resources.create_login_key(inv.client, inv.cache, password, description=inv.args.descr)
    inv.out.info(f'{LOGINKEY.type_name} "{key["id"]}" is created successfully.')
    inv.out.result(short_view("loginkey", key))


@group.command(
    "delete",
    "Deletes the specified Login Key.",
    [LK, PWD, CONFIRMED],
)
def delete(inv: Invocation) -> None:
    key_id = inv.args.lk
    key = get_by_id(inv, "loginkey", key_id)
    plan = DeletionPlan()
    doomed = plan.add("loginkey", key, key_id)

    def ask_password() -> None:
        doomed.password = _password(inv)

    # impt asks for the password only once the deletion is confirmed.
    execute(inv, plan, after_confirm=ask_password)


@group.command(
    "info",
    "Displays information about the specified Login Key.",
    [LK],
)
def info(inv: Invocation) -> None:
    key = get_by_id(inv, "loginkey", inv.args.lk)
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
    key = get_by_id(inv, "loginkey", key_id)
    resources.update_login_key(inv.client, inv.cache, key["id"], password, inv.args.descr)
    inv.out.info(f'{LOGINKEY.type_name} "{key_id}" is updated successfully.')
