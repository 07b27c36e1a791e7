"""``ltv demo``: generate a synthetic mall shop, import its export through the real importer, run every analysis.

The demo is a list of steps (:data:`DEMO_STEPS`), each a call of :mod:`ltvkit.pipeline` (the same functions the
commands call); a step that fails is reported as failed and the demo goes on. Register another step with
:func:`demo_step`::

    @demo_step("churn", "Churn scores", "離脱スコア")
    def _churn(ctx: DemoContext) -> str:
        ...  # call the pipeline on ctx.ws as of ctx.as_of, return a one-line summary
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import pipeline
from ..exceptions import InputError, LtvkitError
from ..features import read_costs
from ..reports import build_report
from ..synth import generate_shop
from ..synth.writers import write_export
from ..workspace import Workspace
from ._app import app
from ._common import LangOpt, check_lang, console

__all__ = ["DEMO_STEPS", "DemoContext", "DemoStep", "demo_step", "run_demo"]


@dataclass
class DemoContext:
    """What the steps share: options, the shop, the workspace and what has been written where."""

    out: Path
    workspace: Path
    customers: int
    seed: int
    lang: str
    mall: str = "rakuten"
    catalog: str = "demo"
    shop: Any = None
    ws: Any = None
    as_of: dt.date | None = None
    export_files: list[Path] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo: a key, titles in English and Japanese, and the function."""

    key: str
    title_en: str
    title_ja: str
    run: Callable[[DemoContext], str | None]

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en


DEMO_STEPS: list[DemoStep] = []
_DEMO_META = "synthetic_demo"
"""The steps ``ltv demo`` runs, in order (extend with :func:`demo_step`)."""


def demo_step(key: str, title_en: str, title_ja: str, *, before: str | None = None) -> Callable[[Callable[[DemoContext], str | None]], Callable[[DemoContext], str | None]]:
    """Register a demo step (appended, or inserted before the step ``before``)."""

    def deco(fn: Callable[[DemoContext], str | None]) -> Callable[[DemoContext], str | None]:
        step = DemoStep(key, title_en, title_ja, fn)
        for i, s in enumerate(DEMO_STEPS):
            if s.key == key:
                DEMO_STEPS[i] = step
                return fn
        keys = [s.key for s in DEMO_STEPS]
        DEMO_STEPS.insert(keys.index(before) if before in keys else len(DEMO_STEPS), step)
        return fn

    return deco


# -- the steps --------------------------------------------------------------------------------------------------

@demo_step("generate", "Generate a synthetic shop", "架空ショップを生成")
def _generate(ctx: DemoContext) -> str:
    shop = generate_shop(customers=ctx.customers, seed=ctx.seed, mall=ctx.mall,
                                               catalog=ctx.catalog)
    ctx.shop = shop
    ctx.as_of = shop.observation_end
    truth_dir = shop.save(ctx.out / "truth")
    ctx.outputs["truth"] = truth_dir
    ctx.outputs["costs"] = truth_dir / "acquisition_costs.csv"
    return (f"{len(shop.truth):,} customers, {len(shop.order_lines):,} order lines "
            f"({shop.start} … {shop.observation_end}), holdout {len(shop.holdout_lines):,} lines")


@demo_step("export", "Write the mall export", "モールの受注CSVを書き出し")
def _export(ctx: DemoContext) -> str:
    files = write_export(ctx.shop, ctx.out / "exports")
    ctx.export_files = list(files)
    ctx.outputs["exports"] = ctx.out / "exports"
    return ", ".join(f.name for f in files)


@demo_step("import", "Import through the real importer", "インポート")
def _import(ctx: DemoContext) -> str:
    if ctx.workspace.exists():
        with Workspace(ctx.workspace, read_only=True) as old:
            made_by_demo = old.meta(_DEMO_META) is not None
        if not made_by_demo:
            raise InputError(f"{ctx.workspace} already holds a workspace that the demo did not make; "
                             "choose another --workspace or --out.")
        ctx.workspace.unlink()
    ctx.ws = Workspace(ctx.workspace)
    ctx.ws.set_meta(_DEMO_META, f"seed={ctx.seed} customers={ctx.customers} mall={ctx.mall} catalog={ctx.catalog}")
    paths = ctx.export_files if len(ctx.export_files) > 1 else ctx.export_files[0]
    ctx.ws.import_orders(paths)
    ctx.outputs["workspace"] = ctx.workspace
    info = ctx.ws.info()
    return f"{info['orders']:,} orders, {info['customers']:,} customers, {info['quarantined']:,} quarantined"


