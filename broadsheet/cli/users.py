"""Account commands: user create / list / ban / unban / password.

Exit codes: 1 no such user (or a refused password), 2 the shared "[deleted]" account, which
cannot be reinstated, suspended again or given a password (it holds deleted users' comments).
"""

from __future__ import annotations

from typing import Annotated

import typer

from broadsheet.cli import app, fail, open_store, out
from broadsheet.community import accounts
from broadsheet.config import Settings
from broadsheet.store.users import Protected

users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(users_app, name="user")
Password = Annotated[str | None, typer.Option(help="Asked for when not given.")]


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="3-30 lowercase letters, digits, - or _.")],
    password: Password = None,
    email: Annotated[str | None, typer.Option(help="Email address (optional).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make this account an administrator.")] = False,
) -> None:
    """Create an account (use --admin for a moderator)."""
    settings: Settings = ctx.obj
    store = open_store(settings)
    try:
        user = accounts.sign_up(store, username, email, _password(password), admin=admin)
    except accounts.AccountError as exc:
        raise fail(str(exc), 2) from None
    out.print(f"created {'admin ' if user.is_admin else ''}account {user.username}", highlight=False)


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List accounts."""
    for user in open_store(ctx.obj).users.all():
        flags = ", ".join(f for f, on in (("admin", user.is_admin), ("suspended", user.banned)) if on)
        out.print(f"{user.username:<30} {user.email or '-':<40} {flags}", highlight=False, markup=False)


def _set_banned(ctx: typer.Context, username: str, banned: bool) -> None:
    try:
        accounts.set_banned(open_store(ctx.obj), username, banned)
    except Protected as exc:
        raise fail(exc.message, 2) from None
    except accounts.AccountError as exc:
        raise fail(str(exc), 1) from None
    out.print(f"{username} {'suspended: sessions ended, votes no longer counted' if banned else 'reinstated'}")


@users_app.command("ban")
def ban(ctx: typer.Context, username: Annotated[str, typer.Argument(help="The account to suspend.")]) -> None:
    """Suspend an account: it cannot log in, its sessions end, its upvotes stop counting (exit 2: [deleted])."""
    _set_banned(ctx, username, True)


@users_app.command("unban")
def unban(ctx: typer.Context, username: Annotated[str, typer.Argument(help="The account to reinstate.")]) -> None:
    """Lift a suspension (its upvotes count again); exit 2 for the shared [deleted] account."""
    _set_banned(ctx, username, False)


@users_app.command("password")
def reset_password(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The account.")], password: Password = None
) -> None:
    """Set a new password for an account (ends its sessions); exit 2 for the shared [deleted] account."""
    try:
        accounts.set_password(open_store(ctx.obj), username, _password(password))
    except Protected as exc:
        raise fail(exc.message, 2) from None
    except accounts.AccountError as exc:
        raise fail(str(exc), 1) from None
    out.print(f"password of {username} changed")
