"""Rebuild the OCR's Keras checkpoint from the shipped ONNX model, so training can go on from it.

Training checkpoints live under models/_work (gitignored, large, with optimizer state) and are gone
on a fresh checkout; the shipped `models/ocr/dealergate_ocr.onnx` is what every session has. This
builds the Keras model from `models/ocr/model_config.yaml` (fast-plate-ocr's builder) and copies
every trainable weight out of the ONNX graph — found by its tf2onnx name: the layer path plus the
op that read the variable — reshaping the attention kernels tf2onnx flattened. Then it checks the
rebuilt model against onnxruntime on real and random inputs and refuses to write a model that
disagrees. Runs in `.venv-train`:

    KERAS_BACKEND=tensorflow .venv-train/bin/python models/ocr_recover.py [--out models/_work/recovered.keras]

`train_ocr.py train --weights models/_work/recovered.keras` then continues from the shipped model
(with a fresh optimizer: the moments are not in the ONNX).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_ocr import MODEL_CONFIG, ONNX_OUT, PLATE_CONFIG, WORK

DEFAULT_OUT = WORK / "recovered.keras"
MAX_ABS_DIFF = 1e-3
"""The rebuilt model's probabilities may differ from onnxruntime's by float rounding only."""


def _strip(component: str) -> str:
    """A top-level tf2onnx path component without the `_1` the export's tracing appended
    (`transformer_block_2_1` -> `transformer_block_2`). Deeper components are renumbered less
    predictably (`dy_t_1_2`), so below the top level tensors are told apart by the op that read them."""
    return re.sub(r"_1$", "", component)


def onnx_weights(onnx_path: Path) -> dict[str, list[np.ndarray]]:
    """The ONNX graph's trainable tensors grouped by Keras role key, each group in graph order.

    Keys: `conv/kernel`, `conv/bias`, `mlp/kernel`, `mlp/bias`, `pos_emb`, `<block>/dyt/alpha|weight|bias`,
    `<block>/<q|k|v>/kernel|bias`, `<block>/out/kernel|bias`, `<block>/dense/kernel|bias`,
    `token_reducer/query_tokens`, `<head>/kernel|bias` for the heads (region_seq_pool, plate, region).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    groups: dict[str, list[np.ndarray]] = {}

    def put(key: str, value: np.ndarray) -> None:
        groups.setdefault(key, []).append(value)

    for init in model.graph.initializer:
        name, value = init.name, numpy_helper.to_array(init)
        if not name.startswith("CCT_OCR_1/") or value.dtype != np.float32:
            continue
        parts = name.split("/")[1:]
        top = _strip(parts[0])
        if top == "conv_stem":
            if parts[-2] == "convolution":
                put("conv/kernel", value)
            elif parts[-1] == "Squeeze:0":
                put("conv/bias", value)
        elif top == "mlp":
            put("mlp/kernel" if value.ndim == 2 else "mlp/bias", value)
        elif top == "pos_emb":
            put("pos_emb", value)
        elif top.startswith("transformer_block") or top == "token_reducer":
            block = top
            if top == "token_reducer" and parts[1] == "Tile":
                put("token_reducer/query_tokens", value)
                continue
            layer = parts[1]
            if layer.startswith("dy_t"):
                op = parts[2]
                put(f"{block}/dyt/" + {"Mul": "alpha", "mul_1": "weight", "add": "bias"}[op], value)
            elif layer.startswith("multi_head_attention"):
                if parts[2] == "Cast":  # the 1/sqrt(d) scale constant, not a weight
                    continue
                proj = {"query_1": "q", "key_1": "k", "value_1": "v", "attention_output_1": "out"}[parts[2]]
                kind = "kernel" if parts[3].startswith("Reshape") else "bias"
                put(f"{block}/{proj}/{kind}", value)
            elif layer.startswith("mlp"):
                put(f"{block}/dense/" + ("kernel" if value.ndim == 2 else "bias"), value)
        elif top in ("region_seq_pool", "plate", "region"):
            is_kernel = value.ndim == 2
            put(f"{top}/" + ("kernel" if is_kernel else "bias"), value)
    return groups


