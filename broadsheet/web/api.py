"""The JSON API, in Hugging Face's shapes (`/api/daily_papers`, `/api/papers/...`)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from broadsheet import rank, search
from broadsheet.errors import Invalid, NotFound
from broadsheet.periods import FIRST_YEAR, LAST_YEAR, Period
from broadsheet.search.params import SearchParams
from broadsheet.shapes import (
    DailyItemJson,
    PaperJson,
    SearchItemJson,
    SimilarPaperJson,
    daily_json,
    paper_json,
    search_json,
    similar_json,
)
from broadsheet.store import Cursor, Store
from broadsheet.web.deps import (
    MAX_ROW_ID,
    absolute,
    arxiv_id,
    engine,
    now,
    period,
    search_allowed,
    store,
    trending_pool,
    trending_weights,
    verified_authors,
)
from broadsheet.web.follows import unblocked

router = APIRouter(prefix="/api", tags=["api"])
StoreDep = Annotated[Store, Depends(store)]
EngineDep = Annotated[search.Engine, Depends(engine)]


def _period(date: str | None, week: str | None, month: str | None) -> Period | None:
    given = [(k, v) for k, v in (("day", date), ("week", week), ("month", month)) if v is not None]
    if len(given) > 1:
        raise Invalid("give at most one of date, week and month")
    return period(given[0][0], given[0][1]) if given else None  # type: ignore[arg-type]


def _link_next(request: Request, response: Response, **params: str | int) -> None:
    """The next page, as an absolute URL built from the configured site address (never the Host header)."""
    following = request.url.include_query_params(**params)
    response.headers["Link"] = f'<{absolute(request, following.path + "?" + following.query)}>; rel="next"'


@router.get("/daily_papers", summary="Papers listed on Daily Papers (HF-compatible)", response_model_exclude_none=True)
def daily_papers(
    request: Request,
    response: Response,
    db: StoreDep,
    p: Annotated[int, Query(ge=0, le=100_000, description="Page number, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    date: Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(max_length=10, description="YYYY-Www")] = None,
    month: Annotated[str | None, Query(max_length=10, description="YYYY-MM")] = None,
    submitter: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[Literal["publishedAt", "trending"], Query()] = "publishedAt",
) -> list[DailyItemJson]:
    """A token's user never gets what their rules hide: trending ranks what is left; the listing hides it on
    its page (pages keep their bounds, so a hidden paper never shifts another onto the next page)."""
    chosen = _period(date, week, month)
    if sort == "trending":
        pool = unblocked(request, trending_pool(request, chosen, submitter=submitter))
        ranked = rank.explained(pool, now(), trending_weights(request))
        page = ranked[p * limit : (p + 1) * limit]
        full, items = len(page) == limit, [daily_json(v, trending=why) for v, why in page]
    else:
        views = db.daily.views(chosen, order="added", offset=p * limit, limit=limit, submitter=submitter)
        full, items = len(views) == limit, [daily_json(v) for v in unblocked(request, views)]
    if full:
        _link_next(request, response, p=p + 1)
    return items


@router.get(
    "/papers/search",
    summary="Search papers: hybrid BM25 + semantic (HF-compatible, with highlights)",
    response_model_exclude_none=True,
)
def search_papers(
    request: Request,
    response: Response,
    db: StoreDep,
    search_engine: EngineDep,
    params: Annotated[SearchParams, Query()],
    limit: Annotated[int, Query(ge=1, le=120)] = 50,
    p: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> list[SearchItemJson]:
    """Without `q`, the newest papers (huggingface_hub's list_papers() without a query)."""
    if params.q is None:
        views, _ = db.papers.newest(limit=limit)
        return [search_json(v, []) for v in views]
    search_allowed(request)
    try:
        hits = search_engine.search(
            params.q, filters=params.filters(), limit=limit, offset=p * limit, mode=params.mode, sort=params.sort
        )
    except search.InvalidQuery as exc:
        raise Invalid(str(exc)) from None
    if len(hits) == limit:
        _link_next(request, response, p=p + 1)
    words = search.terms(params.q)
    return [search_json(h.view, words, score=h.score) for h in hits]


@router.get("/papers/{paper_id:path}/similar", summary="Nearest papers by meaning", response_model_exclude_none=True)
def similar_papers(
    paper_id: str, db: StoreDep, search_engine: EngineDep, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[SimilarPaperJson]:
    key = arxiv_id(paper_id)
    if db.papers.id_of(key) is None:
        raise NotFound(f"paper {paper_id} is not indexed")
    return [similar_json(h.view, round(h.score, 4)) for h in search_engine.similar(key, limit=limit)]


@router.get("/papers", summary="All papers, newest first, cursor-paged", response_model_exclude_none=True)
def list_papers(
    request: Request,
    response: Response,
    db: StoreDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[PaperJson]:
    views, following = db.papers.newest(limit=limit, after=_decode(cursor) if cursor else None)
    if following:
        _link_next(request, response, cursor=_encode(following))
    return [paper_json(v) for v in views]


@router.get("/papers/{paper_id:path}", summary="One paper (HF-compatible)", response_model_exclude_none=True)
def get_paper(paper_id: str, db: StoreDep) -> PaperJson:
    view = db.papers.get(arxiv_id(paper_id))
    if view is None:
        raise NotFound(f"paper {paper_id} is not indexed")
    return paper_json(view, claimed=verified_authors(db, view))


@router.get("/{rest:path}", include_in_schema=False)
def unknown(rest: str) -> JSONResponse:
    raise NotFound(f"no API endpoint /api/{rest[:100]}")


def _encode(cursor: Cursor) -> str:
    raw = f"{cursor.published_at.isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, row_id = raw.split("|")
        stamp, number = datetime.fromisoformat(moment), int(row_id)
        if stamp.tzinfo is None or not FIRST_YEAR <= stamp.year <= LAST_YEAR or not 0 <= number <= MAX_ROW_ID:
            raise ValueError
        return Cursor(stamp, number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("invalid cursor: use the URL from the previous page's Link header") from None
