import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadsheet import ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.01234", ("2401.01234", None)),
        ("2401.01234v3", ("2401.01234", 3)),
        ("  arXiv:2401.01234v3 ", ("2401.01234", 3)),
        ("0704.0001", ("0704.0001", None)),
        ("https://arxiv.org/abs/2401.01234v2", ("2401.01234", 2)),
        ("http://export.arxiv.org/abs/2401.01234", ("2401.01234", None)),
        ("https://arxiv.org/pdf/2401.01234v2.pdf", ("2401.01234", 2)),
        ("arxiv.org/pdf/2401.01234", ("2401.01234", None)),
        ("https://huggingface.co/papers/2608.19880", ("2608.19880", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("https://arxiv.org/abs/cond-mat/0102536v1", ("cond-mat/0102536", 1)),
        ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
    ],
)
def test_parse_accepts_every_form_people_paste(text: str, expected: tuple[str, int | None]) -> None:
    assert ids.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "abc", "2401.123", "2413.01234", "2401.01234v0", "2401.012345678", "hep-th/99010", "' OR 1=1 --",
     "2401.01234; DROP TABLE papers", "x" * 500, "https://example.com/abs/2401.01234"],
)  # fmt: skip
def test_parse_rejects_non_ids_with_a_message(text: str) -> None:
    with pytest.raises(ids.InvalidArxivId, match="arXiv id"):
        ids.parse(text)


@given(
    yymm=st.integers(min_value=7, max_value=99).flatmap(
        lambda yy: st.integers(min_value=1, max_value=12).map(lambda mm: f"{yy:02d}{mm:02d}")
    ),
    number=st.integers(min_value=0, max_value=99999),
    version=st.none() | st.integers(min_value=1, max_value=99),
)
def test_str_round_trips(yymm: str, number: int, version: int | None) -> None:
    arxiv_id = ids.ArxivId(f"{yymm}.{number:05d}", version)
    assert ids.parse(str(arxiv_id)) == arxiv_id
    assert ids.parse(f"https://arxiv.org/abs/{arxiv_id}") == arxiv_id
