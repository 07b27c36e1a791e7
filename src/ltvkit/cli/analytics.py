"""``ltv summary | cohorts | f2 | segments | points | cac``: the measured-LTV analytics (docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from ..exceptions import InputError
from ..features import (
    CpmSettings,
    MarginSettings,
    acquisition_comparison,
    cac_table,
    cohort_expr,
    cohort_summary,
    f2_table,
    golden_time,
    pareto_table,
    pivot_cohorts,
    point_dependence,
    point_segment_summary,
    read_costs,
    relabel,
    segment_customers,
    segment_summary,
    shop_summary,
)
from ..features.cohorts import COHORT_METRICS, SPLITS
from ._app import app
from ._common import (
    DEFAULT_WS,
    AsOfOpt,
    CsvOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    WorkspaceOpt,
    check_lang,
    emit,
    open_workspace,
    parse_date,
    write_frame,
)

MarginOpt = Annotated[
    Path | None,
    typer.Option("--margin-config", help="YAML file of margin settings (cost_rate, mall_fee_rates, …; see docs/analytics.md)."),
]
CostRateOpt = Annotated[
    float | None, typer.Option("--cost-rate", help="Cost of goods as a share of sales when no SKU cost is known (default 0.4).")
]
CustomersOpt = Annotated[
    Path | None, typer.Option("--customers", help="Also write the per-customer table to FILE (.csv .parquet .json .xlsx).")
]


def _margin(path: Path | None, cost_rate: float | None) -> MarginSettings:
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"Cannot read the margin settings {path}: {exc}".rstrip(".") + ".") from None
        if not isinstance(data, dict):
            raise InputError(f"The margin settings {path} must be a YAML mapping such as 'cost_rate: 0.35'.")
    if cost_rate is not None:
        data["cost_rate"] = cost_rate
    try:
        return MarginSettings(**data)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise InputError(f"Margin settings are not valid ({'; '.join(first[:2])}); see docs/analytics.md.") from None


def _context(workspace: Path, as_of: str | None, lang: str) -> tuple[Any, dt.date | None]:
    check_lang(lang)
    day = parse_date(as_of)
    ws = open_workspace(workspace)
    ws.require_orders()
    if day is not None:
        _note_as_of(ws, day, lang)
    return ws, day


def _note_as_of(ws: Any, day: dt.date, lang: str) -> None:
    """One sentence on standard error when --as-of lies outside the orders (the KPIs are then empty)."""
    from ._app import err_console
    from ._errors import message

    first, last = ws.con.execute("SELECT min(order_date), max(order_date) FROM order_lines").fetchall()[0]
    if day < first:
        err_console.print(message("as_of_before_orders", lang, day=day, first=first), markup=False)
    elif (day - last).days > 365:
        err_console.print(message("as_of_after_orders", lang, day=day, last=last), markup=False)


def _products(ws: Any) -> Any:
    return ws.table("products") if ws.has_table("products") else None


def _show(df: Any, lang: str, *, json_: bool, csv_: bool, out: Path | None, title: str) -> None:
    """Machine outputs (JSON, CSV, files) keep the stable column names; printed tables use --lang labels."""
    if json_ or csv_ or out is not None:
        emit(df, json_=json_, csv_=csv_, out=out, title=title)
    else:
        emit(relabel(df, lang), title=title)


@app.command()
def summary(workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False,
            csv_: CsvOpt = False, out: OutOpt = None, lang: LangOpt = "ja",
            discount_rate: Annotated[float, typer.Option("--discount-rate", help="Annual discount rate d.")] = 0.10,
            margin_config: MarginOpt = None, cost_rate: CostRateOpt = None) -> None:
    """The shop's LTV KPIs: AOV, purchases per year, retention, lifespan, textbook and retention LTV, F2."""
    if discount_rate < 0:
        from ._errors import message

        raise InputError(message("negative_discount_rate", lang, value=discount_rate))
    ws, day = _context(workspace, as_of, lang)
    with ws:
        data = shop_summary(ws.orders(), day, settings=_margin(margin_config, cost_rate), products=_products(ws),
                            discount_rate=discount_rate)
    if json_ or csv_ or out is not None:
        if out is not None:
            write_frame(data, out)
        if json_ or csv_:
            emit(data, json_=json_, csv_=csv_)
        return
    from ..features import label

    emit({label(k, lang): v for k, v in data.items()}, title="ltv summary")


