"""Table definitions (SQLAlchemy Core). Alembic migrations create them; queries use them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware (UTC) datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()
_false = text("0")

papers = Table(
    "papers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("arxiv_id", String(64), nullable=False, unique=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    Column("authors", JSON, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    Column("acm_class", Text),
    Column("msc_class", Text),
    Column("submitted_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("announced_on", Date),
    # Sort key for "newest papers": v1 submission, else announcement day, else the id's month.
    Column("published_at", UTCDateTime, nullable=False),
    Column("code_url", Text),
    Column("project_url", Text),
    Column("withdrawn", Boolean, nullable=False, server_default=_false),
    Column("imported_upvotes", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index("ix_papers_published", "published_at", "id"),
    Index("ix_papers_modified", "modified_at"),
)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("category", String(32), nullable=False),
    Index("ix_paper_categories_category", "category", "paper_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("email", String(254), unique=True),
    Column("password_hash", Text),
    Column("display_name", Text),
    Column("is_admin", Boolean, nullable=False, server_default=_false),
    Column("votes_public", Boolean, nullable=False, server_default=text("1")),
    Column("banned_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("email_verified_at", UTCDateTime),
)

daily_entries = Table(
    "daily_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("day", Date, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("comment", Text),
    Column("source", String(16), nullable=False),
    Column("hidden", Boolean, nullable=False, server_default=_false),
    Index("ix_daily_entries_day", "day"),
    Index("ix_daily_entries_user", "user_id"),
)

votes = Table(
    "votes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_votes_paper", "paper_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Column("hidden", Boolean, nullable=False, server_default=_false),
    Index("ix_comments_paper", "paper_id", "created_at"),
)

announcements = Table(
    "announcements",
    metadata,
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(16), nullable=False),  # new | cross | replace | replace-cross
    Index("ix_announcements_day", "day"),
)

harvests = Table(
    "harvests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("from_date", Date, nullable=False),
    Column("until_date", Date),
    Column("set_spec", String(64)),
    Column("token", Text),
    Column("last_datestamp", Date),
    Column("pages", Integer, nullable=False, server_default=text("0")),
    Column("records", Integer, nullable=False, server_default=text("0")),
    Column("done", Boolean, nullable=False, server_default=_false),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # grows monotonically: indexes catch up by it
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("model", String(64), nullable=False),  # the embedder's name: a vector is only comparable within one
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
    UniqueConstraint("paper_id", "model", name="uq_embeddings_paper_model"),
    Index("ix_embeddings_model_id", "model", "id"),
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's token, never the token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_user", "user_id"),
)

counters = Table(  # fixed-window counters: rate limits and login throttles, updated atomically
    "counters",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
)

jobs = Table(  # background work: fetching papers from arXiv, sending mail; claimed by any worker
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # fetch | mail
    Column("key", String(300), nullable=False),  # what makes it the same job (an arXiv id, a Message-ID)
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("payload", JSON, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("run_after", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),  # a running job whose lease ran out was left by a dead worker
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "key", name="uq_jobs_kind_key"),
    Index("ix_jobs_status_run_after", "status", "run_after"),
    Index("ix_jobs_user_status", "user_id", "status"),
)

pacers = Table(  # the earliest time the next request to an outside service may start, for the whole deployment
    "pacers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_at", UTCDateTime, nullable=False),
)

secrets = Table(  # site-wide secrets (the signing key), the same for every host of a deployment
    "secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),  # pending | active | paused | unsubscribed
    Column("frequency", String(8), nullable=False),  # daily | weekly
    Column("max_papers", Integer, nullable=False),
    Column("trending", Boolean, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("exclude_categories", JSON, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("for_you", Boolean, nullable=False, server_default=_false),  # For-you picks (migration 0015)
    Column("failures", Integer, nullable=False, server_default=text("0")),  # permanent failures in a row
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("changed_at", UTCDateTime, nullable=False),
    Index("ix_subscribers_status", "status", "frequency"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("period", String(16), primary_key=True),  # "2026-08-21" or "2026-W34"
    Column("status", String(8), nullable=False),  # queued | sending | sent | failed | empty | skipped
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("message_id", String(200), nullable=False),
    Column("error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_deliveries_status", "period", "status"),
)

claims = Table(
    "claims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),  # the author name as the paper lists it
    Column("status", String(16), nullable=False),  # pending | approved | rejected
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    UniqueConstraint("paper_id", "user_id", name="uq_claims_paper_user"),
    Index("ix_claims_status", "status"),
)

api_tokens = Table(  # personal tokens for `Authorization: Bearer`; like sessions, only the token's sha256 is kept
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("scope", String(8), nullable=False),  # read | write
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    Index("ix_api_tokens_user", "user_id"),
)

insights = Table(  # one summary and keyword list per paper (broadsheet.insights), dropped when the text changes
    "insights",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("summary", Text, nullable=False),  # "" when the abstract is empty
    Column("keywords", JSON, nullable=False),  # a list of phrases
    Column("method", String(64), nullable=False),  # broadsheet.insights.METHOD
    Column("version", Integer, nullable=False),  # broadsheet.insights.VERSION
    Column("computed_at", UTCDateTime, nullable=False),
    UniqueConstraint("paper_id", name="uq_insights_paper"),
)

collections = Table(  # a user's named lists of papers (broadsheet.community.collections); bookmarks are the default one
    "collections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("object_id", String(24), nullable=False),  # the 24 hex digits that end a Hugging Face collection slug
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(100), nullable=False),
    Column("description", Text),
    Column("private", Boolean, nullable=False, server_default=_false),
    Column("theme", String(16), nullable=False),
    Column("position", Integer, nullable=False),  # among the owner's collections
    Column("is_default", Boolean, nullable=False, server_default=_false),  # the bookmarks
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("object_id", name="uq_collections_object_id"),
    UniqueConstraint("user_id", "title", name="uq_collections_user_title"),
    Index("ix_collections_updated", "private", "updated_at"),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("object_id", String(24), nullable=False),  # the item's id in the API (`_id`)
    Column("collection_id", Integer, ForeignKey("collections.id", ondelete="CASCADE"), nullable=False),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("note", Text),
    Column("added_at", UTCDateTime, nullable=False),
    UniqueConstraint("object_id", name="uq_collection_items_object_id"),
    UniqueConstraint("collection_id", "paper_id", name="uq_collection_items_collection_paper"),
    Index("ix_collection_items_position", "collection_id", "position"),
    Index("ix_collection_items_paper", "paper_id"),
)

follows = Table(  # what a user follows (broadsheet.community.follows): kind author | category | search
    "follows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(300), nullable=False),  # a normalised author name, a category, a search query
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),
    Index("ix_follows_kind_value", "kind", "value"),
)

hidden_papers = Table(  # papers a user marked "not interested"
    "hidden_papers",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_hidden_papers_paper", "paper_id"),
)

never_rules = Table(  # hard rules: never show papers in this category / with this word / by this author
    "never_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # category | word | author
    Column("value", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_never_rules_user_kind_value"),
)

paper_authors = Table(  # who wrote what, by normalised name (broadsheet.community.names): author pages look up by it
    "paper_authors",
    metadata,
    Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),  # as the paper lists it
    Column("name_norm", String(300), nullable=False),
    Index("ix_paper_authors_name", "name_norm", "paper_id"),
)

fulltexts = (
    Table(  # a paper's full text from arXiv's HTML rendering (broadsheet.ingest.fulltext), fetched by the worker
        "fulltexts",
        metadata,
        Column("paper_id", Integer, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        Column("state", String(16), nullable=False),  # pending | ok | missing (arXiv has no HTML) | failed
        Column("version", Integer),  # the paper's arXiv version when it was asked for (a newer one asks again)
        Column("markdown", Text),  # when ok: at most broadsheet.ingest.fulltext.MAX_CHARS characters
        Column("truncated", Boolean, nullable=False, server_default=_false),
        Column("converter", Integer),  # broadsheet.ingest.fulltext.VERSION that wrote it
        Column("source_url", Text),  # the page it came from
        Column("error", Text),  # why it is missing or failed
        Column("retry_after", UTCDateTime),  # failed: when a request may queue it again
        Column("fetched_at", UTCDateTime),
        Column("updated_at", UTCDateTime, nullable=False),
        Index("ix_fulltexts_state", "state"),
    )
)
