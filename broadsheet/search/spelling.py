"""Spelling: how far a typed word is from an indexed one, and which indexed word it most likely meant.

edits("transfomer", "transformer", 2)                      # -> 1
closest("lnaguage", [("language", 35507), ("lnag", 3)])    # -> ("language", 1)
"""

from __future__ import annotations

PREFIX_ODDS = 100  # a correction that changes the first two letters must be this many times more common
KNOWN_ODDS = 100  # a word some papers hold is a typo only of a word one edit away this many times more common


def edits(a: str, b: str, most: int) -> int:
    """Edit distance where a swap of neighbours counts one (optimal string alignment); most + 1 once above `most`."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > most:
            return most + 1
        before, previous = previous, current
    return previous[-1]


def closest(word: str, known: list[tuple[str, int]]) -> tuple[str, int] | None:
    """The most frequent known word fewest edits away (1 for short words, 2 from 7 letters), or None; a word
    not starting with the typed first two letters counts PREFIX_ODDS times rarer (typos come later, mostly)."""
    most = 2 if len(word) >= 7 else 1
    scored = [
        (edits(word, w, most), -(n if w[:2] == word[:2] else n / PREFIX_ODDS), w)
        for w, n in known
        if n >= 2 and abs(len(w) - len(word)) <= most
    ]
    best = min((s for s in scored if s[0] <= most), default=None)
    return (best[2], best[0]) if best else None


def likely_meant(word: str, count: int, known: list[tuple[str, int]]) -> str | None:
    """For a word that `count` papers hold (someone else's typo, perhaps: "languge" is in an arXiv title), the most
    common known word one edit away if it is at least KNOWN_ODDS times more common, else None."""
    near = [(n, w) for w, n in known if w != word and edits(word, w, 1) == 1]
    best = max(near, default=None)
    return best[1] if best and best[0] >= KNOWN_ODDS * count else None
