"""Pages for programs and agents: a paper as Markdown (`GET /papers/{id}.md`, as huggingface_hub's `read_paper` reads).

Built from what is stored only: nothing is fetched while the request waits. The full text comes from arXiv's
HTML rendering, fetched and converted by the background worker (worker.request_full_text queues it, once per
paper); until it is there the Markdown says it is being fetched.
"""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from broadsheet import ids
from broadsheet.config import Settings
from broadsheet.errors import NotFound
from broadsheet.ingest.metadata import display_text, display_title
from broadsheet.models import PaperView
from broadsheet.store import Store
from broadsheet.store.fulltexts import FullText
from broadsheet.web.deps import absolute, arxiv_id, settings, store
from broadsheet.worker import request_full_text

router = APIRouter()
MARKDOWN = "text/markdown; charset=utf-8"
NO_FULL_TEXT = "The full text is not available here yet: read it on arXiv (PDF link above)."
BUSY = "The full text has not been fetched yet and the queue is full: ask again later, or read the PDF (link above)."
PENDING = "The full text is being fetched from arXiv's HTML rendering: ask again in a minute."
DESCRIPTION = """The paper as Markdown, as huggingface_hub's `HfApi.read_paper` reads it: title, authors, links
(arXiv, PDF, code, project page, discussion), facts, the abstract, and the full text converted from arXiv's HTML
rendering (sections as headings, math as TeX, figures as captions, references; at most 300,000 characters).

The request never waits for arXiv: the first one queues the fetch for the background worker, and until the text is
there the "Full text" section says it is being fetched. A paper arXiv has no HTML for says so (read the PDF)."""
EXAMPLE = (
    "# EnvHarness: Awakening Static Worlds for Agent Learning\n\n**Authors:** Chengsong Huang, …\n\n## Abstract\n…"
)


@router.get(
    "/papers/{paper_id:path}.md",
    tags=["papers"],
    summary="A paper as Markdown, with its full text",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        200: {"description": "The paper as Markdown", "content": {"text/markdown": {"schema": {"type": "string"},
                                                                                     "example": EXAMPLE}}},
        301: {"description": "Moved to the paper's canonical id (e.g. without `arXiv:` or a version)"},
        400: {"description": "Not an arXiv id (an HTML error page)", "content": {"text/html": {}}},
        404: {"description": "The paper is not indexed here (an HTML error page)", "content": {"text/html": {}}},
    },
)  # fmt: skip
def paper_markdown(request: Request, paper_id: str) -> Response:
    canonical = arxiv_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(f"/papers/{canonical}.md", status_code=301)
    view = store(request).papers.get(canonical)
    if view is None:
        raise NotFound(f"paper {canonical} is not indexed here yet: its page /papers/{canonical} can fetch it")
    text = page(store(request), settings(request), view, absolute(request, f"/papers/{canonical}"))
    return Response(text, media_type=MARKDOWN)


def page(store: Store, settings: Settings, view: PaperView, page_url: str) -> str:
    """The Markdown for the paper; its full text as stored (queued for the worker when there is none)."""
    if not settings.full_text:
        return markdown(view, page_url)
    return markdown(view, page_url, full_text_section(request_full_text(store, view)))


def markdown(view: PaperView, page_url: str, full_text: list[str] | None = None) -> str:
    """Title, authors, links, abstract (TeX is left as arXiv wrote it), then the full text section's lines."""
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
    lines += ["", "## Abstract", "", display_text(p.abstract), "", "## Full text", "", *(full_text or [NO_FULL_TEXT])]
    return "\n".join(lines).rstrip("\n") + "\n"


def full_text_section(text: FullText | None) -> list[str]:
    """The lines under "## Full text" for the stored state (None: nothing stored, the queue was full)."""
    if text is None:
        return [BUSY]
    lines: list[str] = []
    if text.markdown:
        fetched = f" on {text.fetched_at.astimezone(UTC):%Y-%m-%d}" if text.fetched_at else ""
        cut = " (cut short: the rest is on arXiv)" if text.truncated else ""
        lines = [f"*Converted from arXiv's HTML rendering, {text.source_url}{fetched}{cut}.*", "", text.markdown]
    if text.state == "pending":
        return [PENDING] if not lines else [*lines, "", f"*{PENDING.replace('The full text', 'A newer version')}*"]
    if text.state == "missing":
        return [
            f"No full text: {text.error or 'arXiv has no HTML rendering of this paper'}. Read the PDF (link above)."
        ]
    if text.state == "failed" and not lines:
        when = f" after {text.retry_after.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if text.retry_after else ""
        return [f"Fetching the full text from arXiv failed ({text.error}); it is tried again when asked{when}."]
    return lines


def _flat(text: str) -> str:
    return " ".join(text.split())
