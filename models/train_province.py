"""Train the province classifier (`edge/province.py`): a second opinion on a plate's first character.

Runs in `.venv-train` (TensorFlow/Keras live only there):

    KERAS_BACKEND=tensorflow .venv-train/bin/python models/train_province.py all

Steps (each also a subcommand): `data` draws the training and validation windows into
models/_work/province (gitignored, reused while the renderer and the mix are unchanged); `train`
fits the small CNN below; `export` writes models/ocr/province.onnx (tf2onnx, uint8 input).

The data are the OCR's own sources, cut to what the classifier sees — the left `WINDOW_WIDTH`
columns of the OCR input (`edge.recognize.ocr_input`):

- synthetic plates of every layout (`train_ocr.TYPE_WEIGHTS`) with **every province equally often**
  (the OCR's training draws the busy eastern provinces 3×, and its misreads are the rare ones);
- the real training crops (lyl8213_train and the 70 % of ccpd_crops the OCR trains on), oversampled;
- their province swaps (`train_ocr.province_swaps`): the real crops with the province redrawn as a
  random one of the 31, most often from a real glyph of another crop.

Validation: a synthetic draw of its own seed, and lyl8213_valid (real). easypr_dev, ccpd_heldout and
the seed-777 synthetic test sets of `make eval` are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_ocr import (
    PLATE_CONFIG,
    TYPE_WEIGHTS,
    WORK,
    generator_digest,
    province_swaps,
    real_font_bank,
    real_rows,
)

from dealergate.plate_crops import stitch_rows
from dealergate.plates import PROVINCES, PlateType
from dealergate.synth.plate_render import degrade, random_plate_text, render_plate
from edge.province import PROVINCE_CLASSES, WINDOW_WIDTH, asked, class_index
from edge.recognize import ocr_input

DATA = WORK / "province"
RUNS = DATA / "runs"
ONNX_OUT = Path(__file__).resolve().parent / "ocr" / "province.onnx"
SHIFT = 4
"""Windows are stored `SHIFT` px wider on each side and cut at a random offset while training: the
crop margin, and so the first character's column, varies from detector to detector."""
STORED_WIDTH = WINDOW_WIDTH + 2 * SHIFT


def _plate_config():
    from fast_plate_ocr.inference.config import PlateConfig

    return PlateConfig.from_yaml(PLATE_CONFIG)


