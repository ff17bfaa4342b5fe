"""broadsheet.personal.recommend: the pure ranking, on small hand-made vector spaces."""

import numpy as np
import pytest

from broadsheet.personal.recommend import Candidate, Lexicon, Liked, Reader, Weights, logistic, rank


def unit(*values: float) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def space() -> tuple[list[Candidate], np.ndarray]:
    """Papers 0-9 near axis 0 (the reader's topic), 10-29 near axis 1, 30-49 near axis 2."""
    rng = np.random.default_rng(1)
    rows = [unit(*(np.eye(8)[axis] + 0.15 * rng.standard_normal(8))) for axis in [0] * 10 + [1] * 20 + [2] * 20]
    candidates = [Candidate(100 + i, (f"Author {i}",), ("cs.CL" if i < 30 else "math.AG",)) for i in range(50)]
    return candidates, np.stack(rows).astype(np.float32)


def test_liked_papers_pull_their_neighbours_up_and_say_why() -> None:
    candidates, matrix = space()
    reader = Reader(liked=[Liked(1, "Attention is all you need", "saved", unit(1))])
    picks = rank(candidates, matrix, reader, limit=10)
    assert {p.key for p in picks} == set(range(100, 110))
    assert all(p.reasons[0] == "like “Attention is all you need”, which you saved" for p in picks)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)


def test_the_reason_names_the_nearest_liked_paper() -> None:
    candidates, matrix = space()
    liked = [Liked(1, "Topic A", "saved", unit(1)), Liked(2, "Topic C", "upvoted", unit(0, 0, 1))]
    picks = rank(candidates, matrix, Reader(liked=liked), limit=50)
    for pick in picks:
        axis = int(np.argmax(matrix[pick.key - 100]))
        if axis in (0, 2):
            assert pick.reasons[0].startswith("like “Topic A”" if axis == 0 else "like “Topic C”")


def test_not_interested_pushes_a_topic_down() -> None:
    candidates, matrix = space()
    liked = [Liked(1, "A", "saved", unit(1, 1))]  # between topics 0 and 1
    model = Weights(nearest=0.0)  # the regression alone (the words' SVM has its own test below)
    plain = rank(candidates, matrix, Reader(liked=liked), limit=10, weights=model)
    disliked = rank(candidates, matrix, Reader(liked=liked, disliked=[unit(0, 1)] * 3), limit=10, weights=model)
    topic1 = set(range(110, 130))
    assert len(topic1 & {p.key for p in disliked}) < len(topic1 & {p.key for p in plain})


def test_follows_alone_rank_only_what_they_match_with_reasons() -> None:
    candidates, matrix = space()
    reader = Reader(authors=frozenset({"author 3"}), categories=frozenset({"math.AG"}),
                    searches={"graph neural networks": frozenset({103, 140})})  # fmt: skip
    picks = rank(candidates, matrix, reader, limit=50)
    assert picks[0].key == 103  # author + search beat a category alone
    assert picks[0].reasons == ("by Author 3, whom you follow", "matches your saved search “graph neural networks”")
    assert picks[1].key == 140
    assert set(picks[1].reasons) == {
        "in math.AG, which you follow",
        "matches your saved search “graph neural networks”",
    }
    assert {p.key for p in picks} == {103} | set(range(130, 150))


def test_a_follow_lifts_a_paper_over_taste() -> None:
    candidates, matrix = space()
    reader = Reader(liked=[Liked(1, "A", "saved", unit(1))], authors=frozenset({"author 45"}))
    picks = rank(candidates, matrix, reader, limit=11)
    assert 145 in {p.key for p in picks}
    assert "by Author 45, whom you follow" in next(p for p in picks if p.key == 145).reasons


def test_liked_candidates_are_left_out_and_nothing_means_nothing() -> None:
    candidates, matrix = space()
    picks = rank(candidates, matrix, Reader(liked=[Liked(100, "A", "saved", matrix[0])]), limit=50)
    assert 100 not in {p.key for p in picks} and len(picks) == 49
    assert rank(candidates, matrix, Reader()) == []
    assert rank([], np.zeros((0, 8), np.float32), Reader(liked=[Liked(1, "A", "saved", unit(1))])) == []
    with pytest.raises(ValueError, match="candidates but"):
        rank(candidates, matrix[:3], Reader(categories=frozenset({"cs.CL"})))


def test_logistic_regression_separates_and_is_regularised() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(1, 0.5, (40, 3)), rng.normal(-1, 0.5, (40, 3))]).astype(np.float32)
    y = np.r_[np.ones(40), np.zeros(40)]
    w = logistic(x, y, np.ones(80), penalty=0.1)
    assert ((x @ w[:-1] + w[-1] > 0) == (y == 1)).mean() > 0.95
    strong = logistic(x, y, np.ones(80), penalty=100.0)
    assert np.linalg.norm(strong[:-1]) < np.linalg.norm(w[:-1])


