"""Ranking rules as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from broadsheet.models import PaperView

GRAVITY = 1.8


def trending_score(upvotes: int, age_hours: float, *, gravity: float = GRAVITY) -> float:
    """Hacker-News-style gravity: votes decay with age, so fresh and popular beats old and popular.

    `(upvotes + 1) / (age_hours + 2) ** gravity`: a day-old paper with 20 votes (0.0059)
    outranks a week-old one with 40 (0.00040); the +1 orders unvoted papers newest first.
    """
    return float((max(upvotes, 0) + 1) / (max(age_hours, 0.0) + 2.0) ** gravity)


def age_hours(since: datetime, now: datetime) -> float:
    return max((now - since).total_seconds() / 3600.0, 0.0)


def by_trending(views: Sequence[PaperView], now: datetime) -> list[tuple[PaperView, float]]:
    """Views with their trending score, highest first; age counts from when the paper was listed."""
    scored = [
        (view, trending_score(view.upvotes, age_hours(view.added_at or view.paper.published, now))) for view in views
    ]
    return sorted(scored, key=lambda pair: pair[1], reverse=True)
