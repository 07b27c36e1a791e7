"""Did it work? Per scenario and send month, the treated group against the holdout (intention to treat).

* **Treated** = every planned row that is not held out, whatever happened at sending (sent, failed, expired);
  **holdout** = every holdout row. Both are fixed at planning, so the comparison is a randomised experiment.
* A customer counts once per scenario and send month (their first planned send time that month).
* The window is ``[planned send time, + window_days)`` for both groups; with ``as_of`` before its end the row is
  *partial* and says how many days it covers.
* Conversion = at least one non-cancelled order in the window; orders, revenue and contribution margin
  (:func:`ltvkit.features.margin_lines`, status ``ordered``) per customer over the same window.
* Intervals: Newcombe's hybrid score interval for the conversion difference, Welch for margin per customer, and a
  CUPED / regression-adjusted conversion difference on covariates from the predictions run each message was
  planned from (never on anything observed after the send). See docs/measurement.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..exceptions import InputError, MissingDataError
from ..features import MarginSettings, margin_lines
from ..i18n import t
from ..store import Workspace
from ._ops import OpsStore, outbox
from ._uplift import adjusted_difference, mde_proportion, newcombe_difference, welch_difference

__all__ = ["COVARIATES", "HORIZONS", "JSON_KEYS", "ResultsReport", "cohorts_around_start", "compare_groups",
           "crm_results", "text"]

COVARIATES = ("due_in_window", "p_alive", "expected_purchases", "predicted_clv", "recency_days", "prior_orders")
HORIZONS = (30, 60, 90, 180)
MIN_GROUP = 30
JSON_KEYS = ("scenario", "send_month", "window_days", "treated", "holdout", "conversion_treated",
             "conversion_holdout", "uplift", "uplift_ci_low", "uplift_ci_high", "margin_uplift_per_customer",
             "margin_uplift_ci_low", "margin_uplift_ci_high", "adjusted_uplift", "adjusted_ci_low",
             "adjusted_ci_high", "variance_reduction", "incremental_margin_after_cost", "mde")
CHANNEL_COST = {"line": "crm_cost_line", "email": "crm_cost_email", "print": "crm_cost_print",
                "insert": "crm_cost_print"}



# how the numbers of each sentence are written (the catalogue holds plain {placeholders})
_NUMBER_FORMATS = {
    "verdict_up": {"uplift": "{:.1f}", "lo": "{:+.1f}", "hi": "{:+.1f}"},
    "verdict_down": {"uplift": "{:.1f}", "lo": "{:+.1f}", "hi": "{:+.1f}"},
    "verdict_none": {"uplift": "{:.1f}", "lo": "{:+.1f}", "hi": "{:+.1f}", "mde": "{:.1f}"},
    "weeks": {"lift": "{:.1f}", "weeks": "{:.0f}"},
    "reduction": {"pct": "{:.0f}", "narrow": "{:.0f}"},
}


def text(key: str, lang: str, **kwargs: Any) -> str:
    """A sentence of this module in ``lang`` (``ja`` or ``en``): the catalogue text ``crm.results.<key>``."""
    formats = _NUMBER_FORMATS.get(key, {})
    params = {k: formats[k].format(v) if k in formats and v is not None else v for k, v in kwargs.items()}
    return t(f"crm.results.{key}", lang, **params)


# -- the comparison of two groups ---------------------------------------------------------------------------------

def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def compare_groups(treated: np.ndarray, converted: np.ndarray, orders: np.ndarray | None = None,
                   revenue: np.ndarray | None = None, margin: np.ndarray | None = None,
                   covariates: np.ndarray | None = None, *, cost: float = 0.0, detect_lift: float = 0.02,
                   units_per_week: float | None = None, min_group: int = MIN_GROUP) -> dict[str, Any]:
    """Treated vs holdout on one set of customers: every number of a row of ``ltv crm results``.

    Parameters
    ----------
    treated
        True for treated customers (planned, not held out), False for the holdout.
    converted, orders, revenue, margin
        Per customer, over the window.
    covariates
        Plan-time covariates (rows = customers) for the adjusted estimate; ``None`` skips it.
    cost
        Message cost of the treated group (yen), subtracted from the incremental margin.
    detect_lift
        The lift (a difference in conversion) that ``weeks_more`` is computed for.
    units_per_week
        Customers this scenario reaches per week, for ``weeks_more``.
    """
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(converted, dtype=float)
    n1, n0 = int(t.sum()), int((~t).sum())
    orders = np.zeros(len(t)) if orders is None else np.asarray(orders, dtype=float)
    revenue = np.zeros(len(t)) if revenue is None else np.asarray(revenue, dtype=float)
    margin = np.zeros(len(t)) if margin is None else np.asarray(margin, dtype=float)

    def mean(a: np.ndarray, g: np.ndarray) -> float | None:
        return float(a[g].mean()) if g.any() else None

    out: dict[str, Any] = {
        "treated": n1, "holdout": n0, "conversion_treated": mean(y, t), "conversion_holdout": mean(y, ~t),
        "orders_per_customer_treated": mean(orders, t), "orders_per_customer_holdout": mean(orders, ~t),
        "revenue_per_customer_treated": mean(revenue, t), "revenue_per_customer_holdout": mean(revenue, ~t),
        "margin_per_customer_treated": mean(margin, t), "margin_per_customer_holdout": mean(margin, ~t),
        "uplift": None, "uplift_ci_low": None, "uplift_ci_high": None, "margin_uplift_per_customer": None,
        "margin_uplift_ci_low": None, "margin_uplift_ci_high": None, "adjusted_uplift": None,
        "adjusted_ci_low": None, "adjusted_ci_high": None, "variance_reduction": None,
        "incremental_orders": None, "incremental_margin": None, "message_cost": cost,
        "incremental_margin_after_cost": None, "mde": None, "weeks_more": None, "significant": None,
        "note": None,
    }
    if n1 == 0 or n0 == 0:
        out["note"] = "no_holdout" if n0 == 0 else "no_treated"
        return out
    plain = newcombe_difference(y[t].sum(), n1, y[~t].sum(), n0)
    m = welch_difference(margin[t], margin[~t])
    out["uplift"] = plain.value
    out["margin_uplift_per_customer"] = m.value
    out["incremental_orders"] = (orders[t].mean() - orders[~t].mean()) * n1
    out["incremental_margin"] = m.value * n1
    out["incremental_margin_after_cost"] = m.value * n1 - cost
    p0 = max(float(y.mean()), 1.0 / (n1 + n0))  # pooled: a holdout without orders still has a base rate
    if n0 < min_group:
        out["note"] = "small_holdout"
        out["mde"] = _num(mde_proportion(p0, n1, n0))
        return out
    out.update(uplift_ci_low=plain.low, uplift_ci_high=plain.high, margin_uplift_ci_low=_num(m.low),
               margin_uplift_ci_high=_num(m.high), significant=plain.significant)
    reduction = 0.0
    if covariates is not None and len(covariates):
        adj, reduction = adjusted_difference(y, t, covariates)
        out.update(adjusted_uplift=_num(adj.value), adjusted_ci_low=_num(adj.low), adjusted_ci_high=_num(adj.high),
                   variance_reduction=reduction)
    mde = mde_proportion(p0, n1, n0, variance_reduction=max(reduction, 0.0))
    out["mde"] = _num(mde)
    if units_per_week and detect_lift > 0 and math.isfinite(mde):
        need = (n1 + n0) * (mde / detect_lift) ** 2
        out["weeks_more"] = max(0.0, (need - (n1 + n0)) / units_per_week)
    return {k: (_num(v) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


# -- reading the outbox and the orders ----------------------------------------------------------------------------

@dataclass
class ResultsReport:
    """What ``ltv crm results`` shows: one row per scenario and send month, the cumulative margin view, notes."""

    as_of: dt.date
    window_days: int
    rows: list[dict[str, Any]]
    cumulative: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    lang: str = "en"
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frame(self) -> pd.DataFrame:
        """The rows with the documented JSON keys first."""
        frame = pd.DataFrame(self.rows)
        if not len(frame):
            return pd.DataFrame(columns=list(JSON_KEYS))
        return frame[list(JSON_KEYS) + [c for c in frame.columns if c not in JSON_KEYS]]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "window_days": self.window_days,
                "rows": [{k: r.get(k) for k in self.frame().columns} for r in self.rows],
                "cumulative": self.cumulative.to_dict("records"),
                "cohorts_observational": self.cohorts.to_dict("records"), "notes": self.notes}

    def sentences(self) -> list[str]:
        """One sentence per row: the verdict or why there is none, then the notes."""
        out = []
        for r in self.rows:
            kw = {"scenario": r["scenario"], "month": r["send_month"], "as_of": self.as_of.isoformat(),
                  "window": self.window_days}
            if r.get("note") in ("no_holdout", "not_started"):
                out.append(text(r["note"], self.lang, **kw))
                continue
            if r.get("note") == "small_holdout":
                out.append(text("small_holdout", self.lang, n=r["holdout"], min=MIN_GROUP, **kw))
                continue
            if r.get("partial"):
                out.append(text("partial", self.lang, days=r["days_covered"], **kw))
            if r.get("uplift") is None or r.get("uplift_ci_low") is None:
                continue
            up, lo, hi = r["uplift"] * 100, r["uplift_ci_low"] * 100, r["uplift_ci_high"] * 100
            sign = "+" if up >= 0 else ""
            if lo > 0:
                out.append(text("verdict_up", self.lang, sign=sign, uplift=up, lo=lo, hi=hi, **kw))
            elif hi < 0:
                out.append(text("verdict_down", self.lang, sign=sign, uplift=up, lo=lo, hi=hi, **kw))
            else:
                weeks = ""
                if r.get("weeks_more"):
                    weeks = text("weeks", self.lang, weeks=r["weeks_more"], lift=r["detect_lift"] * 100)
                out.append(text("verdict_none", self.lang, sign=sign, uplift=up, lo=lo, hi=hi,
                                mde=(r["mde"] or 0) * 100, weeks=weeks, **kw))
            if r.get("variance_reduction") is not None:
                vr = r["variance_reduction"]
                out.append(text("reduction", self.lang, pct=vr * 100, narrow=(1 - math.sqrt(max(1 - vr, 0.0))) * 100))
        if len(self.cohorts):
            out.append(text("observational", self.lang))
        return out + self.notes


def _outbox(store: OpsStore, scenario: str | None) -> pd.DataFrame:
    cols = [outbox.c.scenario, outbox.c.customer_key, outbox.c.channel, outbox.c.state, outbox.c.holdout,
            outbox.c.run_id, outbox.c.as_of, outbox.c.send_at]
    q = sa.select(*cols)
    if scenario is not None:
        q = q.where(outbox.c.scenario == scenario)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(rows, columns=[c.name for c in cols])


def _orders(ws: Workspace, since: dt.datetime, until: dt.date, margin: MarginSettings | None) -> pd.DataFrame:
    """Per order after ``since`` up to ``until``: customer, time, whether valid, revenue and margin."""
    t = margin_lines(ws.orders(), margin, ws.products_with_rows())
    t = t.filter((t.ordered_at >= since) & (t.order_date <= until))
    ok = t.status == "ordered"
    agg = t.group_by([t.source, t.order_id, t.customer_key]).aggregate(
        ordered_at=t.ordered_at.min(), valid=(t.status != "cancelled").any(),
        revenue=ok.ifelse(t.revenue, 0).sum(), margin=ok.ifelse(t.margin, 0).sum())
    frame = agg.to_pandas()
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def _history(ws: Workspace, day: dt.date) -> pd.DataFrame:
    """Per customer as of ``day`` (plan-time): days since the last valid order and orders in the year before."""
    o = ws.orders()
    o = o.filter((o.status != "cancelled") & (o.order_date <= day))
    since = day - dt.timedelta(days=365)
    rows = o.group_by(o.customer_key).aggregate(
        last_date=o.order_date.max(), prior_orders=o.order_id.nunique(where=o.order_date > since)).to_pandas()
    rows["recency_days"] = (pd.Timestamp(day) - pd.to_datetime(rows["last_date"])).dt.days.astype(float)
    return rows[["customer_key", "recency_days", "prior_orders"]]


def _covariates(ws: Workspace, units: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Plan-time covariates of each unit from the predictions run its message was planned from."""
    out = []
    col = "expected_purchases_30d" if window_days <= 45 else "expected_purchases_90d"
    for (run_id, plan_day), g in units.groupby(["run_id", "as_of"], dropna=False, sort=False):
        frame = g[["unit"]].copy()
        try:
            pred = ws.read_result("predictions", run_id=int(run_id)).to_pandas() if run_id == run_id else None
        except MissingDataError:
            pred = None
        if pred is not None:
            keep = ["customer_key", "p_alive", col, "predicted_clv", "expected_next_purchase_date"]
            p = g[["unit", "customer_key", "send_at"]].merge(pred[[c for c in keep if c in pred.columns]],
                                                              on="customer_key", how="left")
            frame["p_alive"] = p["p_alive"].to_numpy()
            frame["expected_purchases"] = p[col].to_numpy() if col in p.columns else np.nan
            frame["predicted_clv"] = p["predicted_clv"].to_numpy()
            if "expected_next_purchase_date" in p.columns:
                nxt = pd.to_datetime(p["expected_next_purchase_date"])
                lo = p["send_at"] - pd.Timedelta(days=7)
                hi = p["send_at"] + pd.Timedelta(days=window_days)
                frame["due_in_window"] = ((nxt >= lo) & (nxt < hi)).astype(float).to_numpy()
        if plan_day is not None and plan_day == plan_day:
            hist = _history(ws, pd.Timestamp(plan_day).date())
            h = g[["customer_key"]].merge(hist, on="customer_key", how="left")
            frame["recency_days"] = h["recency_days"].to_numpy()
            frame["prior_orders"] = h["prior_orders"].fillna(0).to_numpy()
        out.append(frame)
    cov = pd.concat(out, ignore_index=True) if out else pd.DataFrame({"unit": []})
    for c in COVARIATES:
        if c not in cov.columns:
            cov[c] = np.nan
    return cov[["unit", *COVARIATES]]


