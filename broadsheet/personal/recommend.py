"""The For-you ranking: a reader's signals in, the period's papers ranked, each pick with its reasons. Pure.

    picks = rank(pool, matrix, reader, limit=50)                   # -> [Pick(key, score, reasons)], best first
    picks = rank(pool, matrix, reader, lexicon=Lexicon.fit(texts))  # the tf-idf of the pool, fitted once per pool

The model is arxiv-sanity-lite's idea (a linear classifier per reader: the papers they liked
against everything else) on MiniLM paper vectors instead of tf-idf: an L2-regularised logistic
regression, the reader's liked papers (upvoted, saved, given as seeds) as positives, papers
marked "not interested" as heavier negatives, and the period's other papers as background
negatives (positive-unlabelled learning, as arxiv-sanity-lite trains against all other papers).
Its score is blended with the similarity to the nearest liked paper, which keeps a reader with
several separate interests from being averaged into one, and with how many liked papers share
the candidate's arXiv categories, and with arxiv-sanity-lite itself: its linear SVM on tf-idf
features of title and abstract (its settings, but min_df 2 on a week's papers and C 0.1), the liked
papers against the pool and the "not interested" ones. Words catch what the vectors blur (a method's or a
dataset's name), the vectors what words miss (paraphrase); each part is standardised over the pool
before they are added. Fitting the tf-idf costs seconds for a week of papers and is the same for
every reader, so it is a `Lexicon` the caller fits once per pool and keeps; a ranking then costs a
few tenths of a second. Explicit follows (authors, categories, saved searches) add fixed bonuses
on top, because a stated interest outranks an inferred one.
The weights come from benchmarks/recommend.py (tuned on one half of the authors, reported on the
other; see benchmarks/README.md).

Every pick says why: the liked paper it is most like ("like *X*, which you saved"), or, when the
tf-idf part contributed most to its score, the liked paper it shares the most distinctive terms with
and up to three of them ("shares “sparse autoencoder” and “probing” with *X*, which you saved"), and
each follow it matches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from broadsheet.community.names import normalise_name
from broadsheet.personal.logistic import logistic

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
MAX_BACKGROUND = 2000  # background negatives sampled from the pool (more is slower and no better)
MAX_TITLE = 80  # characters of a liked paper's title quoted in a reason
MAX_FEATURES = 20_000  # tf-idf terms (arxiv-sanity-lite's)
MIN_DF = 2  # papers of the pool a term must be in (arxiv-sanity-lite: 5 of its whole corpus; 2 tuned on a week)
LEXICAL_C = 0.1  # the tf-idf SVM's C (arxiv-sanity-lite: 0.01; 0.1 tuned with the blend, benchmarks/README.md)
SMALL_POOL = 500  # below this, terms in a tenth of the pool or in a single paper are kept (else none may be left)


@dataclass(frozen=True, slots=True)
class Weights:
    """How the parts of a score add up (scores are standardised over the pool first)."""

    model: float = 0.5  # the logistic regression (not computed at 0)
    lexical: float = 2.0  # arxiv-sanity-lite's SVM on tf-idf
    nearest: float = 1.0  # cosine to the nearest liked paper
    shared: float = 2.0  # per category of the candidate: the share of liked papers in it
    author: float = 2.0  # a followed author wrote it
    category: float = 1.0  # it is in a followed category
    search: float = 1.5  # a followed search finds it
    lexical_c: float = LEXICAL_C  # the tf-idf SVM's C
    regularisation: float = 0.1  # L2 penalty of the regression (per feature, on unit vectors)
    dislike_weight: float = 5.0  # a "not interested" paper counts as this many background papers


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper that may be recommended; `key` is the caller's id for it (the row id)."""

    key: int
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    text: str = ""  # title and abstract, for the lexical part (`Lexicon.fit`)


@dataclass(frozen=True, slots=True)
class Liked:
    """A paper the reader liked, and how: "saved", "upvoted", "gave as a seed"."""

    key: int
    title: str
    how: str
    vector: Vector
    categories: tuple[str, ...] = ()
    text: str = ""  # title and abstract


