"""What `make run` does after installing: `broadsheet serve` on an empty data directory."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from community_site import Site
from conftest import free_port

from broadsheet.community import accounts
from broadsheet.community.tokens import secret_key
from broadsheet.config import Settings
from broadsheet.store import Store
from broadsheet.web.security import expected_token

pytestmark = pytest.mark.slow


def test_serve_creates_the_database_loads_the_demo_and_serves_within_60s(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    env |= {"BROADSHEET_DATA_DIR": str(tmp_path / "site"), "BROADSHEET_PORT": str(port)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "broadsheet", "serve"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        page = None
        while time.monotonic() - started < 60 and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.25)
        assert page is not None and page.status_code == 200, "site not up within 60 s"
        assert "EnvHarness" in page.text
        assert (tmp_path / "site" / "broadsheet.db").exists()
        feed = httpx.get(f"http://127.0.0.1:{port}/feeds/daily.atom", timeout=10).text
        assert f"http://127.0.0.1:{port}/papers/" in feed  # links follow the real port (before: always :8000)
        for path in ("/api/docs", "/docs"):
            docs = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)
            assert docs.status_code == 200 and "/static/swagger/" in docs.text  # offline: no CDN
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "loading the demo corpus" in output
    assert "mail is written to" in output  # no SMTP server: mail goes to files, and the log says where


def test_serve_with_two_workers_serves_pages_and_api_and_a_vote_shows_on_the_next_request(tmp_path: Path) -> None:
    data = tmp_path / "site"
    settings = Settings(data_dir=data)
    store = Store.open(settings.db_url)
    store.migrate()
    session = accounts.new_session(store, accounts.sign_up(store, "voter", None, "a long password 123"))
    headers = {
        "cookie": f"bs_session={session}",
        "x-csrf-token": expected_token(secret_key(settings, store), session, ""),
    }
    store.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broadsheet", "--data-dir", str(data), "serve", "--workers", "2", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        assert len(_children(proc.pid)) >= 2  # uvicorn's web processes, under this supervising one
        assert "EnvHarness" in httpx.get(base + "/", timeout=10).text
        listed = httpx.get(base + "/api/daily_papers?limit=1", timeout=10).json()[0]["paper"]
        paper, before = listed["id"], listed["upvotes"]
        for _ in range(6):  # each process has the paper's answer and page cached (broadsheet.web.cache)
            assert httpx.get(f"{base}/api/papers/{paper}", timeout=10).json()["upvotes"] == before
            assert httpx.get(f"{base}/papers/{paper}", timeout=10).status_code == 200
        voted = httpx.post(f"{base}/api/papers/{paper}/vote", json={"up": True}, headers=headers, timeout=10)
        assert voted.status_code == 200 and voted.json()["upvotes"] == before + 1
        for _ in range(6):  # fresh connections: whichever process answers, it sees the vote
            assert httpx.get(f"{base}/api/papers/{paper}", timeout=10).json()["upvotes"] == before + 1
            assert httpx.get(f"{base}/papers/{paper}", timeout=10).status_code == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output


def _wait_until_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/api/papers?limit=1", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.25)
    raise AssertionError("site not up within 90 s")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_cached_anonymous_pages_show_a_vote_on_the_next_request_and_carry_each_visitors_own_token(site: Site) -> None:
    guest, other = site.guest(), site.guest()
    paper = guest.get("/api/daily_papers?limit=1").json()[0]["paper"]["id"]
    first, again = guest.get(f"/api/papers/{paper}"), guest.get(f"/api/papers/{paper}")
    assert first.json() == again.json() and again.headers["etag"] == first.headers["etag"]
    assert guest.get(f"/api/papers/{paper}", headers={"if-none-match": first.headers["etag"]}).status_code == 304
    page = guest.get(f"/papers/{paper}").text
    site.member("cachevoter").post(f"/api/papers/{paper}/vote", json={"up": True}).raise_for_status()
    assert guest.get(f"/api/papers/{paper}").json()["upvotes"] == first.json()["upvotes"] + 1  # at once
    assert guest.get(f"/papers/{paper}").text != page
    for client in (guest, other):  # the same cached login page, each with the visitor's own CSRF token
        found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)
        assert found and found[1] == expected_token(site.app.state.secret, None, client.cookies["bs_visitor"])
