"""For you: signals gathered from the store (both backends), the cold start, the pages, the private feed, the digest."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from community_site import Site

from broadsheet.community import accounts, collections, follows
from broadsheet.errors import Invalid
from broadsheet.mail.digest import Selector, period_for
from broadsheet.mail.subscriptions import preferences
from broadsheet.models import Paper, Preferences, Subscriber, User
from broadsheet.personal import foryou
from broadsheet.search.vectors import open_vectors
from broadsheet.store import Store
from broadsheet.store.schema import metadata

MODEL = "test-vectors"
TODAY = date(2026, 8, 21)


def unit(axis: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(384, dtype=np.float32)
    v[axis] = 1.0
    v += noise * rng.standard_normal(384).astype(np.float32) / 20
    return v / np.linalg.norm(v)


def library(store: Store) -> dict[str, int]:
    """Twenty new papers: 2608.100xx about topic 0, 2608.200xx about topic 1; and two older papers."""
    rng = np.random.default_rng(7)
    made = []
    for topic, base in ((0, 10000), (1, 20000)):
        for k in range(10):
            arxiv_id = f"2608.{base + k:05d}"
            cat = "cs.CL" if topic == 0 else "math.AG"
            when = datetime(2026, 8, 20, 12, tzinfo=UTC) - timedelta(hours=k)
            paper = Paper(arxiv_id, f"Paper {arxiv_id}", "An abstract.", (f"Writer {base + k}",), (cat,),
                          submitted_at=when)  # fmt: skip
            made.append((paper, unit(topic, 1.0, rng)))
    for arxiv_id, topic in (("2501.00001", 0), ("2501.00002", 1)):
        made.append((Paper(arxiv_id, f"Old {arxiv_id}", "Old.", ("Someone",), ("cs.CL",),
                           submitted_at=datetime(2025, 1, 2, tzinfo=UTC)), unit(topic, 0.2, rng)))  # fmt: skip
    store.papers.upsert([p for p, _ in made])
    rows = {p.arxiv_id: store.papers.id_of(p.arxiv_id) for p, _ in made}
    store.embeddings.save(MODEL, [(rows[p.arxiv_id], v) for p, v in made])  # type: ignore[misc]
    return {k: v for k, v in rows.items() if v is not None}


def reader(store: Store, name: str = "reader") -> User:
    return accounts.sign_up(store, name, None, "correct horse battery")


def picks(store: Store, user: User, tmp_path: Path, **kwargs: object) -> list[foryou.Pick]:
    vectors = open_vectors(store, MODEL, 384, tmp_path / "vectors")
    vectors.refresh()
    return foryou.for_you(store, vectors, user, today=TODAY, **kwargs)  # type: ignore[arg-type]


def ids(found: list[foryou.Pick]) -> list[str]:
    return [p.view.paper.arxiv_id for p in found]


def test_votes_and_saves_pull_their_topic_up_and_each_pick_says_why(store: Store, tmp_path: Path) -> None:
    rows = library(store)
    user = reader(store)
    store.community.vote(user.id, rows["2501.00001"], True)
    collections.save(store, user, "2608.10000")
    found = picks(store, user, tmp_path, limit=9)
    assert set(ids(found)) == {f"2608.{10000 + k}" for k in range(1, 10)}  # the saved paper itself is left out
    for pick in found:
        assert re.fullmatch(r"like “(Old 2501\.00001|Paper 2608\.10000)”, which you (upvoted|saved)", pick.reasons[0])
    assert len(picks(store, user, tmp_path)) == 19  # every other new paper, ranked


def test_hidden_papers_and_rules_stay_off_and_nothing_known_gives_nothing(store: Store, tmp_path: Path) -> None:
    library(store)
    user = reader(store)
    assert picks(store, user, tmp_path) == []
    collections.save(store, user, "2608.10000")
    follows.hide(store, user, "2608.10001")
    follows.add_rule(store, user, "category", "math.AG")
    follows.add_rule(store, user, "author", "Writer 10002")
    left = set(ids(picks(store, user, tmp_path)))
    assert left == {f"2608.{10000 + k}" for k in range(3, 10)}


def test_follows_alone_pick_what_they_match(store: Store, tmp_path: Path) -> None:
    library(store)
    user = reader(store)
    follows.follow(store, user, "author", "writer 20003")
    follows.follow(store, user, "category", "cs.CL")
    found = picks(store, user, tmp_path)
    assert found[0].view.paper.arxiv_id == "2608.20003"
    assert found[0].reasons == ("by Writer 20003, whom you follow",)
    assert all(p.reasons == ("in cs.CL, which you follow",) for p in found[1:]) and len(found) == 11


def test_the_period_falls_back_to_the_newest_papers_and_can_be_given(store: Store, tmp_path: Path) -> None:
    rows = library(store)
    user = reader(store)
    follows.follow(store, user, "category", "cs.CL")
    vectors = open_vectors(store, MODEL, 384, tmp_path / "vectors")
    later = foryou.for_you(store, vectors, user, today=TODAY + timedelta(days=30))
    assert later == []  # nothing new then, and no Daily Papers listing to fall back to
    among = foryou.for_you(store, vectors, user, today=TODAY, among=[rows["2608.10004"], rows["2608.20004"]])
    assert ids(among) == ["2608.10004"]


def test_seeds_from_a_bibtex_export_go_to_a_private_collection(store: Store, tmp_path: Path) -> None:
    library(store)
    user = reader(store)
    bib = """@article{a, title={A}, eprint={2608.10000}, archivePrefix={arXiv}}
