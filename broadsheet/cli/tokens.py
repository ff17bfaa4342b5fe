"""API token commands: token create (prints a new personal token, for scripts)."""

from __future__ import annotations

from typing import Annotated

import typer

from broadsheet.cli import app, fail, open_store, out
from broadsheet.store.tokens import TokenRefused

tokens_app = typer.Typer(help="Personal API tokens (Authorization: Bearer).", no_args_is_help=True)
app.add_typer(tokens_app, name="token")


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account the token speaks for.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for (shown in the settings page).")],
    write: Annotated[bool, typer.Option("--write", help="Allow changes (votes, comments); else read-only.")] = False,
) -> None:
    """Create a token and print it (only this once; the site keeps only its hash)."""
    store = open_store(ctx.obj)
    user = store.users.get(username)
    if user is None:
        raise fail(f"no user {username!r}", 1)
    try:
        _, raw = store.tokens.create(user.id, name, "write" if write else "read")
    except TokenRefused as exc:
        raise fail(str(exc), 2) from None
    out.print(raw, highlight=False, markup=False)