@demo_step("products", "Product costs and categories", "商品の原価とカテゴリ")
def _products(ctx: DemoContext) -> str:
    # Mall exports carry neither cost nor category: set them from the catalogue, as a shop owner would.
    cat = ctx.shop.catalog[["sku", "category", "unit_cost"]]
    path = ctx.out / "exports" / "products.csv"
    ctx.shop.catalog[["sku", "product_name", "category", "unit_cost", "price"]].to_csv(path, index=False)
    ctx.ws.update_products(cat)
    ctx.outputs["products"] = path
    return f"{len(cat)} products with unit cost and category"


@demo_step("truth", "Store the truth beside the data", "正解データを保存")
def _truth(ctx: DemoContext) -> str:
    # Imported keys (hashes for mall exports) mapped to synthetic customers through the order numbers.
    imported = ctx.ws.order_ids_and_keys()
    ours = ctx.shop.order_lines[["order_id", "customer_key"]].drop_duplicates("order_id")
    keys = imported.merge(ours, on="order_id", suffixes=("", "_synthetic"))[["customer_key", "customer_key_synthetic"]]
    keys = keys.drop_duplicates()
    cols = ["customer_key", "type", "acquisition_channel", "acquired_at", "acquired_in_campaign", "purchase_rate",
            "latent_rate", "dropout_rate", "dropout_at", "alive_at_observation_end", "spend_level", "rhythm",
            "rhythm_sku", "subscribed", "orders_holdout", "revenue_holdout", "expected_holdout_orders"]
    truth = ctx.shop.truth[cols].rename(columns={"customer_key": "customer_key_synthetic"})
    table = keys.merge(truth, on="customer_key_synthetic")
    ctx.ws.write_result("synthetic_truth", table, kind="synthetic_truth", as_of=ctx.as_of,
                        params={"seed": ctx.seed, "customers": ctx.customers, "mall": ctx.mall,
                                "catalog": ctx.catalog})
    return f"result_synthetic_truth ({len(table):,} customers)"


@demo_step("summary", "Shop summary", "ショップ概要")
def _summary(ctx: DemoContext) -> str:
    s = pipeline.summary(ctx.ws, ctx.as_of).data
    shown = {"customers": "{:,.0f}", "orders": "{:,.0f}", "revenue": "¥{:,.0f}", "aov": "AOV ¥{:,.0f}",
             "f2_rate": "F2 {:.1%}"}
    parts = [(f"{k} " if k in ("customers", "orders", "revenue") else "") + fmt.format(float(s[k]))
             for k, fmt in shown.items() if s.get(k) is not None]
    return ", ".join(parts) or "done"


@demo_step("cohorts", "Cohort LTV and F2", "コホートLTVとF2転換率")
def _cohorts(ctx: DemoContext) -> str:
    pipeline.cohorts(ctx.ws, ctx.as_of)
    pipeline.cohort_summary_result(ctx.ws, ctx.as_of)
    f2 = pipeline.f2(ctx.ws, ctx.as_of).data
    return f"result_cohorts, result_f2 ({len(f2)} rows)"


@demo_step("segments", "RFM and CPM segments", "RFM・CPMセグメント")
def _segments(ctx: DemoContext) -> str:
    for kind in ("rfm", "cpm"):
        pipeline.segments(ctx.ws, ctx.as_of, kind=kind)
    return "result_segments_rfm, result_segments_cpm"


@demo_step("points", "Point dependence", "ポイント依存度")
def _points(ctx: DemoContext) -> str:
    pipeline.points(ctx.ws, ctx.as_of, calendar=ctx.shop.calendar)
    return "result_point_dependence"


@demo_step("cac", "LTV vs acquisition cost", "LTVと獲得単価")
def _cac(ctx: DemoContext) -> str:
    table = pipeline.cac(ctx.ws, ctx.as_of, costs=read_costs(ctx.outputs["costs"])).data
    return f"result_cac ({len(table)} channels)"


@demo_step("predict", "Predictive CLV (BTYD)", "予測LTV (BTYDモデル)")
def _predict(ctx: DemoContext) -> str:
    pipeline.predictions(ctx.ws, ctx.as_of)
    return "result_predictions"


@demo_step("recommend", "Next-need recommendations", "次に必要な商品のおすすめ")
def _recommend(ctx: DemoContext) -> str:
    df = pipeline.recommendations(ctx.ws, ctx.as_of, lang=ctx.lang).data
    return f"result_recommendations ({df['customer_key'].nunique():,} customers)"


