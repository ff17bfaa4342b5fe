"""`broadsheet mcp`: the site's MCP tools over stdio, for agents on this machine."""

from __future__ import annotations

import os

import typer

from broadsheet.cli import app, open_store
from broadsheet.config import Settings

TOKEN_ENV = "BROADSHEET_MCP_TOKEN"


@app.command("mcp")
def mcp_stdio(ctx: typer.Context) -> None:
    """Serve the MCP tools over stdio, for agents (writes: a write-scope API token in BROADSHEET_MCP_TOKEN)."""
    from broadsheet.mcp_server import build
    from broadsheet.search.engines import make_engine

    settings: Settings = ctx.obj
    store = open_store(settings)
    try:
        build(settings, store, make_engine(settings, store), token=os.environ.get(TOKEN_ENV) or None).run("stdio")
    finally:
        store.close()
