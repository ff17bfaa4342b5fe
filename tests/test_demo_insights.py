"""The shipped demo carries a summary and keywords for every demo paper, curated or not (`make run` shows them)."""

from __future__ import annotations

import gzip
import json

from broadsheet import demo, insights


def test_every_demo_paper_has_a_summary_and_keywords() -> None:
    path = demo.insights_file()
    assert path.exists(), "build it: python scripts/build_demo.py --insights-only"
    shipped = dict(demo.read_insights(path))
    with gzip.open(demo.FILES[1], "rt", encoding="utf-8") as lines:
        curated = {json.loads(line)["item"]["paper"]["id"] for line in lines}
    with gzip.open(demo.FILES[0], "rt", encoding="utf-8") as lines:
        listed = {json.loads(line)["id"] for line in lines}
    assert len(curated) > 1000 and len(listed) > 2000
    assert curated | listed <= shipped.keys()
    for arxiv_id in curated | listed:
        found = shipped[arxiv_id]
        assert found.summary.strip(), arxiv_id
        assert insights.MIN_KEYWORDS <= len(found.keywords) <= insights.MAX_KEYWORDS, arxiv_id
