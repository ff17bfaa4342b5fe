import re
from pathlib import Path

from conftest import make_settings
from fastapi.testclient import TestClient
from sqlalchemy import event

from broadsheet.config import Settings
from broadsheet.models import Paper
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.web import create_app


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-paper="([^"]+)"', html)


def test_home_shows_the_latest_day_most_upvoted_first(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "Friday, 21 August 2026" in r.text
    ids = cards(r.text)
    assert ids[0] == "2608.19880" and len(ids) == 17
    api = client.get("/api/daily_papers", params={"date": "2026-08-21"}).json()
    votes = {i["paper"]["id"]: i["paper"]["upvotes"] for i in api}
    assert [votes[i] for i in ids] == sorted(votes.values(), reverse=True)
    assert len(cards(client.get("/papers").text)) == 17


def test_period_pages_navigate_and_explain_empty_and_future_days(client: TestClient) -> None:
    week = client.get("/papers/week/2026-W34")
    assert week.status_code == 200 and 'rel="prev" href="/papers/week/2026-W33"' in week.text
    month = client.get("/papers/month/2026-07")
    assert 'rel="next" href="/papers/month/2026-08"' in month.text and "Page 1 of" in month.text
    assert cards(client.get("/papers/month/2026-07?p=1").text) != cards(month.text)
    saturday = client.get("/papers/date/2026-08-22")
    assert saturday.status_code == 200 and "No papers were listed on Saturday, 22 August 2026" in saturday.text
    assert 'href="/papers/date/2026-08-21"' in saturday.text
    future = client.get("/papers/date/2099-01-01")
    assert "is in the future" in future.text and 'href="/papers/date/2026-08-21"' in future.text
    bad = client.get("/papers/date/2026-02-30")
    assert bad.status_code == 400 and "invalid date" in bad.text
    assert client.get("/papers/week/2026-W60").status_code == 400


def test_list_pages_also_serve_json(client: TestClient) -> None:
    data = client.get("/papers/date/2026-08-21.json").json()
    assert data["period"]["label"] == "2026-08-21" and data["previous"] == "2026-08-20" and data["total"] == 17
    assert data["dailyPapers"][0]["paper"]["id"] == "2608.19880"


def test_paper_page_shows_everything_and_matches_its_json(client: TestClient) -> None:
    r = client.get("/papers/2608.19880")
    assert r.status_code == 200
    for text in ("EnvHarness: Awakening Static Worlds", "Chen-Yu Lee", "https://arxiv.org/abs/2608.19880",
                 "https://arxiv.org/pdf/2608.19880", "163", "Daily Papers · 21 Aug 2026"):  # fmt: skip
        assert text in r.text, text
    assert client.get("/papers/2608.19880.json").json() == client.get("/api/papers/2608.19880").json()
    redirect = client.get("/papers/2608.19880v1", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == "/papers/2608.19880"
    assert client.get("/papers/2101.00001").status_code == 404
    bad = client.get("/papers/<script>")
    assert bad.status_code == 400 and "<script>" not in bad.text
    assert client.get("/no/such/page").status_code == 404


def test_search_page_highlights_and_handles_bad_queries(client: TestClient) -> None:
    r = client.get("/search", params={"q": "diffusion transformer"})
    assert r.status_code == 200 and "<mark>" in r.text and len(cards(r.text)) == 50
    assert "Next" in r.text
    assert client.get("/search", params={"q": "x" * 300}).status_code == 400
    assert client.get("/search").status_code == 200


def test_untrusted_metadata_is_escaped_and_bad_links_are_inert(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = Store.open(settings.db_url)
    store.migrate()
    evil = Paper(
        "2401.00001",
        "<script>alert(1)</script> $x<y$",
        "<img src=x onerror=alert(1)>",
        ("<b>Eve</b>",),
        ("cs.LG",),
        code_url="javascript:alert(1)",
        license="javascript:alert(2)",
    )
    store.papers.upsert([evil])
    page = TestClient(create_app(settings, store)).get("/papers/2401.00001").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Eve" not in page
    assert "&lt;script&gt;" in page and 'href="javascript:' not in page
    headers = TestClient(create_app(settings, store)).get("/").headers
    assert (
        "script-src" not in headers["content-security-policy"]
        and "default-src 'self'" in headers["content-security-policy"]
    )
    assert headers["x-content-type-options"] == "nosniff"
    store.close()


def test_paper_page_renders_tex_as_text_and_math_spans_escaped(client: TestClient, tmp_path: Path) -> None:
    page = client.get("/papers/2606.22540").text  # a demo abstract with "51.4\%" and "3$\times$"
    assert "51.4%" in page and '3<span class="math">×</span>' in page
    assert "\\%" not in page and "$\\times$" not in page
    settings = make_settings(tmp_path)
    store = Store.open(settings.db_url)
    store.migrate()
    store.papers.upsert([Paper("2401.00002", "Bounds on $x<y$ \\& 5\\%", "We show $a<b>c$ holds.", ("A",), ("cs.LG",))])
    own = TestClient(create_app(settings, store)).get("/papers/2401.00002").text
    assert '<span class="math">x&lt;y</span> &amp; 5%' in own and "<title>Bounds on x&lt;y &amp; 5% ·" in own
    assert '<span class="math">a&lt;b&gt;c</span>' in own and "<b>" not in own
    store.close()


def test_a_paper_page_looks_its_paper_up_once(demo_settings: Settings, demo_store: Store, engine: Engine) -> None:
    """The view carries its row id, so neither the page nor its JSON asks the store for it again (issue 14)."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    client = TestClient(create_app(demo_settings, demo_store, engine))  # a page cache of its own: pages render
    event.listen(demo_store.db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/papers/2608.19880").status_code == 200
        page = len(statements)
        assert client.get("/papers/2608.19880.json").status_code == 200
    finally:
        event.remove(demo_store.db.engine, "before_cursor_execute", record)
    lookups = [s for s in statements if s.startswith("SELECT papers.id FROM papers WHERE papers.arxiv_id =")]
    assert len(lookups) == 1, lookups  # Engine.similar's own (search.py); was 3 with the page's and the JSON's
    print(f"paper page: {page} statements; its JSON: {len(statements) - page}")
