import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from conftest import FIXTURES
from typer.testing import CliRunner

from broadsheet.cli import app

runner = CliRunner()


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args], env=env)


def all_commands() -> list[list[str]]:
    def walk(cmd: Any, path: list[str]) -> list[list[str]]:
        found = [path]
        for name, sub in getattr(cmd, "commands", {}).items():
            found += walk(sub, [*path, name])
        return found

    return walk(typer.main.get_command(app), [])


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c) or "broadsheet")
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.slow
def test_init_import_reimport_and_show(tmp_path: Path) -> None:
    assert run(tmp_path, "init").exit_code == 0
    assert (tmp_path / "data" / "broadsheet.db").exists()
    first = run(
        tmp_path, "import", str(FIXTURES / "arxiv_listings_sample.jsonl"), str(FIXTURES / "hf" / "2026-08-21.json.gz")
    )
    assert first.exit_code == 0, first.output
    assert "128 new, 0 updated, 0 unchanged" in first.output and "17 new" in first.output
    again = run(tmp_path, "import", str(FIXTURES / "arxiv_listings_sample.jsonl"))
    assert "0 new, 0 updated, 128 unchanged" in again.output
    shown = run(tmp_path, "papers", "show", "https://arxiv.org/abs/2608.19880v1")
    assert shown.exit_code == 0 and "EnvHarness" in shown.output and "163 upvotes" in shown.output
    as_json = run(tmp_path, "papers", "show", "2608.19880", "--json")
    assert json.loads(as_json.output)["githubRepo"] == "https://github.com/google-research/envharness"


def test_malformed_lines_are_listed_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(FIXTURES.joinpath("kaggle_sample.jsonl").read_text().splitlines()[0] + "\nnot json\n")
    result = run(tmp_path, "import", str(path))
    assert result.exit_code == 0
    assert "1 new" in result.output and "1 malformed skipped" in result.output and "line 2" in result.output


def test_errors_are_clear_and_exit_non_zero(tmp_path: Path) -> None:
    missing = run(tmp_path, "import", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert run(tmp_path, "import", "--format", "csv", str(FIXTURES / "kaggle_sample.jsonl")).exit_code == 2
    assert run(tmp_path, "import", "--date", "someday", str(FIXTURES / "kaggle_sample.jsonl")).exit_code == 2
    unknown = run(tmp_path, "papers", "show", "2101.00001")
    assert unknown.exit_code == 1 and "not in the database" in unknown.output
    malformed = run(tmp_path, "papers", "show", "nonsense")
    assert malformed.exit_code == 2 and "not an arXiv id" in malformed.output
    bad_env = run(tmp_path, "init", env={"BROADSHEET_PORT": "eighty", "BROADSHEET_TIMEZONE": "Mars/Olympus"})
    assert bad_env.exit_code == 2 and "invalid settings" in bad_env.output and "timezone" in bad_env.output
    assert "Traceback" not in missing.output + unknown.output + malformed.output + bad_env.output


@pytest.mark.slow
def test_demo_loads_once(tmp_path: Path) -> None:
    first = run(tmp_path, "demo")
    assert first.exit_code == 0 and "2,514 new" in first.output and "1,416 new" in first.output
    second = run(tmp_path, "demo")
    assert "0 new, 0 updated, 2,514 unchanged" in second.output and "0 new, 0 updated, 1,416 unchanged" in second.output


NO_EMBEDDING = {"BROADSHEET_EMBED_ON_INGEST": "0"}  # imports only: no model to load


def test_a_cut_short_gzip_imports_what_it_can_and_exits_4(tmp_path: Path) -> None:
    data = gzip.compress(FIXTURES.joinpath("arxiv_listings_sample.jsonl").read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = run(tmp_path, "import", str(cut), env=NO_EMBEDDING)
    assert result.exit_code == 4, result.output
    assert "62 new" in result.output and "truncated or corrupt" in result.output and "Traceback" not in result.output
    assert "malformed" not in result.output  # the lines read were fine
    assert run(tmp_path, "import", str(FIXTURES / "kaggle_sample.jsonl"), env=NO_EMBEDDING).exit_code == 0
    both = run(tmp_path, "import", str(cut), str(tmp_path / "missing.jsonl"), env=NO_EMBEDDING)
    assert both.exit_code == 1  # a file that could not be read at all wins


def test_a_corrupt_gzip_header_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b" + b"garbage" * 20)
    result = run(tmp_path, "import", str(bad), env=NO_EMBEDDING)
    assert result.exit_code == 1 and "not a readable gzip file" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_a_huge_version_skips_one_line_and_keeps_the_rest(tmp_path: Path) -> None:
    lines = FIXTURES.joinpath("kaggle_sample.jsonl").read_text().splitlines()
    huge = json.loads(lines[1]) | {"versions": [{"version": "v99999999999999999999", "created": "2007-04-02"}]}
    path = tmp_path / "versions.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(huge), lines[2]]) + "\n")
    result = run(tmp_path, "import", str(path), env=NO_EMBEDDING)
    assert result.exit_code == 0, result.output
    assert (
        "2 new" in result.output
        and "1 malformed skipped" in result.output
        and "line 2: field 'versions': version" in result.output
    )


@pytest.mark.slow  # imports the whole demo set
def test_demo_recent_lists_demo_papers_today_once_and_marks_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from broadsheet.config import Settings
    from broadsheet.demo import RECENT_NOTE, RECENT_SOURCE
    from broadsheet.store import Store
    from broadsheet.store.schema import daily_entries, papers
    from broadsheet.web import create_app

    assert "--recent" in runner.invoke(app, ["demo", "--help"]).output
    first = run(tmp_path, "demo", "--recent")
    assert first.exit_code == 0 and "Demo data listed today: " in first.output, first.output
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", load_demo=False)  # type: ignore[call-arg]
    store = Store.open(settings.db_url)
    today = datetime.now(UTC).astimezone(settings.zone).date()

    def state() -> list[Any]:
        query = select(papers.c.arxiv_id, papers.c.published_at, daily_entries).join(daily_entries, isouter=True)
        with store.db.read() as conn:
            return [tuple(r) for r in conn.execute(query.order_by(papers.c.arxiv_id))]

    before = state()
    ours = [r for r in before if r[-2] == RECENT_SOURCE]
    assert len(ours) == 5 and {r.day for r in store.daily.views(None, limit=5, order="added")} == {today}
    listed = first.output.split("Demo data listed today: ")[1].split()[0:5]
    view = store.papers.get(listed[0].rstrip(","))
    assert view is not None and view.day == today and view.paper.published.date() <= today
    assert view.submitter_comment == RECENT_NOTE
    page = TestClient(create_app(settings, store)).get(f"/papers/{view.paper.arxiv_id}").text
    assert "demo data: listed today by" in page
    again = run(tmp_path, "demo", "--recent")
    assert again.exit_code == 0 and again.output.splitlines()[-2:] == first.output.splitlines()[-2:]
    assert state() == before
    store.close()


def test_user_create_help_does_not_claim_the_password_is_required() -> None:
    shown = CliRunner().invoke(app, ["user", "create", "--help"], env={"COLUMNS": "200"})
    [line] = [line for line in shown.output.splitlines() if "--password" in line]
    assert "required" not in line.lower() and "asked for" in line.lower()  # before: "[required]" (it is prompted for)