@dataclass(frozen=True)
class Reader:
    liked: Sequence[Liked] = ()
    disliked: Sequence[Vector] = ()  # vectors of "not interested" papers
    disliked_texts: Sequence[str] = ()  # their titles and abstracts
    authors: frozenset[str] = frozenset()  # followed, normalised (broadsheet.community.names)
    categories: frozenset[str] = frozenset()
    searches: Mapping[str, frozenset[int]] = field(default_factory=dict)  # followed query -> keys it finds

    @property
    def empty(self) -> bool:
        return not (self.liked or self.authors or self.categories or self.searches)


class Lexicon:
    """arxiv-sanity-lite's tf-idf (title + abstract, sublinear tf, unigrams and bigrams), fitted on a pool's texts."""

    def __init__(self, vectorizer: TfidfVectorizer | None, features: csr_matrix | None) -> None:
        self.vectorizer, self.features = vectorizer, features
        self._terms: npt.NDArray[np.str_] | None = None

    def terms(self) -> npt.NDArray[np.str_]:
        """The term of each tf-idf column."""
        assert self.vectorizer is not None
        if self._terms is None:
            self._terms = self.vectorizer.get_feature_names_out()
        return self._terms

    @classmethod
    def fit(cls, texts: Sequence[str], *, min_df: int = MIN_DF) -> Lexicon:
        """The pool's tf-idf; empty (no lexical part) when its texts have no words in common."""
        small = len(texts) < SMALL_POOL
        vectorizer = TfidfVectorizer(
            strip_accents="unicode", lowercase=True, stop_words="english", ngram_range=(1, 2),
            token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", max_features=MAX_FEATURES, sublinear_tf=True,
            max_df=1.0 if small else 0.1, min_df=1 if small else min_df, dtype=np.float32,
        )  # fmt: skip  # arxiv-sanity-lite's compute.py settings
        try:
            return cls(vectorizer, vectorizer.fit_transform(texts).tocsr())
        except ValueError:  # an empty vocabulary: no texts, or only stop words
            return cls(None, None)

    def __len__(self) -> int:
        return 0 if self.features is None else int(self.features.shape[0])

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        assert self.vectorizer is not None
        return self.vectorizer.transform(texts).tocsr()


@dataclass(frozen=True, slots=True)
class Pick:
    key: int
    score: float
    reasons: tuple[str, ...]


def rank(
    candidates: Sequence[Candidate], matrix: Matrix, reader: Reader, *, limit: int = 50, weights: Weights = Weights(),
    seed: int = 0, lexicon: Lexicon | None = None,
) -> list[Pick]:  # fmt: skip
    """The best `limit` candidates for the reader, best first; `matrix` holds one unit vector per candidate.

    `lexicon`: `Lexicon.fit` of the candidates' texts, in their order (fitted here when not given).
    Liked papers among the candidates are left out (the reader has them). Without any liked paper
    only candidates matching a follow are returned; without any signal, nothing.
    """
    if len(candidates) != len(matrix):
        raise ValueError(f"{len(candidates)} candidates but {len(matrix)} vectors")
    if lexicon is not None and len(lexicon) not in (0, len(candidates)):
        raise ValueError(f"{len(candidates)} candidates but a lexicon of {len(lexicon)} texts")
    if reader.empty or not len(candidates):
        return []
    liked = {item.key for item in reader.liked}
    if lexicon is None and reader.liked and any(c.text for c in candidates):
        lexicon = Lexicon.fit([c.text for c in candidates])
    parts = taste(candidates, matrix, reader, weights, seed=seed, lexicon=lexicon)
    bonus, reasons = _follows(candidates, reader, weights)
    shares = parts.shares(weights)
    total = bonus + sum(shares.values(), np.zeros(len(candidates)))
    eligible = [i for i, c in enumerate(candidates) if c.key not in liked and (reader.liked or reasons[i])]
    order = sorted(eligible, key=lambda i: (-total[i], i))[:limit]
    words = SharedWords(lexicon, reader) if lexicon is not None and len(lexicon) else None
    picks = []
    for i in order:
        why = list(reasons[i])
        if reader.liked:
            led_by_words = words is not None and shares["lexical"][i] > max(
                v[i] for k, v in shares.items() if k != "lexical"
            )
            why.insert(0, _likeness(i, reader, parts, words if led_by_words else None))
        picks.append(Pick(candidates[i].key, float(total[i]), tuple(why)))
    return picks


