"""Regenerate (or --check) the README's CLI and configuration sections from the code.

python scripts/readme.py           # rewrite README.md between the markers
python scripts/readme.py --check   # exit 1 if README.md is out of date (run by `make test`)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import typer.main

from broadsheet.cli import app
from broadsheet.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def cli_reference() -> str:
    root = typer.main.get_command(app)
    lines: list[str] = []

    def walk(cmd: Any, path: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])
        if getattr(cmd, "commands", None) is not None:
            return
        args = " ".join(p.name.upper() + ("…" if p.nargs == -1 else "")
                        for p in cmd.params if p.param_type_name == "argument")  # fmt: skip
        lines.append(f"- `broadsheet {' '.join(path)}{' ' + args if args else ''}`: {(cmd.help or '').strip()}")
        lines.extend(_options(cmd))

    walk(root, [])
    globals_ = _options(root, indent="")
    return "\n".join(["Options for every command (given before the command name):", "", *globals_, "", *lines])


def _options(cmd: Any, indent: str = "  ") -> list[str]:
    return [
        f"{indent}- `{' / '.join(p.opts)}`: {p.help}"
        for p in cmd.params
        if p.param_type_name == "option" and p.help and "completion" not in p.opts[0]
    ]


def settings_reference() -> str:
    rows = ["| environment variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append(f"| `BROADSHEET_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows)


def layout_reference() -> str:
    """Every module of the package with the first line of its docstring, folder by folder."""
    package = README.parent / "broadsheet"
    lines = ["```", "broadsheet/"]
    for path in sorted(package.rglob("*.py"), key=lambda p: (p.parent != package, str(p.parent), p.name)):
        relative = path.relative_to(package)
        if "migrations" in relative.parts or path.name == "__main__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        summary = doc.strip().split("\n")[0].rstrip(".") if doc else ""
        name = str(relative.parent) + "/" if path.name == "__init__.py" and relative.parent.parts else str(relative)
        if path.name == "__init__.py" and not relative.parent.parts:
            continue
        lines.append(f"  {name:<28} {summary}".rstrip())
    lines.append("```")
    return "\n".join(lines)


def render(text: str) -> str:
    sections = (("cli", cli_reference()), ("settings", settings_reference()), ("layout", layout_reference()))
    for marker, body in sections:
        pattern = re.compile(rf"(<!-- {marker} -->\n)(?:.*?\n)?(<!-- /{marker} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the <!-- {marker} --> markers")
        text = pattern.sub(lambda m, body=body: m[1] + body + "\n" + m[2], text)
    return text


def main() -> None:
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            raise SystemExit("README.md is out of date: run `make readme`")
        return
    README.write_text(fresh, encoding="utf-8")


if __name__ == "__main__":
    main()
