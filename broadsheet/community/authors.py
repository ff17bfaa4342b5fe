"""Authors as people: one page per exact normalised name, joined to other spellings only by verified claims.

    page = authors.page(store, "José García")    # AuthorPage: papers newest first, co-authors, verified accounts
    page.variants                                # other names an account verified as this author also claimed

"J. Smith" and "John Smith" are two pages: nothing merges names by guessing. When an admin has verified
an account as "John Smith" on some paper, and the same account as "J. Smith" on another, both pages
show the account, list the other spelling, and include the papers claimed under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from broadsheet.community.names import normalise_name
from broadsheet.errors import Invalid, NotFound
from broadsheet.models import PaperView, Submitter
from broadsheet.store import Store
from broadsheet.store.authors import CoAuthor, VerifiedClaim

PAGE_SIZE = 50
MAX_NAME = 300
COAUTHORS = 20


@dataclass(frozen=True, slots=True)
class Variant:
    """Another name an account verified as this author was verified as, with the papers claimed under it."""

    name: str
    key: str
    account: Submitter
    arxiv_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorPage:
    name: str  # the spelling asked for, else the most used one
    key: str
    spellings: tuple[str, ...]
    views: tuple[PaperView, ...]  # this page of papers, newest first
    total: int
    coauthors: tuple[CoAuthor, ...]
    accounts: tuple[Submitter, ...]  # verified as this author
    variants: tuple[Variant, ...]


def url(name: str) -> str:
    """The author page's path."""
    return "/authors/" + quote(name, safe="")


def key_of(name: str) -> str:
    if len(name) > MAX_NAME:
        raise Invalid(f"an author's name has at most {MAX_NAME} characters")
    key = normalise_name(name)
    if not key:
        raise Invalid("which author? the name is empty")
    return key


def page(store: Store, name: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> AuthorPage:
    key = key_of(name)
    own = store.authors.paper_ids(key)
    claimed = [c for c in store.authors.claims_of(paper_ids=own) if normalise_name(c.author) == key]
    accounts = {c.user_id: c.account for c in claimed}
    variants = _variants(store.authors.claims_of(user_ids=list(accounts)), key)
    also = sorted({c.paper_id for v in variants for c in v})
    total = store.authors.count(key, also=also)
    if total == 0:
        raise NotFound(f"no papers by {name[:100]!r} here (names are matched exactly, ignoring case and accents)")
    spellings = store.authors.spellings(key)
    shown = name.strip() if normalise_name(name.strip()) == key and name.strip() in spellings else spellings[0]
    return AuthorPage(
        name=shown, key=key, spellings=tuple(spellings),
        views=tuple(store.authors.papers(key, also=also, limit=limit, offset=offset)), total=total,
        coauthors=tuple(store.authors.coauthors(key, limit=COAUTHORS)), accounts=tuple(accounts.values()),
        variants=tuple(
            Variant(group[0].author, normalise_name(group[0].author), group[0].account,
                    tuple(dict.fromkeys(c.arxiv_id for c in group)))
            for group in variants
        ),
    )  # fmt: skip


def _variants(claims: list[VerifiedClaim], key: str) -> list[list[VerifiedClaim]]:
    """The claims under other names, grouped by (account, normalised name), in claim order."""
    groups: dict[tuple[int, str], list[VerifiedClaim]] = {}
    for claim in claims:
        other = normalise_name(claim.author)
        if other != key:
            groups.setdefault((claim.user_id, other), []).append(claim)
    return list(groups.values())
