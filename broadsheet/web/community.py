"""Community routes: submit, upvote, comment, set links, moderate (HTML forms and the JSON API), trending.

Every route here that changes state is behind `csrf_protect` (router dependency) and a login.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from broadsheet import accounts, arxiv, community, rank
from broadsheet.community import CommunityError
from broadsheet.embed import embed_pending
from broadsheet.models import User
from broadsheet.web import shapes
from broadsheet.web.deps import HttpError, engine, now, settings, split_format, store
from broadsheet.web.pages import render, voted
from broadsheet.web.security import csrf_protect, require_user

pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(prefix="/api", tags=["community"], dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]
Short = Annotated[str, Form(max_length=600)]
Long = Annotated[str, Form(max_length=community.MAX_COMMENT + 100)]


def rules(request: Request) -> community.Rules:
    cfg = settings(request)
    return community.Rules(cfg.zone, daily_cap=cfg.submit_daily_cap, max_age_days=cfg.submit_max_age_days)


def fetcher_for(request: Request) -> community.Fetch:
    """Fetch an unknown paper from the arXiv API, and embed it so search finds it at once."""

    def fetch(arxiv_id: str) -> None:
        cfg = settings(request)
        arxiv.fetch_into(store(request), request.app.state.fetcher, [arxiv_id], url=cfg.arxiv_api_url)
        embed_pending(store(request), engine(request).embedder)

    return fetch


def _back(request: Request, fallback: str) -> RedirectResponse:
    """Back to the page the form was on (same site only)."""
    path = urlsplit(request.headers.get("referer", "")).path
    return RedirectResponse(path if path.startswith("/") and not path.startswith("//") else fallback, status_code=303)


# -- submissions ---------------------------------------------------------------------------------


@pages.get("/papers/submit")
def submit_page(request: Request, user: UserDep) -> Response:
    return render(request, "submit.html", {"error": None, "form": {}, "rules": rules(request)})


@pages.post("/papers/submit")
def submit_form(
    request: Request,
    user: UserDep,
    paper_id: Short,
    comment: Long = "",
    github_repo: Short = "",
    project_page: Short = "",
) -> Response:
    try:
        links = {"github_repo": github_repo, "project_page": project_page}
        view = community.submit(store(request), user, paper_id, rules(request), comment=comment, **links,
                                fetch=fetcher_for(request))  # fmt: skip
    except CommunityError as exc:
        form = {"paper_id": paper_id, "comment": comment, "github_repo": github_repo, "project_page": project_page}
        context = {"error": str(exc), "form": form, "rules": rules(request)}
        return render(request, "submit.html", context, status=exc.status)
    return RedirectResponse(f"/papers/{view.paper.arxiv_id}", status_code=303)


class Submission(BaseModel):
    paperId: str = Field(max_length=300)
    comment: str | None = Field(None, max_length=community.MAX_SUBMIT_NOTE)
    githubRepo: str | None = Field(None, max_length=community.MAX_URL)
    projectPage: str | None = Field(None, max_length=community.MAX_URL)


@api.post("/papers/submit", status_code=201, summary="Submit a paper to today's Daily Papers (HF-compatible)")
def submit_api(request: Request, body: Submission, user: UserDep) -> Response:
    links = {"github_repo": body.githubRepo, "project_page": body.projectPage}
    view = community.submit(store(request), user, body.paperId, rules(request), comment=body.comment, **links,
                            fetch=fetcher_for(request))  # fmt: skip
    url = f"/papers/{view.paper.arxiv_id}"
    return JSONResponse(shapes.daily_item(view), status_code=201, headers={"Location": url})


# -- indexing a paper that is not here yet (as Hugging Face offers on unknown paper pages) ----------


class IndexRequest(BaseModel):
    arxivId: str = Field(max_length=300)


def _index(request: Request, arxiv_id: str) -> str:
    key = community.canonical(arxiv_id)
    if store(request).papers.get(key) is None:
        fetcher_for(request)(key)
    if store(request).papers.get(key) is None:
        raise HttpError(404, f"paper {key} is not on arXiv")
    return key


@api.post("/papers/index", summary="Index a paper from arXiv by id (HF-compatible)")
def index_api(request: Request, body: IndexRequest, user: UserDep) -> dict[str, str]:
    return {"id": _index(request, body.arxivId)}


@pages.post("/papers/{paper_id:path}/index")
def index_form(request: Request, paper_id: str, user: UserDep) -> Response:
    return RedirectResponse(f"/papers/{_index(request, paper_id)}", status_code=303)


# -- authorship claims ---------------------------------------------------------------------------


class ClaimRequest(BaseModel):
    author: str = Field(max_length=300)


@api.post("/papers/{paper_id:path}/claims", status_code=201, summary="Claim to be one of a paper's authors")
def claim_api(request: Request, paper_id: str, body: ClaimRequest, user: UserDep) -> dict[str, str]:
    community.claim(store(request), user, paper_id, body.author)
    return {"status": "pending", "author": body.author}


@pages.post("/papers/{paper_id:path}/claim")
def claim_form(request: Request, paper_id: str, user: UserDep, author: Short) -> Response:
    community.claim(store(request), user, paper_id, author)
    return _back(request, f"/papers/{paper_id}")


@pages.get("/admin/claims")
def claims_page(request: Request, user: UserDep) -> Response:
    if not user.is_admin:
        raise HttpError(403, "only an admin can see this")
    return render(request, "claims.html", {"claims": store(request).claims.pending()})


@pages.post("/claims/{claim_id}/{decision}")
def decide_claim(request: Request, claim_id: int, decision: str, user: UserDep) -> Response:
    if decision not in ("approve", "reject"):
        raise HttpError(404, "decide a claim with /approve or /reject")
    community.decide_claim(store(request), user, claim_id, decision == "approve")
    return _back(request, "/admin/claims")


# -- votes ---------------------------------------------------------------------------------------


class Vote(BaseModel):
    up: bool = True


@api.post("/papers/{paper_id:path}/vote", summary="Upvote (up=true) or take the upvote back (up=false)")
def vote_api(request: Request, paper_id: str, body: Vote, user: UserDep) -> dict[str, Any]:
    count = community.vote(store(request), user, paper_id, body.up)
    return {"upvotes": count, "upvoted": body.up}


@pages.post("/papers/{paper_id:path}/vote")
def vote_form(request: Request, paper_id: str, user: UserDep, up: Annotated[bool, Form()] = True) -> Response:
    community.vote(store(request), user, paper_id, up)
    return _back(request, f"/papers/{paper_id}")


# -- comments ------------------------------------------------------------------------------------


class NewComment(BaseModel):
    body: str = Field(max_length=community.MAX_COMMENT + 100)
    parentId: int | None = None


@api.get("/papers/{paper_id:path}/comments", summary="A paper's discussion")
def comments_api(request: Request, paper_id: str) -> list[shapes.Json]:
    row_id = community.row_of(store(request), paper_id)
    return [shapes.comment(c) for c in store(request).community.thread(row_id) if not c.hidden]


@api.post("/papers/{paper_id:path}/comments", status_code=201, summary="Comment on a paper (Markdown)")
def comment_api(request: Request, paper_id: str, body: NewComment, user: UserDep) -> shapes.Json:
    return shapes.comment(community.add_comment(store(request), user, paper_id, body.body, body.parentId))


@pages.post("/papers/{paper_id:path}/comments")
def comment_form(request: Request, paper_id: str, user: UserDep, body: Long, parent_id: Short = "") -> Response:
    parent = int(parent_id) if parent_id.isdigit() else None
    made = community.add_comment(store(request), user, paper_id, body, parent)
    return RedirectResponse(f"/papers/{split_format(paper_id)[0]}#c{made.id}", status_code=303)


@pages.post("/comments/{comment_id}/edit")
def edit_comment(request: Request, comment_id: int, user: UserDep, body: Long) -> Response:
    community.edit_comment(store(request), user, comment_id, body)
    return _back(request, "/")


@pages.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment_id: int, user: UserDep) -> Response:
    community.delete_comment(store(request), user, comment_id)
    return _back(request, "/")


@pages.post("/comments/{comment_id}/hide")
def hide_comment(request: Request, comment_id: int, user: UserDep, hidden: Annotated[bool, Form()] = True) -> Response:
    community.hide_comment(store(request), user, comment_id, hidden)
    return _back(request, "/")


# -- links and moderation ------------------------------------------------------------------------


class Links(BaseModel):
    githubRepo: str | None = Field(None, max_length=community.MAX_URL)
    projectPage: str | None = Field(None, max_length=community.MAX_URL)


@api.post("/papers/{paper_id:path}/links", summary="Set a paper's code repository / project page (HF-compatible)")
def links_api(request: Request, paper_id: str, body: Links, user: UserDep) -> shapes.Json:
    view = community.set_links(
        store(request), user, paper_id, github_repo=body.githubRepo, project_page=body.projectPage
    )
    return shapes.paper(view)


@pages.post("/papers/{paper_id:path}/links")
def links_form(
    request: Request, paper_id: str, user: UserDep, github_repo: Short = "", project_page: Short = ""
) -> Response:
    community.set_links(store(request), user, paper_id, github_repo=github_repo, project_page=project_page)
    return _back(request, f"/papers/{paper_id}")


@pages.post("/papers/{paper_id:path}/hide")
def hide_entry(request: Request, paper_id: str, user: UserDep, hidden: Annotated[bool, Form()] = True) -> Response:
    community.hide_entry(store(request), user, paper_id, hidden)
    return _back(request, f"/papers/{paper_id}")


@pages.post("/u/{username}/ban")
def ban(request: Request, username: str, user: UserDep, banned: Annotated[bool, Form()] = True) -> Response:
    if not user.is_admin:
        raise HttpError(403, "only an admin can do this")
    try:
        accounts.set_banned(store(request), username, banned)
    except accounts.AccountError as exc:
        raise HttpError(404, str(exc)) from None
    return _back(request, f"/u/{username}")


# -- trending ------------------------------------------------------------------------------------


@pages.get("/papers/trending")
@pages.get("/papers/trending.json")
def trending(request: Request) -> Response:
    pool = store(request).daily.views(None, order="added", limit=1000)
    ranked = rank.by_trending(pool, now())[: settings(request).page_size]
    if request.url.path.endswith(".json"):
        return JSONResponse([shapes.daily_item(v, trending_score=s) for v, s in ranked])
    return render(request, "trending.html", {"ranked": ranked, "voted": voted(request, [v for v, _ in ranked])})
