"""Digest subscriptions: double opt-in by email, preferences and unsubscribing through signed links.

Nothing is sent to an address before it confirms, and nothing turns an address back on without
a fresh confirmation sent to it. A confirmation link works once: it names the pending request it
was sent for, so a reused or superseded link changes nothing. Unsubscribe links never expire
(RFC 8058 asks that they keep working); manage links last 90 days. Confirmation mails are capped
per address (one per `CONFIRM_EVERY`) and requests per client address, so the form cannot be
used to flood someone's inbox. Mail goes out through the background worker, never inside the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from broadsheet import ids
from broadsheet.community.accounts import AccountError, check_email
from broadsheet.community.tokens import Signer, TokenError, secret_key
from broadsheet.config import Settings
from broadsheet.emails import notice
from broadsheet.errors import Gone, Invalid, NotFound, TooMany
from broadsheet.ingest.metadata import xml_safe
from broadsheet.mail.digest import Links
from broadsheet.models import Preferences, Subscriber
from broadsheet.store import Store
from broadsheet.worker import queue_mail

CONFIRM_TTL = timedelta(days=3)
MANAGE_TTL = timedelta(days=90)
CONFIRM_EVERY = timedelta(minutes=10)  # at most one confirmation mail per address in this time
REQUESTS_PER_CLIENT, CLIENT_WINDOW = 10, timedelta(hours=1)
MAX_TOPICS, MAX_TOPIC, MAX_CATEGORIES = 5, 100, 20


def preferences(
    *, frequency: str, max_papers: int, trending: bool, categories: str, exclude: str, topics: str,
    for_you: bool = False,
) -> Preferences:  # fmt: skip
    """Preferences from form input (comma/space-separated categories, one topic per line)."""
    if frequency not in ("daily", "weekly"):
        raise Invalid("frequency is daily or weekly")
    if not 1 <= max_papers <= 50:
        raise Invalid("a digest holds 1 to 50 papers")
    include, skip = _categories(categories), _categories(exclude)
    wanted = [" ".join(xml_safe(t).split()) for t in topics.splitlines() if xml_safe(t).strip()]
    if len(wanted) > MAX_TOPICS or any(len(t) > MAX_TOPIC for t in wanted):
        raise Invalid(f"at most {MAX_TOPICS} topics of at most {MAX_TOPIC} characters")
    if not (trending or include or wanted or for_you):
        raise Invalid("choose trending papers, some categories, a topic or For you")
    return Preferences(frequency, max_papers, trending, include, skip, tuple(wanted), for_you)


def _categories(text: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(c for c in re.split(r"[\s,]+", text.strip()) if c))
    bad = [c for c in found if not ids.is_category(c)]
    if bad or len(found) > MAX_CATEGORIES:
        raise Invalid(f"not arXiv categories: {', '.join(bad)[:100]} (e.g. cs.CL, math.AG)")
    return found


@dataclass
class Subscriptions:
    store: Store
    settings: Settings

    def __post_init__(self) -> None:
        self.secret = secret_key(self.settings, self.store)
        self.signer = Signer(self.secret)

    def url(self, path: str, purpose: str, payload: object) -> str:
        return f"{self.settings.public_url}{path}?token={self.signer.sign(purpose, payload)}"

    def request(self, email: str, prefs: Preferences, *, client: str, user_id: int | None = None) -> bool:
        """Start a subscription: queue a confirmation link (or, if already subscribed, a manage link).

        False when a mail went to this address a moment ago (the reader should look for that one).
        """
        try:
            address = check_email(email)
        except AccountError as exc:
            raise Invalid(str(exc)) from None
        if address is None:
            raise Invalid("enter an email address")
        if self.store.counters.hit(f"subscribe:client:{client[:100]}", CLIENT_WINDOW) > REQUESTS_PER_CLIENT:
            raise TooMany("too many subscription requests from your address; try again in an hour")
        if self.store.counters.hit(f"subscribe:mail:{address}", CONFIRM_EVERY) > 1:
            return False
        subscriber, pending = self.store.subscribers.subscribe(address, prefs, user_id)
        if pending:
            self._send_confirmation(subscriber)
        else:
            self._mail(address, "Your paper digest settings", "manage.txt", self.manage_url(subscriber))
        return True

    def _send_confirmation(self, subscriber: Subscriber) -> None:
        link = self.url("/subscribe/confirm", "confirm", [subscriber.id, _stamp(subscriber, self.store)])
        self._mail(subscriber.email, "Confirm your paper digest", "confirm.txt", link)

    def manage_url(self, subscriber: Subscriber) -> str:
        return self.url("/subscribe/manage", "manage", subscriber.id)

    def links(self, subscriber: Subscriber) -> Links:
        """The signed links a digest carries: preferences, and one-click unsubscribe (never expires)."""
        unsubscribe = self.url("/unsubscribe", "unsubscribe", subscriber.id)
        return Links(self.settings.public_url, self.manage_url(subscriber), unsubscribe)

    def _mail(self, to: str, subject: str, template: str, link: str) -> None:
        cfg = self.settings
        message = notice(to, subject, template, mail_from=cfg.mail_from, email=to, link=link, site_name=cfg.site_name)
        queue_mail(self.store, message)

    def confirm(self, token: str) -> tuple[Subscriber, bool]:
        """Activate the pending subscription a confirmation link names; (subscriber, newly confirmed)."""
        payload = self._read("confirm", token, CONFIRM_TTL)
        if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(x, int) for x in payload)):
            raise Invalid("this link is not valid")
        sid, stamp = payload
        subscriber = self.store.subscribers.get(sid)
        if subscriber is None:
            raise Invalid("this link is not valid")
        if subscriber.status == "active":
            return subscriber, False  # a second click: already confirmed, nothing changes
        if subscriber.status != "pending" or stamp != _stamp(subscriber, self.store):
            raise Invalid("this confirmation link was already used or has been replaced")
        self.store.subscribers.set_status(sid, "active", expect=["pending"])
        return self.store.subscribers.get(sid) or subscriber, True

    def holder(self, token: str, purpose: str) -> Subscriber:
        """The subscriber a manage or unsubscribe link is for."""
        sid = self._read(purpose, token, MANAGE_TTL if purpose == "manage" else None)
        subscriber = self.store.subscribers.get(sid) if isinstance(sid, int) else None
        if subscriber is None:
            raise NotFound("this subscription no longer exists")
        return subscriber

    def unsubscribe(self, token: str) -> Subscriber:
        subscriber = self.holder(token, "unsubscribe")
        self.store.subscribers.set_status(subscriber.id, "unsubscribed", expect=["pending", "active", "paused"])
        return subscriber

    def update(self, token: str, prefs: Preferences, *, resume: bool) -> tuple[Subscriber, bool]:
        """New preferences from a manage link; (subscriber, whether a confirmation mail went out).

        `resume` on a paused or unsubscribed address never turns it on by itself: it sends a fresh
        confirmation to the address, so only its owner can start the digests again.
        """
        subscriber = self.holder(token, "manage")
        self.store.subscribers.update_preferences(subscriber.id, prefs)
        sent = False
        if resume and subscriber.status in ("paused", "unsubscribed"):
            if self.store.counters.hit(f"subscribe:mail:{subscriber.email}", CONFIRM_EVERY) > 1:
                raise TooMany("a confirmation was sent to this address a few minutes ago; use the link in it")
            self.store.subscribers.set_status(subscriber.id, "pending", expect=["paused", "unsubscribed"])
            self._send_confirmation(self.store.subscribers.get(subscriber.id) or subscriber)
            sent = True
        return self.store.subscribers.get(subscriber.id) or subscriber, sent

    def _read(self, purpose: str, token: str, max_age: timedelta | None) -> object:
        try:
            return self.signer.read(purpose, token, max_age=max_age)
        except TokenError as exc:
            raise (Gone if exc.expired else Invalid)(str(exc)) from None


def _stamp(subscriber: Subscriber, store: Store) -> int:
    """Names one pending request: the time the subscription last changed."""
    return store.subscribers.changed_stamp(subscriber.id)
