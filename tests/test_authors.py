"""Author pages: exact normalised names, co-authors, verified claims joining spellings, the page and its JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from community_site import Site
from fastapi.testclient import TestClient

from broadsheet.community import accounts
from broadsheet.community import authors as people
from broadsheet.errors import Invalid, NotFound
from broadsheet.models import Paper
from broadsheet.store import Store


def paper(arxiv_id: str, authors: tuple[str, ...], day: int) -> Paper:
    when = datetime(2024, 1, day, tzinfo=UTC)
    return Paper(arxiv_id, f"Paper {arxiv_id}", "An abstract.", authors, ("cs.CL",), version=1, submitted_at=when)


CORPUS = [
    paper("2401.00001", ("John Smith", "Ada Lovelace"), 1),
    paper("2401.00002", ("JOHN  SMITH", "Ada Lovelace", "Alan Turing"), 2),
    paper("2401.00003", ("John Smith", "Grace Hopper"), 3),
    paper("2401.00004", ("J. Smith", "Someone Else"), 4),  # another person, or the same: never merged by guessing
    paper("2401.00005", ("J. Smith", "Grace Hopper"), 5),
    paper("2401.00006", ("José García",), 6),
]


def approve(store: Store, user_id: int, arxiv_id: str, author: str) -> None:
    store.claims.add(store.papers.id_of(arxiv_id) or 0, user_id, author)
    claim = next(c for c in store.claims.pending() if c.arxiv_id == arxiv_id and c.user_id == user_id)
    assert store.claims.decide(claim.id, True)


def test_an_author_is_an_exact_normalised_name_with_papers_newest_first_and_coauthors(store: Store) -> None:
    store.papers.upsert(CORPUS)
    found = people.page(store, "john smith")
    assert [v.paper.arxiv_id for v in found.views] == ["2401.00003", "2401.00002", "2401.00001"]
    assert found.total == 3 and found.name == "John Smith" and set(found.spellings) == {"John Smith", "JOHN  SMITH"}
    assert [(c.name, c.papers) for c in found.coauthors] == [("Ada Lovelace", 2), ("Alan Turing", 1),
                                                             ("Grace Hopper", 1)]  # fmt: skip
    assert [v.paper.arxiv_id for v in people.page(store, "J.Smith").views] == ["2401.00005", "2401.00004"]
    assert people.page(store, "Jose Garcia").name == "José García"  # accents and case do not matter
    assert not found.accounts and not found.variants
    with pytest.raises(NotFound):
        people.page(store, "Nobody Atall")
    with pytest.raises(Invalid):
        people.page(store, "  ")
    with pytest.raises(Invalid):
        people.page(store, "x" * 301)
    assert people.url("J. Smith/Jr") == "/authors/J.%20Smith%2FJr"


def test_verified_claims_join_the_spellings_one_account_claimed(store: Store) -> None:
    store.papers.upsert(CORPUS)
    john = accounts.sign_up(store, "jsmith", None, "correct horse battery")
    approve(store, john.id, "2401.00001", "John Smith")
    approve(store, john.id, "2401.00005", "J. Smith")  # only this "J. Smith" paper is his
    found = people.page(store, "John Smith")
    assert [a.username for a in found.accounts] == ["jsmith"]
    assert [(v.name, v.arxiv_ids) for v in found.variants] == [("J. Smith", ("2401.00005",))]
    assert [v.paper.arxiv_id for v in found.views] == ["2401.00005", "2401.00003", "2401.00002", "2401.00001"]
    assert found.total == 4  # 2401.00004's "J. Smith" is not joined: nobody verified that one
    other = people.page(store, "J. Smith")
    assert [a.username for a in other.accounts] == ["jsmith"] and other.variants[0].name == "John Smith"
    pending = accounts.sign_up(store, "pending", None, "correct horse battery")
    store.claims.add(store.papers.id_of("2401.00006") or 0, pending.id, "José García")
    assert not people.page(store, "José García").accounts  # a pending claim verifies nothing


def test_the_author_index_is_backfilled_by_the_migration(store: Store) -> None:
    """Papers stored before 0013 get their rows when it runs."""
    from alembic import command
    from sqlalchemy import select

    from broadsheet.store.engine import _alembic_config
    from broadsheet.store.schema import paper_authors

    store.papers.upsert(CORPUS)
    with store.db.write() as conn:
        command.downgrade(_alembic_config(conn), "0012")
    with store.db.write() as conn:
        command.upgrade(_alembic_config(conn), "0013")
    with store.db.read() as conn:
        rows = conn.execute(select(paper_authors.c.name_norm).order_by("paper_id", "position")).scalars().all()
    assert rows[:3] == ["john smith", "ada lovelace", "john smith"] and len(rows) == 12
    store.migrate()


# -- the pages ---------------------------------------------------------------------------------------


def test_author_pages_link_from_cards_show_json_and_follow_without_javascript(site: Site) -> None:
    site.store.papers.upsert([paper("2401.09991", ("Zed Quux", "Wynn Vex"), 7),
                              paper("2401.09992", ("Zed  QUUX", "Wynn Vex"), 8)])  # fmt: skip
    member = site.member("fan")
    page = member.get("/papers/2401.09991").text
    assert 'href="/authors/Zed%20Quux">Zed Quux</a>' in page
    author = member.get("/authors/Zed%20Quux")
    assert author.status_code == 200 and "2 papers" in author.text and "Wynn Vex" in author.text
    assert author.text.index("2401.09992") < author.text.index("2401.09991")  # newest first
    assert 'href="/authors/Wynn%20Vex">Wynn Vex</a>' in author.text  # the cards link every name shown
    assert 'href="/authors/Zed%20%20QUUX">Zed  QUUX</a>' in member.get("/papers/2401.09992").text
    data = member.get("/authors/zed%20quux.json").json()
    assert data["key"] == "zed quux" and [p["id"] for p in data["papers"]] == ["2401.09992", "2401.09991"]
    assert data["coauthors"] == [{"name": "Wynn Vex", "papers": 2, "url": "/authors/Wynn%20Vex"}]
    assert data["papers"][0]["upvotes"] == 0
    assert member.get("/authors/Nobody%20Here").status_code == 404
    assert member.get("/authors/" + "x" * 400).status_code == 400

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', author.text)[1]  # type: ignore[index]
    plain = TestClient(site.app, cookies=member.cookies)  # a browser without scripts: the form's fields only
    form = {"csrf_token": csrf, "kind": "author", "value": "Zed Quux", "followed": "true"}
    done = plain.post("/follows", data=form, headers={"referer": "http://testserver/authors/Zed%20Quux"},
                      follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/authors/Zed%20Quux"
    assert "✓ Following" in member.get("/authors/Zed%20Quux").text
    user = site.store.users.get("fan")
    assert user is not None and site.store.follows.interests(user.id).authors == {"zed quux"}
    assert TestClient(site.app).post("/follows", data=form | {"csrf_token": "forged"}).status_code == 403
    visitor = site.guest()
    assert visitor.post("/follows", data=form, follow_redirects=False).status_code in (303, 403)
    assert "+ Follow" not in visitor.get("/authors/Zed%20Quux").text  # visitors get a login link instead


def test_control_characters_in_an_author_name_get_an_answer_never_a_500(site: Site) -> None:
    for name in ("%00", "Jane%00Doe", "%1b%5b31m", "%7f"):
        answer = TestClient(site.app).get(f"/authors/{name}")
        assert answer.status_code in (200, 400, 404), (name, answer.status_code)
