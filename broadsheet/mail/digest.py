"""Email digests: the period, what each subscriber gets, and the message (multipart, RFC 8058).

period = period_for("today", today)                       # or "2026-08-21", "week", "2026-W34"
papers = Selector(store, engine, settings.zone).papers(subscriber, period)   # less what its account hid or ruled out
message = compose(subscriber, papers, period, links)      # a pure function -> a MIME message
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.charset import QP, Charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr
from zoneinfo import ZoneInfo

from broadsheet import rank
from broadsheet.community.follows import visible
from broadsheet.emails import mail_domain, render_html, render_text, set_headers
from broadsheet.ingest.metadata import display_text, display_title, tex_to_text
from broadsheet.models import PaperView, Subscriber
from broadsheet.periods import InvalidPeriod, Period, containing, parse_day, parse_week
from broadsheet.personal import foryou
from broadsheet.search import Engine, InvalidQuery
from broadsheet.store import Store


@dataclass(frozen=True)
class DigestPeriod:
    period: Period
    frequency: str  # which subscribers it is for: daily | weekly

    @property
    def key(self) -> str:
        """The ledger's name for it: `2026-08-21` or `2026-W34`."""
        return self.period.label


def period_for(spec: str, today: date) -> DigestPeriod:
    """`today`, `YYYY-MM-DD` (daily digests) or `week`, `YYYY-Www` (weekly digests)."""
    value = spec.strip()
    try:
        if value == "today":
            return DigestPeriod(containing("day", today), "daily")
        if value == "week":
            return DigestPeriod(containing("week", today), "weekly")
        if "W" in value:
            return DigestPeriod(parse_week(value), "weekly")
        return DigestPeriod(parse_day(value), "daily")
    except InvalidPeriod as exc:
        raise InvalidPeriod(f"{exc} (or today / week)") from None


@dataclass(frozen=True)
class New:
    views: list[PaperView]  # most upvoted first
    by_id: dict[int, PaperView]
    trending: list[PaperView]
    by_category: dict[str, list[PaperView]]


@dataclass
class Selector:
    """Picks each subscriber's papers; shares the work of a run among subscribers (topics, categories)."""

    store: Store
    engine: Engine
    zone: ZoneInfo
    weights: rank.Weights = field(default_factory=rank.Weights)  # trending's: rank.Weights.from_settings(settings)
    _new: dict[str, New] = field(default_factory=dict)
    _topics: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def papers(self, subscriber: Subscriber, period: DigestPeriod) -> list[PaperView]:
        prefs = subscriber.preferences
        new = self._new_papers(period)
        chosen: list[PaperView] = self._for_you(subscriber, new) if prefs.for_you else []
        for topic in prefs.topics:
            chosen += [new.by_id[i] for i in self._topic(topic, period, new)]
        if prefs.categories:
            picked = {id(v) for c in prefs.categories for v in new.by_category.get(c, ())}
            chosen += [v for v in new.views if id(v) in picked]
        if prefs.trending:
            chosen += new.trending
        excluded = set(prefs.exclude_categories)
        chosen = self._unblocked(subscriber, chosen)
        unique = {v.paper.arxiv_id: v for v in reversed(chosen) if not excluded & set(v.paper.categories)}
        ordered = list(dict.fromkeys(v.paper.arxiv_id for v in chosen if v.paper.arxiv_id in unique))
        return [unique[key] for key in ordered][: prefs.max_papers]

    def _new_papers(self, period: DigestPeriod) -> New:
        """The period's new papers, computed once per run and shared by every subscriber."""
        if period.key not in self._new:
            ids = self.store.papers.new_in(period.period.start, period.period.end, self.zone)
            by_id = dict(zip(ids, self.store.papers.views(ids), strict=True))
            views = sorted(by_id.values(), key=lambda v: v.upvotes, reverse=True)
            listed = [v for v in views if v.day is not None]
            trending = [v for v, score in rank.by_trending(listed, _end(period, self.zone), self.weights) if score > 0]
            by_category: dict[str, list[PaperView]] = {}
            for view in views:
                for category in view.paper.categories:
                    by_category.setdefault(category, []).append(view)
            self._new[period.key] = New(views, by_id, trending, by_category)
        return self._new[period.key]

    def _unblocked(self, subscriber: Subscriber, views: list[PaperView]) -> list[PaperView]:
        """What the subscriber's account hid or ruled out never reaches its digest, whichever source chose it."""
        if subscriber.user_id is None or not views:
            return views
        return visible(views, self.store.follows.interests(subscriber.user_id))

    def _for_you(self, subscriber: Subscriber, new: New) -> list[PaperView]:
        """The period's papers picked for the subscriber's account (none for a subscription without one)."""
        user = self.store.users.by_id(subscriber.user_id) if subscriber.user_id is not None else None
        if user is None:
            return []
        picks = foryou.for_you(
            self.store, self.engine, user, limit=subscriber.preferences.max_papers, among=list(new.by_id)
        )
        return [p.view for p in picks]

    def _topic(self, topic: str, period: DigestPeriod, new: New) -> list[int]:
        """Row ids of the period's papers that match a topic, best first (one search per topic and run)."""
        key = (topic.lower(), period.key)
        if key not in self._topics:
            try:
                ranked = self.engine.ranked(topic, limit=300)
            except InvalidQuery:
                ranked = []
            self._topics[key] = [row_id for row_id, _ in ranked if row_id in new.by_id][:20]
        return self._topics[key]


