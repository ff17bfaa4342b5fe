"""The polite fetcher on its own: which answers are retried, how long it waits, when it gives up.

The network edge is an httpx MockTransport (no socket); waits are recorded instead of slept."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from broadsheet.ingest.fetcher import Fetcher, FetchError, Politeness, Retry


def fetcher(answers: Iterator[httpx.Response | Exception], waits: list[float], **politeness: float) -> Fetcher:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    rules = replace(
        Politeness(min_interval=0.0, retries=3, backoff=2.0, overload_wait=7.0, max_wait=60.0), **politeness
    )
    return Fetcher(rules, transport=httpx.MockTransport(handler), sleep=waits.append)


def text(response: httpx.Response) -> str:
    if response.text == "truncated":
        raise Retry("the page did not parse")
    return response.text


def test_an_answer_on_the_first_try_waits_for_nothing() -> None:
    waits: list[float] = []
    assert fetcher(iter([httpx.Response(200, text="ok")]), waits).get("https://x.test/", None, text) == "ok"
    assert waits == []


def test_server_errors_network_errors_and_bad_pages_back_off_exponentially() -> None:
    waits: list[float] = []
    answers = iter([httpx.Response(502), httpx.ConnectError("refused"), httpx.Response(200, text="truncated"),
                    httpx.Response(200, text="ok")])  # fmt: skip
    assert fetcher(answers, waits).get("https://x.test/", None, text) == "ok"
    assert waits == [2.0, 4.0, 8.0]


def test_the_servers_own_wait_is_honoured_in_seconds_or_as_a_date_and_capped() -> None:
    waits: list[float] = []
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    answers = iter([httpx.Response(503, headers={"Retry-After": "12"}), httpx.Response(429, headers={"Retry-After": later}),
                    httpx.Response(503, headers={"Retry-After": "99999"}), httpx.Response(200, text="ok")])  # fmt: skip
    assert fetcher(answers, waits).get("https://x.test/", None, text) == "ok"
    assert waits[0] == 12.0 and 25.0 < waits[1] <= 30.0 and waits[2] == 60.0


def test_arxivs_plain_rate_exceeded_body_waits_the_overload_time() -> None:
    waits: list[float] = []
    answers = iter([httpx.Response(200, text="Rate exceeded."), httpx.Response(200, text="ok")])
    assert fetcher(answers, waits).get("https://x.test/", None, text) == "ok"
    assert waits == [7.0]


def test_it_gives_up_after_the_retries_saying_why() -> None:
    waits: list[float] = []
    with pytest.raises(FetchError, match=r"giving up after 4 attempts \(HTTP 500\)"):
        fetcher(iter([httpx.Response(500)] * 4), waits).get("https://x.test/", None, text)
    assert len(waits) == 3


def test_a_final_answer_is_not_retried() -> None:
    waits: list[float] = []

    def refuse(response: httpx.Response) -> str:
        raise FetchError(f"HTTP {response.status_code}")

    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher(iter([httpx.Response(404)]), waits).get("https://x.test/", None, refuse)
    assert waits == []


def test_requests_keep_the_minimum_gap() -> None:
    waits: list[float] = []
    polite = fetcher(iter([httpx.Response(200, text="a"), httpx.Response(200, text="b")]), waits, min_interval=3.0)
    assert [polite.get("https://x.test/", None, text) for _ in range(2)] == ["a", "b"]
    assert len(waits) == 1 and 2.5 < waits[0] <= 3.0
