import gzip
import html
import json
from typing import Any

import feedparser
import pytest
from conftest import FIXTURES
from fastapi.testclient import TestClient

REAL_DAY = json.loads(gzip.decompress((FIXTURES / "hf" / "2026-08-21.json.gz").read_bytes()))


def test_daily_papers_for_a_date_match_hugging_face_for_that_date(client: TestClient) -> None:
    r = client.get("/api/daily_papers", params={"date": "2026-08-21", "limit": 100})
    assert r.status_code == 200
    ours = {item["paper"]["id"]: item for item in r.json()}
    assert set(ours) == {item["paper"]["id"] for item in REAL_DAY}
    for real in REAL_DAY:
        mine = ours[real["paper"]["id"]]
        assert mine["paper"]["upvotes"] == real["paper"]["upvotes"]
        assert [a["name"] for a in mine["paper"]["authors"]] == [a["name"] for a in real["paper"]["authors"]]


def test_items_have_hugging_face_field_names_and_types(client: TestClient) -> None:
    item = client.get("/api/daily_papers", params={"date": "2026-08-21", "limit": 1}).json()[0]
    real = REAL_DAY[0]
    for key in ("paper", "publishedAt", "title", "summary", "numComments", "isAuthorParticipating"):
        assert type(item[key]) is type(real[key]), key
    for key in ("id", "authors", "publishedAt", "submittedOnDailyAt", "title", "summary", "upvotes"):
        assert type(item["paper"][key]) is type(real["paper"][key]), key
    assert set(item["paper"]["authors"][0]) >= {"_id", "name", "hidden"}
    assert item["publishedAt"].endswith("Z") and item["paper"]["publishedAt"][10] == "T"


def test_default_listing_pages_with_a_link_header(client: TestClient) -> None:
    first = client.get("/api/daily_papers", params={"limit": 7})
    assert len(first.json()) == 7
    link = first.headers["link"]
    assert 'rel="next"' in link and "p=1" in link
    second = client.get(link[1 : link.index(">")])
    assert len(second.json()) == 7
    assert not {i["paper"]["id"] for i in first.json()} & {i["paper"]["id"] for i in second.json()}
    added = [i["publishedAt"] for i in first.json() + second.json()]
    assert added == sorted(added, reverse=True)


def test_week_month_submitter_and_trending(client: TestClient) -> None:
    week = client.get("/api/daily_papers", params={"week": "2026-W34", "limit": 100}).json()
    assert {i["paper"]["submittedOnDailyAt"][:10] for i in week} <= {f"2026-08-{d}" for d in range(17, 24)}
    assert len(week) > len(REAL_DAY)
    assert len(client.get("/api/daily_papers", params={"month": "2026-07", "limit": 100}).json()) == 100
    assert client.get("/api/daily_papers", params={"submitter": "nobody"}).json() == []
    trending = client.get("/api/daily_papers", params={"sort": "trending", "week": "2026-W34", "limit": 100}).json()
    scores = [i["trendingScore"] for i in trending]
    assert scores == sorted(scores, reverse=True) and len(scores) == len(week)
    assert trending[0]["paper"]["id"] == "2608.19880"  # the newest day's most upvoted paper


@pytest.mark.parametrize(
    "params",
    [{"date": "2026-13-01"}, {"date": "yesterday"}, {"week": "2026-34"}, {"month": "2026-8"}, {"limit": 0},
     {"limit": 101}, {"p": -1}, {"p": "x"}, {"sort": "votes"}, {"date": "2026-08-21", "week": "2026-W34"},
     {"date": "' OR 1=1 --"}, {"submitter": "x" * 500}],
)  # fmt: skip
def test_bad_parameters_are_400_with_a_message(client: TestClient, params: dict[str, object]) -> None:
    r = client.get("/api/daily_papers", params=params)
    assert r.status_code == 400
    assert r.json()["error"]


def test_paper_by_id_in_every_form(client: TestClient) -> None:
    paper = client.get("/api/papers/2608.19880").json()
    assert paper["id"] == "2608.19880" and paper["upvotes"] == 163 and paper["title"].startswith("EnvHarness")
    assert client.get("/api/papers/2608.19880v2").json()["id"] == "2608.19880"
    assert client.get("/api/papers/2606.23679").json()["categories"][0] == "cs.CV"
    missing = client.get("/api/papers/2101.00001")
    assert missing.status_code == 404 and "not indexed" in missing.json()["error"]
    assert client.get("/api/papers/hep-th/9901001").status_code == 404
    bad = client.get("/api/papers/not-a-paper")
    assert bad.status_code == 400 and "arXiv id" in bad.json()["error"]


