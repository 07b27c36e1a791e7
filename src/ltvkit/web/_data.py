"""The data of each dashboard page: one function per page, returning plain JSON-able data.

The HTML page and its ``.json`` twin render the same dict, so the twin always holds what the page shows. Every
function reads stored results (never computes them): analyses through the report's section builders with
``compute_missing=False`` (the report's figures and tables), small lookups through :mod:`ltvkit.store.reads`,
the CRM side through :mod:`ltvkit.actions`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..actions import load_scenarios, status
from ..actions.dashboard import DEAD_STATES, customer_ops, disabled_scenarios, outbox_page, paused_channels
from ..actions.webhook import inbox
from ..exceptions import InputError, LtvkitError, MissingDataError
from ..i18n import column_kind, label, t
from ..reports._figures import bar, heatmap
from ..reports._json import jsonable, table_records
from ..reports.data import ReportSettings, build_report_data
from ..reports.sections import BUILDERS
from ..store import Workspace, reads

__all__ = ["PAGES", "Query", "page_data"]

_BUILDERS = dict(BUILDERS)
PAGE_SIZE = 100
CACHE_ENTRIES = 256
COHORT_METRICS = ("retention", "cum_margin_per_customer", "cum_revenue_per_customer", "active_customers", "orders",
                  "revenue", "margin")
SEGMENT_COLUMNS = ("customer_key", "segment", "orders", "revenue", "margin", "recency_days", "first_date",
                   "last_date")
PREDICTION_COLUMNS = ("p_alive", "expected_purchases_90d", "expected_purchases_365d", "predicted_clv", "churn_risk",
                      "expected_next_purchase_date")


@dataclass
class Query:
    """What a request asks for: the language, the query parameters, and the stores to read."""

    lang: str
    params: dict[str, str]
    snapshot: Any  # WorkspaceSnapshot | None
    store: Any  # OpsStore
    settings: Any  # Settings
    extra: dict[str, Any] = field(default_factory=dict)
    cache: Any = None  # an OrderedDict shared by the requests of one server (see _from_workspace)

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default) or default

    def int(self, name: str, default: int, lo: int = 0, hi: int = 10**9) -> int:
        raw = self.params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InputError(key="err.web_bad_param", name=name, value=raw) from None
        if not lo <= value <= hi:
            raise InputError(key="err.web_bad_param", name=name, value=raw)
        return value

    def date(self, name: str) -> dt.date | None:
        raw = self.params.get(name)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise InputError(key="err.web_bad_param", name=name, value=raw) from None

    def choice(self, name: str, options: tuple[str, ...] | list[str], default: str) -> str:
        raw = self.params.get(name) or default
        if raw not in options:
            raise InputError(key="err.web_bad_param", name=name, value=raw)
        return raw


# -- building blocks ----------------------------------------------------------------------------------------------

def table(key: str, title: str, frame: pd.DataFrame | list[dict[str, Any]], lang: str, *,
          total: int | None = None, kinds: dict[str, str] | None = None, labels: dict[str, str] | None = None,
          links: dict[str, str] | None = None, sentence: str = "") -> dict[str, Any]:
    """A table for a page: columns (name, label, kind), rows as records, how many rows there are in all, and
    which columns link where (``{"customer_key": "/customers/{}"}``)."""
    kinds = kinds or {}
    labels = labels or {}
    if isinstance(frame, list):  # rows of the ops store: no DataFrame needed
        names = list(frame[0]) if frame else []
        cols_ = []
        for c in names:
            values = [r[c] for r in frame if r[c] is not None]
            numeric = bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            guess = (column_kind(c) or "float") if numeric and not c.endswith(("_key", "_id", "sku")) else "text"
            cols_.append({"name": c, "label": labels.get(c) or label(c, lang), "kind": kinds.get(c) or guess})
        return {"key": key, "title": title, "sentence": sentence, "columns": cols_, "rows": frame,  # made JSON-able once, by page_data
                "total": len(frame) if total is None else int(total), "links": links or {}}
    cols = [str(c) for c in frame.columns]
    columns = []
    for c in cols:
        dtype = frame[c].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        guess = (column_kind(c) or "float") if numeric and not c.endswith(("_key", "_id", "sku")) else "text"
        columns.append({"name": c, "label": labels.get(c) or label(c, lang), "kind": kinds.get(c) or guess})
    return {"key": key, "title": title, "sentence": sentence, "columns": columns, "rows": table_records(frame),
            "total": len(frame) if total is None else int(total), "links": links or {}}


def _sections(ws: Workspace, keys: tuple[str, ...], lang: str, as_of: dt.date | None) -> dict[str, Any]:
    """Report sections (KPIs, the report's Plotly figures, tables) from stored results only."""
    data = build_report_data(ws, ReportSettings(lang=lang, as_of=as_of, compute_missing=False, max_table_rows=50),
                             builders=[(k, _BUILDERS[k]) for k in keys]).to_dict()
    return {"sections": data["sections"], "unavailable": data["unavailable"]}


def _as_of(ws: Workspace, q: Query, result: str) -> dt.date | None:
    """The analysis date of a page: ``?as_of=``, else that of the latest stored run of its main result."""
    given = q.date("as_of")
    if given is not None:
        return given
    if not ws.has_table("runs"):
        return None
    run = ws.result_run(result)
    return run.as_of if run is not None else None


def _need_workspace(q: Query) -> Any:
    if q.snapshot is None or not q.snapshot.path.exists():
        raise MissingDataError(key="err.web_no_workspace")
    return q.snapshot.read()


def _from_workspace(q: Query, part: str, compute: Any) -> Any:
    """``compute(ws)`` on the current copy of the workspace, kept until the next copy: what a page reads from the
    workspace changes only when the file does (the ops store's parts are read on every request)."""
    with _need_workspace(q) as ws:
        key = (q.snapshot.copies, part, q.lang, tuple(sorted(q.params.items())),
               tuple(sorted((k, str(v)) for k, v in q.extra.items())))
        if q.cache is not None and key in q.cache:
            q.cache.move_to_end(key)
            return q.cache[key]
        value = jsonable(compute(ws))
        if q.cache is not None:
            q.cache[key] = value
            while len(q.cache) > CACHE_ENTRIES:
                q.cache.popitem(last=False)
        return value


def _ops_time(value: Any) -> Any:
    return value.isoformat(timespec="seconds") + "Z" if isinstance(value, dt.datetime) else value


# -- pages ----------------------------------------------------------------------------------------------------------

KPI_COLUMNS = ("customers", "orders", "revenue", "margin", "aov", "purchases_per_year", "retention_rate",
               "f2_rate_365d", "annual_ltv_margin")


def overview(q: Query) -> dict[str, Any]:
    lang = q.lang
    part = _from_workspace(q, "overview", lambda ws: _overview_ws(ws, q))
    unanswered = len(inbox(q.store))
    return {"title": t("web.page.overview", lang), **part, "outbox": dict(sorted(q.store.counts().items())),
            "unanswered": unanswered}


def _overview_ws(ws: Workspace, q: Query) -> dict[str, Any]:
    lang = q.lang
    day = _as_of(ws, q, "summary")
    out = _sections(ws, ("kpi",), lang, day)
    hist = reads.result_history(ws, "summary", KPI_COLUMNS)
    tables = []
    end = ws.last_order_date() if ws.has_table("order_lines") else None
    if end is not None:
        weeks = reads.last_two_weeks(ws, end)
        rows = [{"kpi": t("web.overview.buyers", lang) if k == "buyers" else label(k, lang), "now": weeks["this"][k], "week_before": weeks["before"][k],
                 "change": weeks["this"][k] - weeks["before"][k], "kind": "yen" if k == "revenue" else "int"}
                for k in ("orders", "buyers", "new_customers", "revenue")]
        tables.append({"key": "last_7_days", "kpi_rows": rows, "title": t("web.overview.last_7_days", lang),
                       "as_of": t("web.overview.days_to", lang, start=(end - dt.timedelta(days=6)).isoformat(),
                                  end=end.isoformat()),
                       "before_as_of": t("web.overview.days_to", lang,
                                         start=(end - dt.timedelta(days=13)).isoformat(),
                                         end=(end - dt.timedelta(days=7)).isoformat())})
    if len(hist):
        latest = hist.iloc[0]
        week = hist[pd.to_datetime(hist["as_of"]) <= pd.Timestamp(latest["as_of"]) - pd.Timedelta(days=7)]
        rows = []
        for col in KPI_COLUMNS:
            before = week.iloc[0][col] if len(week) else None
            now = latest[col]
            change = (now - before) if before is not None and pd.notna(before) and pd.notna(now) else None
            rows.append({"kpi": label(col, lang), "now": now, "week_before": before, "change": change,
                         "kind": column_kind(col) or "float"})
        tables.append({"key": "since_last_week", "kpi_rows": jsonable(rows),
                       "title": t("web.overview.since_last_week", lang),
                       "as_of": jsonable(latest["as_of"]), "before_as_of": jsonable(week.iloc[0]["as_of"]) if len(week) else None})
        tables.append(table("kpi_history", t("web.overview.history", lang),
                            hist[["run_id", "as_of", *KPI_COLUMNS]].head(20), lang,
                            kinds={"run_id": "text", "as_of": "text"}))
    charts = []
    if ws.has_result("view_monthly"):  # the trend: monthly sales of first, second and later purchases
        monthly = ws.read_result("view_monthly").to_pandas().sort_values("month").tail(24)
        parts = ("f1_revenue", "f2_revenue", "f3plus_revenue")
        charts.append({"key": "monthly_trend", "title": t("web.overview.trend", lang),
                       "figure": bar([str(m)[:7] for m in monthly["month"]],
                                     {label(c, lang): monthly[c].tolist() for c in parts}, stacked=True,
                                     hover_format=",.0f", y_title=label("revenue", lang))})
    return {"as_of": day, **out, "tables": tables, "charts": charts}


def cohorts(q: Query) -> dict[str, Any]:
    lang = q.lang
    metric = q.choice("metric", COHORT_METRICS, "cum_margin_per_customer")
    with _need_workspace(q) as ws:
        day = _as_of(ws, q, "cohorts")
        out = _sections(ws, ("cohorts", "f2"), lang, day)
        runs = [r for r in ws.runs(kind="cohorts") if r.result == "result_cohorts"] if ws.has_table("runs") else []
        splits: dict[str, int] = {}
        for r in runs:  # newest first: the latest run of each split
            splits.setdefault(str(r.params.get("split") or "none"), r.run_id)
        split = q.choice("split", list(splits) or ["none"], "none" if "none" in splits or not splits else next(iter(splits)))
        chart, segments, segment = None, [], ""
        if split in splits:
            tb = ws.read_result("cohorts", run_id=splits[split])
            frame = tb.to_pandas()
            segments = sorted(map(str, frame["segment"].dropna().unique()))
            segment = q.choice("segment", segments, segments[0]) if segments else ""
            sub = frame[frame["segment"].astype(str) == segment]
            grid = sub.pivot_table(index="cohort", columns="period", values=metric, aggfunc="first").sort_index()
            chart = {"key": "cohort_metric", "title": t("web.cohorts.metric_chart", lang, metric=label(metric, lang),
                                                         segment=label(segment, lang)),
                     "figure": heatmap([str(c) for c in grid.columns], [str(i)[:10] for i in grid.index],
                                       grid.to_numpy().tolist(), colorbar_title=label(metric, lang),
                                       value_format=".1%" if metric == "retention" else ",.0f",
                                       x_title=t("web.cohorts.period", lang), y_title=t("web.cohorts.cohort", lang))}
    return {"title": t("web.page.cohorts", lang), "as_of": jsonable(day), **out,
            "filters": {"metric": metric, "metrics": list(COHORT_METRICS), "split": split, "splits": list(splits),
                        "segment": segment, "segments": segments},
            "charts": [jsonable(chart)] if chart else []}


def _segment_filters(q: Query) -> tuple[str, str]:
    return q.choice("kind", ("rfm", "cpm"), "rfm"), q.get("segment")


def segments(q: Query) -> dict[str, Any]:
    lang = q.lang
    kind, segment = _segment_filters(q)
    page = q.int("page", 1, 1)
    with _need_workspace(q) as ws:
        day = _as_of(ws, q, "segments_rfm")
        out = _sections(ws, ("segments",), lang, day)
        counts = reads.result_value_counts(ws, f"segments_{kind}", "segment")
        members = None
        if segment:
            found = reads.result_members(ws, f"segments_{kind}", where={"segment": segment}, order_by="margin",
                                         limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, columns=SEGMENT_COLUMNS)
            if found is None or not found[1]:
                raise InputError(key="err.web_no_segment", segment=segment)
            members = found
    tables = []
    if counts is not None:
        counts = counts.rename(columns={"value": "segment"})
        counts["label"] = counts["segment"].map(lambda s: label(str(s), lang))
        tables.append(table("segment_sizes", t("web.segments.sizes", lang), counts[["label", "segment", "customers"]],
                            lang, kinds={"customers": "int"}))
    if members is not None:
        frame, total = members
        tables.append(table("members", t("web.segments.members", lang, segment=label(segment, lang)), frame, lang,
                            total=total, links={"customer_key": "/customers/{}"}, kinds={"orders": "int"}))
    return {"title": t("web.page.segments", lang), "as_of": jsonable(day), **out,
            "filters": {"kind": kind, "segment": segment, "page": page, "page_size": PAGE_SIZE}, "tables": tables}


def segment_csv(q: Query) -> tuple[str, pd.DataFrame]:
    """Every member of one segment (``/segments.csv``), for a spreadsheet or a mailing tool."""
    kind, segment = _segment_filters(q)
    if not segment:
        raise InputError(key="err.web_bad_param", name="segment", value="")
    with _need_workspace(q) as ws:
        found = reads.result_members(ws, f"segments_{kind}", where={"segment": segment}, order_by="margin",
                                     limit=None, columns=SEGMENT_COLUMNS)
    if found is None or not found[1]:
        raise InputError(key="err.web_no_segment", segment=segment)
    return f"segment-{kind}.csv", found[0]


def points(q: Query) -> dict[str, Any]:
    with _need_workspace(q) as ws:
        day = _as_of(ws, q, "point_dependence")
        out = _sections(ws, ("points",), q.lang, day)
    return {"title": t("web.page.points", q.lang), "as_of": jsonable(day), **out}


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def predictions(q: Query) -> dict[str, Any]:
    lang = q.lang
    with _need_workspace(q) as ws:
        day = _as_of(ws, q, "predictions")
        out = _sections(ws, ("predictive",), lang, day)
        start = q.date("week_of") or day or dt.date.today()
        monday = _week(start)
        tables = []
        for n, key in enumerate(("this_week", "next_week")):
            lo, hi = monday + dt.timedelta(days=7 * n), monday + dt.timedelta(days=7 * (n + 1))
            buy = reads.due_between(ws, "predictions", "expected_next_purchase_date", lo, hi,
                                    columns=("customer_key", "expected_next_purchase_date", "p_alive", "predicted_clv"))
            if buy is not None:
                tables.append(table(f"buy_{key}", t(f"web.predictions.buy_{key}", lang, start=lo.isoformat(),
                                                    end=(hi - dt.timedelta(days=1)).isoformat()),
                                    buy, lang, links={"customer_key": "/customers/{}"}))
            due = reads.due_between(ws, "replenishment", "due_date", lo, hi,
                                    columns=("customer_key", "due_date", "sku", "category", "p_within"))
            if due is not None:
                tables.append(table(f"runout_{key}", t(f"web.predictions.runout_{key}", lang, start=lo.isoformat(),
                                                       end=(hi - dt.timedelta(days=1)).isoformat()),
                                    due, lang, links={"customer_key": "/customers/{}"}))
    return {"title": t("web.page.predictions", lang), "as_of": jsonable(day), **out,
            "filters": {"week_of": monday.isoformat()}, "tables": tables}


def recommendations(q: Query) -> dict[str, Any]:
    lang = q.lang
    with _need_workspace(q) as ws:
        day = _as_of(ws, q, "recommendations")
        out = _sections(ws, ("recommend",), lang, day)
        tables = []
        if ws.has_result("recommendations"):
            rt = ws.read_result("recommendations")
            top = rt.filter(rt["rank"] <= 3).group_by("sku").aggregate(customers=rt.customer_key.nunique())
            frame = top.to_pandas().sort_values(["customers", "sku"], ascending=[False, True]).head(30)
            names = ws.product_names(frame["sku"].astype(str).tolist())
            frame.insert(1, "product_name", [names.get(s, (None, None))[0] for s in frame["sku"].astype(str)])
            tables.append(table("top_items", t("web.recommendations.top_items", lang), frame, lang,
                                kinds={"customers": "int"}))
    return {"title": t("web.page.recommendations", lang), "as_of": jsonable(day), **out, "tables": tables}


def results(q: Query) -> dict[str, Any]:
    lang = q.lang
    with _need_workspace(q) as ws:
        out = _sections(ws, ("crm_results",), lang, None)
    rows = [r for s in out["sections"] for tb in s["tables"] if tb["key"] == "crm_results" for r in tb["rows"]
            if r.get("uplift") is not None]
    charts = []
    if rows:  # the uplift of each scenario and send month with its 95% interval
        fig = bar([f"{r['scenario']} {str(r['send_month'])[:7]}" for r in rows],
                  {t("report.crm.uplift", lang): [r["uplift"] for r in rows]}, y_format=".1%",
                  y_title=t("report.crm.uplift", lang))
        fig["data"][0]["error_y"] = {
            "type": "data", "symmetric": False,
            "array": [(r["uplift_ci_high"] - r["uplift"]) if r.get("uplift_ci_high") is not None else 0 for r in rows],
            "arrayminus": [(r["uplift"] - r["uplift_ci_low"]) if r.get("uplift_ci_low") is not None else 0
                           for r in rows]}
        charts.append({"key": "uplift", "title": t("web.results.uplift_chart", lang), "figure": fig})
    return {"title": t("web.page.results", lang), **out, "charts": charts}


def customer(q: Query) -> dict[str, Any]:
    lang = q.lang
    key = q.extra["customer_key"]
    ops = customer_ops(q.store, key)
    tables: list[dict[str, Any]] = []
    contact = None
    found = any(ops[k] for k in ("messages", "inbound", "line_users", "consent")) or ops["contact"] is not None
    if q.snapshot is not None and q.snapshot.path.exists():
        part = _from_workspace(q, "customer", lambda ws: _customer_ws(ws, key, lang))
        found = found or part["orders"] > 0
        contact = part["contact"]
        tables.extend(part["tables"])
    if not found:
        raise MissingDataError(key="err.web_no_customer", customer=key)
    msgs = [{**m, "send_at": _ops_time(m["send_at"]), "sent_at": _ops_time(m["sent_at"])} for m in ops["messages"]]
    tables.append(table("messages", t("web.customer.messages", lang), msgs, lang,
                        kinds={"attempts": "int", "run_id": "text", "holdout": "text"},
                        links={"scenario": "/scenarios/{}"}))
    tables.append(table("inbound", t("web.customer.inbound", lang),
                        [{**m, "received_at": _ops_time(m["received_at"]), "replied_at": _ops_time(m["replied_at"])}
                         for m in ops["inbound"]], lang))
    consent_rows = [{**c, "updated_at": _ops_time(c["updated_at"])} for c in ops["consent"]]
    tables.append(table("consent", t("web.customer.consent", lang), consent_rows, lang,
                        kinds={"opted_out": "text"}))
    tables.append(table("consent_history", t("web.customer.consent_history", lang),
                        [{**c, "at": _ops_time(c["at"])} for c in ops["consent_history"]], lang))
    addresses = {"ops": jsonable({k: _ops_time(v) for k, v in (ops["contact"] or {}).items()}) or None,
                 "line_users": jsonable(ops["line_users"]), "shop": contact}
    return {"title": t("web.page.customer", lang, customer=key), "customer_key": key, "contact": addresses,
            "tables": tables}


_SCENARIOS: dict[Any, Any] = {}


def _load_scenarios(directory: Any) -> dict[str, Any]:
    """The scenarios, parsed again only when a file of the shop's folder changed."""
    stamp: tuple[Any, ...] = ()
    if directory is not None and Path(directory).is_dir():
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in Path(directory).iterdir()
                             if p.suffix in (".yaml", ".yml")))
    key = (str(directory), stamp)
    if key not in _SCENARIOS:
        _SCENARIOS.clear()
        _SCENARIOS[key] = load_scenarios(directory)
    return _SCENARIOS[key]


