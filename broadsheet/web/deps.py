"""What every view needs: the store, the settings, and one way to fail with a clear message."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import Request

from broadsheet import ids
from broadsheet.config import Settings
from broadsheet.periods import PARSERS, InvalidPeriod, Kind, Period
from broadsheet.search import Engine
from broadsheet.store import Store


class HttpError(Exception):
    """An expected failure: rendered as JSON under /api and as an HTML page elsewhere."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
        raise HttpError(400, str(exc)) from None


def arxiv_id(value: str) -> str:
    try:
        return ids.parse(value).id
    except ids.InvalidArxivId as exc:
        raise HttpError(400, str(exc)) from None


def split_format(value: str) -> tuple[str, bool]:
    """`2401.01234.json` -> ("2401.01234", True): one view serves HTML and JSON."""
    return (value[:-5], True) if value.endswith(".json") else (value, False)
