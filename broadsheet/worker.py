"""Background work: what web requests must not do themselves (fetch from arXiv, send mail), done by a worker.

    job = request_fetch(store, "2401.01234", user=alice, cap=20)   # queued at once (deduplicated per id)
    text = request_full_text(store, view)                            # stored full text, else queued (one per paper)
    queue_mail(store, message)                                        # sent by the worker, retried
    request_categories(store)                                         # categories for papers that came without
    Worker(store, settings, embedder).run(stop)                       # `broadsheet worker`, or a thread of `serve`

Any number of workers on any number of hosts can run: jobs are claimed in a locked transaction
and leased (store/jobs.py), requests to arXiv are paced for the whole deployment (store.pacer),
and every job is idempotent. A failure that may pass (arXiv unreachable, a 4xx from the mail
server) is retried with a doubling backoff; after `job_attempts` tries the job is marked failed
and its page says why.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.message import Message
from typing import Any

from broadsheet import arxiv
from broadsheet.arxiv import api, html
from broadsheet.arxiv.api import ArxivApiError
from broadsheet.community import actions as community
from broadsheet.community.actions import Rules, Submission
from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError, Conflict, TooMany
from broadsheet.ingest import fulltext
from broadsheet.ingest.fetcher import Fetcher, FetchError, Pace, Politeness
from broadsheet.insights import insights
from broadsheet.mail.mailer import Mailer, PermanentFailure, TemporaryFailure
from broadsheet.models import PaperView, User
from broadsheet.search.embed import Embedder, paper_text
from broadsheet.store import Store
from broadsheet.store import categories as category_store
from broadsheet.store.fulltexts import FullText
from broadsheet.store.jobs import Job, TooManyJobs

log = logging.getLogger("broadsheet.worker")
KINDS = ("fetch", "mail")
# claimed only when no job of KINDS is due: a reader's request never waits behind them
BACKGROUND = ("fulltext", "categories")
LEASE = timedelta(minutes=10)
FULL_TEXT_RETRY = timedelta(hours=6)  # a full text that failed for good is asked for again after this
FULL_TEXT_QUEUE = 500  # full texts waiting at most; past it, requests queue nothing (a crawler cannot flood arXiv)
CATEGORY_BATCH = 100  # papers asked for in one arXiv API request by a "categories" job


class Final(Exception):
    """The job cannot succeed by trying again (arXiv has no such paper, the mail server refused for good)."""


def request_fetch(store: Store, arxiv_id: str, *, user: User | None, cap: int, submit: Submission | None = None) -> Job:
    """Queue fetching an unknown paper from arXiv (and, with `submit`, listing it for `user` once it is here)."""
    payload: dict[str, Any] = {}
    if submit is not None and user is not None:
        payload["submit"] = {"user_id": user.id, "comment": submit.comment, "code_url": submit.code_url,
                             "project_url": submit.project_url}  # fmt: skip
    try:
        job, fresh = store.jobs.enqueue("fetch", arxiv_id, payload, user_id=user.id if user else None, user_cap=cap)
    except TooManyJobs as exc:
        raise TooMany(str(exc)) from None
    if submit is not None and not fresh and job.payload.get("submit", {}).get("user_id") != getattr(user, "id", None):
        raise Conflict(f"paper {arxiv_id} is being fetched from arXiv already; submit it once it is here")
    return job


def request_full_text(store: Store, view: PaperView, *, now: datetime | None = None) -> FullText | None:
    """The paper's stored full text (in any state); when there is none, a failed one is due again, or it was
    fetched for an older version of the paper, a "fulltext" job is queued (one per paper and version, however
    many ask). None: nothing stored and the queue is full."""
    at = now or datetime.now(UTC)
    paper, paper_id = view.paper, view.row_id if view.row_id is not None else store.papers.id_of(view.paper.arxiv_id)
    if paper_id is None:
        return None
    stored = store.fulltexts.get(paper_id)
    if stored is not None and not _due(stored, paper.version, at):
        return stored
    if store.jobs.waiting(BACKGROUND) < FULL_TEXT_QUEUE and store.fulltexts.request(
        paper_id, version=paper.version, now=at
    ):
        key = f"{paper.arxiv_id}v{paper.version}" if paper.version else paper.arxiv_id
        job, fresh = store.jobs.enqueue("fulltext", key, {"paper_id": paper_id, "arxiv_id": paper.arxiv_id})
        if not fresh and job.status == "done":  # done before, its text since removed: run it again
            store.jobs.retry(job.id, "asked for again", at)
    return store.fulltexts.get(paper_id)


def _due(stored: FullText, version: int | None, now: datetime) -> bool:
    if stored.state == "failed":
        return stored.retry_after is None or stored.retry_after <= now
    return stored.state != "pending" and version is not None and (stored.version or 0) < version


def request_categories(store: Store, *, batch: int = CATEGORY_BATCH) -> Job | None:
    """Queue a "categories" job for papers that arrived without arXiv categories (Hugging Face items carry
    none), newest first; None when every paper has some. The job's key is its set of ids, so the same
    papers are asked for once: ones arXiv gives no categories for are not asked again and again."""
    ids = category_store.uncategorised(store.db, limit=batch)
    if not ids:
        return None
    key = f"{len(ids)}:{ids[0]}..{ids[-1]}:{hashlib.sha256(','.join(ids).encode()).hexdigest()[:16]}"
    job, _ = store.jobs.enqueue("categories", key, {"arxiv_ids": ids})
    return job


def queue_mail(store: Store, message: Message) -> Job:
    """Hand a message to the worker; its Message-ID makes queueing it twice harmless."""
    key = str(message["Message-ID"] or "")[:300]
    job, _ = store.jobs.enqueue("mail", key, {"to": str(message["To"]), "raw": message.as_string()})
    return job


@dataclass
class Worker:
    store: Store
    settings: Settings
    embedder: Embedder
    sleep: Callable[[float], None] = time.sleep
    handlers: dict[str, Callable[[Job], None]] = field(init=False)

    def __post_init__(self) -> None:
        self.handlers = {"fetch": self._fetch, "mail": self._mail, "fulltext": self._fulltext,
                         "categories": self._categories}  # fmt: skip
        cfg = self.settings
        pace = Pace(self.store.pacer.reserve, "arxiv", cfg.arxiv_delay, self.sleep)
        self.fetcher = Fetcher(Politeness(cfg.arxiv_delay, retries=0, timeout=min(cfg.http_timeout, 30.0)),
                               user_agent=user_agent(cfg), pace=pace)  # fmt: skip

    def run(self, stop: threading.Event, *, idle: float = 1.0) -> None:
        """Run due jobs until `stop` is set; look for new ones every `idle` seconds."""
        while not stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database went away for a moment: keep the thread alive
                log.exception("worker: could not claim a job")
                ran = False
            if not ran:
                stop.wait(idle)

    def run_once(self) -> bool:
        job = self.store.jobs.claim(KINDS, LEASE) or self.store.jobs.claim(BACKGROUND, LEASE)
        if job is None:
            return False
        try:
            self.handlers[job.kind](job)
        except Final as exc:
            self.store.jobs.finish(job.id, error=str(exc))
        except Exception as exc:
            self._again(job, exc)
        else:
            self.store.jobs.finish(job.id)
        return True

    def _again(self, job: Job, exc: Exception) -> None:
        problem = f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, FetchError | TemporaryFailure) else str(exc)
        if job.attempts >= self.settings.job_attempts:
            log.warning("job %s %s failed for good: %s", job.kind, job.key, problem)
            self.store.jobs.finish(job.id, error=problem)
            return
        wait = self.settings.job_backoff * 2 ** (job.attempts - 1)
        self.store.jobs.retry(job.id, problem, datetime.now(UTC) + timedelta(seconds=wait))

    def _fetch(self, job: Job) -> None:
        try:
            report = arxiv.fetch_into(self.store, self.fetcher, [job.key], url=self.settings.arxiv_api_url)
        except ArxivApiError as exc:
            raise Final(f"arXiv refused the request: {exc}") from None
        if report.missing:
            raise Final(f"arXiv has no paper {job.key}")
        self._embed(job.key)
        view = self.store.papers.get(job.key)
        if view is not None and view.row_id is not None:  # its summary and keywords, for its card and page now
            self.store.insights.save([(view.row_id, insights([view.paper], self.embedder)[0])])
        wanted = job.payload.get("submit")
        if wanted:
            self._submit(job.key, wanted)

    def _embed(self, arxiv_id: str) -> None:
        """Embed the fetched paper (only it: a bulk backlog is `broadsheet embed`'s work), so search finds it."""
        view = self.store.papers.get(arxiv_id)
        if view is not None and view.row_id is not None:
            vector = self.embedder.embed([paper_text(view.paper)])[0]
            self.store.embeddings.save(self.embedder.name, [(view.row_id, vector)])

    def _submit(self, arxiv_id: str, wanted: dict[str, Any]) -> None:
        user = self.store.users.by_id(int(wanted["user_id"]))
        if user is None or user.banned:
            raise Final("the account that submitted this paper no longer exists")
        cfg = self.settings
        rules = Rules(cfg.zone, daily_cap=cfg.submit_daily_cap, max_age_days=cfg.submit_max_age_days)
        request = Submission(arxiv_id, wanted.get("comment"), wanted.get("code_url"), wanted.get("project_url"))
        try:
            community.submit(self.store, user, request, rules)
        except BroadsheetError as exc:
            raise Final(f"fetched from arXiv, but not submitted: {exc}") from None

    def _fulltext(self, job: Job) -> None:
        """Fetch the paper's HTML rendering and store it as Markdown (or that arXiv has none). A failure on the
        last attempt, or a final refusal, marks the text failed until FULL_TEXT_RETRY has passed."""
        paper_id, arxiv_id = int(job.payload["paper_id"]), str(job.payload["arxiv_id"])
        source = html.page_url(self.settings.arxiv_html_url, arxiv_id)
        try:
            page = html.fetch(self.fetcher, arxiv_id, url=self.settings.arxiv_html_url)
            if page is None:
                self.store.fulltexts.missing(paper_id, "arXiv has no HTML rendering of this paper", source_url=source)
                return
            text = fulltext.convert(page.body)
        except (html.TooLarge, fulltext.NotAPaper) as exc:
            self.store.fulltexts.missing(paper_id, str(exc), source_url=source)
            return
        except Exception as exc:
            if isinstance(exc, html.HtmlRefused) or job.attempts >= self.settings.job_attempts:
                retry = datetime.now(UTC) + FULL_TEXT_RETRY
                self.store.fulltexts.failed(paper_id, str(exc) or exc.__class__.__name__, retry_after=retry)
            if isinstance(exc, html.HtmlRefused):
                raise Final(str(exc)) from None
            raise
        self.store.fulltexts.save(paper_id, text.markdown, truncated=text.truncated, converter=fulltext.VERSION,
                                  source_url=page.url)  # fmt: skip

    def _categories(self, job: Job) -> None:
        """Fill in the categories arXiv's API gives for the job's papers (paced like every arXiv request), then
        queue the next batch of papers still without any (ending once a batch repeats: its key is done)."""
        try:
            found = {p.arxiv_id: p.categories for p in api.fetch_ids(self.fetcher, list(job.payload["arxiv_ids"]),
                                                                     url=self.settings.arxiv_api_url)}  # fmt: skip
        except ArxivApiError as exc:
            raise Final(f"arXiv refused the request: {exc}") from None
        filled = category_store.fill(self.store.db, found)
        log.info("categories: %d of %d papers filled from arXiv", filled, len(job.payload["arxiv_ids"]))
        if filled:
            request_categories(self.store)

    def _mail(self, job: Job) -> None:
        message = message_from_string(str(job.payload["raw"]))
        try:
            with Mailer(self.settings) as mailer:
                mailer.send(message)
        except PermanentFailure as exc:
            raise Final(f"the mail server refused: {exc}") from None


def user_agent(settings: Settings) -> str:
    contact = f"; mailto:{settings.contact_email}" if settings.contact_email else ""
    return f"Broadsheet/0.1 (self-hosted Daily Papers{contact})"


def start_threads(
    store: Store, settings: Settings, embedder: Embedder
) -> tuple[threading.Event, list[threading.Thread]]:
    """The worker threads of `broadsheet serve` (the embedded default needs no separate process)."""
    stop = threading.Event()
    threads = []
    for number in range(settings.worker_threads):
        worker = Worker(store, settings, embedder)
        thread = threading.Thread(target=worker.run, args=(stop,), name=f"broadsheet-worker-{number}", daemon=True)
        thread.start()
        threads.append(thread)
    return stop, threads
