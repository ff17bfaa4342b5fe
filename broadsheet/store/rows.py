"""Mapping between rows and the shared types, and the one query that builds a PaperView."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, exists, false, func, select

from broadsheet.models import Filters, Paper, PaperView, Submitter
from broadsheet.store.schema import comments, daily_entries, insights, paper_categories, papers, users, votes

PAPER_FIELDS = (
    "arxiv_id", "title", "abstract", "version", "comment", "journal_ref", "doi", "license",
    "acm_class", "msc_class", "submitted_at", "updated_at", "announced_on", "code_url",
    "project_url", "withdrawn",
)  # fmt: skip


def paper_values(paper: Paper, now: datetime) -> dict[str, Any]:
    """Column values for writing a paper (row timestamps aside from created_at)."""
    values: dict[str, Any] = {name: getattr(paper, name) for name in PAPER_FIELDS}
    values.update(
        authors=list(paper.authors),
        categories=list(paper.categories),
        published_at=paper.published,
        modified_at=now,
    )
    return values


def paper_from_row(row: Row[Any]) -> Paper:
    m = row._mapping
    return Paper(
        authors=tuple(m["authors"]),
        categories=tuple(m["categories"]),
        **{name: m[name] for name in PAPER_FIELDS},
    )


# Votes of banned accounts do not count (and count again if the ban is lifted): see docs on moderation.
vote_count = (
    select(func.count())
    .select_from(votes.join(users, users.c.id == votes.c.user_id))
    .where(votes.c.paper_id == papers.c.id, users.c.banned_at.is_(None))
    .scalar_subquery()
)
upvotes = (papers.c.imported_upvotes + vote_count).label("upvotes")
num_comments = (
    select(func.count())
    .where(comments.c.paper_id == papers.c.id, comments.c.deleted_at.is_(None), comments.c.hidden == false())
    .scalar_subquery()
    .label("num_comments")
)


def view_select() -> Select[Any]:
    """Papers with upvotes, comment count, their (visible) daily entry and submitter, and their insight."""
    visible_entry = (daily_entries.c.paper_id == papers.c.id) & (daily_entries.c.hidden == false())
    return (
        select(
            papers,
            upvotes,
            num_comments,
            daily_entries.c.day,
            daily_entries.c.added_at,
            daily_entries.c.comment.label("entry_comment"),
            users.c.username,
            users.c.display_name,
            insights.c.summary.label("insight_summary"),
            insights.c.keywords.label("insight_keywords"),
        )
        .select_from(papers)
        .outerjoin(daily_entries, visible_entry)
        .outerjoin(users, users.c.id == daily_entries.c.user_id)
        .outerjoin(insights, insights.c.paper_id == papers.c.id)
    )


def view_from_row(row: Row[Any]) -> PaperView:
    m = row._mapping
    submitter = Submitter(m["username"], m["display_name"]) if m["username"] else None
    return PaperView(
        paper=paper_from_row(row),
        upvotes=m["upvotes"],
        num_comments=m["num_comments"],
        day=m["day"],
        added_at=m["added_at"],
        submitted_by=submitter,
        submitter_comment=m["entry_comment"],
        summary=m["insight_summary"] or None,
        keywords=tuple(m["insight_keywords"] or ()),
        row_id=m["id"],
    )


def filter_clauses(filters: Filters) -> list[ColumnElement[bool]]:
    """SQL conditions on `papers` for search filters."""
    clauses: list[ColumnElement[bool]] = []
    if filters.category:
        clauses.append(
            exists().where(paper_categories.c.paper_id == papers.c.id, paper_categories.c.category == filters.category)
        )
    if filters.since:
        clauses.append(papers.c.published_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        clauses.append(papers.c.published_at < datetime.combine(filters.until + timedelta(days=1), time(), UTC))
    if filters.daily_only:
        clauses.append(exists().where(daily_entries.c.paper_id == papers.c.id, daily_entries.c.hidden == false()))
    if filters.has_code:
        clauses.append(papers.c.code_url.is_not(None))
    return clauses
