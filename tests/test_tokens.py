"""Personal API tokens: made on the settings page or by the CLI, stored hashed, Bearer without cookies or CSRF."""

import re
from datetime import timedelta

import pytest
from community_site import Site
from fastapi.testclient import TestClient
from huggingface_hub import HfApi
from sqlalchemy import select
from typer.testing import CliRunner

from broadsheet.cli import app as cli
from broadsheet.store import Store
from broadsheet.store.schema import api_tokens
from broadsheet.store.tokens import TokenRefused, token_hash
from broadsheet.web.deps import TOKEN_FAILURES

PAPER = "2608.19880"


def bare(site: Site) -> TestClient:
    """A client with no cookies and no CSRF header: only what the Authorization header says counts."""
    return TestClient(site.app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def vote(site: Site, token: str, up: bool = True) -> int:
    return bare(site).post(f"/api/papers/{PAPER}/vote", json={"up": up}, headers=bearer(token)).status_code


def make_token(member: TestClient, name: str, scope: str) -> str:
    page = member.post("/settings/tokens", data={"name": name, "scope": scope})
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'<code class="token">(bs_[^<]+)</code>', page.text)
    assert found, page.text[-2000:]
    return found[1]


def test_a_token_from_the_settings_page_votes_without_cookies_or_csrf_and_is_stored_hashed(site: Site) -> None:
    member = site.member("scripter")
    assert 'href="/settings/tokens#tokens"' in member.get("/settings").text
    raw = make_token(member, "my script", "write")
    assert vote(site, raw) == 200
    assert site.store.community.voted(site.store.users.get("scripter").id, [PAPER]) == {PAPER}  # type: ignore[union-attr]
    assert vote(site, raw, up=False) == 200

    page = member.get("/settings/tokens")
    assert "my script" in page.text and "write" in page.text and raw not in page.text  # shown once only
    with site.store.db.read() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(select(api_tokens))]
    assert rows and not any(raw in value for row in rows for value in row)
    assert any(token_hash(raw) in row for row in rows)
    [token] = site.store.tokens.of_user(site.store.users.get("scripter").id)  # type: ignore[union-attr]
    assert token.last_used_at is not None  # used, and touched once (not per request)


def test_a_read_token_reads_but_cannot_write(site: Site) -> None:
    member = site.member("reader")
    raw = make_token(member, "read only", "read")
    assert bare(site).get("/api/whoami-v2", headers=bearer(raw)).json()["name"] == "reader"
    response = bare(site).post(f"/api/papers/{PAPER}/vote", json={"up": True}, headers=bearer(raw))
    assert response.status_code == 403 and "read-only" in response.json()["error"]


def test_a_revoked_or_invalid_token_is_401_never_anonymous(site: Site) -> None:
    member = site.member("revoker")
    raw = make_token(member, "soon gone", "write")
    assert vote(site, raw) == 200
    [token] = site.store.tokens.of_user(site.store.users.get("revoker").id)  # type: ignore[union-attr]
    assert member.post(f"/settings/tokens/{token.id}/revoke", follow_redirects=False).status_code == 303
    response = bare(site).post(f"/api/papers/{PAPER}/vote", json={"up": True}, headers=bearer(raw))
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert bare(site).get("/api/whoami-v2", headers=bearer("bs_made-up")).status_code == 401
    site.store.counters.clear("token-fail:testclient")


def test_tokens_cannot_mint_tokens_and_a_bearer_wins_over_the_session(site: Site) -> None:
    member = site.member("minter")
    raw = make_token(member, "writer", "write")
    refused = bare(site).post("/settings/tokens", data={"name": "more", "scope": "write"}, headers=bearer(raw))
    assert refused.status_code == 403
    other = make_token(site.member("other-user"), "theirs", "read")
    assert member.get("/api/whoami-v2", headers=bearer(other)).json()["name"] == "other-user"


def test_bad_tokens_are_throttled_per_address(site: Site) -> None:
    for _ in range(TOKEN_FAILURES):
        assert bare(site).get("/api/whoami-v2", headers=bearer("bs_guess")).status_code == 401
    response = bare(site).get("/api/whoami-v2", headers=bearer("bs_guess"))
    assert response.status_code == 429 and "too many" in response.json()["error"]
    site.store.counters.clear("token-fail:testclient")


def test_huggingface_hub_whoami_works_with_our_token(site: Site, live: str) -> None:
    raw = make_token(site.member("hubuser"), "hub", "read")
    info = HfApi(endpoint=live, token=raw).whoami()
    assert info["name"] == "hubuser" and info["type"] == "user"
    assert info["auth"]["accessToken"] == {
        "displayName": "hub",
        "role": "read",
        "createdAt": info["auth"]["accessToken"]["createdAt"],
    }


def test_the_cli_prints_a_working_token(site: Site) -> None:
    site.member("cliuser")
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(site.settings.data_dir),
            "--database-url",
            site.settings.db_url,
            "token",
            "create",
            "cliuser",
            "--name",
            "cron",
            "--write",
        ],
    )
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("bs_") and vote(site, raw) == 200
    missing = CliRunner().invoke(
        cli, ["--data-dir", str(site.settings.data_dir), "token", "create", "nobody", "--name", "x"]
    )
    assert missing.exit_code == 1 and "no user" in missing.output


def test_store_caps_tokens_checks_names_and_touches_at_most_once_a_minute(store: Store) -> None:
    from broadsheet.community import accounts

    user = accounts.sign_up(store, "capped", None, "correct horse battery")
    token, raw = store.tokens.create(user.id, "  a   name ", "read", cap=2)
    assert token.name == "a name" and store.tokens.bearer(raw) is not None
    _, second = store.tokens.create(user.id, "second", "write", cap=2)
    with pytest.raises(TokenRefused, match="most allowed"):
        store.tokens.create(user.id, "third", "read", cap=2)
    for name, scope in (("", "read"), ("x" * 81, "read"), ("ok", "admin")):
        with pytest.raises(TokenRefused):
            store.tokens.create(user.id, name, scope)
    assert store.tokens.touch(token)
    used = store.tokens.bearer(raw)
    assert used is not None and used.token.last_used_at is not None
    assert not store.tokens.touch(used.token)  # within the minute: no write
    assert store.tokens.touch(used.token, now=used.token.last_used_at + timedelta(minutes=2))
    assert store.tokens.revoke(user.id, token.id) and store.tokens.bearer(raw) is None
    assert not store.tokens.revoke(user.id + 1, token.id)
    assert store.tokens.bearer(second) is not None
    accounts.set_banned(store, "capped", True)
    assert store.tokens.bearer(second) is None  # a suspended account's tokens stop working
