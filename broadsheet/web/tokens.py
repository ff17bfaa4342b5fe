"""Personal API tokens: the settings routes that create and revoke them, and Hugging Face's `whoami-v2`.

    curl -H "Authorization: Bearer bs_…" -X POST -H "Content-Type: application/json" \\
         -d '{"up": true}' https://papers.example.org/api/papers/2401.01234/vote
    HfApi(endpoint="https://papers.example.org", token="bs_…").whoami()   # -> {"name": "ada", ...}

Tokens are managed from a logged-in browser session only: a token cannot mint or revoke tokens.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from broadsheet.errors import Forbidden
from broadsheet.models import User
from broadsheet.store.tokens import MAX_NAME, Bearer, TokenRefused
from broadsheet.web.accounts import _digest_url
from broadsheet.web.deps import RowId, bearer, render, store
from broadsheet.web.security import csrf_protect, require_user

router = APIRouter(dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]


@router.get("/api/whoami-v2", tags=["tokens"], summary="Who the token (or session) belongs to, as Hugging Face says it")
def whoami(request: Request, user: UserDep) -> dict[str, Any]:
    return whoami_shape(user, bearer(request))


def whoami_shape(user: User, found: Bearer | None) -> dict[str, Any]:
    """Hugging Face's `/api/whoami-v2` answer: `huggingface_hub` reads `name` and `auth.accessToken`."""
    auth: dict[str, Any] = {"type": "session"}
    if found is not None:
        token = found.token
        access = {"displayName": token.name, "role": token.scope, "createdAt": token.created_at.isoformat()}
        auth = {"type": "access_token", "accessToken": access}
    return {
        "type": "user",
        "id": str(user.id),
        "name": user.username,
        "fullname": user.display_name or user.username,
        "email": user.verified_email,
        "emailVerified": user.email_verified,
        "isPro": False,
        "canPay": False,
        "periodEnd": None,
        "orgs": [],
        "isAdmin": user.is_admin,
        "auth": auth,
    }


def _by_session(request: Request) -> None:
    if bearer(request) is not None:
        raise Forbidden("API tokens are created and revoked from a logged-in browser session, not with a token")


def _page(request: Request, user: User, *, new: str | None = None, error: str | None = None) -> Response:
    context = {
        "user": user, "error": error, "notice": None, "digest_url": _digest_url(request, user),
        "tokens": store(request).tokens.of_user(user.id), "new_token": new, "max_name": MAX_NAME,
    }  # fmt: skip
    return render(request, "settings.html", context, status=400 if error else 200)


@router.get("/settings/tokens", include_in_schema=False)
def tokens_page(request: Request, user: UserDep) -> Response:
    return _page(request, user)


@router.post("/settings/tokens", include_in_schema=False)
def create(
    request: Request,
    user: UserDep,
    name: Annotated[str, Form(max_length=300)],
    scope: Annotated[str, Form(max_length=10)] = "read",
) -> Response:
    """The new token is on this page only: it is never shown again."""
    _by_session(request)
    try:
        _, raw = store(request).tokens.create(user.id, name, scope)
    except TokenRefused as exc:
        return _page(request, user, error=str(exc))
    return _page(request, user, new=raw)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def revoke(request: Request, user: UserDep, token_id: RowId) -> Response:
    _by_session(request)
    store(request).tokens.revoke(user.id, token_id)  # another user's token id changes nothing
    return RedirectResponse("/settings/tokens", status_code=303)
