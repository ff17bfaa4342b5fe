"""Ingestion against a real local HTTP server: politeness, retries, resumable harvests, CLI errors."""

import gzip
import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import FIXTURES
from recorded_server import RecordedServer, Reply
from typer.testing import CliRunner

from broadsheet import arxiv
from broadsheet.arxiv import api, oai
from broadsheet.cli import app
from broadsheet.ingest.fetcher import Fetcher, FetchError, Politeness
from broadsheet.models import UpsertResult
from broadsheet.store import Store

ARXIV = FIXTURES / "arxiv"
FEED = "cs.LG+cs.CL+cs.CV+cs.AI"
PAGES = [gzip.decompress((ARXIV / "oai" / f"ListRecords_data_{i}.xml.gz").read_bytes()) for i in range(3)]
TOKENS = {"6511260|1001": 1, "6511260|2001": 2}
runner = CliRunner()


def fetcher(interval: float = 0.0, retries: int = 3) -> Fetcher:
    return Fetcher(Politeness(min_interval=interval, retries=retries, backoff=0.05, timeout=2.0, overload_wait=0.1))


def oai_answer(query: dict[str, str]) -> Reply:
    if "resumptionToken" in query:
        page = TOKENS.get(query["resumptionToken"])
        if page is None:
            body = b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken">unknown</error></OAI-PMH>'
            return Reply(body=body)
        return Reply(body=PAGES[page])
    if query.get("verb") == "ListRecords" and query.get("metadataPrefix") == "oai_dc":
        return Reply(body=PAGES[0])
    return Reply(
        body=b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badArgument">no</error></OAI-PMH>'
    )


RECORDED = [json.loads(p.read_text()) for p in (ARXIV / "api").glob("*.json")]
EMPTY = next(r["body"] for r in RECORDED if "id_list=0000.0000&" in r["url"])


def api_answer(query: dict[str, str]) -> Reply:
    """Answer an id_list request from the single-id recordings (an error recording is returned as is)."""
    entries = []
    for one in query.get("id_list", "").split(","):
        key = f"id_list={one.replace('/', '%2F')}&"
        recorded = next((r for r in RECORDED if key in r["url"]), None)
        if recorded and recorded["status_code"] != 200:
            return Reply(recorded["status_code"], recorded["body"].encode())
        if recorded:
            entries += re.findall(r"<entry>.*?</entry>", recorded["body"], re.S)
    body = EMPTY.replace("<opensearch:totalResults>0<", f"<opensearch:totalResults>{len(entries)}<")
    return Reply(body=body.replace("</feed>", "".join(entries) + "</feed>").encode())


@pytest.fixture
def server() -> RecordedServer:  # type: ignore[misc]
    with RecordedServer() as srv:
        srv.route("/oai", oai_answer)
        srv.route("/api/query", api_answer)
        srv.route(f"/atom/{FEED}", lambda q: Reply(body=(FIXTURES / "rss" / f"{FEED}.atom.xml").read_bytes()))
        yield srv


PARAMS = dict(prefix="oai_dc", from_date=date(2023, 3, 7))


def test_full_harvest_follows_tokens_and_honours_retry_after(server: RecordedServer, store: Store) -> None:
    server.fail("/oai", Reply(status=503, headers={"Retry-After": "1"}))
    started = time.monotonic()
    result = oai.harvest(store, fetcher(), oai.HarvestParams(server.url + "/oai", **PARAMS))  # type: ignore[arg-type]
    assert time.monotonic() - started >= 1.0
    assert (result.pages, result.records) == (3, 2265 - result.deleted)
    assert store.papers.count() == result.records
    tokens = [q.get("resumptionToken") for _, q in server.requests("/oai")]
    assert tokens == [None, None, "6511260|1001", "6511260|2001"]  # 503, then the three pages


