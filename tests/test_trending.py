"""Trending that shows its working: rank.explained agrees with by_trending, weights come from the settings,
and the trending page and paper page show each paper's signals and their parts of the score."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from broadsheet import rank
from broadsheet.models import DailyRecord, Paper, PaperView
from broadsheet.store import Store
from broadsheet.web import create_app

NOW = datetime(2026, 8, 21, 20, tzinfo=UTC)


def listed(arxiv_id: str, votes: int, hours: float, comments: int = 0) -> PaperView:
    return PaperView(
        Paper(arxiv_id, "t", "a"), upvotes=votes, num_comments=comments, added_at=NOW - timedelta(hours=hours)
    )


VIEWS = [listed("old-popular", 40, 7 * 24, 9), listed("fresh", 20, 24), listed("talked-about", 12, 24, 6),
         listed("newest", 0, 1, 1), listed("tie", 20, 24)]  # fmt: skip


@pytest.mark.parametrize("weights", [rank.Weights(), rank.Weights(2.5, 2.0, 0.5), rank.Weights(comment_weight=3.0)])
def test_explained_agrees_with_by_trending_and_its_parts_add_up(weights: rank.Weights) -> None:
    scored, explained = rank.by_trending(VIEWS, NOW, weights), rank.explained(VIEWS, NOW, weights)
    assert [(v.paper.arxiv_id, s) for v, s in scored] == [(v.paper.arxiv_id, e.score) for v, e in explained]
    for view, why in explained:
        assert (why.upvotes, why.comments) == (view.upvotes, view.num_comments)
        assert why.age_hours == pytest.approx((NOW - view.added_at).total_seconds() / 3600)  # type: ignore[operator]
        assert set(why.components) == {"upvotes", "comments"}
        assert sum(why.components.values()) == pytest.approx(why.score)
        decay = (why.age_hours + weights.offset_hours) ** weights.gravity
        assert why.components["comments"] == pytest.approx(weights.comment_weight * why.comments / decay)
    assert [v.paper.arxiv_id for v, _ in scored].index("fresh") < [v.paper.arxiv_id for v, _ in scored].index("tie")


def test_default_weights_keep_the_documented_formula_and_comments_count_only_when_weighted() -> None:
    assert rank.Weights() == rank.Weights(1.8, 12.0, 0.0)
    order = [v.paper.arxiv_id for v, _ in rank.by_trending(VIEWS, NOW)]
    assert order == ["fresh", "tie", "talked-about", "old-popular", "newest"]
    assert rank.by_trending(VIEWS, NOW)[0][1] == pytest.approx(20 / 36**1.8)
    weighted = [v.paper.arxiv_id for v, _ in rank.by_trending(VIEWS, NOW, rank.Weights(comment_weight=2.0))]
    assert weighted[0] == "talked-about"  # 12 + 2 x 6 comments = 24 "votes" beats 20


def test_explained_as_json_has_camel_case_keys() -> None:
    why = rank.explain(listed("x", 20, 24, 3), NOW, rank.Weights(comment_weight=1.0))
    shown = why.as_json()
    assert set(shown) == {"score", "upvotes", "comments", "ageHours", "components"}
    assert shown["ageHours"] == 24.0 and shown["components"]["comments"] == pytest.approx(3 / 36**1.8)
    assert rank.explain(listed("y", -2, -5, -1), NOW).score == 0.0  # nothing negative reaches the score


def test_weights_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_TRENDING_COMMENT_WEIGHT", "1.5")
    settings = make_settings(tmp_path, trending_gravity=2.0)
    assert rank.Weights.from_settings(settings) == rank.Weights(2.0, 12.0, 1.5)
    with pytest.raises(ValueError):
        make_settings(tmp_path, trending_offset_hours=0)


# -- the real app ---------------------------------------------------------------------------------


@dataclass
class Trending:
    store: Store
    ids: dict[str, int]


@pytest.fixture
def trending_store(tmp_path: Path) -> Iterator[Trending]:
    """Two papers listed two hours ago: "voted" has 10 upvotes, "discussed" 6 upvotes and 3 comments; one unlisted."""
    settings = make_settings(tmp_path / "data")
    store = Store.open(settings.db_url)
    store.migrate()
    now, day = datetime.now(UTC), datetime.now(UTC).astimezone(settings.zone).date()
    voted = Paper("2608.10001", "Voted paper", "Abstract one.", ("Ann",), ("cs.LG",), submitted_at=now)
    discussed = Paper("2608.10002", "Discussed paper", "Abstract two.", ("Bob",), ("cs.LG",), submitted_at=now)
    added = now - timedelta(hours=2)
    store.daily.upsert([DailyRecord(voted, day, added, upvotes=10), DailyRecord(discussed, day, added, upvotes=6)],
                       source="hf")  # fmt: skip
    store.papers.upsert([Paper("2608.10003", "Unlisted paper", "Abstract three.", ("Cy",), ("cs.LG",))])
    user = store.users.create("talker", None, "x")
    ids = {arxiv_id: store.papers.id_of(arxiv_id) or 0 for arxiv_id in ("2608.10001", "2608.10002", "2608.10003")}
    for n in range(3):
        store.community.add_comment(ids["2608.10002"], user.id, f"comment {n}", None)
    yield Trending(store, ids)
    store.close()


def _client(trending: Trending, tmp_path: Path, **weights: float) -> TestClient:
    return TestClient(create_app(make_settings(tmp_path / "data", **weights), trending.store))


def _order(page: str) -> list[str]:
    return re.findall(r'<article class="card" data-paper="([^"]+)"', page)


@pytest.mark.slow
def test_the_trending_page_shows_each_papers_signals_and_parts(trending_store: Trending, tmp_path: Path) -> None:
    client = _client(trending_store, tmp_path)
    page = client.get("/papers/trending")
    assert page.status_code == 200 and _order(page.text) == ["2608.10001", "2608.10002"]
    reasons = re.findall(r'<p class="trending-why muted" data-score="([^"]+)">(.*?)</p>', page.text, re.S)
    assert len(reasons) == 2
    expected = rank.explained(trending_store.store.daily.views(None, order="added", limit=10), datetime.now(UTC))
    for (score, markup), (_, why) in zip(reasons, expected, strict=True):
        text = " ".join(re.sub(r"<[^>]+>", "", markup).split())
        assert float(score) == pytest.approx(why.score, rel=1e-3)
        assert f"{why.upvotes} upvotes → {why.components['upvotes']:.3g}" in text
        assert f"{why.comments} comments → 0" in text and "listed 2 hours ago" in text
    assert "Comments are shown but do not count." in page.text
    items = client.get("/papers/trending.json").json()
    assert [i["trending"]["comments"] for i in items] == [0, 3]
    assert items[0]["trending"]["score"] == items[0]["trendingScore"] and "ageHours" in items[0]["trending"]


@pytest.mark.slow
def test_comment_weight_from_the_settings_changes_the_order(trending_store: Trending, tmp_path: Path) -> None:
    client = _client(trending_store, tmp_path, trending_comment_weight=2.0)
    page = client.get("/papers/trending").text
    assert _order(page) == ["2608.10002", "2608.10001"]  # 6 + 2 x 3 comments = 12 beats 10
    assert "3 comments → " in page and "+ 2 × comments" in page
    steep = _client(trending_store, tmp_path, trending_gravity=3.0).get("/papers/trending.json").json()
    assert steep[0]["trendingScore"] == pytest.approx(10 / (2 + 12) ** 3, rel=1e-2)


@pytest.mark.slow
def test_the_paper_page_shows_why_a_listed_paper_trends(trending_store: Trending, tmp_path: Path) -> None:
    client = _client(trending_store, tmp_path, trending_comment_weight=1.0)
    page = client.get("/papers/2608.10002").text
    assert 'class="trending-why muted"' in page and "6 upvotes → " in page and "3 comments → " in page
    unlisted = client.get("/papers/2608.10003")
    assert unlisted.status_code == 200 and "trending-why" not in unlisted.text
