"""Score the exported plate OCR the way the edge will run it (onnxruntime via fast-plate-ocr).

Runs in the project's `.venv` (no TensorFlow needed):

    .venv/bin/python models/eval_ocr.py [--per-type 200] [--seed 777] [--json out.json]

Reports exact-plate accuracy and plate-type (region head) accuracy on a fresh synthetic set per
plate type (double-row crops stitched into one row, as the edge and the training feed them) (seeded apart from the training seeds 1234/1235), on the real lyl8213_valid crops and on
the real CCPD crops, and the per-crop latency of single-crop calls.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
from fast_plate_ocr import LicensePlateRecognizer

from dealergate.plate_crops import stitch_rows
from dealergate.plates import PlateType
from dealergate.synth.plate_render import RENDERABLE_TYPES, degrade, random_plate_text, render_plate

ROOT = Path(__file__).resolve().parents[1]
ONNX = ROOT / "models" / "ocr" / "dealergate_ocr_int8.onnx"
"""The model the edge runs (`--onnx models/ocr/dealergate_ocr.onnx` scores the float one it is made from)."""
PLATE_CONFIG = ROOT / "models" / "ocr" / "plate_config.yaml"
REAL_CROPS = Path(os.environ.get("DEALERGATE_LPR_CROPS", ROOT.parent / "shared" / "datasets" / "lpr_crops"))


def to_rgb(bgr: np.ndarray) -> np.ndarray:
    """The model was trained on RGB (fast-plate-ocr reads files as RGB); OpenCV hands out BGR."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def score(
    reader: LicensePlateRecognizer, images: list[np.ndarray], texts: list[str], types: list[str] | None = None
) -> dict[str, float]:
    preds = []
    for i in range(0, len(images), 64):
        preds += reader.run([to_rgb(im) for im in images[i : i + 64]])
    exact = float(np.mean([p.plate == t for p, t in zip(preds, texts, strict=True)]))
    chars = float(
        np.mean(
            [
                sum(a == b for a, b in zip(p.plate, t)) / max(len(t), len(p.plate))
                for p, t in zip(preds, texts, strict=True)
            ]
        )
    )
    out = {"n": len(texts), "plate_exact": round(exact, 4), "char_acc": round(chars, 4)}
    if types is not None:
        out["type_acc"] = round(float(np.mean([p.region == t for p, t in zip(preds, types, strict=True)])), 4)
    return out


def synthetic_set(plate_type: PlateType, n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng([seed, list(PlateType).index(plate_type)])
    images, texts = [], []
    for _ in range(n):
        text = random_plate_text(plate_type, rng)
        crop = degrade(render_plate(text, plate_type, rng, height=int(rng.integers(60, 160))), rng)
        images.append(crop)
        texts.append(text)
    return images, texts


def real_set(csv_name: str) -> tuple[list[np.ndarray], list[str]]:
    path = REAL_CROPS / csv_name
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [cv2.imread(str(path.parent / r["image_path"])) for r in rows], [r["plate_text"] for r in rows]


def latency_ms(reader: LicensePlateRecognizer, images: list[np.ndarray], n: int = 300) -> dict[str, float]:
    crops = [to_rgb(im) for im in images[:n]]
    for im in crops[:20]:
        reader.run_one(im)
    times = []
    for im in crops:
        t0 = time.perf_counter()
        reader.run_one(im)
        times.append((time.perf_counter() - t0) * 1e3)
    return {"median": round(float(np.median(times)), 3), "p95": round(float(np.percentile(times, 95)), 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", type=Path, default=ONNX)
    p.add_argument("--per-type", type=int, default=200)
    p.add_argument("--seed", type=int, default=777)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args()
    reader = LicensePlateRecognizer(onnx_model_path=a.onnx, plate_config_path=PLATE_CONFIG, device="cpu")
    results: dict[str, dict] = {"synthetic": {}, "real": {}}
    all_images, all_texts, all_types = [], [], []
    for t in RENDERABLE_TYPES:
        images, texts = synthetic_set(t, a.per_type, a.seed)
        model_inputs = [stitch_rows(im) for im in images] if t is PlateType.YELLOW_DOUBLE else images
        results["synthetic"][t.value] = score(reader, model_inputs, texts, [t.value] * len(texts))
        all_images += model_inputs
        all_texts += texts
        all_types += [t.value] * len(texts)
        print(f"synthetic {t.value:18s} {results['synthetic'][t.value]}", flush=True)
    results["synthetic"]["all"] = score(reader, all_images, all_texts, all_types)
    print(f"synthetic {'all':18s} {results['synthetic']['all']}", flush=True)
    for name in ("lyl8213_valid.csv", "ccpd_crops.csv"):
        images, texts = real_set(name)
        results["real"][name] = score(reader, images, texts)
        print(f"real      {name:18s} {results['real'][name]}", flush=True)
    results["latency_ms_per_crop"] = latency_ms(reader, real_set("ccpd_crops.csv")[0])
    results["onnx_mb"] = round(a.onnx.stat().st_size / 1e6, 2)
    print(
        f"latency (single crop, ms) {results['latency_ms_per_crop']}, onnx {results['onnx_mb']} MB",
        flush=True,
    )
    if a.json:
        a.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
