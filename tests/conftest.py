"""Shared fixtures: real SQLite files in temporary directories, the real app, a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from broadsheet import demo
from broadsheet.config import Settings
from broadsheet.embed import minilm_name
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.web import create_app, make_engine

FIXTURES = Path(__file__).parent / "fixtures"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: no .env file and no demo autoload unless asked."""
    values: dict[str, Any] = {"data_dir": data_dir, "load_demo": False} | overrides
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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


@pytest.fixture(scope="session")
def server(demo_settings: Settings, demo_store: Store, engine: Engine) -> Iterator[str]:
    """The demo site served by a real uvicorn on a loopback port; yields its base URL."""
    port = free_port()
    app = create_app(demo_settings, demo_store, engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
