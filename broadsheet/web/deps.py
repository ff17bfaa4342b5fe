"""What every view needs: the store, the settings, bounded ids and periods, and the viewer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from broadsheet import accounts, ids
from broadsheet.config import Settings
from broadsheet.errors import STATUSES, BroadsheetError, Invalid
from broadsheet.models import PaperView, User
from broadsheet.periods import PARSERS, InvalidPeriod, Kind, Period
from broadsheet.search import Engine
from broadsheet.store import Store

SESSION_COOKIE = "bs_session"
MAX_ROW_ID = 2**31 - 1  # ids in paths and bodies are bounded here, so no database ever sees an overflowing one
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A numeric id")]


def HttpError(status: int, message: str) -> BroadsheetError:
    """The named error for a status (routes that still say the status)."""
    return STATUSES[status](message)


def store(request: Request) -> Store:
    s: Store = request.app.state.store
    return s


def engine(request: Request) -> Engine:
    e: Engine = request.app.state.engine
    return e


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


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
    try:
        return ids.parse(value).id
    except ids.InvalidArxivId as exc:
        raise Invalid(str(exc)) from None


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
    """The logged-in viewer (looked up once per request)."""
    if not hasattr(request.state, "user"):
        request.state.user = accounts.session_user(store(request), request.cookies.get(SESSION_COOKIE))
    user: User | None = request.state.user
    return user


def voted(request: Request, views: Iterable[PaperView]) -> set[str]:
    """arXiv ids among `views` that the viewer has upvoted (for the buttons' state)."""
    user = current_user(request)
    wanted = [v.paper.arxiv_id for v in views]
    if user is None or not wanted:
        return set()
    return store(request).community.voted(user.id, wanted)
