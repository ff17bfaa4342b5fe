"""Build and send personalised digests for many subscribers to a local SMTP sink; print time and memory.

    python benchmarks/digest.py [--subscribers 10000] [--period 2026-W26]

The store holds the bundled demo corpus (with its vectors). Subscribers get varied preferences:
trending papers, 1-3 arXiv categories (some excluded), and 0-2 free-text topics drawn from 300
phrases taken from real paper titles, matched by the hybrid search engine. The sink is aiosmtpd
in a separate process that counts what it receives. The run is `Digests.send`, the code behind
`broadsheet digest send`, ledger and all.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from broadsheet import demo
from broadsheet.config import Settings
from broadsheet.emails import render_html, render_text
from broadsheet.mail.delivery import Digests
from broadsheet.mail.digest import DigestPeriod, _item, compose, period_for
from broadsheet.mail.mailer import Mailer
from broadsheet.models import PaperView, Preferences, Subscriber
from broadsheet.search.embed import minilm_name
from broadsheet.search.engines import make_engine
from broadsheet.store import Store

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
import time; print(Count.n, round(time.process_time(), 1), flush=True)
"""
CATEGORIES = ["cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.RO", "cs.IR", "cs.CR", "cs.SD", "eess.IV", "cs.HC", "stat.ML"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def topics_from(store: Store, n: int, rng: random.Random) -> list[str]:
    with store.db.read() as conn:
        titles = [r[0] for r in conn.exec_driver_sql("SELECT title FROM papers")]
    phrases = []
    for title in rng.sample(titles, n):
        words = [w for w in re.findall(r"[A-Za-z]+", title) if len(w) > 3]
        if len(words) >= 2:
            start = rng.randrange(0, max(1, len(words) - 2))
            phrases.append(" ".join(words[start : start + rng.randint(2, 4)]).lower())
    return phrases


def preferences(rng: random.Random, topics: list[str]) -> Preferences:
    cats = tuple(rng.sample(CATEGORIES, rng.randint(0, 3)))
    excluded = tuple(c for c in rng.sample(CATEGORIES, 1) if c not in cats) if rng.random() < 0.2 else ()
    chosen = tuple(rng.sample(topics, rng.randint(0, 2)))
    return Preferences(
        "weekly", rng.choice([5, 10, 20]), rng.random() < 0.6 or not (cats or chosen), cats, excluded, chosen
    )


def message_cost(digests: Digests, store: Store, period: DigestPeriod, n: int = 300) -> None:
    """Per digest: building and flattening the message, ours (classic MIME classes) vs `EmailMessage`."""
    subscribers = store.subscribers.active(period.frequency)[:n]
    built = [(s, digests.selector.papers(s, period)) for s in subscribers]
    built = [(s, papers) for s, papers in built if papers]
    site = digests.settings.site_name

    def ours(subscriber: Subscriber, papers: list[PaperView]) -> bytes:
        links = digests.subscriptions.links(subscriber)
        return bytes(compose(subscriber, papers, period, links, mail_from="Broadsheet <digest@example.org>",
                             site_name=site, msg_id="<bench@example.org>"))  # fmt: skip

    def reference(subscriber: Subscriber, papers: list[PaperView]) -> bytes:
        links = digests.subscriptions.links(subscriber)
        items = [_item(v, links.site) for v in papers]
        message = EmailMessage()
        for name, value in [("Subject", f"{site}: {len(items)} papers for {period.period.title}"),
                            ("From", "Broadsheet <digest@example.org>"), ("To", subscriber.email),
                            ("Date", format_datetime(datetime.now(UTC))), ("Message-ID", "<bench@example.org>"),
                            ("List-Id", "Broadsheet digest <digest.example.org>"),
                            ("List-Unsubscribe", f"<{links.unsubscribe}>"),
                            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                            ("Auto-Submitted", "auto-generated")]:  # fmt: skip
            message[name] = value
        message.set_content(render_text("digest", items, links))
        message.add_alternative(render_html("digest", items, links), subtype="html")
        return bytes(message)

    for name, build in (("classic MIME classes (ours)", ours), ("EmailMessage (reference)", reference)):
        started = time.perf_counter()
        for subscriber, papers in built:
            build(subscriber, papers)
        print(
            f"message build + flatten, {name}: {(time.perf_counter() - started) / len(built) * 1000:.2f} ms per digest"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--period", default="2026-W26")
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdin is not None
    sink.stdout.readline()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), smtp_host="127.0.0.1", smtp_port=port, load_demo=False)  # type: ignore[call-arg]
        store = Store.open(settings.db_url)
        store.migrate()
        demo.load(store, settings.zone, model=minilm_name(settings.embed_max_tokens))
        engine = make_engine(settings, store)
        rng = random.Random(5)
        topics = topics_from(store, 300, rng)
        for i in range(args.subscribers):
            subscriber, _ = store.subscribers.subscribe(f"reader{i:05d}@example.org", preferences(rng, topics))
            store.subscribers.set_status(subscriber.id, "active")
        period = period_for(args.period, date(2026, 6, 28))
        digests = Digests(store, engine, settings)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        with Mailer(settings) as mailer:
            report = digests.send(period, mailer)
        took = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        message_cost(digests, store, period)
    received, sink_cpu = sink.communicate("")[0].split()
    rate = args.subscribers / took
    print(f"{args.subscribers:,} subscribers, period {period.key}: {report.counts} in {took:.1f} s ({rate:,.0f}/s)")
    print(f"the sink received {received} messages (it used {sink_cpu} s of CPU)")
    print(f"peak resident memory {peak:,.0f} MB (engine and store loaded before the run: {rss_before:,.0f} MB)")


if __name__ == "__main__":
    main()
