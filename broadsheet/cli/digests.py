"""Digest commands: digest send (cron/systemd), digest preview EMAIL."""

from __future__ import annotations

import time
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broadsheet.cli import app, err, fail, open_store, out
from broadsheet.config import Settings
from broadsheet.mail.delivery import DigestError, Digests
from broadsheet.mail.digest import DigestPeriod, period_for
from broadsheet.mail.mailer import Mailer
from broadsheet.periods import InvalidPeriod

digest_app = typer.Typer(help="Email digests.", no_args_is_help=True)
app.add_typer(digest_app, name="digest")
PeriodOption = Annotated[
    str, typer.Option(help="today or YYYY-MM-DD (daily subscribers), week or YYYY-Www (weekly subscribers).")
]


def _period(settings: Settings, spec: str) -> DigestPeriod:
    try:
        return period_for(spec, datetime.now(settings.zone).date())
    except InvalidPeriod as exc:
        raise fail(str(exc), 2) from None


def _digests(settings: Settings) -> Digests:
    from broadsheet.search.engines import make_engine

    store = open_store(settings)
    return Digests(store, make_engine(settings, store), settings)


@digest_app.command("send")
def send(
    ctx: typer.Context,
    period: PeriodOption = "today",
    dry_run: Annotated[
        Path | None, typer.Option("--dry-run", help="Write .eml files to this folder instead of sending.")
    ] = None,
) -> None:
    """Send each confirmed subscriber's digest for the period, exactly once (safe to rerun after a crash)."""
    settings: Settings = ctx.obj
    chosen = _period(settings, period)
    digests = _digests(settings)
    if dry_run is not None:
        report = digests.dry_run(chosen, dry_run)
        out.print(f"{chosen.key}: {report.counts}", highlight=False)
        return
    started = time.monotonic()
    columns = (TextColumn("Sending"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar, Mailer(settings) as mailer:
            task = bar.add_task("send", total=None)
            report = digests.send(
                chosen, mailer, on_progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    except DigestError as exc:
        raise fail(str(exc), 3) from None
    counts = ", ".join(f"{n} {what}" for what, n in sorted(report.counts.items())) or "nothing to send"
    out.print(f"{chosen.key} ({chosen.frequency}): {counts} in {time.monotonic() - started:.1f} s", highlight=False)
    if report.counts.get("retry later"):
        raise fail("some digests could not be sent now; they stay queued for the next run", 3)


@digest_app.command("preview")
def preview(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="A subscriber's email address.")],
    period: PeriodOption = "today",
    mime: Annotated[bool, typer.Option("--mime", help="Print the raw MIME message instead.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML part to this file (to open in a browser).")
    ] = None,
) -> None:
    """Show one subscriber's digest for the period: headers and the plain-text part (nothing is sent or recorded)."""
    settings: Settings = ctx.obj
    chosen = _period(settings, period)
    digests = _digests(settings)
    subscriber = digests.store.subscribers.by_email(email.strip().lower())
    if subscriber is None:
        raise fail(f"no subscriber {email!r}", 1)
    message = digests.build(subscriber, chosen)
    if message is None:
        raise fail(f"nothing matches {email}'s preferences for {chosen.key}", 1)
    if html is not None:
        try:
            html.write_text(_part(message, "text/html"), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {html}: {exc.strerror or exc}", 1) from None
        err.print(f"HTML part written to {html}", highlight=False)
    out.print(message.as_string() if mime else readable(message), highlight=False, markup=False)


def readable(message: Message) -> str:
    """Subject, From, To and Date decoded, then the plain-text part."""
    heads = [f"{name}: {make_header(decode_header(message[name]))}" for name in ("Subject", "From", "To", "Date")
             if message[name]]  # fmt: skip
    return "\n".join([*heads, "", _part(message, "text/plain")])


def _part(message: Message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""
