"""The real huggingface_hub client, pointed at our server, reads our data."""

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError


def test_huggingface_hub_client_works_unchanged(server: str) -> None:
    api = HfApi(endpoint=server, token=False)
    day = list(api.list_daily_papers(date="2026-08-21", limit=100))
    assert len(day) == 17
    top = max(day, key=lambda p: p.upvotes or 0)
    assert top.id == "2608.19880" and top.upvotes == 163
    assert top.submitted_at is not None and top.published_at is not None
    week = list(api.list_daily_papers(week="2026-W34", sort="trending", limit=5))
    assert len(week) == 5

    info = api.paper_info("2608.19880")
    assert info.title is not None and info.title.startswith("EnvHarness")
    assert info.authors is not None and info.authors[0].name == "Chengsong Huang"
    assert info.github_repo is None  # the demo corpus keeps only CC0 arXiv fields

    found = list(api.list_papers(query="video generation", limit=10))
    assert len(found) == 10 and all(p.id for p in found)
    assert len(list(api.list_papers(limit=3))) == 3

    with pytest.raises(HfHubHTTPError):
        api.paper_info("2101.00001")


def test_read_paper_gives_the_paper_as_markdown(server: str) -> None:
    """huggingface_hub's read_paper GETs /papers/{id}.md, which used to be refused (400: `.md` read as the id)."""
    text = HfApi(endpoint=server, token=False).read_paper("2608.19880")
    assert text.startswith("# EnvHarness") and "**Authors:** Chengsong Huang" in text
    assert "https://arxiv.org/abs/2608.19880" in text and "https://arxiv.org/pdf/2608.19880" in text
    assert "## Abstract" in text and "full text is not available here yet" in text
    with pytest.raises(HfHubHTTPError):
        HfApi(endpoint=server, token=False).read_paper("2101.00001")
