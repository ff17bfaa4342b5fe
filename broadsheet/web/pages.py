"""HTML pages. Each view builds its data once and renders it as HTML, or as JSON for `.json` URLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broadsheet import community, search
from broadsheet.highlight import highlight, snippet
from broadsheet.metadata import display_text, display_title
from broadsheet.models import PaperView
from broadsheet.periods import Kind, Period, containing
from broadsheet.web import api, shapes
from broadsheet.web.deps import arxiv_id, engine, period, settings, split_format, store, today
from broadsheet.web.security import current_user

router = APIRouter(include_in_schema=False)
Page = Annotated[int, Query(ge=0, le=10_000)]


def voted(request: Request, views: Iterable[PaperView]) -> set[str]:
    """arXiv ids among `views` that the viewer has upvoted (for the buttons' state)."""
    user = current_user(request)
    wanted = [v.paper.arxiv_id for v in views]
    if user is None or not wanted:
        return set()
    return store(request).community.voted(user.id, wanted)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)  # type: ignore[no-any-return]


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
    views = db.daily.views(chosen, offset=p * size, limit=size) if chosen else []
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
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=2000)] = "",
    p: Page = 0,
    category: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(alias="from", max_length=100)] = "",
    until: Annotated[str, Query(alias="to", max_length=100)] = "",
    daily: bool = False,
    has_code: bool = False,
) -> Response:
    size = settings(request).page_size
    hits: list[Any] = []
    error = None
    if q.strip():
        try:
            filters = search.make_filters(
                category=category, since=since, until=until, daily_only=daily, has_code=has_code
            )
            hits = engine(request).search(q, filters=filters, limit=size + 1, offset=p * size)
        except search.InvalidQuery as exc:
            error = str(exc)
    words = search.terms(q)
    results = [
        (h.view, highlight(display_title(h.view.paper.title), words),
         snippet(highlight(display_text(h.view.paper.abstract), words)))
        for h in hits[:size]
    ]  # fmt: skip
    form = {"category": category, "from": since, "to": until, "daily": daily, "has_code": has_code}
    kept = {k: v for k, v in ({"q": q} | form).items() if v}

    def page_url(page: int) -> str:
        return "/search?" + urlencode(kept | {"p": page})

    context: dict[str, Any] = {"q": q, "results": results, "error": error, "page": p, "more": len(hits) > size}
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
        return render(request, "missing.html", {"arxiv_id": canonical}, status=404)
    if as_json:
        return JSONResponse(shapes.paper(view, claimed=api.verified_authors(store(request), view)))
    similar = engine(request).similar(canonical, limit=5)
    db, user = store(request), current_user(request)
    row_id = db.papers.id_of(canonical) or 0
    can_link = bool(user and community.may_set_links(db, user, row_id))
    context = {"view": view, "paper": view.paper, "similar": similar, "voted": voted(request, [view])}
    claims = db.claims.of_paper(row_id)
    verified = community.verified(claims)
    mine = next((c for c in claims if user and c.user_id == user.id), None)
    context |= {"thread": db.community.thread(row_id), "can_link": can_link, "verified": verified, "my_claim": mine}
    return render(request, "paper.html", context)
