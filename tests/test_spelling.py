"""Spelling's pure core: edit distance (a swap counts one) and the most likely meant word."""

from broadsheet.search.spelling import KNOWN_ODDS, PREFIX_ODDS, closest, edits, likely_meant


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


def test_a_word_some_papers_hold_is_taken_for_a_typo_only_of_a_far_more_common_word_one_edit_away() -> None:
    assert likely_meant("languge", 2, [("language", 35507), ("languge", 2), ("languages", 9000)]) == "language"
    assert likely_meant("talks", 400, [("tasks", 30000), ("talks", 400)]) is None  # 75 times: not enough
    assert likely_meant("booting", 1, [("boosting", KNOWN_ODDS - 1)]) is None
    assert likely_meant("leanring", 1, [("learning", 23189), ("leaning", 90)]) == "learning"
    assert likely_meant("vison", 6, [("visions", 9000)]) is None  # two edits away
