"""Keyphrases of an abstract, offline: candidate noun phrases, ranked by embedding similarity with diversity.

    found = candidates(title, abstract)                  # phrases with cheap priors, best first
    chosen = select(found, phrase_vectors, doc_vector)   # KeyBERT-style maximal marginal relevance

Candidates are the runs of words between stopwords and punctuation (a noun phrase, roughly, without a
tagger) and their sub-phrases; the stopword list holds English function words plus the verbs, adverbs
and vague adjectives of abstracts ("propose", "significantly", "novel"), so "we propose a novel
process reward model" yields "process reward model". Near-duplicates (same stems, or one phrase's
stems mostly inside another's) are never both chosen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer  # type: ignore[import-untyped]
from lemminflect import getAllLemmas  # type: ignore[import-untyped]

from broadsheet.words import FUNCTION_WORDS

Vector = npt.NDArray[np.float32]

MAX_WORDS = 4  # longest candidate phrase (HF's keywords: 97 % have 1-4 words)
POOL = 60  # candidates embedded per paper (the rest are dropped by their prior)

_ABSTRACT_WORDS = """
able achieve achieved achieves achieving across address addressed addresses addressing adopt adopting
adopts advance advances aim aims allow allowed allows analyse analyze analyzed applied applies apply
applying based become becomes benefit benefits best better bring brings build builds built called can
capable challenging compare compared comparing compelling comprehensive conduct conducted consider
considered consistently consists contain contains contribute contributes crucial current currently
demonstrate demonstrated demonstrates demonstrating derive describe described designed designs despite
develop developed develops different difficult directly discuss effective effectively efficiently employ
employing employs enable enabled enables enabling enhance enhanced enhances enhancing ensure ensures
especially establish evaluate evaluated evaluates evaluating existing exploit exploiting exploits explore
explored explores extensive extensively facilitate find findings finds first focus focuses focusing
follow following found further furthermore given good great help helps high higher highly however
important improve improved improves improving include includes including incorporate incorporates
incorporating increase increasing increasingly introduce introduced introduces introducing investigate
investigated investigates key known largely lead leading leads learn learned less leverage leveraged
leverages leveraging like limited little lot lots low lower made main mainly maintain maintaining make
makes making moreover namely nearly need needed needs new notably novel numerous observe observed obtain
obtained offer offers outperform outperformed outperforming outperforms overall paper particular
particularly perform performed performs poor possible potential present presented presents previous
previously primarily promising propose proposed proposes proposing prove provide provided provides
providing quite rapidly recent recently reduce reduced reduces reducing related relatively remain remains
remarkable reported require required requires requiring respectively resulting reveal reveals second see
seen show showed showing shown shows significant significantly similar simple simply specific
specifically strong strongly substantial substantially successfully suggest suggests superior surpass
surpasses take takes third three two typically understand used useful uses using usually utilize utilized
utilizes utilizing various vary way ways whole wide widely yield yields
"""

STOPWORDS = FUNCTION_WORDS | frozenset(_ABSTRACT_WORDS.split())
_GENERIC_WORDS = """
large tasks task framework tool methods method design use problem problems approach approaches study
studies open robust ability challenge challenges report work works issue issues result results experiment
experiments number performance
"""
GENERIC = frozenset(_GENERIC_WORDS.split())  # never a keyword on their own
_LY_WORDS = "family anomaly anomalies assembly supply monopoly early only ally italy reply"
_LY_NOUNS = frozenset(_LY_WORDS.split())
_BREAK = re.compile(r"[,;:()\[\]{}!?\"“”‘’|/]|\.(?=\s|$)|\s-\s|—|–")
_NUMBER = re.compile(r"[+-]?[\d.,]+(?:%|x|×|k|K|M|B)?")
_WORDLIKE = re.compile(r"[^\W_](?:[\w.+@'’-]*[^\W_])?")
_stem = snowballstemmer.stemmer("english").stemWord


@dataclass(frozen=True, slots=True)
class Candidate:
    phrase: str  # as it should be shown (its case in the abstract)
    key: tuple[str, ...]  # lowercased stems, hyphens as spaces: equal keys are the same keyphrase
    prior: float  # cheap score before embedding: frequency, title, whole-run bonus


def stem_key(phrase: str) -> tuple[str, ...]:
    """The phrase's identity for matching: 'Reward-Models' and 'reward model' share ('reward', 'model')."""
    return tuple(_stem_word(w) for w in re.split(r"[\s-]+", phrase.lower()) if w)


@lru_cache(maxsize=65536)
def _stem_word(word: str) -> str:
    return str(_stem(word))


@dataclass(slots=True)
class _Tally:
    phrase: str
    count: int = 0
    whole: bool = False  # once a whole run between stopwords


