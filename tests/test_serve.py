"""What `make run` does after installing: `broadsheet serve` on an empty data directory."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port

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
