"""Community rules: submitting papers to the daily feed, upvotes, comments, links, moderation.

Every function takes the acting user and raises a named error (`broadsheet.errors`: Invalid,
NotFound, Conflict, Forbidden, TooMany) with a message for people when the rules say no; the web
and API layers map the kind to a status in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from broadsheet import ids
from broadsheet.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from broadsheet.ingest.metadata import xml_safe
from broadsheet.models import Claim, Comment, PaperView, Submitter, User
from broadsheet.store import Store
from broadsheet.store.community import AlreadyListed, CapReached, ClaimConflict

MAX_COMMENT = 10_000
MAX_SUBMIT_NOTE = 1_000
MAX_URL = 500
COMMENTS_PER_WINDOW, COMMENT_WINDOW = 30, timedelta(minutes=10)  # per user, pages and API together


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    daily_cap: int = 5  # papers one user may submit per Daily-Papers day
    max_age_days: int = 14  # since the paper's first arXiv version


def canonical(arxiv_id: str) -> str:
    try:
        return ids.parse(arxiv_id).id
    except ids.InvalidArxivId as exc:
        raise Invalid(str(exc)) from None


def paper_of(store: Store, arxiv_id: str) -> PaperView:
    key = canonical(arxiv_id)
    view = store.papers.get(key)
    if view is None:
        raise NotFound(f"paper {key} is not indexed yet")
    return view


def row_of(store: Store, arxiv_id: str) -> int:
    """The paper's row id, or a 404 when it is not indexed."""
    key = canonical(arxiv_id)
    row_id = store.papers.id_of(key)
    if row_id is None:
        raise NotFound(f"paper {key} is not indexed yet")
    return row_id


@dataclass(frozen=True)
class Submission:
    """What a user asks for when submitting: checked before anything is stored or fetched."""

    arxiv_id: str
    comment: str | None = None
    code_url: str | None = None
    project_url: str | None = None


def submission(
    arxiv_id: str, *, comment: str | None = None, github_repo: str | None = None, project_page: str | None = None
) -> Submission:
    note = xml_safe(comment or "").strip() or None
    if note and len(note) > MAX_SUBMIT_NOTE:
        raise Invalid(f"the comment is too long (at most {MAX_SUBMIT_NOTE} characters)")
    code, project = check_url(github_repo, "githubRepo"), check_url(project_page, "projectPage")
    return Submission(canonical(arxiv_id), note, code, project)


def submit(store: Store, user: User, wanted: Submission, rules: Rules) -> PaperView:
    """Put an indexed paper on today's Daily Papers (an unknown one is fetched first, by the worker)."""
    view = paper_of(store, wanted.arxiv_id)
    now = datetime.now(UTC)
    if view.day is not None:
        raise Conflict("this paper is already in the daily feed")
    if (now - view.paper.published).days > rules.max_age_days:
        raise Invalid(f"only papers from the last {rules.max_age_days} days can be submitted")
    row_id = row_of(store, wanted.arxiv_id)
    day = now.astimezone(rules.zone).date()
    try:
        store.community.submit(row_id, user.id, day, wanted.comment, daily_cap=rules.daily_cap)
    except AlreadyListed as exc:
        raise Conflict(str(exc)) from None
    except CapReached as exc:
        raise TooMany(str(exc)) from None
    store.community.set_links(row_id, code_url=wanted.code_url, project_url=wanted.project_url)
    return paper_of(store, wanted.arxiv_id)


def check_url(url: str | None, field: str) -> str | None:
    if url is None or not url.strip():
        return None
    value = url.strip()
    if (
        len(value) > MAX_URL
        or not value.lower().startswith(("https://", "http://"))
        or any(c in value for c in ' "<>\n')
    ):
        raise Invalid(f"{field} must be an http(s) URL of at most {MAX_URL} characters")
    return value


def vote(store: Store, user: User, arxiv_id: str, up: bool) -> int:
    return store.community.vote(user.id, row_of(store, arxiv_id), up)