def _likeness(i: int, reader: Reader, parts: Parts, words: SharedWords | None) -> str:
    """Why a pick is like the reader's papers: the distinctive words it shares with one of them when the
    tf-idf part ranked it (`words` given), else the liked paper nearest to it."""
    found = words.best(i) if words is not None else None
    if found is not None:
        best, terms = reader.liked[found[0]], found[1]
        quoted = _listed([f"“{term}”" for term in terms])
        return f"shares {quoted} with “{_short(best.title)}”, which you {best.how}"
    best = reader.liked[int(np.argmax(parts.nearest[i]))]
    return f"like “{_short(best.title)}”, which you {best.how}"


class SharedWords:
    """The terms a candidate shares with each liked paper, weighted by their tf-idf in both (read only for
    the picks that need them: the liked papers' tf-idf is computed on first use)."""

    def __init__(self, lexicon: Lexicon, reader: Reader) -> None:
        self.lexicon, self.liked = lexicon, reader.liked
        self._rows: csr_matrix | None = None

    def best(self, i: int, most: int = 3) -> tuple[int, list[str]] | None:
        """(index of the liked paper sharing most with candidate `i`, up to `most` of those terms), or None."""
        assert self.lexicon.features is not None
        if self._rows is None:
            self._rows = self.lexicon.transform([item.text for item in self.liked])
        product = self._rows.multiply(self.lexicon.features[i]).tocsr()
        sums = np.asarray(product.sum(axis=1)).ravel()
        k = int(np.argmax(sums)) if len(sums) else 0
        if not len(sums) or sums[k] <= 0:
            return None
        line = product.getrow(k).tocoo()
        names = self.lexicon.terms()
        chosen: list[str] = []
        for j in np.argsort(-line.data, kind="stable"):
            term = str(names[line.col[j]])
            if not any(set(term.split()) & set(t.split()) for t in chosen):  # "sparse autoencoder" once, not thrice
                chosen.append(term)
            if len(chosen) == most:
                break
        return k, chosen


@dataclass(frozen=True)
class Parts:
    """What the reader's liked and disliked papers say about each candidate."""

    learned: npt.NDArray[np.float64]  # the classifier's score, standardised over the pool
    lexical: npt.NDArray[np.float64]  # the tf-idf SVM's score, standardised over the pool (zeros without words)
    nearest: Matrix  # cosine of each candidate (rows) to each liked paper (columns)
    shared: npt.NDArray[np.float64]  # summed over the candidate's categories: the share of liked papers in each

    def blend(self, weights: Weights) -> npt.NDArray[np.float64]:
        return sum(self.shares(weights).values(), np.zeros(len(self.learned)))

    def shares(self, weights: Weights) -> dict[str, npt.NDArray[np.float64]]:
        """Each part's weighted contribution to the blend (all zero without a liked paper)."""
        if not self.nearest.shape[1]:
            none = np.zeros(len(self.learned))
            return {"model": none, "lexical": none, "nearest": none, "shared": none}
        nearest = _standard(self.nearest.max(axis=1))
        return {
            "model": weights.model * self.learned, "lexical": weights.lexical * self.lexical,
            "nearest": weights.nearest * nearest, "shared": weights.shared * self.shared,
        }  # fmt: skip


