"""``ltv recommend``: what each customer needs next, with reasons; ``--evaluate`` compares with baselines."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from ..exceptions import InputError
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
    console,
    emit,
    open_workspace,
    parse_date,
    records,
)

_EVAL_COLUMNS = {"model": "model", "recall": "recall", "ndcg": "ndcg", "hit_rate": "hit", "recall_repeat": "repeat",
                 "recall_explore": "explore", "vs_ptopfreq": "vs P-Top", "seconds": "sec"}

_TITLES = {
    "en": ("ltv recommend", "Recommender vs baselines (Recall@{k}, next {h} days after {d})", "Replenishment timing",
           "Due soon (next {w} days)", "Cross-sell / upsell / bundles"),
    "ja": ("ltv recommend (おすすめ)", "推薦モデルとベースラインの比較 (Recall@{k}, {d} の翌 {h} 日間)",
           "買い替え時期の予測精度", "そろそろ必要になる商品 ({w} 日以内)", "クロスセル・アップセル・セット候補"),
}


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
    window_days: Annotated[int, typer.Option("--window-days", help="Days after A within which B counts, for --rules.")] = 30,
    lang: LangOpt = "ja",
    out: OutOpt = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
) -> None:
    """Recommend the next items for every customer: re-buys due, items bought together, category next steps.

    The lists (customer_key, rank, sku, score, reason) are stored in the workspace as the result
    table result_recommendations.

    \b
    Examples:
        ltv recommend --k 5 --out recommendations.csv
        ltv recommend --evaluate --as-of 2025-06-30 --horizon-days 60
        ltv recommend --due-soon --within-days 14 --lang en
        ltv recommend --rules category --window-days 60 --csv
        ltv recommend --upsell --out upsell.xlsx
    """
    from ..recommend import (
        ReplenishmentModel,
        evaluate_recommenders,
        evaluate_replenishment,
        recommend_workspace,
    )

    lang = check_lang(lang)
    if k < 1:
        raise InputError(f"--k must be at least 1, not {k}.")
    if horizon_days < 1:
        raise InputError(f"--horizon-days must be at least 1, not {horizon_days}.")
    if within_days < 0:
        from ._errors import message

        raise InputError(message("negative_within_days", lang, value=within_days))
    titles = _TITLES[lang]
    cut = parse_date(as_of)
    if evaluate:
        with open_workspace(workspace, read_only=True) as ws:
            ws.require_orders()
            if cut is None:
                last = ws.con.execute("SELECT max(order_date) FROM order_lines WHERE status = 'ordered'").fetchone()[0]
                cut = last - dt.timedelta(days=horizon_days)
            table = evaluate_recommenders(ws.orders(), cut, horizon_days=horizon_days, k=k)
            timing = evaluate_replenishment(ws.orders(), cut, horizon_days=horizon_days)
        if json_:
            emit({"as_of": cut.isoformat(), "k": k, "horizon_days": horizon_days, "models": records(table),
                  "replenishment": {key: v for key, v in timing.items() if key != "as_of"}}, json_=True)
            return
        title = titles[1].format(k=k, h=horizon_days, d=cut.isoformat()) + f" n={int(table['customers'].iloc[0]):,}"
        if csv_ or out is not None:
            emit(table, csv_=csv_, out=out)
        if not csv_:
            cols = [c for c in _EVAL_COLUMNS if c in table.columns]
            shown = table[cols].round(3).rename(columns=_EVAL_COLUMNS)
            emit(shown, title=title)
            emit({key: v for key, v in timing.items()}, title=titles[2])
        return
    if sum([evaluate, due_soon, rules is not None, upsell, bundles]) > 1:
        raise InputError("Choose one of --evaluate, --due-soon, --rules, --upsell and --bundles.")
    if rules is not None or upsell or bundles:
        from ..recommend import association_rules, bundle_candidates, upsell_candidates

        if rules is not None and rules not in ("sku", "category"):
            raise InputError(f"--rules {rules!r} is not a level; use --rules sku or --rules category.")
        with open_workspace(workspace, read_only=True) as ws:
            ws.require_orders()
            if rules is not None:
                frame = association_rules(ws.orders(), level=rules, window_days=window_days, as_of=cut)
            elif upsell:
                frame = upsell_candidates(ws.orders(), as_of=cut)
            else:
                frame = bundle_candidates(ws.orders(), as_of=cut)
        emit(frame, json_=json_, csv_=csv_, out=out, title=titles[4])
        return
    if due_soon:
        with open_workspace(workspace, read_only=True) as ws:
            ws.require_orders()
            frame = ReplenishmentModel().fit(ws.orders(), as_of=cut).due_soon(within_days=within_days)
        emit(frame, json_=json_, csv_=csv_, out=out, title=titles[3].format(w=within_days))
        return
    with open_workspace(workspace) as ws:
        frame = recommend_workspace(ws, as_of=cut, k=k, horizon_days=horizon_days, lang=lang)
    if frame.empty:
        console.print("No recommendations: no customer has an order before the as-of date.")
        raise typer.Exit(0)
    if json_ or csv_ or out is not None:
        emit(frame, json_=json_, csv_=csv_, out=out)
    else:
        emit(frame[["customer_key", "rank", "sku", "score", "reason"]].round(4), title=titles[0])
