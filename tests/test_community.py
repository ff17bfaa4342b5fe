"""Accounts, submissions, upvotes, comments, links, profiles and moderation, through the real app."""

import re

from community_site import PASSWORD, Site, token
from fastapi.testclient import TestClient

from broadsheet.community import accounts

PAPER = "2608.19880"  # on the demo's 2026-08-21 with 163 imported upvotes


def upvotes(client: TestClient, arxiv_id: str = PAPER) -> int:
    return int(client.get(f"/api/papers/{arxiv_id}").json()["upvotes"])


def test_sign_up_log_in_log_out_and_change_password(site: Site) -> None:
    client = TestClient(site.app)
    before = token(client)
    bad = client.post("/signup", data={"username": "No Spaces!", "password": PASSWORD, "csrf_token": before})
    assert bad.status_code == 400 and "lowercase letters" in bad.text
    short = client.post("/signup", data={"username": "carol", "password": "short", "csrf_token": before})
    assert short.status_code == 400 and "8 to 256" in short.text
    common = client.post("/signup", data={"username": "carol", "password": "password", "csrf_token": before})
    assert common.status_code == 400 and "stronger password" in common.text and "common" in common.text
    made = client.post(
        "/signup",
        data={"username": "carol", "email": "carol@example.org", "password": PASSWORD, "csrf_token": before},
        follow_redirects=False,
    )
    assert (
        made.status_code == 303
        and "httponly" in made.headers["set-cookie"].lower()
        and "samesite=lax" in made.headers["set-cookie"].lower()
    )
    assert 'href="/u/carol"' in client.get("/").text
    session = token(client)
    assert session != before  # the CSRF token is the session's: logging in rotated it
    assert client.post("/settings/profile", data={"csrf_token": before}).status_code == 403
    taken = TestClient(site.app)
    again = taken.post("/signup", data={"username": "carol", "password": PASSWORD, "csrf_token": token(taken)})
    assert again.status_code == 400 and "already registered" in again.text
    changed = client.post(
        "/settings/password", data={"current": PASSWORD, "new": "a new long password", "csrf_token": session}
    )
    assert changed.status_code == 200 and "Password changed" in changed.text
    client.post("/logout", data={"csrf_token": session})
    assert 'href="/login"' in client.get("/").text
    visit = token(client)
    assert (
        client.post("/login", data={"username": "carol", "password": PASSWORD, "csrf_token": visit}).status_code == 400
    )
    again_in = client.post("/login", data={"username": "carol", "password": "a new long password", "csrf_token": visit})
    assert again_in.status_code == 200


def test_failed_logins_are_throttled(site: Site) -> None:
    accounts.sign_up(site.store, "dave", None, PASSWORD)
    client = TestClient(site.app, client=("192.0.2.7", 50000))
    form = {"username": "dave", "password": "wrong password", "csrf_token": token(client)}
    codes = [client.post("/login", data=form).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]
    locked = client.post("/login", data=form | {"password": PASSWORD})
    assert locked.status_code == 429 and "try again in" in locked.text


def test_upvotes_toggle_idempotently_and_add_to_imported_ones(site: Site) -> None:
    alice, bob = site.member("alice"), site.member("bob")
    assert upvotes(alice) == 163
    assert alice.post(f"/api/papers/{PAPER}/vote", json={"up": True}).json() == {"upvotes": 164, "upvoted": True}
    assert alice.post(f"/api/papers/{PAPER}/vote", json={"up": True}).json()["upvotes"] == 164
    assert bob.post(f"/api/papers/{PAPER}/vote", json={}).json()["upvotes"] == 165
    assert alice.post(f"/api/papers/{PAPER}/vote", json={"up": False}).json() == {"upvotes": 164, "upvoted": False}
    form = bob.post(
        f"/papers/{PAPER}/vote",
        data={"up": "false"},
        headers={"referer": "http://testserver/papers/date/2026-08-21"},
        follow_redirects=False,
    )
    assert form.status_code == 303 and form.headers["location"] == "/papers/date/2026-08-21"
    assert upvotes(bob) == 163
    assert alice.post("/api/papers/2101.00001/vote", json={"up": True}).status_code == 404
    assert alice.post("/api/papers/nonsense/vote", json={"up": True}).status_code == 400


