"""The one sentence of an abstract that best states its contribution, extractively.

    sentences = split_sentences(abstract)
    best = choose(sentences, sentence_vectors, doc_vector)   # index into sentences
    trim(sentences[best])                                    # without "In this paper, " and the like

A sentence scores by its similarity to the whole paper's vector (title + abstract), by cue phrases
that announce a contribution ("we propose", "this paper introduces", "we show"), by position (the
opening sentence is usually background) and by length (HF's summaries are ~25 words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from segtok.segmenter import split_multi  # type: ignore[import-untyped]

Vector = npt.NDArray[np.float32]
Vectors = npt.NDArray[np.float32]

_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|report|article|technical report)|our (?:work|paper|approach|method))"
    r"(?:\s+\w+){0,2}?\s+(?:propose|introduce|present|develop|design|release|build|construct|formulate)s?\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(?:we|this (?:paper|work|study)|results?|experiments?)(?:\s+\w+){0,2}?\s+"
    r"(?:show|demonstrate|find|reveal|observe|establish|prove)s?\b",
    re.IGNORECASE,
)
_NAMED = re.compile(r"\b(?:called|named|dubbed|termed)\b|,\s+(?:a|an)\s+(?:novel|new|simple|unified|general)\b", re.I)
_OPENER = re.compile(
    r"^(?:in this (?:paper|work|study|report|article)|here|to (?:this end|address|tackle|overcome|bridge|fill|solve|"
    r"mitigate|remedy|alleviate|close)[^,]{0,80}|specifically|concretely|therefore|thus|hence|in response|"
    r"motivated by[^,]{0,80}|building on[^,]{0,80}|inspired by[^,]{0,80}|finally|moreover|furthermore|additionally|"
    r"in addition|in particular|as a result|consequently|instead|however|in contrast)\s*,\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Weights:
    similarity: float = 1.0
    contribution: float = 0.25
    finding: float = 0.1
    named: float = 0.05
    first: float = -0.1  # the opening sentence (background, usually)
    position: float = -0.25  # times the relative position (0 first .. 1 last)
    length: float = -0.004  # per word beyond TARGET_WORDS (either way)


WEIGHTS = Weights()
TARGET_WORDS = 28
MIN_WORDS = 6


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text (abbreviations such as 'e.g.' and 'et al.' do not end one)."""
    return [" ".join(s.split()) for s in split_multi(text) if s.strip()]


def features(sentences: Sequence[str]) -> npt.NDArray[np.float32]:
    """Per sentence: contribution cue, finding cue, naming cue, is-first, relative position, length excess."""
    rows = []
    last = max(len(sentences) - 1, 1)
    for i, sentence in enumerate(sentences):
        words = len(sentence.split())
        rows.append(
            [
                bool(_CONTRIBUTION.search(sentence)),
                bool(_FINDING.search(sentence)),
                bool(_NAMED.search(sentence)),
                i == 0 and len(sentences) > 1,
                i / last,
                abs(words - TARGET_WORDS),
            ]
        )
    return np.array(rows, dtype=np.float32).reshape(len(sentences), 6)


def choose(sentences: Sequence[str], vectors: Vectors, doc: Vector, weights: Weights = WEIGHTS) -> int:
    """Index of the best summary sentence; sentences too short to stand alone only when nothing else is left."""
    w = weights
    cues = features(sentences)
    coefficients = np.array([w.contribution, w.finding, w.named, w.first, w.position, w.length], dtype=np.float32)
    scores = w.similarity * (vectors @ doc) + cues @ coefficients
    short = np.array([len(s.split()) < MIN_WORDS for s in sentences])
    if not short.all():
        scores[short] = -np.inf
    return int(np.argmax(scores))


def trim(sentence: str) -> str:
    """The sentence without an opening connective ("In this paper, we ..." -> "We ...")."""
    for _ in range(2):  # "To address this, in this paper, we ..."
        stripped = _OPENER.sub("", sentence, count=1)
        if stripped == sentence or len(stripped.split()) < MIN_WORDS:
            break
        sentence = stripped[0].upper() + stripped[1:]
    return sentence
