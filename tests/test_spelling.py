"""Spelling's pure core: edit distance (a swap counts one) and the most likely meant word."""

from broadsheet.search.spelling import PREFIX_ODDS, closest, edits


def test_edits_counts_a_swap_of_neighbours_as_one_and_stops_above_the_most() -> None:
    assert edits("transfomer", "transformer", 2) == 1
    assert edits("lnaguage", "language", 2) == 1
    assert edits("difufsion", "diffusion", 2) == 1
    assert edits("model", "modal", 1) == 1
    assert edits("zzqxjv", "transformer", 2) == 3


def test_closest_prefers_the_typed_first_two_letters_unless_far_more_common() -> None:
    assert closest("lnaguage", [("language", 35507), ("lnag", 3)]) == ("language", 1)
    assert closest("dmain", [("dmaic", 3), ("domain", 5000)]) == ("domain", 1)
    assert closest("dmain", [("dmaic", 3), ("domain", 3 * PREFIX_ODDS - 1)]) == ("dmaic", 1)
    assert closest("graph", [("grapg", 1)]) is None  # a word in one paper is no correction
    assert closest("vison", [("vision", 12538), ("visions", 40)]) == ("vision", 1)
    assert closest("modl", [("module", 900), ("model", 90)]) == ("model", 1)  # short words: one edit at most
    assert closest("reinforcment", [("reinforcement", 9), ("reinforce", 900)]) == ("reinforcement", 1)
    assert closest("tranformerz", [("transformer", 40000)]) == ("transformer", 2)  # from 7 letters: two