def test_weights_change_the_blend() -> None:
    candidates, matrix = space()
    reader = Reader(liked=[Liked(1, "A", "saved", unit(1))], categories=frozenset({"math.AG"}))
    heavy = rank(candidates, matrix, reader, limit=10, weights=Weights(category=100.0))
    assert {p.key for p in heavy} <= set(range(130, 150))


def words() -> tuple[list[Candidate], np.ndarray]:
    """Fifty papers whose vectors say nothing (all alike): only their words tell them apart."""
    topics = [
        "sparse autoencoder features in language models",
        "elliptic curves over finite fields",
        "protein folding with diffusion",
        "robot grasping from tactile sensing",
        "galaxy cluster lensing maps",
    ]
    texts = [f"Paper {i}. We study {topics[i % 5]} and report results on benchmark {i}." for i in range(50)]
    candidates = [Candidate(100 + i, (f"Author {i}",), ("cs.LG",), text) for i, text in enumerate(texts)]
    return candidates, np.tile(unit(1), (50, 1))


def test_shared_words_rank_a_paper_when_vectors_cannot() -> None:
    candidates, matrix = words()
    liked = Liked(1, "SAE", "saved", unit(1), ("cs.LG",), "Interpreting sparse autoencoder features of language models")
    picks = rank(candidates, matrix, Reader(liked=[liked]), limit=10)
    assert {p.key for p in picks} == {100 + i for i in range(0, 50, 5)}  # the sparse autoencoder papers
    # the tf-idf part ranked it: the reason names the liked paper and the distinctive terms they share
    assert picks[0].reasons == ("shares “sparse autoencoder”, “models” and “language” with “SAE”, which you saved",)
    fitted = Lexicon.fit([c.text for c in candidates])
    again = rank(candidates, matrix, Reader(liked=[liked]), limit=10, lexicon=fitted)  # fitted once by the caller
    assert [p.key for p in again] == [p.key for p in picks]
    plain = rank(candidates, matrix, Reader(liked=[liked]), limit=10, weights=Weights(lexical=0.0))
    assert {p.key for p in plain} != {p.key for p in picks}  # without the lexical part: ties, in candidate order
    assert plain[0].reasons == ("like “SAE”, which you saved",)  # not what ranked it: the nearest liked paper


def test_the_shared_words_name_the_liked_paper_sharing_the_most() -> None:
    candidates, matrix = words()
    sae = Liked(1, "SAE", "saved", unit(1), (), "Interpreting sparse autoencoder features of language models")
    curves = Liked(2, "Curves", "gave as a seed", unit(1), (), "Counting points on elliptic curves over finite fields")
    picks = rank(candidates, matrix, Reader(liked=[sae, curves]), limit=20)
    reasons = {p.key: p.reasons[0] for p in picks}
    assert reasons[101] == "shares “finite fields” and “elliptic curves” with “Curves”, which you gave as a seed"
    assert reasons[100].startswith("shares “sparse autoencoder”") and reasons[100].endswith(
        "with “SAE”, which you saved"
    )


def test_not_interested_words_push_their_papers_down() -> None:
    candidates, matrix = words()
    liked = Liked(1, "A", "saved", unit(1), (), "Sparse autoencoder features and protein folding")
    both = {100 + i for i in range(50) if i % 5 in (0, 2)}
    disliked = Reader(liked=[liked], disliked=[unit(1)], disliked_texts=["Protein folding with diffusion models"])
    picks = rank(candidates, matrix, disliked, limit=10)
    assert {p.key for p in picks} == {k for k in both if (k - 100) % 5 == 0}


def test_no_words_means_no_lexical_part_and_a_wrong_lexicon_is_refused() -> None:
    candidates, matrix = space()  # no texts
    reader = Reader(liked=[Liked(1, "A", "saved", unit(1), (), "the and of")])
    assert {p.key for p in rank(candidates, matrix, reader, limit=10)} == set(range(100, 110))
    stop_words_only = Lexicon.fit(["the and of"] * 50)
    assert len(stop_words_only) == 0
    assert {p.key for p in rank(candidates, matrix, reader, limit=10, lexicon=stop_words_only)} == set(range(100, 110))
    with pytest.raises(ValueError, match="a lexicon of 3 texts"):
        rank(candidates, matrix, reader, lexicon=Lexicon.fit(["one paper", "two papers", "three papers"]))
