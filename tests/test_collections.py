"""Collections: the real huggingface_hub client against a live server, the pages without JavaScript, the rules."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from community_site import Site
from fastapi.testclient import TestClient
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from sqlalchemy import delete

from broadsheet.community import accounts
from broadsheet.community import collections as rules
from broadsheet.errors import Conflict
from broadsheet.models import Paper
from broadsheet.store import Store
from broadsheet.store.schema import metadata, papers, users

PAPER = "2608.19880"
SLUG = re.compile(r"^([a-z0-9_-]+)/([a-z0-9-]+)-([0-9a-f]{24})$")


def write_token(site: Site, username: str, scope: str = "write") -> str:
    user = site.store.users.get(username)
    assert user is not None
    return site.store.tokens.create(user.id, f"{scope} token", scope)[1]


def other_papers(site: Site, n: int) -> list[str]:
    views, _ = site.store.papers.newest(limit=n + 1)
    return [v.paper.arxiv_id for v in views if v.paper.arxiv_id != PAPER][:n]


def status(call: object) -> int:
    with pytest.raises(HfHubHTTPError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.response is not None
    return int(caught.value.response.status_code)


def test_the_huggingface_hub_client_manages_a_collection_with_a_token(site: Site, live: str) -> None:
    site.member("collector")
    api = HfApi(endpoint=live, token=write_token(site, "collector"))
    made = api.create_collection("Reading group: week 34!", description="Papers for Thursday")
    assert (found := SLUG.match(made.slug)) and found[1] == "collector" and found[2] == "reading-group-week-34"
    assert made.title == "Reading group: week 34!" and made.description == "Papers for Thursday"
    assert not made.private and made.items == [] and made.url == f"{live}/collections/{made.slug}"
    assert api.create_collection("Reading group: week 34!", exists_ok=True).slug == made.slug  # HF's 409 + slug

    second = other_papers(site, 1)[0]
    after = api.add_collection_item(made.slug, PAPER, item_type="paper", note="read section 3")
    assert [(i.item_id, i.item_type, i.position, i.note) for i in after.items] == [
        (PAPER, "paper", 0, "read section 3")
    ]
    api.add_collection_item(made.slug, second, item_type="paper")
    assert status(lambda: api.add_collection_item(made.slug, PAPER, item_type="paper")) == 409
    api.add_collection_item(made.slug, PAPER, item_type="paper", exists_ok=True)

    got = api.get_collection(made.slug)
    assert [i.item_id for i in got.items] == [PAPER, second] and got.items[1].note is None
    api.update_collection_item(made.slug, got.items[1].item_object_id, note="start here", position=0)
    got = api.get_collection(made.slug)
    assert [(i.item_id, i.position, i.note) for i in got.items] == [
        (second, 0, "start here"),
        (PAPER, 1, "read section 3"),
    ]

    listed = list(api.list_collections(owner="collector"))
    assert [c.slug for c in listed] == [made.slug] and len(listed[0].items) == 2
    assert made.slug in [c.slug for c in api.list_collections(item=f"papers/{PAPER}")]
    anonymous = HfApi(endpoint=live, token=False)
    assert anonymous.get_collection(made.slug).title == made.title  # public: anyone may read it

    renamed = api.update_collection_metadata(made.slug, title="Thursday group", private=True)
    assert renamed.slug.endswith(made.slug[-24:]) and renamed.slug != made.slug and renamed.private
    assert api.get_collection(made.slug).title == "Thursday group"  # the old slug still finds it, as on HF
    assert status(lambda: anonymous.get_collection(made.slug)) == 404  # private: invisible to others
    assert made.slug not in [c.slug for c in anonymous.list_collections(owner="collector")]

    api.delete_collection_item(made.slug, got.items[0].item_object_id)
    assert [i.item_id for i in api.get_collection(made.slug).items] == [PAPER]
    assert status(lambda: api.delete_collection_item(made.slug, got.items[0].item_object_id)) == 404
    api.delete_collection_item(made.slug, got.items[0].item_object_id, missing_ok=True)

    api.delete_collection(made.slug)
    assert status(lambda: api.get_collection(made.slug)) == 404
    api.delete_collection(made.slug, missing_ok=True)


def test_the_api_refuses_bad_items_other_owners_and_read_tokens(site: Site, live: str) -> None:
    site.member("owner1")
    site.member("stranger1")
    api = HfApi(endpoint=live, token=write_token(site, "owner1"))
    public = api.create_collection("Open list")
    secret = api.create_collection("Hidden list", private=True)
    with pytest.raises(HfHubHTTPError) as caught:
        api.add_collection_item(public.slug, "2101.00001", item_type="paper")
    assert caught.value.response.status_code == 404
    assert "2101.00001 is not indexed" in caught.value.response.json()["error"]
    assert status(lambda: api.add_collection_item(public.slug, "gpt2", item_type="model")) == 400
    assert status(lambda: api.create_collection("x" * 101)) == 400
    assert status(lambda: api.create_collection("Elsewhere", namespace="stranger1")) == 403

    stranger = HfApi(endpoint=live, token=write_token(site, "stranger1"))
    assert stranger.get_collection(public.slug).title == "Open list"
    assert status(lambda: stranger.update_collection_metadata(public.slug, title="Mine now")) == 403  # seen, not theirs
    assert status(lambda: stranger.add_collection_item(public.slug, PAPER, item_type="paper")) == 403
    assert status(lambda: stranger.delete_collection(public.slug)) == 403
    assert status(lambda: stranger.delete_collection(secret.slug)) == 404  # not even seen
    assert status(lambda: stranger.get_collection("owner1/hidden-list-" + "0" * 24)) == 404
    assert status(lambda: stranger.get_collection("owner1/not-a-slug")) == 404

    reader = HfApi(endpoint=live, token=write_token(site, "owner1", scope="read"))
    assert reader.get_collection(secret.slug).private  # a read token reads the owner's private collection
    assert status(lambda: reader.add_collection_item(secret.slug, PAPER, item_type="paper")) == 403
    assert status(lambda: reader.create_collection("Via a read token")) == 403


def test_save_works_without_javascript_and_bookmarks_are_private(site: Site) -> None:
    member = site.member("saver")
    page = member.get(f"/papers/{PAPER}").text
    assert f'action="/papers/{PAPER}/save"' in page and "☆ Save" in page
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1], "saved": "true"}  # type: ignore[index]
    plain = TestClient(site.app, cookies=member.cookies)  # a browser without scripts: the form's fields only
    response = plain.post(f"/papers/{PAPER}/save", data=form, headers={"referer": f"http://testserver/papers/{PAPER}"},
                          follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == f"/papers/{PAPER}"
    assert plain.post(f"/papers/{PAPER}/save", data=form, follow_redirects=False).status_code == 303  # idempotent
    user = site.store.users.get("saver")
    assert user is not None
    marks = site.store.collections.default_of(user.id)
    assert marks is not None and marks.title == "Bookmarks" and marks.private and marks.size == 1
    assert "★ Saved" in member.get(f"/papers/{PAPER}").text
    assert 'value="false"' in member.get("/papers/trending").text  # the cards know too
    assert "Bookmarks" in member.get("/collections").text

    url = f"/collections/{rules.slug(marks)}"
    assert member.get(url).status_code == 200
    assert TestClient(site.app).get(url).status_code == 404
    assert site.member("peeker").get(url).status_code == 404
    assert TestClient(site.app).post(f"/papers/{PAPER}/save", data={"saved": "true"}).status_code == 403  # no CSRF

    member.post(f"/papers/{PAPER}/save", data={"saved": "false"})
    assert site.store.collections.items(marks.id) == []
    assert member.post("/papers/2101.00001/save", data={"saved": "true"}).status_code == 404


def test_collection_pages_create_fill_reorder_and_edit(site: Site) -> None:
    member = site.member("curator")
    made = member.post("/collections", data={"title": "Diffusion", "description": "Good ones"}, follow_redirects=False)
    assert made.status_code == 303
    url = made.headers["location"]
    assert SLUG.match(url.removeprefix("/collections/"))
    first, second = other_papers(site, 2)
    for arxiv_id in (first, second):
        assert member.post(f"{url}/items", data={"paper_id": arxiv_id, "note": "note"}).status_code == 200
    owner = site.store.users.get("curator")
    assert owner is not None
    [collection] = site.store.collections.listing(owners=["curator"], viewer_id=owner.id)
    items = site.store.collections.items(collection.id)
    member.post(f"{url}/item", data={"item": items[1].object_id, "action": "move", "position": "0"})
    member.post(f"{url}/item", data={"item": items[1].object_id, "action": "note", "note": "first!"})
    after = site.store.collections.items(collection.id)
    assert [(i.view.paper.arxiv_id, i.note) for i in after] == [(second, "first!"), (first, "note")]

    page = member.get(url).text
    assert "Diffusion" in page and "first!" in page and "Move down" in page and "Good ones" in page
    assert f'action="{url}/item"' in page and f'name="item" value="{after[1].object_id}"' in page
    stranger = site.member("passerby")
    assert stranger.get(url).status_code == 200 and "Move down" not in stranger.get(url).text
    assert stranger.post(f"{url}/edit", data={"title": "Taken"}).status_code == 403
    assert stranger.post(f"{url}/item", data={"item": after[0].object_id, "action": "remove"}).status_code == 403

    member.post(f"/papers/{PAPER}/collect", data={"collection": collection.object_id, "note": "via the paper"})
    assert "Already in" in member.get(f"/papers/{PAPER}/collect").text
    member.post(f"{url}/item", data={"item": after[0].object_id, "action": "remove"})
    member.post(f"{url}/edit", data={"title": "Diffusion, private", "private": "true"})
    assert stranger.get(url).status_code == 404 and member.get(url).status_code == 200
    assert member.post(f"{url}/delete", follow_redirects=False).headers["location"] == "/collections"
    assert member.get(url).status_code == 404


def test_caps_rate_limit_and_long_input(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    member = site.member("capped")
    response = member.post("/api/collections", json={"title": "t" * 101})
    assert response.status_code == 400 and "1 to 100 characters" in response.json()["error"]
    slug = member.post("/api/collections", json={"title": "Small"}).json()["slug"]
    long_note = {"item": {"id": PAPER, "type": "paper"}, "note": "n" * 501}
    assert member.post(f"/api/collections/{slug}/items", json=long_note).status_code == 400
    assert (
        member.post(f"/api/collections/{slug}/items", json={"item": {"id": "nonsense", "type": "paper"}}).status_code
        == 400
    )

    monkeypatch.setattr(rules, "MAX_ITEMS", 1)
    assert (
        member.post(f"/api/collections/{slug}/items", json={"item": {"id": PAPER, "type": "paper"}}).status_code == 200
    )
    full = member.post(
        f"/api/collections/{slug}/items", json={"item": {"id": other_papers(site, 1)[0], "type": "paper"}}
    )
    assert full.status_code == 429 and "at most 1 papers" in full.json()["error"]

    monkeypatch.setattr(rules, "MAX_COLLECTIONS", 2)
    assert member.post("/api/collections", json={"title": "Second"}).status_code == 200
    capped = member.post("/api/collections", json={"title": "Third"})
    assert capped.status_code == 429 and "2 collections" in capped.json()["error"]

    monkeypatch.setattr(rules, "CREATES_PER_WINDOW", 3)  # the next is the 4th creation in this window
    throttled = member.post("/api/collections", json={"title": "Fifth"})
    assert throttled.status_code == 429 and "try again later" in throttled.json()["error"]


def test_the_migration_matches_the_tables_and_deletes_cascade(store: Store) -> None:
    mine = ("collections", "collection_items")

    def named(name: str | None, kind: str, parent: object) -> bool:  # reflect only these tables
        return kind != "table" or name in mine

    def compared(item: Any, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return (name if kind == "table" else getattr(item, "table", item).name) in mine

    opts = {"include_name": named, "include_object": compared}
    with store.db.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), metadata) == []

    user = accounts.sign_up(store, "cascade", None, "correct horse battery")
    store.papers.upsert([Paper("2401.00001", "A title", "An abstract", ("Ada Lovelace",), ("cs.CL",))])
    made = rules.create(store, user, "Doomed")
    rules.add_paper(store, made, "paper", "2401.00001", "a note")
    with store.db.write() as conn:
        conn.execute(delete(papers).where(papers.c.arxiv_id == "2401.00001"))
    assert store.collections.items(made.id) == []
    with store.db.write() as conn:
        conn.execute(delete(users).where(users.c.id == user.id))
    assert store.collections.by_object_id(made.object_id) is None


def test_concurrent_adds_of_one_paper_store_it_once(store: Store) -> None:
    user = accounts.sign_up(store, "racer", None, "correct horse battery")
    store.papers.upsert([Paper("2401.00002", "A title", "An abstract", ("Ada Lovelace",), ("cs.CL",))])
    made = rules.create(store, user, "Race")
    outcomes: list[str] = []

    def add() -> None:
        try:
            rules.add_paper(store, made, "paper", "2401.00002", None)
            outcomes.append("added")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added"] + ["conflict"] * 7
    assert len(store.collections.items(made.id)) == 1
