"""Offline summaries and keywords (broadsheet.insights) on real papers of the bundled demo corpus."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest

from broadsheet import insights
from broadsheet.demo import HERE as DEMO
from broadsheet.insights import keywords, summary
from broadsheet.models import Paper
from broadsheet.search.embed import MiniLM, Vectors

# three real abstracts: TeX macros and math (\emph, \textbf, \underline, $C_{decoded}$, 3.1\%), a plain one
IDS = ("2606.19349", "2606.19354", "2606.19617")
TEX = re.compile(r"[\\$]|\{|\}|\^|_\{")


@cache
def demo_papers() -> tuple[Paper, ...]:
    with gzip.open(DEMO / "arxiv.jsonl.gz", "rt", encoding="utf-8") as lines:
        rows = {row["id"]: row for row in map(json.loads, lines) if row["id"] in IDS}
    return tuple(Paper(i, rows[i]["title"], rows[i]["abstract"]) for i in IDS)


@cache
def results() -> tuple[insights.Insight, ...]:
    return tuple(insights.insights(demo_papers(), MiniLM()))


def normalised(text: str) -> str:
    return " ".join(keywords.stem_key(re.sub(r"[^\w\s-]", " ", text)))


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(IDS)))
def test_keywords_are_5_to_12_distinct_phrases_of_the_paper(index: int) -> None:
    paper, result = demo_papers()[index], results()[index]
    text = normalised(insights.plain_text(f"{paper.title} {paper.abstract}"))
    assert insights.MIN_KEYWORDS <= len(result.keywords) <= insights.MAX_KEYWORDS
    for phrase in result.keywords:
        assert f" {normalised(phrase)} " in f" {text} ", phrase
        assert not TEX.search(phrase), phrase
    keys = [keywords.stem_key(k) for k in result.keywords]
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not keywords.near_duplicate(a, b), (a, b)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(IDS)))
def test_summary_is_one_sentence_of_the_abstract_without_tex(index: int) -> None:
    paper, result = demo_papers()[index], results()[index]
    abstract = insights.plain_text(paper.abstract)
    assert summary.split_sentences(result.summary) == [result.summary]
    assert result.summary[1:] in abstract  # the first letter may be capitalised after "In this paper, we ..."
    assert not TEX.search(result.summary)
    assert 6 <= len(result.summary.split()) <= 80
    assert (result.method, result.version) == (insights.METHOD, insights.VERSION)


@pytest.mark.slow
def test_the_contribution_sentence_is_chosen_and_tex_is_text() -> None:
    grace = results()[1]
    # With the built model (128 tokens) GRACE's summary is its opening sentence, not "We establish ... GRACE".
    # Re-tuned on the new vectors (2026-12-02, 300 HF papers, held-out 250): the current weights are within
    # 0.003 ROUGE of the grid's best on both samples, and adding "establish" to the contribution cue lowered
    # the tuning score, so the weights stay; one paper's choice is not worth a worse average.
    assert grace.summary.split()[0] in {"We", "Test-time"}
    assert "test-time scaling" in {k.lower() for k in grace.keywords}  # the title's topic
    assert "3.1% accuracy" in insights.plain_text(demo_papers()[1].abstract)


@pytest.mark.slow
def test_stored_vectors_and_batch_sizes_give_the_same_summaries_and_nearly_the_same_keywords() -> None:
    # int8 activations are quantised per batch, so vectors (and near-tied phrase scores) shift slightly with
    # the batch's make-up: the summaries must not change, the keywords barely
    embedder = MiniLM()
    papers = demo_papers()
    vectors = embedder.embed([f"{insights.plain_text(p.title)}. {insights.plain_text(p.abstract)}" for p in papers])
    alone = insights.insights(papers, embedder, doc_vectors=vectors, batch=1)
    for one, together in zip(alone, results(), strict=True):
        assert one.summary == together.summary
        assert len(set(one.keywords) & set(together.keywords)) >= 0.7 * len(together.keywords)


def test_plain_text_turns_tex_into_text_and_keeps_bare_percent() -> None:
    text = r"We gain 22.3\% (30% in $\alpha$-tests) with \emph{GRACE}, ``quoted'', Bal\'azs $O(n^2)$."
    assert insights.plain_text(text) == "We gain 22.3% (30% in α-tests) with GRACE, “quoted”, Balázs O(n^2)."
    assert insights.plain_text("no tex at all,\n  hard line breaks") == "no tex at all, hard line breaks"
    assert insights.plain_text(r"broken $\frac{a" + "{") == "broken a"  # unparsable TeX: stripped, no error


def test_candidates_are_noun_phrases_between_stopwords() -> None:
    found = keywords.candidates("Web-Shepherd", "We propose the first process reward model called Web-Shepherd.")
    phrases = {c.phrase for c in found}
    assert {"process reward model", "Web-Shepherd", "reward model"} <= phrases
    assert not phrases & {"propose", "first process", "called"}


class ZeroEmbedder:
    """Stands in for the model where vectors do not matter (every score then comes from cues and priors)."""

    name, dim = "zeros", 384

    def embed(self, texts: Sequence[str]) -> Vectors:
        return np.zeros((len(texts), self.dim), dtype=np.float32)


def test_empty_and_tiny_abstracts_get_an_empty_or_short_result_not_an_error() -> None:
    empty, tiny = insights.insights([Paper("1", "", ""), Paper("2", "Graphs", "Graphs.")], ZeroEmbedder())
    assert empty == insights.Insight("", ())
    assert tiny == insights.Insight("Graphs.", ("Graphs",))


def test_a_wrong_number_of_stored_vectors_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2 document vectors for 1 papers"):
        insights.insights([Paper("1", "t", "a")], ZeroEmbedder(), doc_vectors=np.zeros((2, 384), dtype=np.float32))
