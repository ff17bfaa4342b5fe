"""BM25 keyword search over titles, abstracts and authors with tantivy (Lucene-style, in Rust).

Chosen by measurement over SQLite FTS5 (benchmarks/engines.py): at 75K papers tantivy answers
the OR-queries hybrid search needs in p95 < 1 ms, FTS5 in p95 43 ms.

The index is derived data in the index directory. `refresh()` brings it up to date with the
papers table by `(modified_at, id)`, so it never drifts: every paper inserted or changed since
the last refresh is (re)indexed, and an index whose document count disagrees with the table is
rebuilt. Several processes may refresh; tantivy's writer lock lets one at a time do it.

Fields: title and abstract stemmed (Snowball English); authors lower-cased but not stemmed, one
value per author, so "Peiwen Zhang" is a phrase inside one name and "Zhang" alone a name word;
`surname` (each author's last word) for one-word name queries; `plain` (the title's words as written) for
titles remembered as written and typo-tolerant (fuzzy) matches; `vocabulary` (every word as written) for
spelling suggestions. `match()` returns, besides BM25 scores, which papers hold every query word (in their
title, as typed or stemmed, or anywhere), the query as a phrase, or an author of that name (a full name, or a
surname typed alone): search ranks those first; for titles holding the words as typed, also that query's
score on the title alone (how much of the title the query is).
"""

from __future__ import annotations

import itertools
import json
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import filelock
import tantivy

from broadsheet.models import Change
from broadsheet.store import Store