def _customer_ws(ws: Workspace, key: str, lang: str) -> dict[str, Any]:
    """What the workspace holds about one customer: order lines, scores in every run, segments, points,
    recommendations, replenishment, and the contact row kept at import (shown on this page only)."""
    tables = []
    orders = reads.customer_orders(ws, key)
    tables.append(table("orders", t("web.customer.orders", lang), orders, lang,
                        kinds={"quantity": "int", "line_no": "int"}))
    hist = reads.customer_result_history(ws, "predictions", key, PREDICTION_COLUMNS)
    tables.append(table("scores", t("web.customer.scores", lang), hist, lang, kinds={"run_id": "text"}))
    for name, title in (("segments_rfm", "web.customer.rfm"), ("segments_cpm", "web.customer.cpm"),
                        ("point_dependence", "web.customer.points")):
        rows = reads.customer_result_rows(ws, name, key)
        if rows is not None and len(rows):
            tables.append(table(name, t(title, lang), rows.drop(columns=["customer_key"]), lang))
    recs = reads.customer_result_rows(ws, "recommendations", key, order_by="rank")
    if recs is not None:
        names = ws.product_names(recs["sku"].astype(str).tolist()) if len(recs) else {}
        recs = recs.drop(columns=["customer_key"])
        recs.insert(2, "product_name", [names.get(s, (None, None))[0] for s in recs["sku"].astype(str)])
        tables.append(table("recommendations", t("web.customer.recommendations", lang), recs, lang,
                            kinds={"rank": "int"}))
    due = reads.customer_result_rows(ws, "replenishment", key, order_by="due_date")
    if due is not None and len(due):
        tables.append(table("replenishment", t("web.customer.replenishment", lang),
                            due.drop(columns=["customer_key"]), lang))
    return {"orders": len(orders), "contact": reads.customer_contact(ws, key), "tables": tables}