def stored_window(crop_bgr: np.ndarray, cfg) -> np.ndarray:
    """The OCR input's left columns with `SHIFT` replicated columns before them: (48, STORED_WIDTH, 3)."""
    image = ocr_input(crop_bgr, cfg)
    padded = cv2.copyMakeBorder(image, 0, 0, SHIFT, 0, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(padded[:, :STORED_WIDTH])


def _drawn(seed: int, i: int, real_font: float = 0.0) -> tuple[np.ndarray, str]:
    """Synthetic sample `i` of `seed` (seeded per sample) as the OCR sees it — double-row plates
    stitched — and its text; a `real_font` share drawn in the real plate font
    (`train_ocr.real_font_bank`). Every province equally often."""
    types = list(TYPE_WEIGHTS)
    weights = np.array([TYPE_WEIGHTS[t] for t in types], dtype=float)
    rng = np.random.default_rng([seed, i])
    plate_type = types[rng.choice(len(types), p=weights / weights.sum())]
    text = random_plate_text(plate_type, rng, province=PROVINCES[rng.integers(len(PROVINCES))])
    height = int(rng.integers(60, 160))
    bank = real_font_bank() if real_font and rng.random() < real_font else None
    glyphs = (lambda char, bank=bank, rng=rng: bank.glyph(char, rng)) if bank is not None else None
    crop = degrade(render_plate(text, plate_type, rng, height=height, glyphs=glyphs), rng)
    return (stitch_rows(crop) if plate_type is PlateType.YELLOW_DOUBLE else crop), text


def _synth_chunk(args: tuple[int, int, int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Windows and labels of synthetic samples `start..stop` of `seed` (`_drawn`)."""
    seed, start, stop, real_font = args
    cfg = _plate_config()
    windows, labels = [], []
    for i in range(start, stop):
        crop, text = _drawn(seed, i, real_font)
        windows.append(stored_window(crop, cfg))
        labels.append(PROVINCE_CLASSES.index(text[0]))
    return np.stack(windows), np.array(labels, dtype=np.int32)


def synthetic(n: int, seed: int, workers: int, real_font: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """`n` synthetic windows, cached under DATA by seed, size, real-font share and the renderer's digest."""
    share = f"-rf{real_font:g}" if real_font else ""
    cache = DATA / f"synth-{seed}-{n}-{generator_digest()}-{WINDOW_WIDTH}{share}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["x"], z["y"]
    chunks = [(seed, s, min(s + 1000, n), real_font) for s in range(0, n, 1000)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_synth_chunk, chunks))
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=x, y=y)
    return x, y


def _asked(ocr_probs: np.ndarray) -> np.ndarray:
    """Which crops the reader would ask the classifier about: the reader's own gate
    (`edge.province.asked`) on the shipped OCR's alphabet."""
    return asked(ocr_probs, class_index(_plate_config().alphabet))[0]


def _hard_chunk(args: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Windows and labels of those synthetic samples `start..stop` of `seed` that the shipped OCR is
    unsure of the province of (`_asked`), drawn by `_drawn`."""
    import onnxruntime as ort

    seed, start, stop = args
    cfg = _plate_config()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(PLATE_CONFIG.parent / "dealergate_ocr.onnx"), options)
    inputs, windows, labels = [], [], []
    for i in range(start, stop):
        crop, text = _drawn(seed, i)
        inputs.append(ocr_input(crop, cfg))
        windows.append(stored_window(crop, cfg))
        labels.append(PROVINCE_CLASSES.index(text[0]))
    probs = session.run(None, {session.get_inputs()[0].name: np.stack(inputs)})[0]
    keep = _asked(probs.reshape(len(inputs), cfg.max_plate_slots, len(cfg.alphabet)))
    return np.stack(windows)[keep], np.array(labels, dtype=np.int32)[keep]


def hard(pool: int, seed: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """The windows of a fresh pool of `pool` synthetic plates (seed `seed`) whose province the shipped
    OCR is unsure of: the crops the classifier is asked about at the gate, and nothing else. Cached
    like `synthetic`, keyed by the OCR's file too."""
    ocr = hashlib.sha256((PLATE_CONFIG.parent / "dealergate_ocr.onnx").read_bytes()).hexdigest()[:8]
    cache = DATA / f"hard-{seed}-{pool}-{generator_digest()}-{WINDOW_WIDTH}-{ocr}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["x"], z["y"]
    chunks = [(seed, s, min(s + 1000, pool)) for s in range(0, pool, 1000)]
    with ProcessPoolExecutor(max_workers=workers) as pool_exec:
        parts = list(pool_exec.map(_hard_chunk, chunks))
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=x, y=y)
    print(f"hard: {len(y)} of {pool} pool windows ({100 * len(y) / pool:.1f} %) ask the classifier", flush=True)
    return x, y


def real(csv_names: list[tuple[str, bool | None]], swaps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of the real crops (each once) followed by their `swaps` province swaps each."""
    cfg = _plate_config()
    rows = [row for name, heldout in csv_names for row in real_rows(name, DATA, heldout=heldout)]
    DATA.mkdir(parents=True, exist_ok=True)
    crops = [cv2.imread(str(DATA / rel)) for rel, _text, _region in rows]
    windows, labels = [], []
    for crop, (_rel, text, _region) in zip(crops, rows, strict=True):
        if crop is not None and text[0] in PROVINCE_CLASSES:
            windows.append(stored_window(crop, cfg))
            labels.append(PROVINCE_CLASSES.index(text[0]))
    n_real = len(labels)
    for _i, _k, image, text, _region in province_swaps(rows, crops, swaps, seed) if swaps else ():
        windows.append(stored_window(image, cfg))
        labels.append(PROVINCE_CLASSES.index(text[0]))
    print(f"real: {n_real} crops, {len(labels) - n_real} province swaps", flush=True)
    return np.stack(windows), np.array(labels, dtype=np.int32)


def cmd_data(a: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    xs, ys = synthetic(a.n_train, a.seed, a.workers, a.real_font)
    xv, yv = synthetic(a.n_val, a.seed + 1, a.workers)  # validated on the rendered fonts, as ever
    xr, yr = real([("lyl8213_train.csv", None), ("ccpd_crops.csv", False)], a.swaps, a.seed)
    xrv, yrv = real([("lyl8213_valid.csv", None)], 0, a.seed)
    xh, yh = hard(a.hard_pool, a.seed + 500, a.workers) if a.hard_pool else (xs[:0], ys[:0])
    x = np.concatenate([xs, *[xh] * a.hard_repeat, *[xr] * a.real_oversample])
    y = np.concatenate([ys, *[yh] * a.hard_repeat, *[yr] * a.real_oversample])
    np.savez(DATA / "train.npz", x=x, y=y)
    np.savez(DATA / "val.npz", x=np.concatenate([xv, xrv]), y=np.concatenate([yv, yrv]), n_real=len(yrv))
    counts = np.bincount(y, minlength=len(PROVINCE_CLASSES))
    print(
        f"data: {len(y)} train windows ({len(ys)} synthetic, {len(yh)} hard x{a.hard_repeat}, "
        f"{len(yr)} real x{a.real_oversample}), "
        f"{len(yv) + len(yrv)} val; per class {counts.min()}-{counts.max()}; {time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def build_model(classes: int, width: float = 1.0):
    """A small VGG-style CNN: uint8 (48, WINDOW_WIDTH, 3) in, class probabilities out.

    At `width` 1 its convolutions have 16-32-64-64-128 filters (~17 M multiply-adds, ~0.5 ms for one
    crop on one thread); `width` scales every layer's filters and the dense layer's units."""
    import keras
    from keras import layers

    def block(x, filters: int):
        x = layers.Conv2D(round(filters * width), 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = keras.Input((48, WINDOW_WIDTH, 3), dtype="uint8", name="input")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    x = layers.MaxPooling2D()(block(x, 16))  # 24 x 28
    x = layers.MaxPooling2D()(block(x, 32))  # 12 x 14
    x = layers.MaxPooling2D()(block(block(x, 64), 64))  # 6 x 7
    x = block(x, 128)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(round(128 * width), activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(classes, activation="softmax", name="province")(x)
    return keras.Model(inputs, outputs)


def _dataset(x: np.ndarray, y: np.ndarray, batch: int, train: bool, seed: int):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if train:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)

    def cut(img, label):
        if train:
            off = tf.random.uniform((), 0, 2 * SHIFT + 1, dtype=tf.int32)
            img = img[:, off : off + WINDOW_WIDTH]
            f = tf.cast(img, tf.float32)
            gain = tf.random.uniform((), 0.7, 1.3)
            bias = tf.random.uniform((), -25.0, 25.0)
            img = tf.cast(tf.clip_by_value(f * gain + bias, 0, 255), tf.uint8)
        else:
            img = img[:, SHIFT : SHIFT + WINDOW_WIDTH]
        return img, label

    return ds.map(cut, num_parallel_calls=tf.data.AUTOTUNE).batch(batch).prefetch(2)


def cmd_train(a: argparse.Namespace) -> None:
    import keras

    keras.utils.set_random_seed(a.seed)
    with np.load(DATA / "train.npz") as z:
        x, y = z["x"], z["y"]
    with np.load(DATA / "val.npz") as z:
        xv, yv, n_real = z["x"], z["y"], int(z["n_real"])
    run = RUNS / time.strftime("%Y-%m-%d_%H-%M-%S")
    run.mkdir(parents=True, exist_ok=True)
    model = build_model(len(PROVINCE_CLASSES), a.width) if not a.weights else keras.models.load_model(_weights(a))
    steps = a.epochs * int(np.ceil(len(y) / a.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, alpha=0.01, warmup_target=a.lr, warmup_steps=max(1, steps // 20)
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )

    class RealAccuracy(keras.callbacks.Callback):
        """The validation accuracy of the real crops alone (the synthetic share dominates val_accuracy)."""

        def on_epoch_end(self, epoch, logs=None):
            probs = self.model.predict(xv[-n_real:, :, SHIFT : SHIFT + WINDOW_WIDTH], verbose=0)
            logs["val_real_accuracy"] = float((probs.argmax(1) == yv[-n_real:]).mean())
            print(f" - val_real_accuracy {logs['val_real_accuracy']:.4f}", flush=True)

    model.fit(
        _dataset(x, y, a.batch_size, True, a.seed),
        validation_data=_dataset(xv, yv, 256, False, a.seed),
        epochs=a.epochs,
        callbacks=[
            RealAccuracy(),
            keras.callbacks.ModelCheckpoint(run / "best.keras", monitor="val_accuracy", save_best_only=True),
            keras.callbacks.ModelCheckpoint(run / "last.keras"),
            keras.callbacks.CSVLogger(run / "log.csv"),
        ],
        verbose=2,
    )
    print(f"run: {run}", flush=True)


def latest_checkpoint() -> Path:
    runs = sorted(p for p in RUNS.iterdir() if (p / "best.keras").is_file()) if RUNS.is_dir() else []
    if not runs:
        raise SystemExit(f"no checkpoint under {RUNS}: run `train` first")
    return runs[-1] / "best.keras"


def _weights(a: argparse.Namespace) -> Path:
    """`--weights`: a checkpoint path, or `latest` for the newest run's best (resolved when used, so
    `all --weights latest` trains on from the last run and exports the run it made)."""
    return latest_checkpoint() if a.weights == "latest" else Path(a.weights)


def cmd_export(a: argparse.Namespace) -> None:
    import keras
    import tensorflow as tf
    import tf2onnx

    weights = _weights(a) if a.weights else latest_checkpoint()
    model = keras.models.load_model(weights)

    @tf.function(input_signature=[tf.TensorSpec((None, 48, WINDOW_WIDTH, 3), tf.uint8, name="input")])
    def serve(x):
        return {"province": model(x, training=False)}

    out = Path(a.out)
    tf2onnx.convert.from_function(
        serve, input_signature=serve.input_signature, opset=17, output_path=str(out)
    )
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:8]
    print(f"exported {weights} -> {out} ({out.stat().st_size / 1e6:.2f} MB, sha256 {digest})", flush=True)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--n-train", type=int, default=120_000, help="synthetic training windows")
    data.add_argument("--n-val", type=int, default=3_000, help="synthetic validation windows")
    data.add_argument("--swaps", type=int, default=12, help="province swaps per real crop (at most)")
    data.add_argument("--real-oversample", type=int, default=3, help="times the real crops and swaps repeat")
    data.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    data.add_argument(
        "--real-font", type=float, default=0.0, help="share of synthetic training plates drawn in the real plate font"
    )
    data.add_argument(
        "--hard-pool", type=int, default=0, help="also mine this many fresh synthetic plates for those the OCR asks about"
    )
    data.add_argument("--hard-repeat", type=int, default=3, help="times the mined windows repeat")
    train = argparse.ArgumentParser(add_help=False)
    train.add_argument("--epochs", type=int, default=12)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=2e-3)
    train.add_argument("--width", type=float, default=1.0, help="filters and units of a new model, times the base")
    train.add_argument("--weights", help="a .keras checkpoint to start from (train) or to export (export); `latest`: the newest run's")
    export = argparse.ArgumentParser(add_help=False)
    export.add_argument("--out", default=str(ONNX_OUT))
    for name, parents in (
        ("data", [data]),
        ("train", [train]),
        ("export", [train, export]),
        ("all", [data, train, export]),
    ):
        sp = sub.add_parser(name, parents=parents)
        sp.add_argument("--seed", type=int, default=31)
    a = p.parse_args(argv)
    if a.cmd in ("data", "all"):
        cmd_data(a)
    if a.cmd in ("train", "all"):
        cmd_train(a)
    if a.cmd in ("export", "all"):
        cmd_export(a)


if __name__ == "__main__":
    main()
