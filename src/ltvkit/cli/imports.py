"""``ltv import``: bring an order export into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import InputError, UnknownFormatError
from ..i18n import format_number, t
from ..ingest import import_orders, import_to_parquet
from ..ingest.products import looks_like_catalogue
from ._app import app
from ._common import (
    DEFAULT_WS,
    CsvOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    WorkspaceOpt,
    console,
    emit,
    open_workspace,
    use_lang,
)

_PRESET_HELP = "Export format: auto (detected from the header), rakuten, yahoo, shopify, amazon, next-engine, generic."


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Order export; for Yahoo the order file and the item file.",
                                                show_default=False)],
    preset: Annotated[str, typer.Option("--preset", "-p", help=_PRESET_HELP)] = "auto",
    mapping: Annotated[Path | None, typer.Option("--mapping", "-m", help="YAML column mapping (generic files).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Source name written on the lines "
                                                                 "(default: the preset's, e.g. rakuten).")] = None,
    keep_contacts: Annotated[bool, typer.Option("--keep-contacts", help="Also store buyer name, e-mail, phone and "
                                                                         "address in the contacts table.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Import nothing and fail when any row is quarantined.")] = False,
    timezone: Annotated[str | None, typer.Option("--timezone", help="Time zone of times written without an offset "
                                                                     "(default: the preset's, else the workspace's).")] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    out: OutOpt = None,
    lang: LangOpt = None,
    out_parquet: Annotated[Path | None, typer.Option(
        "--out-parquet", help="Write the canonical lines as Parquet parts into this folder (by order month) instead "
                              "of a workspace: one task per file can fill one folder for Spark (docs/spark.md).")] = None,
) -> None:
    """Import an order export (Rakuten, Yahoo!, Shopify, Amazon, Next Engine or any CSV/Parquet/Excel file).

    Bad rows are kept in the quarantine table with file, line, column and reason; re-importing a file updates
    lines in place (no duplicates). Exits non-zero only when no valid row was found, or with --strict when any
    row was quarantined.

    \b
    Examples:
        ltv import rakuten_202401.csv
        ltv import yahoo_order.csv yahoo_item.csv
        ltv import own_shop.xlsx --preset generic --mapping map.yaml
        ltv import rakuten_202401.csv --out-parquet lake/
    """
    lang = use_lang(lang)
    if len(files) > 2:
        raise InputError(key="err.import_files")
    options = {"preset": preset, "source": source, "mapping": mapping, "keep_contacts": keep_contacts,
               "strict": strict, "timezone": timezone}
    try:
        if out_parquet is not None:
            result = import_to_parquet(files, out_parquet, **options)
        else:
            with open_workspace(workspace, must_exist=False) as ws:
                result = import_orders(ws, files if len(files) > 1 else files[0], **options)
    except UnknownFormatError:
        if len(files) == 1 and looks_like_catalogue(files[0]):  # a 商品マスタ given to the order import
            raise InputError(key="err.import_is_catalogue", file=str(files[0])) from None
        raise
    if json_ or csv_ or out is not None:
        payload = result.to_dict()
        if csv_ or out is not None:
            emit({k: v for k, v in payload.items() if not isinstance(v, (list, dict))}, csv_=csv_, out=out)
        if json_:
            emit(payload, json_=True)
    else:
        n = {k: format_number(getattr(result, k), lang)
             for k in ("rows_read", "imported", "updated", "unchanged", "quarantined")}
        console.print(t("cli.import.file", lang, file=str(result.file), preset=result.preset, source=result.source,
                        encoding=result.encoding or "-"), markup=False)
        console.print(t("cli.import.counts", lang, **n), markup=False)
        for r in result.first_reasons:
            where = (t("cli.import.line_column", lang, line=r["line"], column=r["column"]) if r["column"]
                     else t("cli.import.line", lang, line=r["line"]))
            value = t("cli.import.value", lang, value=repr(r["value"])) if r["value"] is not None else ""
            console.print(f"  {r['file']} {where}: {r['reason']}{value}", markup=False)
        if result.quarantined > len(result.first_reasons):
            console.print(t("cli.import.more_reasons", lang, import_id=result.import_id), markup=False)
    if strict and result.quarantined:
        raise InputError(key="err.strict_quarantined", rows=format_number(result.quarantined, "en"))
    if result.valid_rows == 0:
        raise InputError(key="err.no_valid_rows", file=str(result.file))
    raise typer.Exit(0)


@app.command()
def publish(
    parquet: Annotated[Path, typer.Option("--parquet", help="Folder to write the canonical tables to as Parquet.",
                                          show_default=False)],
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Write the workspace's canonical tables as Parquet for Spark: order_lines partitioned by order month
    (order_month=YYYY-MM), products and customers. A folder written before is replaced.

    \b
    Example:
        ltv publish --parquet lake/
        LTV_SPARK_DATA=lake/ ltv summary --engine spark
    """
    lang = use_lang(lang)
    if parquet.exists() and not parquet.is_dir():
        raise InputError(key="err.out_under_file", path=str(parquet / "order_lines"), parent=str(parquet))
    with open_workspace(workspace, read_only=True) as ws:
        ws.require_orders()
        counts = ws.publish_parquet(parquet)
    if json_:
        emit({"folder": str(parquet), **counts}, json_=True)
        return
    console.print(t("cli.publish.wrote", lang, path=str(parquet),
                    rows=format_number(counts.get("order_lines", 0), lang)), markup=False)