@misc{b, title={B}, url={https://arxiv.org/abs/2608.10001v2}}
@misc{c, title={C}, eprint={2609.99999}, archivePrefix={arXiv}}"""
    seeded = foryou.seed(store, user, bib)
    assert seeded == foryou.Seeded(("2608.10000", "2608.10001"), (), ("2609.99999",))
    assert foryou.seed(store, user, "2608.10000 and 2608.10002").already == ("2608.10000",)
    box = foryou.seeds(store, user)
    assert box.private and box.title == "Seeds" and box.size == 3
    found = picks(store, user, tmp_path, limit=5)
    assert all(p.reasons[0].endswith("which you gave as a seed") for p in found)
    assert set(ids(found)) <= {f"2608.{10000 + k}" for k in range(10)}
    with pytest.raises(Invalid, match="no arXiv ids"):
        foryou.seed(store, user, "nothing to see here")
    assert foryou.seed(store, user, "2609.99998").unknown == ("2609.99998",)


def test_feed_keys_are_per_account_replaceable_and_removable(store: Store) -> None:
    user, other = reader(store), reader(store, "other")
    assert store.foryou.feed_key(user) is None
    first = store.foryou.new_feed_key(user)
    assert store.foryou.feed_key(user) == first and store.foryou.feed_key(other) is None
    second = store.foryou.new_feed_key(user)
    assert second != first and store.foryou.feed_key(user) == second
    assert store.foryou.drop_feed_key(user) and store.foryou.feed_key(user) is None
    assert not store.foryou.drop_feed_key(user)


def test_the_migration_matches_the_subscribers_table_and_keeps_the_choice(store: Store) -> None:
    def named(name: str | None, kind: str, parent: object) -> bool:
        return kind != "table" or name == "subscribers"

    def compared(item: Any, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return (name if kind == "table" else getattr(item, "table", item).name) == "subscribers"

    opts = {"include_name": named, "include_object": compared}
    with store.db.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), metadata) == []
    subscriber, _ = store.subscribers.subscribe("a@example.org", Preferences(for_you=True))
    assert subscriber.preferences.for_you
    store.subscribers.update_preferences(subscriber.id, Preferences())
    assert not (store.subscribers.get(subscriber.id) or subscriber).preferences.for_you


def test_the_digest_preferences_take_for_you_alone() -> None:
    prefs = preferences(frequency="daily", max_papers=5, trending=False, categories="", exclude="", topics="",
                        for_you=True)  # fmt: skip
    assert prefs.for_you and not prefs.trending
    with pytest.raises(Invalid, match="For you"):
        preferences(frequency="daily", max_papers=5, trending=False, categories="", exclude="", topics="")


# -- the site: pages, JSON, the private feed, the digest (real model, demo corpus) -----------------------


def demo_ids(site: Site, n: int) -> list[str]:
    views, _ = site.store.papers.newest(limit=n)
    return [v.paper.arxiv_id for v in views]


def test_for_you_needs_an_account(site: Site) -> None:
    guest = site.guest()
    assert guest.get("/for-you", follow_redirects=False).status_code in (302, 303)
    assert guest.get("/for-you.json").status_code == 401


def test_ten_pasted_ids_give_a_page_whose_every_item_says_why(site: Site) -> None:
    client = site.member("paster")
    empty = client.get("/for-you")
    assert empty.status_code == 200 and "Start from papers you know" in empty.text and 'class="pick"' not in empty.text
    pasted = "\n".join(demo_ids(site, 10))
    page = client.post("/for-you/seeds", data={"text": pasted})
    assert page.status_code == 200 and "Added 10 seeds." in page.text
    cards = page.text.count('class="pick"')
    assert cards >= 10 and page.text.count('aria-label="Why"') == cards
    assert page.text.count("which you gave as a seed") == cards
    items = client.get("/for-you.json").json()["items"]
    assert len(items) == cards and all(item["reasons"] for item in items)
    assert not {i["id"] for i in items} & set(pasted.split())  # seeds themselves are not recommended
    again = client.post("/for-you/seeds", data={"text": pasted.split()[0]})
    assert "Added 0 seeds. 1 were seeds already." in again.text
    bad = client.post("/for-you/seeds", data={"text": "no ids here"})
    assert bad.status_code == 400 and "no arXiv ids found" in bad.text


def test_an_uploaded_export_seeds_too(site: Site) -> None:
    client = site.member("uploader")
    ris = "".join(f"TY  - JOUR\nTI  - X\nUR  - https://arxiv.org/abs/{i}\nER  - \n" for i in demo_ids(site, 3))
    page = client.post("/for-you/seeds", data={"text": ""}, files={"file": ("library.ris", ris.encode(), "text/plain")})
    assert page.status_code == 200 and "Added 3 seeds." in page.text


def test_the_private_feed_url_works_without_login_and_can_be_replaced_or_turned_off(site: Site) -> None:
    client = site.member("feeder")
    client.post("/for-you/seeds", data={"text": " ".join(demo_ids(site, 5))})
    assert "Make a private feed URL" in client.get("/for-you").text
    client.post("/for-you/feed", data={"action": "new"})
    url = client.get("/for-you.json").json()["feed"]
    path = url.removeprefix(site.settings.public_url)
    guest = site.guest()
    atom = guest.get(path)
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/xml")
    parsed = feedparser.parse(atom.content)
    assert parsed.entries and all(re.match(r"Why: (like|shares) “", e.summary) for e in parsed.entries)
    rss = guest.get(path.removesuffix(".atom") + ".xml")
    assert rss.status_code == 200 and feedparser.parse(rss.content).entries
    assert guest.get(path.removesuffix(".atom") + ".json").status_code == 404
    assert guest.get(path.replace(".atom", "x.atom")).status_code == 404  # tampered

    client.post("/for-you/feed", data={"action": "new"})
    fresh = client.get("/for-you.json").json()["feed"].removeprefix(site.settings.public_url)
    assert fresh != path and guest.get(path).status_code == 404 and guest.get(fresh).status_code == 200
    client.post("/for-you/feed", data={"action": "off"})
    assert guest.get(fresh).status_code == 404 and client.get("/for-you.json").json()["feed"] is None
    assert client.post("/for-you/feed", data={"action": "sideways"}).status_code == 400


def test_the_digest_gains_for_you_as_a_source(site: Site) -> None:
    user = accounts.sign_up(site.store, "digester", None, "correct horse battery")
    latest = site.store.daily.latest_day()
    assert latest is not None
    period = period_for(latest.isoformat(), latest)
    new = site.store.papers.new_in(latest, latest, site.settings.zone)
    seeds = [v.paper.arxiv_id for v in site.store.papers.views(new[:3])]
    foryou.seed(site.store, user, " ".join(seeds))
    prefs = Preferences(trending=False, for_you=True, max_papers=5)
    subscriber = Subscriber(1, "digester@example.org", "active", prefs, 0, user.id, None)
    chosen = Selector(site.store, site.engine, site.settings.zone).papers(subscriber, period)
    expected = foryou.for_you(site.store, site.engine, user, limit=5, among=new)
    assert [v.paper.arxiv_id for v in chosen] == [p.view.paper.arxiv_id for p in expected] and chosen
    assert not {v.paper.arxiv_id for v in chosen} & set(seeds)
    unlinked = Subscriber(2, "someone@example.org", "active", prefs, 0, None, None)
    assert Selector(site.store, site.engine, site.settings.zone).papers(unlinked, period) == []
    form = site.guest().get("/subscribe").text
    assert 'name="for_you"' in form


def test_words_shared_with_a_saved_paper_rank_it_when_the_vectors_tie(store: Store, tmp_path: Path) -> None:
    same = unit(0, 0.0, np.random.default_rng(0))  # every vector alike: only the abstracts tell the papers apart
    when = datetime(2026, 8, 20, 12, tzinfo=UTC)
    made = [
        Paper("2608.30000", "Elliptic curves", "Elliptic curves over finite fields.", ("A",), ("cs.LG",), submitted_at=when),
        Paper("2608.30001", "Autoencoders", "Sparse autoencoder features of language models.", ("B",), ("cs.LG",),
              submitted_at=when),
        Paper("2501.30002", "Old", "Sparse autoencoder features, interpreted.", ("C",), ("cs.LG",),
              submitted_at=datetime(2025, 1, 2, tzinfo=UTC)),
    ]  # fmt: skip
    store.papers.upsert(made)
    rows = {p.arxiv_id: store.papers.id_of(p.arxiv_id) for p in made}
    store.embeddings.save(MODEL, [(row, same) for row in rows.values()])  # type: ignore[misc]
    user = reader(store)
    collections.save(store, user, "2501.30002")
    assert ids(picks(store, user, tmp_path)) == ["2608.30001", "2608.30000"]


# -- the cost guard: a reader's ranking is reused while nothing of theirs changed; new ones are throttled ------


def test_a_ranking_is_reused_until_the_readers_data_changes_or_it_expires(store: Store, tmp_path: Path) -> None:
    library(store)
    user = reader(store)
    collections.save(store, user, "2608.10000")
    rankings, ranked = foryou.Rankings(), []
    first = picks(store, user, tmp_path, rankings=rankings, gate=lambda: ranked.append(1))
    assert picks(store, user, tmp_path, rankings=rankings, gate=lambda: ranked.append(1)) == first
    assert len(ranked) == 1 and first
    follows.hide(store, user, ids(first)[0])  # the reader's data changed: a new ranking, at once
    again = picks(store, user, tmp_path, rankings=rankings, gate=lambda: ranked.append(1))
    assert len(ranked) == 2 and ids(first)[0] not in ids(again)
    other = reader(store, "other")  # rankings are per reader
    collections.save(store, other, "2608.20000")
    assert ids(picks(store, other, tmp_path, rankings=rankings, gate=lambda: ranked.append(1)))[0].startswith("2608.2")
    assert len(ranked) == 3
    stale = foryou.Rankings(ttl=0.0)
    picks(store, user, tmp_path, rankings=stale, gate=lambda: ranked.append(1))
    picks(store, user, tmp_path, rankings=stale, gate=lambda: ranked.append(1))
    assert len(ranked) == 5


def test_for_you_reuses_a_readers_ranking_and_answers_429_past_the_per_user_rate(site: Site) -> None:
    from broadsheet.throttle import Throttle
    from broadsheet.web.foryou import RANKINGS_PER_MINUTE

    kept = site.app.state.foryou_throttle
    # the site's burst, refilled slowly enough that a loaded machine's seconds cannot refill it mid-test
    site.app.state.foryou_throttle = Throttle(rate=0.001, burst=RANKINGS_PER_MINUTE)
    try:
        _hurry(site, RANKINGS_PER_MINUTE)
    finally:
        site.app.state.foryou_throttle = kept


def _hurry(site: Site, per_minute: int) -> None:
    client = site.member("hurried")
    client.post("/for-you/seeds", data={"text": " ".join(demo_ids(site, 5))})  # one ranking (the page shown)
    for _ in range(per_minute * 2):  # the same ranking, reused: never refused
        assert client.get("/for-you.json").status_code == 200
    first = client.get("/for-you.json").json()["items"][0]["id"]
    statuses = []
    for k in range(per_minute):  # each change is a new ranking
        client.post(f"/papers/{first}/not-interested", data={"hidden": "true" if k % 2 == 0 else "false"})
        statuses.append(client.get("/for-you.json").status_code)
    assert statuses[: per_minute - 1] == [200] * (per_minute - 1) and statuses[-1] == 429
    refused = client.get("/for-you.json")
    assert refused.status_code == 429 and "times in a minute for your account" in refused.text
    page = client.get("/for-you")
    assert page.status_code == 429 and "times in a minute for your account" in page.text
    assert site.member("patient").get("/for-you").status_code == 200  # other readers are not affected


def test_the_private_feed_drops_what_its_reader_hid_or_ruled_out(site: Site) -> None:
    client = site.member("feed-ruler")
    client.post("/for-you/seeds", data={"text": " ".join(demo_ids(site, 5))})
    client.post("/for-you/feed", data={"action": "new"})
    path = client.get("/for-you.json").json()["feed"].removeprefix(site.settings.public_url)
    guest = site.guest()

    def entries() -> list[str]:
        return [e.link.rsplit("/", 1)[-1] for e in feedparser.parse(guest.get(path).content).entries]

    before = entries()
    assert len(before) >= 3
    client.post(f"/papers/{before[0]}/not-interested", data={"hidden": "true"})
    ruled = site.store.papers.get(before[1])
    assert ruled is not None
    client.post("/following/rules", data={"kind": "author", "value": ruled.paper.authors[0]})
    after = entries()
    assert before[0] not in after and before[1] not in after and after
