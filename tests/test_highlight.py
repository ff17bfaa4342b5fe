"""Highlighting marks exactly the words the keyword index matched (same stemmer), names as typed."""

from broadsheet.search.highlight import Segment, authors, highlight, snippet, stem


def marked(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments if s.type == "highlight"]


def test_words_match_by_the_index_stem_not_by_a_prefix() -> None:
    text = "Meaningful representations of modern models, and a representation that is meaningless."
    assert marked(highlight(text, ["meaningful", "representations", "models"])) == [
        "Meaningful representations",
        "models",
        "representation",
    ]  # "modern" shares a prefix with "models" but not a stem; "meaningless" is another word
    assert stem("representations") == stem("representation") != stem("represent-ative")


def test_pieces_join_back_to_the_text() -> None:
    text = "Diffusion-based video generation: generating videos with diffusion."
    segments = highlight(text, ["video", "generation", "diffusion"])
    assert "".join(s.text for s in segments) == text
    assert marked(segments) == ["Diffusion", "video generation", "generating videos", "diffusion"]  # one stem: generat
    assert highlight(text, []) == [Segment("text", text)]


def test_names_match_whole_words_without_stemming() -> None:
    assert marked(highlight("Kartik Narayan, Vishal M. Patel", ["narayan", "kartik"], stemmed=False)) == [
        "Kartik Narayan"
    ]
    assert marked(highlight("Narayanan Sundar", ["narayan"], stemmed=False)) == []


def test_the_author_line_shows_a_matched_author_beyond_the_first_three() -> None:
    names = ["Runpeng Dai", "Tong Zheng", "Rui Liu", "Chengsong Huang", "Hongtu Zhu"]
    line = authors(names, ["chengsong", "huang"])
    assert "".join(s.text for s in line) == "Runpeng Dai, Tong Zheng, Rui Liu, Chengsong Huang and 1 other"
    assert marked(line) == ["Chengsong Huang"]
    assert "".join(s.text for s in authors(names, ["zheng"])) == "Runpeng Dai, Tong Zheng, Rui Liu and 2 others"
    assert "".join(s.text for s in authors(names[:4], [])) == ", ".join(names[:4])


def test_a_snippet_is_a_window_around_the_first_match() -> None:
    text = " ".join(["filler"] * 100) + " the meaningful part " + " ".join(["tail"] * 100)
    cut = snippet(highlight(text, ["meaningful"]), width=80)
    body = "".join(s.text for s in cut)
    assert marked(cut) == ["meaningful"] and len(body) <= 84 and body.startswith("…") and body.endswith("…")
