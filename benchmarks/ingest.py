"""Ingestion throughput: OAI-PMH parse + upsert, and a daily sync of 4 categories, against a local server.

    python benchmarks/ingest.py [--shared ../shared/data] [--entries 1500] [--runs 3]

- OAI-PMH: the recorded complete 3-page `oai_dc` harvest (2,265 records) served by a local
  HTTP server, harvested into a fresh SQLite store by the same code as `broadsheet harvest`
  (politeness delay 0); also the parse-only rate of the same pages.
- Daily sync: an announcement feed for cs.LG+cs.CL+cs.CV+cs.AI written to arXiv's Atom
  specification from `--entries` real papers of the arXiv listings (a busy day has ~1,500),
  synced by the same code as `broadsheet sync` with the politeness delay set to 0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from broadsheet import arxiv
from broadsheet.arxiv import oai
from broadsheet.ingest.fetcher import Fetcher, Politeness
from broadsheet.store import Store

FEED = "cs.LG+cs.CL+cs.CV+cs.AI"


def serve(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    """Answer GETs from `pages`, keyed by path or by resumptionToken."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            token = parse_qs(parts.query).get("resumptionToken", [""])[0]
            body = pages.get(token) or pages.get(parts.path) or b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def fresh_store(tmp: Path, name: str) -> Store:
    store = Store.open(f"sqlite:///{tmp / name}.db")
    store.migrate()
    return store


def atom_feed(rows: list[dict[str, object]]) -> bytes:
    entries = []
    for r in rows:
        cats = "".join(f'<category term="{c}"/>' for c in r["categories"] if str(c)[0].islower())  # type: ignore[attr-defined]
        entries.append(
            f"<entry><id>oai:arXiv.org:{r['id']}v1</id><title>{escape(str(r['title']))}</title>"
            f"<summary>arXiv:{r['id']}v1 Announce Type: new \nAbstract: {escape(str(r['abstract']))}</summary>{cats}"
            f"<published>2026-07-01T00:00:00-04:00</published><arxiv:announce_type>new</arxiv:announce_type>"
            f"<dc:creator>{escape(', '.join(r['authors']))}</dc:creator></entry>"  # type: ignore[arg-type]
        )
    head = '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
    head += 'xmlns:dc="http://purl.org/dc/elements/1.1/">'
    return (head + "".join(entries) + "</feed>").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--entries", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    oai_dir = args.shared / "arxiv-api-fixtures" / "oai_pmh_oai_dc" / "scix_harvester"
    raw = [gzip.decompress((oai_dir / f"ListRecords_data_{i}.xml.gz").read_bytes()) for i in range(3)]
    with gzip.open(args.shared / "arxiv-daily-listings" / "papers.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(args.entries), f, strict=False)]
    httpd, url = serve(
        {"/oai": raw[0], "6511260|1001": raw[1], "6511260|2001": raw[2], f"/atom/{FEED}": atom_feed(rows)}
    )
    fetcher = Fetcher(Politeness(min_interval=0.0))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        for _ in range(args.runs):
            parsed = sum(len(oai.parse_page(page).papers) for page in raw)
        parse_rate = parsed * args.runs / (time.perf_counter() - started)
        for run in range(args.runs):
            store = fresh_store(Path(tmp), f"oai{run}")
            started = time.perf_counter()
            result = oai.harvest(store, fetcher, oai.HarvestParams(url + "/oai", "oai_dc", date(2023, 3, 7)))
            took = time.perf_counter() - started
            rate = result.records / took
            print(f"OAI-PMH harvest run {run + 1}: {result.records:,} records in {took:.2f} s = {rate:,.0f} records/s")
        print(f"OAI-PMH parse only: {parse_rate:,.0f} records/s")
        for run in range(args.runs):
            store = fresh_store(Path(tmp), f"sync{run}")
            started = time.perf_counter()
            report = arxiv.sync(store, fetcher, FEED.split("+"), url=url + "/atom")
            took = time.perf_counter() - started
            print(f"daily sync of {FEED} ({len(rows):,} entries) run {run + 1}: {took:.2f} s -> {report.result}")
    httpd.shutdown()


if __name__ == "__main__":
    main()