@demo_step("check", "Check the analyses against the truth", "分析結果を正解と照合")
def _check(ctx: DemoContext) -> str:
    if not (ctx.ws.has_result("point_dependence") and ctx.ws.has_result("synthetic_truth")):
        return "nothing to check"
    p, t = ctx.ws.read_result("point_dependence"), ctx.ws.read_result("synthetic_truth")
    df = p.join(t, "customer_key").select(p.point_segment, t.type).to_pandas()
    found = df["point_segment"] == "point_driven"
    truly = df["type"] == "point_driven"
    precision = float((found & truly).sum() / max(found.sum(), 1))
    recall = float((found & truly).sum() / max(truly.sum(), 1))
    rows = [{"check": "point_driven_precision", "value": precision},
            {"check": "point_driven_recall", "value": recall}]
    import pandas as pd

    ctx.ws.write_result("synthetic_checks", pd.DataFrame(rows), kind="synthetic_checks", as_of=ctx.as_of)
    return f"point-driven customers found: precision {precision:.2f}, recall {recall:.2f}"


@demo_step("report", "Report (HTML + Excel)", "レポート (HTML・Excel)")
def _report(ctx: DemoContext) -> str:
    html, xlsx = ctx.out / "report.html", ctx.out / "report.xlsx"
    build_report(ctx.ws, lang=ctx.lang, out=html, xlsx=xlsx, costs=ctx.outputs.get("costs"), as_of=ctx.as_of)
    ctx.outputs["report"] = html
    ctx.outputs["report_xlsx"] = xlsx
    return html.name


# -- running ------------------------------------------------------------------------------------------------------

@dataclass
class StepResult:
    key: str
    title: str
    status: str  # done, failed
    detail: str
    seconds: float


def run_demo(ctx: DemoContext, *, steps: list[DemoStep] | None = None,
             progress: Callable[[DemoStep], None] | None = None) -> list[StepResult]:
    """Run the demo steps in order; an error in an analysis is reported as failed and the others still run.

    The first three steps (generate, export, import) must succeed: their errors stop the demo.
    """
    results = []
    for step in steps if steps is not None else DEMO_STEPS:
        if progress is not None:
            progress(step)
        t0 = time.perf_counter()
        try:
            detail = step.run(ctx) or ""
            status = "done"
        except Exception as exc:  # noqa: BLE001 - an analysis failing must not hide the others
            if step.key in ("generate", "export", "import"):
                if isinstance(exc, LtvkitError):
                    raise
                raise LtvkitError(f"The demo stopped at step {step.key!r}: {exc}".rstrip(".") + ".") from exc
            detail, status = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", "failed"
        results.append(StepResult(step.key, step.title(ctx.lang), status, detail, time.perf_counter() - t0))
    return results


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", help="Customers of the synthetic shop.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same shop).")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Folder for the exports, the truth, the workspace and the report.")] = Path("ltv-demo"),
    lang: LangOpt = "ja",
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace file (default OUT/ltv.duckdb).")] = None,
    mall: Annotated[str, typer.Option("--mall", help="rakuten, yahoo or shopify.")] = "rakuten",
    catalog: Annotated[str, typer.Option(
        "--catalog", help="demo (28 SKUs, easy to read) or wide (about 360 SKUs: variants, sizes, long tail).")] = "demo",
) -> None:
    """Generate a synthetic Japanese mall shop with known truth, import it and run every analysis."""
    check_lang(lang)
    if customers < 10:
        raise InputError("--customers must be at least 10.")
    if mall not in ("rakuten", "yahoo", "shopify"):
        raise InputError(f"Unknown mall {mall!r}; use --mall rakuten, yahoo or shopify.")
    if catalog not in ("demo", "wide"):
        raise InputError(f"Unknown catalog {catalog!r}; use --catalog demo or wide.")
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, workspace=workspace or out / "ltv.duckdb", customers=customers, seed=seed, lang=lang,
                      mall=mall, catalog=catalog)
    steps = list(DEMO_STEPS)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("ltv demo", total=len(steps))
        done = 0

        def advance(step: DemoStep) -> None:
            nonlocal done
            bar.update(task, completed=done, description=step.title(lang))
            done += 1

        try:
            results = run_demo(ctx, steps=steps, progress=advance)
        finally:
            if ctx.ws is not None:
                ctx.ws.close()
        bar.update(task, completed=len(steps), description="ltv demo" if lang == "en" else "デモ完了")
    _print_results(results, ctx, lang)


