"""The one pipeline: each result is computed and stored here, under a run, as of one resolved date.

The CLI commands, ``ltv demo`` and the report call these functions; report sections only read what they return.
Every function resolves the analysis date with :func:`resolve_as_of`, computes through ``features``, ``scoring``
or ``recommend``, and stores the result in the workspace under a new run (see :meth:`Workspace.runs`) unless
the workspace is open read-only. With ``reuse=True`` a stored run of the same result, as of the same day and with
the same parameters, is read instead of computed again; with ``compute=False`` nothing is computed and ``None``
comes back when nothing is stored.

==================  =========================================  ==========================================
function            stored as                                  used by
==================  =========================================  ==========================================
summary             result_summary (one row)                   ltv summary, demo, report KPIs
cohorts             result_cohorts (long form)                 ltv cohorts, demo, report cohorts
cohort_summary      result_cohort_summary                      ltv cohorts, report KPIs/cohorts/CAC
f2                  result_f2                                  ltv f2, demo, report F2
golden_time         result_golden_time, result_golden_summary  ltv f2 --golden, report F2
segments            result_segments_rfm / _cpm                 ltv segments, demo, report segments
points              result_point_dependence                    ltv points, demo, report points
point_curves        result_point_ltv_curves                    report points
campaign_share      result_campaign_share                      report points
cac                 result_cac                                 ltv cac, demo, report CAC
predictions         result_predictions                         ltv predict, demo, report predictions
validation          result_tracking, result_model_comparison   ltv validate, report predictions
recommendations     result_recommendations                     ltv recommend, demo, report
replenishment       result_replenishment                       ltv recommend --due-soon
==================  =========================================  ==========================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from ._dates import parse_date
from .calendar import CampaignCalendar
from .exceptions import InputError
from .features import (
    CpmSettings,
    MarginSettings,
    cac_table,
    cohort_expr,
    cohort_summary,
    f2_table,
    golden_time,
    point_dependence,
    read_costs,
    segment_customers,
    shop_summary,
)
from .features._orders import resolve_as_of as _resolve_orders_as_of
from .features._orders import sharing_order_tables
from .store import Run, Workspace

__all__ = [
    "Result",
    "cac",
    "campaign_share",
    "cohort_summary_result",
    "cohorts",
    "f2",
    "golden",
    "point_curves",
    "points",
    "predict_customers",
    "predictions",
    "recommend_workspace",
    "recommendation_count",
    "recommendation_frame",
    "recommendations",
    "replenishment",
    "resolve_as_of",
    "segments",
    "shared_order_tables",
    "summary",
    "validation",
]


@dataclass
class Result:
    """What a pipeline function computed or read: the data, the run that stored it, and its parameters.

    ``data`` is a pandas DataFrame, an Ibis table of the stored rows, or a dict (``summary``); ``run`` is
    ``None`` when the workspace is read-only and the result was computed without being stored.
    """

    name: str
    data: Any
    as_of: dt.date
    params: dict[str, Any]
    run: Run | None = None
    details: dict[str, Any] = field(default_factory=dict)
    reused: bool = False


def resolve_as_of(ws: Workspace, as_of: dt.date | str | None = None) -> dt.date:
    """The analysis date of every command: ``as_of`` (a date or YYYY-MM-DD), else the last valid order date."""
    as_of = parse_date(as_of, "--as-of")
    ws.require_orders()
    return _resolve_orders_as_of(ws.orders(), as_of)


# -- the machinery ----------------------------------------------------------------------------------------------

@contextmanager
def shared_order_tables(ws: Workspace) -> Iterator[None]:
    """Within the block, the analyses of ``ws`` group the order lines into orders once per distinct set of
    arguments (date, margin settings, calendar) and read that table afterwards: the report's two dozen analyses
    share one pass over the lines. On DuckDB the tables are temporary tables of the connection, dropped on leaving
    the block (a read-only workspace can hold them too); on Spark cached tables of the session, released when
    the block lets go of them."""
    with sharing_order_tables(ws.engine_table) as shared:
        try:
            yield
        finally:
            if ws.engine == "duckdb":
                for name in shared.names:
                    ws.drop_temp_table(name)


def _margin_params(settings: MarginSettings | None) -> dict[str, Any]:
    return (settings or MarginSettings()).model_dump(mode="json")


def _fingerprint(frame: pd.DataFrame) -> str:
    text = frame.to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _calendar_params(calendar: CampaignCalendar | None) -> str:
    cal = calendar or CampaignCalendar.default()
    if calendar is None or cal.to_dict() == CampaignCalendar.default().to_dict():
        return "default"
    text = json.dumps(cal.to_dict(), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read(ws: Workspace, run: Run, name: str, frame: bool) -> Any:
    table = ws.read_result(name, run_id=run.run_id)
    return table.to_pandas() if frame else table


def _step(ws: Workspace, name: str, kind: str, day: dt.date, params: dict[str, Any],
          compute: Callable[[], Any], *, reuse: bool, allow_compute: bool, frame: bool,
          details: dict[str, Any] | None = None) -> Result | None:
    """Read the stored run of ``name`` as of ``day`` with ``params`` (``reuse``), or compute ``name`` and store it
    under a new run (not on a read-only workspace); ``None`` when nothing is stored and computing is not allowed."""
    if reuse or not allow_compute:
        run = ws.result_run(name, as_of=day, params=params)
        if run is not None:
            return Result(name, _read(ws, run, name, frame), run.as_of or day, run.params, run, run.details, True)
    if not allow_compute:
        return None
    data = compute()
    if ws.read_only:
        if isinstance(data, ibis.Expr) and frame:
            data = data.to_pandas()
        return Result(name, data, day, params, None, details or {})
    run_id = ws.start_run(kind, as_of=day, params=params, details=details)
    ws.write_result(name, data, run_id=run_id)
    run = ws.result_run(name)
    if isinstance(data, ibis.Expr) or not frame:
        data = ws.read_result(name, run_id=run.run_id)
        if frame:
            data = data.to_pandas()
    return Result(name, data, day, params, run, details or {})


# -- measured LTV ------------------------------------------------------------------------------------------------

def summary(ws: Workspace, as_of: Any = None, *, settings: MarginSettings | None = None,
            discount_rate: float = 0.10, reuse: bool = False, compute: bool = True) -> Result | None:
    """The shop's KPIs (:func:`ltvkit.features.shop_summary`); ``data`` is a dict, stored as one row."""
    day = resolve_as_of(ws, as_of)
    params = {"discount_rate": discount_rate, "margin": _margin_params(settings)}

    def run() -> pd.DataFrame:
        values = shop_summary(ws.orders(), day, settings=settings, products=ws.products_with_rows(),
                              discount_rate=discount_rate)
        return pd.DataFrame([{k: (float("nan") if v is None else v) for k, v in values.items()}])

    res = _step(ws, "summary", "summary", day, params, run, reuse=reuse, allow_compute=compute, frame=True)
    if res is not None:
        res.data = _row_dict(res.data)
    return res


