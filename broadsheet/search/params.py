"""What a reader asks a search for, declared once: one `SearchParams` for the page, the API, feeds and CLI.

The search page, /api/papers/search and the search feed (each as `Annotated[SearchParams, Query()]`)
and `broadsheet search` all build this one object.

Filters arrive as typed (strings, `from=` empty from a form); `filters()` checks them and says why not.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from broadsheet.models import Filters
from broadsheet.search import Mode, Sort, make_filters


class SearchParams(BaseModel):
    """`since`/`until` are `from`/`to` in URLs (and `--from`/`--to` on the command line)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, frozen=True)

    q: str | None = Field(None, max_length=2000, description="Words, a question, an arXiv id or a title")
    category: str | None = Field(None, max_length=100, description="Only papers in this arXiv category, e.g. cs.CL")
    since: str | None = Field(None, alias="from", max_length=100, description="Published on or after YYYY-MM-DD")
    until: str | None = Field(None, alias="to", max_length=100, description="Published on or before YYYY-MM-DD")
    daily: bool = Field(False, description="Only papers listed on Daily Papers")
    has_code: bool = Field(False, description="Only papers with a code repository")
    sort: Sort = Field("relevance", description="Best match first, or newest, or most upvoted")
    mode: Mode = Field("hybrid", description="Words and meaning (hybrid), words only (lexical) or meaning only")

    def filters(self) -> Filters:
        """The checked filters; raises search.InvalidQuery with the reason."""
        return make_filters(
            category=self.category, since=self.since, until=self.until, daily_only=self.daily, has_code=self.has_code
        )

    def form(self) -> dict[str, str | bool]:
        """The filters as the search form shows them (URL names)."""
        return {"category": self.category or "", "from": self.since or "", "to": self.until or "",
                "daily": self.daily, "has_code": self.has_code}  # fmt: skip
