"""Digest subscription pages: subscribe (double opt-in), confirm, manage, unsubscribe.

Unsubscribing is a POST to `/unsubscribe?token=...`: the signed token is the authority, so it
works from the page's button and as RFC 8058's one-click POST that mail providers send (which
carries no cookies); a GET only shows the button, because link scanners fetch links in mail.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from broadsheet.errors import BroadsheetError, Invalid
from broadsheet.mail.subscriptions import CONFIRM_EVERY, Subscriptions, preferences
from broadsheet.models import Preferences
from broadsheet.web.deps import current_user, render, settings, store
from broadsheet.web.security import client_address, csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
tokened = APIRouter(include_in_schema=False)  # authorised by the signed token in the URL, not by cookies
Token = Annotated[str, Query(max_length=400)]


def service(request: Request) -> Subscriptions:
    return Subscriptions(store(request), settings(request))


class PrefsForm(BaseModel):
    """The preference fields of the subscribe and manage forms, as typed."""

    frequency: str = Field("daily", max_length=2000)
    max_papers: str = Field("10", max_length=2000)
    trending: str = Field("", max_length=2000)
    categories: str = Field("", max_length=2000)
    exclude: str = Field("", max_length=2000)
    topics: str = Field("", max_length=2000)
    for_you: str = Field("", max_length=2000)

    def preferences(self) -> Preferences:
        try:
            count = int(self.max_papers)
        except ValueError:
            raise Invalid("the number of papers must be a number") from None
        return preferences(frequency=self.frequency, max_papers=count, trending=self.trending == "true",
                           categories=self.categories, exclude=self.exclude, topics=self.topics,
                           for_you=self.for_you == "true")  # fmt: skip


class SubscribeForm(PrefsForm):
    email: str = Field(max_length=2000)


class ManageForm(PrefsForm):
    token: str = Field(max_length=2000)
    resume: str = Field("", max_length=2000)


MAIL_NOTE = (
    f"We send at most one confirmation email to an address every {int(CONFIRM_EVERY.total_seconds() // 60)} minutes."
)


@router.get("/subscribe")
def subscribe_page(request: Request) -> Response:
    user = current_user(request)
    form = _form(Preferences()) | {"email": (user.verified_email if user else None) or ""}
    return render(request, "subscribe.html", {"form": form, "error": None, "done": False, "note": MAIL_NOTE})


def _form(prefs: Preferences) -> dict[str, str]:
    """Form fields (as typed) for a set of preferences."""
    return {
        "frequency": prefs.frequency, "max_papers": str(prefs.max_papers), "trending": "true" if prefs.trending else "",
        "categories": ", ".join(prefs.categories), "exclude": ", ".join(prefs.exclude_categories),
        "topics": "\n".join(prefs.topics), "for_you": "true" if prefs.for_you else "",
    }  # fmt: skip


@router.post("/subscribe")
def subscribe(request: Request, form: Annotated[SubscribeForm, Form()]) -> Response:
    """Queue a confirmation mail; the account is linked only when this is its owner's confirmed address."""
    user = current_user(request)
    own = user is not None and user.verified_email == form.email.strip().lower()
    try:
        sent = service(request).request(form.email, form.preferences(), client=client_address(request),
                                        user_id=user.id if user and own else None)  # fmt: skip
    except BroadsheetError as exc:
        context = {"form": form.model_dump(), "error": exc.message, "done": False, "note": MAIL_NOTE}
        return render(request, "subscribe.html", context, status=exc.status)
    context = {"form": {}, "error": None, "done": True, "email": form.email, "sent": sent, "note": MAIL_NOTE}
    return render(request, "subscribe.html", context)


@router.get("/subscribe/confirm")
def confirm(request: Request, token: Token) -> Response:
    subscriber, fresh = service(request).confirm(token)
    manage = service(request).manage_url(subscriber)
    return render(request, "subscribed.html", {"subscriber": subscriber, "fresh": fresh, "manage": manage})


@router.get("/subscribe/manage")
def manage_page(request: Request, token: Token) -> Response:
    subscriber = service(request).holder(token, "manage")
    context = {"subscriber": subscriber, "token": token, "form": _form(subscriber.preferences)}
    return render(request, "manage.html", context | {"error": None, "notice": None})


@router.post("/subscribe/manage")
def manage(request: Request, form: Annotated[ManageForm, Form()]) -> Response:
    subscriber = service(request).holder(form.token, "manage")
    context = {"subscriber": subscriber, "token": form.token}
    try:
        subscriber, sent = service(request).update(form.token, form.preferences(), resume=form.resume == "true")
    except BroadsheetError as exc:
        context |= {"form": form.model_dump(), "error": exc.message, "notice": None}
        return render(request, "manage.html", context, status=exc.status)
    context |= {"subscriber": subscriber, "form": _form(subscriber.preferences)}
    saved = "Your preferences are saved."
    if sent:
        saved += f" To start the digests again, open the confirmation link we sent to {subscriber.email}."
    return render(request, "manage.html", context | {"error": None, "notice": saved})


@tokened.get("/unsubscribe")
def unsubscribe_page(request: Request, token: Token) -> Response:
    subscriber = service(request).holder(token, "unsubscribe")
    return render(request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": False})


@tokened.post("/unsubscribe")
def unsubscribe(request: Request, token: Token) -> Response:
    subscriber = service(request).unsubscribe(token)
    return render(request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": True})
