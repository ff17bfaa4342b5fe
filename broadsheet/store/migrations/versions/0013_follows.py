"""Follows (authors, categories, saved searches), papers marked "not interested", and never-show rules.

Also `paper_authors`, the index of who wrote what by normalised name (broadsheet.community.names), for author
pages; filled here for the papers already stored, and by every paper insert or update afterwards.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from broadsheet.community.names import normalise_name

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),
    )
    op.create_index("ix_follows_kind_value", "follows", ["kind", "value"])
    op.create_table(
        "hidden_papers",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_hidden_papers_paper", "hidden_papers", ["paper_id"])
    op.create_table(
        "never_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_never_rules_user_kind_value"),
    )
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_norm", sa.String(300), nullable=False),
    )
    op.create_index("ix_paper_authors_name", "paper_authors", ["name_norm", "paper_id"])
    _backfill()


def _backfill() -> None:
    """One row per (paper, author) for the papers already stored, read and written in batches."""
    conn = op.get_bind()
    papers = sa.table("papers", sa.column("id", sa.Integer), sa.column("authors", sa.JSON))
    target = sa.table(
        "paper_authors", sa.column("paper_id"), sa.column("position"), sa.column("name"), sa.column("name_norm")
    )
    last = 0
    while True:
        query = sa.select(papers.c.id, papers.c.authors).where(papers.c.id > last).order_by(papers.c.id).limit(BATCH)
        rows = conn.execute(query).all()
        if not rows:
            if conn.dialect.name == "postgresql":  # planner statistics now, not when autovacuum gets to it
                conn.execute(sa.text("ANALYZE paper_authors"))
            return
        values = [
            {"paper_id": row.id, "position": pos, "name": name, "name_norm": normalise_name(name)}
            for row in rows
            for pos, name in enumerate(row.authors or [])
        ]
        if values:
            conn.execute(sa.insert(target), values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_paper_authors_name", table_name="paper_authors")
    op.drop_table("paper_authors")
    op.drop_table("never_rules")
    op.drop_index("ix_hidden_papers_paper", table_name="hidden_papers")
    op.drop_table("hidden_papers")
    op.drop_index("ix_follows_kind_value", table_name="follows")
    op.drop_table("follows")