def crm_results(ws: Workspace, store: OpsStore, *, scenario: str | None = None, window_days: int = 30,
                as_of: dt.date | None = None, margin: MarginSettings | None = None, lang: str = "en",
                save: bool = True) -> ResultsReport:
    """Measure every scenario (or one) per send month: treated vs holdout over ``window_days`` after the planned
    send time, with orders up to ``as_of`` (default: the last order date). Stored as ``result_crm_results`` and
    ``result_crm_cumulative`` under a run unless ``save`` is false or the workspace is read-only."""
    if window_days < 1:
        raise InputError("--window-days must be at least 1.")
    settings = ws.settings()
    rows = _outbox(store, scenario)
    if not len(rows):
        if scenario is not None:
            raise MissingDataError(f"The outbox holds no message of scenario {scenario!r}; `ltv crm status` lists "
                                   "the scenarios planned so far.")
        raise MissingDataError("The outbox holds no planned message yet; run `ltv crm plan` first.")
    last = ws.last_order_date()
    if last is None:
        raise MissingDataError("The workspace holds no orders yet; import an export with `ltv import FILE`.")
    day = as_of or last
    data_end = pd.Timestamp(day) + pd.Timedelta(days=1)
    zone = ZoneInfo(ws.timezone)
    rows["send_at"] = (pd.to_datetime(rows["send_at"]).dt.tz_localize("UTC").dt.tz_convert(zone)
                       .dt.tz_localize(None))
    rows["send_month"] = rows["send_at"].dt.strftime("%Y-%m")
    rows["holdout"] = rows["holdout"].astype(bool)
    sent = rows.loc[~rows["holdout"] & (rows["state"] == "sent")]
    cost_by = {ch: float(getattr(settings, name)) for ch, name in CHANNEL_COST.items()}
    costs = (sent.assign(c=sent["channel"].map(cost_by).fillna(0.0))
             .groupby(["scenario", "send_month"])["c"].sum())
    rows = rows.sort_values("send_at", kind="stable")
    units = rows.drop_duplicates(["scenario", "send_month", "customer_key"]).reset_index(drop=True)
    units["unit"] = np.arange(len(units))
    units["end"] = np.minimum(units["send_at"] + pd.Timedelta(days=window_days), data_end)
    orders = _orders(ws, units["send_at"].min().to_pydatetime(), day, margin)
    notes = []
    if not len(orders):
        notes.append(text("no_orders", lang, last=last.isoformat()))
    m = units[["unit", "customer_key", "send_at", "end"]].merge(orders, on="customer_key")
    inwin = m.loc[(m["ordered_at"] >= m["send_at"]) & (m["ordered_at"] < m["end"])]
    valid = inwin.loc[inwin["valid"]]
    per = valid.groupby("unit").agg(orders=("order_id", "size"), revenue=("revenue", "sum"),
                                    margin=("margin", "sum"))
    units = units.join(per, on="unit")
    for c in ("orders", "revenue", "margin"):
        units[c] = units[c].fillna(0.0).astype(float)
    units["converted"] = units["orders"] > 0
    units["days_covered"] = ((units["end"] - units["send_at"]).dt.total_seconds() / 86400).clip(lower=0)
    cov = _covariates(ws, units, window_days).set_index("unit").reindex(units["unit"])
    weeks_span = units.groupby("scenario")["send_at"].agg(lambda s: max(1.0, (s.max() - s.min()).days / 7 + 1))
    per_week = units.groupby("scenario").size() / weeks_span
    out = []
    for (name, month), g in units.groupby(["scenario", "send_month"], sort=True):
        covered = g.loc[g["days_covered"] > 0]
        days = float(g["days_covered"].min())
        base = {"scenario": name, "send_month": month, "window_days": window_days}
        if not len(covered):
            r = compare_groups(g["holdout"].to_numpy() == False, np.zeros(len(g)))  # noqa: E712
            r.update(note="not_started" if r["note"] is None else r["note"])
            out.append({**base, **r, "days_covered": 0, "partial": True, "detect_lift": settings.crm_detect_lift})
            continue
        x = cov.loc[covered["unit"].to_numpy(), list(COVARIATES)].to_numpy(float)
        usable = np.isfinite(x).mean(axis=0) > 0.5
        x = x[:, usable]
        x = np.where(np.isfinite(x), x, np.nanmean(x, axis=0)) if x.size else x
        r = compare_groups(~covered["holdout"].to_numpy(), covered["converted"].to_numpy(),
                           covered["orders"].to_numpy(), covered["revenue"].to_numpy(),
                           covered["margin"].to_numpy(), x if x.size else None,
                           cost=float(costs.get((name, month), 0.0)), detect_lift=settings.crm_detect_lift,
                           units_per_week=float(per_week.get(name, 0.0)))
        out.append({**base, **r, "days_covered": round(days, 1), "partial": bool(days < window_days),
                    "detect_lift": settings.crm_detect_lift})
    cum = _cumulative(units, orders, data_end)
    starts = units.groupby("scenario")["send_at"].min()
    report = ResultsReport(day, window_days, out, cum, notes, lang,
                           cohorts=cohorts_around_start(ws, starts, day, margin))
    if save and not ws.read_only:
        run_id = ws.start_run("crm_results", as_of=day, params={"scenario": scenario, "window_days": window_days})
        ws.write_result("crm_results", report.frame(), run_id=run_id)
        if len(cum):
            ws.write_result("crm_cumulative", cum, run_id=run_id)
        if len(report.cohorts):
            ws.write_result("crm_cohorts", report.cohorts, run_id=run_id)
    return report


