"""Nearest-neighbour search over paper vectors: exact in RAM (SQLite), or pgvector's HNSW (PostgreSQL).

`open_vectors` picks the one for the store's backend; both answer the same `Vectors` protocol.

Chosen by measurement (benchmarks/speed.py, benchmarks/engines.py): a float32 matrix product over
every vector is exact (recall 1.0), needs no build step, stays under the latency budget at 1M
papers and is not slower than faiss's flat fp16 or 8-bit scans;
it costs 1.5 GB of RAM per million papers (384 float32 each).

On PostgreSQL no host holds the vectors: `StoredVectors` asks the database (an HNSW cosine
index, migration 0011), so any number of web workers on any number of hosts share one copy and
a vector stored through one is searchable through every other at once.

The database is the source of truth. The cache (`vectors.f32`, `ids.i64`, `meta.json` in the
index directory) saves re-reading every vector at start; `refresh()` appends vectors stored
since (by embedding id), so new papers are searchable without a restart. A cache that does
not match its metadata is rebuilt from the database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import filelock
import numpy as np
import numpy.typing as npt

from broadsheet.store import Store
from broadsheet.store.embeddings import Page

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Neighbour:
    paper_id: int
    score: float  # cosine similarity


class Vectors(Protocol):
    """What search needs from a vector backend."""

    def refresh(self) -> int: ...
    def search(self, query: Vector, *, limit: int) -> list[Neighbour]: ...
    def vector(self, paper_id: int) -> Vector | None: ...
    def vectors(self, paper_ids: Sequence[int]) -> dict[int, Vector]: ...


def open_vectors(store: Store, model: str, dim: int, directory: Path) -> Vectors:
    """pgvector in the database on PostgreSQL; the exact in-memory index (cached in `directory`) on SQLite."""
    if store.embeddings.in_database:
        return StoredVectors(store, model)
    return VectorIndex(store, model, dim, directory)


class StoredVectors:
    """Vectors searched where they are stored: pgvector's HNSW index (PostgreSQL)."""

    def __init__(self, store: Store, model: str) -> None:
        self.store, self.model = store, model

    def __len__(self) -> int:
        return self.store.embeddings.count(self.model)

    def refresh(self) -> int:
        return 0  # nothing held here: every query sees the database as it is

    def search(self, query: Vector, *, limit: int) -> list[Neighbour]:
        if limit <= 0:
            return []
        return [Neighbour(p, s) for p, s in self.store.embeddings.nearest(self.model, query, limit=limit)]

    def vector(self, paper_id: int) -> Vector | None:
        return self.vectors([paper_id]).get(paper_id)

    def vectors(self, paper_ids: Sequence[int]) -> dict[int, Vector]:
        return self.store.embeddings.vectors_of(self.model, paper_ids)


