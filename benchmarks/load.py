"""Load test of `broadsheet serve` on loopback: a mixed anonymous read load, with and without voters.

    .venv/bin/python benchmarks/load.py                      # SQLite, 1 and 2 web processes
    .venv/bin/python benchmarks/load.py --workers 2 --levels 32 --duration 20 --repeat 1 --hold 60
    .venv/bin/python benchmarks/load.py --postgresql --data /tmp/load-bench/pg-site   # PostgreSQL + pgvector

Starts `broadsheet serve --workers N` on a data directory holding the demo corpus (prepared with
`broadsheet demo` under --data when missing), then for each concurrency level runs the read mix (home,
a week, paper pages, /api/daily_papers, /search and /api/papers/search with real queries) for a fixed
time, once without and once with --voters logged-in users upvoting and taking it back through the API
(session cookie + X-CSRF-Token). Prints requests/s, p50/p95/p99 latency and errors per run. Loopback
only; every run is bounded by --duration, and the server is stopped at the end. The client runs on the
same machine as the server: on a small machine it takes a share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pg_search

from broadsheet.community import accounts
from broadsheet.community.tokens import secret_key
from broadsheet.config import Settings
from broadsheet.store import Store
from broadsheet.web.security import expected_token

QUERIES = ("diffusion models", "large language model reasoning", "graph neural networks", "reinforcement learning")
WEEK = "/papers/week/2026-W34"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, seconds: float, ok: bool) -> None:
        self.latencies.append(seconds)
        self.errors += not ok

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(data: Path, database_url: str | None) -> None:
    store = Store.open(Settings(data_dir=data, database_url=database_url).db_url)
    store.migrate()
    empty = not store.papers.count()
    store.close()
    if empty:
        subprocess.run(
            [sys.executable, "-m", "broadsheet", "--data-dir", str(data), "demo"], check=True, env=_env(database_url)
        )


def _env(database_url: str | None, grace: float = 0.0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")} | {"BROADSHEET_LOAD_DEMO": "false"}
    env["BROADSHEET_PAGE_CACHE_GRACE"] = str(grace)
    env["BROADSHEET_SEARCH_RATE"] = "0"  # every reader comes from 127.0.0.1 here: one address standing in for many
    return env | ({"BROADSHEET_DATABASE_URL": database_url} if database_url else {})


def voter_headers(data: Path, database_url: str | None, count: int) -> list[dict[str, str]]:
    """Fresh users with a session each: the cookie and the CSRF header their scripts send."""
    settings = Settings(data_dir=data, database_url=database_url)
    store = Store.open(settings.db_url)
    secret = secret_key(settings, store)
    made = []
    for _ in range(count):
        user = accounts.sign_up(store, f"voter{secrets.token_hex(4)}", None, "load test password 123")
        session = accounts.new_session(store, user)
        made.append({"cookie": f"bs_session={session}", "x-csrf-token": expected_token(secret, session, "")})
    store.close()
    return made


def start(data: Path, database_url: str | None, workers: int, port: int, grace: float) -> subprocess.Popen[bytes]:
    env = _env(database_url, grace)
    command = [sys.executable, "-m", "broadsheet", "--data-dir", str(data), "serve", "--port", str(port)]
    proc = subprocess.Popen([*command, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/papers?limit=1", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("server not up within 120 s")


def read_paths(base: str) -> list[str]:
    listed = httpx.get(base + "/api/daily_papers?limit=20", timeout=30).json()
    papers = [f"/papers/{item['paper']['id']}" for item in listed[:5]]
    searches = [f"/search?q={q.replace(' ', '+')}" for q in QUERIES]
    api_searches = [f"/api/papers/search?q={q.replace(' ', '+')}" for q in QUERIES[:2]]
    return ["/", WEEK, *papers, "/api/daily_papers", *searches, *api_searches]


class Connection:
    """One keep-alive HTTP/1.1 connection, GET only: a lean client, so the server gets the CPU it shares with us.

    (httpx's pool with 32 connections costs more CPU than the cached answers it measures: at 32 readers it
    reported 35 req/s where `ab -c 32` measured 1,500 against the same server.)"""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n"
                     f"Cookie: {self.cookie}\r\n\r\n".encode())  # fmt: skip
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in fields:
            await reader.readexactly(int(fields["content-length"]))
        else:  # chunked
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(head[0].split()[1])

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def reader(connection: Connection, paths: itertools.cycle[str], until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        path = next(paths)
        began = time.perf_counter()
        try:
            ok = await connection.get(path) == 200
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
            await connection.close()
        tally.add(time.perf_counter() - began, ok)
    await connection.close()


async def voter(
    base: str, headers: dict[str, str], papers: list[str], until: float, pause: float, tally: Tally
) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for up in itertools.cycle((True, False)):
            if time.monotonic() >= until:
                return
            for paper in papers:
                began = time.perf_counter()
                try:
                    ok = (await client.post(f"/api{paper}/vote", json={"up": up})).status_code == 200
                except httpx.HTTPError:
                    ok = False
                tally.add(time.perf_counter() - began, ok)
                await asyncio.sleep(pause)


async def level(base: str, paths: list[str], concurrency: int, seconds: float, voters: list[dict[str, str]],
                pause: float) -> tuple[Tally, Tally]:  # fmt: skip
    reads, votes = Tally(), Tally()
    papers = [p for p in paths if p.startswith("/papers/2")]
    host, port = base.removeprefix("http://").split(":")
    cookie = f"bs_visitor={secrets.token_urlsafe(24)}"  # a returning anonymous visitor
    until = time.monotonic() + seconds
    rotations = [itertools.cycle(paths[i % len(paths) :] + paths[: i % len(paths)]) for i in range(concurrency)]
    tasks = [reader(Connection(host, int(port), cookie), rotation, until, reads) for rotation in rotations]
    tasks += [voter(base, h, papers, until, pause, votes) for h in voters]
    await asyncio.gather(*tasks)
    return reads, votes


def row(workers: int, concurrency: int, voters: int, run: int, seconds: float, reads: Tally, votes: Tally) -> str:
    rate = len(reads.latencies) / seconds
    cells = [f"{workers}", f"{concurrency}", f"{voters}", f"{run}", f"{rate:.0f}", f"{reads.quantile(0.5):.0f}",
             f"{reads.quantile(0.95):.0f}", f"{reads.quantile(0.99):.0f}", f"{reads.errors}"]  # fmt: skip
    if voters:
        vote_rate = len(votes.latencies) / seconds
        cells += [f"{vote_rate:.0f}", f"{votes.quantile(0.99):.0f}", f"{votes.errors}"]
    else:
        cells += ["-", "-", "-"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/load-bench/site"), help="data directory (demo corpus)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="web processes to try")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 8, 32, 128], help="concurrent readers")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--repeat", type=int, default=2, help="runs per level (the machine is noisy)")
    parser.add_argument("--voters", type=int, default=8, help="logged-in users voting in the second runs (0: none)")
    parser.add_argument(
        "--vote-pause",
        type=float,
        default=0.5,
        help="seconds a voter waits between two votes (the site allows 120 a minute)",
    )
    parser.add_argument("--grace", type=float, default=0.0, help="the server's page_cache_grace (seconds)")
    parser.add_argument("--hold", type=float, default=0, help="before the runs, print the server PIDs and wait")
    parser.add_argument("--postgresql", action="store_true", help="on PostgreSQL + pgvector (embedded, in DATA/pg)")
    args = parser.parse_args()
    server, url = pg_search.start_postgresql(args.data / "pg") if args.postgresql else (None, None)
    try:
        run(args, url)
    finally:
        if server is not None:
            server.cleanup()


def run(args: argparse.Namespace, url: str | None) -> None:
    args.data.mkdir(parents=True, exist_ok=True)
    prepare(args.data, url)
    voters = voter_headers(args.data, url, args.voters)
    print("| web processes | readers | voters | run | req/s | p50 ms | p95 ms | p99 ms | errors | votes/s "
          "| vote p99 ms | vote errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for workers in args.workers:
        port = free_port()
        proc = start(args.data, url, workers, port, args.grace)
        base = f"http://127.0.0.1:{port}"
        try:
            paths = read_paths(base)
            for path in paths:  # warm: each page made once before the clock runs
                httpx.get(base + path, timeout=60)
            if args.hold:
                print(f"server pid {proc.pid}; waiting {args.hold:.0f} s", file=sys.stderr, flush=True)
                time.sleep(args.hold)
            for concurrency in args.levels:
                for who in ([], voters) if voters else ([],):
                    for run in range(1, args.repeat + 1):
                        reads, votes = asyncio.run(level(base, paths, concurrency, args.duration, who, args.vote_pause))
                        print(row(workers, concurrency, len(who), run, args.duration, reads, votes), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
