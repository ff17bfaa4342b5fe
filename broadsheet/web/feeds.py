"""Feed routes: /feeds/daily, /feeds/trending, /feeds/cat/{category}, /feeds/search?q= (.xml = RSS, .atom)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from broadsheet import feeds, rank, search
from broadsheet.errors import Invalid, NotFound
from broadsheet.models import PaperView
from broadsheet.search.params import SearchParams
from broadsheet.web.deps import engine, now, settings, store, trending_pool, trending_weights

router = APIRouter(tags=["feeds"])
SIZE = 50
# Served as plain XML: browsers apply the feed's XSLT page (static/feed.xsl) only to XML types they render
# (Chromium shows application/atom+xml and application/rss+xml as raw text); feed readers read the document.
TYPES = {"atom": "application/xml; charset=utf-8", "xml": "application/xml; charset=utf-8"}


def _answer(request: Request, name: str, title: str, page: str, views: list[PaperView], description: str) -> Response:
    fmt = name.rpartition(".")[2]
    if fmt not in TYPES:
        raise NotFound("feeds end in .xml (RSS 2.0) or .atom (Atom)")
    site = settings(request).public_url
    self_url = site + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    feed = feeds.Feed(f"{settings(request).site_name}: {title}", site + page, self_url, description,
                      feeds.entries(views, site))  # fmt: skip
    body = feeds.atom(feed) if fmt == "atom" else feeds.rss(feed)
    return Response(body, media_type=TYPES[fmt])


@router.get("/feeds/daily.{fmt}", summary="Daily Papers, newest listings first")
def daily(request: Request, fmt: str) -> Response:
    views = store(request).daily.views(None, order="added", limit=SIZE)
    return _answer(request, f"daily.{fmt}", "Daily Papers", "/papers", views, "Papers listed on Daily Papers")


@router.get("/feeds/trending.{fmt}", summary="Trending papers")
def trending(request: Request, fmt: str) -> Response:
    pool = trending_pool(request)
    views = [v for v, _ in rank.by_trending(pool, now(), trending_weights(request))[:SIZE]]
    return _answer(request, f"trending.{fmt}", "Trending", "/papers/trending", views, "Papers trending now")


@router.get("/feeds/cat/{name}", summary="Newest papers in an arXiv category (e.g. /feeds/cat/cs.CL.atom)")
def category(request: Request, name: str) -> Response:
    cat = name.rpartition(".")[0]
    try:
        filters = search.make_filters(category=cat)
    except search.InvalidQuery as exc:
        raise Invalid(str(exc)) from None
    if filters.category is None:
        raise Invalid("give a category, e.g. /feeds/cat/cs.CL.atom")
    views, _ = store(request).papers.newest(limit=SIZE, filters=filters)
    return _answer(request, name, f"new in {cat}", f"/search?category={quote(cat)}", views, f"Newest papers in {cat}")


@router.get("/feeds/search.{fmt}", summary="Papers matching a search (the search page's parameters)")
def search_feed(request: Request, fmt: str, params: Annotated[SearchParams, Query()]) -> Response:
    q = params.q or ""
    try:
        hits = engine(request).search(q, limit=30, filters=params.filters(), sort=params.sort, mode=params.mode)
    except search.InvalidQuery as exc:
        raise Invalid(str(exc)) from None
    page = "/search?" + urlencode({k: v for k, v in ({"q": q} | params.form()).items() if v})
    return _answer(request, f"search.{fmt}", f"search “{q}”", page, [h.view for h in hits], f"Papers matching {q}")
