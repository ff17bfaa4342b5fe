"""Digest subscriptions: double opt-in by email, preferences and unsubscribing through signed links.

Nothing is sent to an address before it confirms. A confirmation link works once: it names the
pending request it was sent for, so a reused or superseded link changes nothing. Unsubscribe
links never expire (RFC 8058 asks that they keep working); manage links last 90 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from broadsheet import ids
from broadsheet.accounts import AccountError, check_email
from broadsheet.config import Settings
from broadsheet.digest import Links
from broadsheet.emails import notice
from broadsheet.mailer import Mailer, PermanentFailure, TemporaryFailure
from broadsheet.models import Preferences, Subscriber
from broadsheet.store import Store
from broadsheet.tokens import TokenError, read, secret_key, sign, verify

CONFIRM_TTL = timedelta(days=3)
MANAGE_TTL = timedelta(days=90)
MAX_TOPICS, MAX_TOPIC, MAX_CATEGORIES = 5, 100, 20


class SubscriptionError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def preferences(
    *, frequency: str, max_papers: int, trending: bool, categories: str, exclude: str, topics: str
) -> Preferences:
    """Preferences from form input (comma/space-separated categories, one topic per line)."""
    if frequency not in ("daily", "weekly"):
        raise SubscriptionError(400, "frequency is daily or weekly")
    if not 1 <= max_papers <= 50:
        raise SubscriptionError(400, "a digest holds 1 to 50 papers")
    include, skip = _categories(categories), _categories(exclude)
    wanted = [" ".join(t.split()) for t in topics.splitlines() if t.strip()]
    if len(wanted) > MAX_TOPICS or any(len(t) > MAX_TOPIC for t in wanted):
        raise SubscriptionError(400, f"at most {MAX_TOPICS} topics of at most {MAX_TOPIC} characters")
    if not (trending or include or wanted):
        raise SubscriptionError(400, "choose trending papers, some categories or a topic")
    return Preferences(frequency, max_papers, trending, include, skip, tuple(wanted))


def _categories(text: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(c for c in re.split(r"[\s,]+", text.strip()) if c))
    bad = [c for c in found if not ids.is_category(c)]
    if bad or len(found) > MAX_CATEGORIES:
        raise SubscriptionError(400, f"not arXiv categories: {', '.join(bad)[:100]} (e.g. cs.CL, math.AG)")
    return found


@dataclass
class Subscriptions:
    store: Store
    settings: Settings

    def __post_init__(self) -> None:
        self.secret = secret_key(self.settings)

    def url(self, path: str, purpose: str, subscriber: Subscriber, ttl: timedelta | None) -> str:
        return f"{self.settings.site_url.rstrip('/')}{path}?token={sign(self.secret, purpose, subscriber.id, ttl=ttl)}"

    def request(self, email: str, prefs: Preferences, *, user_id: int | None = None) -> None:
        """Start a subscription: mail a confirmation link (or, if already subscribed, a manage link)."""
        try:
            address = check_email(email)
        except AccountError as exc:
            raise SubscriptionError(400, str(exc)) from None
        if address is None:
            raise SubscriptionError(400, "enter an email address")
        subscriber, pending = self.store.subscribers.subscribe(address, prefs, user_id)
        if pending:
            stamp = _stamp(subscriber, self.store)
            link = self.url("/subscribe/confirm", f"confirm-{stamp}", subscriber, CONFIRM_TTL)
            self._mail(address, "Confirm your paper digest", "confirm.txt", link)
        else:
            self._mail(address, "Your paper digest settings", "manage.txt", self.manage_url(subscriber))

    def manage_url(self, subscriber: Subscriber) -> str:
        return self.url("/subscribe/manage", "manage", subscriber, MANAGE_TTL)

    def links(self, subscriber: Subscriber) -> Links:
        """The signed links a digest carries: preferences, and one-click unsubscribe (never expires)."""
        unsubscribe = self.url("/unsubscribe", "unsubscribe", subscriber, None)
        return Links(self.settings.site_url.rstrip("/"), self.manage_url(subscriber), unsubscribe)

    def _mail(self, to: str, subject: str, template: str, link: str) -> None:
        cfg = self.settings
        message = notice(to, subject, template, mail_from=cfg.mail_from, email=to, link=link, site_name=cfg.site_name)
        try:
            with Mailer(cfg) as mailer:
                mailer.send(message)
        except (TemporaryFailure, PermanentFailure) as exc:
            raise SubscriptionError(503, f"the email could not be sent ({exc}); try again later") from None

    def confirm(self, token: str) -> tuple[Subscriber, bool]:
        """Activate the pending subscription a confirmation link names; (subscriber, newly confirmed)."""
        purpose, sid = self._read(token)
        subscriber = self.store.subscribers.get(sid)
        if not purpose.startswith("confirm-") or subscriber is None:
            raise SubscriptionError(400, "this link is not valid")
        if subscriber.status == "active":
            return subscriber, False  # a second click: already confirmed, nothing changes
        if subscriber.status != "pending" or purpose != f"confirm-{_stamp(subscriber, self.store)}":
            raise SubscriptionError(400, "this confirmation link was already used or has been replaced")
        self.store.subscribers.set_status(sid, "active", expect=["pending"])
        return self.store.subscribers.get(sid) or subscriber, True

    def holder(self, token: str, purpose: str) -> Subscriber:
        """The subscriber a manage or unsubscribe link is for."""
        try:
            sid = verify(self.secret, token, purpose)
        except TokenError as exc:
            raise SubscriptionError(410 if exc.expired else 400, str(exc)) from None
        subscriber = self.store.subscribers.get(sid)
        if subscriber is None:
            raise SubscriptionError(404, "this subscription no longer exists")
        return subscriber

    def unsubscribe(self, token: str) -> Subscriber:
        subscriber = self.holder(token, "unsubscribe")
        self.store.subscribers.set_status(subscriber.id, "unsubscribed", expect=["pending", "active", "paused"])
        return subscriber

    def update(self, token: str, prefs: Preferences, *, resume: bool) -> Subscriber:
        """New preferences from a manage link; `resume` reactivates a paused or unsubscribed one."""
        subscriber = self.holder(token, "manage")
        self.store.subscribers.update_preferences(subscriber.id, prefs)
        if resume and subscriber.status in ("paused", "unsubscribed"):
            self.store.subscribers.set_status(subscriber.id, "active")
        return self.store.subscribers.get(subscriber.id) or subscriber

    def _read(self, token: str) -> tuple[str, int]:
        try:
            return read(self.secret, token)
        except TokenError as exc:
            raise SubscriptionError(410 if exc.expired else 400, str(exc)) from None


def _stamp(subscriber: Subscriber, store: Store) -> int:
    """Names one pending request: the time the subscription last changed."""
    return store.subscribers.changed_stamp(subscriber.id)
