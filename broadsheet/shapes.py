"""Hugging Face's papers-API JSON as pydantic models: they parse HF's answers and type ours (/openapi.json).

One definition serves both: `broadsheet.ingest.hf` validates HF's items with it, and the /api routes answer
with it (their response models, so /openapi.json documents every field).

Field names and nesting follow huggingface.co/api/daily_papers and /api/papers/{id}: camelCase, plus HF's
`_id`, `ai_summary` and `ai_keywords`. Fields HF does not have (categories, version, doi, ...) are added
alongside, which clients ignore. Like HF, a field without a value is left out, never sent as null
(`as_json`, `response_model_exclude_none`). Defaults mark what HF's own answers may leave out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from broadsheet import ids
from broadsheet.ingest.metadata import display_text, display_title
from broadsheet.models import PaperView, Submitter
from broadsheet.rank import Explained
from broadsheet.search.highlight import Segment, highlight

Json = dict[str, Any]
STAMP = "UTC, as Hugging Face writes it: 2026-08-21T09:30:00.000Z"


def _left_out_not_null(schema: dict[str, Any]) -> None:
    """Document a field without a value as absent, not as null: neither HF nor this API sends null."""
    for field in schema.get("properties", {}).values():
        options = field.get("anyOf", [])
        if {"type": "null"} in options and "default" in field and field["default"] is None:
            del field["anyOf"], field["default"]
            kept = [option for option in options if option != {"type": "null"}]
            field.update(kept[0] if len(kept) == 1 else {"anyOf": kept})


class Shape(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        json_schema_extra=_left_out_not_null,
    )


class UserJson(Shape):
    """An account in Hugging Face's user-object shape (`submittedBy`, `submittedOnDailyBy`, an author's `user`).

    HF sends `name` in some places and `user` in others; both are sent here."""

    id: str | None = Field(None, alias="_id", description="The username (HF: an opaque id)")
    name: str | None = Field(None, description="The username")
    user: str | None = Field(None, description="The username")
    fullname: str = Field(description="The display name, else the username")
    type: str = Field("user", description="Always `user` here (HF also has organisations)")
    is_pro: bool = False


class AuthorJson(Shape):
    id: str | None = Field(None, alias="_id", description="`{arXiv id}:{position}` here (HF: an opaque id)")
    name: str
    hidden: bool = False
    user: UserJson | None = Field(None, description="The author's verified account, once claimed")
    status: str | None = Field(None, description="`claimed_verified` when `user` is set")


class PaperJson(Shape):
    """The flat Paper object (`GET /api/papers/{id}`, and `paper` inside daily and search items)."""

    id: str = Field(description="arXiv id without its version, e.g. 2608.19880")
    authors: list[AuthorJson]
    published_at: str = Field(description="When arXiv published it; " + STAMP)
    title: str
    summary: str = Field(description="The abstract")
    upvotes: int
    num_comments: int = 0
    discussion_id: str | None = Field(None, description="Its comments: /api/papers/{id}/comments")
    submitted_on_daily_at: str | None = Field(None, description="When it was listed on Daily Papers; " + STAMP)
    submitted_on_daily_by: UserJson | None = None
    github_repo: str | None = None
    project_page: str | None = None
    withdrawn_at: str | None = Field(None, description="Set once arXiv withdrew it; " + STAMP)
    ai_summary: str | None = Field(None, alias="ai_summary", description="One sentence of the abstract")
    ai_keywords: list[str] | None = Field(None, alias="ai_keywords")
    categories: list[str] | None = Field(None, description="arXiv categories, the primary one first")
    version: int | None = Field(None, description="The newest arXiv version known")
    comment: str | None = Field(None, description="The authors' arXiv comment (pages, venue, ...)")
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    updated_at: str | None = Field(None, description="When arXiv last updated it; " + STAMP)
    arxiv_url: str | None = None
    pdf_url: str | None = None


class SimilarPaperJson(PaperJson):
    similarity: float = Field(description="Cosine similarity of the two papers' vectors")


class TrendingJson(Shape):
    """Why a paper ranks where it does on trending (`rank.Explained`)."""

    score: float
    upvotes: int
    comments: int
    age_hours: float = Field(description="Hours since it was listed")
    components: dict[str, float] = Field(description="Each signal's part of the score (they sum to it)")


class DailyItemJson(Shape):
    """One element of `GET /api/daily_papers`."""

    paper: PaperJson
    published_at: str = Field(description="When it was listed on Daily Papers; " + STAMP)
    title: str | None = None
    summary: str | None = None
    num_comments: int = 0
    is_author_participating: bool = False
    submitted_by: UserJson | None = None
    comment: str | None = Field(None, description="The submitter's note")
    trending_score: float | None = Field(None, description="With sort=trending")
    trending: TrendingJson | None = Field(None, description="With sort=trending: the score's working")


class SegmentJson(Shape):
    type: Literal["text", "highlight"]
    text: str


class SearchItemJson(Shape):
    """One element of `GET /api/papers/search`, with HF's highlight arrays (their texts join to the title/summary)."""

    paper: PaperJson
    title: str
    summary: str
    published_at: str = Field(description="When it was listed on Daily Papers, else published; " + STAMP)
    num_comments: int = 0
    upvoted: bool = False
    is_author_participating: bool = False
    highlighted_title: list[SegmentJson]
    highlighted_summary: list[SegmentJson]
    score: float | None = Field(None, description="The search score (higher is better), when a query was given")


