"""Initial schema: papers (+ categories, FTS5 on SQLite), users, daily entries, votes, comments.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FALSE = sa.false()  # 0 on SQLite, false on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("arxiv_id", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("acm_class", sa.Text),
        sa.Column("msc_class", sa.Text),
        sa.Column("submitted_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("announced_on", sa.Date),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("code_url", sa.Text),
        sa.Column("project_url", sa.Text),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("imported_upvotes", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("modified_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_papers_published", "papers", ["published_at", "id"])
    op.create_table(
        "paper_categories",
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
    )
    op.create_index("ix_paper_categories_category", "paper_categories", ["category", "paper_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(40), nullable=False, unique=True),
        sa.Column("email", sa.String(254), unique=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("display_name", sa.Text),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("votes_public", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("banned_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "daily_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "paper_id",
            sa.Integer,
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("comment", sa.Text),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=FALSE),
    )
    op.create_index("ix_daily_entries_day", "daily_entries", ["day"])
    op.create_index("ix_daily_entries_user", "daily_entries", ["user_id"])
    op.create_table(
        "votes",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_votes_paper", "votes", ["paper_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE")),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("edited_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=FALSE),
    )
    op.create_index("ix_comments_paper", "comments", ["paper_id", "created_at"])
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_fts()


def _create_sqlite_fts() -> None:
    """FTS5 over title + abstract + authors, an external-content index kept in sync by triggers."""
    op.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5("
        "title, abstract, authors, content='papers', content_rowid='id', tokenize='porter unicode61')"
    )
    old = "INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors) "
    old += "VALUES ('delete', old.id, old.title, old.abstract, old.authors);"
    new = "INSERT INTO papers_fts(rowid, title, abstract, authors) "
    new += "VALUES (new.id, new.title, new.abstract, new.authors);"
    op.execute(f"CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN {new} END")
    op.execute(f"CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN {old} END")
    op.execute(
        f"CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN {old} {new} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS papers_fts")
    for table in ("comments", "votes", "daily_entries", "users", "paper_categories", "papers"):
        op.drop_table(table)
