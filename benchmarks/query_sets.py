"""The query sets of benchmarks/queries.py, all from real data, each split into a tuning and a reporting half.

keywords     three of a Hugging Face paper's `ai_keywords` phrases -> that paper (known item)
authors      a person's full name -> every corpus paper they wrote
surname      a surname of at most 20 papers, alone -> those papers
titles       a title as written; typo-titles: partially remembered (words dropped, one misspelt)
claims       SciFact train claims -> judged abstracts
nonsense     made-up words: a query nothing should match
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import relevance

from broadsheet.models import Paper

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LISTINGS = SHARED / "arxiv-daily-listings" / "papers.jsonl.gz"
HF_ITEMS = SHARED / "hf-daily-papers" / "items.jsonl.gz"
SEED = 11


def read_lines(path: Path) -> Iterator[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def hf_items() -> Iterator[dict[str, object]]:
    for row in read_lines(HF_ITEMS):
        yield row["item"]  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Query:
    kind: str  # keywords | authors | surname | titles | typo-titles | claims
    text: str
    relevant: frozenset[str]  # arXiv ids (or SciFact doc ids)

    @property
    def half(self) -> str:
        digest = hashlib.sha1(f"{SEED}:{self.kind}:{self.text}".encode()).digest()
        return "tune" if digest[0] % 2 == 0 else "report"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def keyword_queries(papers: dict[str, Paper], rng: random.Random, n: int) -> list[Query]:
    """Three of a paper's `ai_keywords` phrases (seeded, in their order) -> that paper."""
    out = []
    for item in hf_items():
        paper = item["paper"]  # type: ignore[index]
        phrases = paper.get("ai_keywords") or []  # type: ignore[union-attr]
        if paper["id"] in papers and phrases:  # type: ignore[index]
            picked = sorted(rng.sample(range(len(phrases)), min(3, len(phrases))))
            out.append(Query("keywords", " ".join(phrases[i] for i in picked), frozenset([paper["id"]])))  # type: ignore[index]
    unique = list({q.text: q for q in out}.values())
    return rng.sample(unique, min(n, len(unique)))


def author_queries(papers: dict[str, Paper], rng: random.Random, n: int) -> list[Query]:
    """Full names -> their papers; surnames of at most 20 papers -> every paper with an author of that surname."""
    by_name: dict[str, set[str]] = defaultdict(set)
    by_surname: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, str] = {}
    for pid, paper in papers.items():
        for name in paper.authors:
            words = name.split()
            if len(words) < 2 or not all(w.replace("-", "").replace(".", "").isalpha() for w in words):
                continue
            by_name[_norm(name)].add(pid)
            shown.setdefault(_norm(name), " ".join(words))
            by_surname[words[-1].lower()].add(pid)
            shown.setdefault(words[-1].lower(), words[-1])
    names = rng.sample(sorted(by_name), min(n, len(by_name)))
    surnames = [s for s in sorted(by_surname) if len(s) >= 3 and "." not in s and len(by_surname[s]) <= 20]
    out = [Query("authors", shown[k], frozenset(by_name[k])) for k in names]
    out += [
        Query("surname", shown[k], frozenset(by_surname[k])) for k in rng.sample(surnames, min(n // 2, len(surnames)))
    ]
    return out


def misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["swap", "drop", "double", "replace"])
    if op == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiounrst".replace(word[i].lower(), "")) + word[i + 1 :]


def remembered(title: str, rng: random.Random) -> str:
    """A title as half-remembered: one or two words dropped (titles of 5+ words), one long word misspelt."""
    words = title.split()
    if len(words) >= 5:
        for _ in range(rng.randint(1, 2)):
            words.pop(rng.randrange(len(words)))
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if long:
        i = rng.choice(long)
        words[i] = misspell(words[i], rng)
    return " ".join(words)


def title_queries(papers: dict[str, Paper], rng: random.Random, n: int) -> list[Query]:
    same: dict[str, set[str]] = defaultdict(set)
    for pid, paper in papers.items():
        same[_norm(paper.title)].add(pid)
    chosen = rng.sample(sorted(papers), min(n, len(papers)))
    out = []
    for k, pid in enumerate(chosen):
        title = " ".join(papers[pid].title.split())
        relevant = frozenset(same[_norm(title)])
        out.append(
            Query("titles", title, relevant) if k % 2 == 0 else Query("typo-titles", remembered(title, rng), relevant)
        )
    return out


def claim_queries() -> list[Query]:
    qrels = relevance.load_qrels(relevance.SCIFACT / "qrels" / "train.tsv")
    lines = (relevance.SCIFACT / "queries.jsonl").read_text().splitlines()
    return [Query("claims", q["text"], frozenset(qrels[q["_id"]])) for q in map(json.loads, lines) if q["_id"] in qrels]


def nonsense(n: int = 200) -> list[str]:
    """Made-up words (2-3 of 5-8 random letters): a query nothing should match."""
    rng = random.Random(SEED + 3)
    letters = "bcdfghjklmnpqrstvwxzaeiouy"
    return [
        " ".join("".join(rng.choice(letters) for _ in range(rng.randint(5, 8))) for _ in range(rng.randint(2, 3)))
        for _ in range(n)
    ]
