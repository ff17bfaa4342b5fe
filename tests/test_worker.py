"""Background jobs: no request waits for arXiv, jobs are deduplicated, capped, retried, claimed once."""

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from community_site import PASSWORD, Site
from conftest import free_port

from broadsheet.community import accounts
from broadsheet.errors import TooMany
from broadsheet.store.jobs import TooManyJobs
from broadsheet.web.security import expected_token
from broadsheet.worker import request_fetch

pytestmark = pytest.mark.slow


def member(site: Site, name: str) -> dict[str, str]:
    user = accounts.sign_up(site.store, name, None, PASSWORD)
    session = accounts.new_session(site.store, user)
    return {"cookie": f"bs_session={session}", "x-csrf-token": expected_token(site.app.state.secret, session, "")}


@contextmanager
def serve_process(site: Site, **settings: str) -> Iterator[str]:
    """`broadsheet serve` as its own process on the site's database (as an operator runs it)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")} | {
        "BROADSHEET_DATA_DIR": str(site.settings.data_dir), "BROADSHEET_DATABASE_URL": site.settings.db_url,
        "BROADSHEET_PORT": str(port), "BROADSHEET_LOAD_DEMO": "false",
    } | {f"BROADSHEET_{k.upper()}": v for k, v in settings.items()}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "broadsheet", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/papers?limit=1", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_fifty_index_and_submit_requests_with_arxiv_unreachable_answer_at_once(site: Site) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/query"  # nothing listens there: every fetch fails
    people = [member(site, f"impatient{i}") for i in range(5)]
    timings: list[float] = []
    answers: list[int] = []
    reads: list[float] = []

    def ask(client: httpx.Client, i: int) -> None:
        path, body = ("/api/papers/index", {"arxivId": f"2112.{i:05d}"}) if i % 2 else \
            ("/api/papers/submit", {"paperId": f"2112.{i:05d}"})  # fmt: skip
        started = time.monotonic()
        response = client.post(path, json=body, headers=people[i % 5])
        timings.append(time.monotonic() - started)
        answers.append(response.status_code)

    def read(client: httpx.Client) -> None:
        for _ in range(5):
            started = time.monotonic()
            assert client.get("/api/papers", params={"limit": 5}).status_code == 200
            reads.append(time.monotonic() - started)

    settings = {"arxiv_api_url": closed, "arxiv_delay": "0", "job_backoff": "0.05", "job_attempts": "2",
                "worker_threads": "1"}  # fmt: skip
    with serve_process(site, **settings) as base:
        limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
        with httpx.Client(base_url=base, timeout=60, limits=limits) as client:
            threads = [threading.Thread(target=ask, args=(client, i)) for i in range(50)]
            threads.append(threading.Thread(target=read, args=(client,)))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert answers == [202] * 50, answers
        assert max(timings) < 1.0, sorted(timings)[-5:]  # before: each waited ~75 s for retries, then a 500
        assert max(reads) < 1.0, reads  # the site stays up for everyone else
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and site.store.jobs.waiting():
            time.sleep(0.2)
    job = site.store.jobs.get("fetch", "2112.00001")
    assert job is not None and job.status == "failed" and job.attempts == 2
    assert "giving up" in (job.error or "") or "network error" in (job.error or "")
    shown = site.guest().get("/papers/2112.00001")
    assert shown.status_code == 404 and "Could not fetch it" in shown.text


def test_the_worker_of_a_live_server_fetches_embeds_and_lists_the_paper(site: Site, live: str) -> None:
    headers = member(site, "fetcher")
    queued = httpx.post(f"{live}/api/papers/index", json={"arxivId": "2104.12255"}, headers=headers)
    assert queued.status_code == 202 and queued.headers["location"].startswith("/api/jobs/")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and httpx.get(live + queued.headers["location"]).json()["status"] != "done":
        time.sleep(0.2)
    assert httpx.get(live + queued.headers["location"]).json()["status"] == "done"
    paper = httpx.get(f"{live}/api/papers/2104.12255")
    assert paper.status_code == 200
    found = httpx.get(f"{live}/api/papers/search", params={"q": paper.json()["title"]}).json()
    assert found[0]["paper"]["id"] == "2104.12255"  # embedded and indexed by the worker


def test_jobs_are_deduplicated_capped_per_user_and_claimed_once(site: Site) -> None:
    user = accounts.sign_up(site.store, "hoarder", None, PASSWORD)
    first = request_fetch(site.store, "2113.00001", user=user, cap=3)
    assert request_fetch(site.store, "2113.00001", user=user, cap=3).id == first.id  # the same id: one job
    request_fetch(site.store, "2113.00002", user=user, cap=3)
    request_fetch(site.store, "2113.00003", user=user, cap=3)
    with pytest.raises(TooMany, match="3 requests waiting"):
        request_fetch(site.store, "2113.00004", user=user, cap=3)
    claimed: list[int] = []

    def claim() -> None:
        from datetime import timedelta

        while (job := site.store.jobs.claim(("fetch",), timedelta(minutes=1))) is not None:
            claimed.append(job.id)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = {j for j in claimed if (found := site.store.jobs.by_id(j)) and found.user_id == user.id}
    assert len(mine) == 3 and len(claimed) == len(set(claimed))  # each job claimed by exactly one worker
    assert isinstance(TooManyJobs("x"), Exception)


def test_arxiv_pacing_holds_across_fetchers_of_different_processes(site: Site) -> None:
    """Two workers (two Fetchers, as in two processes) share one pacer in the database: slots never overlap."""
    from broadsheet.ingest.fetcher import Pace

    slots = []
    paces = [Pace(site.store.pacer.reserve, "test-service", 0.3, sleep=lambda s: None) for _ in range(2)]

    def reserve(pace: Pace) -> None:
        for _ in range(5):
            slots.append(site.store.pacer.reserve(pace.name, pace.interval))

    threads = [threading.Thread(target=reserve, args=(p,)) for p in paces]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ordered = sorted(slots)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered)]
    assert len(slots) == 10 and min(gaps) >= 0.3 - 1e-6, gaps
