"""Community routes: submit, upvote, comment, set links, moderate (HTML forms and the JSON API), trending.

Every route here that changes state is behind `csrf_protect` (router dependency) and a login.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from broadsheet import rank
from broadsheet.community import actions as community
from broadsheet.errors import BroadsheetError, Forbidden, NotFound
from broadsheet.models import User
from broadsheet.store.jobs import Job
from broadsheet.web import shapes
from broadsheet.web.api import _link_next as link_next
from broadsheet.web.deps import (
    MAX_ROW_ID,
    RowId,
    current_user,
    now,
    render,
    settings,
    split_format,
    store,
    trending_pool,
    trending_weights,
    vote_allowed,
    voted,
)
from broadsheet.web.follows import unblocked_by
from broadsheet.web.security import csrf_protect, require_user
from broadsheet.worker import request_fetch

pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
api = APIRouter(prefix="/api", tags=["community"], dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]
Short = Annotated[str, Form(max_length=600)]
Long = Annotated[str, Form(max_length=community.MAX_COMMENT + 100)]


def rules(request: Request) -> community.Rules:
    cfg = settings(request)
    return community.Rules(cfg.zone, daily_cap=cfg.submit_daily_cap, max_age_days=cfg.submit_max_age_days)


def queue_fetch(request: Request, user: User, wanted: community.Submission | None, arxiv_id: str) -> Job:
    """Ask the background worker to fetch an unknown paper (never fetched inside the request)."""
    return request_fetch(store(request), arxiv_id, user=user, cap=settings(request).user_job_cap, submit=wanted)


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.key, "status": job.status, "error": job.error, "job": f"/api/jobs/{job.id}",
            "paper": f"/api/papers/{job.key}", "page": f"/papers/{job.key}"}  # fmt: skip


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
    form = {"paper_id": paper_id, "comment": comment, "github_repo": github_repo, "project_page": project_page}
    try:
        wanted = community.submission(paper_id, comment=comment, github_repo=github_repo, project_page=project_page)
        if store(request).papers.get(wanted.arxiv_id) is None:
            job = queue_fetch(request, user, wanted, wanted.arxiv_id)
            return render(request, "missing.html", {"arxiv_id": wanted.arxiv_id, "job": job}, status=202)
        view = community.submit(store(request), user, wanted, rules(request))
    except BroadsheetError as exc:
        context = {"error": exc.message, "form": form, "rules": rules(request)}
        return render(request, "submit.html", context, status=exc.status)
    return RedirectResponse(f"/papers/{view.paper.arxiv_id}", status_code=303)


class Submission(BaseModel):
    paperId: str = Field(max_length=300)
    comment: str | None = Field(None, max_length=community.MAX_SUBMIT_NOTE)
    githubRepo: str | None = Field(None, max_length=community.MAX_URL)
    projectPage: str | None = Field(None, max_length=community.MAX_URL)


@api.post(
    "/papers/submit",
    status_code=201,
    summary="Submit a paper to today's Daily Papers (HF-compatible)",
    responses={202: {"description": "Not indexed yet: queued to be fetched from arXiv, then submitted"}},
)
def submit_api(request: Request, body: Submission, user: UserDep) -> Response:
    wanted = community.submission(body.paperId, comment=body.comment, github_repo=body.githubRepo,
                                  project_page=body.projectPage)  # fmt: skip
    if store(request).papers.get(wanted.arxiv_id) is None:
        job = queue_fetch(request, user, wanted, wanted.arxiv_id)
        return JSONResponse(job_json(job), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})
    view = community.submit(store(request), user, wanted, rules(request))
    url = f"/papers/{view.paper.arxiv_id}"
    return JSONResponse(shapes.daily_item(view), status_code=201, headers={"Location": url})


# -- indexing a paper that is not here yet (as Hugging Face offers on unknown paper pages) ----------


class IndexRequest(BaseModel):
    arxivId: str = Field(max_length=300)


@api.post(
    "/papers/index",
    summary="Index a paper from arXiv by id (HF-compatible)",
    responses={202: {"description": "Queued: the background worker fetches it from arXiv"}},
)
def index_api(request: Request, body: IndexRequest, user: UserDep) -> Response:
    key = community.canonical(body.arxivId)
    if store(request).papers.id_of(key) is not None:
        return JSONResponse({"id": key, "status": "done"})
    job = queue_fetch(request, user, None, key)
    return JSONResponse(job_json(job), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


@pages.post("/papers/{paper_id:path}/index")
def index_form(request: Request, paper_id: str, user: UserDep) -> Response:
    """Queue the fetch (or, after a failure, queue it again) and show the paper's page, which says how it is going."""
    key = community.canonical(paper_id)
    if store(request).papers.get(key) is None:
        queue_fetch(request, user, None, key)
    return RedirectResponse(f"/papers/{key}", status_code=303)


@api.get("/jobs/{job_id}", summary="A background job: fetching a paper from arXiv, or a queued mail")
def job_api(request: Request, job_id: RowId) -> dict[str, Any]:
    job = store(request).jobs.by_id(job_id)
    if job is None or job.kind != "fetch":
        raise NotFound("no such job")
    return job_json(job) | {"attempts": job.attempts, "createdAt": shapes.iso(job.created_at),
                            "updatedAt": shapes.iso(job.updated_at)}  # fmt: skip


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
        raise Forbidden("only an admin can see this")
    return render(request, "claims.html", {"claims": store(request).claims.pending()})


