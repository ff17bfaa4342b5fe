"""HTML pages. Each view builds its data once and renders it as HTML, or as JSON for `.json` URLs."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broadsheet import search
from broadsheet.community import actions as community
from broadsheet.ingest.metadata import display_text, display_title, tex_to_text
from broadsheet.periods import Kind, Period, containing
from broadsheet.search.highlight import authors, highlight, snippet
from broadsheet.search.params import SearchParams
from broadsheet.web import shapes
from broadsheet.web.deps import (
    arxiv_id,
    current_user,
    engine,
    period,
    render,
    search_allowed,
    settings,
    split_format,
    store,
    today,
    trending_of,
    verified_authors,
    voted,
)
from broadsheet.web.follows import unblocked, unblocked_by

router = APIRouter(include_in_schema=False)
Page = Annotated[int, Query(ge=0, le=10_000)]


@router.get("/")
@router.get("/papers")
def home(request: Request, p: Page = 0) -> Response:
    latest = store(request).daily.latest_day()
    return _listing(request, containing("day", latest) if latest else None, p=p, as_json=False)


@router.get("/papers/date/{value}")
def by_day(request: Request, value: str, p: Page = 0) -> Response:
    return _period_page(request, "day", value, p)


@router.get("/papers/week/{value}")
def by_week(request: Request, value: str, p: Page = 0) -> Response:
    return _period_page(request, "week", value, p)


@router.get("/papers/month/{value}")
def by_month(request: Request, value: str, p: Page = 0) -> Response:
    return _period_page(request, "month", value, p)


def _period_page(request: Request, kind: Kind, value: str, p: int) -> Response:
    text, as_json = split_format(value)
    return _listing(request, period(kind, text), p=p, as_json=as_json)


def _listing(request: Request, chosen: Period | None, *, p: int, as_json: bool) -> Response:
    db, size = store(request), settings(request).page_size
    views = unblocked(request, db.daily.views(chosen, offset=p * size, limit=size)) if chosen else []
    total = db.daily.count(chosen) if chosen else 0
    before, after = db.daily.neighbours(chosen) if chosen else (None, None)
    previous = containing(chosen.kind, before) if chosen and before else None
    following = containing(chosen.kind, after) if chosen and after else None
    if as_json and chosen:
        return JSONResponse(
            {
                "period": {"type": chosen.kind, "label": chosen.label, "title": chosen.title,
                           "start": chosen.start.isoformat(), "end": chosen.end.isoformat()},
                "previous": previous.label if previous else None,
                "next": following.label if following else None,
                "total": total,
                "page": p,
                "dailyPapers": [shapes.daily_item(v) for v in views],
            }
        )  # fmt: skip
    context = {
        "period": chosen,
        "views": views,
        "total": total,
        "page": p,
        "pages": (total + size - 1) // size,
        "previous": previous,
        "following": following,
        "future": bool(chosen and chosen.start > today(request)),
        "rank_offset": p * size,
        "voted": voted(request, views),
    }
    return render(request, "list.html", context)


@router.get("/search")
def search_page(request: Request, params: Annotated[SearchParams, Query()], p: Page = 0) -> Response:
    size = settings(request).page_size
    found: search.Results | None = None
    error = None
    q, sort = params.q or "", params.sort
    try:
        if q.strip():
            search_allowed(request)
            found = engine(request).results(
                q, filters=params.filters(), limit=size, offset=p * size, sort=sort, mode=params.mode
            )
    except search.InvalidQuery as exc:
        error = str(exc)
    hits = unblocked_by(request, found.hits, lambda hit: hit.view) if found else []
    words = search.terms(found.searched if found else q)
    results = [
        (h.view, highlight(tex_to_text(display_title(h.view.paper.title)), words),
         authors(h.view.paper.authors, words),
         snippet(highlight(tex_to_text(display_text(h.view.paper.abstract)), words)))
        for h in hits
    ]  # fmt: skip
    form = params.form()
    choices = {"sort": sort if sort != "relevance" else "", "mode": params.mode if params.mode != "hybrid" else ""}
    kept = {k: v for k, v in ({"q": q} | form | choices).items() if v}

    def page_url(page: int, **changes: str) -> str:
        return "/search?" + urlencode({k: v for k, v in (kept | changes | {"p": page}).items() if v})

    total = found.total if found else 0
    context: dict[str, Any] = {"q": q, "results": results, "error": error, "page": p, "total": total}
    context |= {"more": (p + 1) * size < total, "first": p * size + 1, "last": p * size + len(results)}
    context |= {"searched": found.searched if found and found.searched != q else None, "sort": sort}
    context |= {"suggestions": found.suggestions if found else [], "sorts": search.SORTS}
    context |= {"form": form, "page_url": page_url, "voted": voted(request, [h.view for h in hits])}
    return render(request, "search.html", context, status=400 if error else 200)


@router.get("/papers/{paper_id:path}")
def paper_page(request: Request, paper_id: str) -> Response:
    text, as_json = split_format(paper_id)
    canonical = arxiv_id(text)
    if canonical != text:
        suffix = ".json" if as_json else ""
        return RedirectResponse(f"/papers/{canonical}{suffix}", status_code=301)
    view = store(request).papers.get(canonical)
    if view is None:
        job = store(request).jobs.get("fetch", canonical)
        return render(request, "missing.html", {"arxiv_id": canonical, "job": job}, status=404)
    if as_json:
        return JSONResponse(shapes.paper(view, claimed=verified_authors(store(request), view)))
    similar = engine(request).similar(canonical, limit=5)
    db, user = store(request), current_user(request)
    row_id = view.row_id or 0
    can_link = bool(user and community.may_set_links(db, user, row_id))
    context = {"view": view, "paper": view.paper, "similar": similar, "voted": voted(request, [view])}
    claims = db.claims.of_paper(row_id)
    verified = community.verified(claims)
    mine = next((c for c in claims if user and c.user_id == user.id), None)
    context |= {"thread": db.community.thread(row_id), "can_link": can_link, "verified": verified, "my_claim": mine}
    context["trending"] = trending_of(request, view)
    return render(request, "paper.html", context)
