"""The change marker behind the page cache: it moves on any commit, from any connection (another process
or host is another connection), and stays put while nothing is written — on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import text

from broadsheet.config import Settings
from broadsheet.models import Paper
from broadsheet.store import Store
from broadsheet.store.changes import finished


def test_the_marker_moves_when_another_connection_commits_and_not_on_reads(settings: Settings, store: Store) -> None:
    other = Store.open(settings.db_url)  # as another web worker or host would connect
    before = store.changes.current()
    assert before is not None
    assert store.papers.count() == 0 and store.changes.current() == before  # reads move nothing
    other.papers.upsert([Paper("2401.00001", "A title", "An abstract", ("Ada Lovelace",), ("cs.CL",))])
    after = store.changes.current()
    assert after != before
    assert store.changes.current() == after
    other.close()


def test_an_in_memory_database_gives_no_marker() -> None:
    memory = Store.open("sqlite://")
    assert memory.changes.current() is None
    memory.close()


def test_finished_transactions_are_read_from_a_snapshot_in_one_form() -> None:
    assert finished("100:100:") == "100:"
    assert finished("100:101:100") == "100:"  # a writer took id 100: nothing finished yet
    assert finished("100:102:100,101") == "100:"
    assert finished("100:102:100") == "102:100"  # 101 finished while 100 still runs
    assert finished("101:101:") == "101:"  # 100 finished


@pytest.mark.postgres_only
def test_the_marker_moves_on_commit_not_when_a_writer_starts(settings: Settings, store: Store) -> None:
    """A writing transaction takes a transaction id before it commits; pages must not be made again for that."""
    other = Store.open(settings.db_url)
    before = store.changes.current()
    with other.db.write() as conn:
        conn.execute(text("SELECT pg_current_xact_id()"))  # takes an id, as the first write of a vote does
        assert store.changes.current() == before
    assert store.changes.current() != before  # committed
    other.close()


@pytest.mark.postgres_only
def test_the_marker_takes_a_new_connection_when_the_server_drops_its_own(store: Store) -> None:
    """A restart or an idle timeout kills the marker's connection; the next read reconnects once, silently."""
    assert store.changes.current() is not None
    own = store.changes._postgresql
    assert own is not None
    with store.db.write() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": own.driver_connection.info.backend_pid})
    assert store.changes.current() is not None
    assert store.changes._postgresql is not own