FIELDS = ("title", "abstract", "authors")
BOOSTS = {"title": 1.2, "abstract": 1.0, "authors": 1.0}  # a title hit counts more; tuned on SciFact train
PHRASE_BOOST = 1.0  # a whole-query phrase match in a field adds this much of that field's BM25 again
PAIR_BOOST = 0.5  # each pair of neighbouring query words found side by side in the title or abstract adds this
PAIR_WORDS = 8  # ... in queries of at most this many words (keyword lists; it costs claims: queries.py)
FUZZY_BOOST = 0.5  # a title word one edit away (a typo) adds this constant
FUZZY_MIN = 5  # words shorter than this are never matched fuzzily (too many neighbours)
SURNAME_SHARE = 0.5  # a one-word query is a name when at least this share of the papers holding it have it in an
# author's name (80K papers: "zhang" 15,450 of 15,539, "song" 2,393 of 2,764; "long" 410 of 9,293: a word); papers
# with an author of that surname then come first (a given name that is also someone's surname: "sinan")
SCHEMA_VERSION = 3  # 2: authors unstemmed, one value per author (phrases), plain title words; 3: surnames
BATCH = 5000


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("abstract", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("authors", stored=False, tokenizer_name="default")  # names: lower-cased, not stemmed
    builder.add_text_field("surname", stored=False, tokenizer_name="default")  # each author's last word
    builder.add_text_field("plain", stored=False, tokenizer_name="default", index_option="freq")  # title words as typed
    builder.add_text_field("vocabulary", stored=False, tokenizer_name="default", index_option="basic")
    return builder.build()


@dataclass(frozen=True, slots=True)
class Matches:
    """What the keyword index knows about a query: BM25 scores and which papers match how well."""

    scores: dict[int, float]  # paper id -> BM25 (any word; phrase and fuzzy bonuses included)
    all_words: set[int]  # papers containing every query word (in any field)
    phrase: set[int]  # papers containing the query as a phrase in the title or abstract
    title: set[int]  # papers whose title holds every query word (a typo: a title word one edit away)
    author: set[int]  # papers with an author whose name is the query, or whose surname a one-word query is
    typed: dict[int, float]  # of `title`, papers whose title holds every query word as typed (unstemmed) -> that
    # query's BM25 on the title alone: the same words for each, so (but for a word repeated in a title) the shorter
    # the title, the more of it the query is, the higher


T = TypeVar("T")


def _wipe(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_file() and not child.name.endswith(".lock"):
            child.unlink()


def _retry(action: Callable[[], T], tries: int = 20) -> T:
    """Run `action`, again while the index files it reads are missing: another process (a web worker of the
    same data directory) committed and merged between our reading the index's list of segments and opening
    them, and the next list is whole. Any other error, or the last try's, goes up."""
    for _ in range(tries - 1):
        try:
            return action()
        except ValueError as exc:
            if "FileDoesNotExist" not in str(exc):
                raise
            time.sleep(0.05)
    return action()


class LexicalIndex:
    def __init__(self, store: Store, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self.meta_path = directory / "broadsheet.json"
        directory.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(directory / ".open.lock")):  # processes sharing the folder open it one by one
            meta = self._read_meta()
            if meta and meta.get("schema") != SCHEMA_VERSION:  # an index of an older layout: start again
                _wipe(directory)
                meta = {}
            try:  # no metadata yet: another process may be building the index right now; never wipe its files
                self.index = _retry(lambda: tantivy.Index(_schema(), path=str(directory), reuse=True))
            except ValueError:  # files of another schema and no metadata of ours
                _wipe(directory)
                meta = {}
                self.index = tantivy.Index(_schema(), path=str(directory), reuse=True)
        self.mark: datetime | None = datetime.fromisoformat(str(meta["mark"])) if meta.get("mark") else None
        self._lock = threading.Lock()
        self._counted = False

    def _count_matches(self) -> bool:
        self._counted = True
        return bool(self.index.searcher().num_docs == self.store.papers.count())

    def refresh(self) -> int:
        """Index papers changed since the last refresh; returns how many were (re)indexed.

        The cheap check (newest modification) runs on every call; comparing document counts,
        which scans the table, runs when the index is opened, since the site never deletes papers.
        """
        newest = self.store.papers.latest_change()
        self._reload()
        if newest == self.mark and (self._counted or self._count_matches()):
            return 0
        with self._lock:
            try:
                writer = self.index.writer(heap_size=128_000_000, num_threads=1)
            except ValueError:
                return 0  # another process holds the writer and is bringing the index up to date
            stored = self._read_meta().get("mark")  # another process may have indexed meanwhile: go on from there
            if stored and (self.mark is None or datetime.fromisoformat(str(stored)) > self.mark):
                self.mark = datetime.fromisoformat(str(stored))
            rebuild = self.mark is not None and self.index.searcher().num_docs > self.store.papers.count()
            if rebuild:
                writer.delete_all_documents()
                self.mark = None
            done = self._catch_up(writer)
            writer.commit()
            self._reload()
            if self.index.searcher().num_docs != self.store.papers.count():  # papers the marks cannot find: rebuild
                writer.delete_all_documents()
                self.mark = None
                done = self._catch_up(writer)
                writer.commit()
            writer.wait_merging_threads()
            self._write_meta()
            self._reload()
        return done

    def _reload(self) -> None:
        _retry(self.index.reload)

    def _catch_up(self, writer: tantivy.IndexWriter) -> int:
        done, after_id = 0, -1
        while batch := self.store.papers.changed_since(self.mark, after_id=after_id, limit=BATCH):
            for change in batch:
                if self.mark is not None:  # an update: drop the old version of the document
                    writer.delete_documents_by_term("id", change.id)
                writer.add_document(_document(change))
            done += len(batch)
            self.mark, after_id = batch[-1].modified_at, batch[-1].id
        return done

    def search(self, words: list[str], *, limit: int) -> list[tuple[int, float]]:
        """(paper id, BM25 score) for papers matching any of the words, best first."""
        if not words or limit <= 0:
            return []
        return self._top(self._any(words), limit)

    def match(self, words: list[str], *, limit: int) -> Matches:
        """Scores of the `limit` best papers for any word, and the papers matching the tiers' conditions
        (`words` lower-cased, as `search.terms` gives them)."""
        if not words or limit <= 0:
            return Matches({}, set(), set(), set(), set(), {})
        scores = dict(self._top(self._ranking(words), limit))
        every = self._top(self._all(words), limit)
        for row_id, value in every:
            scores.setdefault(row_id, value)
        phrase: set[int] = set()
        author: set[int] = set()
        if len(words) > 1:
            phrase = {r for r, _ in self._top(self._phrase(words, ["title", "abstract"]), limit)}
            author = {r for r, _ in self._top(self._phrase(words, ["authors"]), limit)}
        elif self._is_name(words[0]):
            author = {r for r, _ in self._top(self.index.parse_query(words[0], ["surname"]), limit)}
        title = {r for r, _ in self._top(self._in_title(words), limit)}
        typed_hits = self._top(self._in_title(words, as_typed=True), limit) if title else []
        typed = {r: fit for r, fit in typed_hits if r in title}
        return Matches(scores, {r for r, _ in every}, phrase, title, author, typed)

    def _is_name(self, word: str) -> bool:
        """Whether `word` (lower-cased, as search's terms are) is someone's surname and most papers holding it
        (any field) have it in an author's name, as a surname or a given name."""
        if not word.isalpha():
            return False
        searcher = self.index.searcher()
        named = searcher.doc_freq("authors", word)
        return searcher.doc_freq("surname", word) > 0 and named >= SURNAME_SHARE * searcher.doc_freq("vocabulary", word)

    def holds_all(self, words: list[str]) -> bool:
        """Whether some paper holds every one of the words (in any field), or some title does, a typo allowed."""
        searcher = self.index.searcher()
        return any(searcher.search(query, 1, count=False).hits for query in (self._all(words), self._in_title(words)))

    def named(self, word: str) -> bool:
        """Whether some author's name holds the (lower-cased) word."""
        return bool(self.index.searcher().doc_freq("authors", word))

    def size(self) -> int:
        """Papers indexed."""
        return int(self.index.searcher().num_docs)

    def frequency(self, word: str) -> int:
        """In how many papers the (unstemmed, lower-cased) word occurs."""
        return int(self.index.searcher().doc_freq("vocabulary", word.lower()))

    def neighbours(self, word: str) -> list[tuple[str, int]]:
        """Spelling candidates, with their paper counts: indexed words starting as the word does, or as it would
        with its first two letters swapped, or its second letter dropped, mistyped or one too many (a typo in the
        first letter is not looked for: too many candidates, and rare)."""
        low = word.lower()
        prefixes = [low[:2], low[1::-1]]
        if len(low) >= 3:
            prefixes += [low[0] + low[2:4], *(low[0] + c + low[i] for i in (1, 2) for c in string.ascii_lowercase)]
        searcher = self.index.searcher()
        found: dict[str, int] = {}
        for prefix in dict.fromkeys(prefixes):
            found.update((str(t), int(n)) for t, n in searcher.terms_with_prefix("vocabulary", prefix))
        return list(found.items())

    def _any(self, words: list[str]) -> tantivy.Query:
        return self.index.parse_query(" ".join(words), list(FIELDS), field_boosts=BOOSTS)

    def _all(self, words: list[str]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, self._any([w])) for w in words])

    def _in_title(self, words: list[str], *, as_typed: bool = False) -> tantivy.Query:
        """Every word in the title, by its stem or `as_typed`; a word no title holds (a typo) may be a title word
        one edit away."""
        clauses = []
        searcher = self.index.searcher()
        schema = self.index.schema
        for word in words:
            query = (
                tantivy.Query.term_query(schema, "plain", word) if as_typed else self.index.parse_query(word, ["title"])
            )
            if len(word) >= FUZZY_MIN and not searcher.doc_freq("plain", word):
                near = tantivy.Query.fuzzy_term_query(schema, "plain", word, distance=1)
                query = tantivy.Query.boolean_query([(tantivy.Occur.Should, query), (tantivy.Occur.Should, near)])
            clauses.append((tantivy.Occur.Must, query))
        return tantivy.Query.boolean_query(clauses)

    def _phrase(self, words: list[str], fields: list[str]) -> tantivy.Query:
        return self.index.parse_query('"' + " ".join(words) + '"', fields, field_boosts=BOOSTS)

    def _ranking(self, words: list[str]) -> tantivy.Query:
        """Any word (BM25), plus the whole query as a phrase, plus typo-tolerant title words."""
        clauses = [(tantivy.Occur.Should, self._any(words))]
        if len(words) > 1 and PHRASE_BOOST:
            phrase = self._phrase(words, list(FIELDS))
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(phrase, PHRASE_BOOST)))
        for pair in itertools.pairwise(words) if PAIR_BOOST and 2 < len(words) <= PAIR_WORDS else []:
            near = self._phrase(list(pair), ["title", "abstract"])
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(near, PAIR_BOOST)))
        schema = self.index.schema
        for word in words if FUZZY_BOOST else []:
            if len(word) >= FUZZY_MIN:
                fuzzy = tantivy.Query.fuzzy_term_query(schema, "plain", word, distance=1)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(fuzzy, FUZZY_BOOST)))
        return tantivy.Query.boolean_query(clauses)

    def _top(self, query: tantivy.Query, limit: int) -> list[tuple[int, float]]:
        searcher = self.index.searcher()
        hits = searcher.search(query, limit, count=False).hits
        return [(int(searcher.doc(address)["id"][0]), float(score)) for score, address in hits]

    def _read_meta(self) -> dict[str, object]:
        try:
            meta: dict[str, object] = json.loads(self.meta_path.read_text())
            return meta
        except (OSError, ValueError):
            return {}

    def _write_meta(self) -> None:
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "mark": self.mark.isoformat() if self.mark else None}))
        tmp.replace(self.meta_path)


def _document(change: Change) -> tantivy.Document:
    doc = tantivy.Document(id=change.id, title=change.title, abstract=change.abstract, plain=change.title)
    for name in change.authors:
        doc.add_text("authors", name)
        if parts := name.split():
            doc.add_text("surname", parts[-1])
    doc.add_text("vocabulary", f"{change.title} {change.abstract} {' '.join(change.authors)}")
    return doc
