"""Holdout validation of customer-base models: errors, tracking, calibration, Gini and decile lift, AIC/BIC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ._base import as_float_array, check_is_fitted, distinct_rows

__all__ = ["calibration_by_frequency", "compare_models", "cumulative_tracking", "decile_lift",
           "expected_per_customer", "gini", "holdout_errors"]


def _pair(predicted: Any, actual: Any) -> tuple[np.ndarray, np.ndarray]:
    p = as_float_array("predicted", predicted, allow_negative=True)
    a = as_float_array("actual", actual, allow_negative=True)
    if p.shape != a.shape:
        raise InputError(f"predicted has {p.size:,} values and actual {a.size:,}; pass one of each per customer.")
    if p.size == 0:
        raise InputError("No customers to validate on; choose a calibration end with customers before it.")
    return p, a


def holdout_errors(predicted: Any, actual: Any) -> dict[str, float]:
    """Per-customer errors of holdout purchase counts: MAE, RMSE, bias and the totals.

    Examples
    --------
    >>> holdout_errors([1.0, 2.0], [1, 4])["mae"]
    1.0
    """
    p, a = _pair(predicted, actual)
    err = p - a
    return {"customers": int(p.size), "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "bias": float(np.mean(err)), "predicted_total": float(p.sum()), "actual_total": float(a.sum())}


def calibration_by_frequency(frequency: Any, predicted: Any, actual: Any, max_bucket: int = 7) -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases by calibration frequency (the last bucket is ``max_bucket+``)."""
    p, a = _pair(predicted, actual)
    f = as_float_array("frequency", frequency)
    bucket = np.minimum(f, max_bucket).astype(int)
    frame = pd.DataFrame({"bucket": bucket, "predicted": p, "actual": a})
    out = frame.groupby("bucket").agg(customers=("predicted", "size"), mean_predicted=("predicted", "mean"),
                                      mean_actual=("actual", "mean")).reset_index()
    out["frequency"] = [f"{b}+" if b == max_bucket else str(b) for b in out["bucket"]]
    return out[["frequency", "customers", "mean_predicted", "mean_actual"]]


def cumulative_tracking(model: Any, frequency: Any, recency: Any, T: Any, holdout_times: Any, horizon: float,
                        step: float = 7.0) -> pd.DataFrame:
    """Cumulative repeat purchases after the calibration end, predicted vs actual, every ``step`` periods.

    ``holdout_times`` holds, for every repeat purchase in the holdout window, its time after the calibration
    end (in the model's time unit).
    """
    check_is_fitted(model)
    frame = pd.DataFrame({"x": np.asarray(frequency, float), "tx": np.asarray(recency, float),
                          "T": np.asarray(T, float)})
    groups = frame.groupby(["x", "tx", "T"], sort=False).size().reset_index(name="n")
    ends = np.arange(step, float(horizon) + 1e-9, step)
    if ends.size == 0 or ends[-1] < horizon - 1e-9:
        ends = np.append(ends, float(horizon))
    times = np.sort(as_float_array("holdout_times", holdout_times))
    at = getattr(model, "expected_purchases_at", None)  # P(alive) once for every period end, where it factors
    per_end = at(ends, groups["x"], groups["tx"], groups["T"]) if at is not None else [
        model.expected_purchases(e, groups["x"], groups["tx"], groups["T"]) for e in ends]
    predicted = [float(np.asarray(p) @ groups["n"]) for p in per_end]
    actual = np.searchsorted(times, ends, side="right")
    return pd.DataFrame({"period_end": ends, "predicted_cumulative": predicted, "actual_cumulative": actual})


def gini(predicted: Any, actual: Any) -> float:
    """Normalised Gini: how well ``predicted`` ranks ``actual`` value (1 = perfect order, 0 = random)."""
    p, a = _pair(predicted, actual)

    def raw(order_by: np.ndarray) -> float:
        order = np.argsort(-order_by, kind="stable")
        cum = np.cumsum(a[order]) / a.sum()
        return float(cum.mean() - (np.arange(1, len(a) + 1) / len(a)).mean())

    if a.sum() == 0:
        return float("nan")
    best = raw(a)
    return raw(p) / best if best else float("nan")


