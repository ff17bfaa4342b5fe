"""Exports: collections and For you as BibTeX/RIS/CSL-JSON, the personal data download, deleting an account."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import bibtexparser
import pytest
import rispy
from community_site import PASSWORD, Site, token
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from test_references import real_papers

from broadsheet.community import accounts
from broadsheet.community import collections as rules
from broadsheet.models import Paper, Preferences, User
from broadsheet.personal import exports
from broadsheet.store import Store
from broadsheet.store.personal import DELETED_NAME, CannotErase
from broadsheet.store.schema import comments, daily_entries, jobs, users
from broadsheet.store.users import DELETED_USERNAME

PAPER = "2608.19880"  # on the demo's 2026-08-21


# -- the store and the library, on both backends -----------------------------------------------------


@dataclass
class World:
    ada: User
    bob: User
    paper_ids: list[int]
    arxiv_ids: list[str]
    ada_comment: int
    bob_reply: int


def populate(store: Store) -> World:
    """Two readers who have done everything the site lets one do, around the same real papers."""
    papers = real_papers()[:6]
    store.papers.upsert(papers)
    arxiv_ids = [p.arxiv_id for p in papers]
    ids = [store.papers.id_of(a) or 0 for a in arxiv_ids]
    ada = accounts.sign_up(store, "ada", "ada@example.org", PASSWORD)
    bob = accounts.sign_up(store, "bob", "bob@example.org", PASSWORD)
    store.users.verify_email(ada.id, "ada@example.org")
    ada = store.users.by_id(ada.id) or ada
    for user in (ada, bob):
        store.community.vote(user.id, ids[0], True)
    store.community.vote(ada.id, ids[1], True)
    top = store.community.add_comment(ids[0], ada.id, "Section 3 is the interesting part.", None)
    reply = store.community.add_comment(ids[0], bob.id, "Agreed, and the appendix.", top.id)
    store.community.submit(ids[2], ada.id, date(2026, 8, 21), "A must-read", daily_cap=5)
    store.claims.add(ids[3], ada.id, papers[3].authors[0])
    reading = rules.create(store, ada, "Reading group", description="Thursdays", private=True)
    rules.add_paper(store, reading, "paper", arxiv_ids[4], "read §2")
    rules.save(store, ada, arxiv_ids[5])
    rules.save(store, bob, arxiv_ids[5])
    store.subscribers.subscribe("ada@example.org", Preferences(categories=("cs.CV",)), ada.id)
    store.tokens.create(ada.id, "laptop", "read")
    store.users.start_session("0" * 64, ada.id, timedelta(days=1))
    store.follows.follow(ada.id, "category", "cs.CV")
    store.follows.follow(ada.id, "author", papers[0].authors[0])
    store.follows.hide(ada.id, ids[1])
    store.follows.add_rule(ada.id, "word", "survey")
    store.foryou.new_feed_key(ada)
    store.jobs.enqueue("fetch", "2401.00001", {"arxiv_id": "2401.00001"}, user_id=ada.id)
    for to in ("Ada <ada@example.org>", "bob@example.org"):
        store.jobs.enqueue("mail", f"<{to}@test>", {"to": to, "raw": f"To: {to}\n\nYour digest"})
    return World(ada, bob, ids, arxiv_ids, top.id, reply.id)


def test_personal_data_holds_everything_and_no_secret(store: Store) -> None:
    w = populate(store)
    data = exports.personal_data(store, w.ada)
    assert data["format"] == exports.FORMAT and data["account"]["username"] == "ada"
    assert data["account"]["email"] == "ada@example.org" and data["account"]["active_sessions"] == 1
    assert [v["arxiv_id"] for v in data["votes"]] == [w.arxiv_ids[1], w.arxiv_ids[0]]
    assert [c["body"] for c in data["comments"]] == ["Section 3 is the interesting part."]
    assert [(s["arxiv_id"], s["comment"]) for s in data["submissions"]] == [(w.arxiv_ids[2], "A must-read")]
    assert [c["arxiv_id"] for c in data["claims"]] == [w.arxiv_ids[3]]
    by_title = {c["title"]: c for c in data["collections"]}
    assert by_title["Reading group"]["private"] and by_title["Reading group"]["description"] == "Thursdays"
    assert [(i["arxiv_id"], i["note"]) for i in by_title["Reading group"]["items"]] == [(w.arxiv_ids[4], "read §2")]
    marks = by_title[rules.BOOKMARKS]
    assert marks["bookmarks"] and [i["arxiv_id"] for i in marks["items"]] == [w.arxiv_ids[5]]
    assert [(s["email"], s["categories"]) for s in data["subscriptions"]] == [("ada@example.org", ["cs.CV"])]
    assert [(t["name"], t["scope"]) for t in data["api_tokens"]] == [("laptop", "read")]
    assert data["follows"]["categories"] == ["cs.CV"] and data["follows"]["never_words"] == ["survey"]
    assert [h["arxiv_id"] for h in data["follows"]["not_interested"]] == [w.arxiv_ids[1]]
    body = exports.to_json(data).decode()
    assert json.loads(body) == data
    hashes = [store.db.engine.connect().execute(select(users.c.password_hash)).scalars().all()]
    assert not any(h and h in body for h in hashes[0])
    assert "token_hash" not in body and "password_hash" not in body and "0" * 64 not in body
    assert "bob" not in body.replace("bob@", "")  # nothing of the other reader (his reply is his)
    assert [j["key"] for j in data["other"]["jobs"]] == ["2401.00001"]  # a table the export has no section for


def test_personal_data_of_a_new_account_is_small_and_valid(store: Store) -> None:
    fresh = accounts.sign_up(store, "newbie", None, PASSWORD)
    data = exports.personal_data(store, fresh)
    assert (data["votes"], data["comments"], data["collections"], data["subscriptions"]) == ([], [], [], [])
    assert data["other"] == {}


def rows_pointing_at(store: Store, user_id: int) -> dict[str, int]:
    """Every foreign key to users in the *database itself* (not the schema module), and its rows for user_id."""
    found: dict[str, int] = {}
    with store.db.engine.connect() as conn:
        db = inspect(conn)
        for table in db.get_table_names():
            for fk in db.get_foreign_keys(table):
                if fk["referred_table"] == "users":
                    (column,) = fk["constrained_columns"]
                    query = text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :id')  # names from the database
                    found[f"{table}.{column}"] = conn.execute(query, {"id": user_id}).scalar_one()
        query = text("SELECT count(*) FROM users WHERE id = :id")
        found["users.id"] = conn.execute(query, {"id": user_id}).scalar_one()
    return found


def test_deleting_an_account_leaves_no_row_pointing_at_it(store: Store) -> None:
    w = populate(store)
    before_bob = exports.personal_data(store, w.bob)
    assert any(rows_pointing_at(store, w.ada.id).values())
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5")
    left = rows_pointing_at(store, w.ada.id)
    assert set(left) >= {"votes.user_id", "comments.user_id", "sessions.user_id", "api_tokens.user_id",
                         "collections.user_id", "follows.user_id", "claims.user_id", "daily_entries.user_id"}  # fmt: skip
    assert not any(left.values()), left
    assert not any(store.personal.pointing_at(w.ada.id).values())
    assert store.users.get("ada") is None and store.subscribers.by_email("ada@example.org") is None
    assert store.foryou.feed_key(w.ada) is None  # the private feed URL's key (a site secret) is gone too
    with store.db.engine.connect() as conn:
        mail = conn.execute(select(jobs.c.key).where(jobs.c.kind == "mail")).scalars().all()
        assert mail == ["<bob@example.org@test>"]  # mail queued to her address went, Bob's stays
        assert conn.execute(select(jobs.c.user_id).where(jobs.c.kind == "fetch")).scalars().all() == [None]
    # Bob's things are all still his (his vote, his reply, his bookmarks); his data reads the same.
    after_bob = exports.personal_data(store, w.bob)
    assert {k: v for k, v in after_bob.items() if k != "exported_at"} == {
        k: v for k, v in before_bob.items() if k != "exported_at"
    }


def test_deleted_comments_stay_in_their_thread_as_deleted_user(store: Store) -> None:
    w = populate(store)
    upvotes_before = store.papers.get(w.arxiv_ids[0]).upvotes  # type: ignore[union-attr]
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5")
    thread = store.community.thread(w.paper_ids[0])
    assert [(c.author.username, c.author.display_name, c.body) for c in thread] == [
        (DELETED_USERNAME, DELETED_NAME, "Section 3 is the interesting part."),
        ("bob", None, "Agreed, and the appendix."),
    ]
    assert thread[1].parent_id == thread[0].id == w.ada_comment
    view = store.papers.get(w.arxiv_ids[0])
    assert view is not None and view.upvotes == upvotes_before - 1 and view.num_comments == 2
    submitted = store.papers.get(w.arxiv_ids[2])
    assert submitted is not None and submitted.day == date(2026, 8, 21) and submitted.submitted_by is None
    with store.db.engine.connect() as conn:
        assert conn.execute(select(daily_entries.c.comment)).scalars().all() == ["A must-read"]
    with pytest.raises(accounts.AccountError):
        accounts.log_in(store, "ada", PASSWORD, client="203.0.113.6")
    with pytest.raises(accounts.AccountError):  # nobody can sign in as the shared account either
        accounts.log_in(store, DELETED_USERNAME, "", client="203.0.113.6")


def test_erasing_comment_text_too(store: Store) -> None:
    w = populate(store)
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5", erase_text=True)
    thread = store.community.thread(w.paper_ids[0])
    assert [(c.author.username, c.body, c.deleted) for c in thread] == [
        (DELETED_USERNAME, "", True), ("bob", "Agreed, and the appendix.", False)
    ]  # fmt: skip
    with store.db.engine.connect() as conn:
        assert conn.execute(select(daily_entries.c.comment)).scalars().all() == [None]
        assert conn.execute(select(comments.c.id).where(comments.c.user_id == w.ada.id)).all() == []


def test_a_wrong_password_deletes_nothing_and_is_throttled(store: Store) -> None:
    w = populate(store)
    for _ in range(accounts.Policy().max_failures):
        with pytest.raises(accounts.AccountError):
            exports.delete_account(store, w.ada, "not the password", client="203.0.113.9")
    with pytest.raises(accounts.Throttled):
        exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.9")
    assert store.users.get("ada") is not None and store.personal.votes(w.ada.id)


def test_two_deletions_share_one_deleted_user_and_it_cannot_be_erased(store: Store) -> None:
    w = populate(store)
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5")
    exports.delete_account(store, w.bob, PASSWORD, client="203.0.113.5")
    assert {c.author.username for c in store.community.thread(w.paper_ids[0])} == {DELETED_USERNAME}
    tombstone = store.personal.deleted_user_id()
    with pytest.raises(CannotErase):
        store.personal.erase(tombstone, username=DELETED_USERNAME, email=None)
    assert store.personal.erase(w.ada.id, username="ada", email=None) is False  # gone already


# -- the web: routes, buttons, who may see what --------------------------------------------------------


def _bearer(site: Site, username: str, scope: str = "read") -> dict[str, str]:
    user = site.store.users.get(username)
    assert user is not None
    return {"Authorization": f"Bearer {site.store.tokens.create(user.id, f'{scope} token', scope)[1]}"}


def _collection(client: TestClient, title: str, *, private: bool, papers: list[str]) -> str:
    made = client.post("/api/collections", json={"title": title, "private": private}).json()
    for arxiv_id in papers:
        added = client.post(f"/api/collections/{made['slug']}/items", json={"item": {"id": arxiv_id, "type": "paper"}})
        assert added.status_code == 200
    return str(made["slug"])


def _some_papers(site: Site, n: int) -> list[str]:
    views, _ = site.store.papers.newest(limit=n)
    return [v.paper.arxiv_id for v in views]


def test_a_public_collection_exports_in_three_formats_that_parse_back(site: Site) -> None:
    owner = site.member("exporter")
    wanted = _some_papers(site, 5)
    slug = _collection(owner, "Export me", private=False, papers=wanted)
    page = site.guest().get(f"/collections/{slug}")
    assert f'href="/collections/{slug}.bib"' in page.text and f'href="/collections/{slug}.csl.json"' in page.text
    guest = TestClient(site.app)
    bib = guest.get(f"/collections/{slug}.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.headers["content-disposition"] == f'attachment; filename="{slug.split("/")[1]}.bib"'
    entries = bibtexparser.parse_string(bib.text).entries
    assert [e.fields_dict["eprint"].value for e in entries] == wanted
    ris = guest.get(f"/collections/{slug}.ris")
    assert ris.headers["content-type"].startswith("application/x-research-info-systems")
    assert [r["doi"] for r in rispy.loads(ris.text)] == [f"10.48550/arXiv.{a}" for a in wanted]
    csl = guest.get(f"/collections/{slug}.csl.json")
    assert [i["number"] for i in json.loads(csl.text)] == [f"arXiv:{a}" for a in wanted]
    again = guest.get(f"/collections/{slug}.bib")  # the anonymous page cache keeps the download's name
    assert again.text == bib.text and again.headers["content-disposition"] == bib.headers["content-disposition"]


def test_a_private_collection_exports_only_for_its_owner_or_their_token(site: Site) -> None:
    owner = site.member("secretive")
    slug = _collection(owner, "Not for you", private=True, papers=_some_papers(site, 2))
    url = f"/collections/{slug}.ris"
    assert owner.get(url).status_code == 200 and owner.get(url).headers["cache-control"] == "private, no-store"
    assert TestClient(site.app).get(url, headers=_bearer(site, "secretive")).status_code == 200
    site.member("nosy")
    assert site.guest().get(url).status_code == 404
    assert TestClient(site.app).get(url, headers=_bearer(site, "nosy")).status_code == 404
    assert TestClient(site.app).get(url, headers={"Authorization": "Bearer bs_wrong"}).status_code == 401
    assert site.guest().get(f"/collections/{slug[:-3]}abc.bib").status_code == 404
    assert site.guest().get("/collections/nobody/x.bib").status_code == 404


def test_the_for_you_list_exports_for_the_signed_in_reader(site: Site) -> None:
    reader = site.member("foryou-exporter")
    reader.post(f"/api/papers/{PAPER}/vote", json={"up": True})
    assert TestClient(site.app).get("/for-you.bib").status_code == 401
    bib = reader.get("/for-you.bib")
    assert bib.status_code == 200 and bib.headers["cache-control"] == "private, no-store"
    library = bibtexparser.parse_string(bib.text)
    assert not library.failed_blocks
    listed = [item["id"] for item in reader.get("/for-you.json").json()["items"]]  # the page's own list, best first
    exported = [e.fields_dict["eprint"].value for e in library.entries]
    assert listed and exported[: len(listed)] == listed
    ris = TestClient(site.app).get("/for-you.ris", headers=_bearer(site, "foryou-exporter"))
    assert ris.status_code == 200 and isinstance(rispy.loads(ris.text) if ris.text else [], list)
    assert isinstance(json.loads(reader.get("/for-you.csl.json").text), list)


def test_download_my_data_from_settings(site: Site) -> None:
    reader = site.member("downloader")
    reader.post(f"/api/papers/{PAPER}/vote", json={"up": True})
    settings_page = reader.get("/settings")
    assert 'href="/settings/data.json"' in settings_page.text and 'href="/settings/delete"' in settings_page.text
    got = reader.get("/settings/data.json")
    assert got.status_code == 200 and got.headers["content-disposition"].startswith('attachment; filename="downloader-')
    data = got.json()
    assert data["account"]["username"] == "downloader" and [v["arxiv_id"] for v in data["votes"]] == [PAPER]
    assert TestClient(site.app).get("/settings/data.json", headers=_bearer(site, "downloader")).status_code == 403
    assert TestClient(site.app).get("/settings/data.json", follow_redirects=False).status_code == 303


def test_deleting_an_account_from_settings(site: Site) -> None:
    leaver = site.member("leaver")
    other = site.member("stayer")
    top = leaver.post(f"/api/papers/{PAPER}/comments", json={"body": "Leaving this here."}).json()
    other.post(f"/api/papers/{PAPER}/comments", json={"body": "Thanks!", "parentId": top["id"]})
    upvotes = leaver.post(f"/api/papers/{PAPER}/vote", json={"up": True}).json()["upvotes"]
    assert "Delete my account" in leaver.get("/settings/delete").text
    without_csrf = TestClient(site.app, cookies=leaver.cookies)
    assert without_csrf.post("/settings/delete", data={"password": PASSWORD}).status_code == 403
    with_token = _bearer(site, "leaver", "write")
    by_token = TestClient(site.app).post("/settings/delete", data={"password": PASSWORD}, headers=with_token)
    assert by_token.status_code == 403
    wrong = leaver.post("/settings/delete", data={"password": "not it at all"})
    assert wrong.status_code == 400 and "nothing was deleted" in wrong.text and site.store.users.get("leaver")

    done = leaver.post("/settings/delete", data={"password": PASSWORD, "csrf_token": token(leaver)})
    assert done.status_code == 200 and "Account deleted" in done.text and ">leaver<" not in done.text
    assert site.store.users.get("leaver") is None and not leaver.cookies.get("bs_session")
    page = site.guest().get(f"/papers/{PAPER}")
    assert page.status_code == 200 and "Leaving this here." in page.text and DELETED_NAME in page.text
    assert "Thanks!" in page.text
    assert site.guest().get(f"/api/papers/{PAPER}").json()["upvotes"] == upvotes - 1
    assert site.guest().get("/u/leaver").status_code == 404
    assert site.guest().get(f"/u/{DELETED_USERNAME}").status_code in (200, 404)  # renders, never a 500
    relogin = TestClient(site.app)
    relogin.post("/login", data={"username": "leaver", "password": PASSWORD, "csrf_token": token(relogin)})
    assert not relogin.cookies.get("bs_session")


def test_a_deleted_accounts_subscription_id_is_never_given_to_the_next_subscriber(store: Store) -> None:
    w = populate(store)
    old = store.subscribers.by_email("ada@example.org")
    assert old is not None
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5")
    emptied = store.subscribers.by_email(f"deleted-{old.id}@deleted.invalid")  # the id stays taken, emptied
    assert emptied is not None and emptied.id == old.id and emptied.status == "unsubscribed"
    stranger, _ = store.subscribers.subscribe("stranger@example.org", Preferences())
    assert stranger.id != old.id  # her old manage/unsubscribe links (signed over the id) open nothing of his


def test_a_collection_export_is_built_once_until_the_collection_changes(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.web import exports as web_exports

    built: list[int] = []
    real = web_exports.FORMATS["bib"]

    def counting(papers: Sequence[Paper]) -> str:
        built.append(len(papers))
        return real.write(papers)

    monkeypatch.setitem(web_exports.FORMATS, "bib", replace(real, write=counting))
    owner = site.member("big-exporter")
    wanted = _some_papers(site, 4)
    slug = _collection(owner, "Exported often", private=False, papers=wanted[:3])
    guest = TestClient(site.app)
    first = guest.get(f"/collections/{slug}.bib?from=a")  # distinct URLs: the page cache cannot answer them
    assert guest.get(f"/collections/{slug}.bib?from=b").text == first.text
    assert owner.get(f"/collections/{slug}.bib").text == first.text
    assert built == [3]  # one build for three requests
    owner.post(f"/api/collections/{slug}/items", json={"item": {"id": wanted[3], "type": "paper"}})
    changed = guest.get(f"/collections/{slug}.bib?from=c")
    assert (
        built == [3, 4]
        and [e.fields_dict["eprint"].value for e in bibtexparser.parse_string(changed.text).entries] == wanted
    )
    assert guest.get(f"/collections/{slug}.ris?from=d").status_code == 200 and built == [3, 4]  # another format


def test_kept_exports_stay_under_their_byte_limit_and_expire() -> None:
    from broadsheet.web.exports import Built

    kept, made = Built(limit=10, ttl=60.0), []
    assert kept.get("a", lambda: made.append("a") or "aaaaaa") == "aaaaaa"
    assert kept.get("a", lambda: made.append("a") or "zzzzzz") == "aaaaaa" and made == ["a"]
    kept.get("b", lambda: made.append("b") or "bbbbbb")  # 12 bytes > 10: the oldest goes
    assert (
        kept.size == 6 and kept.get("a", lambda: made.append("a") or "aaaaaa") == "aaaaaa" and made == ["a", "b", "a"]
    )
    assert Built(limit=3).get("x", lambda: "too big") == "too big"  # served, not kept
    expired = Built(ttl=0.0)
    expired.get("a", lambda: made.append("e") or "e")
    expired.get("a", lambda: made.append("e") or "e")
    assert made.count("e") == 2