def _end(period: DigestPeriod, zone: ZoneInfo) -> datetime:
    return datetime.combine(period.period.end + timedelta(days=1), time(), zone).astimezone(UTC)


@dataclass(frozen=True)
class Links:
    site: str  # https://papers.example.org
    manage: str  # signed link to the preferences page
    unsubscribe: str  # signed one-click unsubscribe link


def message_id(period: DigestPeriod | str, subscriber_id: int, secret: bytes, mail_from: str) -> str:
    """Stable per (subscriber, period): a resend after a crash is recognisably the same message."""
    key = period if isinstance(period, str) else period.key
    digest = hashlib.sha256(secret + f"{key}:{subscriber_id}".encode()).hexdigest()[:16]
    return f"<digest.{key}.{subscriber_id}.{digest}@{mail_domain(mail_from)}>"


def compose(
    subscriber: Subscriber, papers: list[PaperView], period: DigestPeriod, links: Links, *,
    mail_from: str, site_name: str, msg_id: str,
) -> Message:  # fmt: skip
    """The digest email: a plain-text part and an HTML part with inline styles.

    Built with the stdlib's classic MIME classes: for thousands of digests a run they take about half
    the time of `EmailMessage` and its header registry (benchmarks/digest.py prints both).
    """
    items = [_item(v, links.site) for v in papers]
    title = f"{site_name}: {len(items)} paper{'s' if len(items) != 1 else ''} for {period.period.title}"
    message = MIMEMultipart("alternative")
    set_headers(message, subject=title, mail_from=mail_from, to=subscriber.email, msg_id=msg_id)
    message["List-Id"] = formataddr((f"{site_name} digest", f"digest.{mail_domain(mail_from)}"), "utf-8")
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(_text(render_text(title, items, links), "plain"))
    message.attach(_text(render_html(title, items, links), "html"))
    return message


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable source, and lines within SMTP's 998-octet limit


def _text(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(body, _UTF8_QP)
    return part


@dataclass(frozen=True)
class Item:
    title: str
    authors: str
    summary: str  # the abstract's first sentence
    upvotes: int
    url: str
    arxiv_url: str
    code_url: str | None


def _item(view: PaperView, site: str) -> Item:
    p = view.paper
    authors = ", ".join(p.authors[:3]) + (f" and {len(p.authors) - 3} others" if len(p.authors) > 3 else "")
    url = f"{site.rstrip('/')}/papers/{p.arxiv_id}"
    title, summary = tex_to_text(display_title(p.title)), first_sentence(tex_to_text(display_text(p.abstract)))
    return Item(title, authors, summary, view.upvotes, url, f"https://arxiv.org/abs/{p.arxiv_id}", p.code_url)


def first_sentence(text: str, limit: int = 240) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match[1] if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
