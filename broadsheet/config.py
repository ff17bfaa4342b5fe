"""Settings: the one place that reads the environment.

Every field carries its help text; the README's configuration table is checked against
these fields by the tests. Settings are built once by the CLI (or the app factory) and
passed explicitly to the store and the web app: nothing reads them at import time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Broadsheet's configuration, from `BROADSHEET_*` environment variables or `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="BROADSHEET_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    data_dir: Path = Field(Path("data"), description="Directory for the SQLite database and other local state.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy database URL. Default: a SQLite file `broadsheet.db` in the data directory.",
    )
    host: str = Field("127.0.0.1", description="Interface `broadsheet serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `broadsheet serve` listens on.")
    timezone: str = Field(
        "America/New_York",
        description="Time zone that defines a Daily-Papers day (arXiv and Hugging Face use New York).",
    )
    load_demo: bool = Field(True, description="Load the bundled demo corpus when `serve` starts on an empty database.")
    site_name: str = Field("Broadsheet", description="Name shown in the page header and titles.")
    page_size: int = Field(50, ge=1, le=500, description="Papers per page on list and search pages.")
    trending_gravity: float = Field(
        1.8,
        ge=0,
        le=10,
        description="Trending: how fast a paper's score decays with age, the power of (hours listed + offset)."
        " Higher: fresher papers first (docs/trending.md).",
    )
    trending_offset_hours: float = Field(
        12.0, gt=0, le=1000, description="Trending: hours added to a paper's age, so one early vote is not a trend."
    )
    trending_comment_weight: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Trending: what one comment counts for, in upvotes (0: comments are shown but do not rank).",
    )
    embed_max_tokens: int = Field(
        96,
        ge=16,
        le=512,
        description="Word pieces of title + abstract the embedding model reads; the rest is cut off (128: about"
        " 1.4x slower, 256: about 3.5x). Part of the vectors' model name: changing it means running `broadsheet"
        " embed` again.",
    )
    embed_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="Where embeddings are computed: auto uses a GPU when onnxruntime-gpu finds one, else the CPU.",
    )
    embed_on_ingest: int = Field(
        500, ge=0, description="Embed new papers right after sync/import/fetch when at most this many are pending."
    )
    submit_daily_cap: int = Field(5, ge=1, le=1000, description="Papers one user may submit per Daily-Papers day.")
    submit_max_age_days: int = Field(
        14,
        ge=0,
        le=36500,
        description="Only papers first published on arXiv this many days ago or less can be submitted.",
    )
    site_url: str | None = Field(
        None,
        description="The site's public address, for links in emails and feeds. Default: http://HOST:PORT.",
    )
    secret_key: str | None = Field(
        None,
        description="Signs links in emails and CSRF tokens. Default: a random key kept in the database (every host).",
    )
    smtp_host: str = Field(
        "",
        description="SMTP server that sends mail. Empty: mail is written as .eml files to `DATA_DIR/mail/`.",
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port (587 for STARTTLS, 465 for implicit TLS).")
    smtp_security: Literal["none", "starttls", "tls"] = Field("none", description="none, starttls or tls.")
    smtp_username: str | None = Field(None, description="SMTP login (when the server needs one).")
    smtp_password: str | None = Field(None, description="SMTP password.")
    mail_from: str = Field("Broadsheet <digest@localhost>", description="From address of the digests.")
    digest_pause_after: int = Field(
        3, ge=1, description="Pause a subscription after this many permanent delivery failures in a row."
    )
    categories: Annotated[list[str], NoDecode] = Field(
        ["cs.LG", "cs.CL", "cs.CV", "cs.AI"],
        description="arXiv categories `broadsheet sync` follows (comma-separated).",
    )
    arxiv_rss_url: str = Field("https://rss.arxiv.org/atom", description="arXiv announcement feeds (Atom).")
    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv API endpoint.")
    arxiv_oai_url: str = Field("https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint.")
    arxiv_html_url: str = Field(
        "https://arxiv.org/html", description="arXiv's HTML renderings of papers (full texts for `/papers/{id}.md`)."
    )
    full_text: bool = Field(
        True,
        description="Fetch papers' full text from arXiv's HTML rendering (background worker) for `/papers/{id}.md`"
        " and the MCP `read_paper` tool. Off: abstracts only (a server without internet).",
    )
    hf_api_url: str = Field(
        "https://huggingface.co/api/daily_papers", description="Hugging Face daily-papers API (`sync-hf`)."
    )
    arxiv_delay: float = Field(
        3.0, ge=0, description="Seconds between two requests to arXiv (arXiv's terms: at least 3)."
    )
    http_retries: int = Field(4, ge=0, le=20, description="Retries after a failed request to an outside service.")
    http_backoff: float = Field(5.0, ge=0, description="Seconds before the first retry; doubles each time.")
    http_timeout: float = Field(60.0, gt=0, description="Seconds before a request to an outside service times out.")
    worker_threads: int = Field(
        1,
        ge=0,
        le=8,
        description="Background-job threads inside `broadsheet serve` (0: run `broadsheet worker` separately).",
    )
    job_attempts: int = Field(5, ge=1, le=50, description="Tries of a background job before it is marked failed.")
    job_backoff: float = Field(
        30.0, ge=0, description="Seconds before a failed background job is tried again; doubles each time."
    )
    user_job_cap: int = Field(20, ge=1, description="Background requests (papers to fetch) one user may have waiting.")
    search_rate: float = Field(
        5.0,
        ge=0,
        description="Searches per second one client address may run, per web process, after a burst of "
        "`search_burst` (0: no limit). Pages answered from the cache do not count.",
    )
    search_burst: int = Field(
        30, ge=1, description="Searches one client address may run at once before `search_rate` applies."
    )
    access_log: bool = Field(
        False,
        description="Log every request (uvicorn's access log). Off by default: it halves the rate at which "
        "cached pages are served, and the reverse proxy in front logs them anyway.",
    )
    page_cache_grace: float = Field(
        0.0,
        ge=0,
        le=60,
        description="Seconds an anonymous page may be served after a change while a fresh one is made in the "
        "background (0: every change shows on the next request). Meanwhile anonymous visitors may still "
        "see what just changed or was removed.",
    )
    mcp_enabled: bool = Field(
        True, description="Serve the MCP tools (search, read, upvote, comment) for agents at `/mcp` (streamable HTTP)."
    )
    contact_email: str | None = Field(
        None, description="Sent in the User-Agent to arXiv and Hugging Face, so they can reach you."
    )

    @field_validator("categories", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [c for c in re.split(r"[,\s+]+", value) if c] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def index_dir(self) -> Path:
        """Derived search indexes (rebuildable from the database at any time)."""
        return self.data_dir / "index"

    @property
    def public_url(self) -> str:
        """The site's address for links in mail and feeds: `site_url`, else where `serve` listens."""
        if self.site_url:
            return self.site_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def mail_dir(self) -> Path:
        """Where mail goes when no SMTP server is configured."""
        return self.data_dir / "mail"

    @property
    def db_url(self) -> str:
        """The database URL in effect (the explicit one, or the SQLite file in `data_dir`)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'broadsheet.db').resolve()}"
