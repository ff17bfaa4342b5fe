"""The change marker behind the page cache: it moves on any commit, from any connection (another process
or host is another connection), and stays put while nothing is written — on SQLite and PostgreSQL."""

from broadsheet.config import Settings
from broadsheet.models import Paper
from broadsheet.store import Store


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
