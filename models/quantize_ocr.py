"""The shipped OCR in 8-bit integers: the float model's Conv and MatMul layers quantised.

Runs in `.venv-train` (it needs the `onnx` package, which the gate box does not):

    .venv-train/bin/python models/quantize_ocr.py        (make quantize-ocr)

Why: on the gate box's x86 cores (AVX-512 VNNI here; AVX2 and ARM dot-product kernels elsewhere)
onnxruntime runs int8 convolutions far faster than float ones, and the OCR's five tokenizer
convolutions are most of its work. Static quantisation (QDQ format): weights per output channel,
activations per tensor with ranges measured on calibration crops (`CALIBRATION_PERCENTILE`).

Calibration crops are training data only: a fixed draw of the real training crops (lyl8213_train
and the training 70 % of ccpd_crops) and synthetic plates of every layout drawn with a seed of
their own; never a validation or test set. Each crop is prepared exactly as
`edge.recognize.FastPlateRecognizer` prepares it (double-row crops also stitched), so the ranges
are those the edge meets. The result is deterministic for a given float model and onnxruntime.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from fast_plate_ocr.inference.config import PlateConfig
from train_ocr import ONNX_OUT, PLATE_CONFIG, REAL_CROPS, real_rows

from dealergate.plate_crops import maybe_double_row, stitch_rows
from dealergate.synth.plate_render import RENDERABLE_TYPES, degrade, random_plate_text, render_plate
from edge.recognize import ocr_input

INT8_OUT = ONNX_OUT.with_name("dealergate_ocr_int8.onnx")
CALIBRATION_SEED = 5150
"""Seed of the calibration draw (real crops chosen, synthetic plates rendered): apart from the
training seeds and from the validation (4242) and test (777) seeds."""
REAL_CROPS_USED = 1500
"""At most this many real training crops: all 1,457 of them today."""
SYNTHETIC_PER_LAYOUT = 40
CALIBRATION_PERCENTILE = 99.999
"""Activation ranges cover this share of the calibration values: plain min/max let a few outliers
set the range, and the validation reads moved by up to 11 plates with the calibration draw
(2,465-2,476 of 2,550); with the percentile and all the real crops, 2,472-2,473 (float: 2,475)."""
REDUCE_RANGE = True
"""7-bit weights (-64..63): x86 cores without VNNI (AVX2, AVX-512 before Cascade Lake, SSE4.1) multiply
uint8 by int8 in pairs summed into 16 bits (VPMADDUBSW), which saturates when 8-bit weights meet large
activations; a gate box may well be such a core. On the validation sets it read 2,477 of the 2,550
plates against 2,475 with 8-bit weights."""
QUANTISED_OPS = ["Conv", "MatMul"]
"""The tokenizer's convolutions and the transformer's matrix products; on the first calibration draw
Conv alone read 2,471 of the 2,550 validation plates, Conv and MatMul 2,476 (float: 2,475)."""


def calibration_crops(seed: int = CALIBRATION_SEED) -> list[np.ndarray]:
    """BGR crops: real training crops and synthetic plates of every renderable layout."""
    rng = np.random.default_rng(seed)
    rows = real_rows("lyl8213_train.csv", REAL_CROPS) + real_rows("ccpd_crops.csv", REAL_CROPS, heldout=False)
    chosen = rng.choice(len(rows), size=min(REAL_CROPS_USED, len(rows)), replace=False)
    crops = []
    for i in sorted(chosen):
        image = cv2.imread(str(REAL_CROPS / rows[i][0]))
        if image is None:
            raise SystemExit(f"无法读取 / cannot read calibration crop {REAL_CROPS / rows[i][0]}")
        crops.append(image)
    for plate_type in RENDERABLE_TYPES:
        for _ in range(SYNTHETIC_PER_LAYOUT):
            text = random_plate_text(plate_type, rng)
            crops.append(degrade(render_plate(text, plate_type, rng, height=int(rng.integers(60, 160))), rng))
    return crops


def model_inputs(crops: list[np.ndarray], cfg: PlateConfig) -> list[np.ndarray]:
    """The OCR inputs the edge would make of `crops`, one batch of one each."""
    inputs = []
    for crop in crops:
        inputs.append(ocr_input(crop, cfg)[None])
        if maybe_double_row(crop):
            inputs.append(ocr_input(stitch_rows(crop), cfg)[None])
    return inputs


def quantise(source: Path, target: Path, inputs: list[np.ndarray]) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feed(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[np.ndarray] = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {"input": batch}

    prepared = target.with_suffix(".pre.onnx")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    try:
        quantize_static(
            str(prepared),
            str(target),
            Feed(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=QUANTISED_OPS,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile,
            reduce_range=REDUCE_RANGE,
            extra_options={"CalibPercentile": CALIBRATION_PERCENTILE},
        )
    finally:
        prepared.unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, default=ONNX_OUT, help="the float OCR model")
    p.add_argument("--out", type=Path, default=INT8_OUT, help="where the int8 model goes")
    a = p.parse_args()
    cfg = PlateConfig.from_yaml(PLATE_CONFIG)
    inputs = model_inputs(calibration_crops(), cfg)
    print(f"校准 / calibrating on {len(inputs)} inputs", file=sys.stderr)
    quantise(a.source, a.out, inputs)
    digest = hashlib.sha256(a.out.read_bytes()).hexdigest()
    print(f"{a.out}  {a.out.stat().st_size:,} bytes  sha256 {digest}")


if __name__ == "__main__":
    main()
