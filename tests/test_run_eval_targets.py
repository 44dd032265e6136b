"""`make eval` prints issue 3's targets as met or not (models/run_eval.py `check_targets`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import run_eval


def test_each_evaluated_set_is_checked_against_its_targets() -> None:
    summaries = {
        "easypr_dev": {
            "plate_exact": 0.96,
            "primary_exact": 0.96,
            "located_iou50": 0.97,
            "false_reads": 6,
            "ms_median": 24.0,
        },
        "ccpd_crops (70% trained on)": {"plate_exact": 0.99, "ms_median": 2.5},
        "synthetic_black": {"plate_exact": 0.98},
        "unknown_set": {"plate_exact": 0.1},
    }
    checks = {(c["set"], c["metric"]): c["met"] for c in run_eval.check_targets(summaries)}
    assert checks == {
        ("easypr_dev", "plate_exact"): True,
        ("easypr_dev", "primary_exact"): False,
        ("easypr_dev", "located_iou50"): True,  # a target met exactly is met
        ("easypr_dev", "false_reads"): False,  # at most 5
        ("easypr_dev", "ms_median"): True,
        ("ccpd_crops", "plate_exact"): True,
        ("ccpd_crops", "ms_median"): False,
        ("synthetic_black", "plate_exact"): True,
    }


def test_a_figure_the_set_did_not_report_is_not_met() -> None:
    (check,) = run_eval.check_targets({"synthetic_green": {}})
    assert check["met"] is False and check["value"] is None


def test_painting_out_the_labelled_plates_keeps_the_rest_of_the_photo(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    source = tmp_path / "set"
    (source / "images").mkdir(parents=True)
    photo = np.full((200, 300, 3), 30, np.uint8)
    photo[90:110, 100:200] = 250  # a bright plate-sized strip
    cv2.imwrite(str(source / "images" / "a.png"), photo)
    labels = "image,plate,color,cx,cy,w,h,angle,primary\nimages/a.png,京A12345,blue,150,100,100,20,0,1\n"
    (source / "labels.csv").write_text(labels, encoding="utf-8")
    folder = run_eval.write_painted(source, tmp_path / "painted")
    painted = cv2.imread(str(folder / "images" / "a.png"))
    assert (folder / "labels.csv").read_text(encoding="utf-8") == labels
    assert np.abs(painted[85:116, 90:211].astype(int) - 128).max() <= 3  # the plate and a margin: grey
    assert np.abs(painted[:60].astype(int) - 30).max() <= 3 and np.abs(painted[150:].astype(int) - 30).max() <= 3


def test_a_perturbed_copy_scales_its_labels_with_its_photos(tmp_path: Path) -> None:
    import csv

    import cv2
    import numpy as np

    source = tmp_path / "set"
    (source / "images").mkdir(parents=True)
    photo = np.full((200, 300, 3), 100, np.uint8)
    cv2.imwrite(str(source / "images" / "a.png"), photo)
    labels = "image,plate,color,cx,cy,w,h,angle,primary\nimages/a.png,京A12345,blue,150,100,100,20,-2,1\n"
    (source / "labels.csv").write_text(labels, encoding="utf-8")

    larger = run_eval.write_perturbed(source, tmp_path / "larger", "scale ×1.4")
    [row] = list(csv.DictReader((larger / "labels.csv").open(encoding="utf-8")))
    assert row["image"] == "images/a.jpg" and row["plate"] == "京A12345" and row["angle"] == "-2"
    assert [float(row[k]) for k in ("cx", "cy", "w", "h")] == [210.0, 140.0, 140.0, 28.0]
    assert cv2.imread(str(larger / row["image"])).shape == (280, 420, 3)

    darker = run_eval.write_perturbed(source, tmp_path / "dark", "dark (×0.55)")
    assert abs(float(cv2.imread(str(darker / "images" / "a.jpg")).mean()) - 55) <= 2
    again = run_eval.write_perturbed(source, tmp_path / "dark", "bright (×1.4 + 20)")  # a new change: written anew
    assert abs(float(cv2.imread(str(again / "images" / "a.jpg")).mean()) - 160) <= 2


def test_a_warped_copy_moves_each_label_onto_its_plate(tmp_path: Path) -> None:
    import csv

    import cv2
    import numpy as np

    source = tmp_path / "set"
    (source / "images").mkdir(parents=True)
    photo = np.full((200, 300, 3), 20, np.uint8)
    rect = ((200.0, 60.0), (100.0, 30.0), -2.0)
    cv2.fillConvexPoly(photo, np.round(cv2.boxPoints(rect)).astype(np.int32), (255, 255, 255))
    cv2.imwrite(str(source / "images" / "a.png"), photo)
    labels = "image,plate,color,cx,cy,w,h,angle,primary\nimages/a.png,京A12345,blue,200,60,100,30,-2,1\n"
    (source / "labels.csv").write_text(labels, encoding="utf-8")

    for name, angle in (("camera rolled 8°", -10.0), ("camera to the side (keystone 30 %)", None)):
        folder = run_eval.write_perturbed(source, tmp_path / name.split()[2], name)
        [row] = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
        image = cv2.imread(str(folder / row["image"]), cv2.IMREAD_GRAYSCALE)
        moved = ((float(row["cx"]), float(row["cy"])), (float(row["w"]), float(row["h"])), float(row["angle"]))
        inside = np.zeros_like(image)
        cv2.fillConvexPoly(inside, np.round(cv2.boxPoints(moved)).astype(np.int32), 1)
        plate = image > 128
        # the label covers the moved plate, and little else
        assert (plate & (inside > 0)).sum() >= 0.95 * plate.sum()
        assert (plate & (inside > 0)).sum() >= 0.85 * inside.sum()
        assert float(row["w"]) > 2.5 * float(row["h"])
        if angle is not None:
            assert abs(float(row["angle"]) - angle) < 0.5
            assert image.shape[1] > 300 and image.shape[0] > 200  # the canvas grew: nothing left the frame
