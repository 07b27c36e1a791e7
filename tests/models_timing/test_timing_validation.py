from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltvkit.exceptions import InputError
from ltvkit.models.timing_validation import calibration_by_decile, timing_accuracy, timing_validation_table


def test_calibration_of_calibrated_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 50_000)
    y = rng.random(50_000) < p
    cal = calibration_by_decile(p, y)
    assert list(cal["decile"]) == list(range(1, 11))
    assert cal["customers"].sum() == 50_000
    np.testing.assert_allclose(cal["predicted"], cal["observed"], atol=0.02)
    assert cal["predicted"].is_monotonic_increasing


def test_timing_accuracy_by_hand():
    timing = pd.DataFrame({"median_days_to_next_purchase": [10.0, 40.0, 100.0],
                           "median_days_if_within_window": [10.0, 30.0, 50.0],
                           "p_purchase_30d": [0.9, 0.5, 0.1], "p_purchase_90d": [0.95, 0.7, 0.3]})
    actual = np.array([12.0, np.inf, 60.0])
    acc = timing_accuracy(timing, actual, holdout_days=90)
    assert acc["buyers"] == 2
    assert acc["mae_days_median"] == pytest.approx((2 + 40) / 2)
    assert acc["mae_days_window"] == pytest.approx((2 + 10) / 2)
    assert acc["observed_share_30d"] == pytest.approx(1 / 3)
    assert acc["predicted_share_30d"] == pytest.approx(0.5)
    assert acc["brier_30d"] == pytest.approx(((0.9 - 1) ** 2 + 0.5**2 + 0.1**2) / 3)
    table = timing_validation_table({"a": timing, "b": timing.assign(median_days_if_within_window=[12, 30, 60])},
                                    actual, 90)
    assert list(table.index) == ["b", "a"]


def test_timing_accuracy_checks_lengths():
    with pytest.raises(InputError):
        timing_accuracy(pd.DataFrame({"median_days_to_next_purchase": [1.0]}), [1.0, 2.0], 90)
