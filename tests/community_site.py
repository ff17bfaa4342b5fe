"""A community site of its own (demo corpus, fresh votes and users) and logged-in test clients.

The `site` and `live` fixtures that build one are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from recorded_server import RecordedServer

from broadsheet import accounts
from broadsheet.config import Settings
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.web import create_app

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
        client.get("/login")
        token = client.cookies["bs_csrf"]
        response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 200 and client.cookies.get("bs_session"), response.text
        client.headers["X-CSRF-Token"] = token
        return client

    def guest(self) -> TestClient:
        client = TestClient(self.app)
        client.get("/")
        client.headers["X-CSRF-Token"] = client.cookies["bs_csrf"]
        return client

    def app_with(self, **overrides: object) -> FastAPI:
        """Another app on the same store and engine, with other settings."""
        return create_app(self.settings.model_copy(update=overrides), self.store, self.engine)


__all__ = ["PASSWORD", "Site"]
