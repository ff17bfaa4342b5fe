"""Ranking rules as pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from broadsheet.models import PaperView

GRAVITY = 1.8
OFFSET_HOURS = 12.0


def trending_score(upvotes: int, age_hours: float, *, gravity: float = GRAVITY, offset: float = OFFSET_HOURS) -> float:
    """Votes decaying with age (Hacker News' gravity), so fresh and popular beats old and popular.

    `upvotes / (age_hours + 12) ** 1.8`, age counted from when the paper was listed. A day-old
    paper with 20 votes (0.032) outranks a week-old one with 40 (0.0035); the 12-hour offset
    keeps one early vote (1 vote at 1 hour: 0.0099) from beating a day's worth of votes.
    Reasoning and a worked table: docs/trending.md.
    """
    return float(max(upvotes, 0) / (max(age_hours, 0.0) + offset) ** gravity)


def age_hours(since: datetime, now: datetime) -> float:
    return max((now - since).total_seconds() / 3600.0, 0.0)


def by_trending(views: Sequence[PaperView], now: datetime) -> list[tuple[PaperView, float]]:
    """Views with their trending score, highest first (ties: the order given, newest listed first)."""
    scored = [
        (view, trending_score(view.upvotes, age_hours(view.added_at or view.paper.published, now))) for view in views
    ]
    return sorted(scored, key=lambda pair: pair[1], reverse=True)


def minmax(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1] within one result list (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


def convex(lexical: Mapping[int, float], semantic: Mapping[int, float], alpha: float) -> dict[int, float]:
    """`alpha * lexical + (1 - alpha) * semantic` over both lists' normalised scores (missing -> 0).

    A weighted (convex) fusion, tuned on judged queries, rather than reciprocal-rank fusion:
    it keeps how far apart the scores are, which RRF throws away.
    """
    lex, sem = minmax(lexical), minmax(semantic)
    return {key: alpha * lex.get(key, 0.0) + (1 - alpha) * sem.get(key, 0.0) for key in lex.keys() | sem.keys()}


def rrf(*rankings: Sequence[int], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion (for comparison in the relevance benchmark)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for position, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + position + 1)
    return fused