def test_truncated_pages_are_retried_then_reported_and_nothing_partial_is_stored(
    server: RecordedServer, store: Store, tmp_path: Path
) -> None:
    params = oai.HarvestParams(server.url + "/oai", **PARAMS)  # type: ignore[arg-type]
    server.fail("/oai", Reply(body=PAGES[0], truncate=4000), Reply(reset=True))
    first_try = oai.harvest(store, fetcher(), params)
    assert first_try.pages == 3  # one truncated page and one reset, both retried
    other = Store.open(f"sqlite:///{tmp_path}/other.db")  # a second store, on SQLite whatever the backend
    other.migrate()
    bad = [Reply(body=PAGES[1], truncate=10_000)] * 4
    server.routes["/oai"] = oai_answer
    server.fail("/oai", Reply(body=PAGES[0]), *bad)
    with pytest.raises(FetchError, match="unreadable OAI-PMH page"):
        oai.harvest(other, fetcher(), params)
    assert other.papers.count() == len(oai.parse_page(PAGES[0]).papers)  # page 0 only, nothing of page 1
    resumed = oai.harvest(other, fetcher(), params, resume=True)
    assert resumed.pages == 2 and digest_papers(other) == digest_papers(store)
    other.close()


def test_expired_token_restarts_from_the_last_datestamp(server: RecordedServer, store: Store) -> None:
    params = oai.HarvestParams(server.url + "/oai", **PARAMS)  # type: ignore[arg-type]
    bad = b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken">expired</error></OAI-PMH>'
    server.fail("/oai", Reply(body=PAGES[0]), Reply(body=bad))
    oai.harvest(store, fetcher(), params)
    queries = [q for _, q in server.requests("/oai")]
    assert queries[2] == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2023-03-07"}
    assert store.papers.count() == 2265 - sum(len(oai.parse_page(p).deleted) for p in PAGES)


def test_harvest_survives_kill_9_and_resumes_to_identical_contents(server: RecordedServer, tmp_path: Path) -> None:
    reference = Store.open(f"sqlite:///{tmp_path}/reference.db")
    reference.migrate()
    oai.harvest(reference, fetcher(), oai.HarvestParams(server.url + "/oai", **PARAMS))  # type: ignore[arg-type]
    server.log.clear()
    server.routes["/oai"] = lambda q: Reply(body=oai_answer(q).body, delay=3.0 if "resumptionToken" in q else 0.0)
    env = os.environ | {"BROADSHEET_ARXIV_OAI_URL": server.url + "/oai", "BROADSHEET_ARXIV_DELAY": "0"}
    cmd = [
        sys.executable,
        "-m",
        "broadsheet",
        "--data-dir",
        str(tmp_path / "site"),
        "harvest",
        "--from",
        "2023-03-07",
        "--prefix",
        "oai_dc",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    db = tmp_path / "site" / "broadsheet.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT pages FROM harvests").fetchone()[0] >= 1:
                    break
        except (sqlite3.Error, TypeError):
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    server.routes["/oai"] = oai_answer
    resumed = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    tokens = [q.get("resumptionToken") for _, q in server.requests("/oai")]
    assert tokens[0] is None and tokens[-2:] == ["6511260|1001", "6511260|2001"] and tokens.count(None) == 1
    site = Store.open(f"sqlite:///{db}")
    assert digest_papers(site) == digest_papers(reference)


def digest_papers(store: Store) -> list[tuple[object, ...]]:
    """The papers as typed values (the same on SQLite and PostgreSQL)."""
    from sqlalchemy import select

    from broadsheet.store.schema import papers

    columns = [papers.c.arxiv_id, papers.c.version, papers.c.title, papers.c.abstract, papers.c.authors,
               papers.c.submitted_at]  # fmt: skip
    with store.db.read() as conn:
        return [tuple(r) for r in conn.execute(select(*columns).order_by(papers.c.arxiv_id))]


def test_api_requests_keep_the_gap_and_retry_rate_exceeded(server: RecordedServer, store: Store) -> None:
    server.fail("/api/query", Reply(body=b"Rate exceeded."), Reply(status=500))
    client = fetcher(interval=0.3)
    url = server.url + "/api/query"
    papers = list(api.fetch_ids(client, ["2104.12255v1"], url=url))
    assert [p.arxiv_id for p in papers] == ["2104.12255"]
    ids = [f"2401.{i:05d}" for i in range(250)]
    assert list(api.fetch_ids(client, ids, url=url)) == []
    times = [t for t, _ in server.requests("/api/query")]
    assert len(times) == 6  # 3 tries for the first id, then 3 batches of at most 100 ids
    # the client spaces the starts 0.3 s apart; the server sees arrivals, late by a few ms (tens on a loaded machine)
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.25
    with pytest.raises(api.ArxivApiError, match="incorrect id format"):
        list(api.fetch_ids(client, ["abc"], url=url))