def candidates(title: str, abstract: str) -> list[Candidate]:
    """Candidate keyphrases of a paper (plain text, TeX already removed), best prior first, at most POOL."""
    lower_seen = {w.lower() for w in re.findall(r"[\w'-]+", abstract) if w.islower()}
    found: dict[tuple[str, ...], _Tally] = {}
    for chunk in _chunks(title, abstract):
        for run in _runs(chunk):
            for start in range(len(run)):
                for end in range(start + 1, min(start + MAX_WORDS, len(run)) + 1):
                    words = run[start:end]
                    if not _edge_ok(words):
                        continue
                    phrase = _display(words, lower_seen)
                    tally = found.setdefault(stem_key(phrase), _Tally(phrase))
                    tally.count += 1
                    tally.whole |= start == 0 and end == len(run)
    ranked = [Candidate(t.phrase, key, _prior(key, t)) for key, t in found.items()]
    ranked.sort(key=lambda c: -c.prior)
    return ranked[:POOL]


def _prior(key: tuple[str, ...], tally: _Tally) -> float:
    """Weights chosen on 400 HF papers (not the benchmark's first 600): whole runs and names come first."""
    named = any(ch.isupper() for ch in tally.phrase[1:])
    return 0.5 * float(np.log1p(tally.count)) + 2.0 * tally.whole + 0.6 * min(len(key), 3) + 1.0 * named


def _chunks(title: str, abstract: str) -> list[str]:
    """Abstract first: a phrase is shown as the abstract writes it, not in the title's Title Case."""
    return _BREAK.split(abstract) + _BREAK.split(title)


def _runs(chunk: str) -> list[list[str]]:
    """Maximal runs of content words in a punctuation-free chunk."""
    runs: list[list[str]] = [[]]
    for raw in chunk.split():
        match = _WORDLIKE.search(raw)
        word = match[0] if match and match.start() == 0 and match.end() >= len(raw) - 1 else ""
        if not word or _is_stop(word):
            runs.append([])
        else:
            runs[-1].append(word)
    return [r for r in runs if r]


def _is_stop(word: str) -> bool:
    """Function words, numbers, adverbs and verbs break a phrase (participles and gerunds may be part of one)."""
    lower = word.lower()
    if lower in STOPWORDS or _NUMBER.fullmatch(word) or (len(word) < 2 and not word.isupper()):
        return True
    if lower.endswith("ly") and len(lower) > 4 and lower not in _LY_NOUNS:
        return True
    classes = word_classes(lower)
    return bool(classes) and classes <= {"VERB", "ADV", "AUX"} and not lower.endswith(("ed", "ing"))


def _edge_ok(words: Sequence[str]) -> bool:
    """A phrase ends in something that can be a noun (a gerund, or an unknown word: a name, acronym, compound)."""
    last = words[-1].lower()
    if len(words) == 1 and last in GENERIC:
        return False
    classes = word_classes(last)
    return not classes or bool(classes & {"NOUN", "PROPN"}) or last.endswith("ing")


@lru_cache(maxsize=65536)
def word_classes(word: str) -> frozenset[str]:
    """The parts of speech a word can have in lemminflect's English lexicon (empty when it is not listed)."""
    return frozenset(getAllLemmas(word))


def _display(words: Sequence[str], lower_seen: set[str]) -> str:
    """Names keep their case (internal capitals: GPT-4o, WebPRM, QAT); other words are lowercased if the abstract
    writes any of them lowercase ("Diffusion Large Language Models" -> "diffusion large language models"),
    and kept as written when all of them are always capitalised (a name: "Average Confidence")."""
    plain = [i for i, w in enumerate(words) if w[1:].lower() == w[1:] and not w.isupper()]
    if any(words[i].lower() in lower_seen or words[i][0].islower() for i in plain):
        return " ".join(w.lower() if i in plain else w for i, w in enumerate(words))
    return " ".join(words)


def select(found: Sequence[Candidate], vectors: Vector, doc: Vector, *, k: int, diversity: float = 0.4) -> list[str]:
    """Maximal marginal relevance over the candidates (KeyBERT's `use_mmr`), with a hard near-duplicate rule."""
    if not found:
        return []
    relevance = vectors @ doc
    prior = np.array([c.prior for c in found], dtype=np.float32)
    relevance = relevance + PRIOR_WEIGHT * (prior - prior.max())
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    left = list(range(len(found)))
    while left and len(chosen) < k:
        if chosen:
            redundancy = similarity[np.ix_(left, chosen)].max(axis=1)
            scores = (1 - diversity) * relevance[left] - diversity * redundancy
        else:
            scores = relevance[left]
        best = left[int(np.argmax(scores))]
        left.remove(best)
        if not any(near_duplicate(found[best].key, found[c].key) for c in chosen):
            chosen.append(best)
    return [found[i].phrase for i in chosen]


PRIOR_WEIGHT = 0.1


def near_duplicate(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Same stems, or the shorter phrase's stems are all inside the longer's (and it has at most one more word)."""
    sa, sb = set(a), set(b)
    if sa == sb:
        return True
    small, large = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    return small <= large and len(large) - len(small) <= NEAR_DUPLICATE_EXTRA


NEAR_DUPLICATE_EXTRA = 1
