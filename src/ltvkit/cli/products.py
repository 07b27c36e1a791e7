"""``ltv products import``: a product catalogue (sku, unit cost, category, list price) into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import format_number, t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, open_workspace, use_lang

products_app = typer.Typer(no_args_is_help=True, help="Product catalogue: unit costs, categories, list prices.")
app.add_typer(products_app, name="products")


@products_app.command("import")
def import_products(
    file: Annotated[Path, typer.Argument(help="Catalogue file (CSV, Excel or Parquet).", show_default=False)],
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Import a product catalogue: SKU with unit cost, category, list price and name (any of them).

    Japanese headers are accepted (商品番号/商品コード/商品管理番号, 原価, カテゴリ, 定価/販売価格, 商品名), as are
    the catalogue exports of Rakuten, Yahoo! and Shopify. Costs replace the flat cost rate in 粗利 (margin);
    categories feed the first-category analyses (cohorts --split first_category, f2 --golden, recommend
    --rules category, the report). SKUs not seen in the orders yet are added. Importing again updates.

    \b
    Examples:
        ltv products import products.csv
        ltv products import 商品マスタ.xlsx
    """
    lang = use_lang(lang)
    with open_workspace(workspace, must_exist=False) as ws:
        result = ws.import_products(file)
    if json_:
        emit(result, json_=True)
        return
    n = {k: format_number(result[k], lang) for k in ("updated", "added", "skipped")}
    console.print(t("cli.products.file", lang, file=result["file"], rows=format_number(result["rows_read"], lang),
                    **n), markup=False)
    used = ", ".join(f"{field}={header}" for field, header in result["columns"].items())
    console.print(t("cli.products.columns", lang, columns=used), markup=False)
    for line, column, value in result["bad_values"]:
        console.print(t("cli.products.bad_value", lang, line=line, column=column, value=repr(value)), markup=False)
