"""Follows, "not interested" and never-show rules: the rules on input, and which papers a reader never sees.

    follows.follow(store, user, "author", "Jane Doe")     # FOLLOW_KINDS: author | category | search
    follows.hide(store, user, "2401.01234")               # "not interested"
    follows.add_rule(store, user, "word", "quantum")      # RULE_KINDS: category | word | author
    follows.blocked(paper, store.follows.interests(user.id))   # -> True: keep it off this reader's lists

Names compare by `normalise_name` (broadsheet.community.names: NFKC, accents stripped, case-folded, spaces
collapsed), exactly: "J. Smith" and "John Smith" are two people. A word rule matches whole words or
phrases of the title or abstract, compared the same way ("Quantum" blocks "quantum-safe", not "quantumness").
Every function raises a named error (broadsheet.errors) with a message for people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from broadsheet import ids
from broadsheet.community import actions as community
from broadsheet.community.names import fold, normalise_name
from broadsheet.errors import Invalid, TooMany
from broadsheet.ingest.metadata import xml_safe
from broadsheet.models import Paper, PaperView, User
from broadsheet.store import Store
from broadsheet.store.follows import FOLLOW_KINDS, RULE_KINDS, Full, Interests

__all__ = ["FOLLOW_KINDS", "RULE_KINDS", "Interests", "blocked", "normalise_name", "visible"]

MAX_FOLLOWS = 500  # authors, categories and searches together, per user
MAX_HIDDEN = 5000  # papers marked "not interested", per user
MAX_RULES = 200  # never-show rules, per user
MAX_NAME = 300  # an author's name, a word or phrase, a search
MIN_WORD = 2


def value_of(kind: str, value: str) -> str:
    """A follow's or rule's value, checked: a category by arXiv's pattern, the rest by length."""
    text = " ".join(xml_safe(value).split())
    if kind == "category":
        if not ids.is_category(text) or len(text) > 32:
            raise Invalid(f"{text[:40]!r} is not an arXiv category (like cs.CL or hep-th)")
        return text
    if len(text) > MAX_NAME:
        raise Invalid(f"at most {MAX_NAME} characters")
    if kind == "word" and len(normalise_name(text)) < MIN_WORD:
        raise Invalid(f"a word to never show has at least {MIN_WORD} characters")
    if not normalise_name(text):
        raise Invalid(f"an {kind} cannot be empty" if kind == "author" else f"a {kind} cannot be empty")
    return text


def _kind(kind: str, kinds: tuple[str, ...]) -> str:
    if kind not in kinds:
        raise Invalid(f"kind is one of {', '.join(kinds)}, not {kind[:20]!r}")
    return kind


def follow(store: Store, user: User, kind: str, value: str, followed: bool = True) -> bool:
    """Follow (or stop following) an author, a category or a search; idempotent."""
    text = value_of(_kind(kind, FOLLOW_KINDS), value)
    if not followed:
        return store.follows.unfollow(user.id, kind, text)
    try:
        return store.follows.follow(user.id, kind, text, cap=MAX_FOLLOWS)
    except Full:
        raise TooMany(f"you follow {MAX_FOLLOWS} things, the most allowed: stop following some first") from None


def hide(store: Store, user: User, arxiv_id: str, hidden: bool = True) -> bool:
    """Mark a paper "not interested" (or take that back); idempotent."""
    row_id = community.row_of(store, arxiv_id)
    if not hidden:
        return store.follows.unhide(user.id, row_id)
    try:
        return store.follows.hide(user.id, row_id, cap=MAX_HIDDEN)
    except Full:
        raise TooMany(f"you have hidden {MAX_HIDDEN} papers, the most allowed: show some again first") from None


def add_rule(store: Store, user: User, kind: str, value: str) -> bool:
    text = value_of(_kind(kind, RULE_KINDS), value)
    try:
        return store.follows.add_rule(user.id, kind, text, cap=MAX_RULES)
    except Full:
        raise TooMany(f"you have {MAX_RULES} rules, the most allowed: remove some first") from None


def remove_rule(store: Store, user: User, kind: str, value: str) -> bool:
    return store.follows.remove_rule(user.id, _kind(kind, RULE_KINDS), " ".join(value.split())[:MAX_NAME])


def blocked(paper: Paper, interests: Interests) -> bool:
    """True when the reader hid this paper or one of their never-show rules matches it."""
    if paper.arxiv_id in interests.hidden:
        return True
    if interests.never_categories and not interests.never_categories.isdisjoint(paper.categories):
        return True
    if interests.never_authors and any(normalise_name(a) in interests.never_authors for a in paper.authors):
        return True
    if interests.never_words:
        single, phrases, pattern = _rules(interests.never_words)
        text = _text(paper)
        if single and not single.isdisjoint(_WORD.findall(text)):
            return True
        # a plain substring test first: the whole-word pattern only runs on the few texts that might match
        return pattern is not None and any(p in text for p in phrases) and pattern.search(text) is not None
    return False


def visible(views: Iterable[PaperView], interests: Interests | None) -> list[PaperView]:
    """The views the reader did not hide nor rule out, in order (all of them for visitors)."""
    if interests is None or _nothing_blocks(interests):
        return list(views)
    return [v for v in views if not blocked(v.paper, interests)]


def _nothing_blocks(interests: Interests) -> bool:
    return not (interests.hidden or interests.never_categories or interests.never_authors or interests.never_words)


def _text(paper: Paper) -> str:
    return fold(paper.title + " " + paper.abstract)


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=256)
def _rules(words: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...], re.Pattern[str] | None]:
    """Single words (looked up in a set of the text's words), and the phrases with their whole-word pattern."""
    single = frozenset(w for w in words if _WORD.fullmatch(w))
    phrases = tuple(sorted(words - single, key=len, reverse=True))
    if not phrases:
        return single, (), None
    alternatives = "|".join(re.escape(w) for w in phrases)
    return single, phrases, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
