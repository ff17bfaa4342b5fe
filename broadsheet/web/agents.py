"""Pages for programs and agents: a paper as Markdown (`GET /papers/{id}.md`, as huggingface_hub's `read_paper` reads).

Built from what is stored only: nothing is fetched while the request waits.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from broadsheet import ids
from broadsheet.errors import NotFound
from broadsheet.metadata import display_text, display_title
from broadsheet.models import PaperView
from broadsheet.web.deps import absolute, arxiv_id, store

router = APIRouter(include_in_schema=False)
MARKDOWN = "text/markdown; charset=utf-8"
NO_FULL_TEXT = "The full text is not available here yet: read it on arXiv (PDF link above)."


@router.get("/papers/{paper_id:path}.md")
def paper_markdown(request: Request, paper_id: str) -> Response:
    canonical = arxiv_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(f"/papers/{canonical}.md", status_code=301)
    view = store(request).papers.get(canonical)
    if view is None:
        raise NotFound(f"paper {canonical} is not indexed here yet: its page /papers/{canonical} can fetch it")
    return Response(markdown(view, absolute(request, f"/papers/{canonical}")), media_type=MARKDOWN)


def markdown(view: PaperView, page_url: str) -> str:
    """Title, authors, links, abstract; TeX is left as arXiv wrote it."""
    p = view.paper
    links = [("arXiv", ids.abs_url(p.arxiv_id)), ("PDF", ids.pdf_url(p.arxiv_id)), ("Code", p.code_url),
             ("Project page", p.project_url), ("Discussion", page_url)]  # fmt: skip
    facts = [f"Published: {p.published.date().isoformat()}", f"Upvotes: {view.upvotes}",
             f"Comments: {view.num_comments}"]  # fmt: skip
    if p.categories:
        facts.insert(1, f"Categories: {', '.join(p.categories)}")
    if view.submitted_by:
        facts.append(f"Submitted to Daily Papers by: {view.submitted_by.username}")
    lines = [f"# {display_title(p.title)}", "", f"**Authors:** {', '.join(_flat(a) for a in p.authors) or 'unknown'}"]
    lines += ["", *(f"- {name}: {url}" for name, url in links if url), "", " · ".join(facts)]
    if p.withdrawn:
        lines += ["", "**This paper has been withdrawn.**"]
    lines += ["", "## Abstract", "", display_text(p.abstract), "", "## Full text", "", NO_FULL_TEXT, ""]
    return "\n".join(lines)


def _flat(text: str) -> str:
    return " ".join(text.split())