class VectorIndex:
    def __init__(self, store: Store, model: str, dim: int, directory: Path) -> None:
        self.store, self.model, self.dim = store, model, dim
        self.directory = directory / model.replace("/", "_")
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.position: dict[int, int] = {}
        self.last_id = 0
        self._saved = 0  # rows already in the cache files
        self._replaced: set[int] = set()  # rows changed in place since the last save
        self._lock = threading.Lock()
        self._scores = threading.local()
        self._load()

    def __len__(self) -> int:
        return len(self.ids)

    def refresh(self) -> int:
        """Take in vectors stored since the last refresh; returns how many changed."""
        if self.store.embeddings.latest_id(self.model) == self.last_id:
            return 0
        with self._lock, self._file_lock():
            pages: list[Page] = []
            after = self.last_id
            while page := self.store.embeddings.since(self.model, after):
                pages.append(page)
                after = int(page.ids[-1])
            changed = self._apply(pages)  # one stacking of the matrix, however many pages were read
            self._save()
        return changed

    def search(self, query: Vector, *, limit: int) -> list[Neighbour]:
        """The `limit` most similar papers, best first."""
        matrix, ids = self.matrix, self.ids
        if not len(ids) or limit <= 0:
            return []
        scores = np.dot(matrix, query.astype(np.float32, copy=False), out=self._buffer(len(ids)))
        count = min(limit, len(scores))
        top = np.argpartition(scores, len(scores) - count)[-count:]
        top = top[np.argsort(-scores[top])]
        return [Neighbour(int(ids[i]), float(scores[i])) for i in top]

    def _buffer(self, size: int) -> Vector:
        """A reusable array for the scores (a fresh 4 MB allocation per query at 1M papers costs time)."""
        buffer: Vector | None = getattr(self._scores, "array", None)  # one per thread: requests run in a pool
        if buffer is None or len(buffer) != size:
            buffer = self._scores.array = np.empty(size, dtype=np.float32)
        return buffer

    def vector(self, paper_id: int) -> Vector | None:
        row = self.position.get(paper_id)
        return None if row is None else self.matrix[row]

    def vectors(self, paper_ids: Sequence[int]) -> dict[int, Vector]:
        return {p: self.matrix[row] for p in paper_ids if (row := self.position.get(p)) is not None}

    def _apply(self, pages: list[Page]) -> int:
        """Replace re-embedded papers' rows in place; append new papers' rows into one new matrix.

        The pages are released as they are copied, so building from scratch needs about one
        copy of the vectors, not several.
        """
        count = sum(len(page.ids) for page in pages)
        fresh = [self._replace_known(page) for page in pages]  # per page: rows of papers not seen yet
        added = np.concatenate(
            [page.paper_ids[rows] for page, rows in zip(pages, fresh, strict=True)] or [np.zeros(0, np.int64)]
        )
        _, last = np.unique(added[::-1], return_index=True)  # a paper re-embedded meanwhile: keep its latest row
        keep = np.zeros(len(added), dtype=bool)
        keep[len(added) - 1 - last] = True
        if pages:
            self.last_id = max(self.last_id, int(pages[-1].ids[-1]))
        if not keep.any():
            return count
        start = len(self.ids)
        matrix = np.empty((start + int(keep.sum()), self.dim), dtype=np.float32)
        matrix[:start] = self.matrix
        self.matrix, at, offset = matrix, start, 0
        while pages:  # popped one by one: each page's memory goes as soon as it is copied
            page, rows = pages.pop(0), fresh.pop(0)
            chosen = rows[keep[offset : offset + len(rows)]]
            offset += len(rows)
            self.matrix[at : at + len(chosen)] = page.matrix[chosen]
            at += len(chosen)
        self.ids = np.concatenate([self.ids, added[keep]])
        self.position.update({int(p): start + k for k, p in enumerate(self.ids[start:])})
        return count

    def _replace_known(self, page: Page) -> npt.NDArray[np.int64]:
        """Write the vectors of papers already in the index over their rows; return the other rows."""
        known = np.fromiter((int(p) in self.position for p in page.paper_ids), dtype=bool, count=len(page.ids))
        for row, vec in zip(np.nonzero(known)[0], page.matrix[known], strict=True):
            target = self.position[int(page.paper_ids[row])]
            self.matrix[target] = vec
            self._replaced.add(target)
        return np.nonzero(~known)[0]

    def _load(self) -> None:
        meta_path = self.directory / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
            if meta["model"] != self.model or meta["dim"] != self.dim:
                return
            count = int(meta["count"])
            matrix = np.fromfile(self.directory / "vectors.f32", dtype="<f4", count=count * self.dim)
            ids = np.fromfile(self.directory / "ids.i64", dtype="<i8", count=count)
            if len(ids) != count or len(matrix) != count * self.dim:
                return
        except (OSError, ValueError, KeyError):
            return  # no cache, or a damaged one: refresh() rebuilds from the database
        self.matrix, self.ids, self.last_id = matrix.reshape(count, self.dim), ids, int(meta["last_id"])
        self.position = {int(p): k for k, p in enumerate(ids)}
        self._saved = count

    def _save(self) -> None:
        """Write replaced rows in place and append new ones; the metadata moves last."""
        self.directory.mkdir(parents=True, exist_ok=True)
        matrix, ids = self.matrix.astype("<f4", copy=False), self.ids.astype("<i8", copy=False)
        for name, data in (("vectors.f32", matrix), ("ids.i64", ids)):
            path = self.directory / name
            with path.open("r+b" if path.exists() else "w+b") as f:
                row_bytes = data[0].nbytes if len(data) else 0
                for row in sorted(r for r in self._replaced if r < self._saved):
                    f.seek(row * row_bytes)
                    f.write(data[row].tobytes())
                f.seek(self._saved * row_bytes)
                f.write(data[self._saved :].tobytes())
                f.truncate()
        self._saved, self._replaced = len(self.ids), set()
        meta = {"model": self.model, "dim": self.dim, "count": len(self.ids), "last_id": self.last_id}
        tmp = self.directory / "meta.json.tmp"
        tmp.write_text(json.dumps(meta))
        tmp.replace(self.directory / "meta.json")  # the metadata moves last: a crash leaves the old, valid one

    def _file_lock(self) -> filelock.FileLock:
        """One writer of the cache files at a time, across processes (several web workers, the CLI)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(self.directory / ".lock"))
