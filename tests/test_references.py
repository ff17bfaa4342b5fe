"""Reference formats: arXiv ids read from pastes and exports (Zotero's real shapes), and exports that parse back."""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.ingest import dump
from broadsheet.ingest.metadata import display_text, display_title, tex_to_text
from broadsheet.models import Paper
from broadsheet.personal import references
from broadsheet.personal.references import arxiv_ids_in, bibtex, citation_keys, csl_json, name_of, ris


def real_papers() -> list[Paper]:
    """128 real arXiv records (accents, ACM/MSC codes, TeX in titles): tests/fixtures/README.md."""
    lines = (FIXTURES / "arxiv_listings_sample.jsonl").read_text(encoding="utf-8").splitlines()
    return [dump.paper_from_record(json.loads(line)) for line in lines]


# -- reading ---------------------------------------------------------------------------------------


def test_pasted_ids_and_urls_in_order_canonical_and_deduplicated() -> None:
    text = """2401.00001v2, https://arxiv.org/abs/hep-th/9901001v3
    arXiv:1706.03762 and math.GT/0309136; https://arxiv.org/pdf/2310.06825v1.pdf
    https://huggingface.co/papers/2312.00752 (see also 2401.00001) 10.48550/arXiv.0704.0001
    https://export.arxiv.org/abs/astro-ph/0601001?context=astro-ph"""
    assert arxiv_ids_in(text) == [
        "2401.00001", "hep-th/9901001", "1706.03762", "math/0309136", "2310.06825", "2312.00752", "0704.0001",
        "astro-ph/0601001",
    ]  # fmt: skip


def test_paste_ignores_lookalikes() -> None:
    # A month 13, a 6-digit tail, an old-style id under a folder that is no arXiv archive, a version 0.
    assert arxiv_ids_in("2413.00001 2401.000012 files/0912345 page 1234.5 2401.00001v0") == []
    assert arxiv_ids_in("see cs/0112017.") == ["cs/0112017"]


ZOTERO_BIBTEX = """
@misc{vaswani_attention_2023,
	title = {Attention {Is} {All} {You} {Need}},
	url = {http://arxiv.org/abs/1706.03762},
	doi = {10.48550/arXiv.1706.03762},
	abstract = {The dominant sequence transduction models ... (cf. arXiv:1409.0473)},
	urldate = {2024-01-05},
	publisher = {arXiv},
	author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
	month = aug,
	year = {2023},
	note = {arXiv:1706.03762 [cs]},
	keywords = {Computer Science - Computation and Language, Computer Science - Machine Learning},
	file = {arXiv Fulltext PDF:/home/me/Zotero/storage/ABCD/Vaswani.pdf:application/pdf},
}

@article{devlin_bert_2019,
	title = {{BERT}: {Pre}-training of {Deep} {Bidirectional} {Transformers}},
	shorttitle = {{BERT}},
	journal = {arXiv preprint},
	number = {arXiv:1810.04805},
	author = {Devlin, Jacob and Chang, Ming-Wei},
	year = {2019},
}

@article{smith_journal_2020,
	title = {A journal paper without any {arXiv} version},
	journal = {Physical Review D},
	volume = {101},
	pages = {1234--1245},
	doi = {10.1103/PhysRevD.101.012345},
	year = {2020},
}
"""

BETTER_BIBTEX = """
@online{kaplan2020,
  title = {Scaling Laws for Neural Language Models},
  author = {Kaplan, Jared and McCandlish, Sam},
  date = {2020-01-23},
  eprint = {2001.08361},
  eprinttype = {arxiv},
  eprintclass = {cs, stat},
}
@misc{witten1999,
  title = {An old-style id in two halves},
  eprint = {9901001}, archivePrefix = {arXiv}, primaryClass = {hep-th},
}
@article{DBLP:journals/corr/abs-2005-14165,
  journal = {CoRR}, volume = {abs/2005.14165}, year = {2020},
}
@misc{mendeley, title = {Mendeley writes arxivId}, arxivId = {2203.02155}, }
"""


def test_zotero_bibtex_reads_url_doi_note_number_but_not_the_abstract() -> None:
    assert arxiv_ids_in(ZOTERO_BIBTEX) == ["1706.03762", "1810.04805"]


def test_better_bibtex_biblatex_dblp_and_mendeley_fields() -> None:
    assert arxiv_ids_in(BETTER_BIBTEX) == ["2001.08361", "hep-th/9901001", "2005.14165", "2203.02155"]


def test_bibtex_eprint_of_another_archive_is_not_arxiv() -> None:
    assert arxiv_ids_in("@misc{x, eprint = {2101.12345}, eprinttype = {iacr}}") == []


