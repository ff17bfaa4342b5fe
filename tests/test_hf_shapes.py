"""One set of pydantic shapes parses Hugging Face's answers and types ours (broadsheet.shapes)."""

import gzip
import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES
from fastapi.testclient import TestClient

from broadsheet.ingest import hf
from broadsheet.ingest.dump import RecordError
from broadsheet.shapes import DailyItemJson, as_json

NY = ZoneInfo("America/New_York")
REAL_DAY = json.loads(gzip.decompress((FIXTURES / "hf" / "2026-08-21.json.gz").read_bytes()))


def test_every_recorded_item_parses_into_the_shapes() -> None:
    parsed = [hf.parse_item(item) for item in REAL_DAY]
    top = next(p for p in parsed if p.paper.id == "2608.19880")
    assert top.paper.upvotes == 163 and top.paper.github_repo == "https://github.com/google-research/envharness"
    assert top.paper.authors[0].name == "Chengsong Huang" and top.paper.submitted_on_daily_at


def test_our_daily_papers_answer_is_a_hugging_face_answer(client: TestClient) -> None:
    """Another Broadsheet (or anything reading HF) can mirror this one: our JSON parses as HF's does."""
    ours = client.get("/api/daily_papers", params={"date": "2026-08-21", "limit": 100}).json()
    records = [r for r in hf.records(ours, day=date(2026, 8, 21), zone=NY) if not isinstance(r, RecordError)]
    theirs = {r.paper.arxiv_id: r for r in hf.records(REAL_DAY, day=date(2026, 8, 21), zone=NY)}  # type: ignore[union-attr]
    assert len(records) == len(ours) == len(theirs)
    for record in records:
        assert record.upvotes == theirs[record.paper.arxiv_id].upvotes  # type: ignore[union-attr]
        assert record.paper.authors == theirs[record.paper.arxiv_id].paper.authors  # type: ignore[union-attr]
    assert as_json(DailyItemJson.model_validate(ours[0])) == ours[0]  # parse and dump: the same JSON back


@pytest.mark.parametrize(
    ("change", "named"),
    [({"upvotes": True}, "paper.upvotes"), ({"upvotes": "3"}, "paper.upvotes"), ({"title": None}, "paper.title"),
     ({"authors": [{"name": 7}]}, "paper.authors.0.name"), ({"authors": "A, B"}, "paper.authors"),
     ({"githubRepo": 5}, "paper.githubRepo")],
)  # fmt: skip
def test_a_malformed_item_names_its_field(change: dict[str, object], named: str) -> None:
    item = {"paper": {"id": "2608.00001", "title": "T", "summary": "S", "authors": [{"name": "A"}],
                      "publishedAt": "2026-08-20T00:00:00.000Z", "upvotes": 3} | change,
            "publishedAt": "2026-08-20T20:00:00.000Z"}  # fmt: skip
    with pytest.raises(RecordError, match=named.replace(".", r"\.")):
        hf.record_from_item(item, day=None, zone=NY)
