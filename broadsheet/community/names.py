"""Author names compared as people write them: one key per spelling, never a guess at who is who.

    normalise_name("  José  GARCÍA ")   # -> "jose garcia"
    normalise_name("J.Smith")           # -> "j. smith"   (not "john smith": variants stay apart)

The key is NFKC, accents stripped (arXiv writes "Garc\\'ia" one day and "Garcia" the next),
case-folded, a space after each full stop, whitespace collapsed, at most 300 characters.
"J. Smith" and "John Smith" keep different keys: only a verified claim joins them (broadsheet.community.authors).
"""

from __future__ import annotations

import re
import unicodedata

MAX_KEY = 300


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalise_name(name: str) -> str:
    return fold(name)[:MAX_KEY].rstrip()


def fold(text: str) -> str:
    """The same normalisation for any length of text (titles and abstracts, for word rules); control
    characters (NUL included, which PostgreSQL refuses in text) become spaces."""
    text = _CONTROL.sub(" ", text)
    if text.isascii():  # most names: NFKC and accents change nothing
        return " ".join(text.lower().replace(".", ". ").split())
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).casefold().replace(".", ". ")
    return " ".join(text.split())
