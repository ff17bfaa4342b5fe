"""Follows, "not interested" and never-show rules: the store (both backends), the rules, the pages without JavaScript."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from community_site import Site
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from broadsheet.community import accounts, follows
from broadsheet.community.names import normalise_name
from broadsheet.errors import Invalid, NotFound, TooMany
from broadsheet.models import Paper, User
from broadsheet.store import Store
from broadsheet.store.follows import Full, Interests
from broadsheet.store.schema import metadata, paper_authors, papers, users

MINE = ("follows", "hidden_papers", "never_rules", "paper_authors")


def paper(arxiv_id: str, title: str = "A title", abstract: str = "An abstract", authors: tuple[str, ...] = ("Ada Lovelace",),
          categories: tuple[str, ...] = ("cs.CL",)) -> Paper:  # fmt: skip
    return Paper(arxiv_id, title, abstract, authors, categories)


def member(store: Store, name: str = "reader") -> User:
    return accounts.sign_up(store, name, None, "correct horse battery")


# -- names -----------------------------------------------------------------------------------------


def test_names_normalise_exactly_without_merging_variants() -> None:
    assert normalise_name("  José  GARCÍA ") == normalise_name("Jose Garcia") == "jose garcia"
    assert normalise_name("J.Smith") == normalise_name("j. smith") == "j. smith"
    assert normalise_name("J. Smith") != normalise_name("John Smith")
    assert normalise_name("Ｊｏｈｎ\u00a0Smith") == "john smith"  # NFKC: full-width letters, no-break space
    assert normalise_name("Straße") == "strasse" and normalise_name("") == ""
    assert len(normalise_name("x" * 1000)) == 300


# -- the store ---------------------------------------------------------------------------------------


def test_follows_are_idempotent_and_come_back_as_interests(store: Store) -> None:
    user = member(store)
    assert store.follows.interests(user.id) == Interests()
    assert store.follows.follow(user.id, "author", "  Jane   DOE ")
    assert not store.follows.follow(user.id, "author", "jane doe")  # the same name, normalised: ON CONFLICT
    assert store.follows.follow(user.id, "category", "cs.CL")
    assert store.follows.follow(user.id, "search", "retrieval  augmented")
    assert store.follows.follow(user.id, "search", "diffusion")
    store.papers.upsert([paper("2401.00001"), paper("2401.00002")])
    row = store.papers.id_of("2401.00001")
    assert row is not None
    assert store.follows.hide(user.id, row) and not store.follows.hide(user.id, row)
    assert store.follows.add_rule(user.id, "word", "Quantum") and not store.follows.add_rule(user.id, "word", "quantum")
    assert store.follows.add_rule(user.id, "category", "hep-th")
    assert store.follows.add_rule(user.id, "author", "Bob  Smith")
    got = store.follows.interests(user.id)
    assert got == Interests(
        authors=frozenset({"jane doe"}), categories=frozenset({"cs.CL"}),
        searches=("retrieval augmented", "diffusion"), hidden=frozenset({"2401.00001"}),
        never_categories=frozenset({"hep-th"}), never_words=frozenset({"quantum"}),
        never_authors=frozenset({"bob smith"}),
    )  # fmt: skip
    assert store.follows.counts(user.id) == {"follows": 4, "hidden": 1, "rules": 3}
    assert store.follows.followers("author", "JANE DOE") == 1

    assert store.follows.unfollow(user.id, "author", "Jane Doe") and not store.follows.unfollow(user.id, "author", "x")
    assert store.follows.unhide(user.id, row) and not store.follows.unhide(user.id, row)
    assert store.follows.remove_rule(user.id, "word", "QUANTUM")
    got = store.follows.interests(user.id)
    assert (
        not got.authors
        and not got.hidden
        and not got.never_words
        and got.searches == ("retrieval augmented", "diffusion")
    )
    assert member(store, "other").id != user.id and store.follows.interests(user.id + 1) == Interests()


def test_caps_refuse_new_rows_but_not_repeats(store: Store) -> None:
    user = member(store)
    assert store.follows.follow(user.id, "category", "cs.CL", cap=2)
    assert store.follows.follow(user.id, "category", "cs.LG", cap=2)
    assert not store.follows.follow(user.id, "category", "cs.LG", cap=2)  # already there: fine at the cap
    with pytest.raises(Full):
        store.follows.follow(user.id, "category", "cs.CV", cap=2)
    with pytest.raises(ValueError):
        store.follows.follow(user.id, "planet", "mars")


def test_the_migration_matches_the_tables_and_deletes_cascade(store: Store) -> None:
    def named(name: str | None, kind: str, parent: object) -> bool:
        return kind != "table" or name in MINE

    def compared(item: Any, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return (name if kind == "table" else getattr(item, "table", item).name) in MINE

    opts = {"include_name": named, "include_object": compared}
    with store.db.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), metadata) == []

    user = member(store)
    store.papers.upsert([paper("2401.00001")])
    store.follows.hide(user.id, store.papers.id_of("2401.00001") or 0)
    store.follows.follow(user.id, "author", "Ada Lovelace")
    with store.db.write() as conn:
        conn.execute(delete(papers).where(papers.c.arxiv_id == "2401.00001"))
        assert conn.execute(select(paper_authors)).all() == []
    assert store.follows.interests(user.id).hidden == frozenset()
    with store.db.write() as conn:
        conn.execute(delete(users).where(users.c.id == user.id))
    assert store.follows.interests(user.id) == Interests()


def test_the_author_index_follows_inserts_and_author_changes(store: Store) -> None:
    store.papers.upsert([paper("2401.00001", authors=("Ada Lovelace", "José García"))])
    store.papers.upsert([paper("2401.00001", title="Retitled", authors=("Ada Lovelace", "José García"))])

    def index() -> list[tuple[int, str]]:
        with store.db.read() as conn:
            return [(r.position, r.name_norm) for r in conn.execute(select(paper_authors).order_by("position"))]

    assert index() == [(0, "ada lovelace"), (1, "jose garcia")]
    store.papers.upsert([replace(paper("2401.00001", authors=("Charles Babbage",)), version=2)])
    assert index() == [(0, "charles babbage")]


# -- the rules -----------------------------------------------------------------------------------------


def test_blocked_by_hidden_categories_authors_and_whole_words() -> None:
    p = paper("2401.00001", title="Quantum-safe retrieval", abstract="We study   Grüneisen parameters.",
              authors=("José García", "Ada Lovelace"), categories=("cs.CL", "quant-ph"))  # fmt: skip
    assert not follows.blocked(p, Interests())
    assert follows.blocked(p, Interests(hidden=frozenset({"2401.00001"})))
    assert follows.blocked(p, Interests(never_categories=frozenset({"quant-ph"})))
    assert follows.blocked(p, Interests(never_authors=frozenset({normalise_name("Jose Garcia")})))
    assert not follows.blocked(p, Interests(never_authors=frozenset({"j. garcia"})))
    assert follows.blocked(p, Interests(never_words=frozenset({"quantum"})))
    assert follows.blocked(p, Interests(never_words=frozenset({"gruneisen parameters"})))
    assert not follows.blocked(p, Interests(never_words=frozenset({"quant", "retriev"})))  # whole words only
    assert not follows.blocked(p, Interests(never_words=frozenset({"grüneisen param"})))  # phrases too
    assert follows.blocked(p, Interests(never_words=frozenset({"safe retrieval", "absent phrase"})))


def test_the_rules_check_input_and_caps(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    user = member(store)
    store.papers.upsert([paper("2401.00001"), paper("2401.00002")])
    for kind, value in (("category", "not a category"), ("category", "cs.CL; drop"), ("author", "   "),
                        ("search", "q" * 301), ("planet", "mars")):  # fmt: skip
        with pytest.raises(Invalid):
            follows.follow(store, user, kind, value)
    with pytest.raises(Invalid):
        follows.add_rule(store, user, "word", "a")
    with pytest.raises(NotFound):
        follows.hide(store, user, "2401.99999")
    with pytest.raises(Invalid):
        follows.hide(store, user, "not an id")
    assert follows.hide(store, user, "arXiv:2401.00001v2") and not follows.hide(store, user, "2401.00001")
    monkeypatch.setattr(follows, "MAX_HIDDEN", 1)
    with pytest.raises(TooMany):
        follows.hide(store, user, "2401.00002")
    monkeypatch.setattr(follows, "MAX_FOLLOWS", 1)
    follows.follow(store, user, "category", "cs.CL")
    with pytest.raises(TooMany):
        follows.follow(store, user, "author", "Ada Lovelace")
    monkeypatch.setattr(follows, "MAX_RULES", 0)
    with pytest.raises(TooMany):
        follows.add_rule(store, user, "word", "quantum")


# -- the pages and the API ---------------------------------------------------------------------------


def categorised(site: Site, arxiv_id: str) -> Paper:
    """The stored paper, given a category if it has none (demo Daily-Papers entries come without)."""
    view = site.store.papers.get(arxiv_id)
    assert view is not None
    if not view.paper.categories:
        site.store.papers.upsert([replace(view.paper, categories=("cs.DL",))])  # a stored gap is filled
    found = site.store.papers.get(arxiv_id)
    assert found is not None and found.paper.categories
    return found.paper


def listed(client: TestClient, path: str) -> list[str]:
    return re.findall(r'<article class="card" data-paper="([^"]+)"', client.get(path).text)


def test_not_interested_hides_a_paper_from_the_readers_lists_only(site: Site) -> None:
    reader, visitor = site.member("picky"), TestClient(site.app)
    daily = listed(reader, "/")
    first = daily[0]
    assert listed(visitor, "/") == daily  # the anonymous page (and its cache) first
    page = reader.get("/").text
    assert f'action="/papers/{first}/not-interested"' in page and "Not interested" in page
    assert f'action="/papers/{first}/not-interested"' not in visitor.get("/").text  # visitors get no button
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    plain = TestClient(site.app, cookies=reader.cookies)  # a browser without scripts: the form's fields only
    done = plain.post(f"/papers/{first}/not-interested", data={"csrf_token": csrf, "hidden": "true"},
                      headers={"referer": "http://testserver/"}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert listed(visitor, "/") == daily  # the anonymous page, cached again at the new data version...
    assert listed(reader, "/") == daily[1:]  # ...is never what a signed-in reader gets
    assert first not in listed(reader, "/papers/trending")
    assert first not in [v["paper"]["id"] for v in reader.get("/papers/trending.json").json()]
    assert listed(visitor, "/") == daily  # anonymous (cached) pages are unaffected
    assert first in listed(visitor, "/papers/trending")
    title = site.store.papers.get(first)
    assert title is not None
    query = title.paper.title.split(":")[0][:60]
    assert first in listed(visitor, "/search?q=" + query) and first not in listed(reader, "/search?q=" + query)
    assert "Hidden · undo" in reader.get(f"/papers/{first}").text  # the paper page itself still opens
    assert first in reader.get("/following").text
    assert plain.post(f"/papers/{first}/not-interested", data={"csrf_token": "forged"}).status_code == 403
    reader.post(f"/papers/{first}/not-interested", data={"hidden": "false"})
    assert listed(reader, "/") == daily
    assert reader.post("/papers/2101.99999/not-interested", data={"hidden": "true"}).status_code == 404
    assert reader.post("/papers/not-an-id/not-interested", data={"hidden": "true"}).status_code == 400


def test_never_show_rules_filter_lists_and_are_listed_with_remove_buttons(site: Site) -> None:
    reader = site.member("ruler")
    daily = listed(reader, "/")
    found = categorised(site, daily[0])
    for kind, value in (("category", found.categories[0]), ("author", found.authors[0])):
        done = reader.post("/following/rules", data={"kind": kind, "value": value}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/following#rules"
        assert daily[0] not in listed(reader, "/")
        page = reader.get("/following").text
        assert 'action="/following/rules/remove"' in page
        reader.post("/following/rules/remove", data={"kind": kind, "value": value})
        assert listed(reader, "/") == daily
    word = next(w for w in found.title.split() if len(w) > 4 and w.isalpha())
    reader.post("/following/rules", data={"kind": "word", "value": word.upper()})
    assert daily[0] not in listed(reader, "/") and word.lower() in reader.get("/following").text
    bad = reader.post("/following/rules", data={"kind": "category", "value": "<script>"})
    assert bad.status_code == 400 and "<script>" not in bad.text
    assert reader.post("/following/rules", data={"kind": "planet", "value": "mars"}).status_code == 400
    assert reader.post("/following/rules", data={"kind": "word", "value": "x" * 700}).status_code == 400
    assert TestClient(site.app).get("/following", follow_redirects=False).status_code == 303  # log in first


def test_follow_categories_and_searches_and_caps_answer_429(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = site.member("follower")
    first = listed(reader, "/")[0]
    category = categorised(site, first).categories[0]
    page = reader.get(f"/papers/{first}").text
    assert f'name="value" value="{category}"' in page and "+ Follow" in page
    reader.post("/follows", data={"kind": "category", "value": category})
    assert "✓ Following" in reader.get(f"/papers/{first}").text
    results = reader.get("/search?q=diffusion+models").text
    assert "Follow</button>" in results.replace("+ Follow this search</button>", "Follow</button>")
    reader.post("/follows", data={"kind": "search", "value": "diffusion   models"},
                headers={"referer": "http://testserver/search?q=diffusion+models"})  # fmt: skip
    assert "✓ Following this search" in reader.get("/search?q=diffusion+models").text
    following = reader.get("/following").text
    assert category in following and "diffusion models" in following
    user = site.store.users.get("follower")
    assert user is not None
    got = site.store.follows.interests(user.id)
    assert got.categories == {category} and got.searches == ("diffusion models",)
    reader.post("/follows", data={"kind": "search", "value": "diffusion models", "followed": "false"})
    assert site.store.follows.interests(user.id).searches == ()
    assert reader.post("/follows", data={"kind": "author", "value": " "}).status_code == 400
    assert reader.post("/follows", data={"kind": "planet", "value": "mars"}).status_code == 400

    monkeypatch.setattr(follows, "MAX_FOLLOWS", 1)
    capped = reader.post("/follows", data={"kind": "author", "value": "Ada Lovelace"})
    assert capped.status_code == 429 and "most allowed" in capped.text
    monkeypatch.setattr(follows, "MAX_RULES", 0)
    assert reader.post("/following/rules", data={"kind": "word", "value": "quantum"}).status_code == 429


def test_the_api_reads_with_any_token_and_changes_with_a_write_token(site: Site) -> None:
    site.member("scripted")
    user = site.store.users.get("scripted")
    assert user is not None
    read = site.store.tokens.create(user.id, "read", "read")[1]
    write = site.store.tokens.create(user.id, "write", "write")[1]
    client = TestClient(site.app)
    assert client.get("/api/follows").status_code == 401
    assert client.get("/api/follows", headers={"authorization": f"Bearer {read}"}).json()["authors"] == []
    change = {"kind": "author", "value": "Ada  Lovelace"}
    assert client.post("/api/follows", json=change, headers={"authorization": f"Bearer {read}"}).status_code == 403
    done = client.post("/api/follows", json=change, headers={"authorization": f"Bearer {write}"}).json()
    assert done["changed"] and done["authors"] == ["ada lovelace"]
    again = client.post("/api/follows", json=change, headers={"authorization": f"Bearer {write}"}).json()
    assert not again["changed"]
    rule = {"kind": "never-word", "value": "Blockchain"}
    assert client.post("/api/follows", json=rule, headers={"authorization": f"Bearer {write}"}).json()["never"][
        "words"
    ] == ["blockchain"]
    assert client.post("/api/follows", json=rule | {"kind": "comet"},
                       headers={"authorization": f"Bearer {write}"}).status_code == 400  # fmt: skip
    assert client.post("/api/follows", json=change).status_code == 403  # no token, no CSRF


# -- never-show rules everywhere: the API for a token's user, the digest, the private For-you feed ------------


def test_daily_papers_api_drops_what_a_tokens_user_hid_or_ruled_out(site: Site) -> None:
    user = member(site.store, "api-reader")
    token = site.store.tokens.create(user.id, "script", "read")[1]
    guest = TestClient(site.app)
    bearer = {"authorization": f"Bearer {token}"}
    everyone = [item["paper"]["id"] for item in guest.get("/api/daily_papers?limit=100").json()]
    assert [item["paper"]["id"] for item in guest.get("/api/daily_papers?limit=100", headers=bearer).json()] == everyone
    trending = {item["paper"]["id"] for item in guest.get("/api/daily_papers?limit=100&sort=trending").json()}
    both = [arxiv_id for arxiv_id in everyone if arxiv_id in trending]  # on both first pages
    hidden, ruled = both[0], categorised(site, both[1])
    follows.hide(site.store, user, hidden)
    follows.add_rule(site.store, user, "author", ruled.authors[0])
    for sort in ("publishedAt", "trending"):
        mine = [
            item["paper"]["id"] for item in guest.get(f"/api/daily_papers?limit=100&sort={sort}", headers=bearer).json()
        ]
        assert hidden not in mine and ruled.arxiv_id not in mine and mine, sort
        assert hidden in [item["paper"]["id"] for item in guest.get(f"/api/daily_papers?limit=100&sort={sort}").json()]


def test_a_digest_tied_to_an_account_drops_what_it_hid_or_ruled_out_from_every_source(store: Store) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from broadsheet.mail.digest import Selector, period_for
    from broadsheet.models import Preferences, Subscriber

    when = datetime(2026, 8, 20, 12, tzinfo=UTC)
    made = [
        replace(paper(f"2608.4000{k}", f"Paper {k}", authors=(f"Writer {k}",)), submitted_at=when) for k in range(4)
    ]
    store.papers.upsert(made)
    user = member(store)
    follows.hide(store, user, "2608.40000")
    follows.add_rule(store, user, "author", "writer 1")
    follows.add_rule(store, user, "word", "paper 2")
    prefs = Preferences(trending=False, categories=("cs.CL",), max_papers=10)
    period = period_for("2026-08-20", when.date())
    select_for = Selector(store, None, ZoneInfo("UTC")).papers  # type: ignore[arg-type]  # no topics: no search
    tied = Subscriber(1, "reader@example.org", "active", prefs, 0, user.id, None)
    assert [v.paper.arxiv_id for v in select_for(tied, period)] == ["2608.40003"]
    unlinked = Subscriber(2, "someone@example.org", "active", prefs, 0, None, None)
    assert sorted(v.paper.arxiv_id for v in select_for(unlinked, period)) == [p.arxiv_id for p in made]