def test_all_papers_cursor_paging_reaches_every_paper_once(client: TestClient, demo_store) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    url: str | None = "/api/papers?limit=100"
    while url:
        r = client.get(url)
        assert r.status_code == 200
        seen += [p["id"] for p in r.json()]
        link = r.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert len(seen) == len(set(seen)) == demo_store.papers.count()
    assert client.get("/api/papers", params={"cursor": "garbage!"}).status_code == 400


def test_search_with_highlights_and_hostile_queries(client: TestClient, demo_store) -> None:  # type: ignore[no-untyped-def]
    hits = client.get("/api/papers/search", params={"q": "video generation", "limit": 5}).json()
    assert len(hits) == 5
    for hit in hits:
        marked = [
            s["text"].lower() for s in hit["highlightedTitle"] + hit["highlightedSummary"] if s["type"] == "highlight"
        ]
        assert any("video" in m or "generat" in m for m in marked)
        assert "".join(s["text"] for s in hit["highlightedTitle"]) == hit["title"]
    assert client.get("/api/papers/search", params={"q": "2608.19880"}).json()[0]["paper"]["id"] == "2608.19880"
    count = demo_store.papers.count()
    for q in ["'; DROP TABLE papers; --", '"unbalanced', "NEAR(a b)", "title:x*", "a AND OR NOT", "%_\\"]:
        assert client.get("/api/papers/search", params={"q": q}).status_code == 200, q
    assert demo_store.papers.count() == count
    for q in ["", "   ", "x" * 251, "!!! ???"]:
        r = client.get("/api/papers/search", params={"q": q})
        assert r.status_code == 400 and r.json()["error"], q


def test_openapi_and_unknown_api_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers", "/api/papers/search"} <= set(spec["paths"])
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]


def response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def test_openapi_documents_every_field_the_api_sends(client: TestClient) -> None:
    """The /api routes answer with typed shapes: each field sent is in the document, none sent as null."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert response_schema(spec, "/api/daily_papers")["items"]["$ref"].endswith("/DailyItemJson")
    assert response_schema(spec, "/api/papers/search")["items"]["$ref"].endswith("/SearchItemJson")
    assert response_schema(spec, "/api/papers/{paper_id}")["$ref"].endswith("/PaperJson")
    item = client.get("/api/daily_papers", params={"sort": "trending", "limit": 1}).json()[0]
    found = client.get("/api/papers/search", params={"q": "video generation", "limit": 1}).json()[0]
    for sent, name in [(item, "DailyItemJson"), (item["paper"], "PaperJson"), (item["trending"], "TrendingJson"),
                       (item["paper"]["authors"][0], "AuthorJson"), (found, "SearchItemJson")]:  # fmt: skip
        assert set(sent) <= set(schemas[name]["properties"]), (name, set(sent) - set(schemas[name]["properties"]))
        assert None not in sent.values(), name
    assert "null" not in json.dumps(schemas["PaperJson"])  # absent, never null: as Hugging Face does
    assert {"from", "to", "category", "daily", "has_code", "sort", "mode"} <= {
        p["name"] for p in spec["paths"]["/api/papers/search"]["get"]["parameters"]
    }


def test_trending_items_explain_their_score(client: TestClient) -> None:
    items = client.get("/api/daily_papers", params={"sort": "trending", "week": "2026-W34", "limit": 3}).json()
    for item in items:
        why = item["trending"]
        assert why["score"] == item["trendingScore"] and why["upvotes"] == item["paper"]["upvotes"]
        assert abs(sum(why["components"].values()) - why["score"]) < 1e-12 and why["ageHours"] >= 0
    assert "trending" not in client.get("/api/daily_papers", params={"limit": 1}).json()[0]


def test_search_filters_and_sort_are_one_model_for_api_page_and_feed(client: TestClient) -> None:
    params = {"q": "robot", "category": "cs.RO", "from": "2026-06-01", "to": "2026-08-31", "sort": "newest"}
    hits = client.get("/api/papers/search", params=params).json()
    assert hits and all("cs.RO" in h["paper"]["categories"] for h in hits)
    assert all("2026-06-01" <= h["paper"]["publishedAt"][:10] <= "2026-08-31" for h in hits)
    stamps = [h["paper"]["publishedAt"] for h in hits]
    assert stamps == sorted(stamps, reverse=True)
    for url in ("/api/papers/search", "/search", "/feeds/search.atom"):
        bad = client.get(url, params={"q": "robot", "from": "2026-08-31", "to": "2026-06-01"})
        assert bad.status_code == 400 and "before the 'from' date" in html.unescape(bad.text), url
    feed = feedparser.parse(client.get("/feeds/search.atom", params=params).content)
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [h["paper"]["id"] for h in hits]
