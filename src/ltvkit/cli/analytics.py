"""``ltv summary | cohorts | f2 | segments | points | cac``: the measured-LTV analytics (docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from .. import pipeline
from ..exceptions import InputError
from ..features import (
    CpmSettings,
    MarginSettings,
    acquisition_comparison,
    pareto_table,
    pivot_cohorts,
    point_segment_summary,
    read_costs,
    segment_summary,
)
from ..features.cohorts import COHORT_METRICS, SPLITS
from ..features.views import VIEWS
from ..i18n import format_value, label, relabel, t
from ._app import app
from ._common import (
    DEFAULT_WS,
    AsOfOpt,
    CostRateOpt,
    CsvOpt,
    EngineOpt,
    JsonOpt,
    LangOpt,
    MarginOpt,
    OutOpt,
    WideOpt,
    WorkspaceOpt,
    console,
    emit,
    open_workspace,
    parse_date,
    scoped_label,
    use_engine,
    use_lang,
    use_wide,
    write_frame,
)

CustomersOpt = Annotated[
    Path | None, typer.Option("--customers-out", help="Also write the per-customer table to FILE (.csv .parquet .json .xlsx).")
]


def _margin(path: Path | None, cost_rate: float | None) -> MarginSettings:
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(key="err.margin_unreadable", path=str(path), error=str(exc).rstrip(".")) from None
        if not isinstance(data, dict):
            raise InputError(key="err.margin_not_mapping", path=str(path))
    if cost_rate is not None:
        data["cost_rate"] = cost_rate
    try:
        return MarginSettings(**data)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise InputError(key="err.margin_invalid", detail="; ".join(first[:2])) from None


def _context(workspace: Path, as_of: str | None, lang: str, engine: str | None = None) -> tuple[Any, dt.date]:
    day = parse_date(as_of)
    ws = open_workspace(workspace)
    ws.require_orders()
    use_engine(ws, engine)
    if day is not None:
        _note_as_of(ws, day, lang)
    return ws, pipeline.resolve_as_of(ws, day)


def _note_as_of(ws: Any, day: dt.date, lang: str) -> None:
    """One sentence on standard error when --as-of lies outside the orders (the KPIs are then empty)."""
    from ._app import err_console

    first, last = ws.order_date_range()
    if day < first:
        err_console.print(t("cli.note.as_of_before_orders", lang, day=day, first=first), markup=False)
    elif (day - last).days > 365:
        err_console.print(t("cli.note.as_of_after_orders", lang, day=day, last=last), markup=False)


def _show(df: Any, lang: str, *, json_: bool, csv_: bool, out: Path | None, title: str) -> None:
    """Machine outputs (JSON, CSV, files) keep the stable column names; printed tables use --lang labels."""
    if json_ or csv_ or out is not None:
        emit(df, json_=json_, csv_=csv_, out=out, title=title)
    else:
        emit(relabel(df, lang, headers=False), title=title)


@app.command()
def summary(workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False,
            csv_: CsvOpt = False, out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
            discount_rate: Annotated[float, typer.Option("--discount-rate", help="Annual discount rate d.")] = 0.10,
            margin_config: MarginOpt = None, cost_rate: CostRateOpt = None, engine: EngineOpt = None) -> None:
    """The shop's LTV KPIs: AOV, purchases per year, retention, lifespan, textbook and retention LTV, F2."""
    lang = use_lang(lang)
    use_wide(wide)
    if discount_rate < 0:
        raise InputError(key="err.negative_discount_rate", value=discount_rate)
    ws, day = _context(workspace, as_of, lang, engine)
    with ws:
        data = pipeline.summary(ws, day, settings=_margin(margin_config, cost_rate), discount_rate=discount_rate).data
    if json_ or csv_ or out is not None:
        if out is not None:
            write_frame(data, out)
        if json_ or csv_:
            emit(data, json_=json_, csv_=csv_)
        return
    emit({scoped_label("summary", k, lang): format_value(k, v, lang) for k, v in data.items()},
         title=t("cli.title.summary", lang))
    console.print(t("cli.summary.note", lang), markup=False)


