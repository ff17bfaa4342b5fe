"""Settings: the one place that reads the environment.

Every field carries its help text; the README's configuration table is checked against
these fields by the tests. Settings are built once by the CLI (or the app factory) and
passed explicitly to the store and the web app: nothing reads them at import time.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    def db_url(self) -> str:
        """The database URL in effect (the explicit one, or the SQLite file in `data_dir`)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'broadsheet.db').resolve()}"
