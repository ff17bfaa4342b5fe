"""Full texts of papers, converted from arXiv's HTML rendering by the background worker.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fulltexts",
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("markdown", sa.Text),
        sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("converter", sa.Integer),
        sa.Column("source_url", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("retry_after", sa.DateTime),
        sa.Column("fetched_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_fulltexts_state", "fulltexts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_fulltexts_state", table_name="fulltexts")
    op.drop_table("fulltexts")