@app.command()
def cohorts(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    by: Annotated[str, typer.Option("--by", help="Cohort period: month or week.")] = "month",
    split: Annotated[str | None, typer.Option("--split", help=f"Split cohorts by the first order's {'|'.join(SPLITS)}.")] = None,
    metric: Annotated[str, typer.Option("--metric", help=f"Cell value: {'|'.join(COHORT_METRICS)}.")] = "cum_margin_per_customer",
    period: Annotated[str, typer.Option("--period", help="Columns: days (30, 60, … elapsed) or months (calendar).")] = "days",
    step_days: Annotated[int, typer.Option("--step-days", help="Width of a day column.")] = 30,
    max_days: Annotated[int, typer.Option("--max-days", help="Last day column.")] = 720,
    long: Annotated[bool, typer.Option("--long", help="Output every metric in long form (one row per cohort and period).")] = False,
    show_incomplete: Annotated[bool, typer.Option("--show-incomplete", help="Fill cells of periods not yet complete.")] = False,
    all_columns: Annotated[bool, typer.Option("--all-columns", help="Print every period column (files and --csv/--json always have all).")] = False,
    margin_config: MarginOpt = None, cost_rate: CostRateOpt = None, engine: EngineOpt = None,
) -> None:
    """Cohort matrix: first-purchase month/week × elapsed days (or months); 粗利LTV at 12 and 24 months marked ★."""
    lang = use_lang(lang)
    use_wide(wide)
    if metric not in COHORT_METRICS:
        raise InputError(key="err.unknown_metric", value=metric, choices=list(COHORT_METRICS))
    ws, day = _context(workspace, as_of, lang, engine)
    settings = _margin(margin_config, cost_rate)
    with ws:
        table = pipeline.cohorts(ws, day, by=by, split=split, period=period, step_days=step_days,
                                 max_days=max_days, settings=settings).data
        summ = pipeline.cohort_summary_result(ws, day, by=by, split=split, settings=settings).data
    data = table if long else pivot_cohorts(table, metric, summ, show_incomplete=show_incomplete)
    if not (json_ or csv_ or out is not None or long or all_columns):
        data = _printable_cohorts(data, period, by)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=t("cli.title.cohorts", lang, metric=label(metric, lang)))


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
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    windows: Annotated[str, typer.Option("--windows", help="Comma-separated windows in days.")] = "30,60,90,180,365",
    by: Annotated[str, typer.Option("--by", help="Cohort period: month or week.")] = "month",
    split: Annotated[str | None, typer.Option("--split", help=f"Split cohorts by {'|'.join(SPLITS)}.")] = None,
    golden: Annotated[bool, typer.Option("--golden", help="Show the days-to-second-purchase life table and golden time per first category instead.")] = False,
    bin_days: Annotated[int, typer.Option("--bin-days", help="Bin width of the golden-time life table.")] = 7,
    min_at_risk: Annotated[int, typer.Option("--min-at-risk", help="Least customers at risk for a golden-time bin.")] = 30,
    engine: EngineOpt = None,
) -> None:
    """F2/F3 conversion per cohort within fixed windows (step and from-first), or the golden time (--golden)."""
    lang = use_lang(lang)
    use_wide(wide)
    try:
        wins = tuple(int(w) for w in windows.replace(" ", "").split(",") if w)
    except ValueError:
        raise InputError(key="err.windows", value=windows) from None
    ws, day = _context(workspace, as_of, lang, engine)
    with ws:
        if golden:
            life, summ = pipeline.golden(ws, day, bin_days=bin_days, min_at_risk=min_at_risk)
            table, gold = life.data, summ.data
            if json_:
                emit({"golden": gold.to_dict("records"), "life_table": table.to_dict("records")}, json_=True)
                return
            _show(gold, lang, json_=False, csv_=csv_, out=out, title=t("cli.title.golden_time", lang))
            return
        table = pipeline.f2(ws, day, windows=wins, by=by, split=split).data
    if not (json_ or csv_ or out is not None):
        table = table.drop(columns=["segment"]) if (table["segment"] == "all").all() else table
    _show(table, lang, json_=json_, csv_=csv_, out=out, title=t("cli.title.f2", lang))


@app.command()
def segments(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    kind: Annotated[str, typer.Option("--kind", help="rfm (Shopify group names) or cpm (CPM 10 segments).")] = "rfm",
    lapse_days: Annotated[int, typer.Option("--lapse-days", help="CPM: days without an order that make 離脱.")] = 240,
    young_days: Annotated[int, typer.Option("--young-days", help="CPM: tenure below which repeaters are よちよち.")] = 90,
    prime_days: Annotated[int, typer.Option("--prime-days", help="CPM: tenure from which high spenders are 優良.")] = 210,
    spend_yen: Annotated[int, typer.Option("--spend-yen", help="CPM: cumulative spend for 流行/優良.")] = 70_000,
    pareto: Annotated[bool, typer.Option("--pareto", help="Show the Pareto share of margin instead of the segments.")] = False,
    customers: CustomersOpt = None, margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
    engine: EngineOpt = None,
) -> None:
    """RFM groups or CPM segments; per-customer segments are stored as result_segments_<kind>."""
    lang = use_lang(lang)
    use_wide(wide)
    ws, day = _context(workspace, as_of, lang, engine)
    try:
        cpm = CpmSettings(lapse_days=lapse_days, young_days=young_days, prime_days=prime_days, spend_yen=spend_yen)
    except ValueError:
        raise InputError(key="err.cpm_thresholds") from None
    with ws:
        stored = pipeline.segments(ws, day, kind=kind, cpm=cpm, settings=_margin(margin_config, cost_rate)).data
        data = pareto_table(stored) if pareto else segment_summary(stored)
        if customers is not None:
            write_frame(stored.order_by("customer_key").to_pandas(), customers)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=t("cli.title.pareto", lang) if pareto else t("cli.title.segments", lang, kind=kind.upper()))