def _print_results(results: list[StepResult], ctx: DemoContext, lang: str) -> None:
    ja = lang == "ja"
    table = Table(title="ltv demo")
    for col in (("ステップ", "step"), ("状態", "status"), ("結果", "result"), ("秒", "s")):
        table.add_column(col[0] if ja else col[1])
    words = {"done": "完了", "failed": "失敗"}
    for r in results:
        table.add_row(r.title, words[r.status] if ja else r.status, r.detail, f"{r.seconds:.1f}")
    console.print(table)
    where = Table(title="出力先" if ja else "where everything is", show_header=False)
    where.add_column("")
    where.add_column("")
    labels = {
        "workspace": ("ワークスペース", "workspace"), "exports": ("受注CSV", "exports"),
        "truth": ("正解データ (truth)", "truth"), "costs": ("獲得コスト", "acquisition costs"),
        "report": ("レポート", "report"), "report_xlsx": ("Excel", "Excel"), "products": ("商品マスタ", "products"),
    }
    for key, path in ctx.outputs.items():
        name = labels.get(key, (key, key))
        where.add_row(name[0] if ja else name[1], str(path))
    console.print(where)
    if "workspace" in ctx.outputs:
        hint = (f"次のコマンド例: ltv info --workspace {ctx.outputs['workspace']}" if ja
                else f"Try next: ltv info --workspace {ctx.outputs['workspace']}")
        console.print(hint)


# -- the closed loop: plan, send, response, results (issue 15) ---------------------------------------------------

def _measure_text(key: str, lang: str, **kw: Any) -> str:
    texts = {
        "loop": ("{planned:,} planned, {holdout:,} held out, {sent:,} sent through the fake LINE server; "
                 "response: {induced:,} extra, {moved:,} pulled forward, {dropped:,} lost orders; "
                 "{rows} scenario-months measured",
                 "{planned:,}件を計画（ホールドアウト{holdout:,}件）、疑似LINEサーバーへ{sent:,}件送信。反応：追加注文"
                 "{induced:,}件、前倒し{moved:,}件、失注{dropped:,}件。{rows}件のシナリオ×月を計測"),
        "row": ("{scenario}: measured {uplift:+.1f} pts [{lo:+.1f}, {hi:+.1f}], true {true:+.1f} pts",
                "{scenario}：計測 {uplift:+.1f}pt [{lo:+.1f}, {hi:+.1f}]、真の効果 {true:+.1f}pt"),
    }
    en, ja = texts[key]
    return (ja if lang == "ja" else en).format(**kw)


@demo_step("crm_loop", "CRM: plan, send, response, did it work?", "CRM：計画・送信・反応・効果検証", before="report")
def _crm_loop(ctx: DemoContext) -> str:
    from ..actions import OpsStore, default_ops_url
    from ..testing.loop import run_closed_loop

    url = default_ops_url(ctx.workspace)
    for suffix in ("", "-wal", "-shm"):  # the demo's own ops store from an earlier run
        Path(str(ctx.workspace.with_name(ctx.workspace.stem + ".ops.sqlite")) + suffix).unlink(missing_ok=True)
    with OpsStore(url) as store:
        loop = run_closed_loop(ctx.ws, store, ctx.shop, ctx.out / "exports_after_sends", seed=ctx.seed,
                               lang=ctx.lang)
    ctx.outputs["ops_store"] = ctx.workspace.with_name(ctx.workspace.stem + ".ops.sqlite")
    ctx.outputs["response_exports"] = ctx.out / "exports_after_sends"
    path = ctx.out / "crm_results.csv"
    loop.results.frame().to_csv(path, index=False)
    ctx.outputs["crm_results"] = path
    cmp_path = ctx.out / "crm_measured_vs_true.csv"
    loop.comparison.to_csv(cmp_path, index=False)
    ctx.outputs["crm_measured_vs_true"] = cmp_path
    ctx.measured_vs_true = loop.comparison  # type: ignore[attr-defined]
    planned = sum(c.planned for c in loop.plan.scenarios.values())
    holdout = sum(c.holdout for c in loop.plan.scenarios.values())
    ch = loop.response_changes
    lines = [_measure_text("loop", ctx.lang, planned=planned, holdout=holdout, sent=loop.send.sent,
                           induced=ch["induced_orders"], moved=ch["moved_orders"], dropped=ch["dropped_orders"],
                           rows=len(loop.comparison))]
    for r in loop.comparison.itertuples(index=False):
        if r.uplift_ci_low is None or r.uplift_ci_low != r.uplift_ci_low:
            continue
        lines.append(_measure_text("row", ctx.lang, scenario=r.scenario, uplift=r.uplift * 100,
                                   lo=r.uplift_ci_low * 100, hi=r.uplift_ci_high * 100,
                                   true=(r.true_conversion_uplift or 0) * 100))
    return "\n".join(lines)
