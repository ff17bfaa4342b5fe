"""The README documents what the code does: the two commands, every CLI command, every setting."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_cli_and_settings_sections_match_the_code() -> None:
    readme_tool = runpy.run_path(str(ROOT / "scripts" / "readme.py"))
    assert readme_tool["render"](README) == README, "README.md is out of date: run `make readme`"
    for name in ("init", "serve", "import PATHS", "demo", "papers show ARXIV_ID"):
        assert f"`broadsheet {name}" in README
    for env in ("BROADSHEET_DATA_DIR", "BROADSHEET_DATABASE_URL", "BROADSHEET_HOST", "BROADSHEET_PORT"):
        assert f"`{env}`" in README


def test_readme_starts_with_the_two_commands_and_the_screenshot() -> None:
    head = README[: README.index("## What is in it")]
    assert "make run" in head and "make test" in head and "docs/screenshots/home-desktop.png" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()
