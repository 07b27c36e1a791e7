"""``ltv demo``: generate a synthetic mall shop, import its export through the real importer, run every analysis.

The demo is a list of steps (:data:`DEMO_STEPS`), each a call of :mod:`ltvkit.pipeline` (the same functions the
commands call); a step that fails is reported as failed and the demo goes on. Register another step with
:func:`demo_step`::

    @demo_step("churn")  # title: catalogue key demo.step.churn
    def _churn(ctx: DemoContext) -> str:
        ...  # call the pipeline on ctx.ws as of ctx.as_of, return a one-line summary
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from ..i18n import MESSAGES, format_currency, format_number, format_percent, t
from ..reports import build_report
from ..synth import generate_shop
from ..synth.writers import write_export
from ..workspace import Workspace
from ._app import app
from ._common import LangOpt, console, use_lang

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
    """One step of the demo: a key (its title is the catalogue text ``demo.step.<key>``) and the function."""

    key: str
    run: Callable[[DemoContext], str | None]

    def title(self, lang: str) -> str:
        return t(f"demo.step.{self.key}", lang)


DEMO_STEPS: list[DemoStep] = []
_DEMO_META = "synthetic_demo"
"""The steps ``ltv demo`` runs, in order (extend with :func:`demo_step`)."""


def demo_step(key: str, *, before: str | None = None) -> Callable[[Callable[[DemoContext], str | None]], Callable[[DemoContext], str | None]]:
    """Register a demo step (appended, or inserted before the step ``before``); add its title to the catalogue
    as ``demo.step.<key>``."""

    def deco(fn: Callable[[DemoContext], str | None]) -> Callable[[DemoContext], str | None]:
        step = DemoStep(key, fn)
        for i, s in enumerate(DEMO_STEPS):
            if s.key == key:
                DEMO_STEPS[i] = step
                return fn
        keys = [s.key for s in DEMO_STEPS]
        DEMO_STEPS.insert(keys.index(before) if before in keys else len(DEMO_STEPS), step)
        return fn

    return deco


# -- the steps --------------------------------------------------------------------------------------------------

@demo_step("generate")
def _generate(ctx: DemoContext) -> str:
    shop = generate_shop(customers=ctx.customers, seed=ctx.seed, mall=ctx.mall,
                                               catalog=ctx.catalog)
    ctx.shop = shop
    ctx.as_of = shop.observation_end
    truth_dir = shop.save(ctx.out / "truth")
    ctx.outputs["truth"] = truth_dir
    ctx.outputs["costs"] = truth_dir / "acquisition_costs.csv"
    return t("demo.detail.generate", ctx.lang, customers=format_number(len(shop.truth), ctx.lang),
             lines=format_number(len(shop.order_lines), ctx.lang), start=str(shop.start), end=str(shop.observation_end),
             holdout=format_number(len(shop.holdout_lines), ctx.lang))


@demo_step("export")
def _export(ctx: DemoContext) -> str:
    files = write_export(ctx.shop, ctx.out / "exports")
    ctx.export_files = list(files)
    ctx.outputs["exports"] = ctx.out / "exports"
    return ", ".join(f.name for f in files)


@demo_step("import")
def _import(ctx: DemoContext) -> str:
    if ctx.workspace.exists():
        with Workspace(ctx.workspace, read_only=True) as old:
            made_by_demo = old.meta(_DEMO_META) is not None
        if not made_by_demo:
            raise InputError(key="err.demo_foreign_workspace", path=str(ctx.workspace))
        ctx.workspace.unlink()
    ctx.ws = Workspace(ctx.workspace)
    ctx.ws.set_meta(_DEMO_META, f"seed={ctx.seed} customers={ctx.customers} mall={ctx.mall} catalog={ctx.catalog}")
    # synthetic customers only: keys (and so holdouts and samples) follow the seed, so a demo can be repeated
    # (LTV_IDENTITY_SECRET, when set, still wins)
    ctx.ws.set_meta("identity_secret", hashlib.sha256(f"ltvkit demo seed {ctx.seed}".encode()).hexdigest())
    paths = ctx.export_files if len(ctx.export_files) > 1 else ctx.export_files[0]
    ctx.ws.import_orders(paths)
    ctx.outputs["workspace"] = ctx.workspace
    info = ctx.ws.info()
    return t("demo.detail.import", ctx.lang, **{k: format_number(info[k], ctx.lang)
                                                  for k in ("orders", "customers", "quarantined")})


@demo_step("products")
def _products(ctx: DemoContext) -> str:
    # Mall exports carry neither cost nor category: the shop's catalogue (商品マスタ, Japanese headers) is
    # imported as a shop owner would, with `ltv products import`.
    cat = ctx.shop.catalog[["sku", "product_name", "category", "unit_cost", "price"]]
    path = ctx.out / "exports" / "products.csv"
    cat.set_axis(["商品管理番号", "商品名", "カテゴリ", "原価", "販売価格"], axis=1).to_csv(path, index=False)
    result = ctx.ws.import_products(path)
    ctx.outputs["products"] = path
    return t("demo.detail.products", ctx.lang, products=format_number(result["updated"] + result["added"], ctx.lang))


@demo_step("truth")
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
    return t("demo.detail.truth", ctx.lang, customers=format_number(len(table), ctx.lang))


@demo_step("summary")
def _summary(ctx: DemoContext) -> str:
    s = pipeline.summary(ctx.ws, ctx.as_of).data
    lang = ctx.lang
    shown = {"customers": format_number, "orders": format_number, "revenue": format_currency, "aov": format_currency,
             "f2_rate": format_percent}
    parts = [t("demo.detail.figure", lang, name=t(f"demo.figure.{k}", lang), value=show(float(s[k]), lang))
             for k, show in shown.items() if s.get(k) is not None]
    return t("demo.list_separator", lang).join(parts) or t("demo.done", lang)


@demo_step("cohorts")
def _cohorts(ctx: DemoContext) -> str:
    pipeline.cohorts(ctx.ws, ctx.as_of)
    pipeline.cohort_summary_result(ctx.ws, ctx.as_of)
    f2 = pipeline.f2(ctx.ws, ctx.as_of).data
    return t("demo.detail.cohorts", ctx.lang, rows=format_number(len(f2), ctx.lang))


@demo_step("segments")
def _segments(ctx: DemoContext) -> str:
    for kind in ("rfm", "cpm"):
        pipeline.segments(ctx.ws, ctx.as_of, kind=kind)
    return "result_segments_rfm, result_segments_cpm"


@demo_step("points")
def _points(ctx: DemoContext) -> str:
    pipeline.points(ctx.ws, ctx.as_of, calendar=ctx.shop.calendar)
    return "result_point_dependence"


@demo_step("cac")
def _cac(ctx: DemoContext) -> str:
    table = pipeline.cac(ctx.ws, ctx.as_of, costs=read_costs(ctx.outputs["costs"])).data
    return t("demo.detail.cac", ctx.lang, channels=format_number(len(table), ctx.lang))


@demo_step("predict")
def _predict(ctx: DemoContext) -> str:
    pipeline.predictions(ctx.ws, ctx.as_of)
    return "result_predictions"


@demo_step("recommend")
def _recommend(ctx: DemoContext) -> str:
    stored = pipeline.recommendations(ctx.ws, ctx.as_of, lang=ctx.lang).data  # the demo's workspace is writable
    customers = int(stored.customer_key.nunique().to_pandas())
    return t("demo.detail.recommend", ctx.lang, customers=format_number(customers, ctx.lang))


@demo_step("check")
def _check(ctx: DemoContext) -> str:
    if not (ctx.ws.has_result("point_dependence") and ctx.ws.has_result("synthetic_truth")):
        return t("demo.detail.nothing_to_check", ctx.lang)
    p, truth = ctx.ws.read_result("point_dependence"), ctx.ws.read_result("synthetic_truth")
    df = p.join(truth, "customer_key").select(p.point_segment, truth.type).to_pandas()
    found = df["point_segment"] == "point_driven"
    truly = df["type"] == "point_driven"
    precision = float((found & truly).sum() / max(found.sum(), 1))
    recall = float((found & truly).sum() / max(truly.sum(), 1))
    rows = [{"check": "point_driven_precision", "value": precision},
            {"check": "point_driven_recall", "value": recall}]
    import pandas as pd

    ctx.ws.write_result("synthetic_checks", pd.DataFrame(rows), kind="synthetic_checks", as_of=ctx.as_of)
    return t("demo.detail.check", ctx.lang, precision=format_number(precision, ctx.lang, digits=2),
             recall=format_number(recall, ctx.lang, digits=2))


@demo_step("report")
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
        except ImportError:  # a broken import is a bug of ltvkit: fail loudly, never "failed" in a table
            raise
        except Exception as exc:  # noqa: BLE001 - an analysis failing must not hide the others
            if step.key in ("generate", "export", "import"):
                if isinstance(exc, LtvkitError):
                    raise
                raise LtvkitError(key="err.demo_stopped", step=step.key, error=str(exc).rstrip(".")) from exc
            text = exc.localized(ctx.lang) if isinstance(exc, LtvkitError) else str(exc)
            detail, status = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}", "failed"
        results.append(StepResult(step.key, step.title(ctx.lang), status, detail, time.perf_counter() - t0))
    return results


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", help="Customers of the synthetic shop.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same shop and the same customer keys).")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Folder for the exports, the truth, the workspace and the report.")] = Path("ltv-demo"),
    lang: LangOpt = None,
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace file (default OUT/ltv.duckdb).")] = None,
    mall: Annotated[str, typer.Option("--mall", help="rakuten, yahoo or shopify.")] = "rakuten",
    catalog: Annotated[str, typer.Option(
        "--catalog", help="demo (28 SKUs, easy to read) or wide (about 360 SKUs: variants, sizes, long tail).")] = "demo",
) -> None:
    """Generate a synthetic Japanese mall shop with known truth, import it and run every analysis."""
    lang = use_lang(lang)
    if customers < 10:
        raise InputError(key="err.demo_customers")
    if mall not in ("rakuten", "yahoo", "shopify"):
        raise InputError(key="err.unknown_mall", value=mall)
    if catalog not in ("demo", "wide"):
        raise InputError(key="err.unknown_catalog", value=catalog)
    if out.exists() and not out.is_dir():
        raise InputError(key="err.demo_out_is_file", path=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(key="err.out_failed", path=str(out), reason=exc.strerror or str(exc)) from None
    ctx = DemoContext(out=out, workspace=workspace or out / "ltv.duckdb", customers=customers, seed=seed, lang=lang,
                      mall=mall, catalog=catalog)
    steps = list(DEMO_STEPS)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task(t("demo.title", lang), total=len(steps))
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
        bar.update(task, completed=len(steps), description=t("demo.finished", lang))
    _print_results(results, ctx, lang)


def _print_results(results: list[StepResult], ctx: DemoContext, lang: str) -> None:
    table = Table(title=t("demo.title", lang))
    for col in ("step", "status", "result", "seconds"):
        table.add_column(t(f"demo.column.{col}", lang))
    for r in results:
        table.add_row(r.title, t(f"demo.status.{r.status}", lang), r.detail, format_number(r.seconds, lang, digits=1))
    console.print(table)
    where = Table(title=t("demo.outputs", lang), show_header=False)
    where.add_column("")
    where.add_column("")
    for key, path in ctx.outputs.items():
        where.add_row(t(f"demo.output.{key}", lang) if f"demo.output.{key}" in MESSAGES else key, str(path))
    console.print(where)
    if "workspace" in ctx.outputs:
        console.print(t("demo.next", lang, workspace=str(ctx.outputs["workspace"])), markup=False)


# -- the closed loop: plan, send, response, results (issue 15) ---------------------------------------------------

@demo_step("crm_loop", before="report")
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
    n = {k: format_number(v, ctx.lang) for k, v in {
        "planned": planned, "holdout": holdout, "sent": loop.send.sent, "induced": ch["induced_orders"],
        "moved": ch["moved_orders"], "dropped": ch["dropped_orders"], "rows": len(loop.comparison)}.items()}
    lines = [t("demo.detail.crm_loop", ctx.lang, **n)]
    for r in loop.comparison.itertuples(index=False):
        if r.uplift_ci_low is None or r.uplift_ci_low != r.uplift_ci_low:
            continue
        lines.append(t("demo.detail.crm_row", ctx.lang, scenario=r.scenario, uplift=f"{r.uplift * 100:+.1f}",
                       lo=f"{r.uplift_ci_low * 100:+.1f}", hi=f"{r.uplift_ci_high * 100:+.1f}",
                       true=f"{(r.true_conversion_uplift or 0) * 100:+.1f}"))
    return "\n".join(lines)