def test_fetch_into_reports_missing_ids(server: RecordedServer, store: Store) -> None:
    report = arxiv.fetch_into(store, fetcher(), ["astro-ph/0601001", "0000.0000"], url=server.url + "/api/query")
    assert report.found == ["astro-ph/0601001"] and report.missing == ["0000.0000"]
    assert store.papers.get("astro-ph/0601001") is not None


def test_daily_sync_records_new_cross_and_replacements(server: RecordedServer, store: Store) -> None:
    report = arxiv.sync(store, fetcher(), FEED.split("+"), url=server.url + "/atom")
    assert report.result == UpsertResult(new=7) and report.kinds == {
        "new": 3,
        "cross": 2,
        "replace": 1,
        "replace-cross": 1,
    }
    assert store.papers.get("2606.19617").paper.version == 2  # type: ignore[union-attr]
    again = arxiv.sync(store, fetcher(), FEED.split("+"), url=server.url + "/atom")
    assert again.result == UpsertResult(unchanged=7)
    with store.db.read() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT p.arxiv_id, a.kind FROM announcements a JOIN papers p ON p.id = a.paper_id"
            ).all()
        )
    assert kinds["2606.30673"] == "cross" and len(kinds) == 7


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args], env=env)


def test_cli_sync_fetch_and_their_errors(server: RecordedServer, tmp_path: Path) -> None:
    env = {"BROADSHEET_ARXIV_RSS_URL": server.url + "/atom", "BROADSHEET_ARXIV_API_URL": server.url + "/api/query",
           "BROADSHEET_ARXIV_DELAY": "0", "BROADSHEET_HTTP_BACKOFF": "0"}  # fmt: skip
    first = run(tmp_path, "sync", env=env)
    assert first.exit_code == 0 and "3 new" in first.output and "7 new, 0 updated" in first.output
    assert run(tmp_path, "sync", env=env).exit_code == 1  # nothing changed
    fetched = run(tmp_path, "fetch", "https://arxiv.org/abs/astro-ph/0601001v1", env=env)
    assert fetched.exit_code == 0 and "1 found" in fetched.output
    missing = run(tmp_path, "fetch", "2101.99999", env=env)
    assert missing.exit_code == 1 and "not on arXiv: 2101.99999" in missing.output
    for args in (["sync", "--categories", ","], ["sync", "--categories", "cs.LG,no such"], ["fetch", "abc"],
                 ["harvest", "--from", "2024-02-01", "--until", "2024-01-01"], ["harvest", "--from", "yesterday"],
                 ["harvest", "--from", "2024-01-01", "--prefix", "marc"]):  # fmt: skip
        result = run(tmp_path, *args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert "Error" in result.output and "Traceback" not in result.output
    down = run(
        tmp_path,
        "sync",
        env=env | {"BROADSHEET_ARXIV_RSS_URL": "http://127.0.0.1:9/atom", "BROADSHEET_HTTP_RETRIES": "1"},
    )
    assert down.exit_code == 3 and "giving up" in down.output
    nothing = run(tmp_path, "harvest", "--from", "2023-03-07", "--resume", env=env)
    assert nothing.exit_code == 3 and "no unfinished harvest" in nothing.output


def test_cli_sync_hf_mirrors_a_day(server: RecordedServer, tmp_path: Path) -> None:
    day = json.loads(gzip.decompress((FIXTURES / "hf" / "2026-08-21.json.gz").read_bytes()))
    server.route("/api/daily_papers", lambda q: Reply(body=json.dumps(day if q.get("p") == "0" else []).encode()))
    env = {"BROADSHEET_HF_API_URL": server.url + "/api/daily_papers", "BROADSHEET_HTTP_BACKOFF": "0"}
    result = run(tmp_path, "sync-hf", "--date", "2026-08-21", env=env)
    assert result.exit_code == 0 and "17 new" in result.output, result.output
    assert server.requests("/api/daily_papers")[0][1]["date"] == "2026-08-21"
    assert run(tmp_path, "sync-hf", "--date", "2026-08-21", env=env).exit_code == 1