def cohorts_around_start(ws: Workspace, starts: pd.Series, as_of: dt.date, margin: MarginSettings | None = None,
                         *, months: int = 3, horizon_days: int = 90) -> pd.DataFrame:
    """Observational before/after view: customers acquired in the ``months`` months before and after each
    scenario's first planned send, and their margin per customer in the first ``horizon_days`` after the first
    order (customers observed that long). Other things change too, so this is not a measurement of the scenario."""
    t = margin_lines(ws.orders(), margin, ws.products_with_rows())
    t = t.filter((t.status == "ordered") & (t.order_date <= as_of))
    per = t.group_by([t.customer_key, t.order_id]).aggregate(at=t.ordered_at.min(), margin=t.margin.sum())
    frame = per.to_pandas()
    if not len(frame) or not len(starts):
        return pd.DataFrame()
    frame["at"] = pd.to_datetime(frame["at"])
    first = frame.groupby("customer_key")["at"].transform("min")
    early = frame.loc[frame["at"] < first + pd.Timedelta(days=horizon_days)]
    cust = early.groupby("customer_key").agg(first=("at", "min"), margin=("margin", "sum"))
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    rows = []
    for name, start in starts.items():
        start = pd.Timestamp(start)
        for period, lo, hi in (("before", start - pd.DateOffset(months=months), start),
                               ("after", start, start + pd.DateOffset(months=months))):
            g = cust.loc[(cust["first"] >= lo) & (cust["first"] < hi)]
            seen = g.loc[g["first"] + pd.Timedelta(days=horizon_days) <= end]
            rows.append({"scenario": name, "period": period, "acquired_from": lo.date(),
                         "acquired_to": (hi - pd.Timedelta(days=1)).date(), "customers": len(g),
                         "observed_customers": len(seen), "horizon_days": horizon_days,
                         "margin_per_customer": float(seen["margin"].mean()) if len(seen) else None,
                         "observational": True})
    return pd.DataFrame(rows)


