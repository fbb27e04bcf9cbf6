"""`auth login`, `auth logout`, `auth info`."""

from __future__ import annotations

from typing import Any

from ..api.auth import login_with_key, login_with_password
from ..api.client import Client
from ..api.endpoints import DEFAULT_ENDPOINT
from ..context import AuthData, AuthFile, global_auth_file, local_auth_file
from ..errors import CommandError
from ..invocation import Invocation
from ..output.render import format_text
from .spec import EMPTY_OK, FLAG, URL, Args, Group, Option

group = Group("auth", "Authentication commands.")

LOCAL = Option("local", "l", "Uses the local Auth File in the current directory.", FLAG)
CONFIRMED = Option(
    "confirmed", "q", "Executes the operation without asking additional confirmation.", FLAG
)


def _target(inv: Invocation) -> AuthFile:
    """The auth file `login`/`logout` works on; refused in a session with an in-memory
    login (`imptsh --sim`), which never touches auth files."""
    if inv.session.session_login is not None:
        raise CommandError(
            f"auth {inv.command.name} is not available in this session: it is logged in to "
            f"{inv.session.session_login.endpoint} for this session only and never reads, "
            "writes or deletes auth files. Leave it and run imptsh without --sim to log in "
            "to impCentral."
        )
    target = (
        local_auth_file(inv.session.cwd) if inv.args.local else global_auth_file(inv.session.home)
    )
    if target.path.is_dir():
        raise CommandError(target.in_the_way())
    return target


def _login_check(args: Args) -> str | None:
    if args.given("user") and args.given("lk"):
        return 'Options "--user" and "--lk" are mutually exclusive.'
    if args.given("pwd") and not args.given("user"):
        return 'Options "--pwd" and "--user" must be specified together.'
    return None


@group.command(
    "login",
    "Global or local login. Creates the Global or Local Auth File with the access token to "
    "impCentral API. Overwrites the existing file after a confirmation.",
    [
        LOCAL,
        Option(
            "endpoint",
            "e",
            "impCentral API endpoint. The default is https://api.electricimp.com/v5 "
            "(or the URL given to imptsh's --endpoint).",
            URL,
            placeholder="<endpoint_url>",
        ),
        Option(
            "user",
            "u",
            "The account identifier: username or email address.",
            placeholder="<user_id>",
        ),
        Option("pwd", "w", "The account password.", EMPTY_OK, placeholder="<password>"),
        Option("lk", "k", "The login key.", placeholder="<login_key_id>"),
        Option(
            "temp",
            "t",
            "Does not store the refresh token or login key: the login lasts as long as the "
            "access token.",
            FLAG,
        ),
        CONFIRMED,
    ],
    check=_login_check,
    usage="[--local] [--endpoint <endpoint_url>] [--user <user_id> [--pwd <password>] | "
    "--lk <login_key_id>] [--temp] [--confirmed] [--output <mode>] [--help]",
)
def login(inv: Invocation) -> None:
    args, prompter = inv.args, inv.session.prompter
    target = _target(inv)
    if target.exists():
        inv.confirm(f"The {target.label} File already exists. It will be overwritten.")
    endpoint = args.endpoint or inv.session.default_endpoint or DEFAULT_ENDPOINT
    client = Client(endpoint, retry=inv.session.retry)
    client.observer = inv.out.exchange if inv.out.mode == "debug" else None

    def ask_otp() -> str:
        return prompter.secret("Enter one-time password: ")

    key = args.lk
    user = args.user
    if key is None and user is None:
        method = prompter.choose("Choose authentication method:", ["User/Password", "Login Key"])
        if method == 1:
            user = prompter.ask("Enter username or email address: ")
        else:
            key = prompter.secret("Enter Login Key: ")
    if key is not None:
        tokens = login_with_key(client, key)
    else:
        password = args.pwd if args.given("pwd") else prompter.secret("Enter password: ")
        tokens = login_with_password(client, user, password, ask_otp)
    data = AuthData(
        endpoint=endpoint,
        access_token=tokens["access_token"],
        expires_at=tokens.get("expires_at") or "",
        login_key=None if args.temp else key,
        refresh_token=None if args.temp or key else tokens.get("refresh_token"),
    )
    target.save(data)
    inv.session.forget_logins()
    inv.out.info(f"{target.label.split()[0]} login is successful.")


@group.command(
    "logout",
    "Global or local logout. Deletes the Global or Local Auth File.",
    [LOCAL],
)
def logout(inv: Invocation) -> None:
    target = _target(inv)
    try:
        target.path.unlink()
    except FileNotFoundError:
        raise CommandError(f"{target.label} File is not found ({target.path}).") from None
    inv.session.forget_logins()
    inv.out.info(f"{target.label.split()[0]} logout is successful.")


@group.command(
    "info",
    "Displays the status and details of the authentication applicable to the current directory.",
)
def info(inv: Invocation) -> None:
    inv.out.result({"Auth": auth_info_block(inv)})


def auth_info_block(inv: Invocation) -> dict[str, Any]:
    """What `auth info` shows of the auth context of the current directory. When the
    account cannot be read, the part known so far is printed (INFO) before the error."""
    ctx = inv.context
    block: dict[str, Any] = {
        "Auth type": ctx.auth_type,
        "impCentral API endpoint": ctx.endpoint,
        "Access token auto refresh": ctx.auto_refresh,
    }
    if ctx.auto_refresh:
        block["Login method"] = "Login Key" if ctx.uses_login_key else "User/Password"
    expired = False
    if not ctx.auto_refresh and ctx.credentials is not None:
        left = ctx.credentials.seconds_left()
        expired = left <= 0
        block["Access token"] = "expired" if expired else f"expires in {int(left // 60)} minutes"
    if not expired:
        try:
            me = inv.me()
        except Exception:
            inv.out.info(*_partial(inv, block))
            raise
        attrs = me.get("attributes") or {}
        block["Username"] = attrs.get("username")
        block["Email"] = attrs.get("email")
        block["Account id"] = me.get("id")
    return block


def _partial(inv: Invocation, block: dict[str, Any]) -> list[str]:
    return format_text({"Auth": block}, minimal=inv.out.mode == "minimal").splitlines()
