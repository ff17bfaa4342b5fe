from datetime import UTC, date, datetime

from broadsheet.models import Paper, merge

OLD = Paper("2401.00001", "Old title", "Old abstract", ("A",), ("cs.LG",), version=1, doi="10.1/x")


def test_newer_version_wins_and_keeps_fields_it_lacks() -> None:
    new = Paper(
        "2401.00001", "New title", "New abstract", ("A", "B"), ("cs.LG",), version=2, code_url="https://github.com/a/b"
    )
    merged = merge(OLD, new)
    assert (merged.title, merged.version, merged.doi, merged.code_url) == ("New title", 2, "10.1/x", new.code_url)


def test_older_version_never_overwrites() -> None:
    v2 = Paper("2401.00001", "v2 title", "v2", ("A",), version=2)
    assert merge(v2, OLD).title == "v2 title"
    assert merge(v2, OLD).doi == "10.1/x"  # but it may fill a gap


def test_same_or_unknown_version_keeps_what_is_stored() -> None:
    other = Paper("2401.00001", "Other source's title", "x", version=None, announced_on=date(2024, 1, 2))
    merged = merge(OLD, other)
    assert merged.title == "Old title"
    assert merged.announced_on == date(2024, 1, 2)
    assert merge(merged, other) == merged  # idempotent


def test_published_falls_back_to_announcement_then_id_month() -> None:
    assert Paper("2401.00001", "t", "a").published == datetime(2024, 1, 1, tzinfo=UTC)
    assert Paper("hep-th/9901001", "t", "a").published == datetime(1999, 1, 1, tzinfo=UTC)
    assert Paper("2401.00001", "t", "a", announced_on=date(2024, 1, 5)).published == datetime(2024, 1, 5, tzinfo=UTC)


def test_without_version_numbers_the_later_update_wins() -> None:
    stored = Paper("1401.2122", "Listing title", "a")  # no version, no update time (a listings dump)
    oai = Paper("1401.2122", "OAI title", "a", updated_at=datetime(2017, 10, 23, tzinfo=UTC))
    assert merge(stored, oai).title == "OAI title"
    assert merge(merge(stored, oai), stored).title == "OAI title"
    api_v1 = Paper("1401.2122", "v1", "a", version=1, updated_at=datetime(2014, 1, 9, tzinfo=UTC))
    assert merge(api_v1, oai).title == "OAI title"  # unknown version: the later update decides


def test_a_record_with_a_version_beats_one_without() -> None:
    listing = Paper("2401.00001", "Listing title", "a")
    replaced = Paper("2401.00001", "Replacement title", "a", version=2)
    assert merge(listing, replaced).title == "Replacement title"
    assert merge(merge(listing, replaced), listing).title == "Replacement title"  # re-importing the listing: no flip
