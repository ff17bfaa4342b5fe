"""Ranking rules as pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broadsheet.models import PaperView

if TYPE_CHECKING:
    from broadsheet.config import Settings

GRAVITY = 1.8
OFFSET_HOURS = 12.0
COMMENT_WEIGHT = 0.0  # comments are shown, not ranked: docs/trending.md says why


@dataclass(frozen=True, slots=True)
class Weights:
    """The trending formula's knobs (settings `trending_*`); the defaults are the documented formula."""

    gravity: float = GRAVITY
    offset_hours: float = OFFSET_HOURS
    comment_weight: float = COMMENT_WEIGHT  # one comment counts for this many upvotes

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        return cls(settings.trending_gravity, settings.trending_offset_hours, settings.trending_comment_weight)


@dataclass(frozen=True, slots=True)
class Explained:
    """Why a paper is where it is on trending: its signals and each one's part of the score."""

    score: float
    upvotes: int
    comments: int
    age_hours: float
    components: dict[str, float] = field(default_factory=dict)  # signal -> its part of the score (they sum to it)

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "upvotes": self.upvotes,
            "comments": self.comments,
            "ageHours": self.age_hours,
            "components": dict(self.components),
        }


def trending_score(
    upvotes: int,
    age_hours: float,
    *,
    gravity: float = GRAVITY,
    offset: float = OFFSET_HOURS,
    comments: int = 0,
    comment_weight: float = COMMENT_WEIGHT,
) -> float:
    """Votes decaying with age (Hacker News' gravity), so fresh and popular beats old and popular.

    `(upvotes + comment_weight * comments) / (age_hours + 12) ** 1.8`, age counted from when the
    paper was listed. A day-old paper with 20 votes (0.032) outranks a week-old one with 40 (0.0035);
    the 12-hour offset keeps one early vote (1 vote at 1 hour: 0.0099) from beating a day's worth of
    votes. Comments count for nothing by default. Reasoning and a worked table: docs/trending.md.
    """
    weights = Weights(gravity, offset, comment_weight)
    return sum(_components(upvotes, comments, age_hours, weights).values())


def _components(upvotes: int, comments: int, age: float, weights: Weights) -> dict[str, float]:
    decay = (max(age, 0.0) + weights.offset_hours) ** weights.gravity
    return {
        "upvotes": float(max(upvotes, 0) / decay),
        "comments": float(weights.comment_weight * max(comments, 0) / decay),
    }


def explain(view: PaperView, now: datetime, weights: Weights = Weights()) -> Explained:
    """One view's trending score with its working."""
    age = age_hours(view.added_at or view.paper.published, now)
    parts = _components(view.upvotes, view.num_comments, age, weights)
    return Explained(sum(parts.values()), view.upvotes, view.num_comments, age, parts)


def age_hours(since: datetime, now: datetime) -> float:
    return max((now - since).total_seconds() / 3600.0, 0.0)


def explained(
    views: Sequence[PaperView], now: datetime, weights: Weights = Weights()
) -> list[tuple[PaperView, Explained]]:
    """Views with their explained trending score, highest first (ties: the order given, newest listed first)."""
    scored = [(view, explain(view, now, weights)) for view in views]
    return sorted(scored, key=lambda pair: pair[1].score, reverse=True)


def by_trending(
    views: Sequence[PaperView], now: datetime, weights: Weights = Weights()
) -> list[tuple[PaperView, float]]:
    """Views with their trending score, highest first (ties: the order given, newest listed first)."""
    return [(view, why.score) for view, why in explained(views, now, weights)]


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
