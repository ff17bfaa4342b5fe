"""What every view needs: the store, the settings, bounded ids and periods, and the viewer."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from broadsheet import rank
from broadsheet.community import accounts
from broadsheet.community import actions as community
from broadsheet.config import Settings
from broadsheet.errors import Invalid, TooMany, Unauthorized
from broadsheet.models import PaperView, Submitter, User
from broadsheet.periods import PARSERS, InvalidPeriod, Kind, Period
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.store.tokens import Bearer
from broadsheet.throttle import Throttle

SESSION_COOKIE = "bs_session"
MAX_ROW_ID = 2**31 - 1  # ids in paths and bodies are bounded here, so no database ever sees an overflowing one
TOKEN_FAILURES, TOKEN_WINDOW = 10, timedelta(minutes=15)  # invalid API tokens per client address
auth_log = logging.getLogger("broadsheet.auth")
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A numeric id")]


def store(request: Request) -> Store:
    s: Store = request.app.state.store
    return s


def engine(request: Request) -> Engine:
    e: Engine = request.app.state.engine
    return e


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


VOTES_PER_MINUTE = 120  # per user and web process: a person clicks far fewer, a script gets 429


def vote_allowed(request: Request, user: User) -> None:
    """Refuse a user voting faster than VOTES_PER_MINUTE: each vote changes every cached page, so a script
    flipping votes would keep the whole site uncached. Kept in memory (a counter row would be a second write)."""
    throttle: Throttle = request.app.state.vote_throttle
    if not throttle.take(str(user.id)):
        raise TooMany(f"more than {VOTES_PER_MINUTE} votes in a minute: slow down and try again shortly")


def search_allowed(request: Request) -> None:
    """Refuse a client searching faster than `search_rate` (a cached page never gets here: it costs nothing)."""
    throttle: Throttle = request.app.state.search_throttle
    client = request.client.host if request.client else "unknown"
    if not throttle.take(client):
        wait = max(1, math.ceil(throttle.retry_after(client)))
        raise TooMany(f"too many searches from your address: try again in {wait} s")


TRENDING_POOL = 1000  # trending ranks the most recently listed entries (of the period)


def trending_pool(request: Request, period: Period | None = None, *, submitter: str | None = None) -> list[PaperView]:
    """The entries trending is ranked from: one rule for the page, the API and the feed."""
    return store(request).daily.views(period, order="added", limit=TRENDING_POOL, submitter=submitter)


def trending_weights(request: Request) -> rank.Weights:
    """The trending formula's weights from the settings: one for the page, the API, the feed and the MCP tools."""
    return rank.Weights.from_settings(settings(request))


def trending_of(request: Request, view: PaperView) -> rank.Explained | None:
    """A listed paper's trending score with its working (templates/_trending.html); None when it is not listed."""
    return rank.explain(view, now(), trending_weights(request)) if view.day is not None else None


def now() -> datetime:
    return datetime.now(UTC)


def today(request: Request) -> date:
    """Today's Daily-Papers day in the site's time zone."""
    return now().astimezone(settings(request).zone).date()


def period(kind: Kind, value: str) -> Period:
    try:
        return PARSERS[kind](value)
    except InvalidPeriod as exc:
        raise Invalid(str(exc)) from None


def arxiv_id(value: str) -> str:
    """The canonical id of what was typed (400 with the reason otherwise): the community rule, one place."""
    return community.canonical(value)


def split_format(value: str) -> tuple[str, bool]:
    """`2401.01234.json` -> ("2401.01234", True): one view serves HTML and JSON."""
    return (value[:-5], True) if value.endswith(".json") else (value, False)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)  # type: ignore[no-any-return]


def absolute(request: Request, path_and_query: str) -> str:
    """An absolute URL on this site, from the configured address only (never the request's Host header)."""
    return settings(request).public_url + path_and_query


def current_user(request: Request) -> User | None:
    """The viewer (looked up once per request): an `Authorization: Bearer` token's user, else the session's.

    A bad token is never ignored: 401 (429 once an address has sent too many bad ones)."""
    if not hasattr(request.state, "user"):
        request.state.user = None  # what an error page rendered after a refused token sees
        found = bearer(request)
        if found is not None:
            request.state.user = found.user
        else:
            request.state.user = accounts.session_user(store(request), request.cookies.get(SESSION_COOKIE))
    user: User | None = request.state.user
    return user


def bearer(request: Request) -> Bearer | None:
    """The request's API token, checked once per request; None when it sends none."""
    if not hasattr(request.state, "bearer"):
        request.state.bearer = None
        scheme, _, raw = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            request.state.bearer = _check_bearer(store(request), raw.strip(), _address(request))
    found: Bearer | None = request.state.bearer
    return found


def _check_bearer(db: Store, raw: str, address: str) -> Bearer:
    """Failed checks are counted per address (a write only on failure); a success is at most one write a minute."""
    key = f"token-fail:{address[:100]}"
    if db.counters.peek(key, TOKEN_WINDOW) >= TOKEN_FAILURES:
        auth_log.warning("API token refused unchecked: too many bad tokens from %s", address)
        raise TooMany(f"too many invalid API tokens: try again in {TOKEN_WINDOW.seconds // 60} minutes")
    found = db.tokens.bearer(raw) if 0 < len(raw) <= 200 else None
    if found is None:
        failures = db.counters.hit(key, TOKEN_WINDOW)
        auth_log.warning("invalid or revoked API token from %s (%d in %s)", address, failures, TOKEN_WINDOW)
        raise Unauthorized("invalid or revoked API token: create a new one in your settings")
    db.tokens.touch(found.token)
    auth_log.debug("API token %d of %s used from %s", found.token.id, found.user.username, address)
    return found


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def verified_authors(db: Store, view: PaperView) -> dict[str, Submitter]:
    """A paper's verified authors (name -> account), for its page and its JSON."""
    row_id = view.row_id if view.row_id is not None else db.papers.id_of(view.paper.arxiv_id)
    return community.verified(db.claims.of_paper(row_id or 0))


def voted(request: Request, views: Iterable[PaperView]) -> set[str]:
    """arXiv ids among `views` that the viewer has upvoted (for the buttons' state)."""
    user = current_user(request)
    wanted = [v.paper.arxiv_id for v in views]
    if user is None or not wanted:
        return set()
    return store(request).community.voted(user.id, wanted)
