"""``ltv predict`` and ``ltv validate``: predictive CLV with buy-till-you-die models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import InputError
from ..i18n import format_value, t
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
)

ModelOpt = Annotated[str, typer.Option(
    "--model", help="Transaction model: auto (default: the lowest holdout MAE of bgnbd, mbgnbd, pnbd and mbgcnbd on "
                    "this shop's own calibration/holdout split, reported), or bgnbd, mbgnbd, pnbd, mbgcnbd "
                    "(MBG/CNBD-k: regular purchase rhythm, k chosen).")]


@app.command()
def predict(
    workspace: WorkspaceOpt = DEFAULT_WS,
    model: ModelOpt = "auto",
    horizon_days: Annotated[float, typer.Option("--horizon-days", help="CLV horizon in days.")] = 365.0,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Annual discount rate.")] = 0.10,
    margin_rate: Annotated[float | None, typer.Option(
        "--margin-rate", help="Share of spend kept as margin (1 = revenue; default: the shop's margin rate under the "
                              "margin settings, as every other command).")] = None,
    margin_config: MarginOpt = None,
    cost_rate: CostRateOpt = None,
    as_of: AsOfOpt = None,
    out: OutOpt = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    timing: Annotated[str, typer.Option(
        "--timing", help="Model of the next-purchase timing columns: regular (MBG/CNBD-k, uses purchase rhythm) "
        "or model (the transaction model).")] = "regular",
    seasonality: Annotated[str, typer.Option(
        "--seasonality", help="Follow the shop's seasonal pace of repeat buying (weekday, mall campaigns, month) in "
        "the expected purchases and CLV: auto (when it lowers the holdout error on this shop's own split), on, "
        "off.")] = "auto",
    lang: LangOpt = None,
    engine: EngineOpt = None,
    scores_parquet: Annotated[Path | None, typer.Option(
        "--scores-parquet", help="Have the engine write the per-customer scores as Parquet into this folder instead "
                                 "of storing them in the workspace (with --engine spark no per-customer row reaches "
                                 "this machine; docs/spark.md).")] = None,
) -> None:
    """Score every customer: P(alive), expected purchases (30/90/365 days), expected spend, CLV, churn risk,
    and when each will buy next (expected_next_purchase_date, p_purchase_7d … 90d).

    The scores are stored in the workspace as ``result_predictions``.

    \b
    Example:
        ltv predict --model pnbd --horizon-days 730 --margin-rate 0.3 --out scores.csv
    """
    from ..pipeline import predict_customers
    from .analytics import _margin

    lang = use_lang(lang)
    if scores_parquet is not None and (csv_ or out is not None):
        raise InputError(key="err.scores_parquet_alone")
    with open_workspace(workspace) as ws:
        use_engine(ws, engine)
        summary = predict_customers(ws, model=model, horizon_days=horizon_days, discount_rate=discount_rate,
                                    margin_rate=margin_rate, as_of=parse_date(as_of), timing=timing,
                                    settings=_margin(margin_config, cost_rate), parquet=scores_parquet,
                                    seasonality=seasonality)
        if csv_ or out is not None:
            frame = ws.read_result("predictions").order_by("customer_key").to_pandas()
            emit(frame, csv_=csv_, out=out)
            if csv_:
                return
    params = summary.pop("transaction_params")
    summary.update({f"param_{k}": v for k, v in params.items()})
    if json_:
        emit(summary, json_=True)
    else:
        emit({scoped_label("predict", k, lang): format_value(k, v, lang) for k, v in summary.items()},
             title=t("cli.title.predict", lang))


@app.command()
def validate(
    workspace: WorkspaceOpt = DEFAULT_WS,
    calibration_end: Annotated[str | None, typer.Option(
        "--calibration-end", help="Last day of the calibration period (default: a third of the history before the end).")] = None,
    as_of: AsOfOpt = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    out: OutOpt = None,
    lang: LangOpt = None, wide: WideOpt = False,
) -> None:
    """Fit BG/NBD, MBG/NBD, Pareto/NBD and MBG/CNBD-k on a calibration period and check them on the holdout period.

    Prints the model comparison (AIC/BIC, holdout MAE/RMSE), weekly cumulative tracking, calibration by
    frequency and the decile lift and Gini of predicted value. The tracking and the model comparison are stored
    (result_tracking, result_model_comparison) for the report.
    """
    from ..pipeline import validation

    lang = use_lang(lang)
    use_wide(wide)
    with open_workspace(workspace) as ws:
        result = validation(ws, parse_date(as_of), calibration_end=parse_date(calibration_end, "--calibration-end"))
    assert result is not None
    run = result.pop("run")
    result["run_id"] = run.run_id if run is not None else None
    if csv_ or out is not None:  # the model comparison (the table that decides the model)
        emit(result["models"], csv_=csv_, out=out)
        if not json_:
            return
    if json_:
        from ._common import records

        payload = {k: (records(v) if hasattr(v, "to_dict") and not isinstance(v, dict) else v)
                   for k, v in result.items()}
        emit(payload, json_=True)
        return
    head = {k: result[k] for k in ("calibration_end", "observation_end", "holdout_days", "customers", "chosen", "gini")}
    emit({scoped_label("validate", k, lang): v for k, v in head.items()}, title=t("cli.title.validate", lang))
    emit(result["models"], title=t("cli.validate.models", lang))
    emit(result["errors"], title=t("cli.validate.errors", lang, model=result["chosen"]))
    emit(result["tracking"], title=t("cli.validate.tracking", lang), max_rows=60)
    emit(result["calibration"], title=t("cli.validate.calibration", lang))
    emit(result["deciles"], title=t("cli.validate.deciles", lang))
    if "timing" in result:
        cols = [c for c in ("model", "buyers", "mae_days_window", "mae_days_median", "predicted_share_30d",
                            "observed_share_30d", "ece_30d", "brier_30d") if c in result["timing"]]
        emit(result["timing"][cols], title=t("cli.validate.timing", lang))
    console.print(t("cli.validate.chosen", lang, model=result["chosen"]), markup=False)
    console.print(t("cli.validate.timing_note", lang), markup=False)
