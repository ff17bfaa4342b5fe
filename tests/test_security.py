"""CSRF on every state-changing route, hostile input everywhere, and 50 concurrent voters on a real server."""

import random
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote

import httpx
from community_site import Site
from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from pydantic import BaseModel

from broadsheet.community import accounts
from broadsheet.web.security import expected_token

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
VALUES = {
    "paper_id": "2608.19880",
    "comment_id": "1",
    "claim_id": "1",
    "job_id": "1",
    "token_id": "1",
    "decision": "approve",
    "username": "victim",
    "value": "2026-08-21",
    "rest": "x",
    "fmt": "atom",
    "name": "cs.CL.atom",
    "item_id": "0" * 24,
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: VALUES[m[1]], path)


def all_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every endpoint, also inside included routers (FastAPI >= 0.160 wraps them, unexpanded)."""
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending[:0] = list(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def routes(site: Site, methods: set[str]) -> list[tuple[str, str, APIRoute]]:
    found = []
    for route in all_routes(site.app):
        found += [(method, concrete(route.path), route) for method in sorted(route.methods & methods)]
    return found


# Authorised by a signed token in the URL instead of cookies: RFC 8058 one-click unsubscribe POSTs
# come from mail providers without cookies. They must still refuse a request without a valid token.
TOKEN_AUTHORISED = {("POST", "/unsubscribe")}


def test_every_state_changing_route_rejects_a_request_without_a_valid_csrf_token(site: Site) -> None:
    member = site.member("csrfcheck")
    unsafe = routes(site, UNSAFE)
    assert len(unsafe) >= 20, [p for _, p, _ in unsafe]  # the list below grows with new routes, never silently
    for method, path, _ in unsafe:
        if (method, path) in TOKEN_AUTHORISED:
            for token in ("", "forged.token", "x" * 100):
                assert member.request(method, path, params={"token": token}).status_code in (400, 422), path
            continue
        for headers, data in (
            ({"X-CSRF-Token": ""}, None),
            ({"X-CSRF-Token": "forged-token-of-some-length"}, {"csrf_token": "x" * 40}),
        ):
            response = member.request(method, path, headers=headers, data=data)
            assert response.status_code == 403, (method, path, response.status_code, response.text[:200])


HOSTILE = [
    "' OR '1'='1' --",
    '"; DROP TABLE papers; --',
    "%' UNION SELECT password_hash FROM users --",
    "\\'\\\"\x00",
    "<script>alert(1)</script>",
]
LONG = "A" * 20_000


def test_hostile_and_huge_inputs_get_a_clear_4xx_never_a_500(site: Site) -> None:
    member = site.member("fuzzer")
    count_before = site.store.papers.count()
    checked = 0
    for method, path, route in routes(site, {"GET"} | UNSAFE):
        query = query_fields(route)
        for value in [*HOSTILE, LONG]:
            for name in query:
                response = member.request(method, path, params={name: value})
                checked += _check(response, value, f"{method} {path}?{name}")
            for kind, name in body_fields(route):
                response = member.request(method, path, **{kind: {name: value}})  # type: ignore[arg-type]
                checked += _check(response, value, f"{method} {path} {name}=")
            if "{" in route.path and method == "GET":
                response = member.get(re.sub(r"\{(\w+)(?::\w+)?\}", quote(value, safe=""), route.path))
                checked += _check(response, value, f"GET {route.path} path")
    assert checked > 150
    assert site.store.papers.count() == count_before


def query_fields(route: APIRoute) -> list[str]:
    """Every query parameter a route reads, the fields of a query model (SearchParams) included."""
    names = []
    for param in route.dependant.query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += [field.alias or name for name, field in annotation.model_fields.items()]
        else:
            names.append(param.alias)
    return names


def body_fields(route: APIRoute) -> list[tuple[str, str]]:
    """("data", form field) or ("json", model field) for every field a route reads from its body."""
    fields = []
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        kind = "data" if isinstance(param.field_info, params.Form) else "json"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields += [(kind, name) for name in annotation.model_fields]  # a JSON body, or a form model
        else:
            fields.append((kind, param.alias))
    return fields


def _check(response: httpx.Response, value: str, where: str) -> int:
    assert response.status_code < 500, (where, response.status_code)
    if value is LONG:
        assert 400 <= response.status_code < 500, (where, response.status_code)
    if response.status_code >= 400:
        text = response.text
        assert ("error" in text or 'role="alert"' in text or "notice" in text) and "Traceback" not in text, where
    return 1


def test_fifty_concurrent_voters_leave_exact_counts(site: Site, live: str) -> None:
    papers = ["2608.20336", "2608.20202", "2608.19799"]
    base = {p: httpx.get(f"{live}/api/papers/{p}").json()["upvotes"] for p in papers}
    voters = []
    for i in range(50):
        user = accounts.sign_up(site.store, f"voter{i:02d}", None, "correct horse battery")
        voters.append(accounts.new_session(site.store, user))
    final: dict[tuple[int, str], bool] = {}
    errors: list[str] = []

    def vote(i: int) -> None:
        rng = random.Random(i)
        csrf = expected_token(site.app.state.secret, voters[i], "")  # what the session's pages carry
        cookies = {"bs_session": voters[i]}
        with httpx.Client(base_url=live, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=60) as client:
            for _ in range(12):
                paper, up = rng.choice(papers), rng.random() < 0.6
                response = client.post(f"/api/papers/{paper}/vote", json={"up": up})
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:100]}")
                    continue
                final[(i, paper)] = up

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for paper in papers:
        expected = base[paper] + sum(1 for (_, p), up in final.items() if p == paper and up)
        assert httpx.get(f"{live}/api/papers/{paper}").json()["upvotes"] == expected


def test_a_client_chosen_csrf_value_is_worthless_and_other_sites_are_refused(site: Site) -> None:
    member = site.member("csrfchooser")
    chosen = {"X-CSRF-Token": "t" * 32}
    member.cookies.set("bs_csrf", "t" * 32)  # double-submit with a value the client picked: refused now
    assert member.post("/api/papers/2608.19880/vote", json={"up": True}, headers=chosen).status_code == 403
    assert member.post("/api/papers/2608.19880/vote", json={"up": True}).status_code == 200  # the session's token
    evil = {"Origin": "https://evil.example"}
    refused = member.post("/api/papers/2608.19880/vote", json={"up": True}, headers=evil)
    assert refused.status_code == 403 and "another site" in refused.json()["error"]
    same = member.post("/api/papers/2608.19880/vote", json={"up": True}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200
    referred = member.post("/api/papers/2608.19880/vote", json={"up": True},
                           headers={"Referer": "https://evil.example/page"})  # fmt: skip
    assert referred.status_code == 403


def test_the_host_header_never_reaches_links(site: Site) -> None:
    guest = site.guest()
    response = guest.get("/api/papers", params={"limit": 2}, headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.headers["link"]
    assert response.headers["link"].startswith(f"<{site.settings.public_url}/api/papers?")


def test_admins_cannot_suspend_themselves(site: Site) -> None:
    boss = site.member("selfbanner", admin=True)
    refused = boss.post("/u/selfbanner/ban", data={"banned": "true"})
    assert refused.status_code == 400 and "your own account" in refused.text
    assert not site.store.users.get("selfbanner").banned  # type: ignore[union-attr]
