"""arXiv parsers on recorded real responses (API, OAI-PMH) and spec-written RSS/Atom fixtures."""

import gzip
import json
from datetime import UTC, date, datetime

import pytest
from conftest import FIXTURES

from broadsheet.arxiv import api, oai, rss
from broadsheet.arxiv.xml import InvalidXml

ARXIV = FIXTURES / "arxiv"
FEED = "cs.LG+cs.CL+cs.CV+cs.AI"


def recorded(name: str) -> bytes:
    return json.loads((ARXIV / "api" / f"{name}.json").read_text())["body"].encode()


def test_api_entry_fields() -> None:
    page = api.parse_feed(recorded("id_2104.12255v1_s0_m100_6ae69987ffe1"))
    assert (page.total, page.start, len(page.papers)) == (1, 0, 1)
    paper = page.papers[0]
    assert (paper.arxiv_id, paper.version, paper.categories) == ("2104.12255", 1, ("cs.CR",))
    assert paper.authors and paper.title and paper.abstract
    assert paper.submitted_at is not None and paper.submitted_at.tzinfo is UTC


def test_api_old_style_ids_errors_empty_and_paging() -> None:
    assert api.parse_feed(recorded("id_astro-ph_0601001_s0_m100_3150dca9dc76")).papers[0].arxiv_id == "astro-ph/0601001"
    quant = api.parse_feed(recorded("id_quant-ph_0201082v1_s0_m100_86989fe779ef")).papers[0]
    assert (quant.arxiv_id, quant.version, quant.categories) == ("quant-ph/0201082", 1, ("quant-ph", "cs.PL"))
    with pytest.raises(api.ArxivApiError, match="incorrect id format for abc"):
        api.parse_feed(recorded("id_abc_s0_m100_b79c8dcf6bc3"))
    empty = api.parse_feed(recorded("id_0000.0000_s0_m100_8b51d9633a68"))
    assert (empty.total, empty.papers) == (0, [])
    second = api.parse_feed(recorded("q_testing_s10_m10_34e56e15aaac"))
    first = api.parse_feed(recorded("q_testing_s0_m10_bc5a6c384fe9"))
    assert (second.total, second.start, len(second.papers)) == (214881, 10, 10)
    assert not {p.arxiv_id for p in first.papers} & {p.arxiv_id for p in second.papers}
    legacy = api.parse_feed((ARXIV / "api" / "legacy_2016_id_list_1111.2011v2.xml").read_bytes()).papers[0]
    assert (legacy.arxiv_id, legacy.version) == ("1111.2011", 2)
    with pytest.raises(InvalidXml):
        api.parse_feed(recorded("id_2104.12255v1_s0_m100_6ae69987ffe1")[:500])


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_announcement_feed_per_arxiv_spec(fmt: str) -> None:
    found = rss.parse_feed((ARXIV.parent / "rss" / f"{FEED}.{fmt}.xml").read_bytes())
    assert [a.kind for a in found] == ["new"] * 3 + ["cross"] * 2 + ["replace", "replace-cross"]
    assert {a.day for a in found} == {date(2026, 7, 1)}
    first = found[0].paper
    assert (first.arxiv_id, first.version, first.announced_on) == ("2606.30775", 1, date(2026, 7, 1))
    assert first.categories == ("cs.CL", "cs.AI") and first.authors[0] == "Yangqiaoyu Zhou"
    assert first.abstract.startswith("Enterprise AI agents") and "Announce Type" not in first.abstract
    assert first.license == "http://creativecommons.org/licenses/by/4.0/"
    replaced = found[5].paper
    assert replaced.version == 2 and replaced.announced_on is None
    assert replaced.updated_at == datetime(2026, 7, 1, 4, tzinfo=UTC)
    assert rss.parse_feed((ARXIV.parent / "rss" / "empty.atom.xml").read_bytes()) == []


def test_feed_url_validates_categories() -> None:
    assert (
        rss.feed_url("https://rss.arxiv.org/atom/", ["cs.LG", "math.AG"]) == "https://rss.arxiv.org/atom/cs.LG+math.AG"
    )
    for bad in ([], ["cs.LG", "x y"], ["<script>"]):
        with pytest.raises(ValueError):
            rss.feed_url("https://rss.arxiv.org/atom", bad)


def test_oai_arxiv_format_splits_names_and_classes() -> None:
    page = oai.parse_page((ARXIV / "oai" / "arxiv-physics-hep-th.xml").read_bytes())
    assert len(page.papers) == 3 and page.token is None
    first = page.papers[0]
    assert first.arxiv_id == "1412.8323" and first.authors == ("Philipp A Hoehn",)
    assert first.categories[0] == "quant-ph" and "hep-th" in first.categories
    assert first.submitted_at == datetime(2014, 12, 29, tzinfo=UTC) and first.updated_at == datetime(
        2017, 12, 13, tzinfo=UTC
    )
    assert page.last_datestamp == date(2017, 12, 14)
    odd = oai.parse_page((ARXIV / "oai" / "sample_arxiv_record0.xml").read_bytes()).papers[0]
    assert odd.arxiv_id == "1601.03238" and odd.authors[:2] == ("Planck Collaboration", "Jieci Wang")


def test_oai_arxiv_raw_has_versions() -> None:
    paper = oai.parse_page((ARXIV / "oai" / "GetRecord_arXivRaw_1304.4214.xml").read_bytes()).papers[0]
    assert paper.authors == ("Igor A. Zaliznyak", "John M. Tranquada")
    assert paper.version == 1 and paper.submitted_at == datetime(2013, 4, 15, 19, 33, 21, tzinfo=UTC)
    assert paper.categories == ("cond-mat.str-el",) and paper.license


def test_oai_dc_three_page_harvest_pages() -> None:
    pages = [
        oai.parse_page(gzip.decompress((ARXIV / "oai" / f"ListRecords_data_{i}.xml.gz").read_bytes())) for i in range(3)
    ]
    assert [len(p.papers) + len(p.deleted) for p in pages] == [1000, 1000, 265]
    assert [p.token for p in pages] == ["6511260|1001", "6511260|2001", None]
    assert pages[0].complete_size == 2265
    first = pages[0].papers[0]
    assert (first.arxiv_id, first.authors, first.comment[:8]) == ("0806.4410", ("Robert Baillie",), "29 pages")  # type: ignore[index]
    assert first.submitted_at == datetime(2008, 6, 27, tzinfo=UTC)


def test_oai_errors() -> None:
    error = b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken">expired</error></OAI-PMH>'
    with pytest.raises(oai.OaiError) as caught:
        oai.parse_page(error)
    assert caught.value.code == "badResumptionToken"
    none = b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="noRecordsMatch"/></OAI-PMH>'
    assert oai.parse_page(none).papers == [] and oai.parse_page(none).token is None
