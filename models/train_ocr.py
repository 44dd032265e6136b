"""Train dealergate's plate OCR: synthetic plates of every type + the real lyl8213 training crops.

Runs in `.venv-train` (TensorFlow/Keras live only there):

    KERAS_BACKEND=tensorflow .venv-train/bin/python models/train_ocr.py all

Steps (each is also a subcommand): `generate` writes the synthetic set and the fast-plate-ocr
annotation CSVs into models/_work/data (gitignored); `train` runs fast-plate-ocr's trainer with
best/last checkpoints; `export` turns the best checkpoint into models/ocr/dealergate_ocr.onnx.

Real crops are referenced by relative path, never copied. lyl8213_valid appears only in the
validation CSV (monitoring). ccpd_crops is split by a hash of the file name: 70 % trains (a second
camera, font and province mix), the other 30 % (`ccpd_heldout`) is never read here and is what the
model card reports. easypr_dev is never read here: it is the full-scene test set.

The real crops are nearly all 苏 / 皖 / 沪 / 浙, so `generate` also writes province-swapped copies of
them (`--province-swaps`, see dealergate.synth.province_swap): real-looking plates of all 31
provinces (drawn, most of the time, with a real province glyph cut from another crop), without
which the model reads a photographed 湘 or 粤 plate as 苏. And glyph-swapped
copies (`--glyph-swaps`, see dealergate.synth.glyph_swap): the letters and digits of the real crops
that cut cleanly into seven characters, recombined from the real plate font (look-alikes preferred),
because our rendered fonts are not that font.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from dealergate.plate_crops import stitch_rows
from dealergate.plates import PROVINCES, PlateType
from dealergate.synth.glyph_swap import GlyphBank, swap_glyphs
from dealergate.synth.plate_render import degrade, random_plate_text, render_plate
from dealergate.synth.province_swap import swap_province

if TYPE_CHECKING:
    from fast_plate_ocr import LicensePlateRecognizer

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
WORK = MODELS / "_work"
DATA = WORK / "data"
RUNS = WORK / "runs"
OCR_DIR = MODELS / "ocr"
PLATE_CONFIG = OCR_DIR / "plate_config.yaml"
MODEL_CONFIG = OCR_DIR / "model_config.yaml"
ONNX_OUT = OCR_DIR / "dealergate_ocr.onnx"
REAL_CROPS = Path(os.environ.get("DEALERGATE_LPR_CROPS", ROOT.parent / "shared" / "datasets" / "lpr_crops"))

TYPE_WEIGHTS: dict[PlateType, float] = {
    PlateType.BLUE: 30,
    PlateType.NEW_ENERGY_SMALL: 18,
    PlateType.YELLOW: 8,
    PlateType.YELLOW_DOUBLE: 12,
    PlateType.NEW_ENERGY_LARGE: 5,
    PlateType.POLICE: 5,
    PlateType.COACH: 4,
    PlateType.TRAILER: 4,
    PlateType.HK_MACAO: 4,
    PlateType.EMBASSY: 3,
    PlateType.CONSULATE: 3,
    PlateType.EMERGENCY: 4,
}
"""Share of each layout in the synthetic set: what a dealership gate sees, with every rare layout
still common enough (>= 3 %) for its special characters to be learnt."""

_BUSY = "苏浙沪皖粤京鲁豫川冀湘鄂闽赣"
PROVINCE_WEIGHTS = np.array([3.0 if p in _BUSY else 1.0 for p in PROVINCES])
PROVINCE_WEIGHTS /= PROVINCE_WEIGHTS.sum()
"""Busy eastern/central provinces 3x, every one of the 31 still present. (Drawing all 31 equally
often, for 7 epochs from v13, did not mend the rare-province misreads of the synthetic sets:
models/README.md, "v14".)"""


REAL_FONT_SHARE = 0.5
"""Share of synthetic plates drawn in the real plate font: every character that the bank of real
glyphs (`real_font_bank`) holds — all letters and digits, 20 provinces — is drawn from it instead of
a font. The installed fonts are not GA 36's, and the real crops alone show its letters in only one
layout and a handful of contexts; the remaining misreads on photographs are that font's look-alikes
(M/H, 1/T, Q/0/D, G/6)."""


@functools.cache
def real_font_bank() -> GlyphBank | None:
    """Letters, digits and province characters cut from the real training crops (never the held-out
    ones), built once per process; None when the real crops are not at hand (then only fonts draw).

    A letter or digit stays in the bank only where the shipped OCR reads it as its label when it
    stands alone in a clean rendered plate (`_reads_as_labelled`): a cut one character off, or a
    wrong label in the real sets, would otherwise be drawn into thousands of plates — and be mined
    as "hard" twice over. For v15 that drops 73 of 4,426 glyphs (1.6 %; most often a 7 cut as 1)."""
    try:
        rows = real_rows("lyl8213_train.csv", DATA) + real_rows("ccpd_crops.csv", DATA, heldout=False)
    except FileNotFoundError:
        return None
    bank = GlyphBank()
    for crop, (_rel, text, _region) in zip(read_crops(rows), rows, strict=True):
        if crop is not None:
            bank.add(crop, text)
            bank.add_province(crop, text)
    if ONNX_OUT.is_file():
        for char, pool in bank.glyphs.items():
            if char not in PROVINCES:
                bank.glyphs[char] = [g for g, ok in zip(pool, _reads_as_labelled(char, pool), strict=True) if ok]
    return bank


def _reads_as_labelled(char: str, glyphs: list[np.ndarray]) -> list[bool]:
    """Whether the shipped OCR reads each glyph as `char` in the third place of a clean blue plate
    (京A, the glyph, four rendered digits)."""
    text = "京A" + char + "".join([d for d in "2345678" if d != char][:4])
    plates = [
        cv2.cvtColor(render_plate(text, PlateType.BLUE, height=96, glyphs=lambda c, g=g: g if c == char else None), cv2.COLOR_BGR2RGB)
        for g in glyphs
    ]
    preds = _miner(ONNX_OUT).run(plates) if plates else []
    return [len(p.plate) > 2 and p.plate[2] == char for p in preds]


def synth_sample(seed: int, index: int, only: tuple[PlateType, ...] = ()) -> tuple[np.ndarray, str, PlateType]:
    """One degraded synthetic crop; seeded by (seed, index) so worker count never changes the data.
    `only` keeps the draw to those layouts, in their `TYPE_WEIGHTS` proportions (a specialist's data)."""
    rng = np.random.default_rng([seed, index])
    types = [t for t in TYPE_WEIGHTS if not only or t in only]
    weights = np.array([TYPE_WEIGHTS[t] for t in types])
    plate_type = types[rng.choice(len(types), p=weights / weights.sum())]
    province = PROVINCES[rng.choice(len(PROVINCES), p=PROVINCE_WEIGHTS)]
    text = random_plate_text(plate_type, rng, province=province)
    height = int(rng.integers(60, 160))
    bank = real_font_bank() if rng.random() < REAL_FONT_SHARE else None
    glyphs = (lambda char: bank.glyph(char, rng)) if bank is not None else None
    crop = degrade(render_plate(text, plate_type, rng, height=height, glyphs=glyphs), rng)
    if plate_type is PlateType.YELLOW_DOUBLE:
        crop = stitch_rows(crop)  # the edge reads double-row plates stitched into one row
    return crop, text, plate_type


def _write_chunk(args: tuple[Path, int, tuple[PlateType, ...], int, int]) -> list[tuple[str, str, str]]:
    out_dir, seed, only, start, stop = args
    rows = []
    for i in range(start, stop):
        img, text, plate_type = synth_sample(seed, i, only)
        name = f"{i:06d}.jpg"
        cv2.imwrite(str(out_dir / name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        rows.append((f"{out_dir.name}/{name}", text, plate_type.value))
    return rows


def renderer_digest() -> str:
    """A short hash of the code that draws synthetic plates: a changed renderer invalidates a cache."""
    sources = (ROOT / "dealergate" / "synth" / "plate_render.py", ROOT / "dealergate" / "plates.py")
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]


def generator_digest(only: tuple[PlateType, ...] = ()) -> str:
    """The renderer's digest and the training set's type and province mix: either changed, the
    training set is redrawn."""
    weights = sorted((t.value, w) for t, w in TYPE_WEIGHTS.items() if not only or t in only)
    mix = repr((weights, REAL_FONT_SHARE)).encode()
    mix += PROVINCE_WEIGHTS.tobytes()
    if REAL_FONT_SHARE and ONNX_OUT.is_file():
        mix += ONNX_OUT.read_bytes()  # it checks the real-font glyphs (`real_font_bank`)
    return hashlib.sha256(renderer_digest().encode() + mix).hexdigest()[:12]


Row = tuple[str, str, str]
"""(image path relative to the data folder, plate text, plate type): one training CSV row."""


def _written_in_chunks(
    out_dir: Path, key: str, write_chunk: Callable[[tuple], list[Row]], n: int, args: tuple, workers: int
) -> list[Row]:
    """The rows of a generated set, made by `write_chunk((out_dir, *args, start, stop))` over chunks of
    `range(n)` on `workers` processes, or read back from the stamp named by `key` when a set with the
    same key was written before (every sample is seeded by its index: the same key is the same data).
    A set with another key replaces the folder's contents, old stamp and images."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = out_dir / f".done-{key}.csv"
    if stamp.is_file():
        with stamp.open(encoding="utf-8") as f:
            return [tuple(row) for row in csv.reader(f)]  # type: ignore[misc]
    for old in out_dir.iterdir():
        old.unlink()
    step = 500
    chunks = [(out_dir, *args, s, min(s + step, n)) for s in range(0, n, step)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = [row for rows in pool.map(write_chunk, chunks) for row in rows]
    else:
        rows = [row for chunk in chunks for row in write_chunk(chunk)]
    with stamp.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return rows


def write_synthetic(out_dir: Path, n: int, seed: int, workers: int, only: tuple[PlateType, ...] = ()) -> list[Row]:
    """The synthetic set; a set already written with the same seed, size and generator code is reused."""
    key = f"{seed}-{n}-{generator_digest(only)}"
    return _written_in_chunks(out_dir, key, _write_chunk, n, (seed, only), workers)


HARD_BELOW = 0.8
"""A mined synthetic crop is hard when the miner misreads it or is less sure than this of one of its
characters (the edge refines reads under 0.8 and trusts reads from 0.7)."""
HARD_SEED_OFFSET = 3000
"""Mined pools are drawn with `--seed` + this: apart from the training (1234/1235) and test (777) draws."""

_miners: dict[Path, LicensePlateRecognizer] = {}


def _miner(model: Path) -> LicensePlateRecognizer:
    """One single-threaded onnxruntime reader per worker process (workers run side by side)."""
    if model not in _miners:
        import onnxruntime as ort
        from fast_plate_ocr import LicensePlateRecognizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        _miners[model] = LicensePlateRecognizer(
            onnx_model_path=model, plate_config_path=PLATE_CONFIG, device="cpu", sess_options=options
        )
    return _miners[model]


def is_hard(read: str, char_probs: np.ndarray, text: str) -> bool:
    """Whether a crop labelled `text`, read as `read` with these per-slot probabilities, is worth a
    fine-tune's time: misread (however surely), or read with a character under `HARD_BELOW`."""
    return read != text or float(np.min(char_probs[: len(text)])) < HARD_BELOW


def _mine_chunk(args: tuple[Path, Path, int, tuple[PlateType, ...], int, int]) -> list[Row]:
    out_dir, model, seed, only, start, stop = args
    samples = [synth_sample(seed, i, only) for i in range(start, stop)]
    preds = _miner(model).run(
        [cv2.cvtColor(img, cv2.COLOR_BGR2RGB) for img, _text, _type in samples], return_confidence=True
    )
    rows = []
    for i, (img, text, plate_type), pred in zip(range(start, stop), samples, preds, strict=True):
        if is_hard(pred.plate, pred.char_probs, text):
            name = f"{i:07d}.jpg"
            cv2.imwrite(str(out_dir / name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            rows.append((f"{out_dir.name}/{name}", text, plate_type.value))
    return rows


def write_hard_synthetic(
    pool: int, seed: int, model: Path, workers: int, only: tuple[PlateType, ...] = ()
) -> list[Row]:
    """The synthetic crops, out of a fresh pool of `pool`, that `model` misreads or reads unsurely
    (`HARD_BELOW`): a fine-tune spends its epochs on what the model does not know yet (mostly
    provinces and look-alikes on small, blurred plates) instead of the ~90 % it already reads surely.
    Cached like `write_synthetic`, keyed also by the miner's bytes."""
    miner = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    key = f"{seed}-{pool}-{generator_digest(only)}-{miner}"
    rows = _written_in_chunks(DATA / "synth_hard", key, _mine_chunk, pool, (model, seed, only), workers)
    by_type = Counter(region for _rel, _text, region in rows)
    print(f"hard examples: {len(rows)} of {pool} ({len(rows) / pool:.1%}) by type {dict(by_type)}", flush=True)
    return rows


REAL_PROVINCE_SHARE = 0.6
"""Share of province swaps drawing a real province glyph cut from another crop (when the real crops
hold that province at all) instead of a font's rendering."""


def read_crops(rows: list[tuple[str, str, str]]) -> list[np.ndarray | None]:
    """The real crops' pixels, read once for both kinds of swap (None where a file does not decode)."""
    return [cv2.imread(str(DATA / rel)) for rel, _text, _region in rows]


def province_swaps(
    rows: list[tuple[str, str, str]], crops: list[np.ndarray | None], per_crop: int, seed: int
) -> Iterator[tuple[int, int, np.ndarray, str, str]]:
    """(crop index, copy index, image, text, plate type) for up to `per_crop` copies of each real
    single-row crop with its province replaced by a random one of the 31
    (`dealergate.synth.province_swap`): real-looking plates of every province, so that a model stops
    reading every photographed plate as one of the four provinces the real sets hold.
    The new province is drawn, `REAL_PROVINCE_SHARE` of the time, with a real glyph of it from
    another crop (20 provinces have one): the plate font's own shape, where a rendered font taught
    the model that only 苏 皖 沪 浙 look like a photographed plate. Crops whose first character is not
    found cleanly are skipped."""
    bank = GlyphBank()
    banked = sum(bank.add_province(crop, row[1]) for crop, row in zip(crops, rows, strict=True) if crop is not None)
    kinds = "".join(p for p in PROVINCES if bank.glyphs.get(p))
    print(f"province swaps: {banked} real province glyphs of {len(kinds)} provinces ({kinds})", flush=True)
    for i, (crop, (_rel, text, region)) in enumerate(zip(crops, rows, strict=True)):
        if crop is None or len(text) != 7 or text[0] not in PROVINCES:
            continue
        rng = np.random.default_rng([seed, i])
        for k in range(per_crop):
            province = PROVINCES[rng.integers(len(PROVINCES))]
            glyph = bank.glyph(province, rng) if rng.random() < REAL_PROVINCE_SHARE else None
            swapped = swap_province(crop, rng, province, glyph=glyph)
            if swapped is None:
                break  # the first character was not found: no copy of this crop can be made
            image, province = swapped
            yield i, k, image, province + text[1:], region


def write_province_swaps(
    rows: list[tuple[str, str, str]], crops: list[np.ndarray | None], per_crop: int, seed: int
) -> list[tuple[str, str, str]]:
    """The `province_swaps` of the real training crops, written as JPEGs for the OCR's trainer."""
    out_dir = DATA / "real_swap"
    out_dir.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, str, str]] = []
    for i, k, image, text, region in province_swaps(rows, crops, per_crop, seed):
        name = f"{i:05d}_{k}.jpg"
        cv2.imwrite(str(out_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        out.append((f"{out_dir.name}/{name}", text, region))
    return out


def write_glyph_swaps(
    rows: list[tuple[str, str, str]], crops: list[np.ndarray | None], per_crop: int, seed: int
) -> list[tuple[str, str, str]]:
    """`per_crop` copies of each real single-row crop that cuts cleanly into seven characters, two of
    its letters or digits redrawn with real glyphs of other crops (`dealergate.synth.glyph_swap`)."""
    out_dir = DATA / "real_glyph"
    out_dir.mkdir(parents=True, exist_ok=True)
    bank = GlyphBank()
    usable = [
        (i, crop, text, region)
        for i, (crop, (_rel, text, region)) in enumerate(zip(crops, rows, strict=True))
        if crop is not None and bank.add(crop, text)
    ]
    out: list[tuple[str, str, str]] = []
    for i, crop, text, region in usable:
        rng = np.random.default_rng([seed, i, 7])
        for k in range(per_crop):
            swapped = swap_glyphs(crop, text, bank, rng)
            if swapped is None:
                continue  # an erased character left a trace: this copy is not made
            image, new_text = swapped
            name = f"{i:05d}_{k}.jpg"
            cv2.imwrite(str(out_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            out.append((f"{out_dir.name}/{name}", new_text, region))
    print(f"glyph swaps: {len(usable)} of {len(rows)} real crops cut into seven characters", flush=True)
    return out


RIGHT_CLIP = (0.02, 0.06)
"""Share of a crop's width cut off its right end by `write_right_clips`: the real crops are cut
tight, so this takes a third to a half of the last character's cell and leaves its left part."""


def clip_right(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`crop` with `RIGHT_CLIP` of its width (at least one column) cut off its right end."""
    width = crop.shape[1]
    return crop[:, : width - max(1, round(width * rng.uniform(*RIGHT_CLIP)))]


def write_right_clips(rows: list[tuple[str, str, str]], per_crop: int, seed: int) -> list[tuple[str, str, str]]:
    """`per_crop` copies of each crop of `rows` (paths relative to DATA) with its right end cut off
    (`RIGHT_CLIP`), label kept.

    A detector's box often ends inside the last character (ccpd_heldout: a clipped K read 6, L read
    1, 2 read M), while our synthetic crops are clipped by at most 3 % a side and the real ones not
    at all: the model never saw half a last character. The generator clips the province swaps, not
    the real crops themselves: those are half 皖, and 4,371 clipped copies of them (v20) taught the
    model to read an unclear province as 皖 again."""
    out_dir = DATA / "real_clip"
    out_dir.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, str, str]] = []
    for i, (rel, text, region) in enumerate(rows):
        crop = cv2.imread(str(DATA / rel))
        if crop is None:
            continue
        rng = np.random.default_rng([seed, i, 11])
        for k in range(per_crop):
            name = f"{i:05d}_{k}.jpg"
            cv2.imwrite(str(out_dir / name), clip_right(crop, rng), [cv2.IMWRITE_JPEG_QUALITY, 95])
            out.append((f"{out_dir.name}/{name}", text, region))
    return out


def real_plate_type(image: Path) -> PlateType:
    """Blue or yellow from the median hue of saturated pixels: the real sets only hold those two."""
    hsv = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2HSV)
    hue = hsv[..., 0][hsv[..., 1] > 60]
    return (
        PlateType.YELLOW if hue.size and np.median(hue) < 40 else PlateType.BLUE
    )  # yellow ~15-35, blue ~110


CCPD_TRAIN_SHARE = 0.7


def is_ccpd_heldout(image_path: str) -> bool:
    """The fixed 30 % of ccpd_crops never trained on: decided by the file name's hash, so the split
    is the same on every machine and does not depend on the CSV's order."""
    digest = hashlib.sha1(Path(image_path).name.encode("utf-8")).digest()
    return digest[0] / 256.0 >= CCPD_TRAIN_SHARE


def real_rows(csv_name: str, relative_to: Path, heldout: bool | None = None) -> list[tuple[str, str, str]]:
    """Rows of a real crop CSV with image paths relative to `relative_to` (the trainer's convention).

    `heldout` filters by `is_ccpd_heldout` (True: only held-out rows, False: only training rows).
    """
    src = REAL_CROPS / csv_name
    with src.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if heldout is not None:
        rows = [r for r in rows if is_ccpd_heldout(r["image_path"]) == heldout]
    out = []
    for r in rows:
        image = (src.parent / r["image_path"]).resolve()
        rel = os.path.relpath(image, relative_to.resolve())
        out.append((rel, r["plate_text"], real_plate_type(image).value))
    return out


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image_path", "plate_text", "plate_region"])
        w.writerows(rows)


def cmd_generate(a: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    DATA.mkdir(parents=True, exist_ok=True)
    if REAL_FONT_SHARE and real_font_bank() is None:
        sys.exit(f"the real crops are missing under {REAL_CROPS}: they train the model and draw its real-font plates")
    only = tuple(a.types)
    train = write_synthetic(DATA / "synth_train", a.n_train, a.seed, a.workers, only)
    val = write_synthetic(DATA / "synth_val", a.n_val, a.seed + 1, a.workers, only)
    real_train = real_rows("lyl8213_train.csv", DATA) + real_rows("ccpd_crops.csv", DATA, heldout=False)
    # a specialist of other layouts than the real crops' (blue, yellow) is not judged on them
    real_val = real_rows("lyl8213_valid.csv", DATA) if a.real_oversample or not only else []
    crops = read_crops(real_train) if a.province_swaps or a.glyph_swaps else []
    swaps = write_province_swaps(real_train, crops, a.province_swaps, a.seed) if a.province_swaps else []
    glyphs = write_glyph_swaps(real_train, crops, a.glyph_swaps, a.seed) if a.glyph_swaps else []
    clips = write_right_clips(swaps, a.right_clips, a.seed) if a.right_clips else []
    hard = (
        write_hard_synthetic(a.hard_pool, a.seed + HARD_SEED_OFFSET, a.hard_model, a.workers, only)
        if a.hard_pool
        else []
    )
    write_csv(
        DATA / "train.csv", train + real_train * a.real_oversample + swaps + glyphs + clips + hard * a.hard_repeat
    )
    write_csv(DATA / "val.csv", val + real_val)
    print(
        f"generated {len(train)} train + {len(val)} val synthetic, "
        f"{len(real_train)} real x{a.real_oversample}, {len(swaps)} province swaps, {len(glyphs)} glyph swaps, "
        f"{len(clips)} right-clipped, "
        f"{len(hard)} hard x{a.hard_repeat} "
        f"in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def _fpo(args: list[str]) -> None:
    """Run a fast-plate-ocr CLI command in this process (its click group lives in the train extra)."""
    from fast_plate_ocr.cli.cli import main_cli

    main_cli.main(args=args, prog_name="fast-plate-ocr", standalone_mode=False)


def latest_run(parent: Path = RUNS) -> Path:
    runs = sorted(p for p in parent.glob("*") if (p / "best.keras").is_file())
    if not runs:
        raise FileNotFoundError(f"no trained run with best.keras under {parent}")
    return runs[-1]


def _jit_on_jax() -> None:
    """Make fast-plate-ocr's trainer compile its step with XLA when Keras runs on JAX.

    The trainer calls `model.compile(jit_compile=False)`. TensorFlow then still builds a graph, but
    JAX runs op by op: 6 s a step on an H100. Compiled, an epoch took 12 s there.
    """
    if os.environ.get("KERAS_BACKEND") != "jax":
        return
    import keras

    compile_model = keras.Model.compile

    def compile_jit(self: keras.Model, *args: object, **kwargs: object) -> None:
        kwargs["jit_compile"] = True
        compile_model(self, *args, **kwargs)

    keras.Model.compile = compile_jit


MOTION_BLUR_PX = (3, 9)
"""Kernel lengths (odd, in the 160 px wide model input) of `gate_augmentation`'s motion blur: up
to 5.6 % of a plate's width, what a car at about 5 km/h leaves in a 1/60 s exposure. The
trainer's default blur (3 px, 15 % of crops: 1.9 %) and `degrade`'s (2-4 px across on 70-200 px
crops) stop at about 3 %; on
easypr_dev blurred horizontally by 5 px (4.6 % of a median plate) v18 read 0.68 of the plates."""


def gate_augmentation() -> Path:
    """fast-plate-ocr's default RGB augmentation with a stronger blur step (`MOTION_BLUR_PX`, any
    direction, defocus up to sigma 1) and more grey crops (infrared night cameras), written where
    the trainer's `--augmentation-path` reads it."""
    import albumentations as A
    from fast_plate_ocr.train.data.augmentation import default_train_augmentation

    steps = list(default_train_augmentation("rgb").transforms)
    replaced = set()
    for i, step in enumerate(steps):
        if isinstance(step, A.ToGray):
            steps[i] = A.ToGray(p=0.1)
            replaced.add("grey")
        elif isinstance(step, A.OneOf) and any(isinstance(t, A.MotionBlur) for t in step.transforms):
            replaced.add("blur")
            steps[i] = A.OneOf(
                [
                    A.GaussianBlur(sigma_limit=(0.2, 1.0), p=0.4),
                    A.MotionBlur(blur_limit=MOTION_BLUR_PX, angle_range=(0, 360), p=0.6),
                ],
                p=0.3,
            )
    if replaced != {"grey", "blur"}:  # a fast-plate-ocr whose default pipeline changed: say so, train nothing
        raise RuntimeError(f"fast-plate-ocr's default augmentation has no {'/'.join({'grey', 'blur'} - replaced)} step to strengthen")
    path = WORK / "gate_augmentation.yaml"
    WORK.mkdir(parents=True, exist_ok=True)
    A.save(A.Compose(steps), str(path), data_format="yaml")
    return path


def cmd_train(a: argparse.Namespace) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    _jit_on_jax()
    args = [
        "train",
        "--model-config-file",
        str(a.model_config),
        "--plate-config-file",
        str(PLATE_CONFIG),
        "--annotations",
        str(DATA / "train.csv"),
        "--val-annotations",
        str(DATA / "val.csv"),
        "--output-dir",
        str(a.output_dir),
        "--epochs",
        str(a.epochs),
        "--batch-size",
        str(a.batch_size),
        "--lr",
        str(a.lr),
        "--workers",
        str(a.workers),
        "--use-multiprocessing" if a.use_multiprocessing else "--no-use-multiprocessing",
        "--early-stopping-metric",
        "val_plate_acc",
        "--seed",
        str(a.seed),
    ]
    if a.weights:
        args += ["--weights-path", str(a.weights)]
    if a.gate_augmentation:
        args += ["--augmentation-path", str(gate_augmentation())]
    _fpo(args)


def cmd_export(a: argparse.Namespace) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    run = Path(a.run) if a.run else latest_run()
    _fpo(
        [
            "export",
            "-m",
            str(run / "best.keras"),
            "-f",
            "onnx",
            "--plate-config-file",
            str(PLATE_CONFIG),
            "--save-dir",
            str(run),
        ]
    )
    shutil.copyfile(run / "best.onnx", a.out)
    print(f"exported {run / 'best.keras'} -> {a.out} ({a.out.stat().st_size / 1e6:.2f} MB)", flush=True)


BLOCK_PREFIX = "transformer_block_"
"""fast-plate-ocr's name for the CCT's transformer blocks, numbered from 1."""


def block_sources(layer_names: list[str], keep: list[int]) -> dict[str, str]:
    """For each layer of a shallower CCT, the layer of the deeper one whose weights it takes: every
    layer its namesake, except that transformer block i takes block `keep[i - 1]`.

    Raises ValueError where `keep` does not name one source block per block of the shallower model."""
    blocks = [n for n in layer_names if n.startswith(BLOCK_PREFIX)]
    if len(blocks) != len(keep):
        raise ValueError(f"{len(blocks)} transformer blocks to fill, {len(keep)} kept: {keep}")
    if len(set(keep)) != len(keep) or min(keep, default=1) < 1:
        raise ValueError(f"kept blocks must be distinct and counted from 1: {keep}")
    sources = {name: name for name in layer_names}
    for name in blocks:
        sources[name] = f"{BLOCK_PREFIX}{keep[int(name.removeprefix(BLOCK_PREFIX)) - 1]}"
    return sources


def cmd_prune(a: argparse.Namespace) -> None:
    """Write a shallower copy of a trained checkpoint: the model of `--model-config` (fewer
    transformer blocks) with the stem, heads and the `--keep` blocks' weights of `--weights`.

    Why: a CCT trained with stochastic depth reads nearly as well without its last blocks (v18 with
    its first two of four: 2,469 of the 2,550 validation plates against 2,473), and each block costs
    about 0.1 ms a crop on the gate box. But the photographs need the depth: neither four epochs of
    training nor three of distillation from v18 brought easypr_dev back (models/README.md), so nothing
    shipped is pruned; this is the starting point for a longer round."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    from fast_plate_ocr.train.model.config import load_plate_config_from_yaml
    from fast_plate_ocr.train.model.model_builders import build_model
    from fast_plate_ocr.train.model.model_schema import load_model_config_from_yaml

    # built first: Keras numbers the builder's auto-named layers (`mlp`, `mlp_1`) per process, while
    # a loaded model keeps the names it was saved with
    shallow = build_model(
        load_model_config_from_yaml(a.model_config), load_plate_config_from_yaml(PLATE_CONFIG), enable_region_head=True
    )
    deep = keras.models.load_model(a.weights, compile=False, safe_mode=False)
    by_name = {layer.name: layer for layer in deep.layers}
    weighted = [layer for layer in shallow.layers if layer.weights]
    sources = block_sources([layer.name for layer in weighted], a.keep)
    missing = sorted({src for src in sources.values() if src not in by_name})
    if missing:
        raise ValueError(f"{a.weights} has no layer {', '.join(missing)}")
    for layer in weighted:
        layer.set_weights(by_name[sources[layer.name]].get_weights())  # ValueError on a shape mismatch
    a.out.parent.mkdir(parents=True, exist_ok=True)
    shallow.save(a.out)
    deep_blocks = sum(layer.name.startswith(BLOCK_PREFIX) for layer in deep.layers)
    kept = ", ".join(str(k) for k in a.keep)
    print(f"pruned {a.weights} -> {a.out}: blocks {kept} of {deep_blocks} kept", flush=True)


def mixed_weights(first: list[np.ndarray], second: list[np.ndarray], share: float) -> list[np.ndarray]:
    """Each tensor `(1 - share) * first + share * second`: the weights of two checkpoints of one
    lineage (the second fine-tuned from the first) averaged. Raises ValueError where they differ in shape."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1: {share}")
    if len(first) != len(second) or any(x.shape != y.shape for x, y in zip(first, second, strict=True)):
        raise ValueError("the two checkpoints are not the same network")
    return [(1.0 - share) * x + share * y for x, y in zip(first, second, strict=True)]


def cmd_soup(a: argparse.Namespace) -> None:
    """Write the average of two checkpoints' weights (`mixed_weights`) as a new checkpoint.

    Why: v22, fine-tuned from v18 with `--gate-augmentation`, read motion-blurred plates better but
    lost some of v18's confidence on sharp photographs (a 64 px plate of easypr_dev fell under the
    keep threshold); their half-and-half average kept v18's reads and most of v22's (models/README.md)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import fast_plate_ocr.train.model.layers  # noqa: F401  (registers the CCT's layers for loading)
    import keras

    first = keras.models.load_model(a.weights[0], compile=False, safe_mode=False)
    second = keras.models.load_model(a.weights[1], compile=False, safe_mode=False)
    first.set_weights(mixed_weights(first.get_weights(), second.get_weights(), a.share))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    first.save(a.out)
    print(f"{1 - a.share:g} x {a.weights[0]} + {a.share:g} x {a.weights[1]} -> {a.out}", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--n-train", type=int, default=36000)
    gen.add_argument("--n-val", type=int, default=1200)
    gen.add_argument("--real-oversample", type=int, default=8)
    gen.add_argument("--province-swaps", type=int, default=5, help="province-swapped copies per real crop")
    gen.add_argument(
        "--glyph-swaps", type=int, default=8, help="glyph-swapped copies per real crop that cuts cleanly"
    )
    gen.add_argument(
        "--right-clips", type=int, default=0, help="copies of each province swap with its right end cut off (0: none)"
    )
    gen.add_argument("--seed", type=int, default=1234)
    gen.add_argument(
        "--hard-pool", type=int, default=0, help="mine hard synthetic crops out of a pool this large (0: off)"
    )
    gen.add_argument("--hard-repeat", type=int, default=2, help="copies of each hard crop in the training set")
    gen.add_argument("--hard-model", type=Path, default=ONNX_OUT, help="the ONNX model that mines (the shipped one)")
    gen.add_argument("--workers", type=int, default=2)
    gen.add_argument(
        "--types",
        type=lambda s: [PlateType(t) for t in s.split(",")],
        default=[],
        help="draw only these layouts, comma-separated (a specialist: new_energy_small,new_energy_large)",
    )
    tr = argparse.ArgumentParser(add_help=False)
    tr.add_argument("--epochs", type=int, default=14)
    tr.add_argument("--batch-size", type=int, default=64)
    tr.add_argument("--lr", type=float, default=2e-3)
    tr.add_argument("--weights", type=Path, default=None, help="warm start from a .keras/.weights.h5")
    tr.add_argument("--model-config", type=Path, default=MODEL_CONFIG, help="fast-plate-ocr model config")
    tr.add_argument("--output-dir", type=Path, default=RUNS, help="parent folder of the timestamped run")
    tr.add_argument(
        "--gate-augmentation",
        action="store_true",
        help="the trainer's augmentation with stronger motion blur and more grey crops (gate_augmentation)",
    )
    tr.add_argument(
        "--use-multiprocessing",
        action="store_true",
        help="load batches in worker processes, not threads (many cores: a GPU machine)",
    )
    ex = argparse.ArgumentParser(add_help=False)
    ex.add_argument("--run", type=Path, default=None, help="run folder (default: the latest)")
    ex.add_argument("--out", type=Path, default=ONNX_OUT, help="where the ONNX goes (default: the shipped OCR)")
    pr = sub.add_parser("prune", help="a shallower copy of a checkpoint (fewer transformer blocks)")
    pr.add_argument("--weights", type=Path, required=True, help="the trained .keras to prune")
    pr.add_argument(
        "--keep", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2], help="blocks kept, from 1"
    )
    pr.add_argument("--model-config", type=Path, default=MODEL_CONFIG, help="the shallower model's config")
    pr.add_argument("--out", type=Path, default=WORK / "pruned.keras")
    pr.set_defaults(func=cmd_prune)
    so = sub.add_parser("soup", help="the average of two checkpoints of one lineage")
    so.add_argument("--weights", type=Path, nargs=2, required=True, help="the first and the second .keras")
    so.add_argument("--share", type=float, default=0.5, help="the second checkpoint's share of each weight")
    so.add_argument("--out", type=Path, default=RUNS / "soup" / "best.keras", help="export it with export --run")
    so.set_defaults(func=cmd_soup)
    sub.add_parser("generate", parents=[gen]).set_defaults(func=cmd_generate)
    sub.add_parser("train", parents=[tr, gen]).set_defaults(func=cmd_train)
    sub.add_parser("export", parents=[ex]).set_defaults(func=cmd_export)
    sub.add_parser("all", parents=[gen, tr, ex]).set_defaults(func=None)
    a = p.parse_args(argv)
    if a.func is not None:
        a.func(a)
        return
    cmd_generate(a)
    cmd_train(a)
    a.run = latest_run(a.output_dir)
    cmd_export(a)


if __name__ == "__main__":
    sys.exit(main())