def _row_dict(frame: pd.DataFrame) -> dict[str, Any]:
    row = frame.iloc[0].to_dict()
    out: dict[str, Any] = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and v != v):
            out[k] = None
        elif k == "as_of":
            out[k] = pd.Timestamp(v).date()
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def cohorts(ws: Workspace, as_of: Any = None, *, by: str = "month", split: str | None = None,
            period: str = "days", step_days: int = 30, max_days: int = 720,
            settings: MarginSettings | None = None, reuse: bool = False, compute: bool = True) -> Result | None:
    """The cohort matrix in long form (:func:`ltvkit.features.cohort_expr`) as a DataFrame."""
    day = resolve_as_of(ws, as_of)
    params = {"by": by, "split": split, "period": period, "step_days": step_days, "max_days": max_days,
              "margin": _margin_params(settings)}
    return _step(ws, "cohorts", "cohorts", day, params,
                 lambda: cohort_expr(ws.orders(), day, by=by, split=split, period=period, step_days=step_days,
                                     max_days=max_days, settings=settings,
                                     products=ws.products_with_rows()).to_pandas(),
                 reuse=reuse, allow_compute=compute, frame=True)


def cohort_summary_result(ws: Workspace, as_of: Any = None, *, by: str = "month", split: str | None = None,
                          settings: MarginSettings | None = None, reuse: bool = False,
                          compute: bool = True) -> Result | None:
    """12- and 24-month revenue and margin LTV per cohort (:func:`ltvkit.features.cohort_summary`)."""
    day = resolve_as_of(ws, as_of)
    params = {"by": by, "split": split, "margin": _margin_params(settings)}
    return _step(ws, "cohort_summary", "cohorts", day, params,
                 lambda: cohort_summary(ws.orders(), day, by=by, split=split, settings=settings,
                                        products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=True)


def f2(ws: Workspace, as_of: Any = None, *, windows: tuple[int, ...] = (30, 60, 90, 180, 365), by: str = "month",
       split: str | None = None, reuse: bool = False, compute: bool = True) -> Result | None:
    """F2/F3 conversion per cohort within fixed windows (:func:`ltvkit.features.f2_table`)."""
    day = resolve_as_of(ws, as_of)
    params = {"windows": list(windows), "by": by, "split": split}
    return _step(ws, "f2", "f2", day, params,
                 lambda: f2_table(ws.orders(), day, windows=tuple(windows), by=by, split=split,
                                  products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=True)


def golden(ws: Workspace, as_of: Any = None, *, bin_days: int = 7, horizon_days: int = 364, min_at_risk: int = 30,
           by_category: bool = True, reuse: bool = False,
           compute: bool = True) -> tuple[Result, Result] | None:
    """The second-purchase life table and golden time (:func:`ltvkit.features.golden_time`), stored together.

    Returns ``(life_table, golden)`` results (``result_golden_time`` and ``result_golden_summary``).
    """
    day = resolve_as_of(ws, as_of)
    params = {"bin_days": bin_days, "horizon_days": horizon_days, "min_at_risk": min_at_risk,
              "by_category": by_category}
    if reuse or not compute:
        run = ws.result_run("golden_summary", as_of=day, params=params)
        if run is not None:
            table = ws.read_result("golden_time", run_id=run.run_id).to_pandas()
            gold = _nullable(ws.read_result("golden_summary", run_id=run.run_id).to_pandas())
            return (Result("golden_time", table, day, params, run, reused=True),
                    Result("golden_summary", gold, day, params, run, reused=True))
    if not compute:
        return None
    table, gold = golden_time(ws.orders(), day, bin_days=bin_days, horizon_days=horizon_days,
                              min_at_risk=min_at_risk, by_category=by_category, products=ws.products_with_rows())
    run = None
    if not ws.read_only:
        run_id = ws.start_run("golden_time", as_of=day, params=params)
        ws.write_result("golden_time", table, run_id=run_id)
        ws.write_result("golden_summary", gold, run_id=run_id)
        run = ws.result_run("golden_summary")
    return Result("golden_time", table, day, params, run), Result("golden_summary", gold, day, params, run)


def _nullable(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values read back from the store as ``None`` in object columns (as the features return them)."""
    out = frame.astype(object)
    return out.where(out.notna(), None)


def segments(ws: Workspace, as_of: Any = None, *, kind: str = "rfm", cpm: CpmSettings | None = None,
             settings: MarginSettings | None = None, reuse: bool = False, compute: bool = True) -> Result | None:
    """Per-customer RFM groups or CPM segments (:func:`ltvkit.features.segment_customers`), an Ibis table."""
    day = resolve_as_of(ws, as_of)
    params = {"kind": kind, "cpm": (cpm or CpmSettings()).model_dump(mode="json") if kind == "cpm" else None,
              "margin": _margin_params(settings)}
    return _step(ws, f"segments_{kind}", "segments", day, params,
                 lambda: segment_customers(ws.orders(), day, kind=kind, cpm=cpm, settings=settings,
                                           products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=False)


def points(ws: Workspace, as_of: Any = None, *, calendar: CampaignCalendar | None = None,
           settings: MarginSettings | None = None, reuse: bool = False, compute: bool = True) -> Result | None:
    """Per-customer point dependence (:func:`ltvkit.features.point_dependence`), an Ibis table."""
    day = resolve_as_of(ws, as_of)
    params = {"calendar": _calendar_params(calendar), "margin": _margin_params(settings)}
    return _step(ws, "point_dependence", "points", day, params,
                 lambda: point_dependence(ws.orders(), day, calendar=calendar, settings=settings,
                                          products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=False)


def point_curves(ws: Workspace, as_of: Any = None, *, reuse: bool = False,
                 compute: bool = True) -> Result | None:
    """Margin LTV curves of point-acquired vs organic customers with 95% intervals (``result_point_ltv_curves``)."""
    from .features.points import point_ltv_curves

    day = resolve_as_of(ws, as_of)
    return _step(ws, "point_ltv_curves", "points", day, {},
                 lambda: point_ltv_curves(ws.orders(), day, products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=True)


def campaign_share(ws: Workspace, as_of: Any = None, *, reuse: bool = False,
                   compute: bool = True) -> Result | None:
    """Orders per month inside and outside campaign windows (``result_campaign_share``)."""
    from .features.points import campaign_share_by_month

    day = resolve_as_of(ws, as_of)
    return _step(ws, "campaign_share", "points", day, {},
                 lambda: campaign_share_by_month(ws.orders(), day, products=ws.products_with_rows()),
                 reuse=reuse, allow_compute=compute, frame=True)


def _costs(ws: Workspace, costs: Any, day: dt.date, settings: MarginSettings | None,
           compute: bool = True) -> tuple[pd.DataFrame, bool]:
    """Acquisition costs per channel and whether any are known.

    From ``costs`` (a CSV/YAML file as ``ltv cac --costs`` reads, or a DataFrame with ``channel`` and
    ``spend``/``cost``/``cac``), else a stored ``result_acquisition_costs``, else none (限界CPA only).
    """
    if isinstance(costs, pd.DataFrame):
        frame = _normalise_costs(costs)
        if frame is not None:
            return frame, True
    elif costs is not None:
        return read_costs(Path(costs)), True
    if ws.has_result("acquisition_costs"):
        frame = _normalise_costs(ws.read_result("acquisition_costs").to_pandas())
        if frame is not None:
            return frame, True
    by_channel = cohort_summary_result(ws, day, split="channel", settings=settings, reuse=True, compute=compute)
    table = by_channel.data if by_channel is not None else pd.DataFrame()
    channels = sorted(table["segment"].astype(str).unique().tolist()) if len(table) else []
    return pd.DataFrame({"channel": channels, "spend": float("nan"), "cac": float("nan"), "start": None,
                         "end": None}), False


def _normalise_costs(raw: pd.DataFrame) -> pd.DataFrame | None:
    raw = raw.copy()
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    money = next((c for c in ("spend", "cost", "cac") if c in raw.columns), None)
    if "channel" not in raw.columns or money is None:
        return None
    if {"start", "end"} <= set(raw.columns) and money in ("spend", "cac") and {"spend", "cac"} <= set(raw.columns):
        return raw[["channel", "spend", "cac", "start", "end"]].assign(channel=raw["channel"].astype(str))
    per = raw.groupby(raw["channel"].astype(str), as_index=False)[money].sum(min_count=1)
    return pd.DataFrame({"channel": per["channel"], "spend": per[money] if money != "cac" else float("nan"),
                         "cac": per[money] if money == "cac" else float("nan"), "start": None, "end": None})


def cac(ws: Workspace, as_of: Any = None, *, costs: Any = None, window_days: int = 365, profit_goal: float = 0.0,
        settings: MarginSettings | None = None, reuse: bool = False, compute: bool = True) -> Result | None:
    """LTV vs acquisition cost per channel (:func:`ltvkit.features.cac_table`).

    ``details["has_costs"]`` says whether acquisition costs were known (else only 限界CPA is meaningful).
    """
    day = resolve_as_of(ws, as_of)
    frame, has_costs = _costs(ws, costs, day, settings, compute)
    params = {"costs": _fingerprint(frame) if has_costs else None, "window_days": window_days,
              "profit_goal": profit_goal, "margin": _margin_params(settings)}
    if not len(frame):
        return Result("cac", pd.DataFrame(), day, params, details={"has_costs": has_costs})
    res = _step(ws, "cac", "cac", day, params,
                lambda: cac_table(ws.orders(), frame, day, window_days=window_days, profit_goal=profit_goal,
                                  settings=settings, products=ws.products_with_rows()),
                reuse=reuse, allow_compute=compute, frame=True, details={"has_costs": has_costs})
    if res is not None:
        res.details = {"has_costs": has_costs}
    return res


def view(ws: Workspace, as_of: Any = None, kind: str = "monthly", *, settings: MarginSettings | None = None,
         reuse: bool = False, compute: bool = True) -> Result | None:
    """An LTV-Lab view (:func:`ltvkit.features.views.view`) stored as ``result_view_<kind>``."""
    from .features.views import VIEWS
    from .features.views import view as compute_view

    if kind not in VIEWS:
        raise InputError(key="err.unknown_view", value=kind, choices=list(VIEWS))
    day = resolve_as_of(ws, as_of)
    customers = ws.on_engine("_ltv_customers", ws.table("customers")) if ws.has_table("customers") else None
    params = {"kind": kind, "margin": _margin_params(settings)}
    return _step(ws, f"view_{kind}", "view", day, params,
                 lambda: compute_view(kind, ws.orders(), day, settings=settings, products=ws.products_with_rows(),
                                      customers=customers).to_pandas(),
                 reuse=reuse, allow_compute=compute, frame=True)


def at_risk(ws: Workspace, as_of: Any, scores: ibis.Table, *, top: int = 20) -> ibis.Table:
    """離脱が心配な優良顧客 from stored scores (:func:`ltvkit.features.at_risk_customers`: valuable, still plausibly
    alive, ranked by value at stake)."""
    from .features import at_risk_customers

    return at_risk_customers(ws.orders(), ws.on_engine("_ltv_at_risk_scores", scores), resolve_as_of(ws, as_of),
                             top=top)


# -- predictions and recommendations ----------------------------------------------------------------------------

def shop_margin_rate(ws: Workspace, as_of: Any = None, settings: MarginSettings | None = None) -> float:
    """Margin ÷ revenue of the shop's valid orders up to ``as_of`` under the margin settings (SKU costs, cost rate,
    mall fees): the one margin that turns predicted spend into predicted margin, as every other analysis uses."""
    from .features._orders import margin_lines, valid_lines

    day = resolve_as_of(ws, as_of)
    # the sums over the order lines (an order's margin is the sum of its lines'): no grouping by order needed
    lines = margin_lines(valid_lines(ws.orders(), day), settings, ws.products_with_rows())
    row = lines.aggregate(revenue=lines.revenue.sum(), margin=lines.margin.sum()).to_pandas().iloc[0]
    revenue, margin = float(row["revenue"] or 0), float(row["margin"] or 0)
    return round(margin / revenue, 6) if revenue > 0 else 1.0


def predictions(ws: Workspace, as_of: Any = None, *, model: str = "auto", horizon_days: float = 365.0,
                discount_rate: float = 0.10, margin_rate: float | None = None, timing: str = "regular",
                chunk_size: int = 50_000, reuse: bool = False, compute: bool = True,
                stale_ok: bool = False, store: bool = True, settings: MarginSettings | None = None,
                parquet: str | Path | None = None, seasonality: str = "auto") -> Result | None:
    """Per-customer BTYD scores (:func:`ltvkit.scoring.score_customers`) stored as ``result_predictions``.

    ``predicted_clv`` is margin: spend × ``margin_rate``, by default the shop's margin rate under ``settings``
    (:func:`shop_margin_rate`); ``margin_rate=1`` gives revenue.

    ``details`` holds the fitted parameters and the summary :func:`predict_customers` prints. With ``reuse``, any
    stored scores as of the same day are read (the latest run, whatever its options). ``store=False`` (or a
    read-only workspace) scores into a temporary table and records no run. ``parquet`` (a folder) has the engine
    write the per-customer scores there instead, recording no run: on Spark no per-customer row reaches the driver.
    """
    day = resolve_as_of(ws, as_of)
    if reuse or not compute:
        run = ws.result_run("predictions", as_of=day) or (ws.result_run("predictions") if stale_ok else None)
        if run is not None:
            return Result("predictions", ws.read_result("predictions", run_id=run.run_id), run.as_of or day,
                          run.params, run, run.details, True)
    if not compute:
        return None
    from . import scoring  # the models (and scipy) load only when something is fitted
    if margin_rate is None:
        margin_rate = shop_margin_rate(ws, day, settings)
    params = {"model": model, "horizon_days": horizon_days, "discount_rate": discount_rate,
              "margin_rate": margin_rate, "timing": timing, "seasonality": seasonality}
    # the engine summarises the order lines and stores the scores within LTV_PREDICT_MEMORY
    with ws.memory_limit(ws.settings().predict_memory, setting="LTV_PREDICT_MEMORY"):
        scored = scoring.score_customers(ws, model=model, horizon_days=horizon_days, discount_rate=discount_rate,
                                         margin_rate=margin_rate, as_of=day, chunk_size=chunk_size, timing=timing,
                                         timing_k=_stored_timing_k(ws) if timing == "regular" else None,
                                         seasonality=seasonality)
        try:
            tm, gg = scored["transaction_model"], scored["spend_model"]
            details = {"model": scored["model"], "model_chosen_by": scored["model_chosen_by"],
                       "timing_model": scored["timing_model"], "unique_rows": scored["unique_rows"],
                       "transaction_params": {k: float(v) for k, v in tm.params_.items()},
                       "log_likelihood": float(tm.log_likelihood_),
                       "spend_model": "gamma-gamma" if gg is not None else "mean",
                       "spend_params": ({k: float(v) for k, v in gg.params_.items()} if gg is not None
                                        else {"mean_spend": scored["mean_spend"]}),
                       "seasonality": scored["seasonality"],
                       "fit_seconds": round(scored["fit_seconds"], 3)}
            if scored.get("timing_k"):
                details["timing_k"] = scored["timing_k"]
            if scored.get("model_choice"):
                details["model_choice"] = scored["model_choice"]
            expr = scored["expr"]
            if parquet is not None:
                table, run = ws.write_parquet(expr, parquet), None
            elif ws.read_only or not store:
                table, run = ws.temp_table("_ltv_predictions", expr), None
            else:
                run_id = ws.start_run("predictions", as_of=day, params=params, details=details)
                ws.write_result("predictions", expr, run_id=run_id)
                run = ws.result_run("predictions")
                table = ws.read_result("predictions", run_id=run_id)
        finally:
            scoring.drop_scoring_tables(ws)
    details["score_seconds"] = round(scored["score_seconds"], 3)
    return Result("predictions", table, day, params, run, details)


def _stored_timing_k(ws: Workspace) -> dict[str, Any] | None:
    """The regularity order ``k`` the latest predictions run chose, with the fingerprint of its data."""
    if ws.read_only and not ws.has_table("runs"):
        return None
    for run in ws.runs(kind="predictions"):
        if run.details.get("timing_k"):
            return run.details["timing_k"]
    return None


def predict_customers(ws: Workspace, model: str = "auto", horizon_days: float = 365.0,
                      discount_rate: float = 0.10, margin_rate: float | None = None, as_of: Any = None,
                      chunk_size: int = 50_000, timing: str = "regular", write: bool = True,
                      settings: MarginSettings | None = None, parquet: str | Path | None = None,
                      seasonality: str = "auto") -> dict[str, Any]:
    """Score every customer (:func:`predictions`) and return the summary ``ltv predict`` prints.

    Writes ``result_predictions`` (``customer_key``, ``p_alive``, ``expected_purchases_30d/90d/365d``,
    ``expected_spend``, ``predicted_clv``, ``churn_risk`` and the next-purchase timing columns) under a new run
    unless ``write`` is false, or as Parquet files in the folder ``parquet`` (written by the engine).
    """
    res = predictions(ws, as_of, model=model, horizon_days=horizon_days, discount_rate=discount_rate,
                      margin_rate=margin_rate, timing=timing, chunk_size=chunk_size, store=write, settings=settings,
                      parquet=parquet, seasonality=seasonality)
    assert res is not None
    t = res.data
    totals = t.aggregate(n=t.count(), p=t.p_alive.mean(), e=t.expected_purchases_365d.sum(),
                         c=t.predicted_clv.sum()).to_pandas().iloc[0]
    d = res.details
    return {
        "table": res.run.result if res.run is not None else None, "run_id": res.run.run_id if res.run else None,
        "model": d["model"], "model_chosen_by": d["model_chosen_by"], "as_of": res.as_of.isoformat(),
        "customers": int(totals["n"]), "unique_rows": int(d["unique_rows"]),
        "transaction_params": {k: round(float(v), 6) for k, v in d["transaction_params"].items()},
        "log_likelihood": round(d["log_likelihood"], 3), "timing_model": d["timing_model"],
        "spend_model": d["spend_model"], "mean_p_alive": float(totals["p"] or 0),
        "expected_purchases_365d_total": float(totals["e"] or 0), "predicted_clv_total": float(totals["c"] or 0),
        "horizon_days": horizon_days, "discount_rate": discount_rate, "margin_rate": res.params["margin_rate"],
        "fit_seconds": d["fit_seconds"], "score_seconds": d["score_seconds"],
        **_choice_summary(d.get("model_choice")),
        **_seasonality_summary(d.get("seasonality")),
    }


def _seasonality_summary(seasonal: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the seasonal pace was used and why, what it was judged by, and the model days of 30/90/365
    calendar days (flat keys)."""
    if not seasonal:
        return {}
    out: dict[str, Any] = {"seasonality": "on" if seasonal["used"] else "off",
                           "seasonality_reason": seasonal["reason"]}
    for key in ("mae_plain", "mae_seasonal"):
        if key in seasonal:
            out[f"seasonal_{key}"] = seasonal[key]
    out.update({f"seasonal_days_{d}d": v for d, v in seasonal.get("operational_days", {}).items()})
    return out


def _choice_summary(choice: dict[str, Any] | None) -> dict[str, Any]:
    """What ``--model auto`` compared: the holdout split and each model's holdout MAE (flat keys)."""
    if not choice:
        return {}
    out = {"choice_calibration_end": choice["calibration_end"], "choice_holdout_days": choice["holdout_days"],
           "choice_customers": choice["customers"], "choice_rows": choice["rows"]}
    out.update({f"holdout_mae_{name}": round(value, 6) for name, value in choice["mae"].items()})
    return out


def validation(ws: Workspace, as_of: Any = None, *, calibration_end: Any = None, reuse: bool = False,
               compute: bool = True, detail: bool = True) -> dict[str, Any] | None:
    """Calibration/holdout check of the transaction models (:func:`ltvkit.scoring.validate_models`).

    Stores the weekly tracking (``result_tracking``) and the model comparison (``result_model_comparison``,
    with a ``chosen`` column) under one run; returns the full validation dict plus ``run``. With ``reuse``, only
    ``tracking``, ``models`` and ``chosen`` come back from a stored run as of the same day; with ``detail=False``
    only those are computed (the report: the per-customer errors, Gini, deciles and timing table are skipped).
    """
    day = resolve_as_of(ws, as_of)
    cal = None if calibration_end is None else resolve_as_of(ws, calibration_end)
    params = {"calibration_end": cal.isoformat() if cal else None}
    if reuse or not compute:
        run = ws.result_run("tracking", as_of=day)
        if run is not None:
            models_run = ws.result_run("model_comparison", as_of=day)
            models = (ws.read_result("model_comparison", run_id=run.run_id).to_pandas()
                      if models_run is not None and models_run.run_id == run.run_id else None)
            return {"tracking": ws.read_result("tracking", run_id=run.run_id).to_pandas(), "models": models,
                    "chosen": run.details.get("chosen"), "run": run}
    if not compute:
        return None
    from . import scoring  # the models (and scipy) load only when something is fitted

    result = scoring.validate_models(ws, calibration_end=cal, as_of=day, detail=detail)
    models = result["models"].assign(chosen=result["models"]["model"] == result["chosen"])
    result["models"] = models
    result["run"] = None
    if not ws.read_only:
        details = {"calibration_end": result["calibration_end"], "chosen": result["chosen"]}
        run_id = ws.start_run("validation", as_of=day, params=params, details=details)
        ws.write_result("tracking", result["tracking"], run_id=run_id)
        ws.write_result("model_comparison", models, run_id=run_id)
        result["run"] = ws.result_run("tracking")
    return result


def recommendations(ws: Workspace, as_of: Any = None, *, k: int = 10, horizon_days: int = 60, lang: str = "en",
                    model: Any = None, reuse: bool = False, compute: bool = True,
                    stale_ok: bool = False, chunk_customers: int = 50_000) -> Result | None:
    """Top-``k`` next-need recommendations per customer (:class:`ltvkit.recommend.NextBasketRecommender`).

    Stored as ``result_recommendations`` (``customer_key, rank, sku, score, reason, reason_code, related_sku``);
    ``data`` is an Ibis table of the stored rows (a DataFrame when the workspace is read-only). The lists are
    written ``chunk_customers`` customers at a time, so they never all sit in memory. ``lang`` (of the reasons)
    is a detail: a stored run in another language is reused. ``model`` is an unfitted recommender to use
    instead of the default.
    """
    day = resolve_as_of(ws, as_of)
    if reuse or not compute:
        run = ws.result_run("recommendations", as_of=day) or (
            ws.result_run("recommendations") if stale_ok else None)
        if run is not None:
            return Result("recommendations", ws.read_result("recommendations", run_id=run.run_id),
                          run.as_of or day, run.params, run, run.details, True)
    if not compute:
        return None
    # the recommenders (and scipy.sparse) load only when recommendations are computed
    from .recommend import NextBasketRecommender
    from .recommend._data import to_day

    rec = model if model is not None else NextBasketRecommender(horizon_days=horizon_days)
    params = {"k": k, "horizon_days": horizon_days, "model": type(rec).__name__}

    # the engine groups the order lines and stores the lists within LTV_RECOMMEND_MEMORY
    with ws.memory_limit(ws.settings().recommend_memory, setting="LTV_RECOMMEND_MEMORY"):
        rec.fit(ws.orders(), as_of=day)
        details = {"lang": lang, "as_of_day": to_day(day), "blend": getattr(rec, "selection_", None)}
        if ws.read_only:
            return Result("recommendations", rec.recommend(k=k, lang=lang), day, params, None, details)
        run_id = ws.start_run("recommendations", as_of=day, params=params, details=details)
        ws.write_result("recommendations", rec.iter_recommend(k, lang=lang, chunk_customers=chunk_customers),
                        run_id=run_id)
    run = ws.result_run("recommendations")
    return Result("recommendations", ws.read_result("recommendations", run_id=run_id), day, params, run, details)


def recommend_workspace(ws: Workspace, *, as_of: Any = None, k: int = 10, horizon_days: int = 60, lang: str = "en",
                        store: bool = True, model: Any = None) -> pd.DataFrame:
    """Top-``k`` recommendations for every customer as a DataFrame (:func:`recommendations`).

    ``customer_key, rank, sku, score, reason, reason_code, related_sku``; stored as ``result_recommendations``
    unless ``store`` is false or the workspace is read-only.
    """
    if not store:
        from .recommend import NextBasketRecommender

        rec = model if model is not None else NextBasketRecommender(horizon_days=horizon_days)
        return rec.fit(ws.orders(), as_of=resolve_as_of(ws, as_of)).recommend(k=k, lang=lang)
    res = recommendations(ws, as_of, k=k, horizon_days=horizon_days, lang=lang, model=model)
    assert res is not None
    return res.data if isinstance(res.data, pd.DataFrame) else recommendation_frame(res.data)


def recommendation_frame(data: Any, *, rows: int | None = None) -> pd.DataFrame:
    """The ``data`` of :func:`recommendations` (its first ``rows`` rows, default all) as the DataFrame
    :meth:`ltvkit.recommend.NextBasketRecommender.recommend` gives."""
    from .recommend._base import empty_frame

    if isinstance(data, pd.DataFrame):
        return data if rows is None else data.head(rows)
    frame = (data if rows is None else data.head(rows)).to_pyarrow().to_pandas()
    return empty_frame() if frame.empty else frame


def recommendation_chunks(ws: Workspace, data: Any, *, rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """The stored lists of :func:`recommendations` (an Ibis table over ``ws``) as DataFrames of at most ``rows``
    rows each, in the stored order, read from the engine one at a time."""
    return ws.frames(data, rows=rows)


def recommendation_count(data: Any) -> int:
    """Rows of the ``data`` of :func:`recommendations` (counted by the engine when stored)."""
    return len(data) if isinstance(data, pd.DataFrame) else int(data.count().to_pandas())


def replenishment(ws: Workspace, as_of: Any = None, *, within_days: int = 14, reuse: bool = False,
                  compute: bool = True) -> Result | None:
    """Customer × item pairs expected to be needed within ``within_days`` (``result_replenishment``)."""
    from .recommend import ReplenishmentModel

    day = resolve_as_of(ws, as_of)
    return _step(ws, "replenishment", "replenishment", day, {"within_days": within_days},
                 lambda: ReplenishmentModel().fit(ws.orders(), as_of=day).due_soon(within_days=within_days),
                 reuse=reuse, allow_compute=compute, frame=True)