def _scenario_rows(q: Query) -> tuple[list[dict[str, Any]], str | None]:
    try:
        found = _load_scenarios(q.settings.crm_scenarios)
    except LtvkitError as exc:
        return [], str(exc)
    off = disabled_scenarios(q.store)
    counts = status(q.store)["by_scenario"]
    rows = [{"name": s.name, "enabled": s.name not in off, "trigger": s.trigger.kind, "channels": list(s.channels),
             "holdout": s.holdout if s.holdout is not None else q.settings.crm_holdout_share, "priority": s.priority,
             "file": s.path, "description": s.description, "outbox": counts.get(s.name, {})}
            for s in found.values()]
    return rows, None


def scenarios(q: Query) -> dict[str, Any]:
    rows, error = _scenario_rows(q)
    return {"title": t("web.page.scenarios", q.lang), "scenarios": rows, "error": error,
            "directory": str(q.settings.crm_scenarios) if q.settings.crm_scenarios else None}


def outbox(q: Query) -> dict[str, Any]:
    lang = q.lang
    state = q.get("state")
    scenario = q.get("scenario")
    page = q.int("page", 1, 1)
    rows, total = outbox_page(q.store, state=state or None, scenario=scenario or None, limit=PAGE_SIZE,
                              offset=(page - 1) * PAGE_SIZE)
    rows = [{k: _ops_time(v) for k, v in r.items()} for r in rows]
    return {"title": t("web.page.outbox", lang), "counts": dict(sorted(q.store.counts().items())),
            "paused_channels": paused_channels(q.store),
            "filters": {"state": state, "scenario": scenario, "page": page, "page_size": PAGE_SIZE},
            "dead_states": list(DEAD_STATES),
            "tables": [table("messages", t("web.outbox.messages", lang), rows, lang, total=total,
                             kinds={"attempts": "int", "run_id": "text", "holdout": "text"},
                             links={"customer_key": "/customers/{}", "scenario": "/scenarios/{}"})]}


def inbox_page(q: Query) -> dict[str, Any]:
    lang = q.lang
    show_all = q.get("all") in ("1", "true", "yes")
    rows = [{k: _ops_time(v) for k, v in r.items()} for r in inbox(q.store, all_=show_all)]
    return {"title": t("web.page.inbox", lang), "filters": {"all": show_all}, "messages": rows,
            "can_reply": bool(q.extra.get("can_reply"))}


PAGES: dict[str, Any] = {
    "overview": overview,
    "cohorts": cohorts,
    "segments": segments,
    "points": points,
    "predictions": predictions,
    "recommendations": recommendations,
    "scenarios": scenarios,
    "outbox": outbox,
    "inbox": inbox_page,
    "results": results,
}


# pages that read only the workspace: kept whole until the workspace changes
WORKSPACE_PAGES = ("cohorts", "segments", "points", "predictions", "recommendations", "results")


def page_data(name: str, q: Query) -> dict[str, Any]:
    if name in WORKSPACE_PAGES:
        return _from_workspace(q, name, lambda _ws: PAGES[name](q))
    data = PAGES[name](q) if name in PAGES else customer(q)
    return jsonable(data)
