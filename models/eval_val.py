"""Validation figures: the whole crop reader on the sets that models and thresholds are chosen on.

    .venv/bin/python models/eval_val.py [--per-type 200] [--seed 4242] [--clipped] [--blurred] [--grey]
                                        [--misses] [--json F]
    make eval-val

`make eval` scores the test sets, which nothing may be chosen on (ccpd_heldout, the seed-777
synthetic sets) beside easypr_dev. This scores the validation sets instead: `--per-type` synthetic
crops of every renderable layout drawn as the test sets are but with the validation seed (4242),
and lyl8213_valid; with `--clipped`, lyl8213_valid again with 2-6 % of each crop's right end cut
off (`CLIP_SEED`), the clipped last characters of ccpd_heldout; with `--blurred`, lyl8213_valid
smeared by a car's motion (`BLUR_SEED`: 4-8 % of the crop's width, any direction); with `--grey`,
lyl8213_valid as an infrared night camera sees it. Every crop is read by
`PlateReader.read_crop`, as `dealergate read --ocr-only` reads it (levelling, province fusion,
grammar decoding, the second reader). To compare a candidate model, point DEALERGATE_EDGE_OCR_MODEL
or DEALERGATE_EDGE_PROVINCE_MODEL at it; DEALERGATE_EDGE_SECOND_READER=false reads with the OCR alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from eval_ocr import real_set, synthetic_set
from run_eval import SEED as TEST_SEED
from run_eval import grey, motion_blur
from train_ocr import clip_right

from dealergate.synth.plate_render import RENDERABLE_TYPES

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_SEED = 4242
CLIP_SEED = 99
"""Seed of the right-clipped copy of lyl8213_valid (one cut per crop)."""
BLUR_SEED = 98
"""Seed of the motion-blurred copy of lyl8213_valid (one length and direction per crop)."""
BLUR_SHARE = (0.04, 0.08)
"""Blur length as a share of the crop's width: a 440 mm plate moving 18-35 mm during the exposure,
a car at 4-8 km/h over 1/60 s."""

CropSet = tuple[list[np.ndarray], list[str]]


def right_clipped(images: list[np.ndarray], seed: int = CLIP_SEED) -> list[np.ndarray]:
    """Each crop with its right end cut off as the training's clipped copies are (`train_ocr.clip_right`)."""
    return [clip_right(image, np.random.default_rng([seed, i])) for i, image in enumerate(images)]


def motion_blurred(images: list[np.ndarray], seed: int = BLUR_SEED) -> list[np.ndarray]:
    """Each crop smeared along a line of `BLUR_SHARE` of its width, in a direction of its own."""
    out = []
    for i, image in enumerate(images):
        rng = np.random.default_rng([seed, i])
        length = max(3, round(image.shape[1] * rng.uniform(*BLUR_SHARE)))
        out.append(motion_blur(image, length, rng.uniform(0.0, 180.0)))
    return out


def validation_sets(
    per_type: int, seed: int = VALIDATION_SEED, clipped: bool = False, blurred: bool = False, grey_copy: bool = False
) -> dict[str, CropSet]:
    """Set name -> (BGR crops, texts): one synthetic set per layout, lyl8213_valid, and the changed
    copies of lyl8213_valid asked for (`EXTRA_SETS`)."""
    sets: dict[str, CropSet] = {t.value: synthetic_set(t, per_type, seed) for t in RENDERABLE_TYPES}
    images, texts = real_set("lyl8213_valid.csv")
    sets["lyl8213_valid"] = (images, texts)
    if clipped:
        sets["lyl8213_valid_clipped"] = (right_clipped(images), texts)
    if blurred:
        sets["lyl8213_valid_blurred"] = (motion_blurred(images), texts)
    if grey_copy:
        sets["lyl8213_valid_grey"] = ([grey(image) for image in images], texts)
    return sets


EXTRA_SETS = ("lyl8213_valid_clipped", "lyl8213_valid_blurred", "lyl8213_valid_grey")
"""Changed copies of a set already counted: reported on their own, left out of the total."""


def score(read: Callable[[np.ndarray], str], sets: dict[str, CropSet]) -> dict[str, dict[str, object]]:
    """Per set: plates read exactly, of how many, and the misses as (index, truth, read)."""
    out: dict[str, dict[str, object]] = {}
    for name, (images, texts) in sets.items():
        reads = [read(image) for image in images]
        misses = [(i, t, r) for i, (t, r) in enumerate(zip(texts, reads, strict=True)) if r != t]
        out[name] = {"right": len(texts) - len(misses), "plates": len(texts), "misses": misses}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-type", type=int, default=200, help="synthetic crops per layout")
    p.add_argument("--seed", type=int, default=VALIDATION_SEED, help=f"synthetic draw ({TEST_SEED} is the test sets': no)")
    p.add_argument("--clipped", action="store_true", help="also lyl8213_valid with its right ends cut off")
    p.add_argument("--blurred", action="store_true", help="also lyl8213_valid with motion blur")
    p.add_argument("--grey", action="store_true", help="also lyl8213_valid in grey (an infrared camera)")
    p.add_argument("--misses", action="store_true", help="list every misread crop")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args()
    if a.seed == TEST_SEED:
        sys.exit(f"种子 {TEST_SEED} 是测试集，请用验证种子 / seed {TEST_SEED} draws the synthetic test sets: choose on a validation seed")
    from edge.config import EdgeSettings
    from edge.reader import PlateReader

    settings = EdgeSettings()
    reader = PlateReader.from_settings(settings, stream=False)
    print(f"识别模型 / OCR {settings.ocr_model}, 省份分类 / province {settings.province_model or '-'}", flush=True)
    t0 = time.perf_counter()
    results = score(
        lambda image: reader.read_crop(image).read.text, validation_sets(a.per_type, a.seed, a.clipped, a.blurred, a.grey)
    )
    core = [name for name in results if name not in EXTRA_SETS]
    print(f"{'验证集 / set':24s} {'读对 / right':>12s} {'车牌 / plates':>13s}")
    for name, r in results.items():
        print(f"{name:24s} {r['right']:12d} {r['plates']:13d}")
        if a.misses:
            for i, truth, read in r["misses"]:  # type: ignore[attr-defined]
                print(f"    {i:4d} {truth} -> {read or '—'}")
    right = sum(int(results[n]["right"]) for n in core)  # type: ignore[call-overload]
    plates = sum(int(results[n]["plates"]) for n in core)  # type: ignore[call-overload]
    print(f"{'合计 / all but copies':24s} {right:12d} {plates:13d}   [{time.perf_counter() - t0:.0f} s]")
    if a.json:
        a.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
