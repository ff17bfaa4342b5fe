"""Collections: named, ordered lists of papers with notes (bookmarks are each user's default one).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.String(24), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("theme", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("object_id", name="uq_collections_object_id"),
        sa.UniqueConstraint("user_id", "title", name="uq_collections_user_title"),
    )
    op.create_index("ix_collections_updated", "collections", ["private", "updated_at"])
    op.create_table(
        "collection_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.String(24), nullable=False),
        sa.Column("collection_id", sa.Integer, sa.ForeignKey("collections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("object_id", name="uq_collection_items_object_id"),
        sa.UniqueConstraint("collection_id", "paper_id", name="uq_collection_items_collection_paper"),
    )
    op.create_index("ix_collection_items_position", "collection_items", ["collection_id", "position"])
    op.create_index("ix_collection_items_paper", "collection_items", ["paper_id"])


def downgrade() -> None:
    op.drop_index("ix_collection_items_paper", table_name="collection_items")
    op.drop_index("ix_collection_items_position", table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index("ix_collections_updated", table_name="collections")
    op.drop_table("collections")
