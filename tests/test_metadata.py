import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from broadsheet.ingest import metadata
from broadsheet.models import Paper


def test_categories_keep_primary_first_and_move_class_codes_out() -> None:
    cats = metadata.split_categories(["cs.CL", "cs.AI", "I.2.7; H.3.3", "68T50, 68T07", "cs.CL"])
    assert cats == metadata.Categories(("cs.CL", "cs.AI"), "I.2.7; H.3.3", "68T50, 68T07")
    assert metadata.split_categories(["math.AP hep-th math-ph"]).arxiv == ("math.AP", "hep-th", "math-ph")


def test_authors_from_arxiv_strings_in_order_with_tex_accents_decoded() -> None:
    names = metadata.split_authors("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky and C.-P. Yuan")
    assert names == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert metadata.split_authors("A. Gould (Ohio State), B. S. Gaudi\n  (CfA)") == ("A. Gould", "B. S. Gaudi")
    assert metadata.join_name(["Balázs", "C.", ""]) == "C. Balázs"
    assert metadata.decode_tex('M{\\"u}ller and Fran\\c{c}ois') == "Müller and François"


def test_display_text_joins_hard_breaks_and_keeps_paragraphs() -> None:
    raw = "  We introduce a novel\nconstruction.\n  In particular, we\npresent classes.\n"
    assert metadata.display_text(raw) == "We introduce a novel construction.\n\nIn particular, we present classes."
    assert metadata.display_title("Calculation of prompt\n  LHC energies") == "Calculation of prompt LHC energies"


def test_timestamps_from_iso_and_rfc2822() -> None:
    assert metadata.parse_timestamp("Mon, 2 Apr 2007 19:18:42 GMT") == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert metadata.parse_timestamp("2026-08-20T00:00:00.000Z") == datetime(2026, 8, 20, tzinfo=UTC)
    assert metadata.parse_timestamp(None) is None


def test_links_found_in_abstract_and_comment() -> None:
    links = metadata.find_links(
        "Code: https://github.com/google-research/envharness.git.", "Project page: https://envharness.com/."
    )
    assert links == metadata.Links("https://github.com/google-research/envharness", "https://envharness.com/")
    assert metadata.find_links("see https://gitlab.com/a/b/-/tree/main").code_url == "https://gitlab.com/a/b"
    assert metadata.find_links("demo at https://x.github.io/proj").project_url == "https://x.github.io/proj"
    assert metadata.find_links("data at https://example.org/data.zip") == metadata.Links(None, None)
    assert metadata.find_links("https://github.com/orgs/x") == metadata.Links(None, None)


def test_withdrawn_detection() -> None:
    assert metadata.is_withdrawn("This paper has been withdrawn by the author due to an error")
    assert metadata.is_withdrawn("Withdrawn: duplicate of 2401.00001")
    assert not metadata.is_withdrawn("We study withdrawn papers", "12 pages")


def test_xml_safe_drops_only_what_xml_forbids() -> None:
    kept = "tab\tnewline\nreturn\r astral 😀 𠜎 bidi \u202e\u200f DEL\x7f C1\x85 \ufffd"
    assert metadata.xml_safe(kept) == kept
    assert metadata.xml_safe("a\x00b\x01c\x08d\x0be\x0cf\x1fg\ud800h\udfffi\ufffej\uffff") == "abcdefghij"