ZOTERO_RIS = """TY  - PREPRINT
TI  - Attention Is All You Need
AU  - Vaswani, Ashish
AU  - Shazeer, Noam
AB  - The dominant sequence transduction models are based on ... (arXiv:1409.0473).
DA  - 2023/08/01/
PY  - 2023
DO  - 10.48550/arXiv.1706.03762
DP  - arXiv.org
PB  - arXiv
UR  - http://arxiv.org/abs/1706.03762
Y2  - 2024/01/05/
L1  - http://arxiv.org/pdf/1706.03762v7
N1  - arXiv:1706.03762 [cs]
KW  - Computer Science - Computation and Language
ER  -

TY  - RPRT
TI  - BERT
AU  - Devlin, Jacob
PY  - 2019
PB  - arXiv
M3  - arXiv:1810.04805
ER  -

TY  - JOUR
TI  - Not on arXiv
DO  - 10.1103/PhysRevD.101.012345
ER  -
""".replace("ER  -\n", "ER  - \n")  # Zotero ends each record with "ER  - " (a trailing space)


def test_zotero_ris() -> None:
    assert arxiv_ids_in(ZOTERO_RIS) == ["1706.03762", "1810.04805"]
    assert arxiv_ids_in(ZOTERO_RIS.replace("\n", "\r\n")) == ["1706.03762", "1810.04805"]


ZOTERO_CSL = [
    {
        "id": "http://zotero.org/users/123/items/ABCD1234",
        "type": "article",
        "title": "Attention Is All You Need",
        "abstract": "... improves on arXiv:1409.0473 ...",
        "URL": "http://arxiv.org/abs/1706.03762",
        "number": "arXiv:1706.03762",
        "publisher": "arXiv",
        "DOI": "10.48550/arXiv.1706.03762",
        "note": "arXiv:1706.03762 [cs]",
        "author": [{"family": "Vaswani", "given": "Ashish"}],
        "issued": {"date-parts": [["2023", 8, 1]]},
    },
    {"id": "devlin2019", "type": "article", "DOI": "10.48550/ARXIV.1810.04805"},
    {"id": "x", "type": "article-journal", "DOI": "10.1103/PhysRevD.101.012345", "page": "2401.12345"},
]


def test_zotero_csl_json_and_zotero_api_json() -> None:
    assert arxiv_ids_in(json.dumps(ZOTERO_CSL)) == ["1706.03762", "1810.04805"]
    api = [{"key": "ABCD", "data": {"itemType": "preprint", "archiveID": "arXiv:2001.08361", "extra": ""}}]
    assert arxiv_ids_in(json.dumps(api)) == ["2001.08361"]
    assert arxiv_ids_in(json.dumps({"items": [ZOTERO_CSL[0]]})) == ["1706.03762"]


def test_json_that_is_no_reference_list_is_read_as_a_paste() -> None:
    assert arxiv_ids_in('["2401.00001", "arXiv:2402.00002"]') == ["2401.00001", "2402.00002"]


JUNK = [
    "", " ", "\x00" * 50, "@@@", "@misc{", "@misc{x, title = {unclosed", "{", "[1, 2", "[[[[" * 5000, "{}" * 100,
    "TY  - \nER", "TY  - JOUR\nUR  - \n", "TY  - JOUR\n" * 1000, "\ufeff", "null", "[null, 1, \"x\", {}]",
    '{"items": 5}', '[{"URL": 5, "DOI": null, "number": ["arXiv:2401.00001", 3]}]', "%" * 10_000,
    "arXiv:" * 1000, "https://arxiv.org/abs/" * 1000, "\ud800", "<?xml version='1.0'?><rdf:RDF/>",
]  # fmt: skip


@pytest.mark.parametrize("junk", JUNK)
def test_junk_never_raises(junk: str) -> None:
    found = arxiv_ids_in(junk)
    assert isinstance(found, list)
    assert found == (["2401.00001"] if "2401.00001" in junk else [])


def test_not_text_gives_nothing() -> None:
    assert arxiv_ids_in(None) == []  # type: ignore[arg-type]
    assert arxiv_ids_in(b"2401.00001") == []  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_never_raises(text: str) -> None:
    assert isinstance(arxiv_ids_in(text), list)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='@{}=,"\\ \nTY -ER[]:arXiv0123456789./abcmisc', max_size=200))
def test_format_shaped_junk_never_raises(text: str) -> None:
    assert isinstance(arxiv_ids_in(text), list)


def test_input_and_output_are_bounded() -> None:
    many = " ".join(f"2401.{n:05d}" for n in range(1, 9000))
    found = arxiv_ids_in(many)
    assert len(found) == references.MAX_IDS and found[0] == "2401.00001"
    late = "x" * references.MAX_TEXT + " 2401.00001"
    assert arxiv_ids_in(late) == []


# -- writing ---------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return tex_to_text(display_text(text))


