"""A community site of its own (demo corpus, fresh votes and users) and logged-in test clients.

The `site` and `live` fixtures that build one are in conftest.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from recorded_server import RecordedServer

from broadsheet.community import accounts
from broadsheet.config import Settings
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.worker import Worker

PASSWORD = "correct horse battery"


@dataclass
class Site:
    settings: Settings
    store: Store
    engine: Engine
    app: FastAPI
    arxiv: RecordedServer  # the arXiv API stand-in that unknown submitted papers are fetched from

    def member(self, username: str, *, admin: bool = False) -> TestClient:
        """A client logged in (through the login form) as a new account; it sends the CSRF header."""
        accounts.sign_up(self.store, username, None, PASSWORD, admin=admin)
        client = TestClient(self.app)
        response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token(client)})
        assert response.status_code == 200 and client.cookies.get("bs_session"), response.text
        client.headers["X-CSRF-Token"] = token(client)  # the session's own token (login rotates it)
        return client

    def guest(self) -> TestClient:
        client = TestClient(self.app)
        client.headers["X-CSRF-Token"] = token(client)
        return client

    def drain(self, **overrides: object) -> int:
        """Run every due background job (fetches, mail) as the worker would; returns how many ran."""
        worker = Worker(self.store, self.settings.model_copy(update=overrides), self.engine.embedder)
        done = 0
        while worker.run_once():
            done += 1
        return done

    def app_with(self, **overrides: object) -> FastAPI:
        """Another app on the same store and engine, with other settings."""
        return create_app(self.settings.model_copy(update=overrides), self.store, self.engine)


def token(client: TestClient) -> str:
    """The CSRF token of the client's session (or visit), as a page's forms carry it."""
    page = client.get("/papers/submit" if client.cookies.get("bs_session") else "/login", follow_redirects=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found[1]


__all__ = ["PASSWORD", "Site", "token"]