def as_json(shape: BaseModel) -> Json:
    """The wire form: HF's names, empty fields left out."""
    return shape.model_dump(by_alias=True, exclude_none=True)


def iso(moment: datetime) -> str:
    """`2026-08-21T00:00:00.000Z`, as HF writes timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user_json(submitter: Submitter) -> UserJson:
    name = submitter.username
    return UserJson(id=name, name=name, user=name, fullname=submitter.display_name or name, is_pro=False)


def paper_json(view: PaperView, *, claimed: dict[str, Submitter] | None = None) -> PaperJson:
    """`claimed`: verified authors (name -> account), shown as Hugging Face does (`user`, `status`)."""
    p = view.paper
    return PaperJson(
        id=p.arxiv_id,
        authors=[_author(p.arxiv_id, i, n, (claimed or {}).get(n)) for i, n in enumerate(p.authors)],
        published_at=iso(p.published),
        title=display_title(p.title),
        summary=display_text(p.abstract),
        upvotes=view.upvotes,
        num_comments=view.num_comments,
        discussion_id=p.arxiv_id,  # a paper's discussion is addressed by its arXiv id
        submitted_on_daily_at=iso(view.added_at) if view.added_at else None,
        submitted_on_daily_by=user_json(view.submitted_by) if view.submitted_by else None,
        github_repo=p.code_url or None,
        project_page=p.project_url or None,
        withdrawn_at=iso(p.updated_at or p.published) if p.withdrawn else None,
        ai_summary=view.summary or None,  # where HF puts its own (huggingface_hub's PaperInfo.ai_summary)
        ai_keywords=list(view.keywords) or None,
        categories=list(p.categories) or None,
        version=p.version,
        comment=p.comment,
        journal_ref=p.journal_ref,
        doi=p.doi,
        license=p.license,
        updated_at=iso(p.updated_at) if p.updated_at else None,
        arxiv_url=ids.abs_url(p.arxiv_id),
        pdf_url=ids.pdf_url(p.arxiv_id),
    )


def similar_json(view: PaperView, similarity: float) -> SimilarPaperJson:
    return SimilarPaperJson(**dict(paper_json(view)), similarity=similarity)


def _author(arxiv_id: str, index: int, name: str, account: Submitter | None) -> AuthorJson:
    return AuthorJson(
        id=f"{arxiv_id}:{index}",
        name=name,
        hidden=False,
        user=user_json(account) if account else None,
        status="claimed_verified" if account else None,
    )


def daily_json(
    view: PaperView, *, trending_score: float | None = None, trending: Explained | None = None
) -> DailyItemJson:
    """`trending`: the score with its working (sets `trendingScore` too)."""
    return DailyItemJson(
        paper=paper_json(view),
        published_at=iso(view.added_at or view.paper.published),
        title=display_title(view.paper.title),
        summary=display_text(view.paper.abstract),
        num_comments=view.num_comments,
        is_author_participating=False,
        submitted_by=user_json(view.submitted_by) if view.submitted_by else None,
        comment=view.submitter_comment or None,
        trending_score=trending.score if trending else trending_score,
        trending=TrendingJson.model_validate(trending.as_json()) if trending else None,
    )


def search_json(view: PaperView, words: list[str], *, score: float | None = None) -> SearchItemJson:
    title = display_title(view.paper.title)
    summary = display_text(view.paper.abstract)
    return SearchItemJson(
        paper=paper_json(view),
        title=title,
        summary=summary,
        published_at=iso(view.added_at or view.paper.published),
        num_comments=view.num_comments,
        upvoted=False,
        is_author_participating=False,
        highlighted_title=segments(highlight(title, words)),
        highlighted_summary=segments(highlight(summary, words)),
        score=score,
    )


def segments(parts: list[Segment]) -> list[SegmentJson]:
    return [SegmentJson(type=s.type, text=s.text) for s in parts]