def test_bibtex_parses_back_with_bibtexparser() -> None:
    papers = real_papers()
    text = bibtex(papers)
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks
    assert len(library.entries) == len(papers)
    assert len({e.key for e in library.entries}) == len(papers)
    for entry, paper in zip(library.entries, papers, strict=True):
        f = {k.lower(): v.value for k, v in entry.fields_dict.items()}
        assert entry.entry_type == "misc"
        assert (f["eprint"], f["archiveprefix"], f["primaryclass"]) == (paper.arxiv_id, "arXiv", paper.categories[0])
        assert f["title"].replace("ˆ", "^") == " ".join(_plain(paper.title).split())
        assert f["author"].count(" and ") == len(paper.authors) - 1
    assert arxiv_ids_in(text) == [p.arxiv_id for p in papers]


def test_bibtex_escapes_latex_specials_and_keeps_braces_balanced() -> None:
    odd = Paper("2401.00001", "100% of #1 & {x}_y ~ $\\alpha$ Café", "a", ("Jörg Müller", "The ATLAS Collaboration"),
                ("hep-th",), journal_ref="J. Phys. A & B 1 (2024)")  # fmt: skip
    text = bibtex([odd])
    assert "100\\% of \\#1 \\& x\\_y" in text
    assert "{The ATLAS Collaboration}" in text and 'M\\"uller, J\\"org' in text
    assert text.count("{") == text.count("}")
    entry = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()]).entries[0]
    assert entry.fields_dict["title"].value == "100% of #1 & x_y ~ α Café"
    assert entry.fields_dict["note"].value == "J. Phys. A & B 1 (2024)"


def test_citation_keys_are_readable_unique_and_stable() -> None:
    a = Paper("2401.00002", "The Transformer", "", ("Ana Smith",), ("cs.CL",))
    b = Paper("2401.00001", "Transformer again", "", ("Bo Smith",), ("cs.CL",))
    c = Paper("2402.00003", "On Élan: a study", "", ("José Ñúñez",), ("cs.CL",))
    d = Paper("2402.00004", "Transformers", "", ("Smith",), ("cs.CL",))
    assert citation_keys([a, b, c, d]) == ["smith2024transformerb", "smith2024transformera", "nunez2024elan",
                                           "smith2024transformers"]  # fmt: skip
    assert citation_keys([b, a]) == ["smith2024transformera", "smith2024transformerb"]
    twins = [Paper(f"2401.0000{n}", "Same", "", ("X Y",), ("cs.CL",)) for n in range(1, 4)]
    assert citation_keys(twins[::-1]) == ["y2024samec", "y2024sameb", "y2024samea"]
    assert citation_keys([Paper("2401.00001", "", "")]) == ["anon2024paper"]


def test_names_split_for_reference_managers() -> None:
    assert name_of("Jan van der Berg") == ("Jan", "van der Berg", "")
    assert name_of("John Smith Jr.") == ("John", "Smith", "Jr.")
    assert name_of("The ATLAS Collaboration") == ("", "The ATLAS Collaboration", "")
    assert name_of("Plato") == ("", "Plato", "")
    assert name_of("C. -P. Yuan") == ("C. -P.", "Yuan", "")


def test_ris_parses_back_with_rispy() -> None:
    papers = real_papers()
    text = ris(papers)
    records = rispy.loads(text)
    assert len(records) == len(papers)
    for record, paper in zip(records, papers, strict=True):
        assert record["title"] == " ".join(_plain(paper.title).split())
        assert len(record["authors"]) == len(paper.authors)
        assert record["urls"] == [f"https://arxiv.org/abs/{paper.arxiv_id}"]
        assert record["doi"] == f"10.48550/arXiv.{paper.arxiv_id}"
        assert "\n" not in record.get("abstract", "")
    assert arxiv_ids_in(text) == [p.arxiv_id for p in papers]
    assert not any(line.rstrip(".").isdigit() for line in text.splitlines())


def test_csl_json_shape_and_round_trip() -> None:
    papers = real_papers()
    items = json.loads(csl_json(papers))
    assert len(items) == len(papers) and len({i["id"] for i in items}) == len(papers)
    for item, paper in zip(items, papers, strict=True):
        assert item["type"] == "article" and item["number"] == f"arXiv:{paper.arxiv_id}"
        assert item["title"] == _plain(paper.title)
        assert len(item["author"]) == len(paper.authors)
        assert all(("family" in a and "given" in a) or "literal" in a for a in item["author"])
        assert item["issued"]["date-parts"][0][0] == paper.published.year
    assert arxiv_ids_in(csl_json(papers)) == [p.arxiv_id for p in papers]


def test_writers_take_each_paper_once_and_nothing_gives_empty() -> None:
    paper = real_papers()[0]
    assert bibtex([paper, paper]).count("@misc{") == 1
    assert len(rispy.loads(ris([paper, paper]))) == 1
    assert len(json.loads(csl_json([paper, paper]))) == 1
    assert (bibtex([]), ris([]), json.loads(csl_json([]))) == ("", "", [])
    assert display_title(paper.title)
