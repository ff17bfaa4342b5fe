"""Shared fixtures: real SQLite files in temporary directories, the real app, a real server."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import postgres
import pytest
import uvicorn
from argon2 import PasswordHasher, profiles
from community_site import Site
from fastapi import FastAPI
from fastapi.testclient import TestClient
from recorded_server import RecordedServer, Reply

from broadsheet import demo
from broadsheet.community import accounts
from broadsheet.config import Settings
from broadsheet.search import Engine
from broadsheet.search.embed import minilm_name
from broadsheet.store import Store
from broadsheet.web import create_app, make_engine

FIXTURES = Path(__file__).parent / "fixtures"


BACKEND = os.environ.get("BROADSHEET_TEST_BACKEND", "sqlite")  # or postgresql: `make test` runs both


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: no .env file, no demo autoload and no full texts fetched (nothing reaches arXiv) unless
    asked; a fresh database each time."""
    values: dict[str, Any] = {"data_dir": data_dir, "load_demo": False, "full_text": False} | overrides
    if BACKEND == "postgresql" and "database_url" not in overrides:
        values["database_url"] = postgres.fresh_database()
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """argon2's cheapest profile in this process: the production profile costs ~0.1 s a hash, and the tests make
    hundreds; servers started as processes of their own keep it. `test_accounts` checks the production profile."""
    production = accounts._hasher
    accounts._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    accounts._hasher = production


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.db_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("demo") / "data")


@pytest.fixture(scope="session")
def demo_store(demo_settings: Settings) -> Iterator[Store]:
    """A store with the bundled demo corpus; tests must not change it."""
    s = Store.open(demo_settings.db_url)
    s.migrate()
    demo.load(s, demo_settings.zone, model=minilm_name(demo_settings.embed_max_tokens))
    yield s
    s.close()


@pytest.fixture(scope="session")
def engine(demo_settings: Settings, demo_store: Store) -> Engine:
    """The real search engine (real model, tantivy, vectors) over the demo corpus."""
    return make_engine(demo_settings, demo_store)


@pytest.fixture(scope="session")
def client(demo_settings: Settings, demo_store: Store, engine: Engine) -> TestClient:
    return TestClient(create_app(demo_settings, demo_store, engine))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """A real uvicorn (lifespan included: the worker threads run) on a loopback port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def server(demo_settings: Settings, demo_store: Store, engine: Engine) -> Iterator[str]:
    """The demo site served by a real uvicorn on a loopback port; yields its base URL."""
    with serving(create_app(demo_settings, demo_store, engine)) as url:
        yield url


# -- a community site of its own (fresh users and votes), for tests that write ----------------------


RECORDED_IDS = {
    "2104.12255": "id_2104.12255v1_s0_m100_6ae69987ffe1",
    "astro-ph/0601001": "id_astro-ph_0601001_s0_m100_3150dca9dc76",
}


def _arxiv_answer(query: dict[str, str]) -> Reply:
    """The recorded arXiv API answer for the id asked for, or the recorded empty feed."""
    name = RECORDED_IDS.get(query.get("id_list", ""), "id_0000.0000_s0_m100_8b51d9633a68")
    return Reply(body=json.loads((FIXTURES / "arxiv" / "api" / f"{name}.json").read_text())["body"].encode())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with RecordedServer() as arxiv:
        arxiv.route("/api/query", _arxiv_answer)
        data = tmp_path_factory.mktemp("community") / "data"
        settings = make_settings(data, arxiv_api_url=arxiv.url + "/api/query", arxiv_html_url=arxiv.url + "/html",
                                 arxiv_delay=0.0, http_backoff=0.0)  # fmt: skip
        store = Store.open(settings.db_url)
        store.migrate()
        demo.load(store, settings.zone, model=minilm_name(settings.embed_max_tokens))
        engine = make_engine(settings, store)
        yield Site(settings, store, engine, create_app(settings, store, engine), arxiv)
        store.close()


@pytest.fixture
def live(site: Site) -> Iterator[str]:
    """The community site on a real uvicorn server; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# -- the fast tier: `pytest -m "not slow"` skips whatever needs the real model, a server or a browser --

SLOW_FIXTURES = {"engine", "client", "server", "site", "live", "demo_store", "browser", "page"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if BACKEND == "postgresql" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about the SQLite deployment"))
        if BACKEND != "postgresql" and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: BROADSHEET_TEST_BACKEND=postgresql"))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A real headless Chromium (Debian's, installed by `make test`), one per test module."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs the Debian chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
