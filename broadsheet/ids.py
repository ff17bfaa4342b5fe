"""arXiv identifiers: parse what people paste, return the canonical id and version.

Examples of accepted input, all naming the same kind of thing:

    2401.01234            2401.01234v3          arXiv:2401.01234v3
    https://arxiv.org/abs/2401.01234v3          https://arxiv.org/pdf/2401.01234v3.pdf
    hep-th/9901001        math.GT/0309136       https://huggingface.co/papers/2401.01234

The canonical id has no version and, for old-style ids, no subject class
(`math.GT/0309136` is `math/0309136` on arXiv itself).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class InvalidArxivId(ValueError):
    """Raised when a string is not an arXiv identifier or arXiv/HF paper URL."""


class ArxivId(NamedTuple):
    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


_NEW = r"(?P<new>(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5})"
_OLD = r"(?P<old>(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[A-Za-z]{2})?/(?P<num>\d{7}))"
_ID = re.compile(rf"(?:{_NEW}|{_OLD})(?:v(?P<v>\d{{1,3}}))?", re.ASCII)
_URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)",
    re.IGNORECASE,
)
MAX_INPUT = 200
_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?")


def is_category(text: str) -> bool:
    """An arXiv category name: `cs.CL`, `math.AG`, `hep-th`, `astro-ph.CO`, `cond-mat.stat-mech`."""
    return _CATEGORY.fullmatch(text) is not None


def parse(text: str) -> ArxivId:
    """Parse an arXiv id or URL; raise InvalidArxivId with a readable message otherwise."""
    raw = text.strip()
    if not raw or len(raw) > MAX_INPUT:
        raise InvalidArxivId("an arXiv id looks like 2401.01234, 2401.01234v2 or hep-th/9901001")
    core = _URL_PREFIX.sub("", raw)
    core = re.sub(r"^arxiv:", "", core, flags=re.IGNORECASE)
    core = re.sub(r"(?:\.pdf)?/?(?:[?#].*)?$", "", core)
    match = _ID.fullmatch(core)
    if not match or not _valid_month(match):
        raise InvalidArxivId(
            f"{raw[:80]!r} is not an arXiv id (expected e.g. 2401.01234, 2401.01234v2 or hep-th/9901001)"
        )
    version = int(match["v"]) if match["v"] else None
    if version == 0:
        raise InvalidArxivId(f"{raw[:80]!r} is not an arXiv id: versions start at v1")
    if match["new"]:
        return ArxivId(match["new"], version)
    return ArxivId(f"{match['archive']}/{match['num']}", version)


def _valid_month(match: re.Match[str]) -> bool:
    mm = match["mm"] if match["new"] else match["num"][2:4]
    return 1 <= int(mm) <= 12


def is_arxiv_id(text: str) -> bool:
    try:
        parse(text)
    except InvalidArxivId:
        return False
    return True


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
