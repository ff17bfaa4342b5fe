from datetime import UTC, datetime

from broadsheet import metadata


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
