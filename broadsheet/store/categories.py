"""Papers that have no arXiv categories (Hugging Face items carry none), and filling them in.

    ids = uncategorised(store.db, limit=100)          # newest first
    fill(store.db, {"2608.01234": ("cs.CL", "cs.LG")}) # only papers that still have none; -> papers filled

Only the worker's "categories" job writes here (broadsheet.worker.request_categories), with what the
arXiv API says; a paper that already has categories is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, insert, select, update

from broadsheet.store.engine import Db
from broadsheet.store.schema import paper_categories, papers

_NONE = ~exists().where(paper_categories.c.paper_id == papers.c.id)


def uncategorised(db: Db, *, limit: int) -> list[str]:
    """arXiv ids of papers without any category, newest row first (so a new arrival is asked for first)."""
    query = select(papers.c.arxiv_id).where(_NONE).order_by(papers.c.id.desc()).limit(limit)
    with db.read() as conn:
        return [str(row[0]) for row in conn.execute(query)]


def fill(db: Db, found: Mapping[str, Sequence[str]]) -> int:
    """Store each paper's categories (primary first) where it still has none; how many papers were filled."""
    wanted = {key: tuple(dict.fromkeys(c for c in cats if c)) for key, cats in found.items()}
    wanted = {key: cats for key, cats in wanted.items() if cats}
    if not wanted:
        return 0
    with db.write() as conn:
        rows = conn.execute(select(papers.c.id, papers.c.arxiv_id).where(papers.c.arxiv_id.in_(wanted), _NONE)).all()
        values: list[dict[str, Any]] = [
            {"paper_id": row_id, "position": position, "category": category[:32]}
            for row_id, arxiv_id in rows
            for position, category in enumerate(wanted[arxiv_id])
        ]
        if values:
            conn.execute(insert(paper_categories), values)
        for row_id, arxiv_id in rows:  # the paper's own list (what its card and page show) and the index above
            conn.execute(update(papers).where(papers.c.id == row_id).values(categories=list(wanted[arxiv_id])))
    return len(rows)
