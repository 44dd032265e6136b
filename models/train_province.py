"""Train the province classifier (`edge/province.py`): a second opinion on a plate's first character.

Runs in `.venv-train` (TensorFlow/Keras live only there):

    KERAS_BACKEND=tensorflow .venv-train/bin/python models/train_province.py all

Steps (each also a subcommand): `data` draws the training and validation windows into
models/_work/province (gitignored, reused while the renderer and the mix are unchanged); `train`
fits the small CNN below (`--gate-augmentation`: motion blur in any direction and grey windows, as a
gate camera gives them); `export` writes models/ocr/province.onnx (tf2onnx, uint8 input); `recover`
rebuilds the shipped ONNX model as a Keras checkpoint (`--weights recovered`) to train on from.

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
MOTION_BLUR_PX = (3, 11)
"""Kernel lengths (odd, px of the 48 px high OCR input) of `--gate-augmentation`'s motion blur: a car
rolling towards a gate camera mounted above smears its plate up-down, 7 px of a 36 px plate in a
photo is 9 px here. Without it the classifier read such smears of 湘, 沪 and 浙 as 川 (three vertical
strokes) at 0.96-1.00 and overruled an OCR that had it right."""
BLUR_SHARE, GREY_SHARE = 0.3, 0.1
"""Shares of training windows that `--gate-augmentation` blurs (any direction) and makes grey."""
RECOVERED = DATA / "recovered.keras"


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


def motion_kernels(lengths: tuple[int, int] = MOTION_BLUR_PX, angles: int = 16) -> np.ndarray:
    """Line kernels of every odd length in `lengths` at `angles` directions over half a turn, each
    centred in a (max, max) array summing to 1: the motion blurs `--gate-augmentation` draws from."""
    size = lengths[1]
    kernels = []
    for length in range(lengths[0], lengths[1] + 1, 2):
        for angle in np.arange(angles) * np.pi / angles:
            k = np.zeros((size, size), np.float32)
            c, r = (size - 1) / 2, (length - 1) / 2
            dx, dy = np.cos(angle) * r, np.sin(angle) * r
            cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
            kernels.append(k / k.sum())
    return np.stack(kernels)


def _dataset(x: np.ndarray, y: np.ndarray, batch: int, train: bool, seed: int, gate: bool = False):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if train:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    bank = tf.constant(motion_kernels()[..., None, None])  # (K, size, size, 1, 1)
    pad = MOTION_BLUR_PX[1] // 2

    def blurred(f):
        k = tf.tile(bank[tf.random.uniform((), 0, bank.shape[0], dtype=tf.int32)], [1, 1, 3, 1])
        padded = tf.pad(f[None], [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
        return tf.nn.depthwise_conv2d(padded, k, [1, 1, 1, 1], "VALID")[0]

    def cut(img, label):
        if train:
            if gate:  # blur the stored window before it is cut, so its edges are the plate's own
                f = tf.cast(img, tf.float32)
                f = tf.cond(tf.random.uniform(()) < BLUR_SHARE, lambda: blurred(f), lambda: f)
                grey = tf.repeat(tf.reduce_mean(f, axis=2, keepdims=True), 3, axis=2)
                f = tf.cond(tf.random.uniform(()) < GREY_SHARE, lambda: grey, lambda: f)
                img = tf.cast(tf.clip_by_value(tf.round(f), 0, 255), tf.uint8)
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
        _dataset(x, y, a.batch_size, True, a.seed, a.gate_augmentation),
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


def cmd_recover(a: argparse.Namespace) -> None:
    """Rebuild the shipped classifier (models/ocr/province.onnx) as a Keras checkpoint to train on from
    (training runs live under the gitignored models/_work and are gone on a fresh checkout).

    tf2onnx folded each batch normalisation into the convolution before it (the convolution's bias is
    the normalisation's shift), so each normalisation is rebuilt as the identity plus that shift and
    frozen: fine-tuning moves the convolutions and the dense layers, never the folded statistics.
    Refuses to write a model that does not give the ONNX model's outputs."""
    import keras
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    graph = onnx.load(str(ONNX_OUT)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    dense = [n for n in graph.node if n.op_type == "MatMul"]
    model = build_model(len(PROVINCE_CLASSES))
    conv_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    dense_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not (len(convs) == len(conv_layers) == len(norms) and len(dense) == len(dense_layers)):
        raise SystemExit(f"{ONNX_OUT} is not build_model()'s network: {len(convs)} Conv, {len(dense)} MatMul")
    for node, conv, norm in zip(convs, conv_layers, norms, strict=True):
        conv.set_weights([init[node.input[1]].transpose(2, 3, 1, 0)])  # OIHW -> HWIO
        shift = init[node.input[2]]
        norm.set_weights([np.ones_like(shift), shift, np.zeros_like(shift), np.full_like(shift, 1.0 - norm.epsilon)])
        norm.trainable = False
    for node, layer in zip(dense, dense_layers, strict=True):
        add = next(n for n in graph.node if n.op_type == "Add" and n.input[0] == node.output[0])
        layer.set_weights([init[node.input[1]], init[add.input[1]]])
    session = ort.InferenceSession(str(ONNX_OUT), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    probe = rng.integers(0, 256, (64, 48, WINDOW_WIDTH, 3), dtype=np.uint8)
    with np.load(DATA / "val.npz") as z:
        probe = np.concatenate([probe, z["x"][-150:, :, SHIFT : SHIFT + WINDOW_WIDTH]])
    expected = session.run(None, {session.get_inputs()[0].name: probe})[0]
    got = model.predict(probe, verbose=0)
    worst = float(np.abs(expected - got).max())
    if worst > 1e-3 or (expected.argmax(1) != got.argmax(1)).any():
        raise SystemExit(f"the rebuilt model differs from {ONNX_OUT} by up to {worst:.2g}: not written")
    RECOVERED.parent.mkdir(parents=True, exist_ok=True)
    model.save(RECOVERED)
    print(f"recovered {ONNX_OUT} -> {RECOVERED} (max difference {worst:.1e} on {len(probe)} windows)", flush=True)


def latest_checkpoint() -> Path:
    runs = sorted(p for p in RUNS.iterdir() if (p / "best.keras").is_file()) if RUNS.is_dir() else []
    if not runs:
        raise SystemExit(f"no checkpoint under {RUNS}: run `train` first")
    return runs[-1] / "best.keras"


def _weights(a: argparse.Namespace) -> Path:
    """`--weights`: a checkpoint path, or `latest` for the newest run's best (resolved when used, so
    `all --weights latest` trains on from the last run and exports the run it made)."""
    if a.weights == "recovered":
        return RECOVERED
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
    train.add_argument(
        "--weights",
        help="a .keras checkpoint to start from (train) or to export (export); `latest`: the newest run's; "
        "`recovered`: the shipped model rebuilt by `recover`",
    )
    train.add_argument(
        "--gate-augmentation",
        action="store_true",
        help=f"blur {BLUR_SHARE:.0%} of the training windows with a motion blur in any direction "
        f"(MOTION_BLUR_PX) and make {GREY_SHARE:.0%} grey",
    )
    export = argparse.ArgumentParser(add_help=False)
    export.add_argument("--out", default=str(ONNX_OUT))
    for name, parents in (
        ("data", [data]),
        ("train", [train]),
        ("export", [train, export]),
        ("all", [data, train, export]),
        ("recover", []),
    ):
        sp = sub.add_parser(name, parents=parents)
        sp.add_argument("--seed", type=int, default=31)
    a = p.parse_args(argv)
    if a.cmd == "recover":
        cmd_recover(a)
    if a.cmd in ("data", "all"):
        cmd_data(a)
    if a.cmd in ("train", "all"):
        cmd_train(a)
    if a.cmd in ("export", "all"):
        cmd_export(a)


if __name__ == "__main__":
    main()