@app.command()
def cohorts(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = "ja",
    by: Annotated[str, typer.Option("--by", help="Cohort period: month or week.")] = "month",
    split: Annotated[str | None, typer.Option("--split", help=f"Split cohorts by the first order's {'|'.join(SPLITS)}.")] = None,
    metric: Annotated[str, typer.Option("--metric", help=f"Cell value: {'|'.join(COHORT_METRICS)}.")] = "cum_margin_per_customer",
    period: Annotated[str, typer.Option("--period", help="Columns: days (30, 60, … elapsed) or months (calendar).")] = "days",
    step_days: Annotated[int, typer.Option("--step-days", help="Width of a day column.")] = 30,
    max_days: Annotated[int, typer.Option("--max-days", help="Last day column.")] = 720,
    long: Annotated[bool, typer.Option("--long", help="Output every metric in long form (one row per cohort and period).")] = False,
    show_incomplete: Annotated[bool, typer.Option("--show-incomplete", help="Fill cells of periods not yet complete.")] = False,
    all_columns: Annotated[bool, typer.Option("--all-columns", help="Print every period column (files and --csv/--json always have all).")] = False,
    margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
) -> None:
    """Cohort matrix: first-purchase month/week × elapsed days (or months); 粗利LTV at 12 and 24 months marked ★."""
    if metric not in COHORT_METRICS:
        raise InputError(f"Unknown cohort metric {metric!r}; use one of {', '.join(COHORT_METRICS)}.")
    ws, day = _context(workspace, as_of, lang)
    settings = _margin(margin_config, cost_rate)
    with ws:
        expr = cohort_expr(ws.orders(), day, by=by, split=split, period=period, step_days=step_days,
                           max_days=max_days, settings=settings, products=_products(ws))
        table = expr.to_pandas()
        summ = cohort_summary(ws.orders(), day, by=by, split=split, settings=settings, products=_products(ws))
        ws.write_result("cohorts", table, kind="cohorts", as_of=day,
                        params={"by": by, "split": split, "period": period, "step_days": step_days})
    data = table if long else pivot_cohorts(table, metric, summ, show_incomplete=show_incomplete)
    if not (json_ or csv_ or out is not None or long or all_columns):
        data = _printable_cohorts(data, period, by)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=f"cohorts: {metric}")


_KEY_DAYS = (30, 60, 90, 120, 180, 270, 360, 540, 720)
_KEY_MONTHS = (0, 1, 2, 3, 6, 9, 12, 18, 24)


def _printable_cohorts(wide: Any, period: str, by: str) -> Any:
    """A terminal-width view: key period columns, cohorts as YYYY-MM (or the week's Monday)."""
    keep = {str(k) for k in (_KEY_DAYS if period == "days" else _KEY_MONTHS)}
    cols = [c for c in wide.columns if not c.isdigit() or c in keep]
    out = wide[cols].copy()
    fmt = "%Y-%m" if by == "month" else "%Y-%m-%d"
    out["cohort"] = out["cohort"].map(lambda v: v.strftime(fmt) if hasattr(v, "strftime") else v)
    return out


@app.command()
def f2(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = "ja",
    windows: Annotated[str, typer.Option("--windows", help="Comma-separated windows in days.")] = "30,60,90,180,365",
    by: Annotated[str, typer.Option("--by", help="Cohort period: month or week.")] = "month",
    split: Annotated[str | None, typer.Option("--split", help=f"Split cohorts by {'|'.join(SPLITS)}.")] = None,
    golden: Annotated[bool, typer.Option("--golden", help="Show the days-to-second-purchase life table and golden time per first category instead.")] = False,
    bin_days: Annotated[int, typer.Option("--bin-days", help="Bin width of the golden-time life table.")] = 7,
    min_at_risk: Annotated[int, typer.Option("--min-at-risk", help="Least customers at risk for a golden-time bin.")] = 30,
) -> None:
    """F2/F3 conversion per cohort within fixed windows (step and from-first), or the golden time (--golden)."""
    try:
        wins = tuple(int(w) for w in windows.replace(" ", "").split(",") if w)
    except ValueError:
        raise InputError(f"--windows {windows!r} must be whole days separated by commas, e.g. 30,60,90.") from None
    ws, day = _context(workspace, as_of, lang)
    with ws:
        if golden:
            table, gold = golden_time(ws.orders(), day, bin_days=bin_days, min_at_risk=min_at_risk,
                                      products=_products(ws))
            ws.write_result("golden_time", table, kind="golden_time", as_of=day)
            if json_:
                emit({"golden": gold.to_dict("records"), "life_table": table.to_dict("records")}, json_=True)
                return
            _show(gold, lang, json_=False, csv_=csv_, out=out, title="golden time")
            return
        table = f2_table(ws.orders(), day, windows=wins, by=by, split=split, products=_products(ws))
        ws.write_result("f2", table, kind="f2", as_of=day, params={"windows": list(wins), "by": by})
    if not (json_ or csv_ or out is not None):
        table = table.drop(columns=["segment"]) if (table["segment"] == "all").all() else table
    _show(table, lang, json_=json_, csv_=csv_, out=out, title="F2 / F3")


