"""Synthetic per-customer results in a workspace, for planning tests and benchmarks at any size.

:func:`write_synthetic_results` stores predictions, RFM segments, the golden time, replenishment and
recommendations as of one day under runs, as the pipeline does, without importing orders or fitting models.
:func:`synthetic_contacts` gives a LINE user ID to every customer (fake IDs, for the fake LINE server).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..store import Workspace

__all__ = ["RFM_SEGMENTS", "synthetic_contacts", "write_synthetic_results"]

RFM_SEGMENTS = ("Champions", "Loyal", "Promising", "New", "Needs attention", "At risk", "Almost lost",
                "Previously loyal", "Dormant", "Active")


def _keys(n: int) -> np.ndarray:
    return np.char.add("c", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)


def write_synthetic_results(ws: Workspace, n: int, as_of: dt.date, *, seed: int = 0,
                            recommendations: bool = True, replenishment_share: float = 0.2) -> dict[str, int]:
    """Store synthetic results for ``n`` customers (keys ``c0000000`` …) as of ``as_of``; return run ids."""
    rng = np.random.default_rng(seed)
    keys = _keys(n)
    day = np.datetime64(as_of, "D")
    orders = rng.integers(1, 6, n)
    first = day - rng.integers(1, 720, n).astype("timedelta64[D]")
    span = (day - first).astype(np.int64)
    last = first + (rng.random(n) * span * (orders > 1)).astype(np.int64).astype("timedelta64[D]")
    p_alive = rng.random(n)
    runs = {}
    pred = pd.DataFrame({
        "customer_key": keys, "p_alive": p_alive,
        "expected_purchases_30d": p_alive * 0.3, "expected_purchases_90d": p_alive * 0.8,
        "expected_purchases_365d": p_alive * 2.5, "expected_spend": rng.gamma(2.0, 3000.0, n),
        "predicted_clv": p_alive * rng.gamma(2.0, 8000.0, n), "churn_risk": 1 - p_alive,
        "expected_next_purchase_date": (day + rng.integers(-10, 90, n).astype("timedelta64[D]")).astype(
            "datetime64[s]"),
        "median_days_to_next_purchase": rng.integers(5, 120, n).astype(float),
    })
    runs["predictions"] = ws.start_run("predictions", as_of=as_of, params={"synthetic": True, "seed": seed})
    ws.write_result("predictions", pred, run_id=runs["predictions"])
    rfm = pd.DataFrame({
        "customer_key": keys, "orders": orders, "first_date": first.astype("datetime64[s]"),
        "last_date": last.astype("datetime64[s]"), "revenue": orders * rng.gamma(2.0, 3000.0, n),
        "recency_days": (day - last).astype(np.int64), "tenure_days": span,
        "segment": np.asarray(RFM_SEGMENTS, dtype=object)[rng.integers(0, len(RFM_SEGMENTS), n)],
    })
    runs["segments_rfm"] = ws.start_run("segments", as_of=as_of, params={"synthetic": True, "kind": "rfm"})
    ws.write_result("segments_rfm", rfm, run_id=runs["segments_rfm"])
    runs["golden_time"] = ws.start_run("golden_time", as_of=as_of, params={"synthetic": True})
    ws.write_result("golden_summary", pd.DataFrame({
        "first_category": ["all"], "customers": [n], "repeaters": [n // 3], "median_days_to_second": [40.0],
        "golden_start": [21], "golden_end": [28], "peak_hazard": [0.03]}), run_id=runs["golden_time"])
    m = int(n * replenishment_share)
    if m:
        who = rng.choice(n, m, replace=False)
        due = day + rng.integers(-5, 20, m).astype("timedelta64[D]")
        rep = pd.DataFrame({
            "customer_key": keys[who], "sku": np.char.add("SKU-", rng.integers(1, 50, m).astype(str)).astype(object),
            "category": "consumable", "purchases": rng.integers(2, 6, m),
            "last_purchase": (due - 30).astype("datetime64[s]"), "interval_days": 30.0,
            "due_date": due.astype("datetime64[s]"), "days_until_due": (due - day).astype(np.int64),
            "p_repurchase": rng.random(m), "p_within": rng.random(m)})
        runs["replenishment"] = ws.start_run("replenishment", as_of=as_of, params={"synthetic": True})
        ws.write_result("replenishment", rep, run_id=runs["replenishment"])
    if recommendations:
        rec = pd.DataFrame({
            "customer_key": np.repeat(keys, 3), "rank": np.tile(np.arange(1, 4), n),
            "sku": np.char.add("SKU-", rng.integers(1, 50, 3 * n).astype(str)).astype(object),
            "score": rng.random(3 * n), "reason": "synthetic", "reason_code": "synthetic", "related_sku": None})
        runs["recommendations"] = ws.start_run("recommendations", as_of=as_of, params={"synthetic": True})
        ws.write_result("recommendations", rec, run_id=runs["recommendations"])
    return runs


def synthetic_contacts(n: int, *, share: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """``customer_key, line_user_id`` for the first ``share`` of ``n`` synthetic customers (fake LINE IDs)."""
    keys = _keys(n)
    m = int(round(n * share))
    ids = np.char.add("U", np.char.zfill(np.arange(m).astype(str), 32)).astype(object)
    return pd.DataFrame({"customer_key": keys[:m], "line_user_id": ids})
