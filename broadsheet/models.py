"""The nouns every module shares: small frozen types, no I/O, no imports from the package."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper as every parser produces it (one shape for every source).

    `title` and `abstract` are kept exactly as the source sent them (arXiv's hard line
    breaks included); `metadata.display_text` normalises them for display.
    `categories` has the primary category first and holds arXiv categories only; ACM and
    MSC class codes live in `acm_class` / `msc_class`. `version` is None when the source
    does not say (the arXiv listings dump, Hugging Face).
    """

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    version: int | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    acm_class: str | None = None
    msc_class: str | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    announced_on: date | None = None
    code_url: str | None = None
    project_url: str | None = None
    withdrawn: bool = False

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def published(self) -> datetime:
        """When the paper became public: v1 submission, else announcement day, else the id's month."""
        if self.submitted_at:
            return self.submitted_at
        if self.announced_on:
            return datetime.combine(self.announced_on, time(), UTC)
        match = re.fullmatch(r"(?:[a-z-]+/)?(\d{2})(\d{2})(?:\.\d{4,5}|\d{3})", self.arxiv_id)
        if not match or not 1 <= int(match[2]) <= 12:
            return datetime(1991, 8, 1, tzinfo=UTC)  # arXiv's first month: nothing is older
        yy = int(match[1])
        return datetime(2000 + yy if yy < 91 else 1900 + yy, int(match[2]), 1, tzinfo=UTC)


_EMPTY: tuple[Any, ...] = (None, "", (), False)


def merge(old: Paper, new: Paper) -> Paper:
    """Combine a stored paper with an incoming record of the same id.

    The newest arXiv version wins, never an older one. For the same version (or when a
    source does not say) the stored record wins, so re-importing or importing a second
    source never flips fields back and forth. Either way, fields the winner lacks are
    filled from the other record (a DOI from the dump, a code link from Hugging Face, ...).
    """
    base, other = (new, old) if is_newer(new, old) else (old, new)
    gaps = {
        f.name: getattr(other, f.name)
        for f in dataclasses.fields(Paper)
        if getattr(base, f.name) in _EMPTY and getattr(other, f.name) not in _EMPTY
    }
    return dataclasses.replace(base, **gaps) if gaps else base


def is_newer(new: Paper, old: Paper) -> bool:
    """Version numbers decide when both are known; else update times when both are known; else
    the record that says anything about its version or update beats one that says nothing."""
    if new.version is not None and old.version is not None and new.version != old.version:
        return new.version > old.version
    if new.updated_at and old.updated_at:
        return new.updated_at > old.updated_at
    return _dated(new) > _dated(old)


def _dated(paper: Paper) -> int:
    return (paper.version is not None) + (paper.updated_at is not None)


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """A paper listed on a Daily-Papers day, as an importer (Hugging Face) reports it."""

    paper: Paper
    day: date
    added_at: datetime | None = None
    upvotes: int = 0
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class Submitter:
    username: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class PaperView:
    """A stored paper with its community numbers, as pages and the API show it."""

    paper: Paper
    upvotes: int = 0
    num_comments: int = 0
    day: date | None = None
    added_at: datetime | None = None
    submitted_by: Submitter | None = None
    submitter_comment: str | None = None
    summary: str | None = None  # one sentence of the abstract (broadsheet.insights), once computed
    keywords: tuple[str, ...] = ()
    row_id: int | None = None  # the paper's row in the store (None for a view built outside it)


@dataclass(frozen=True, slots=True)
class SearchHit:
    view: PaperView
    score: float


@dataclass(frozen=True, slots=True)
class Filters:
    """Search filters; None / False means "no restriction"."""

    category: str | None = None  # an arXiv category the paper carries (primary or cross-list)
    since: date | None = None  # published on or after
    until: date | None = None  # published on or before
    daily_only: bool = False  # listed in the Daily Papers feed
    has_code: bool = False  # a code repository is known

    @property
    def active(self) -> bool:
        return bool(self.category or self.since or self.until or self.daily_only or self.has_code)


@dataclass(frozen=True, slots=True)
class Change:
    """A paper's searchable text as of its last modification (what the lexical index holds)."""

    id: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str | None
    display_name: str | None
    is_admin: bool
    votes_public: bool
    banned: bool
    created_at: datetime
    email_verified: bool = False

    @property
    def verified_email(self) -> str | None:
        """The account's email once its owner has proved it is theirs (else None: it means nothing yet)."""
        return self.email if self.email_verified else None

    @property
    def submitter(self) -> Submitter:
        return Submitter(self.username, self.display_name)


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    paper_id: int
    author: Submitter
    author_id: int
    parent_id: int | None
    body: str  # markdown source; "" once deleted
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber wants in a digest."""

    frequency: str = "daily"  # daily (arXiv announcement days) | weekly
    max_papers: int = 10
    trending: bool = True  # the most upvoted / trending papers of the period
    categories: tuple[str, ...] = ()  # papers in these arXiv categories
    exclude_categories: tuple[str, ...] = ()  # never papers in these
    topics: tuple[str, ...] = ()  # free text, matched by the search engine
    for_you: bool = False  # the picks of the subscriber's account (broadsheet.personal.foryou)


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: str  # pending | active | paused | unsubscribed
    preferences: Preferences
    failures: int
    user_id: int | None
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    arxiv_id: str
    title: str
    author: str
    claimant: Submitter
    user_id: int
    status: str  # pending | approved | rejected
