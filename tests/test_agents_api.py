"""What agents and scripts use: a paper as Markdown, Hugging Face's PaperInfo fields, and comments over the API."""

from __future__ import annotations

import time
from datetime import date

from community_site import PASSWORD, Site
from conftest import FIXTURES, serving
from fastapi.testclient import TestClient
from huggingface_hub import HfApi
from recorded_server import Reply

from broadsheet.community import accounts, collections
from broadsheet.ingest.metadata import display_text

PAPER = "2608.19880"  # on the demo's 2026-08-21
OTHER = "2606.19617"  # in the demo corpus, not in its daily feed


def test_a_paper_as_markdown_with_links_and_abstract(site: Site) -> None:
    guest = site.guest()
    response = guest.get(f"/papers/{PAPER}.md")
    assert response.status_code == 200 and response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    view = site.store.papers.get(PAPER)
    assert view is not None
    assert text.startswith("# EnvHarness") and f"**Authors:** {', '.join(view.paper.authors)}" in text
    assert f"- arXiv: https://arxiv.org/abs/{PAPER}" in text and f"- PDF: https://arxiv.org/pdf/{PAPER}" in text
    assert f"- Discussion: {site.settings.public_url}/papers/{PAPER}" in text
    assert display_text(view.paper.abstract) in text and "full text is not available here yet" in text
    moved = guest.get(f"/papers/arXiv:{PAPER}v2.md", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == f"/papers/{PAPER}.md"
    assert guest.get("/papers/2101.00001.md").status_code == 404
    assert guest.get("/papers/not-an-id.md").status_code == 400
    assert guest.get(f"/papers/{PAPER}.json").json()["id"] == PAPER  # the other formats are untouched
    assert guest.get(f"/papers/{PAPER}").status_code == 200


def test_paper_info_has_the_submitter_links_and_discussion_id(site: Site, live: str) -> None:
    ada = accounts.sign_up(site.store, "ada", None, PASSWORD)
    row_id = site.store.papers.id_of(OTHER)
    assert row_id is not None and site.store.papers.get(OTHER).day is None  # type: ignore[union-attr]
    site.store.community.submit(row_id, ada.id, date.today(), "worth a read", daily_cap=5)
    site.store.community.set_links(row_id, code_url="https://github.com/ada/env", project_url="https://ada.github.io")
    client = HfApi(endpoint=live, token=False)
    info = client.paper_info(OTHER)
    assert info.submitted_by is not None and info.submitted_by.username == "ada"
    assert info.submitted_at is not None and info.discussion_id == OTHER
    assert (info.github_repo, info.project_page) == ("https://github.com/ada/env", "https://ada.github.io")
    assert info.organization is None and info.github_stars is None  # not known here: absent, never invented
    plain = client.paper_info(PAPER)
    assert plain.discussion_id == PAPER and plain.submitted_by is None and plain.github_repo is None
    assert client.read_paper(OTHER).count("https://github.com/ada/env") == 1


def test_comments_api_pages_edits_and_deletes_with_the_pages_rules(site: Site) -> None:
    kim, lee, mod, guest = site.member("kim"), site.member("lee"), site.member("mod", admin=True), site.guest()
    url = f"/api/papers/{PAPER}/comments"
    made = [kim.post(url, json={"body": f"Point **{i}**"}).json() for i in range(5)]
    reply = lee.post(url, json={"body": "Reply", "parentId": made[0]["id"]}).json()
    assert reply["parentId"] == made[0]["id"] and reply["author"]["user"] == "lee"
    first = kim.get(url, params={"limit": 2})
    assert [c["id"] for c in first.json()] == [made[0]["id"], made[1]["id"]]
    assert first.headers["link"] == f'<{site.settings.public_url}{url}?limit=2&p=1>; rel="next"'
    last = kim.get(url, params={"limit": 2, "p": 2})
    assert [c["id"] for c in last.json()] == [made[4]["id"], reply["id"]] and "link" not in last.headers
    assert set(first.json()[0]) == {"id", "author", "parentId", "body", "html", "createdAt", "editedAt",
                                    "deleted", "hidden"}  # fmt: skip

    one = f"/api/comments/{made[1]['id']}"
    edited = kim.patch(one, json={"body": "Better <script>alert(1)</script> [x](https://example.org)"})
    assert edited.status_code == 200 and edited.json()["editedAt"] is not None
    assert "<script>" not in edited.json()["html"] and 'rel="nofollow noopener ugc"' in edited.json()["html"]
    assert lee.patch(one, json={"body": "hijacked"}).status_code == 403
    assert kim.patch(one, json={"body": "   "}).status_code == 400
    assert guest.patch(one, json={"body": "anonymous"}).status_code == 401
    assert kim.patch(one, json={"body": "no token"}, headers={"X-CSRF-Token": ""}).status_code == 403
    assert lee.delete(one).status_code == 403
    assert kim.delete(one).status_code == 204
    assert mod.delete(f"/api/comments/{made[2]['id']}").status_code == 204  # admins may delete any comment
    assert kim.patch(one, json={"body": "again"}).status_code == 404 and kim.delete(one).status_code == 404
    assert kim.delete("/api/comments/0").status_code == 400 and kim.delete(f"/api/comments/{2**40}").status_code == 400
    thread = {c["id"]: c for c in guest.get(url, params={"limit": 100}).json()}
    assert thread[made[1]["id"]]["deleted"] and thread[made[1]["id"]]["body"] == thread[made[1]["id"]]["html"] == ""
    assert thread[made[2]["id"]]["deleted"] and thread[made[0]["id"]]["body"] == "Point **0**"

    assert mod.post(f"/comments/{made[3]['id']}/hide", data={"hidden": "true"}).status_code == 200
    assert made[3]["id"] not in {c["id"] for c in guest.get(url, params={"limit": 100}).json()}
    seen = {c["id"]: c for c in mod.get(url, params={"limit": 100}).json()}  # a moderator sees what was hidden
    assert seen[made[3]["id"]]["hidden"] and seen[made[3]["id"]]["body"] == "Point **3**"
    assert guest.get("/api/papers/2101.00001/comments").status_code == 404
    assert guest.get(url, params={"limit": 0}).status_code == 400


def test_comments_are_rate_limited_per_user_on_the_api_and_the_page_form(site: Site) -> None:
    spammer, neighbour = site.member("spammer"), site.member("neighbour")
    url = f"/api/papers/{PAPER}/comments"
    for i in range(30):  # 30 comments per user in 10 minutes
        assert spammer.post(url, json={"body": f"comment {i}"}).status_code == 201
    refused = spammer.post(url, json={"body": "one too many"})
    assert refused.status_code == 429 and "try again later" in refused.json()["error"]
    form = spammer.post(f"/papers/{PAPER}/comments", data={"body": "through the page"}, follow_redirects=False)
    assert form.status_code == 429 and "try again later" in form.text
    assert neighbour.post(url, json={"body": "not me"}).status_code == 201
    assert neighbour.post(f"/papers/{PAPER}/comments", data={"body": "page"}, follow_redirects=False).status_code == 303


def test_the_comment_routes_are_documented_with_their_fields(site: Site) -> None:
    document = site.guest().get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert {"patch", "delete"} <= set(paths["/api/comments/{comment_id}"])
    listing = paths["/api/papers/{paper_id}/comments"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"paper_id", "p", "limit"}
    assert "Link" in listing["responses"]["200"]["headers"]
    assert set(schemas["CommentJson"]["properties"]) == {"id", "author", "parentId", "body", "html", "createdAt",
                                                          "editedAt", "deleted", "hidden"}  # fmt: skip
    assert "_id" in schemas["UserJson"]["properties"]
    markdown = paths["/papers/{paper_id}.md"]["get"]  # documented, with its text/markdown answer
    assert "text/markdown" in markdown["responses"]["200"]["content"] and "read_paper" in markdown["description"]
    assert "/papers/{paper_id}" not in paths  # the HTML page is not part of the API


# -- the full text, from arXiv's HTML rendering (a reconstructed LaTeXML page served by the fake arXiv) --

ARXIV_PAGE = (FIXTURES / "arxiv" / "html" / "2608.19880.html").read_bytes()


def test_the_markdown_gets_the_full_text_once_the_worker_fetched_it(site: Site) -> None:
    site.arxiv.route(f"/html/{PAPER}", lambda q: Reply(body=ARXIV_PAGE))
    guest = TestClient(site.app_with(full_text=True))
    first = guest.get(f"/papers/{PAPER}.md")
    assert first.status_code == 200 and "being fetched from arXiv's HTML rendering" in first.text
    assert guest.get(f"/papers/{PAPER}.md").status_code == 200 and site.arxiv.requests(f"/html/{PAPER}") == []
    assert site.drain() == 1 and len(site.arxiv.requests(f"/html/{PAPER}")) == 1  # one job for both requests
    text = guest.get(f"/papers/{PAPER}.md").text
    assert text.startswith("# EnvHarness") and "## Abstract" in text
    full = text[text.index("## Full text") :]
    assert f"Converted from arXiv's HTML rendering, {site.arxiv.url}/html/{PAPER}" in full
    assert "### 1 Introduction" in full and "#### 2.1 Objective" in full and "### References" in full
    assert "$p_{t}$" in full and "**Figure 1:** Success rate over training" in full
    assert "Report issue" not in full and "Back to arXiv" not in full
    assert site.drain() == 0 and len(site.arxiv.requests(f"/html/{PAPER}")) == 1  # stored: never fetched again


def test_a_paper_without_html_on_arxiv_says_so(site: Site) -> None:
    guest = TestClient(site.app_with(full_text=True))
    assert "being fetched" in guest.get(f"/papers/{OTHER}.md").text  # the fake arXiv has no page for it: 404
    site.drain()
    assert "No full text: arXiv has no HTML rendering of this paper." in guest.get(f"/papers/{OTHER}.md").text


def test_read_paper_returns_the_full_text_after_the_worker_ran(site: Site) -> None:
    newest = [v.paper.arxiv_id for v in site.store.papers.newest(limit=20)[0]]
    arxiv_id = next(i for i in newest if i not in (PAPER, OTHER))
    site.arxiv.route(f"/html/{arxiv_id}", lambda q: Reply(body=ARXIV_PAGE))
    with serving(site.app_with(full_text=True)) as url:
        client = HfApi(endpoint=url, token=False)
        assert "being fetched" in client.read_paper(arxiv_id)  # queued; the server's worker thread fetches it
        deadline = time.monotonic() + 30
        text = client.read_paper(arxiv_id)
        while "### 1 Introduction" not in text and time.monotonic() < deadline:
            time.sleep(0.2)
            text = client.read_paper(arxiv_id)
    assert "### 1 Introduction" in text and "$$w_{i}=\\frac{p_{i}(1-p_{i})}{\\sum_{j}p_{j}(1-p_{j})}$$ (1)" in text
    assert text.startswith("# ") and "## Abstract" in text and len(site.arxiv.requests(f"/html/{arxiv_id}")) == 1


def test_the_readme_snippets_for_read_paper_and_save_to_collection_work(site: Site) -> None:
    """The "API and agents" section's Python, run as written against a live server (its address and token put in)."""
    readme = (FIXTURES.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### API and agents") :]
    section = section[: section.index("\n### ", 1)]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert len(blocks) == 3 and "read_paper" in blocks[1] and "save_to_collection" in blocks[2]
    user = accounts.sign_up(site.store, "readme-reader", None, PASSWORD)
    _, token = site.store.tokens.create(user.id, "readme", "write")
    site.arxiv.route(f"/html/{PAPER}", lambda q: Reply(body=ARXIV_PAGE))
    printed: list[str] = []
    namespace = {"print": lambda *a: printed.append(" ".join(map(str, a)))}  # one session: the blocks follow on
    with serving(site.app_with(full_text=True)) as url:
        for block in blocks:
            code = block.replace("http://127.0.0.1:8000", url).replace("bs_…", token)
            exec(compile(code, "README.md", "exec"), namespace)
    assert printed[0].startswith("# EnvHarness") and printed[1].startswith("## Full text")
    assert "### 1 Introduction" in printed[1] and "### References" in printed[1]
    assert printed[-1].startswith("{'collection': 'readme-reader/bookmarks-") and "'added': True" in printed[-1]
    marks = collections.bookmarks(site.store, user)
    assert {i.view.paper.arxiv_id for i in site.store.collections.items(marks.id)} == {PAPER}
