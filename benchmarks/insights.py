"""Summaries and keywords (broadsheet.insights) against Hugging Face's own ai_summary / ai_keywords.

    .venv/bin/python benchmarks/insights.py [--data DIR] [--limit N]

HF's fields (LLM-written) are used as references here only; they are never shipped. Papers are the
unique HF daily papers that carry ai_keywords or ai_summary, in file order (--limit N: the first N
that carry both, after --skip M of them; the weights were tuned on the first 300 of these).

Keywords, per paper then averaged over papers (macro): precision = predicted keywords that match a
reference / predicted, recall = references matched by a prediction / references, F1 of the two.
  exact: equal after lowercasing, collapsing whitespace and singularising each word (-ies -> -y,
         -sses -> -ss, a final -s dropped unless -ss/-us/-is)
  fuzzy: the two phrases' sets of Snowball stems (hyphens split words) overlap by Jaccard >= 0.5
Summaries: ROUGE-1/2/L F-measure (Google's `rouge-score`, Porter stemming), averaged over papers.
Baselines: the abstract's first sentence (same TeX clean-up and sentence splitter as ours); the
abstract's top tf-idf terms (unigrams and bigrams of non-stopwords, idf over all benchmark papers),
as many per paper as our method returns.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from rouge_score import rouge_scorer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadsheet import insights  # noqa: E402
from broadsheet.config import Settings  # noqa: E402
from broadsheet.insights import keywords, summary  # noqa: E402
from broadsheet.models import Paper  # noqa: E402
from broadsheet.search.embed import MiniLM  # noqa: E402


@dataclass(frozen=True, slots=True)
class Reference:
    paper: Paper
    keywords: tuple[str, ...]  # () when HF gave none
    summary: str  # "" when HF gave none


def load(path: Path, limit: int | None, skip: int = 0) -> list[Reference]:
    seen: set[str] = set()
    refs: list[Reference] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)["item"]["paper"]
            kws = tuple(k for k in item.get("ai_keywords") or () if k.strip())
            text = (item.get("ai_summary") or "").strip()
            if item["id"] in seen or not (kws or text) or not item.get("summary", "").strip():
                continue
            if limit and not (kws and text):  # a sample: papers with both references
                continue
            if skip:
                skip -= 1
                continue
            seen.add(item["id"])
            refs.append(Reference(Paper(item["id"], item["title"], item["summary"]), kws, text))
            if limit and len(refs) >= limit:
                break
    return refs


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def exact_key(phrase: str) -> str:
    return " ".join(singular(w) for w in phrase.lower().split())


def fuzzy_match(a: str, b: str) -> bool:
    sa, sb = set(keywords.stem_key(a)), set(keywords.stem_key(b))
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= 0.5


def prf(predicted: Sequence[str], reference: Sequence[str], match: Callable[[str, str], bool]) -> tuple[float, ...]:
    if not predicted or not reference:
        return 0.0, 0.0, 0.0
    p = sum(any(match(x, r) for r in reference) for x in predicted) / len(predicted)
    r = sum(any(match(x, y) for x in predicted) for y in reference) / len(reference)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def keyword_scores(predictions: Sequence[Sequence[str]], refs: Sequence[Reference]) -> dict[str, float]:
    def exact(a: str, b: str) -> bool:
        return exact_key(a) == exact_key(b)

    out: dict[str, float] = {}
    for name, match in (("exact", exact), ("fuzzy", fuzzy_match)):
        rows = [prf(p, r.keywords, match) for p, r in zip(predictions, refs, strict=True) if r.keywords]
        for i, figure in enumerate(("P", "R", "F1")):
            out[f"{name} {figure}"] = fmean(row[i] for row in rows)
    return out


def summary_scores(predictions: Sequence[str], refs: Sequence[Reference]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    rows = [scorer.score(r.summary, p) for p, r in zip(predictions, refs, strict=True) if r.summary]
    return {name.upper(): fmean(row[name].fmeasure for row in rows) for name in ("rouge1", "rouge2", "rougeL")}


_TOKEN = re.compile(r"[a-z0-9][a-z0-9'-]*[a-z0-9]|[a-z]")


def tfidf_terms(abstracts: Sequence[str], counts: Sequence[int], corpus: Sequence[str]) -> list[list[str]]:
    """Top tf-idf unigrams and bigrams (no stopwords, none across punctuation) of each abstract; idf over `corpus`."""
    docs = [Counter(_terms(a)) for a in abstracts]
    df = Counter(t for a in corpus for t in set(_terms(a)))
    n = len(corpus)
    return [
        [t for t, _ in sorted(d.items(), key=lambda kv: (-kv[1] * math.log(n / df[kv[0]]), kv[0]))[:k]]
        for d, k in zip(docs, counts, strict=True)
    ]


def _terms(text: str) -> Iterable[str]:
    for chunk in re.split(r"[,;:()\[\]{}!?\"]|\.(?=\s|$)", text.lower()):
        words = [w if w not in keywords.STOPWORDS and not w.isdigit() else "" for w in _TOKEN.findall(chunk)]
        yield from (w for w in words if w)
        yield from (f"{a} {b}" for a, b in itertools.pairwise(words) if a and b)


def table(rows: dict[str, dict[str, float]]) -> str:
    columns = list(next(iter(rows.values())))
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |" for name, row in rows.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="only the first N papers with both references")
    parser.add_argument("--skip", type=int, default=0, help="with --limit: skip the first M such papers")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tokens", type=int, default=Settings.model_fields["embed_max_tokens"].default)
    args = parser.parse_args()
    refs = load(args.data / "hf-daily-papers" / "items.jsonl.gz", args.limit, args.skip if args.limit else 0)
    papers = [r.paper for r in refs]
    embedder = MiniLM(threads=args.threads, max_tokens=args.tokens)
    embedder.embed(["warm-up"])
    started = time.perf_counter()
    ours = insights.insights(papers, embedder)
    elapsed = time.perf_counter() - started
    abstracts = [insights.plain_text(p.abstract) for p in papers]
    first = [(summary.split_sentences(a) or [""])[0] for a in abstracts]
    corpus = [
        insights.plain_text(r.paper.abstract) for r in load(args.data / "hf-daily-papers" / "items.jsonl.gz", None)
    ]
    tfidf = tfidf_terms(abstracts, [len(i.keywords) for i in ours], corpus)
    n_kw, n_sum = sum(bool(r.keywords) for r in refs), sum(bool(r.summary) for r in refs)
    print(f"{len(refs)} papers ({n_kw} with HF keywords, {n_sum} with HF summaries)")
    print(f"ours: {elapsed:.1f} s, {len(papers) / elapsed:.1f} papers/s (embedding included)")
    print(
        f"keywords per paper: ours {fmean(len(i.keywords) for i in ours):.1f}, "
        f"HF {fmean(len(r.keywords) for r in refs if r.keywords):.1f}\n"
    )
    print("Keywords (macro-averaged over papers)")
    print(
        table(
            {
                f"{insights.METHOD} (ours)": keyword_scores([i.keywords for i in ours], refs),
                "tf-idf top terms": keyword_scores(tfidf, refs),
            }
        )
    )
    print("\nSummaries (F-measure)")
    print(
        table(
            {
                f"{insights.METHOD} (ours)": summary_scores([i.summary for i in ours], refs),
                "first sentence": summary_scores(first, refs),
            }
        )
    )


if __name__ == "__main__":
    main()
