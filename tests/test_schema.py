"""Schemathesis against the live app's /openapi.json: every operation, anonymous and logged in.

Checks: no server error ever, and every documented response matches its schema (errors included:
`{"error": message}` with the statuses the document lists). A new route is covered by itself.
"""

import pytest
import schemathesis
from community_site import PASSWORD, Site
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from broadsheet.community import accounts
from broadsheet.web.security import expected_token

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, response_schema_conformance]
LIMITS = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def operations(site: Site) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", site.app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 15, [op.label for op in found]
    return found


def run(operation: schemathesis.APIOperation, **auth: dict[str, str]) -> int:
    calls = []

    @given(case=operation.as_strategy())
    @LIMITS
    def check(case: schemathesis.Case) -> None:
        calls.append(case.call_and_validate(checks=CHECKS, **auth).status_code)

    check()
    return len(calls)


def test_no_operation_fails_for_anonymous_callers(site: Site) -> None:
    calls = sum(run(operation) for operation in operations(site))
    assert calls >= 100


def test_no_operation_fails_for_a_logged_in_member(site: Site) -> None:
    user = accounts.sign_up(site.store, "fuzzmember", None, PASSWORD)
    token = accounts.new_session(site.store, user)
    auth = {
        "cookies": {"bs_session": token},
        "headers": {"X-CSRF-Token": expected_token(site.app.state.secret, token, "")},
    }
    assert sum(run(operation, **auth) for operation in operations(site)) >= 100