def test_submitting_papers_follows_the_rules(site: Site) -> None:
    lenient = site.app_with(submit_max_age_days=100_000, submit_daily_cap=2)
    erin = site.member("erin")
    erin_lenient = TestClient(lenient, cookies=dict(erin.cookies), headers=dict(erin.headers))
    too_old = erin.post("/api/papers/submit", json={"paperId": "2606.19617"})
    assert too_old.status_code == 400 and "last 14 days" in too_old.json()["error"]
    queued = erin_lenient.post(
        "/api/papers/submit",
        json={
            "paperId": "https://arxiv.org/abs/2104.12255v1",
            "comment": "A must-read",
            "githubRepo": "https://github.com/a/b",
        },
    )
    assert queued.status_code == 202 and queued.json()["status"] == "queued"  # unknown: fetched in the background
    assert erin_lenient.post("/api/papers/submit", json={"paperId": "2104.12255"}).status_code == 202  # same job
    assert site.drain(submit_max_age_days=100_000, submit_daily_cap=2) >= 1
    assert site.arxiv.requests("/api/query")[-1][1]["id_list"] == "2104.12255"  # fetched from arXiv
    assert erin.get(queued.json()["job"]).json()["status"] == "done"
    item = next(i for i in erin.get("/api/daily_papers", params={"submitter": "erin"}).json())
    assert (
        item["submittedBy"]["name"] == "erin"
        and item["comment"] == "A must-read"
        and item["paper"]["githubRepo"] == "https://github.com/a/b"
    )
    assert erin_lenient.post("/api/papers/submit", json={"paperId": "2104.12255"}).status_code == 409
    assert erin_lenient.post("/api/papers/submit", json={"paperId": "2606.19617"}).status_code == 201
    capped = erin_lenient.post("/api/papers/submit", json={"paperId": "2606.19859"})
    assert capped.status_code == 429 and "2 papers today" in capped.json()["error"]
    unknown = erin_lenient.post("/api/papers/submit", json={"paperId": "2101.99999"})
    assert unknown.status_code == 202
    site.drain()
    assert "arXiv has no paper" in erin.get(unknown.json()["job"]).json()["error"]
    assert erin.post("/api/papers/submit", json={"paperId": "not an id"}).status_code == 400
    bad_link = erin_lenient.post(
        "/api/papers/submit", json={"paperId": "2606.20000", "githubRepo": "javascript:alert(1)"}
    )
    assert bad_link.status_code == 400 and "http(s) URL" in bad_link.json()["error"]
    listed = erin.get("/api/daily_papers", params={"submitter": "erin"}).json()
    assert {i["paper"]["id"] for i in listed} == {"2104.12255", "2606.19617"}
    assert "2104.12255" in [h["paper"]["id"] for h in erin.get("/api/papers/search", params={"q": "2104.12255"}).json()]
    page = erin.get("/papers/submit")
    assert page.status_code == 200 and "14 days" in page.text


def test_comments_markdown_replies_edits_and_permissions(site: Site) -> None:
    frank, grace, admin = site.member("frank"), site.member("grace"), site.member("boss", admin=True)
    top = frank.post(
        f"/api/papers/{PAPER}/comments",
        json={"body": "Great **results** [code](https://example.org) <script>alert(1)</script>"},
    ).json()
    assert (
        "<strong>results</strong>" in top["html"]
        and "<script>" not in top["html"]
        and 'rel="nofollow noopener ugc"' in top["html"]
    )
    reply = grace.post(f"/api/papers/{PAPER}/comments", json={"body": "Agreed", "parentId": top["id"]}).json()
    nested = frank.post(f"/api/papers/{PAPER}/comments", json={"body": "Thanks", "parentId": reply["id"]}).json()
    assert reply["parentId"] == top["id"] and nested["parentId"] == top["id"]  # one level deep
    assert grace.post(f"/comments/{top['id']}/edit", data={"body": "hijacked"}).status_code == 403
    assert frank.post(f"/comments/{top['id']}/edit", data={"body": "Great results, edited"}).status_code == 200
    assert grace.post(f"/api/papers/{PAPER}/comments", json={"body": "   "}).status_code == 400
    assert grace.post(f"/api/papers/{PAPER}/comments", json={"body": "x", "parentId": 999999}).status_code == 400
    assert admin.post(f"/comments/{reply['id']}/hide", data={"hidden": "true"}).status_code == 200
    assert grace.post(f"/comments/{nested['id']}/hide", data={"hidden": "true"}).status_code == 403
    assert frank.post(f"/comments/{nested['id']}/delete").status_code == 200
    thread = frank.get(f"/api/papers/{PAPER}/comments").json()
    assert [c["body"] for c in thread] == ["Great results, edited", ""] and thread[1]["deleted"]
    assert frank.get(f"/api/papers/{PAPER}").json()["numComments"] == 1
    assert "Great results, edited" in frank.get(f"/papers/{PAPER}").text


