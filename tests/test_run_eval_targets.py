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
