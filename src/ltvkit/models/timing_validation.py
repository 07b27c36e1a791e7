"""How good are next-purchase timing predictions on a holdout?

Two checks, one row per model:

* **date error**, for customers who did buy in the holdout: absolute error in days between the predicted and the
  actual first purchase after the calibration end. Two predictions are scored: the headline median
  (``median_days_to_next_purchase``, what a CRM plan uses) and the median given that the purchase falls inside
  the holdout (``median_days_if_within_window``), which is the fair skill score because the actual date is
  only seen when it falls inside the window;
* **calibration** of ``p_purchase_30d`` (and the other horizons that fit in the holdout) for everyone: predicted
  probability against the observed share of customers who bought within 30 days, by decile of the prediction;
  summarised by the expected calibration error (ECE, the customer-weighted mean gap over deciles) and the Brier
  score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError

__all__ = ["calibration_by_decile", "timing_accuracy", "timing_validation_table"]


def calibration_by_decile(predicted: Any, observed: Any, *, bins: int = 10) -> pd.DataFrame:
    """Predicted probability against observed share, by quantile bin of the prediction.

    Parameters
    ----------
    predicted : array-like
        Predicted probabilities.
    observed : array-like of bool
        Whether the event happened.
    bins : int, default 10
        Number of quantile bins (deciles).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``decile`` (1 = lowest predictions), ``customers``, ``predicted``, ``observed``.
    """
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(observed, dtype=float)
    if p.shape != y.shape or p.ndim != 1:
        raise InputError("predicted and observed must be 1-d and of the same length.")
    if len(p) == 0:
        raise InputError("Calibration needs at least one customer.")
    order = np.argsort(p, kind="stable")
    groups = np.empty(len(p), dtype=int)
    groups[order] = np.minimum((np.arange(len(p)) * bins) // len(p), bins - 1)
    frame = pd.DataFrame({"decile": groups + 1, "p": p, "y": y})
    out = frame.groupby("decile").agg(customers=("p", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return out.reset_index()


def timing_accuracy(timing: pd.DataFrame, actual_days: Any, holdout_days: float,
                    horizons: tuple[int, ...] | None = None) -> dict[str, float]:
    """Score one model's timing table against what happened in the holdout.

    Parameters
    ----------
    timing : pandas.DataFrame
        Output of :func:`~ltvkit.models.timing.next_purchase_timing` (ideally with ``window_days=holdout_days``),
        one row per customer in the same order as ``actual_days``.
    actual_days : array-like
        Days from the calibration end to the first holdout purchase; NaN or inf when there was none.
    holdout_days : float
        Length of the holdout in days.
    horizons : tuple of int, optional
        Horizons whose calibration to report (default: the ``p_purchase_{k}d`` columns with ``k <= holdout_days``).

    Returns
    -------
    dict
        ``customers``, ``buyers``, ``mae_days_median``, ``median_ae_days_median``, ``bias_days_median``,
        ``mae_days_window`` (when the window column is present), ``ece_30d``, ``brier_30d``, and
        ``predicted_share_{k}d`` / ``observed_share_{k}d`` per horizon.
    """
    d = np.asarray(actual_days, dtype=float)
    if len(d) != len(timing):
        raise InputError(f"actual_days has {len(d):,} values but the timing table has {len(timing):,} rows.")
    bought = np.isfinite(d) & (d <= holdout_days)
    out: dict[str, float] = {"customers": float(len(d)), "buyers": float(bought.sum())}
    if bought.any():
        err = timing["median_days_to_next_purchase"].to_numpy(float)[bought] - d[bought]
        out["mae_days_median"] = float(np.mean(np.abs(err)))
        out["median_ae_days_median"] = float(np.median(np.abs(err)))
        out["bias_days_median"] = float(np.median(err))
        if "median_days_if_within_window" in timing:
            werr = timing["median_days_if_within_window"].to_numpy(float)[bought] - d[bought]
            out["mae_days_window"] = float(np.mean(np.abs(werr)))
    if horizons is None:
        horizons = tuple(int(c[len("p_purchase_"):-1]) for c in timing.columns
                         if c.startswith("p_purchase_") and c.endswith("d") and "_if_" not in c)
    for k in horizons:
        if k > holdout_days or f"p_purchase_{k}d" not in timing:
            continue
        p = timing[f"p_purchase_{k}d"].to_numpy(float)
        y = np.isfinite(d) & (d <= k)
        out[f"predicted_share_{k}d"] = float(p.mean())
        out[f"observed_share_{k}d"] = float(y.mean())
        if k == 30:
            cal = calibration_by_decile(p, y)
            out["ece_30d"] = float(np.average(np.abs(cal["predicted"] - cal["observed"]), weights=cal["customers"]))
            out["brier_30d"] = float(np.mean((p - y) ** 2))
    return out


def timing_validation_table(timings: Mapping[str, pd.DataFrame], actual_days: Any, holdout_days: float) -> pd.DataFrame:
    """One row per model with :func:`timing_accuracy`'s scores, best (lowest window MAE) first."""
    rows = {name: timing_accuracy(tab, actual_days, holdout_days) for name, tab in timings.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "model"
    key = "mae_days_window" if "mae_days_window" in frame else "mae_days_median"
    if key in frame:
        frame = frame.sort_values(key, kind="stable")
    return frame
