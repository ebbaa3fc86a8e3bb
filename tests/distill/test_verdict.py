"""Goal verdicts (issue 22): strict retention, speed with its noise, by hand."""

import math

import pytest

from kgnlu.distill.verdict import judge, ratio_se, retention, speed_summary


def test_speed_summary_by_hand():
    # 3 rounds, 100 sentences: teacher 10, 11, 9 s; student 4, 4, 3 s → ratios 2.5, 2.75, 3.0
    row = speed_summary([10.0, 11.0, 9.0], [4.0, 4.0, 3.0], 100)
    assert row["speedup"] == pytest.approx(2.75) and row["speedup_min"] == 2.5 and row["speedup_max"] == 3.0
    rates = [10.0, 100 / 11, 100 / 9]
    assert row["teacher_spread"] == pytest.approx((max(rates) - min(rates)) / 10.0)
    assert row["speedup_noise"] == pytest.approx(max(0.25, 2.75 * row["teacher_spread"]))


def test_strict_retention_is_uncapped_and_leaves_retrieval_out():
    kept = retention({"wsd": (0.45, 0.50, 600), "supersense": (0.66, 0.60, 2000), "retrieval": (0.9, 0.8, 1000)})
    assert kept["strict_tasks"] == ["wsd", "supersense"] and kept["excluded_tasks"] == ["retrieval"]
    assert kept["strict"] == pytest.approx((0.9 + 1.1) / 2)  # 1.1 uncapped
    assert kept["all_capped"] == pytest.approx((0.9 + 1.0 + 1.0) / 3)  # the old headline
    se_wsd = 0.9 * math.hypot(math.sqrt(0.45 * 0.55 / 600) / 0.45, math.sqrt(0.5 * 0.5 / 600) / 0.5)
    assert ratio_se(0.45, 0.50, 600, 600) == pytest.approx(se_wsd)
    assert kept["strict_se"] == pytest.approx(math.hypot(se_wsd, ratio_se(0.66, 0.6, 2000, 2000)) / 2)


def test_a_margin_inside_the_noise_is_not_met():
    kept = {"strict": 0.955, "strict_se": 0.01}
    noisy = {"speedup": 3.0017, "speedup_noise": 0.18}  # the old 2-layer row: 3.0017× with ±6% teacher noise
    verdict = judge(3.0, 0.95, noisy, kept)
    assert not verdict["met"] and "within noise" in verdict["verdict"]
    clear = judge(3.0, 0.95, {"speedup": 3.5, "speedup_noise": 0.2}, {"strict": 0.97, "strict_se": 0.01})
    assert clear["met"] and clear["verdict"] == "met"
    missed = judge(3.0, 0.95, {"speedup": 2.0, "speedup_noise": 0.1}, kept)
    assert not missed["met"] and "speed-up missed by 1" in missed["verdict"]
    unjudged = judge(3.0, 0.95, None, {"strict": 0.932, "strict_se": 0.028})  # the old 2-layer row, strict
    assert not unjudged["met"] and unjudged["verdict"] == (
        "not met: no per-round speed record to judge the speed margin against its noise; retention missed by 0.018")
