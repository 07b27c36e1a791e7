"""``ltv demo``: generate a synthetic mall shop, import its export through the real importer, run every analysis.

The demo is a list of steps (:data:`DEMO_STEPS`). A step names the library functions it needs
(``"module:attribute"``); when one is missing from this checkout the step is skipped, and a step that fails is
reported and the demo goes on. Register another step with :func:`demo_step`::

    @demo_step("churn", "Churn scores", "離脱スコア", needs=("ltvkit.models:churn_scores",))
    def _churn(ctx: DemoContext) -> str:
        ...  # call the library on ctx.ws as of ctx.as_of, store results, return a one-line summary
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..exceptions import InputError, LtvkitError
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
    """One step of the demo: a key, titles in English and Japanese, what it needs, and the function."""

    key: str
    title_en: str
    title_ja: str
    needs: tuple[str, ...]
    run: Callable[[DemoContext], str | None]

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en

    def available(self) -> bool:
        return all(_resolve(n) is not None for n in self.needs)


DEMO_STEPS: list[DemoStep] = []
_DEMO_META = "synthetic_demo"
"""The steps ``ltv demo`` runs, in order (extend with :func:`demo_step`)."""


def demo_step(key: str, title_en: str, title_ja: str, *, needs: tuple[str, ...] = (),
              before: str | None = None) -> Callable[[Callable[[DemoContext], str | None]], Callable[[DemoContext], str | None]]:
    """Register a demo step (appended, or inserted before the step ``before``)."""

    def deco(fn: Callable[[DemoContext], str | None]) -> Callable[[DemoContext], str | None]:
        step = DemoStep(key, title_en, title_ja, needs, fn)
        for i, s in enumerate(DEMO_STEPS):
            if s.key == key:
                DEMO_STEPS[i] = step
                return fn
        keys = [s.key for s in DEMO_STEPS]
        DEMO_STEPS.insert(keys.index(before) if before in keys else len(DEMO_STEPS), step)
        return fn

    return deco


def _resolve(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, attr, None) if attr else mod


def _need(spec: str) -> Any:
    obj = _resolve(spec)
    if obj is None:
        raise LookupError(spec)
    return obj


# -- the steps --------------------------------------------------------------------------------------------------

@demo_step("generate", "Generate a synthetic shop", "架空ショップを生成", needs=("ltvkit.synth:generate_shop",))
def _generate(ctx: DemoContext) -> str:
    shop = _need("ltvkit.synth:generate_shop")(customers=ctx.customers, seed=ctx.seed, mall=ctx.mall,
                                               catalog=ctx.catalog)
    ctx.shop = shop
    ctx.as_of = shop.observation_end
    truth_dir = shop.save(ctx.out / "truth")
    ctx.outputs["truth"] = truth_dir
    ctx.outputs["costs"] = truth_dir / "acquisition_costs.csv"
    return (f"{len(shop.truth):,} customers, {len(shop.order_lines):,} order lines "
            f"({shop.start} … {shop.observation_end}), holdout {len(shop.holdout_lines):,} lines")


@demo_step("export", "Write the mall export", "モールの受注CSVを書き出し", needs=("ltvkit.synth.writers:write_export",))
def _export(ctx: DemoContext) -> str:
    files = _need("ltvkit.synth.writers:write_export")(ctx.shop, ctx.out / "exports")
    ctx.export_files = list(files)
    ctx.outputs["exports"] = ctx.out / "exports"
    return ", ".join(f.name for f in files)


@demo_step("import", "Import through the real importer", "インポート", needs=("ltvkit.ingest:import_orders",))
def _import(ctx: DemoContext) -> str:
    from ..workspace import Workspace

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


@demo_step("products", "Product costs and categories", "商品の原価とカテゴリ", needs=("ltvkit.synth:generate_shop",))
def _products(ctx: DemoContext) -> str:
    # Mall exports carry neither cost nor category: set them from the catalogue, as a shop owner would.
    cat = ctx.shop.catalog[["sku", "category", "unit_cost"]]
    path = ctx.out / "exports" / "products.csv"
    ctx.shop.catalog[["sku", "product_name", "category", "unit_cost", "price"]].to_csv(path, index=False)
    loader = _resolve("ltvkit.ingest:import_products")
    if loader is not None:
        loader(ctx.ws, path)
    else:
        with ctx.ws.transaction() as con:
            con.register("_demo_catalog", cat)
            try:
                con.execute("UPDATE products SET category = c.category, unit_cost = c.unit_cost "
                            "FROM _demo_catalog c WHERE products.sku = c.sku")
            finally:
                con.unregister("_demo_catalog")
    ctx.outputs["products"] = path
    return f"{len(cat)} products with unit cost and category"


@demo_step("truth", "Store the truth beside the data", "正解データを保存", needs=("ltvkit.synth:generate_shop",))
def _truth(ctx: DemoContext) -> str:
    # Imported keys (hashes for mall exports) mapped to synthetic customers through the order numbers.
    imported = ctx.ws.con.execute("SELECT DISTINCT order_id, customer_key FROM order_lines").df()
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


@demo_step("summary", "Shop summary", "ショップ概要", needs=("ltvkit.features:shop_summary",))
def _summary(ctx: DemoContext) -> str:
    s = _need("ltvkit.features:shop_summary")(ctx.ws.orders(), ctx.as_of)
    shown = {"customers": "{:,.0f}", "orders": "{:,.0f}", "revenue": "¥{:,.0f}", "aov": "AOV ¥{:,.0f}",
             "f2_rate": "F2 {:.1%}"}
    parts = [(f"{k} " if k in ("customers", "orders", "revenue") else "") + fmt.format(float(s[k]))
             for k, fmt in shown.items() if s.get(k) is not None]
    return ", ".join(parts) or "done"


@demo_step("cohorts", "Cohort LTV and F2", "コホートLTVとF2転換率",
           needs=("ltvkit.features:cohort_expr", "ltvkit.features:f2_table"))
def _cohorts(ctx: DemoContext) -> str:
    expr = _need("ltvkit.features:cohort_expr")(ctx.ws.orders(), ctx.as_of)
    ctx.ws.write_result("cohorts", expr.to_pandas(), kind="cohorts", as_of=ctx.as_of)
    f2 = _need("ltvkit.features:f2_table")(ctx.ws.orders(), ctx.as_of)
    ctx.ws.write_result("f2", f2, kind="f2", as_of=ctx.as_of)
    return f"result_cohorts, result_f2 ({len(f2)} rows)"


@demo_step("segments", "RFM and CPM segments", "RFM・CPMセグメント", needs=("ltvkit.features:segment_customers",))
def _segments(ctx: DemoContext) -> str:
    fn = _need("ltvkit.features:segment_customers")
    for kind in ("rfm", "cpm"):
        ctx.ws.write_result(f"segments_{kind}", fn(ctx.ws.orders(), ctx.as_of, kind=kind), kind="segments",
                            as_of=ctx.as_of, params={"kind": kind})
    return "result_segments_rfm, result_segments_cpm"


@demo_step("points", "Point dependence", "ポイント依存度", needs=("ltvkit.features:point_dependence",))
def _points(ctx: DemoContext) -> str:
    expr = _need("ltvkit.features:point_dependence")(ctx.ws.orders(), ctx.as_of, calendar=ctx.shop.calendar)
    ctx.ws.write_result("point_dependence", expr, kind="points", as_of=ctx.as_of)
    return "result_point_dependence"


@demo_step("cac", "LTV vs acquisition cost", "LTVと獲得単価", needs=("ltvkit.features:cac_table", "ltvkit.features:read_costs"))
def _cac(ctx: DemoContext) -> str:
    costs = _need("ltvkit.features:read_costs")(ctx.outputs["costs"])
    table = _need("ltvkit.features:cac_table")(ctx.ws.orders(), costs, ctx.as_of)
    ctx.ws.write_result("cac", table, kind="cac", as_of=ctx.as_of)
    return f"result_cac ({len(table)} channels)"


@demo_step("predict", "Predictive CLV (BTYD)", "予測LTV (BTYDモデル)", needs=("ltvkit.scoring:predict_customers",))
def _predict(ctx: DemoContext) -> str:
    _need("ltvkit.scoring:predict_customers")(ctx.ws, as_of=ctx.as_of)
    return "result_predictions"


@demo_step("recommend", "Next-need recommendations", "次に必要な商品のおすすめ",
           needs=("ltvkit.recommend:recommend_workspace",))
def _recommend(ctx: DemoContext) -> str:
    df = _need("ltvkit.recommend:recommend_workspace")(ctx.ws, as_of=ctx.as_of, lang=ctx.lang)
    return f"result_recommendations ({df['customer_key'].nunique():,} customers)"


@demo_step("check", "Check the analyses against the truth", "分析結果を正解と照合",
           needs=("ltvkit.features:point_dependence",))
def _check(ctx: DemoContext) -> str:
    if not (ctx.ws.has_result("point_dependence") and ctx.ws.has_result("synthetic_truth")):
        return "nothing to check"
    df = ctx.ws.con.execute(
        "SELECT p.point_segment, t.type FROM result_point_dependence p "
        "JOIN result_synthetic_truth t USING (customer_key)").df()
    found = df["point_segment"] == "point_driven"
    truly = df["type"] == "point_driven"
    precision = float((found & truly).sum() / max(found.sum(), 1))
    recall = float((found & truly).sum() / max(truly.sum(), 1))
    rows = [{"check": "point_driven_precision", "value": precision},
            {"check": "point_driven_recall", "value": recall}]
    import pandas as pd

    ctx.ws.write_result("synthetic_checks", pd.DataFrame(rows), kind="synthetic_checks", as_of=ctx.as_of)
    return f"point-driven customers found: precision {precision:.2f}, recall {recall:.2f}"


@demo_step("report", "Report (HTML + Excel)", "レポート (HTML・Excel)", needs=("ltvkit.reports:build_report",))
def _report(ctx: DemoContext) -> str:
    html, xlsx = ctx.out / "report.html", ctx.out / "report.xlsx"
    _need("ltvkit.reports:build_report")(ctx.ws, lang=ctx.lang, out=html, xlsx=xlsx, costs=ctx.outputs.get("costs"))
    ctx.outputs["report"] = html
    ctx.outputs["report_xlsx"] = xlsx
    return html.name


# -- running ------------------------------------------------------------------------------------------------------

@dataclass
class StepResult:
    key: str
    title: str
    status: str  # done, skipped, failed
    detail: str
    seconds: float


def run_demo(ctx: DemoContext, *, steps: list[DemoStep] | None = None,
             progress: Callable[[DemoStep], None] | None = None) -> list[StepResult]:
    """Run the demo steps in order; a missing module skips its step, an error in an analysis is reported.

    The first three steps (generate, export, import) must succeed: their errors stop the demo.
    """
    results = []
    for step in steps if steps is not None else DEMO_STEPS:
        if progress is not None:
            progress(step)
        t0 = time.perf_counter()
        if not step.available():
            results.append(StepResult(step.key, step.title(ctx.lang), "skipped", "not in this version", 0.0))
            continue
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
    if out.exists() and not out.is_dir():
        from ._errors import message

        raise InputError(message("demo_out_is_file", lang, path=out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from ._errors import message

        raise InputError(message("out_failed", lang, path=out, reason=exc.strerror or exc)) from None
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
    words = {"done": "完了", "skipped": "未対応", "failed": "失敗"}
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
