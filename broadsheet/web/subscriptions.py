"""Digest subscription pages: subscribe (double opt-in), confirm, manage, unsubscribe.

Unsubscribing is a POST to `/unsubscribe?token=...`: the signed token is the authority, so it
works from the page's button and as RFC 8058's one-click POST that mail providers send (which
carries no cookies); a GET only shows the button, because link scanners fetch links in mail.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from broadsheet.models import Preferences
from broadsheet.subscriptions import SubscriptionError, Subscriptions, preferences
from broadsheet.web.deps import settings, store
from broadsheet.web.pages import render
from broadsheet.web.security import csrf_protect, current_user

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
tokened = APIRouter(include_in_schema=False)  # authorised by the signed token in the URL, not by cookies
Token = Annotated[str, Query(max_length=400)]
Field = Annotated[str, Form(max_length=2000)]


def service(request: Request) -> Subscriptions:
    return Subscriptions(store(request), settings(request))


def _prefs(frequency: str, max_papers: str, trending: str, categories: str, exclude: str, topics: str) -> Preferences:
    try:
        count = int(max_papers)
    except ValueError:
        raise SubscriptionError(400, "the number of papers must be a number") from None
    return preferences(frequency=frequency, max_papers=count, trending=trending == "true",
                       categories=categories, exclude=exclude, topics=topics)  # fmt: skip


@router.get("/subscribe")
def subscribe_page(request: Request) -> Response:
    user = current_user(request)
    form = _form(Preferences()) | {"email": user.email if user and user.email else ""}
    return render(request, "subscribe.html", {"form": form, "error": None, "done": False})


def _form(prefs: Preferences) -> dict[str, str]:
    """Form fields (as typed) for a set of preferences."""
    return {
        "frequency": prefs.frequency, "max_papers": str(prefs.max_papers), "trending": "true" if prefs.trending else "",
        "categories": ", ".join(prefs.categories), "exclude": ", ".join(prefs.exclude_categories),
        "topics": "\n".join(prefs.topics),
    }  # fmt: skip


@router.post("/subscribe")
def subscribe(
    request: Request, email: Field, frequency: Field = "daily", max_papers: Field = "10", trending: Field = "",
    categories: Field = "", exclude: Field = "", topics: Field = "",
) -> Response:  # fmt: skip
    user = current_user(request)
    try:
        prefs = _prefs(frequency, max_papers, trending, categories, exclude, topics)
        service(request).request(email, prefs, user_id=user.id if user else None)
    except SubscriptionError as exc:
        form = {"email": email, "frequency": frequency, "max_papers": max_papers, "trending": trending,
                "categories": categories, "exclude": exclude, "topics": topics}  # fmt: skip
        return render(request, "subscribe.html", {"form": form, "error": str(exc), "done": False}, status=exc.status)
    return render(request, "subscribe.html", {"form": {}, "error": None, "done": True, "email": email})


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
def manage(
    request: Request, token: Field, frequency: Field = "daily", max_papers: Field = "10", trending: Field = "",
    categories: Field = "", exclude: Field = "", topics: Field = "", resume: Field = "",
) -> Response:  # fmt: skip
    subscriber = service(request).holder(token, "manage")
    try:
        prefs = _prefs(frequency, max_papers, trending, categories, exclude, topics)
        subscriber = service(request).update(token, prefs, resume=resume == "true")
    except SubscriptionError as exc:
        form = {"frequency": frequency, "max_papers": max_papers, "trending": trending, "categories": categories,
                "exclude": exclude, "topics": topics}  # fmt: skip
        context = {"subscriber": subscriber, "token": token, "form": form, "error": str(exc), "notice": None}
        return render(request, "manage.html", context, status=exc.status)
    context = {"subscriber": subscriber, "token": token, "form": _form(subscriber.preferences)}
    return render(request, "manage.html", context | {"error": None, "notice": "Your preferences are saved."})


@tokened.get("/unsubscribe")
def unsubscribe_page(request: Request, token: Token) -> Response:
    subscriber = service(request).holder(token, "unsubscribe")
    return render(request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": False})


@tokened.post("/unsubscribe")
def unsubscribe(request: Request, token: Token) -> Response:
    subscriber = service(request).unsubscribe(token)
    return render(request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": True})
