"""Cost guards: searches per client address (in memory, per process) and votes per user (shared by every host)."""

from __future__ import annotations

from community_site import Site
from fastapi.testclient import TestClient

from broadsheet.throttle import Throttle
from broadsheet.web.deps import VOTES_PER_MINUTE


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = Throttle(rate=2, burst=3)
    assert [bucket.take("a", now=0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take("b", now=0)  # another client has its own bucket
    assert bucket.take("a", now=0.5) and not bucket.take("a", now=0.5)  # one token back every 1/rate seconds
    assert Throttle(rate=0, burst=1).take("a")  # rate 0: no limit


def test_a_client_searching_too_fast_gets_429_with_a_message_and_others_are_not_affected(site: Site) -> None:
    saved = site.app.state.search_throttle
    site.app.state.search_throttle = Throttle(rate=0.01, burst=3)
    try:
        client = TestClient(site.app, headers={"authorization": ""})  # uncached: every search reaches the engine
        answers = [client.get(f"/api/papers/search?q=diffusion+{n}").status_code for n in range(5)]
        assert answers == [200, 200, 200, 429, 429]
        refused = client.get("/api/papers/search?q=graphs")
        assert refused.status_code == 429 and "too many searches" in refused.json()["error"]
        page = client.get("/search?q=graphs")
        assert page.status_code == 429 and "too many searches" in page.text
        other = TestClient(site.app, client=("203.0.113.9", 5000), headers={"authorization": ""})
        assert other.get("/api/papers/search?q=graphs").status_code == 200
    finally:
        site.app.state.search_throttle = saved


def test_votes_beyond_the_per_minute_cap_get_429_and_leave_the_count_right(site: Site) -> None:
    assert site.app.state.vote_throttle.burst == VOTES_PER_MINUTE
    saved = site.app.state.vote_throttle
    site.app.state.vote_throttle = Throttle(rate=1e-6, burst=5)
    try:
        member = site.member("fastvoter")
        paper = site.store.papers.newest(limit=1)[0][0].paper.arxiv_id
        answers = [member.post(f"/api/papers/{paper}/vote", json={"up": n % 2 == 0}) for n in range(7)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
        assert "votes in a minute" in answers[-1].json()["error"]
        assert member.get(f"/api/papers/{paper}").json()["upvotes"] == answers[4].json()["upvotes"]
        assert TestClient(site.app).get("/").status_code == 200  # others are not affected
        other = site.member("calmvoter")
        assert other.post(f"/api/papers/{paper}/vote", json={"up": True}).status_code == 200
    finally:
        site.app.state.vote_throttle = saved