@app.command()
def segments(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = "ja",
    kind: Annotated[str, typer.Option("--kind", help="rfm (Shopify group names) or cpm (CPM 10 segments).")] = "rfm",
    lapse_days: Annotated[int, typer.Option("--lapse-days", help="CPM: days without an order that make 離脱.")] = 240,
    young_days: Annotated[int, typer.Option("--young-days", help="CPM: tenure below which repeaters are よちよち.")] = 90,
    prime_days: Annotated[int, typer.Option("--prime-days", help="CPM: tenure from which high spenders are 優良.")] = 210,
    spend_yen: Annotated[int, typer.Option("--spend-yen", help="CPM: cumulative spend for 流行/優良.")] = 70_000,
    pareto: Annotated[bool, typer.Option("--pareto", help="Show the Pareto share of margin instead of the segments.")] = False,
    customers: CustomersOpt = None, margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
) -> None:
    """RFM groups or CPM segments; per-customer segments are stored as result_segments_<kind>."""
    ws, day = _context(workspace, as_of, lang)
    try:
        cpm = CpmSettings(lapse_days=lapse_days, young_days=young_days, prime_days=prime_days, spend_yen=spend_yen)
    except ValueError:
        raise InputError("CPM thresholds must be positive whole numbers.") from None
    with ws:
        expr = segment_customers(ws.orders(), day, kind=kind, cpm=cpm, settings=_margin(margin_config, cost_rate),
                                 products=_products(ws))
        name = ws.write_result(f"segments_{kind}", expr, kind="segments", as_of=day, params={"kind": kind})
        stored = ws.table(name)
        data = pareto_table(stored) if pareto else segment_summary(stored)
        if customers is not None:
            write_frame(stored.order_by("customer_key").to_pandas(), customers)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=f"segments ({kind})" if not pareto else "Pareto")


@app.command()
def points(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = "ja",
    calendar: Annotated[Path | None, typer.Option("--calendar", help="Campaign calendar YAML (default: the one shipped).")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Show point-acquired vs organic retention and 12/24-month margin LTV with 95% CIs.")] = False,
    customers: CustomersOpt = None, margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
) -> None:
    """Point dependence per customer (stored as result_point_dependence) and the point-driven/mixed/loyal mix."""
    from ..calendar import CampaignCalendar

    cal = CampaignCalendar.from_file(calendar) if calendar is not None else CampaignCalendar.default()
    ws, day = _context(workspace, as_of, lang)
    settings = _margin(margin_config, cost_rate)
    with ws:
        if compare:
            data = acquisition_comparison(ws.orders(), day, calendar=cal, settings=settings, products=_products(ws))
        else:
            expr = point_dependence(ws.orders(), day, calendar=cal, settings=settings, products=_products(ws))
            name = ws.write_result("point_dependence", expr, kind="points", as_of=day)
            stored = ws.table(name)
            data = point_segment_summary(stored)
            if customers is not None:
                write_frame(stored.order_by("customer_key").to_pandas(), customers)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title="point dependence" if not compare else "point-acquired vs organic")


@app.command()
def cac(
    costs: Annotated[Path, typer.Option("--costs", help="CSV or YAML with channel and spend or cac (optional start, end).")],
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = "ja",
    window_days: Annotated[int, typer.Option("--window-days", help="LTV window in days (180, 365, 730 …).")] = 365,
    profit_goal: Annotated[float, typer.Option("--profit-goal", help="Profit to keep per customer: yen, or a share of the LTV when below 1.")] = 0.0,
    margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
) -> None:
    """LTV vs CAC per acquisition channel: 限界CPA, 目標CPA, payback months and LTV/CAC."""
    table_costs = read_costs(costs)
    ws, day = _context(workspace, as_of, lang)
    with ws:
        data = cac_table(ws.orders(), table_costs, day, window_days=window_days, profit_goal=profit_goal,
                         settings=_margin(margin_config, cost_rate), products=_products(ws))
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=f"LTV vs CAC ({window_days} days)")
