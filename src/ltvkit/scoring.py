"""Predictive CLV pipeline: workspace orders -> RFM (in the engine) -> models -> per-customer scores.

The transaction model's predictions depend only on ``(frequency, recency, T)``, so they are computed in numpy
on the unique groups, chunk by chunk; the per-customer table (spend, CLV) is then a join run by the engine.
Memory stays bounded by the chunk size and the number of distinct groups, not by the number of customers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import warnings
from collections.abc import Iterator
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from ._threads import Ahead
from .exceptions import ConvergenceError, InputError, StatisticalWarning
from .features import rfm_summary
from .features.rfm import repeat_spend_groups, rfm_groups
from .models import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    RegularBetaGeoModel,
    calibration_by_frequency,
    compare_models,
    cumulative_tracking,
    decile_lift,
    discounted_expected_transactions,
    gini,
    holdout_errors,
)
from .models._base import distinct_rows
from .models.timing import HORIZONS_DAYS, days_to_dates, next_purchase_timing
from .models.timing_validation import timing_validation_table

__all__ = ["AUTO_MODELS", "MODELS", "choose_model", "drop_scoring_tables", "holdout_split", "score_customers", "score_groups", "score_rfm_table", "validate_models"]

MODELS = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "pnbd": ParetoNBDModel,
          "mbgcnbd": RegularBetaGeoModel}
#: Largest regularity order ``k`` MBG/CNBD-k tries, as transaction model and for the next-purchase timing.
REGULAR_K_MAX = 4
PREDICTION_COLUMNS = ("customer_key", "p_alive", "expected_purchases_30d", "expected_purchases_90d",
                      "expected_purchases_365d", "expected_spend", "predicted_clv", "churn_risk",
                      "expected_next_purchase_date", "median_days_to_next_purchase",
                      *(f"p_purchase_{k}d" for k in HORIZONS_DAYS))
# next-purchase timing (issue 7): columns of the scored groups that go into the per-customer table
# expected_next_purchase_date is left blank below this P(alive) or beyond this many days (docs/timing.md).
NEXT_DATE_MIN_P_ALIVE = 0.5
NEXT_DATE_MAX_DAYS = 365.0
TIMING_COLUMNS = ("expected_next_purchase_date", "median_days_to_next_purchase",
                  *(f"p_purchase_{k}d" for k in HORIZONS_DAYS))


def _model(name: str) -> type:
    if name not in MODELS:
        raise InputError(key="err.unknown_model", value=name, choices=list(MODELS))
    return MODELS[name]


def new_model(name: str) -> Any:
    """An unfitted transaction model by its name in :data:`MODELS` (MBG/CNBD-k choosing ``k`` up to
    :data:`REGULAR_K_MAX`; it is fitted with ``litt``, see :func:`fit_model`)."""
    cls = _model(name)
    return cls(k_max=REGULAR_K_MAX) if cls is RegularBetaGeoModel else cls()


def fit_model(model: Any, frequency: Any, recency: Any, T: Any, *, litt: Any = None, weights: Any = None) -> Any:
    """Fit a transaction model; a regularity model (MBG/CNBD-k) also gets ``litt`` (sum of log inter-purchase
    times, per row: with ``weights``, the mean of the customers each row stands for)."""
    if isinstance(model, RegularBetaGeoModel):
        return model.fit(frequency, recency, T, litt=litt, weights=weights)
    return model.fit(frequency, recency, T, weights=weights)


def score_groups(model: Any, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray, *,
                 horizon_days: float = 365.0, discount_rate: float = 0.10, chunk_size: int = 50_000,
                 as_of: dt.date | None = None, timing_model: Any = None) -> pa.Table:
    """Transaction-model predictions for (frequency, recency, T) rows, computed ``chunk_size`` rows at a time.

    Returns an Arrow table with the inputs and ``p_alive``, ``expected_purchases_30d/90d/365d`` and
    ``discounted_purchases`` (continuously discounted expected purchases over ``horizon_days``), and the
    next-purchase timing of :func:`ltvkit.models.timing.next_purchase_timing` (``p_purchase_{7,14,30,60,90}d``,
    ``median_days_to_next_purchase``, and with ``as_of`` the ``expected_next_purchase_date``). A fitted
    ``timing_model`` (e.g. :class:`~ltvkit.models.RegularBetaGeoModel`) gives the timing columns instead of
    ``model``. :func:`score_group_chunks` gives the same rows a chunk at a time.
    """
    return pa.concat_tables(score_group_chunks(model, frequency, recency, T, horizon_days=horizon_days,
                                               discount_rate=discount_rate, chunk_size=chunk_size, as_of=as_of,
                                               timing_model=timing_model))


def score_group_chunks(model: Any, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray, *,
                       horizon_days: float = 365.0, discount_rate: float = 0.10, chunk_size: int = 50_000,
                       as_of: dt.date | None = None, timing_model: Any = None,
                       timing_frames: Iterator[pd.DataFrame] | None = None, warp: Any = None) -> Iterator[pa.Table]:
    """The rows of :func:`score_groups` as Arrow tables of at most ``chunk_size`` rows (at least one table,
    empty when there are no rows): memory stays that of a chunk, whatever the number of rows. ``timing_frames``
    gives the timing columns of each chunk, computed already (by a helper thread). ``warp`` (a function of an
    array of calendar days) gives the model's days for the expected purchases and the discounted purchases
    (seasonality's operational time); the timing columns stay in calendar days."""
    n = len(frequency)
    horizons = np.array([30.0, 90.0, 365.0])
    model_days = warp(horizons) if warp is not None else horizons
    for start in range(0, max(n, 1), chunk_size):
        sl = slice(start, min(start + chunk_size, n))
        x, tx, t = frequency[sl], recency[sl], T[sl]
        cols: dict[str, Any] = {"frequency": x, "recency": tx, "T": t}
        if len(x):
            cols["p_alive"] = model.p_alive(x, tx, t)
            for days, values in zip((30, 90, 365), model.expected_purchases_at(model_days, x, tx, t), strict=True):
                cols[f"expected_purchases_{days}d"] = values
            cols["discounted_purchases"] = discounted_expected_transactions(
                model, x, tx, t, annual_discount_rate=discount_rate, horizon=horizon_days, freq="D", nodes=8,
                warp=warp)
            # next-purchase timing (issue 7)
            if timing_frames is not None:
                timing = next(timing_frames)
            elif timing_model is not None:
                timing = timing_model.next_purchase_timing(x, tx, t)
            else:
                timing = next_purchase_timing(model, x, tx, t)
            for name in ("median_days_to_next_purchase", *(f"p_purchase_{k}d" for k in HORIZONS_DAYS)):
                cols[name] = timing[name].to_numpy(dtype=float)
            expected_days = timing["expected_days_to_next_purchase"].to_numpy(dtype=float)
        else:
            for name in ("p_alive", "expected_purchases_30d", "expected_purchases_90d", "expected_purchases_365d",
                         "discounted_purchases", "median_days_to_next_purchase",
                         *(f"p_purchase_{k}d" for k in HORIZONS_DAYS)):
                cols[name] = np.empty(0)
            expected_days = np.empty(0)
        if as_of is not None:
            dates = days_to_dates(as_of, expected_days)
            # A date only where it means something: the customer is more likely here than gone and the date
            # falls within a year; otherwise blank (a date in 2030 for a customer probably gone reads as a
            # promise).
            blank = (dates.isna().to_numpy() | (cols["p_alive"] < NEXT_DATE_MIN_P_ALIVE)
                     | ~(expected_days <= NEXT_DATE_MAX_DAYS))
            cols["expected_next_purchase_date"] = pa.array(dates.to_numpy().astype("datetime64[D]"), mask=blank,
                                                           type=pa.date32())
        yield pa.table({k: (v if isinstance(v, pa.Array) else np.asarray(v, dtype=float)) for k, v in cols.items()})


def _timing_items(unfitted: Any, g: dict[str, np.ndarray], chunk_size: int) -> Iterator[Any]:
    """The timing model fitted on the distinct rows (``None`` when it does not converge), then its timing columns
    for each chunk of :func:`score_group_chunks`: what the scoring's helper thread makes (:class:`Ahead`)."""
    try:
        fitted = unfitted.fit(g["frequency"], g["recency"], g["T"], litt=g["litt"], weights=g["n"])
    except ConvergenceError:
        fitted = None
    yield fitted
    if fitted is None:
        return
    x, tx, t = (g[c].astype(float) for c in ("frequency", "recency", "T"))
    for start in range(0, max(len(x), 1), chunk_size):
        sl = slice(start, start + chunk_size)
        yield fitted.next_purchase_timing(x[sl], tx[sl], t[sl])


def _numpy(table: Any) -> dict[str, np.ndarray]:
    """A small result of the engine (the compressed rows) as numpy columns."""
    arrow = table.to_pyarrow()
    return {name: arrow[name].to_numpy() for name in arrow.column_names}


def _fit_spend(r: Any) -> tuple[GammaGammaModel | None, float]:
    groups, mean = repeat_spend_groups(r)
    rows = _numpy(groups)
    value = mean.execute()
    fallback = float(value) if value is not None and value == value else 0.0
    if len(rows["n"]) < 20:
        warnings.warn("Fewer than 20 repeat-spend groups: expected spend is the mean repeat spend, not Gamma-Gamma.",
                      StatisticalWarning, stacklevel=3)
        return None, fallback
    try:
        gg = GammaGammaModel().fit(rows["frequency"], rows["monetary_value"], weights=rows["n"])
    except ConvergenceError:
        warnings.warn("Gamma-Gamma did not converge; expected spend is the mean repeat spend.",
                      StatisticalWarning, stacklevel=3)
        return None, fallback
    if gg.params_["q"] <= 1:
        warnings.warn("Gamma-Gamma has q <= 1 (very heavy-tailed spend); expected spend is the mean repeat spend.",
                      StatisticalWarning, stacklevel=3)
        return None, fallback
    return gg, fallback


def groups_fingerprint(groups: dict[str, Any]) -> str:
    """A short hash of the distinct ``(frequency, recency, T)`` rows and their counts, whatever their order: equal
    when the data the models see is equal (the regularity order ``k`` chosen on it can then be reused)."""
    cols = [np.asarray(groups[c], dtype=float) for c in ("frequency", "recency", "T", "n")]
    order = np.lexsort(cols[::-1])
    h = hashlib.sha256()
    for c in cols:
        h.update(np.ascontiguousarray(c[order]).tobytes())
    return h.hexdigest()[:16]


def score_rfm_table(ws: Any, rfm_table: Any, model: Any, *, horizon_days: float = 365.0,
                    discount_rate: float = 0.10, margin_rate: float = 1.0, chunk_size: int = 50_000,
                    as_of: dt.date | None = None, timing_model: Any = None,
                    timing_k: dict[str, Any] | None = None, litt: bool = False,
                    warp: Any = None) -> dict[str, Any]:
    """Fit ``model`` and Gamma-Gamma on a table of (customer_key, frequency, recency, T, monetary_value) in days
    (a workspace table's name, or an Ibis table on the workspace's engine), score its unique groups in chunks
    and return the per-customer Ibis expression.

    Only the distinct (frequency, recency, T) groups and repeat-spend groups come back to Python; the join
    that produces one row per customer runs in the engine. An unfitted ``timing_model`` (a regularity model,
    fitted here on the table's ``litt`` column) predicts the next-purchase timing columns; if it does not
    converge, the transaction model's timing is used with a warning. ``timing_k`` (``{"k": ..., "fingerprint":
    ...}``, what an earlier run stored) fixes the regularity order instead of choosing it again when the distinct
    rows are the same (:func:`groups_fingerprint`); the result's ``timing_k`` says which ``k`` was used and how.
    ``model`` may also be a function that returns the unfitted model: it is called while the timing model is
    being fitted in a helper thread (:func:`score_customers` chooses the model there). A regularity model
    (MBG/CNBD-k) as ``model`` is fitted on the table's ``litt`` column (``litt=True`` reads it without a timing
    model); the same model as ``timing_model`` is fitted once and serves as both. ``warp`` maps calendar days
    after ``as_of`` to the model's days for the expected purchases and CLV (seasonality; see
    :func:`score_group_chunks`).
    """
    t0 = time.perf_counter()
    with_litt = timing_model is not None or litt
    r = ws.backend.table(rfm_table) if isinstance(rfm_table, str) else rfm_table
    groups = _numpy(rfm_groups(r, litt=with_litt))
    if len(groups["n"]) == 0 or float(groups["T"].max()) <= 0:
        raise InputError(key="err.all_first_on_last_day")
    k_info = None
    if with_litt:
        fingerprint = groups_fingerprint(groups)
        k_info = {"fingerprint": fingerprint, "chosen_by": "likelihood"}
        if (timing_k and timing_k.get("fingerprint") == fingerprint and timing_k.get("k")
                and getattr(timing_model, "k", 0) is None):
            timing_model.k = int(timing_k["k"])  # the same data: the k chosen before
            k_info["chosen_by"] = "stored"

    # The timing model is fitted in a helper thread, which then computes its timing columns a chunk at a time,
    # while this one chooses (``model`` may be a callable that does, on the engine) and fits the transaction
    # model: both are numpy work that mostly runs outside the interpreter lock, so on two cores they overlap.
    # Only this thread uses the engine's connection.
    worker = (Ahead(_timing_items(timing_model, groups, chunk_size), name="ltvkit-timing")
              if timing_model is not None else None)
    try:
        if callable(model) and not hasattr(model, "fit"):
            model = model()
        tm, waited = None, False
        if worker is not None and _same_model(model, timing_model):
            timing_model, waited = next(worker), True  # the timing model is the transaction model: fitted once
            tm = timing_model
        if tm is None:
            try:
                tm = fit_model(model, groups["frequency"], groups["recency"], groups["T"], litt=groups.get("litt"),
                               weights=groups["n"])
            except ConvergenceError:
                if getattr(model, "penalizer", 0.0):
                    raise
                warnings.warn(f"{type(model).__name__} did not converge; refitted with penalizer=0.001.",
                              StatisticalWarning, stacklevel=2)
                refit = type(model)(**{**model.get_params(), "penalizer": 0.001})
                refit._standard_errors = model._standard_errors
                tm = fit_model(refit, groups["frequency"], groups["recency"], groups["T"], litt=groups.get("litt"),
                               weights=groups["n"])
        gg, fallback = _fit_spend(r)
        if worker is not None:
            if not waited:
                timing_model = next(worker)
            if timing_model is None:
                warnings.warn(f"The regularity model did not converge; next-purchase timing comes from "
                              f"{type(tm).__name__}.", StatisticalWarning, stacklevel=2)
    except BaseException:
        if worker is not None:
            worker.close()
        raise
    if k_info is not None:
        if timing_model is not None:
            k_info["k"] = int(timing_model.k_)
        else:
            k_info = None
    t_fit = time.perf_counter() - t0
    t1 = time.perf_counter()
    n_groups = len(groups["n"])
    scored = score_group_chunks(tm, groups["frequency"].astype(float), groups["recency"].astype(float),
                                groups["T"].astype(float), horizon_days=horizon_days, discount_rate=discount_rate,
                                chunk_size=chunk_size, as_of=as_of, timing_model=timing_model,
                                timing_frames=worker if worker is not None and timing_model is not None else None,
                                warp=warp)
    del groups
    # the scores of the distinct rows go to the engine a chunk at a time, and are joined there
    try:
        sc = ws.engine_table("_ltv_scored", scored)
    finally:
        if worker is not None:
            worker.close()
    if gg is not None:
        p, q, v = (float(gg.params_[k]) for k in ("p", "q", "v"))
        spend = ibis.cases(((r.frequency > 0) & (r.monetary_value > 0),
                            (p * v + p * r.frequency * r.monetary_value) / (p * r.frequency + (q - 1))),
                           else_=p * v / (q - 1))
    else:
        spend = ibis.literal(fallback, "float64")
    j = r.join(sc, [r.frequency == sc.frequency, r.recency == sc.recency, r["T"] == sc["T"]])
    expr = j.select(customer_key=r.customer_key, p_alive=sc.p_alive,
                    expected_purchases_30d=sc.expected_purchases_30d, expected_purchases_90d=sc.expected_purchases_90d,
                    expected_purchases_365d=sc.expected_purchases_365d, expected_spend=spend,
                    predicted_clv=sc.discounted_purchases * spend * float(margin_rate), churn_risk=1 - sc.p_alive,
                    **{c: sc[c] for c in TIMING_COLUMNS if c in sc.columns})
    return {"model": tm, "spend_model": gg, "mean_spend": fallback, "expr": expr, "unique_rows": n_groups,
            "timing_model": timing_model, "timing_k": k_info,
            "fit_seconds": t_fit, "score_seconds": time.perf_counter() - t1}


def _same_model(model: Any, other: Any) -> bool:
    """Whether two unfitted models are the same regularity model with the same settings (fitted once)."""
    if not isinstance(model, RegularBetaGeoModel) or type(other) is not type(model):
        return False
    mine, theirs = model.get_params(), other.get_params()
    if mine["k"] is None:  # choosing k: the same as a timing model given the k stored for the same data
        mine.pop("k"), theirs.pop("k")
    return mine == theirs


def _unreported(model: Any) -> Any:
    """``model``, set to be fitted without standard errors: the pipeline's scores and what it stores and prints
    (parameters, log-likelihood) do not use them, and on all rows they cost k more gradient evaluations."""
    model._standard_errors = False
    return model


def score_customers(ws: Any, model: str = "auto", horizon_days: float = 365.0, discount_rate: float = 0.10,
                    margin_rate: float = 1.0, as_of: dt.date | None = None, chunk_size: int = 50_000,
                    timing: str = "regular", timing_k: dict[str, Any] | None = None,
                    seasonality: str = "auto", calendar: Any = None) -> dict[str, Any]:
    """Fit a transaction model and Gamma-Gamma on the workspace's orders as of ``as_of`` and score every customer.

    Stores nothing: returns the per-customer Ibis expression (``expr``, valid until :func:`drop_scoring_tables`)
    with the fitted models (fitted without standard errors, which the scores do not use: fit a model directly for
    them) and timings; :func:`ltvkit.pipeline.predict_customers` stores it under a run.

    Parameters
    ----------
    ws : Workspace
    model : {"bgnbd", "mbgnbd", "pnbd", "mbgcnbd", "auto"}
        Transaction model (time unit: days); "mbgcnbd" is MBG/CNBD-k (regular inter-purchase times, ``k`` up to
        :data:`REGULAR_K_MAX` chosen by likelihood); "auto" (the default) picks the one with the lowest holdout
        MAE (:func:`choose_model`, the criterion of :func:`validate_models`) on a calibration/holdout split of
        the same summary query, and falls back to "mbgnbd" when the history is too short to compare.
    horizon_days, discount_rate, margin_rate
        CLV horizon, annual discount rate (continuous discounting), share of spend kept as margin.
    as_of : date
        The observation end (resolved by the pipeline); later orders are ignored.
    chunk_size : int
        Groups scored per numpy chunk.
    timing : {"regular", "model"}
        Which model predicts the next-purchase timing columns: ``regular`` (default) is MBG/CNBD-k
        (:class:`~ltvkit.models.RegularBetaGeoModel`), ``model`` uses the transaction model itself.
    timing_k : dict, optional
        The regularity order an earlier run chose and the fingerprint of its data (the result's ``timing_k``):
        reused when the data are the same, so ``k`` is chosen once per shop and data.
    seasonality : {"auto", "on", "off"}
        Whether the expected purchases and CLV follow the shop's seasonal pace of repeat buying (weekday, mall
        campaigns of ``calendar``, month of year; :class:`~ltvkit.models.seasonality.SeasonalProfile`): "auto"
        (the default) when it lowers the chosen model's holdout MAE, summed over the first 30 and 90 days and
        the whole holdout of the calibration split, by at least 1%; "on" whenever a profile can be fitted.
        The result's ``seasonality`` says what was used and why.
    """
    if timing not in ("regular", "model"):
        raise InputError(key="err.unknown_timing", value=timing)
    if seasonality not in ("auto", "on", "off"):
        raise InputError(key="err.unknown_seasonality", value=seasonality)
    chosen_by = "option"
    if model != "auto":
        _model(model)
    if horizon_days <= 0:
        raise InputError(key="err.positive", option="--horizon-days")
    if not 0 < margin_rate <= 1:
        raise InputError(key="err.margin_rate")
    if discount_rate <= 0:
        raise InputError(key="err.discount_rate")
    ws.require_orders()
    obs = _observation_end(ws, as_of)
    t0 = time.perf_counter()
    split = None
    if model == "auto" or seasonality == "auto":
        try:
            split = holdout_split(ws, obs)
        except InputError:
            if model == "auto":
                model, chosen_by = "mbgnbd", "default (too little history to validate)"
    orders = ws.orders(include_cancelled=False)
    judge = seasonality == "auto" and split is not None
    # one pass over the orders gives the summary and, for --model auto, its calibration/holdout split
    # litt for the regularity model: the timing's, and MBG/CNBD-k as a transaction model (or a candidate of auto)
    litt = timing == "regular" or model in ("auto", "mbgcnbd")
    rfm = rfm_summary(orders, observation_end=obs, freq="D", litt=litt, split_at=split,
                      holdout_windows=SEASONAL_WINDOWS if judge else ())
    rfm_table = ws.engine_table("_ltv_rfm", rfm)
    chosen: dict[str, Any] = {"model": model, "chosen_by": chosen_by, "choice": None, "seasonal": False}
    seasonal: dict[str, Any] = {"reason": "option"} if seasonality == "off" else {}

    def transaction_model() -> Any:
        # --model auto: the choice on the calibration split, made while the timing model is being fitted; with
        # --seasonality auto, the seasonal pace judged there too (its profiles fitted here, meanwhile as well)
        if seasonality != "off":
            seasonal.update(_seasonal_profiles(orders, obs, split if judge else None, calendar, rfm_table,
                                               ahead_days=max(400.0, horizon_days + 35.0)))
            chosen["seasonal"] = seasonality == "on" and "full" in seasonal
        if split is not None:
            horizon = float((obs - split).days)
            operational = None
            if "calibration" in seasonal:
                days = sorted({horizon, *(float(d) for d in SEASONAL_WINDOWS if d < horizon)})
                operational = dict(zip(days, seasonal["calibration"].operational(split, days, seasonal["covariates"]),
                                       strict=True))
            try:
                choice = choose_model(_numpy(calibration_groups(rfm_table)), horizon=horizon,
                                      models=AUTO_MODELS if chosen["model"] == "auto" else (chosen["model"],),
                                      operational=operational)
                choice.update(calibration_end=split.isoformat(), holdout_days=(obs - split).days)
                if chosen["model"] == "auto":
                    chosen.update(model=choice["chosen"], chosen_by="validation", choice=choice)
                judged = choice.get("seasonality")
                if judged is not None:
                    chosen["seasonal"] = judged["mae_seasonal"] < (1 - SEASONAL_MIN_GAIN) * judged["mae_plain"]
                    seasonal["judged"] = judged
            except (InputError, ConvergenceError):
                if chosen["model"] == "auto":
                    chosen.update(model="mbgnbd", chosen_by="default (too little history to validate)")
        return _unreported(new_model(chosen["model"]))

    def warp(t: np.ndarray) -> np.ndarray:
        """Calendar days after ``obs`` -> the model's (operational) days, when seasonality is used."""
        if not chosen["seasonal"]:
            return np.asarray(t, dtype=float)
        return seasonal["full"].operational(obs, t, seasonal["covariates"])

    scored = score_rfm_table(ws, rfm_table, transaction_model, horizon_days=horizon_days,
                             discount_rate=discount_rate, margin_rate=margin_rate, chunk_size=chunk_size, as_of=obs,
                             timing_model=_unreported(new_model("mbgcnbd")) if timing == "regular" else None,
                             timing_k=timing_k, litt=litt, warp=warp)
    model, chosen_by, choice = chosen["model"], chosen["chosen_by"], chosen["choice"]
    tm, gg, fallback = scored["model"], scored["spend_model"], scored["mean_spend"]
    timing_model = scored["timing_model"]
    regular = timing_model if timing_model is not None else tm
    timing_name = f"MBG/CNBD-{regular.k_}" if isinstance(regular, RegularBetaGeoModel) else model
    return {
        "expr": scored["expr"], "model": model, "model_chosen_by": chosen_by, "model_choice": choice, "as_of": obs,
        "unique_rows": int(scored["unique_rows"]), "transaction_model": tm, "spend_model": gg,
        "mean_spend": fallback, "timing_model": timing_name, "timing_k": scored["timing_k"],
        "seasonality": _seasonality_summary(seasonality, seasonal, chosen["seasonal"], obs, warp),
        "fit_seconds": time.perf_counter() - t0 - scored["score_seconds"], "score_seconds": scored["score_seconds"],
    }


#: Windows after the calibration end (days) on which ``--seasonality auto`` judges the seasonal pace, besides the
#: whole holdout; and the share of the summed MAE it must save to be used.
SEASONAL_WINDOWS = (30, 90)
#: The summary's column of the purchases in such a window is this prefix and its days (``rfm_summary``).
WINDOW_PREFIX = "frequency_holdout_"
SEASONAL_MIN_GAIN = 0.01


def _seasonal_profiles(orders: Any, obs: dt.date, split: dt.date | None, calendar: Any,
                       rfm: Any = None, ahead_days: float = 400.0) -> dict[str, Any]:
    """The seasonal profile of repeat buying fitted on the history to ``obs`` (``full``) and, given ``split``, on
    the history to it (``calibration``), with the campaign covariates from the first order to ``ahead_days``
    after ``obs``; ``reason`` instead when there is too little history for a profile."""
    from .features.seasonality import calendar_covariates, daily_repeat_series, shop_malls
    from .models.seasonality import SeasonalProfile

    series = daily_repeat_series(orders, obs, rfm)
    if series.empty:
        return {"reason": "too little history"}
    malls = shop_malls(series)
    days = pd.date_range(series["day"].min(), pd.Timestamp(obs) + pd.Timedelta(days=int(ahead_days)), freq="D")
    cov = calendar_covariates(days, malls, calendar)
    out: dict[str, Any] = {"covariates": cov, "malls": malls}
    try:
        out["full"] = SeasonalProfile().fit(series, cov)
        if split is not None:
            out["calibration"] = SeasonalProfile().fit(series[series["day"] <= pd.Timestamp(split)], cov)
    except (InputError, ConvergenceError) as exc:
        out.pop("calibration", None)
        if "full" not in out:
            return {"reason": "too little history" if isinstance(exc, InputError) else "no convergence"}
    return out


def _seasonality_summary(option: str, seasonal: dict[str, Any], used: bool, obs: dt.date, warp: Any) -> dict[str, Any]:
    """What ``score_customers`` reports about seasonality: used or not and why, the judged MAE, the fitted
    multipliers (exp of each effect) and the operational days of the 30/90/365-day horizons."""
    out: dict[str, Any] = {"option": option, "used": bool(used)}
    if "reason" in seasonal:
        out["reason"] = seasonal["reason"]
    elif option == "auto":
        out["reason"] = "validation" if "judged" in seasonal else "no holdout to judge on"
    else:
        out["reason"] = "option"
    if "judged" in seasonal:
        out.update({k: round(float(v), 6) for k, v in seasonal["judged"].items() if k.startswith("mae_")})
    if "full" in seasonal:
        coef = seasonal["full"].coef_
        out["multipliers"] = {k: round(float(np.exp(v)), 4) for k, v in coef.items()
                              if k not in ("intercept", "trend", "trend2")}
        out["malls"] = seasonal["malls"]
    if used:
        out["operational_days"] = {int(d): round(float(v), 3) for d, v in
                                   zip((30, 90, 365), warp(np.array([30.0, 90.0, 365.0])), strict=True)}
    return out


def drop_scoring_tables(ws: Any) -> None:
    """Drop the temporary tables :func:`score_customers` leaves for its expression."""
    for name in ("_ltv_rfm", "_ltv_scored"):
        ws.drop_temp_table(name)


def _observation_end(ws: Any, as_of: Any) -> dt.date:
    """``as_of`` as a date, else the pipeline's rule (the last valid order date)."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    from .features._orders import resolve_as_of

    return resolve_as_of(ws.orders(), None)


def holdout_split(ws: Any, obs: dt.date, calibration_end: Any = None) -> dt.date:
    """The calibration end of a holdout check: ``calibration_end`` when given, else a third of the history
    before ``obs`` (at most 365 days, at least 1); one rule for ``ltv validate`` and ``--model auto``."""
    first = pd.Timestamp(ws.first_order_date()).date()
    if calibration_end is None:
        span = (obs - first).days
        calibration_end = obs - dt.timedelta(days=max(1, min(365, span // 3)))
    cal = pd.Timestamp(calibration_end).date()
    if not first < cal < obs:
        raise InputError(key="err.calibration_end", first=str(first), last=str(obs))
    return cal


#: Transaction models ``--model auto`` chooses among, in the order that breaks a tie.
AUTO_MODELS = ("bgnbd", "mbgnbd", "pnbd", "mbgcnbd")
#: Distinct calibration rows above which ``--model auto`` compares the models on a weight-proportional subsample.
CHOICE_ROWS = 10_000
#: Of those, the rows on which MBG/CNBD-k chooses its ``k`` before the chosen ``k`` is fitted on all of them.
CHOICE_K_ROWS = 2_000


def calibration_groups(rfm: Any) -> Any:
    """The distinct ``(frequency_cal, recency_cal, T_cal, frequency_holdout)`` rows of a summary made with
    ``split_at`` (customers known at the split only), with their count ``n``: all a holdout MAE needs; and the
    mean ``litt`` before the split when the summary has it (MBG/CNBD-k's likelihood is linear in it)."""
    known = rfm.filter(rfm.T_cal.notnull())
    cols = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout",
            *sorted((c for c in rfm.columns if c.startswith(WINDOW_PREFIX)), key=lambda c: int(c[len(WINDOW_PREFIX):]))]
    extra = {"litt": known.litt_cal.mean()} if "litt_cal" in rfm.columns else {}
    return known.group_by(cols).aggregate(n=known.count(), **extra).order_by(cols)


def choose_model(groups: dict[str, np.ndarray], horizon: float, models: tuple[str, ...] = AUTO_MODELS,
                 max_rows: int = CHOICE_ROWS, random_state: int = 0,
                 operational: dict[float, float] | None = None) -> dict[str, Any]:
    """The transaction model with the lowest holdout MAE of purchase counts (what :func:`validate_models`
    chooses by), computed on the distinct calibration rows of :func:`calibration_groups`.

    Each model is fitted on the calibration ``(frequency, recency, T)`` and predicts the purchases of the next
    ``horizon`` days; MAE is the customer-weighted mean absolute error against ``frequency_holdout``. MBG/CNBD-k
    ("mbgcnbd") is compared only when the rows carry ``litt`` (its regularity needs it). Above
    ``max_rows`` distinct rows, fits and MAE use a weight-proportional subsample of the rows (the heavy rows
    always kept, the others reweighted by the inverse of their probability), so the choice costs the same on
    any shop; the chosen model is then fitted on all customers by the caller. Returns ``chosen``, ``mae`` per
    model, ``customers`` and ``rows`` (the rows compared). Raises :class:`InputError` when there are too few
    repeat customers to compare, :class:`ConvergenceError` when no model converges.

    ``operational`` (``{days: operational days}`` for ``horizon`` and each ``frequency_holdout_<days>`` window
    of ``groups``, from :meth:`~ltvkit.models.seasonality.SeasonalProfile.operational`) also judges seasonality:
    the chosen model's MAE summed over the windows, asked for calendar days and for operational days
    (``seasonality``: ``mae_plain``, ``mae_seasonal``, ``windows``).
    """
    from .models._base import _weighted_subsample

    x, tx, t, h = (np.asarray(groups[c], dtype=float) for c in
                   ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout"))
    windows = {float(horizon): h}
    windows.update({float(c[len(WINDOW_PREFIX):]): np.asarray(groups[c], dtype=float) for c in groups
                    if c.startswith(WINDOW_PREFIX) and float(c[len(WINDOW_PREFIX):]) < horizon})
    w = np.asarray(groups["n"], dtype=float)
    if w.sum() < 10 or float(w @ x) == 0:
        raise InputError(key="err.too_few_repeaters")
    litt = np.asarray(groups["litt"], dtype=float) if "litt" in groups else None
    if litt is None:
        models = tuple(m for m in models if _model(m) is not RegularBetaGeoModel)
    if len(w) > max_rows:
        idx, w = _weighted_subsample(w, max_rows, random_state)
        x, tx, t, h = x[idx], tx[idx], t[idx], h[idx]
        windows = {days: a[idx] for days, a in windows.items()}
        litt = litt[idx] if litt is not None else None
    mae: dict[str, float] = {}
    fitted: dict[str, Any] = {}
    for name in models:
        m = new_model(name)
        m._quiet = True  # compared here, not reported: its standard errors do not matter
        m._standard_errors = False
        if isinstance(m, RegularBetaGeoModel):  # k chosen on fewer rows (the same k; a third of the time)
            m._subsample_above = m._choose_k_rows = CHOICE_K_ROWS
        try:
            fit_model(m, x, tx, t, litt=litt, weights=w)
        except ConvergenceError as exc:
            warnings.warn(f"{name} did not converge on the calibration data: {exc}", StatisticalWarning,
                          stacklevel=2)
            continue
        pred = np.asarray(m.expected_purchases(float(horizon), x, tx, t), dtype=float)
        if not np.isfinite(pred).all():  # e.g. parameters at a boundary (r and alpha without bound)
            warnings.warn(f"{name} predicts no number for some customers on the calibration data "
                          f"(parameters {m.params_.round(6).to_dict()}); it is left out of the choice.",
                          StatisticalWarning, stacklevel=2)
            continue
        mae[name] = float(w @ np.abs(pred - h) / w.sum())
        fitted[name] = m
    if not mae:
        raise ConvergenceError("No model converged on the calibration data; choose a longer calibration period.")
    chosen = min(mae, key=lambda k: (mae[k], models.index(k)))
    out = {"chosen": chosen, "mae": mae, "customers": int(round(float(groups["n"].sum()))), "rows": int(len(w))}
    if operational is not None:
        m, days = fitted[chosen], sorted(windows)
        plain = m.expected_purchases_at(days, x, tx, t)
        warped = m.expected_purchases_at([operational[d] for d in days], x, tx, t)
        err = {kind: float(sum(w @ np.abs(p - windows[d]) for p, d in zip(pred, days, strict=True)) / w.sum())
               for kind, pred in (("mae_plain", plain), ("mae_seasonal", warped))}
        out["seasonality"] = {**err, "windows": [int(d) for d in days]}
    return out


def validate_models(ws: Any, calibration_end: dt.date | str | None = None, as_of: dt.date | str | None = None,
                    models: tuple[str, ...] = AUTO_MODELS, detail: bool = True) -> dict[str, Any]:
    """Calibration/holdout validation of the transaction models on the workspace's orders.

    Returns model comparison (log-likelihood, AIC, BIC, MAE, RMSE of holdout purchases), per-customer errors,
    weekly cumulative tracking, calibration by frequency bucket, and Gini and decile lift of predicted holdout
    value, for the model with the lowest holdout MAE (``chosen``). With ``detail=False`` only the comparison
    (``models``, ``chosen``) and the ``tracking`` (what the report shows and the pipeline stores), the same
    values, without the per-customer parts, the spend model and the timing table.
    """
    ws.require_orders()
    obs = _observation_end(ws, as_of)
    cal = holdout_split(ws, obs, calibration_end)
    orders = ws.orders(include_cancelled=False)
    rfm = rfm_summary(orders, observation_end=obs, calibration_end=cal, freq="D", litt=True)
    if not detail:  # the columns the comparison and the tracking read
        rfm = rfm.select("frequency", "recency", "T", "litt", "frequency_holdout", "duration_holdout")
    rfm = rfm.to_pandas()
    if len(rfm) < 10 or rfm["frequency"].sum() == 0:
        raise InputError(key="err.too_few_repeaters")
    x, tx, t = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    horizon = float(rfm["duration_holdout"].iloc[0])
    actual = rfm["frequency_holdout"].to_numpy(float)
    litt = rfm["litt"].to_numpy(float)
    fitted = {}
    for name in models:
        try:
            fitted[name] = fit_model(new_model(name), x, tx, t, litt=litt)
        except ConvergenceError as exc:
            warnings.warn(f"{name} did not converge on the calibration data: {exc}", StatisticalWarning, stacklevel=2)
    if not fitted:
        raise ConvergenceError("No model converged on the calibration data; choose a longer calibration period.")
    comparison = compare_models(fitted, x, tx, t, actual=actual, t=horizon)
    chosen = str(comparison.sort_values("mae", kind="stable")["model"].iloc[0])
    best = fitted[chosen]
    hold = orders.filter((orders.order_date > cal) & (orders.order_date <= obs))
    cal_customers = orders.filter(orders.order_date <= cal).select("customer_key").distinct()
    hold = hold.semi_join(cal_customers, "customer_key").select("customer_key", "order_date").distinct()
    offsets = hold.select(d=hold.order_date.epoch_days() - ibis.literal(cal).epoch_days()).to_pandas()["d"]
    out = {"calibration_end": cal.isoformat(), "observation_end": obs.isoformat(), "holdout_days": horizon,
           "customers": int(len(rfm)), "chosen": chosen, "models": comparison,
           "tracking": cumulative_tracking(best, x, tx, t, offsets.to_numpy(float), horizon, step=7.0)}
    if not detail:
        return out
    # the predictions and timing tables on the distinct (frequency, recency, T) rows, then one row per customer
    first, back = distinct_rows(x, tx, t)
    ux, utx, ut = x[first], tx[first], t[first]
    predicted = np.asarray(best.expected_purchases(horizon, ux, utx, ut), dtype=float)[back]
    spend = rfm["monetary_value"].to_numpy(float)
    repeat = (x > 0) & (spend > 0)
    try:
        gg = GammaGammaModel().fit(x[repeat], spend[repeat]) if repeat.sum() >= 20 else None
    except ConvergenceError:
        gg = None
    exp_spend = (np.asarray(gg.expected_spend(x, spend)) if gg is not None and gg.params_["q"] > 1
                 else np.full(len(x), spend[repeat].mean() if repeat.any() else 0.0))
    actual_value = actual * rfm["monetary_value_holdout"].to_numpy(float)
    first_hold = hold.group_by("customer_key").aggregate(
        d=hold.order_date.min().epoch_days() - ibis.literal(cal).epoch_days()).to_pandas()
    actual_days = rfm["customer_key"].map(first_hold.set_index("customer_key")["d"]).to_numpy(float)
    def per_customer(table: pd.DataFrame) -> pd.DataFrame:
        return table.iloc[back].reset_index(drop=True)

    timings = {name: per_customer(next_purchase_timing(m, ux, utx, ut, window_days=horizon))
               for name, m in fitted.items()}
    if "mbgcnbd" in timings:  # named with its k
        timings[f"mbgcnbd-{fitted['mbgcnbd'].k_}"] = timings.pop("mbgcnbd")
    else:
        try:
            regular = fit_model(new_model("mbgcnbd"), x, tx, t, litt=litt)
            timings[f"mbgcnbd-{regular.k_}"] = per_customer(regular.next_purchase_timing(
                ux, utx, ut, window_days=horizon))
        except ConvergenceError as exc:
            warnings.warn(f"The regularity model did not converge on the calibration data: {exc}",
                          StatisticalWarning, stacklevel=2)
    timing = timing_validation_table(timings, actual_days, horizon).reset_index()
    return {
        **out,
        "errors": holdout_errors(predicted, actual),
        "calibration": calibration_by_frequency(x, predicted, actual),
        "gini": gini(predicted * exp_spend, actual_value),
        "deciles": decile_lift(predicted * exp_spend, actual_value),
        "timing": timing,
    }