def _keras_key(path: str) -> str:
    """The role key (as in `onnx_weights`) of a Keras weight path."""
    parts = path.split("/")
    top, leaf = parts[0], parts[-1]
    if top == "conv_stem":
        return f"conv/{leaf}"
    if top == "mlp":
        return f"mlp/{leaf}"
    if top == "pos_emb":
        return "pos_emb"
    if top.startswith("transformer_block") or top == "token_reducer":
        if leaf == "query_tokens":
            return "token_reducer/query_tokens"
        layer = parts[1]
        if layer.startswith("dy_t"):
            return f"{top}/dyt/{leaf}"
        if layer.startswith("multi_head_attention"):
            proj = {"query": "q", "key": "k", "value": "v", "attention_output": "out"}[parts[2]]
            return f"{top}/{proj}/{leaf}"
        return f"{top}/dense/{leaf}"
    return f"{top}/{leaf}"


def recover(onnx_path: Path, out: Path) -> float:
    """Write the Keras model rebuilt from `onnx_path` to `out`; returns the largest probability
    difference against onnxruntime (raises when it exceeds `MAX_ABS_DIFF`)."""
    import keras
    import onnxruntime as ort
    from fast_plate_ocr.train.model.config import load_plate_config_from_yaml
    from fast_plate_ocr.train.model.model_builders import build_model
    from fast_plate_ocr.train.model.model_schema import load_model_config_from_yaml

    plate_config = load_plate_config_from_yaml(PLATE_CONFIG)
    model = build_model(load_model_config_from_yaml(MODEL_CONFIG), plate_config, enable_region_head=True)
    groups = {k: list(v) for k, v in onnx_weights(onnx_path).items()}
    for weight in model.weights:
        if not weight.trainable:  # the blur filters: fixed, built by the layer itself
            continue
        key = _keras_key(weight.path)
        if not groups.get(key):
            raise SystemExit(f"no ONNX tensor left for {weight.path} ({key})")
        value = groups[key].pop(0)
        shape = tuple(weight.shape)
        if len(shape) == 4 and key == "conv/kernel":
            value = value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        weight.assign(value.reshape(shape))
    left = {k: len(v) for k, v in groups.items() if v}
    if left:
        raise SystemExit(f"ONNX tensors not used: {left}")

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    shape = (plate_config.img_height, plate_config.img_width, 3)
    x = rng.integers(0, 256, (16, *shape), dtype=np.uint8)
    want = session.run(None, {session.get_inputs()[0].name: x})
    got = model(x, training=False)
    got = got if isinstance(got, (list, tuple)) else list(got.values()) if isinstance(got, dict) else [got]
    diff = 0.0
    for w in want:
        match = [np.asarray(g) for g in got if np.asarray(g).size == w.size]
        if not match:
            raise SystemExit(f"no Keras output of ONNX output shape {w.shape}")
        diff = max(diff, min(float(np.abs(m.reshape(w.shape) - w).max()) for m in match))
    if diff > MAX_ABS_DIFF:
        raise SystemExit(f"rebuilt model disagrees with the ONNX model by {diff:.2e} (> {MAX_ABS_DIFF})")
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    keras.backend.clear_session()
    return diff


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--onnx", default=str(ONNX_OUT), help="the ONNX model to rebuild (default: the shipped one)"
    )
    p.add_argument("--out", default=str(DEFAULT_OUT))
    a = p.parse_args(argv)
    diff = recover(Path(a.onnx), Path(a.out))
    print(f"rebuilt {a.onnx} -> {a.out} (largest difference against onnxruntime {diff:.1e})", flush=True)


if __name__ == "__main__":
    main()
