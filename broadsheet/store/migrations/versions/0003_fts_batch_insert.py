"""History: FTS5 was indexed per batch instead of by a per-row insert trigger (import 2x faster).

The FTS5 index itself is gone since 0004 (keyword search moved to tantivy, which follows the
papers table); this step only matters for databases created before that.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS papers_fts_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN "
            "INSERT INTO papers_fts(rowid, title, abstract, authors) "
            "VALUES (new.id, new.title, new.abstract, new.authors); END"
        )