def test_links_can_be_set_by_the_submitter_or_an_admin(site: Site) -> None:
    lenient = site.app_with(submit_max_age_days=100_000)
    heidi, ivan, admin = site.member("heidi"), site.member("ivan"), site.member("root", admin=True)
    TestClient(lenient, cookies=dict(heidi.cookies), headers=dict(heidi.headers)).post(
        "/api/papers/submit", json={"paperId": "2606.21108"}
    )
    links = {"githubRepo": "https://github.com/x/sarif", "projectPage": "https://sarif.example.org"}
    assert heidi.post("/api/papers/2606.21108/links", json=links).json()["githubRepo"] == "https://github.com/x/sarif"
    assert ivan.post("/api/papers/2606.21108/links", json=links).status_code == 403
    assert (
        admin.post("/api/papers/2606.21108/links", json={"projectPage": "https://p.example.org"}).json()["projectPage"]
        == "https://p.example.org"
    )
    assert heidi.post("/api/papers/2606.21108/links", json={"githubRepo": "ftp://x"}).status_code == 400


def test_profiles_trending_and_moderation(site: Site) -> None:
    judy, admin = site.member("judy"), site.member("mod", admin=True)
    judy.post("/api/papers/2608.18580/vote", json={"up": True})
    profile = judy.get("/u/judy.json").json()
    assert profile["user"]["name"] == "judy" and [p["id"] for p in profile["upvoted"]] == ["2608.18580"]
    judy.post("/settings/profile", data={"display_name": "Judy J.", "votes_public": ""})
    assert site.guest().get("/u/judy.json").json()["upvoted"] is None  # upvotes private now
    judy.post("/settings/profile", data={"display_name": "Judy J.", "votes_public": "true"})
    assert [p["id"] for p in site.guest().get("/u/judy.json").json()["upvoted"]] == ["2608.18580"]  # public again
    assert judy.get("/u/judy").status_code == 200 and site.guest().get("/u/nobody").status_code == 404
    trending = judy.get("/papers/trending.json").json()
    scores = [i["trendingScore"] for i in trending]
    assert scores == sorted(scores, reverse=True) and judy.get("/papers/trending").status_code == 200
    assert judy.post("/papers/2608.18580/hide", data={"hidden": "true"}).status_code == 403
    assert admin.post("/papers/2608.18580/hide", data={"hidden": "true"}).status_code == 200
    day = [i["paper"]["id"] for i in judy.get("/api/daily_papers", params={"date": "2026-08-21", "limit": 100}).json()]
    assert "2608.18580" not in day and "2608.18580" not in judy.get("/").text


def test_a_banned_user_cannot_write_and_their_votes_stop_counting(site: Site) -> None:
    mallory = site.member("mallory")
    before = upvotes(mallory, "2608.20335")
    assert mallory.post("/api/papers/2608.20335/vote", json={"up": True}).json()["upvotes"] == before + 1
    accounts.set_banned(site.store, "mallory", True)
    assert mallory.post("/api/papers/2608.20335/vote", json={"up": False}).status_code == 401  # session ended
    assert upvotes(mallory, "2608.20335") == before
    relog = TestClient(site.app)
    refused = relog.post("/login", data={"username": "mallory", "password": PASSWORD, "csrf_token": token(relog)})
    assert refused.status_code == 400 and "suspended" in refused.text
    accounts.set_banned(site.store, "mallory", False)
    assert upvotes(mallory, "2608.20335") == before + 1  # reinstated: the vote counts again


