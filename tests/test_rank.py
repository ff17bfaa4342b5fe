"""The trending score and fusion are pure functions: literal cases."""

from datetime import UTC, datetime, timedelta

from broadsheet import rank
from broadsheet.models import Paper, PaperView

NOW = datetime(2026, 8, 21, 20, tzinfo=UTC)


def test_a_fresh_paper_with_20_votes_beats_a_week_old_one_with_40() -> None:
    assert rank.trending_score(20, 24) > rank.trending_score(40, 7 * 24)
    assert rank.trending_score(20, 24) > rank.trending_score(20, 48) > rank.trending_score(20, 96)
    assert rank.trending_score(1, 1) < rank.trending_score(20, 24)  # one early vote is not a trend
    assert rank.trending_score(5, 2) > rank.trending_score(20, 24)  # five votes in two hours is
    assert rank.trending_score(0, 1) == 0.0 and rank.trending_score(-3, -5) == 0.0
    assert round(rank.trending_score(20, 24), 6) == round(20 / 36**1.8, 6)


def test_by_trending_orders_views() -> None:
    def listed(arxiv_id: str, votes: int, hours: float) -> PaperView:
        return PaperView(Paper(arxiv_id, "t", "a"), upvotes=votes, added_at=NOW - timedelta(hours=hours))

    views = [listed("old-popular", 40, 7 * 24), listed("fresh", 20, 24), listed("newest", 0, 1)]
    assert [v.paper.arxiv_id for v, _ in rank.by_trending(views, NOW)] == ["fresh", "old-popular", "newest"]


def test_fusion_functions() -> None:
    assert rank.minmax({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert rank.minmax({1: 5.0}) == {1: 1.0}
    fused = rank.convex({1: 10.0, 2: 0.0}, {2: 0.9, 3: 0.1}, alpha=0.25)
    assert fused == {1: 0.25, 2: 0.75, 3: 0.0}
    assert rank.rrf([1, 2], [2, 3], k=60) == {1: 1 / 61, 2: 1 / 62 + 1 / 61, 3: 1 / 62}