def test_clean_paper_cleans_every_text_field() -> None:
    dirty = Paper("2608.00001", "Ti\x01tle", "Abs\x08tract", ("A\x00uthor", "B"), ("cs.CL",), comment="c\x1f",
                  journal_ref="j\x0b", doi="d\ufffe", license="l\x02", acm_class="I.2\x03", msc_class="68\x04",
                  code_url="https://github.com/a/b\x05", project_url="https://x.org\x06")  # fmt: skip
    clean = metadata.clean_paper(dirty)
    assert clean == Paper("2608.00001", "Title", "Abstract", ("Author", "B"), ("cs.CL",), comment="c",
                          journal_ref="j", doi="d", license="l", acm_class="I.2", msc_class="68",
                          code_url="https://github.com/a/b", project_url="https://x.org")  # fmt: skip
    for field in dataclasses.fields(Paper):
        value = getattr(clean, field.name)
        for text in value if isinstance(value, tuple) else [value]:
            assert not isinstance(text, str) or metadata.xml_safe(text) == text, field.name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "t" * 1_001}, "field 'title' is too long (1,001 characters; at most 1,000)"),
        ({"abstract": "a" * 20_001}, "field 'abstract' is too long"),
        ({"comment": "c" * 5_001}, "field 'comment' is too long"),
        ({"doi": "d" * 2_001}, "field 'doi' is too long"),
        ({"authors": ("n" * 1_001,)}, "an author's name is too long"),
        ({"authors": ("A",) * 10_001}, "10,001 names"),
        ({"categories": ("cs.CL",) * 101}, "101 entries"),
        ({"version": 10_001}, "version 10001 is out of range"),
        ({"version": 0}, "version 0 is out of range"),
        ({"title": "\x01\x02 "}, "title' is empty"),
    ],
)
def test_clean_paper_refuses_sizes_no_real_record_has(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(metadata.OutOfBounds, match=re.escape(message)):
        metadata.clean_paper(dataclasses.replace(Paper("2608.00001", "Title", "Abstract"), **changes))
    at_limits = Paper("2608.00001", "t" * 1_000, "a" * 20_000, ("n" * 1_000,) * 10_000, version=10_000)
    assert metadata.clean_paper(at_limits) == at_limits


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1066-10-14T09:00:00Z"])
def test_timestamps_out_of_range_are_a_value_error_not_an_overflow(stamp: str) -> None:
    with pytest.raises(ValueError, match="not between 1900 and 2999"):
        metadata.parse_timestamp(stamp)


def _demo_abstract(arxiv_id: str) -> str:
    import gzip
    import json

    from broadsheet import demo

    with gzip.open(demo.HERE / "arxiv.jsonl.gz", "rt") as lines:
        return next(json.loads(line)["abstract"] for line in lines if f'"{arxiv_id}"' in line)


def test_tex_to_text_renders_a_real_demo_abstract_percent_and_math() -> None:
    abstract = _demo_abstract("2606.22540")  # PolicyTrim: "51.4\%", "3$\times$"
    assert "51.4\\%" in abstract and "3$\\times$" in abstract
    text = metadata.tex_to_text(metadata.display_text(abstract))
    assert "51.4%" in text and "3×" in text and "\\" not in text and "$" not in text
    parts = metadata.tex_parts("by 3$\\times$ and $\\alpha$")
    assert parts == (("by 3", False), ("×", True), (" and ", False), ("α", True))


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("accuracy of 22.3\\% with $\\alpha$ and $x^2$", "accuracy of 22.3% with α and x^2"),
        (
            "Bal\\'azs G{\\\"o}del, \\textbf{bold} \\emph{it} \\ours{} wins \\cite{x}.",
            "Balázs Gödel, bold it ours wins.",
        ),
        ("100% of a & b, ~88% at Stage~2", "100% of a & b, ~88% at Stage\xa02"),  # plain text stays plain
        ("It costs $5 and $10 per hour, or $3.50.", "It costs $5 and $10 per hour, or $3.50."),
        ("$3 \\times 3$ and a $2$-approximation", "3 × 3 and a 2-approximation"),
        (
            "see https://x.org/a_b~c%20d and arXiv:2401.01234, hep-th/9901001",
            "see https://x.org/a_b~c%20d and arXiv:2401.01234, hep-th/9901001",
        ),
        (
            "code at \\url{https://github.com/a/b} (\\href{https://x.org}{site})",
            "code at https://github.com/a/b (site (https://x.org))",
        ),
        ("unclosed $x and {brace", "unclosed x and brace"),
        ("one\n\ntwo  $x$", "one\n\ntwo x"),
        ("<b>not</b> $<i>$ markup", "<b>not</b> <i> markup"),  # text, escaped by whoever renders it
        ("", ""),
    ],
)
def test_tex_to_text_reads_text_mode_and_keeps_plain_text_sane(tex: str, text: str) -> None:
    assert metadata.tex_to_text(tex) == text