def decile_lift(predicted: Any, actual: Any, bins: int = 10) -> pd.DataFrame:
    """Customers in ``bins`` groups by predicted value (1 = highest): mean predicted, mean actual, lift, share."""
    p, a = _pair(predicted, actual)
    order = np.argsort(-p, kind="stable")
    decile = np.empty(len(p), dtype=int)
    decile[order] = (np.arange(len(p)) * bins // len(p)) + 1
    frame = pd.DataFrame({"decile": decile, "predicted": p, "actual": a})
    out = frame.groupby("decile").agg(customers=("predicted", "size"), mean_predicted=("predicted", "mean"),
                                      mean_actual=("actual", "mean"), actual_total=("actual", "sum")).reset_index()
    overall = a.mean()
    out["lift"] = out["mean_actual"] / overall if overall else np.nan
    out["share_of_actual"] = out["actual_total"] / a.sum() if a.sum() else np.nan
    return out.drop(columns="actual_total")


def _distinct_histories(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, ...] | None:
    """The distinct ``(frequency, recency, T)`` rows and each customer's index into them; ``None`` when the
    columns differ in length (the model's own check then says what is wrong)."""
    x, tx, age = (np.asarray(c, dtype=float).reshape(-1) for c in (frequency, recency, T))
    if not len(x) == len(tx) == len(age):
        return None
    first, back = distinct_rows(x, tx, age)
    return x[first], tx[first], age[first], back


def _spread(model: Any, t: float, rows: tuple[np.ndarray, ...] | None, frequency: Any, recency: Any,
            T: Any) -> np.ndarray:
    if rows is None:
        return np.asarray(model.expected_purchases(t, frequency, recency, T), dtype=float)
    ux, utx, uage, back = rows
    return np.asarray(model.expected_purchases(t, ux, utx, uage), dtype=float)[back]


def expected_per_customer(model: Any, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray:
    """``model.expected_purchases(t, …)`` for every customer, computed once per distinct ``(frequency, recency,
    T)`` row (a shop's 500,000 customers share about a third as many) and spread back to the customers."""
    return _spread(model, t, _distinct_histories(frequency, recency, T), frequency, recency, T)


def compare_models(models: Mapping[str, Any], frequency: Any = None, recency: Any = None, T: Any = None,
                   actual: Any = None, t: float | None = None) -> pd.DataFrame:
    """One row per fitted model: parameters count, log-likelihood, AIC, BIC and, given holdout data, MAE/RMSE."""
    rows = []
    histories = _distinct_histories(frequency, recency, T) if actual is not None and t is not None else None
    for name, model in models.items():
        check_is_fitted(model)
        row: dict[str, Any] = {"model": name, "params": len(model.params_),
                               "log_likelihood": getattr(model, "log_likelihood_", np.nan),
                               "AIC": getattr(model, "AIC_", np.nan), "BIC": getattr(model, "BIC_", np.nan)}
        lls = getattr(model, "k_log_likelihoods_", None)
        if lls is not None and len(lls) > 1:
            # MBG/CNBD-k that chose k: the likelihood of the purchase times includes the litt term (the same
            # quantity as the others' at k = 1), and k is one parameter more
            row["params"] += 1
            row["log_likelihood"] = float(lls[model.k_])
            row["AIC"] = 2 * row["params"] - 2 * row["log_likelihood"]
            row["BIC"] = row["params"] * np.log(model.n_customers_) - 2 * row["log_likelihood"]
        if actual is not None and t is not None:
            err = holdout_errors(_spread(model, t, histories, frequency, recency, T), actual)
            row.update({"mae": err["mae"], "rmse": err["rmse"], "bias": err["bias"]})
        rows.append(row)
    return pd.DataFrame(rows).sort_values("BIC", kind="stable").reset_index(drop=True)
