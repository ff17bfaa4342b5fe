import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from broadsheet.models import DailyRecord, Paper, UpsertResult
from broadsheet.periods import parse_day, parse_week
from broadsheet.search.lexical import LexicalIndex
from broadsheet.store import Store

PAPER = Paper(
    "2401.00001",
    "Dogs and wolves",
    "An abstract about dogs.",
    ("Ann Author", "Bob Writer"),
    ("cs.LG", "cs.AI"),
    version=1,
)


def digest(store: Store) -> str:
    """A fingerprint of every stored row, row timestamps included."""
    h = hashlib.sha256()
    with store.db.read() as conn:
        for table in ("papers", "paper_categories", "daily_entries", "votes", "comments", "users"):
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def found(store: Store, word: str, index: Path) -> list[str]:
    """What the (tantivy) lexical index, brought up to date with the store, finds for a word."""
    lexical = LexicalIndex(store, index)
    lexical.refresh()
    return [view.paper.arxiv_id for view in store.papers.views([i for i, _ in lexical.search([word], limit=10)])]


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    with store.db.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert not store.needs_migration()
    store.migrate()  # idempotent


def test_upsert_is_idempotent_down_to_the_row_timestamps(store: Store) -> None:
    assert store.papers.upsert([PAPER]) == UpsertResult(new=1)
    before = digest(store)
    assert store.papers.upsert([PAPER]) == UpsertResult(unchanged=1)
    assert digest(store) == before


def test_newer_version_updates_paper_categories_and_fulltext(store: Store, tmp_path: Path) -> None:
    store.papers.upsert([PAPER])
    v2 = Paper("2401.00001", "Cats and lions", "An abstract about cats.", ("Ann Author",), ("cs.CV",), version=2)
    assert store.papers.upsert([v2]) == UpsertResult(updated=1)
    assert store.papers.upsert([PAPER]) == UpsertResult(unchanged=1)  # the older version never wins back
    view = store.papers.get("2401.00001")
    assert view is not None and view.paper.title == "Cats and lions" and view.paper.version == 2
    assert found(store, "cats", tmp_path) == ["2401.00001"] and found(store, "dogs", tmp_path) == []
    with store.db.read() as conn:
        assert conn.execute(text("SELECT category FROM paper_categories")).scalars().all() == ["cs.CV"]


def test_authors_with_accents_are_searchable(store: Store, tmp_path: Path) -> None:
    store.papers.upsert([Paper("2401.00002", "T", "A", ("Moreno D'Incà", "José Müller"))])
    assert found(store, "müller", tmp_path) == ["2401.00002"]


def test_daily_entries_keep_the_earliest_day_and_upvotes_only_grow(store: Store) -> None:
    paper = Paper("2401.00003", "Listed", "abs")
    later = DailyRecord(paper, date(2026, 8, 21), upvotes=10)
    earlier = DailyRecord(paper, date(2026, 8, 20), upvotes=4)
    assert store.daily.upsert([later], source="hf") == UpsertResult(new=1)
    assert store.daily.upsert([earlier], source="hf") == UpsertResult(updated=1)
    view = store.papers.get("2401.00003")
    assert view is not None and view.day == date(2026, 8, 20) and view.upvotes == 10
    assert store.daily.upsert([earlier, later], source="hf") == UpsertResult(unchanged=1)
    assert [v.paper.arxiv_id for v in store.daily.views(parse_week("2026-W34"))] == ["2401.00003"]
    assert store.daily.neighbours(parse_day("2026-08-19")) == (None, date(2026, 8, 20))


def test_views_order_by_upvotes_and_count_real_votes(store: Store) -> None:
    records = [DailyRecord(Paper(f"2401.0001{i}", f"P{i}", "a"), date(2026, 8, 20), upvotes=i) for i in range(3)]
    store.daily.upsert(records, source="hf")
    with store.db.write() as conn:
        conn.execute(text("INSERT INTO users(username, created_at) VALUES ('u1', '2026-01-01'), ('u2', '2026-01-01')"))
        conn.execute(
            text(
                "INSERT INTO votes SELECT u.id, p.id, '2026-01-01' FROM users u, papers p WHERE p.arxiv_id='2401.00010'"
            )
        )
    views = store.daily.views(parse_day("2026-08-20"))
    assert [(v.paper.arxiv_id, v.upvotes) for v in views] == [("2401.00012", 2), ("2401.00010", 2), ("2401.00011", 1)]


def test_a_paper_is_listed_once_and_deleting_it_cascades(store: Store) -> None:
    store.daily.upsert([DailyRecord(PAPER, date(2026, 8, 20))], source="hf")
    with store.db.write() as conn, pytest.raises(Exception, match=r"(?i)unique"):
        conn.execute(
            text(
                "INSERT INTO daily_entries(paper_id, day, added_at, source)"
                " SELECT id, '2026-08-21', '2026-08-21', 'x' FROM papers"
            )
        )
    with store.db.write() as conn:
        conn.execute(text("DELETE FROM papers"))
        assert conn.execute(text("SELECT count(*) FROM daily_entries")).scalar() == 0


def test_newest_pages_by_cursor_without_gaps(store: Store) -> None:
    papers = [
        Paper(f"2401.{i:05d}", f"T{i}", "a", submitted_at=datetime(2024, 1, 1 + i % 5, tzinfo=UTC)) for i in range(23)
    ]
    store.papers.upsert(papers)
    seen, cursor = [], None
    while True:
        page, cursor = store.papers.newest(limit=5, after=cursor)
        seen += [v.paper.arxiv_id for v in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(p.arxiv_id for p in papers) and len(seen) == 23
    stamps = [store.papers.get(i).paper.published for i in seen]  # type: ignore[union-attr]
    assert stamps == sorted(stamps, reverse=True)
