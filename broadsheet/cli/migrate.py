"""`broadsheet migrate-to URL`: copy this instance's whole database into another one (PostgreSQL), verified."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import ArgumentError, DBAPIError

from broadsheet.cli import app, err, fail, open_store, out
from broadsheet.community.tokens import secret_key
from broadsheet.config import Settings
from broadsheet.store import Store, transfer
from broadsheet.store.engine import normalise_url
from broadsheet.store.transfer import Check, Progress, TransferError

REFUSED, BAD_USAGE, UNREACHABLE, DIFFERENT = 1, 2, 3, 4


@app.command("migrate-to")
def migrate_to(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(help="The new database, e.g. postgresql+psycopg://broadsheet@db.example/broadsheet.")
    ],
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows read and written per batch.")] = transfer.BATCH,
) -> None:
    """Copy this instance's whole database into an empty one at URL (migrated first), verified by checksums.

    Exits 1 if the target holds other data (nothing copied), 2 bad URL, 3 a database failed, 4 the copy differs.
    """
    settings: Settings = ctx.obj
    target_url = _target_url(url, settings)
    source = open_store(settings)
    secret_key(settings, source)  # a key file left by an older version is adopted into the database: copied too
    target = _open_target(target_url)
    try:
        copied = _copy_or_resume(source, target, batch)
        filled = target.embeddings.fill_vectors()
        checks = transfer.compare(copied, transfer.fingerprints(target, batch=batch))
        unindexed = transfer.unindexed_vectors(target)
    except DBAPIError as exc:
        raise _fail(f"database error: {_first_line(exc)}", UNREACHABLE) from None
    finally:
        target.close()
    out.print(_report(checks))
    if filled:
        out.print(f"{filled:,} vectors indexed by pgvector", highlight=False)
    if unindexed or not all(c.ok for c in checks):
        raise _fail(_difference(checks, unindexed), DIFFERENT)
    out.print(f"Copied and verified. Point every host at it: BROADSHEET_DATABASE_URL={_shown(target_url)}",
              highlight=False)  # fmt: skip


def _target_url(url: str, settings: Settings) -> str:
    try:
        target_url = normalise_url(url)
        same = transfer.same_database(settings.db_url, target_url)
    except ArgumentError:
        example = "postgresql+psycopg://user@host/broadsheet"
        raise _fail(f"not a database URL: {url!r} (e.g. {example})", BAD_USAGE) from None
    if same:
        raise _fail("the target is this instance's own database", BAD_USAGE)
    return target_url


def _open_target(url: str) -> Store:
    try:
        target = Store.open(url)
    except (ArgumentError, ImportError) as exc:  # no such dialect, or its driver is not installed
        raise _fail(f"cannot open {_shown(url)}: {exc} (for PostgreSQL: pip install 'broadsheet[postgres]')",
                   BAD_USAGE) from None  # fmt: skip
    try:
        target.migrate()
    except DBAPIError as exc:
        target.close()
        raise _fail(f"cannot reach or migrate {_shown(url)}: {_first_line(exc)}", UNREACHABLE) from None
    return target


def _copy_or_resume(source: Store, target: Store, batch: int) -> list[transfer.TableSum]:
    """Copy into an empty target; a target that already holds exactly this copy (an earlier run stopped
    after the copy) is only finished and verified; any other data is refused."""
    found = transfer.occupied(target)
    if not found:
        counts = transfer.row_counts(source)
        try:
            with _progress(sum(counts.values())) as progress:
                return transfer.copy(source, target, batch=batch, progress=progress)
        except TransferError as exc:
            raise _fail(f"{exc.message}; the target keeps nothing", UNREACHABLE) from None
    copied = transfer.fingerprints(source, batch=batch)
    if all(c.ok for c in transfer.compare(copied, transfer.fingerprints(target, batch=batch))):
        out.print("The target already holds an identical copy: finishing and verifying it.")
        return copied
    held = ", ".join(f"{name} {n:,}" for name, n in found.items())
    raise _fail(f"the target database already holds data ({held}); migrate-to copies into an empty database "
               "only: create a new one (createdb) and run it again", REFUSED)  # fmt: skip


@contextmanager
def _progress(total: int) -> Iterator[Progress]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("Copying {task.fields[table]:<16}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows, ETA"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("copy", total=total, table="")

        def advance(table: str, rows: int) -> None:
            bar.update(task, advance=rows, table=table)

        yield advance


def _report(checks: list[Check]) -> Table:
    """One row per table: its count and checksum, shown once when source and target agree, both when not."""
    table = Table("table", "rows", "sha256", "", title="Verification: source = target")
    for c in checks:
        rows = f"{c.source.rows:,}" if c.source.rows == c.target.rows else f"{c.source.rows:,} ≠ {c.target.rows:,}"
        sums = c.source.sha256[:16] if c.ok else f"{c.source.sha256[:16]} ≠ {c.target.sha256[:16]}"
        table.add_row(c.table, rows, sums, "[green]✓[/]" if c.ok else "[bold red]✗[/]")
    return table


def _difference(checks: list[Check], unindexed: int) -> str:
    parts = [f"{c.table} ({c.source.rows:,} rows here, {c.target.rows:,} there)" for c in checks if not c.ok]
    if unindexed:
        parts.append(f"{unindexed:,} vectors lack their pgvector copy")
    return "the copy differs from the source: " + "; ".join(parts)


def _fail(message: str, code: int) -> typer.Exit:
    return fail(escape(message), code)  # URLs and database messages may hold [brackets]


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: DBAPIError) -> str:
    return (str(exc.orig) if exc.orig else str(exc)).strip().splitlines()[0]