@app.command()
def points(
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    calendar: Annotated[Path | None, typer.Option("--calendar", help="Campaign calendar YAML (default: the one shipped).")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Show point-acquired vs organic retention and 12/24-month margin LTV with 95% CIs.")] = False,
    customers: CustomersOpt = None, margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Point dependence per customer (stored as result_point_dependence) and the point-driven/mixed/loyal mix."""
    lang = use_lang(lang)
    use_wide(wide)
    from ..calendar import CampaignCalendar

    cal = CampaignCalendar.from_file(calendar) if calendar is not None else CampaignCalendar.default()
    ws, day = _context(workspace, as_of, lang, engine)
    settings = _margin(margin_config, cost_rate)
    with ws:
        if compare:
            data = acquisition_comparison(ws.orders(), day, calendar=cal, settings=settings,
                                          products=ws.products_with_rows())
        else:
            stored = pipeline.points(ws, day, calendar=cal, settings=settings).data
            data = point_segment_summary(stored)
            if customers is not None:
                write_frame(stored.order_by("customer_key").to_pandas(), customers)
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=t("cli.title.points_compare" if compare else "cli.title.points", lang))


@app.command()
def cac(
    costs: Annotated[Path | None, typer.Option(
        "--costs", help="CSV or YAML with channel and spend or cac (optional start, end). Without it only 限界CPA "
                        "(the margin LTV a new customer brings) is shown.")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    window_days: Annotated[int, typer.Option("--ltv-window-days", help="LTV window in days (180, 365, 730 …).")] = 365,
    profit_goal: Annotated[float, typer.Option("--profit-goal", help="Profit to keep per customer: yen, or a share of the LTV when below 1. Without it 目標CPA is left empty.")] = 0.0,
    margin_config: MarginOpt = None, cost_rate: CostRateOpt = None, engine: EngineOpt = None,
) -> None:
    """LTV vs CAC per acquisition channel: 限界CPA, 目標CPA, payback months and LTV/CAC.

    Without --costs only 限界CPA (= the margin LTV of a new customer) is shown per channel; 目標CPA needs
    --profit-goal.
    """
    lang = use_lang(lang)
    use_wide(wide)
    table_costs = read_costs(costs) if costs is not None else None
    ws, day = _context(workspace, as_of, lang, engine)
    with ws:
        res = pipeline.cac(ws, day, costs=table_costs, window_days=window_days, profit_goal=profit_goal,
                           settings=_margin(margin_config, cost_rate))
    data = res.data
    if not res.details.get("has_costs") and len(data):
        data = data.drop(columns=[c for c in ("cac", "payback_months", "ltv_cac", "new_customers") if c in data])
    if profit_goal == 0 and "target_cpa" in data:
        data = data.drop(columns=["target_cpa"])
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=t("cli.title.cac", lang, days=window_days))
    if not (json_ or csv_):
        if not res.details.get("has_costs"):
            console.print(t("cli.cac.no_costs", lang), markup=False)
        if profit_goal == 0:
            console.print(t("cli.cac.no_goal", lang), markup=False)


@app.command()
def views(
    kind: Annotated[str, typer.Argument(help=f"The view: {'|'.join(VIEWS)}.", show_default=False)],
    workspace: WorkspaceOpt = DEFAULT_WS, as_of: AsOfOpt = None, json_: JsonOpt = False, csv_: CsvOpt = False,
    out: OutOpt = None, lang: LangOpt = None, wide: WideOpt = False,
    margin_config: MarginOpt = None, cost_rate: CostRateOpt = None,
) -> None:
    """LTV-Lab views: monthly sales split new/repeat (F1/F2/F3+), customers by number of purchases, LTV by first
    product or category, 定期 continuation, 引き上げ率 (trial → full size/subscription), prefectures, year over year.

    Each view is stored as result_view_<kind> and shown in the report's LTV-Lab section and the Excel workbook.

    \b
    Examples:
        ltv views monthly
        ltv views first_product --out first_product.csv
        ltv views subscription --lang en
    """
    lang = use_lang(lang)
    use_wide(wide)
    ws, day = _context(workspace, as_of, lang)
    with ws:
        data = pipeline.view(ws, day, kind, settings=_margin(margin_config, cost_rate)).data
    _show(data, lang, json_=json_, csv_=csv_, out=out, title=t(f"cli.title.view.{kind}", lang))
