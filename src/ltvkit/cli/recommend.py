"""``ltv recommend``: what each customer needs next, with reasons; ``--evaluate`` compares with baselines."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from ..exceptions import InputError
from ..i18n import format_number, t
from ._app import app
from ._common import (
    DEFAULT_WS,
    AsOfOpt,
    CsvOpt,
    EngineOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    WideOpt,
    WorkspaceOpt,
    console,
    emit,
    emit_stream,
    open_workspace,
    parse_date,
    records,
    use_engine,
    use_lang,
    use_wide,
)

_EVAL_COLUMNS = {"model": "model", "recall": "recall", "ndcg": "ndcg", "hit_rate": "hit", "recall_repeat": "repeat",
                 "recall_explore": "explore", "vs_ptopfreq": "vs P-Top", "seconds": "sec"}


@app.command()
def recommend(
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_of: AsOfOpt = None,
    k: Annotated[int, typer.Option("--k", help="Items per customer.")] = 10,
    horizon_days: Annotated[int, typer.Option("--horizon-days", help="The window (days) the lists are for.")] = 60,
    evaluate: Annotated[bool, typer.Option(
        "--evaluate", help="Cut at --as-of (default: horizon days before the last order), score the next "
                           "--horizon-days against popularity, P-TopFreq, GP-TopFreq and ALS (if installed).")] = False,
    due_soon: Annotated[bool, typer.Option(
        "--due-soon", help="List customer × items expected to be needed within --within-days instead.")] = False,
    within_days: Annotated[int, typer.Option("--within-days", help="Window of --due-soon.")] = 14,
    rules: Annotated[str | None, typer.Option(
        "--rules", help="List association rules instead, between items (sku) or categories (category).")] = None,
    upsell: Annotated[bool, typer.Option("--upsell", help="List upsell paths (dearer item, same category).")] = False,
    bundles: Annotated[bool, typer.Option("--bundles", help="List item pairs often bought together (bundles).")] = False,
    window_days: Annotated[int, typer.Option(
        "--rule-window-days", help="Days after A within which B counts, for --rules.")] = 30,
    lang: LangOpt = None, wide: WideOpt = False,
    out: OutOpt = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Recommend the next items for every customer: re-buys due, items bought together, category next steps.

    The lists (customer_key, rank, sku, score, reason) are stored in the workspace as the result
    table result_recommendations.

    \b
    Examples:
        ltv recommend --k 5 --out recommendations.csv
        ltv recommend --evaluate --as-of 2025-06-30 --horizon-days 60
        ltv recommend --due-soon --within-days 14 --lang en
        ltv recommend --rules category --rule-window-days 60 --csv
        ltv recommend --upsell --out upsell.xlsx
    """
    from .. import pipeline
    from ..recommend import evaluate_recommenders, evaluate_replenishment

    lang = use_lang(lang)
    use_wide(wide)
    if k < 1:
        raise InputError(key="err.at_least_one", option="--k", value=k)
    if horizon_days < 1:
        raise InputError(key="err.at_least_one", option="--horizon-days", value=horizon_days)
    if within_days < 0:
        raise InputError(key="err.negative_within_days", value=within_days)
    cut = parse_date(as_of)
    if evaluate:
        with open_workspace(workspace, read_only=True) as ws:
            ws.require_orders()
            use_engine(ws, engine)
            if cut is None:
                cut = pipeline.resolve_as_of(ws) - dt.timedelta(days=horizon_days)
            table = evaluate_recommenders(ws.orders(), cut, horizon_days=horizon_days, k=k)
            timing = evaluate_replenishment(ws.orders(), cut, horizon_days=horizon_days)
        blend = table.attrs.get("selection", {}).get("ltvkit")
        if json_:
            emit({"as_of": cut.isoformat(), "k": k, "horizon_days": horizon_days, "models": records(table),
                  "blend": blend, "replenishment": {key: v for key, v in timing.items() if key != "as_of"}},
                 json_=True)
            return
        title = t("cli.recommend.evaluate", lang, k=k, days=horizon_days, date=cut.isoformat(),
                  n=format_number(int(table["customers"].iloc[0]), lang))
        if csv_ or out is not None:
            emit(table, csv_=csv_, out=out)
        if not csv_:
            cols = [c for c in _EVAL_COLUMNS if c in table.columns]
            shown = table[cols].round(3).rename(columns=_EVAL_COLUMNS)
            emit(shown, title=title)
            if blend is not None:
                console.print(_blend_text(blend, lang), markup=False)
                console.print("  " + ", ".join(f"{key}={v:g}" for key, v in blend["params"].items()), markup=False)
            emit({key: v for key, v in timing.items()}, title=t("cli.recommend.replenishment", lang))
        return
    if sum([evaluate, due_soon, rules is not None, upsell, bundles]) > 1:
        raise InputError(key="err.recommend_one_mode")
    if rules is not None or upsell or bundles:
        from ..recommend import association_rules, bundle_candidates, upsell_candidates

        if rules is not None and rules not in ("sku", "category"):
            raise InputError(key="err.rules_level", value=rules)
        with open_workspace(workspace, read_only=True) as ws:
            ws.require_orders()
            use_engine(ws, engine)
            if rules is not None:
                frame = association_rules(ws.orders(), level=rules, window_days=window_days, as_of=cut)
            elif upsell:
                frame = upsell_candidates(ws.orders(), as_of=cut)
            else:
                frame = bundle_candidates(ws.orders(), as_of=cut)
        emit(frame, json_=json_, csv_=csv_, out=out, title=t("cli.recommend.cross_sell", lang))
        return
    if due_soon:
        with open_workspace(workspace) as ws:
            use_engine(ws, engine)
            frame = pipeline.replenishment(ws, cut, within_days=within_days).data
        emit(frame, json_=json_, csv_=csv_, out=out, title=t("cli.recommend.due_soon", lang, days=within_days))
        return
    shown = 50
    with open_workspace(workspace) as ws:
        use_engine(ws, engine)
        stored = pipeline.recommendations(ws, cut, k=k, horizon_days=horizon_days, lang=lang).data
        if (json_ or csv_) and out is None and not ws.read_only:
            # every list to stdout, read back a chunk at a time (millions of customers)
            emit_stream(pipeline.recommendation_chunks(ws, stored), json_=json_, csv_=csv_)
            return
        # the lists are in the workspace: only what is printed comes back (all of it for a file or JSON/CSV)
        whole = json_ or csv_ or out is not None
        frame = pipeline.recommendation_frame(stored, rows=None if whole else shown)
        total = len(frame) if whole else pipeline.recommendation_count(stored)
    if not total:
        console.print(t("cli.recommend.none", lang), markup=False)
        raise typer.Exit(0)
    if whole:
        emit(frame, json_=json_, csv_=csv_, out=out)
    else:
        emit(frame[["customer_key", "rank", "sku", "score", "reason"]].round(4), title=t("cli.title.recommend", lang),
             max_rows=shown, total_rows=total)


