"""PostgreSQL only: paper vectors in pgvector (an HNSW cosine index) so no host holds them all in memory.

The float32 bytes in `embeddings.vector` stay the source of truth on both backends (exports,
`migrate-to`); on PostgreSQL the same vector is also stored as `embedding vector(384)` (the
MiniLM dimension), written together with the bytes, and searched through the HNSW index.
SQLite is unchanged: its exact in-memory index is faster there.

Revision ID: 0011
Revises: 0010
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DIM = 384
BATCH = 2000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(f"ALTER TABLE embeddings ADD COLUMN embedding vector({DIM})")
    _backfill(bind)
    op.execute("CREATE INDEX ix_embeddings_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops)")


def _backfill(bind: sa.Connection) -> None:
    """Vectors stored before this migration get their pgvector copy (in batches: memory stays small)."""
    after = 0
    select = sa.text("SELECT id, vector FROM embeddings WHERE id > :after ORDER BY id LIMIT :n")
    update = sa.text("UPDATE embeddings SET embedding = CAST(:v AS vector) WHERE id = :id")
    while rows := bind.execute(select, {"after": after, "n": BATCH}).all():
        values = [{"id": r.id, "v": _literal(bytes(r.vector))} for r in rows if len(r.vector) == DIM * 4]
        if values:
            bind.execute(update, values)
        after = rows[-1].id


def _literal(data: bytes) -> str:
    return "[" + ",".join(repr(float(x)) for x in np.frombuffer(data, dtype="<f4")) + "]"


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_embeddings_hnsw")
        op.execute("ALTER TABLE embeddings DROP COLUMN IF EXISTS embedding")