def add_comment(store: Store, user: User, arxiv_id: str, body: str, parent_id: int | None = None) -> Comment:
    text = _body(body)
    row_id = row_of(store, arxiv_id)
    if parent_id is not None:
        parent = store.community.comment(parent_id)
        if parent is None or parent.paper_id != row_id:
            raise Invalid("the comment you reply to is not on this paper")
        parent_id = parent.parent_id or parent.id  # replies stay one level deep
    if store.counters.hit(f"comments:user:{user.id}", COMMENT_WINDOW) > COMMENTS_PER_WINDOW:
        minutes = int(COMMENT_WINDOW.total_seconds() // 60)
        raise TooMany(f"you have posted {COMMENTS_PER_WINDOW} comments in {minutes} minutes: try again later")
    return store.community.add_comment(row_id, user.id, text, parent_id)


def _body(body: str) -> str:
    text = xml_safe(body).strip()  # NUL and control characters: never stored (PostgreSQL text cannot hold NUL)
    if not text:
        raise Invalid("the comment is empty")
    if len(text) > MAX_COMMENT:
        raise Invalid(f"the comment is too long (at most {MAX_COMMENT:,} characters)")
    return text


def _own_comment(store: Store, user: User, comment_id: int, *, admin_ok: bool) -> Comment:
    found = store.community.comment(comment_id)
    if found is None or found.deleted:
        raise NotFound("no such comment")
    if found.author_id != user.id and not (admin_ok and user.is_admin):
        raise Forbidden("you can only change your own comments")
    return found


def edit_comment(store: Store, user: User, comment_id: int, body: str) -> None:
    _own_comment(store, user, comment_id, admin_ok=False)
    store.community.edit_comment(comment_id, _body(body))


def delete_comment(store: Store, user: User, comment_id: int) -> None:
    _own_comment(store, user, comment_id, admin_ok=True)
    store.community.delete_comment(comment_id)


def hide_comment(store: Store, user: User, comment_id: int, hidden: bool) -> None:
    _admin(user)
    if store.community.comment(comment_id) is None:
        raise NotFound("no such comment")
    store.community.hide_comment(comment_id, hidden)


def set_links(
    store: Store, user: User, arxiv_id: str, *, github_repo: str | None, project_page: str | None
) -> PaperView:
    """The submitter of the paper's daily entry, a verified author, or an admin may set its links."""
    row_id = row_of(store, arxiv_id)
    if not may_set_links(store, user, row_id):
        raise Forbidden("only the paper's submitter, a verified author or an admin can set its links")
    code, project = check_url(github_repo, "githubRepo"), check_url(project_page, "projectPage")
    store.community.set_links(row_id, code_url=code, project_url=project)
    return paper_of(store, arxiv_id)


def claim(store: Store, user: User, arxiv_id: str, author: str) -> None:
    """Say "I am this author of this paper"; an admin verifies it before it counts."""
    view = paper_of(store, arxiv_id)
    if author not in view.paper.authors:
        raise Invalid(f"{author[:80]!r} is not an author of this paper")
    try:
        store.claims.add(row_of(store, view.paper.arxiv_id), user.id, author)
    except ClaimConflict as exc:
        raise Conflict(str(exc)) from None


def verified(claims: Iterable[Claim]) -> dict[str, Submitter]:
    """Author name -> the account an admin verified as that author."""
    return {c.author: c.claimant for c in claims if c.status == "approved"}


def decide_claim(store: Store, user: User, claim_id: int, approve: bool) -> None:
    _admin(user)
    if not store.claims.decide(claim_id, approve):
        raise NotFound("no pending claim with that id")


def may_set_links(store: Store, user: User, row_id: int) -> bool:
    return (
        user.is_admin or store.community.entry_submitter(row_id) == user.id or store.claims.is_author(row_id, user.id)
    )


def set_banned(store: Store, admin: User, username: str, banned: bool) -> None:
    """An admin suspends (or reinstates) an account; never their own."""
    _admin(admin)
    if username == admin.username:
        raise Invalid("you cannot suspend your own account")
    target = store.users.get(username)
    if target is None:
        raise NotFound(f"no user {username[:40]!r}")
    store.users.set_banned(target.id, banned)


def hide_entry(store: Store, user: User, arxiv_id: str, hidden: bool) -> None:
    _admin(user)
    if not store.community.hide_entry(row_of(store, arxiv_id), hidden):
        raise NotFound("this paper is not in the daily feed")


def _admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only an admin can do this")
