"""arXiv's HTML rendering of a paper (`arxiv.org/html/{id}`): LaTeXML output, where arXiv could convert the source.

    page = fetch(fetcher, "2401.01234")     # -> Page(url, body), or None: arXiv has no HTML for this paper

arXiv answers 404 for papers it has no HTML for (PDF-only submissions, failed conversions); the
unversioned address serves the newest version. The fetcher paces requests (the worker's is paced
for the whole deployment, store.pacer "arxiv", as the API's are) and waits out 429/503 answers;
5xx answers and network errors become FetchError, for the worker to retry later.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from broadsheet.ingest.fetcher import Fetcher

DEFAULT_URL = "https://arxiv.org/html"
MAX_BYTES = 20 * 1024 * 1024  # larger pages are not converted (the biggest LaTeXML pages with MathML run ~10 MB)


class HtmlRefused(Exception):
    """arXiv answered with a final refusal (a 4xx other than 404); trying again soon will not help."""


class TooLarge(Exception):
    """The page is larger than MAX_BYTES: it is not converted."""


@dataclass(frozen=True, slots=True)
class Page:
    url: str  # where the page was found, after redirects (e.g. https://arxiv.org/html/2401.01234v2)
    body: bytes


def page_url(base: str, arxiv_id: str) -> str:
    return f"{base.rstrip('/')}/{arxiv_id}"


def _check(response: httpx.Response) -> Page | None:
    if response.status_code in (404, 410):
        return None
    if response.status_code >= 400:
        raise HtmlRefused(f"HTTP {response.status_code} from arXiv's HTML pages")
    if len(response.content) > MAX_BYTES:
        size = len(response.content) // 2**20
        raise TooLarge(f"the HTML rendering is {size} MiB, more than the {MAX_BYTES // 2**20} MiB converted here")
    return Page(str(response.url), response.content)


def fetch(client: Fetcher, arxiv_id: str, *, url: str = DEFAULT_URL) -> Page | None:
    """The HTML rendering of the paper (canonical id, no version), or None when arXiv has none."""
    return client.get(page_url(url, arxiv_id), None, _check)
