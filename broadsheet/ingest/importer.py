"""`broadsheet import`: stream a metadata file into the store in constant memory.

Formats (detected from the content; gzip or plain):
  arxiv     JSON Lines in the arXiv metadata layout (Kaggle snapshot, daily listings) -> papers
  hf        one Hugging Face `/api/daily_papers` response (a JSON array) -> listed papers
  hf-items  JSON Lines of {"date": "YYYY-MM-DD", "item": <daily_papers item>} -> listed papers

Each batch is one transaction, so a paper is written whole or not at all. A malformed
line (bad JSON, a field too long, a number out of range: see `metadata.clean_paper`) is
reported with its line number and skipped; the import goes on. Lines are read at most
MAX_LINE bytes at a time: a longer one is reported and skipped without being held.
A file that ends early (a cut-short or corrupt gzip stream) keeps what was read before and
sets `ImportReport.damaged`; one that cannot be read at all raises ImportFailed.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from broadsheet.ingest import dump, hf, metadata
from broadsheet.ingest.dump import RecordError
from broadsheet.models import DailyRecord, Paper, UpsertResult
from broadsheet.store import Store

Format = Literal["arxiv", "hf", "hf-items"]
FORMATS: tuple[Format, ...] = ("arxiv", "hf", "hf-items")
Progress = Callable[[int, int, int], None]  # (bytes read, total bytes, lines read)
MAX_KEPT_ERRORS = 100
MAX_LINE = 4 << 20  # bytes in one JSON line; a real arXiv record is under 1 MB even with 5,000 authors
MAX_RESPONSE = 64 << 20  # bytes in one (uncompressed) daily_papers response; real ones are under 1 MB
_SKIP_CHUNK = 1 << 16
_UNREADABLE = (EOFError, OSError, zlib.error)  # what a gzip stream raises when it is cut short or corrupt


class ImportFailed(Exception):
    """The file cannot be imported at all (missing, unreadable, wrong format)."""


@dataclass(frozen=True, slots=True)
class LineError:
    line: int  # 1-based line number (or item number, for a JSON array file)
    message: str


@dataclass
class ImportReport:
    path: Path
    format: Format
    result: UpsertResult = field(default_factory=UpsertResult)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    damaged: str | None = None  # why reading stopped early (the file was cut short or corrupt)

    def add_error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(LineError(line, message))


@dataclass(frozen=True)
class Options:
    zone: ZoneInfo
    day: date | None = None  # the Daily-Papers day of an `hf` file (default: from its file name)
    source: str = "hf"  # recorded on daily entries created by this import
    batch_size: int = 1000


def import_file(
    store: Store, path: Path, options: Options, *, fmt: Format | None = None, progress: Progress | None = None
) -> ImportReport:
    """Import one file; raises ImportFailed only when nothing in it can be read."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    report = ImportReport(path, fmt)
    if fmt == "hf":
        _import_hf_response(store, path, options, report)
        return report
    make = _paper_line if fmt == "arxiv" else _daily_line(options.zone)
    batch: list[Any] = []
    for number, obj in _json_lines(path, report, progress):
        try:
            batch.append(make(obj))
        except RecordError as exc:
            report.add_error(number, str(exc))
        if len(batch) >= options.batch_size:
            _write(store, batch, options, report)
            batch = []
    _write(store, batch, options, report)
    return report


def detect_format(path: Path) -> Format:
    try:
        with _open(path) as stream:
            head = stream.readline(1 << 20).decode("utf-8", "replace").strip()
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    if head.startswith("["):
        return "hf"
    try:
        first = json.loads(head)
    except ValueError:
        return "hf" if head == "{" else "arxiv"
    if isinstance(first, dict) and "item" in first and "date" in first:
        return "hf-items"
    return "hf" if isinstance(first, dict) and "data" in first else "arxiv"


def _paper_line(obj: Any) -> Paper:
    return dump.paper_from_record(obj)


def _daily_line(zone: ZoneInfo) -> Callable[[Any], DailyRecord]:
    def make(obj: Any) -> DailyRecord:
        if not isinstance(obj, dict) or "item" not in obj:
            raise RecordError('expected {"date": "YYYY-MM-DD", "item": {...}}')
        try:
            day = date.fromisoformat(str(obj.get("date")))
        except ValueError:
            raise RecordError("field 'date' must be YYYY-MM-DD") from None
        if day.year not in metadata.YEARS:
            raise RecordError(f"field 'date' {day} is not between {metadata.YEARS.start} and {metadata.YEARS.stop - 1}")
        return hf.record_from_item(obj["item"], day=day, zone=zone)

    return make


def _write(store: Store, batch: list[Any], options: Options, report: ImportReport) -> None:
    if not batch:
        return
    if isinstance(batch[0], Paper):
        report.result += store.papers.upsert(batch)
    else:
        report.result += store.daily.upsert(batch, source=options.source)


def _import_hf_response(store: Store, path: Path, options: Options, report: ImportReport) -> None:
    day = options.day or _day_from_name(path)
    try:
        with _open(path) as stream:
            body = stream.read(MAX_RESPONSE + 1)
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    if len(body) > MAX_RESPONSE:
        raise ImportFailed(f"{path}: over {MAX_RESPONSE >> 20} MiB, too large for a daily_papers response")
    try:
        found = list(hf.records(json.loads(body), day=day, zone=options.zone))
    except (ValueError, RecursionError) as exc:
        raise ImportFailed(f"{path}: not a daily_papers JSON response ({exc})") from None
    good: list[DailyRecord] = []
    for number, record in enumerate(found, start=1):
        if isinstance(record, RecordError):
            report.add_error(number, str(record))
        else:
            good.append(record)
    for start in range(0, len(good), options.batch_size):
        _write(store, good[start : start + options.batch_size], options, report)


def _day_from_name(path: Path) -> date | None:
    match = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    try:
        return date.fromisoformat(match[1]) if match else None
    except ValueError:
        return None


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    with path.open("rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            raw.seek(0)
            yield raw
            return
        raw.seek(0)
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped  # type: ignore[misc]


def _unreadable(path: Path, exc: BaseException) -> ImportFailed:
    return ImportFailed(f"{path}: not a readable gzip file ({exc})")


def _json_lines(path: Path, report: ImportReport, progress: Progress | None) -> Iterator[tuple[int, Any]]:
    total = path.stat().st_size
    number = 0
    with _open(path) as stream:
        raw = getattr(stream, "fileobj", stream)  # the compressed file, for progress in bytes
        try:
            for number, line in enumerate(_lines(stream), start=1):
                if progress and number % 1000 == 0:
                    progress(raw.tell(), total, number)
                if line is None:
                    report.add_error(number, f"line longer than {MAX_LINE:,} bytes, skipped")
                elif line.strip():
                    try:
                        yield number, json.loads(line)
                    except (ValueError, RecursionError) as exc:
                        report.add_error(number, f"not valid JSON ({exc})")
        except _UNREADABLE as exc:
            if number == 0:
                raise _unreadable(path, exc) from None
            report.damaged = f"file is truncated or corrupt: reading stopped after line {number:,} ({exc})"
    if progress:
        progress(total, total, number)


def _lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Each line of `stream`, or None for one longer than MAX_LINE bytes (skipped, never held whole)."""
    while line := stream.readline(MAX_LINE + 1):
        if len(line) <= MAX_LINE or line.endswith(b"\n"):
            yield line
            continue
        while (rest := stream.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
            pass
        yield None
