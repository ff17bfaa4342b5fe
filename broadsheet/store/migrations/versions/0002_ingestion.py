"""Ingestion: arXiv announcements (new / cross / replace) and OAI-PMH harvest checkpoints.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_index("ix_announcements_day", "announcements", ["day"])
    op.create_table(
        "harvests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("from_date", sa.Date, nullable=False),
        sa.Column("until_date", sa.Date),
        sa.Column("set_spec", sa.String(64)),
        sa.Column("token", sa.Text),
        sa.Column("last_datestamp", sa.Date),
        sa.Column("pages", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("records", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("harvests")
    op.drop_table("announcements")
