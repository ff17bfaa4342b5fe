"""The search engine a site runs: the real model and the index folder its settings name (web, CLI and MCP alike)."""

from __future__ import annotations

from broadsheet.config import Settings
from broadsheet.search import Engine
from broadsheet.store import Store


def make_engine(settings: Settings, store: Store) -> Engine:
    from broadsheet.search.embed import MiniLM  # onnxruntime loads only for commands that search

    return Engine(store, MiniLM(max_tokens=settings.embed_max_tokens, device=settings.embed_device), settings.index_dir)
