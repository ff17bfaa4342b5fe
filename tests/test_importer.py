import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES
from test_store import digest

from broadsheet.importer import ImportFailed, Options, detect_format, import_file
from broadsheet.models import UpsertResult
from broadsheet.store import Store

NY = Options(zone=ZoneInfo("America/New_York"))
LISTINGS = FIXTURES / "arxiv_listings_sample.jsonl"


def test_listings_sample_imports_and_reimport_changes_nothing(store: Store) -> None:
    report = import_file(store, LISTINGS, NY)
    assert report.format == "arxiv" and report.result == UpsertResult(new=128) and report.error_count == 0
    before = digest(store)
    again = import_file(store, LISTINGS, NY)
    assert again.result == UpsertResult(unchanged=128)
    assert digest(store) == before


def test_listing_fields_class_codes_and_links(store: Store) -> None:
    import_file(store, LISTINGS, NY)
    first = store.papers.get("2503.11731")
    assert first is not None
    assert first.paper.authors[:2] == ("Xianming Zeng", "Sicong Du")
    assert first.paper.categories == ("cs.CV", "cs.RO")
    assert first.paper.announced_on == date(2025, 3, 18)
    rows = [json.loads(line) for line in LISTINGS.open(encoding="utf-8")]
    coded = next(r for r in rows if any(c[0].isupper() or c[0].isdigit() for c in r["categories"]))
    stored = store.papers.get(coded["id"])
    assert stored is not None
    assert all(c[0].islower() for c in stored.paper.categories)
    assert stored.paper.acm_class or stored.paper.msc_class
    linked = next(r for r in rows if r["comment"] and "https://github.com/" in r["comment"])
    view = store.papers.get(linked["id"])
    assert view is not None and view.paper.code_url and view.paper.code_url.startswith("https://github.com/")


def test_kaggle_snapshot_layout(store: Store) -> None:
    report = import_file(store, FIXTURES / "kaggle_sample.jsonl", NY)
    assert report.result == UpsertResult(new=3) and report.error_count == 0
    p = store.papers.get("0704.0001").paper  # type: ignore[union-attr]
    assert p.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")
    assert (p.version, p.doi, p.journal_ref) == (2, "10.1103/PhysRevD.76.013009", "Phys.Rev.D76:013009,2007")
    assert p.submitted_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert p.updated_at == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    sergyeyev = store.papers.get("1401.2122").paper  # type: ignore[union-attr]
    assert sergyeyev.version == 5 and sergyeyev.categories[0] == "math.AP" and len(sergyeyev.categories) == 6
    assert sergyeyev.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    old = store.papers.get("astro-ph/0601001").paper  # type: ignore[union-attr]
    assert old.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")


@pytest.mark.parametrize(
    ("name", "count"), [("2026-08-21.json.gz", 17), ("2025-01-10.json.gz", 9), ("2024-12-11.json.gz", 26)]
)
def test_hf_daily_papers_responses_in_all_archived_shapes(store: Store, name: str, count: int) -> None:
    path = FIXTURES / "hf" / name
    assert detect_format(path) == "hf"
    report = import_file(store, path, NY)
    assert report.result == UpsertResult(new=count) and report.error_count == 0
    day = date.fromisoformat(name[:10])
    assert store.daily.count(None) == count
    assert {v.day for v in store.daily.views(None, limit=100)} == {day}
    assert import_file(store, path, NY).result == UpsertResult(unchanged=count)


def test_hf_fields_become_paper_upvotes_and_links(store: Store) -> None:
    import_file(store, FIXTURES / "hf" / "2026-08-21.json.gz", NY)
    view = store.papers.get("2608.19880")
    assert view is not None
    assert view.upvotes == 163
    assert view.paper.code_url == "https://github.com/google-research/envharness"
    assert view.paper.project_url == "https://envharness.com/"
    assert view.paper.authors[0] == "Chengsong Huang" and len(view.paper.authors) == 17
    assert view.day == date(2026, 8, 21)


def test_malformed_lines_are_reported_by_number_and_skipped(store: Store, tmp_path: Path) -> None:
    good = LISTINGS.read_text(encoding="utf-8").splitlines()[:5]
    bad_id = json.loads(good[0]) | {"id": "not-an-id"}
    no_title = {k: v for k, v in json.loads(good[1]).items() if k != "title"} | {"id": "2503.99999"}
    wrong_type = json.loads(good[2]) | {"id": "2503.99998", "authors": 7}
    lines = [good[3], "{broken json", json.dumps(bad_id), "", json.dumps(no_title), "[1, 2]",
             json.dumps(wrong_type), good[4]]  # fmt: skip
    path = tmp_path / "mixed.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    report = import_file(store, path, NY)
    assert report.result == UpsertResult(new=2)
    assert [e.line for e in report.errors] == [2, 3, 5, 6, 7]
    assert "title" in report.errors[2].message and "authors" in report.errors[4].message
    assert store.papers.get("2503.99999") is None and store.papers.get("2503.99998") is None


def test_truncated_gzip_keeps_complete_batches_and_reports(store: Store, tmp_path: Path) -> None:
    data = gzip.compress(LISTINGS.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    report = import_file(store, path, Options(zone=NY.zone, batch_size=10))
    assert report.error_count == 1 and "truncated" in report.errors[0].message
    assert 0 < report.result.new < 128 == report.result.new + 128 - report.result.new
    assert store.papers.count() == report.result.new


def test_unreadable_inputs_fail_clearly(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no such file"):
        import_file(store, tmp_path / "missing.jsonl", NY)
    junk = tmp_path / "2026-01-01.json"
    junk.write_text("[{]")
    with pytest.raises(ImportFailed, match="daily_papers"):
        import_file(store, junk, NY)