def taste(
    candidates: Sequence[Candidate], matrix: Matrix, reader: Reader, weights: Weights = Weights(), *, seed: int = 0,
    lexicon: Lexicon | None = None,
) -> Parts:  # fmt: skip
    """The classifiers' scores of each candidate, its cosine to each liked paper, and the categories it shares."""
    none = np.zeros(len(matrix))
    if not reader.liked:
        return Parts(none, none, np.zeros((len(matrix), 0), dtype=np.float32), none)
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only contend with the server's
        learned, nearest = _vectors(matrix, reader, weights, seed)
        if lexicon is None and any(c.text for c in candidates):
            lexicon = Lexicon.fit([c.text for c in candidates])
        words = (
            lexical(candidates, lexicon, reader, c=weights.lexical_c) if lexicon is not None and len(lexicon) else none
        )
    share = Counter(c for item in reader.liked for c in set(item.categories))
    shared = np.array([sum(share[c] for c in set(x.categories)) for x in candidates], dtype=np.float64)
    return Parts(learned, words, nearest, shared / len(reader.liked))


def lexical(
    candidates: Sequence[Candidate], lexicon: Lexicon, reader: Reader, *, c: float = LEXICAL_C
) -> npt.NDArray[np.float64]:
    """arxiv-sanity-lite's SVM: the liked papers' tf-idf against the pool's (less the liked) and the disliked."""
    assert lexicon.features is not None
    texts = [item.text for item in reader.liked if item.text]
    liked = {item.key for item in reader.liked}
    background = lexicon.features[[i for i, c in enumerate(candidates) if c.key not in liked]]
    negatives = [background] + ([lexicon.transform(reader.disliked_texts)] if reader.disliked_texts else [])
    if not texts or not sum(part.shape[0] for part in negatives):
        return np.zeros(len(candidates))
    x = vstack([lexicon.transform(texts), *negatives]).tocsr()
    y = np.zeros(x.shape[0])
    y[: len(texts)] = 1
    svm = LinearSVC(class_weight="balanced", C=c, tol=1e-6, max_iter=10_000)  # arxiv-sanity-lite's, but C
    svm.fit(x, y)
    return _standard(np.asarray(svm.decision_function(lexicon.features), dtype=np.float64))


def _vectors(matrix: Matrix, reader: Reader, weights: Weights, seed: int) -> tuple[npt.NDArray[np.float64], Matrix]:
    """The logistic regression's standardised score of each candidate (zeros at weight 0), its cosine to each liked."""
    positives = np.stack([item.vector for item in reader.liked]).astype(np.float32)
    nearest = matrix @ positives.T
    if not weights.model:
        return np.zeros(len(matrix)), nearest
    rng = np.random.default_rng(seed)
    background = matrix[rng.permutation(len(matrix))[:MAX_BACKGROUND]]
    negatives = [background] + ([np.stack(reader.disliked).astype(np.float32)] if reader.disliked else [])
    x = np.concatenate([positives, *negatives])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(x) - len(positives))])
    sample = np.ones(len(x))
    sample[len(positives) + len(background) :] = weights.dislike_weight
    sample[y == 1] *= sample[y == 0].sum() / len(positives)  # balanced classes, as arxiv-sanity-lite's SVM
    w = logistic(x, y, sample, weights.regularisation)
    return _standard(matrix @ w[:-1] + w[-1]), nearest


def _follows(
    candidates: Sequence[Candidate], reader: Reader, weights: Weights
) -> tuple[npt.NDArray[np.float64], list[list[str]]]:
    """The follow bonus of each candidate, and the reasons it earns them."""
    bonus = np.zeros(len(candidates))
    reasons: list[list[str]] = [[] for _ in candidates]
    found = {key: query for query, keys in reader.searches.items() for key in keys}
    for i, c in enumerate(candidates):
        if reader.authors:
            names = [a for a in c.authors if normalise_name(a) in reader.authors]
            if names:
                bonus[i] += weights.author
                reasons[i].append(f"by {_listed(names)}, whom you follow")
        shared = [cat for cat in c.categories if cat in reader.categories]
        if shared:
            bonus[i] += weights.category
            reasons[i].append(f"in {_listed(shared)}, which you follow")
        if c.key in found:
            bonus[i] += weights.search
            reasons[i].append(f"matches your saved search “{_short(found[c.key])}”")
    return bonus, reasons


def _standard(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Scores as standard deviations from the pool's mean (so parts with different scales can be added)."""
    values = scores.astype(np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