def test_writes_need_a_login(site: Site) -> None:
    guest = site.guest()
    assert guest.post(f"/api/papers/{PAPER}/vote", json={"up": True}).status_code == 401
    assert guest.post("/api/papers/submit", json={"paperId": PAPER}).json()["error"].startswith("log in")
    page = guest.post(
        f"/papers/{PAPER}/comments",
        data={"body": "hi"},
        headers={"referer": f"http://testserver/papers/{PAPER}"},
        follow_redirects=False,
    )
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=/papers/{PAPER}"
    assert guest.get("/papers/submit", follow_redirects=False).headers["location"] == "/login?next=/papers/submit"
    assert re.search(r'name="next" value="/papers/submit"', guest.get("/login?next=/papers/submit").text)
    assert 'value="/"' in guest.get("/login?next=https://evil.example").text  # no open redirect


def test_an_unknown_paper_page_offers_to_index_it_from_arxiv(site: Site) -> None:
    kim = site.member("kim")
    page = kim.get("/papers/astro-ph/0601001v1", follow_redirects=True)
    assert (
        page.status_code == 404
        and "Not indexed yet" in page.text
        and 'action="/papers/astro-ph/0601001/index"' in page.text
    )
    indexed = kim.post("/papers/astro-ph/0601001/index", data={"csrf_token": token(kim)}, follow_redirects=False)
    assert indexed.status_code == 303 and indexed.headers["location"] == "/papers/astro-ph/0601001"
    pending = kim.get("/papers/astro-ph/0601001")
    assert pending.status_code == 404 and "Being fetched from arXiv" in pending.text  # the worker has not run yet
    assert site.drain() >= 1
    assert "Frequency of Hot Jupiters" in kim.get("/papers/astro-ph/0601001").text
    known = kim.post("/api/papers/index", json={"arxivId": "astro-ph/0601001v1"})
    assert known.status_code == 200 and known.json()["id"] == "astro-ph/0601001"
    missing = kim.post("/api/papers/index", json={"arxivId": "2101.99999"})
    assert missing.status_code == 202 and missing.json()["status"] == "queued"
    site.drain()
    job = kim.get(missing.json()["job"]).json()
    assert job["status"] == "failed" and "arXiv has no paper 2101.99999" in job["error"]
    failed = kim.get("/papers/2101.99999")
    assert "Could not fetch it" in failed.text and "Try again" in failed.text
    assert site.guest().post("/api/papers/index", json={"arxivId": "2104.12255"}).status_code == 401
    assert "Log in</a> to index it" in site.guest().get("/papers/2101.99998").text


def test_authors_claim_their_paper_and_verified_authors_set_links(site: Site) -> None:
    author, admin = site.member("realauthor"), site.member("verifier", admin=True)
    paper = "2608.20336"
    name = author.get(f"/api/papers/{paper}").json()["authors"][1]["name"]
    assert author.post(f"/api/papers/{paper}/claims", json={"author": "Nobody Atall"}).status_code == 400
    assert author.post(f"/api/papers/{paper}/claims", json={"author": name}).json() == {
        "status": "pending",
        "author": name,
    }
    assert author.post(f"/api/papers/{paper}/claims", json={"author": name}).status_code == 409
    assert "pending" in author.get(f"/papers/{paper}").text
    links = {"projectPage": "https://withanyone.example.org"}
    assert author.post(f"/api/papers/{paper}/links", json=links).status_code == 403  # not verified yet
    assert author.get("/admin/claims").status_code == 403
    queue = admin.get("/admin/claims")
    claim_id = int(re.search(r'action="/claims/(\d+)/approve"', queue.text)[1])  # type: ignore[index]
    assert author.post(f"/claims/{claim_id}/approve").status_code == 403
    assert admin.post(f"/claims/{claim_id}/approve").status_code == 200
    assert admin.post(f"/claims/{claim_id}/approve").status_code == 404  # decided already
    assert author.post(f"/api/papers/{paper}/links", json=links).json()["projectPage"] == links["projectPage"]
    listed = author.get(f"/api/papers/{paper}").json()["authors"][1]
    assert listed["status"] == "claimed_verified" and listed["user"]["name"] == "realauthor"
    assert 'href="/u/realauthor" title="verified author"' in author.get(f"/papers/{paper}").text
