"""arxiv-sanity-lite's search rule, re-implemented from its published description (not its code).

For each query word (lower-cased, split on spaces) a paper scores 10 if the word occurs in the
author string, 20 if it occurs in the title, plus min(3, occurrences in the abstract); matching
is by substring, over every paper (a linear scan, no index). Papers scoring 0 are dropped.
"""

from __future__ import annotations

Doc = tuple[str, str, str]  # (title, authors, abstract), all lower-cased


def search(corpus: list[Doc], query: str, limit: int = 10) -> list[int]:
    tokens = query.lower().split()
    scored = []
    for i, (title, authors, abstract) in enumerate(corpus):
        score = sum(10 * (t in authors) + 20 * (t in title) + min(3, abstract.count(t)) for t in tokens)
        if score > 0:
            scored.append((score, i))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [i for _, i in scored[:limit]]