def _blend_text(blend: dict, lang: str) -> str:
    """How the recommender chose its blend, in the reader's language (the library keeps an English message)."""
    v = blend.get("validation") or {}
    status = blend.get("status", "fixed")
    if status in ("tuned", "fallback"):
        return t(f"cli.recommend.blend_{status}", lang, k=v.get("k", ""), date=v.get("as_of", ""),
                 days=v.get("days", ""), recall=format_number(v.get("recall", 0.0), lang, digits=3),
                 ptopfreq=format_number(v.get("recall_ptopfreq", 0.0), lang, digits=3),
                 default=format_number(v.get("recall_default", 0.0), lang, digits=3),
                 customers=format_number(v.get("customers", 0), lang))
    if status == "kept":
        return t("cli.recommend.blend_kept", lang, k=v.get("k", ""), date=v.get("as_of", ""), days=v.get("days", ""),
                 default=format_number(v.get("recall_default", 0.0), lang, digits=3),
                 best=format_number(v.get("recall_default", 0.0) + v.get("gain_vs_default", 0.0), lang, digits=3),
                 se=format_number(v.get("gain_vs_default", 0.0) / max(v.get("gain_se", 0.0), 1e-12), lang, digits=1),
                 customers=format_number(v.get("customers", 0), lang))
    if status == "default":
        return t("cli.recommend.blend_default", lang, customers=format_number(v.get("customers", 0), lang))
    return t("cli.recommend.blend_fixed", lang)
