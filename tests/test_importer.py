import gzip
import json
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES
from test_store import digest

from broadsheet.ingest.importer import Format, ImportFailed, Options, detect_format, import_file
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
    assert report.error_count == 0 and report.damaged and "truncated" in report.damaged
    assert 0 < report.result.new < 128 == report.result.new + 128 - report.result.new
    assert store.papers.count() == report.result.new


def test_unreadable_inputs_fail_clearly(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no such file"):
        import_file(store, tmp_path / "missing.jsonl", NY)
    junk = tmp_path / "2026-01-01.json"
    junk.write_text("[{]")
    with pytest.raises(ImportFailed, match="daily_papers"):
        import_file(store, junk, NY)


# -- hostile files: generated here, in tmp_path ------------------------------------------------------------------


def record(arxiv_id: str, **fields: Any) -> dict[str, Any]:
    base = {"id": arxiv_id, "title": f"Paper {arxiv_id}", "abstract": "An abstract.", "authors": ["A. Author"],
            "categories": ["cs.CL"], "date": "2026-08-21"}  # fmt: skip
    return base | fields


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def test_truncated_gzip_is_reported_as_damaged(store: Store, tmp_path: Path) -> None:
    data = gzip.compress(LISTINGS.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    report = import_file(store, path, NY)
    assert report.damaged and "truncated or corrupt: reading stopped after line" in report.damaged
    assert report.result.new > 0
    assert import_file(store, LISTINGS, NY).damaged is None


def test_huge_version_numbers_skip_their_record_not_the_file(store: Store, tmp_path: Path) -> None:
    created = "Mon, 2 Apr 2007 19:18:42 GMT"
    path = write_lines(tmp_path / "versions.jsonl", [
        json.dumps(record("2608.00001")),
        json.dumps(record("2608.00002", versions=[{"version": "v99999999999999999999", "created": created}])),
        json.dumps(record("2608.00003", versions=[{"version": "v1", "created": created},
                                                  {"version": 10**30, "created": created}])),
        json.dumps(record("2608.00004", versions=[{"version": "v10001", "created": created}])),
        json.dumps(record("2608.00005", versions=[{"version": "v0", "created": created}])),
        json.dumps(record("2608.00006", versions=[{"version": "v" + "9" * 5000, "created": created}])),
        json.dumps(record("2608.00007", versions=[{"version": "v10000", "created": created}])),
        json.dumps(record("2608.00008", versions=[{"version": "v2", "created": "0001-01-01T00:00:00+01:00"}])),
        json.dumps(record("2608.00009", date="0001-01-01")),
    ])  # fmt: skip
    report = import_file(store, path, NY)
    assert report.result == UpsertResult(new=2)
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6, 8, 9]
    assert all(
        word in e.message for e, word in zip(report.errors, ["version"] * 5 + ["timestamp", "date"], strict=True)
    )
    assert store.papers.get("2608.00007").paper.version == 10_000  # type: ignore[union-attr]


def hf_item(arxiv_id: str, upvotes: Any = 3, **paper: Any) -> dict[str, Any]:
    return {"paper": {"id": arxiv_id, "title": f"HF {arxiv_id}", "summary": "S.", "authors": [{"name": "A"}],
                      "publishedAt": "2026-08-20T00:00:00.000Z", "upvotes": upvotes} | paper,
            "publishedAt": "2026-08-20T20:00:00.000Z"}  # fmt: skip


def test_hf_numbers_out_of_range_skip_their_item(store: Store, tmp_path: Path) -> None:
    items = [hf_item("2608.00001"), hf_item("2608.00002", 10**20), hf_item("2608.00003", 10**7 + 1),
             hf_item("2608.00004", True), hf_item("2608.00005", 10**7), hf_item("2608.00006", authors=[{"name": 7}]),
             hf_item("2608.00007", publishedAt="0001-01-01T00:00:00Z")]  # fmt: skip
    response = tmp_path / "2026-08-21.json"
    response.write_text(json.dumps(items))
    report = import_file(store, response, NY)
    assert report.result == UpsertResult(new=2) and [e.line for e in report.errors] == [2, 3, 4, 6, 7]
    assert "upvotes" in report.errors[0].message
    days = ["2026-08-21"] * len(items) + ["0001-01-01"]
    lines = write_lines(
        tmp_path / "items.jsonl",
        [json.dumps({"date": d, "item": i}) for d, i in zip(days, [*items, items[0]], strict=True)],
    )
    again = import_file(store, lines, NY)
    assert [e.line for e in again.errors] == [2, 3, 4, 6, 7, 8] and again.result == UpsertResult(unchanged=2)
    assert store.papers.get("2608.00005").upvotes == 10**7  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", [None, "arxiv", "hf", "hf-items"])
def test_corrupt_gzip_header_is_one_clear_error(store: Store, tmp_path: Path, fmt: Format | None) -> None:
    path = tmp_path / "2026-08-21.json.gz"
    path.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    with pytest.raises(ImportFailed, match="not a readable gzip file") as failed:
        import_file(store, path, NY, fmt=fmt)
    assert "\n" not in str(failed.value)


def test_oversized_fields_are_refused_by_line(store: Store, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "big.jsonl.gz", [
        json.dumps(record("2608.00001", abstract="a" * 20_001)),
        json.dumps(record("2608.00002", title="t" * 1_001)),
        json.dumps(record("2608.00003", comment="c" * 5_001)),
        json.dumps(record("2608.00004", authors=["n" * 1_001])),
        json.dumps(record("2608.00005", authors=["A"] * 10_001)),
        json.dumps(record("2608.00006", abstract="a" * 20_000)),
    ])  # fmt: skip
    report = import_file(store, path, NY)
    assert report.result == UpsertResult(new=1) and [e.line for e in report.errors] == [1, 2, 3, 4, 5]
    assert "'abstract' is too long (20,001 characters; at most 20,000)" in report.errors[0].message
    assert "'title' is too long" in report.errors[1].message and "10,001 names" in report.errors[4].message


def test_a_huge_line_is_skipped_without_being_held(store: Store, tmp_path: Path) -> None:
    huge = json.dumps(record("2608.00002", title="t" * (40 << 20)))  # one 40 MB line
    path = write_lines(tmp_path / "huge.jsonl.gz", [json.dumps(record("2608.00001")), huge,
                                                    json.dumps(record("2608.00003"))])  # fmt: skip
    tracemalloc.start()
    try:
        report = import_file(store, path, NY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.result == UpsertResult(new=2)
    assert [(e.line, e.message) for e in report.errors] == [(2, "line longer than 4,194,304 bytes, skipped")]
    assert peak < 16 << 20, f"{peak:,} bytes"


def test_hostile_text_is_stored_xml_safe(store: Store, tmp_path: Path) -> None:
    text = "<script>x</script> ]]> & \x01\x08\x0b \ufffe \ud800 😀 \u202eevil\u202c"
    path = write_lines(tmp_path / "hostile.jsonl", [
        json.dumps(record("2608.00001", title=f"T {text}", abstract=f"A {text}", authors=[f"N {text}"],
                          comment=f"C {text}", doi=f"D {text}", **{"journal-ref": f"J {text}"})),
    ])  # fmt: skip
    assert import_file(store, path, NY).result == UpsertResult(new=1)
    paper = store.papers.get("2608.00001").paper  # type: ignore[union-attr]
    clean = "<script>x</script> ]]> &    😀 \u202eevil\u202c"  # the same, less \x01 \x08 \x0b \ufffe \ud800
    assert (paper.title, paper.abstract, paper.authors, paper.comment, paper.doi, paper.journal_ref) == (
        f"T {clean}", f"A {clean}", (f"N {clean}",), f"C {clean}", f"D {clean}", f"J {clean}")  # fmt: skip
    items = tmp_path / "2026-08-21.json"
    items.write_text(json.dumps([hf_item("2608.00002", title=f"H {text}", summary=f"S {text}",
                                         authors=[{"name": f"N {text}"}])]))  # fmt: skip
    assert import_file(store, items, NY).result == UpsertResult(new=1)
    hf_paper = store.papers.get("2608.00002").paper  # type: ignore[union-attr]
    assert (hf_paper.title, hf_paper.abstract, hf_paper.authors) == (f"H {clean}", f"S {clean}", (f"N {clean}",))