def _cumulative(units: pd.DataFrame, orders: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """Per scenario and days since send: cumulative margin per customer, treated vs holdout, over the customers
    whose send is at least that many days before the end of the data."""
    rows = []
    if not len(units):
        return pd.DataFrame()
    m = units[["unit", "scenario", "customer_key", "send_at", "holdout"]].merge(
        orders.loc[orders["valid"], ["customer_key", "ordered_at", "margin"]], on="customer_key", how="left")
    age = (m["ordered_at"] - m["send_at"]).dt.total_seconds() / 86400
    for d in HORIZONS:
        ok_units = units.loc[units["send_at"] + pd.Timedelta(days=d) <= data_end]
        if not len(ok_units):
            continue
        inside = m["unit"].isin(ok_units["unit"]) & (age >= 0) & (age < d)
        sums = m.loc[inside].groupby("unit")["margin"].sum()
        u = ok_units.assign(cum=ok_units["unit"].map(sums).fillna(0.0))
        for name, g in u.groupby("scenario", sort=True):
            t, h = g.loc[~g["holdout"], "cum"], g.loc[g["holdout"], "cum"]
            rows.append({"scenario": name, "days_since_send": d, "treated": len(t), "holdout": len(h),
                         "margin_per_customer_treated": float(t.mean()) if len(t) else None,
                         "margin_per_customer_holdout": float(h.mean()) if len(h) else None,
                         "difference": float(t.mean() - h.mean()) if len(t) and len(h) else None})
    return pd.DataFrame(rows)