@pages.post("/claims/{claim_id}/{decision}")
def decide_claim(request: Request, claim_id: RowId, decision: str, user: UserDep) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFound("decide a claim with /approve or /reject")
    community.decide_claim(store(request), user, claim_id, decision == "approve")
    return _back(request, "/admin/claims")


# -- votes ---------------------------------------------------------------------------------------


class Vote(BaseModel):
    up: bool = True


@api.post("/papers/{paper_id:path}/vote", summary="Upvote (up=true) or take the upvote back (up=false)")
def vote_api(request: Request, paper_id: str, body: Vote, user: UserDep) -> dict[str, Any]:
    vote_allowed(request, user)
    count = community.vote(store(request), user, paper_id, body.up)
    return {"upvotes": count, "upvoted": body.up}


@pages.post("/papers/{paper_id:path}/vote")
def vote_form(request: Request, paper_id: str, user: UserDep, up: Annotated[bool, Form()] = True) -> Response:
    vote_allowed(request, user)
    community.vote(store(request), user, paper_id, up)
    return _back(request, f"/papers/{paper_id}")


# -- comments ------------------------------------------------------------------------------------


class NewComment(BaseModel):
    body: str = Field(max_length=community.MAX_COMMENT + 100, description="Markdown")
    parentId: int | None = Field(None, ge=1, le=MAX_ROW_ID, description="Reply to this comment")


class EditedComment(BaseModel):
    body: str = Field(max_length=community.MAX_COMMENT + 100, description="Markdown")


NEXT_PAGE = {"Link": {"description": 'Next page, if any: `<URL>; rel="next"`', "schema": {"type": "string"}}}


@api.get(
    "/papers/{paper_id:path}/comments",
    summary="A paper's discussion, oldest first (paged; admins also see hidden comments)",
    response_model=list[shapes.CommentJson],
    responses={200: {"headers": NEXT_PAGE}},
)
def comments_api(
    request: Request,
    response: Response,
    paper_id: str,
    p: Annotated[int, Query(ge=0, le=100_000, description="Page number, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[shapes.Json]:
    row_id = community.row_of(store(request), paper_id)
    admin = bool((viewer := current_user(request)) and viewer.is_admin)
    shown = [c for c in store(request).community.thread(row_id) if admin or not c.hidden]
    if len(shown) > (p + 1) * limit:
        link_next(request, response, p=p + 1)
    return [shapes.comment(c, reveal=admin) for c in shown[p * limit : (p + 1) * limit]]


@api.post(
    "/papers/{paper_id:path}/comments",
    status_code=201,
    summary="Comment on a paper (Markdown); at most 30 comments per user in 10 minutes",
    response_model=shapes.CommentJson,
)
def comment_api(request: Request, paper_id: str, body: NewComment, user: UserDep) -> shapes.Json:
    return shapes.comment(community.add_comment(store(request), user, paper_id, body.body, body.parentId))


@api.patch("/comments/{comment_id}", summary="Edit your own comment (Markdown)", response_model=shapes.CommentJson)
def edit_comment_api(request: Request, comment_id: RowId, body: EditedComment, user: UserDep) -> shapes.Json:
    community.edit_comment(store(request), user, comment_id, body.body)
    edited = store(request).community.comment(comment_id)
    if edited is None:  # deleted in between
        raise NotFound("no such comment")
    return shapes.comment(edited)


@api.delete(
    "/comments/{comment_id}",
    status_code=204,
    response_class=Response,
    summary="Delete your own comment (admins: any); its place in the thread stays",
)
def delete_comment_api(request: Request, comment_id: RowId, user: UserDep) -> Response:
    community.delete_comment(store(request), user, comment_id)
    return Response(status_code=204)


@pages.post("/papers/{paper_id:path}/comments")
def comment_form(request: Request, paper_id: str, user: UserDep, body: Long, parent_id: Short = "") -> Response:
    parent = int(parent_id) if parent_id.isdigit() and int(parent_id) <= MAX_ROW_ID else None
    made = community.add_comment(store(request), user, paper_id, body, parent)
    return RedirectResponse(f"/papers/{split_format(paper_id)[0]}#c{made.id}", status_code=303)


@pages.post("/comments/{comment_id}/edit")
def edit_comment(request: Request, comment_id: RowId, user: UserDep, body: Long) -> Response:
    community.edit_comment(store(request), user, comment_id, body)
    return _back(request, "/")


@pages.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment_id: RowId, user: UserDep) -> Response:
    community.delete_comment(store(request), user, comment_id)
    return _back(request, "/")


@pages.post("/comments/{comment_id}/hide")
def hide_comment(
    request: Request, comment_id: RowId, user: UserDep, hidden: Annotated[bool, Form()] = True
) -> Response:
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
    community.set_banned(store(request), user, username, banned)
    return _back(request, f"/u/{username}")


# -- trending ------------------------------------------------------------------------------------


@pages.get("/papers/trending")
@pages.get("/papers/trending.json")
def trending(request: Request) -> Response:
    """Trending papers, each with why it is there (its signals and their parts of the score)."""
    weights = trending_weights(request)
    ranked = rank.explained(trending_pool(request), now(), weights)
    ranked = unblocked_by(request, ranked, lambda pair: pair[0], limit=settings(request).page_size)
    if request.url.path.endswith(".json"):
        return JSONResponse(
            [shapes.daily_item(v, trending_score=why.score) | {"trending": why.as_json()} for v, why in ranked]
        )
    context = {"ranked": ranked, "weights": weights, "voted": voted(request, [v for v, _ in ranked])}
    return render(request, "trending.html", context)
