"""``ltv import``: bring an order export into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import InputError
from ..ingest import import_orders
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, WorkspaceOpt, console, emit, open_workspace

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
    """
    if len(files) > 2:
        raise InputError("Give one file, or two for Yahoo (order file + item file).")
    with open_workspace(workspace, must_exist=False) as ws:
        result = import_orders(ws, files if len(files) > 1 else files[0], preset=preset, source=source,
                               mapping=mapping, keep_contacts=keep_contacts, strict=strict, timezone=timezone)
    if json_:
        emit(result.to_dict(), json_=True)
    else:
        console.print(f"{result.file}: preset {result.preset}, source {result.source}, encoding {result.encoding or '-'}")
        console.print(f"  rows read {result.rows_read:,} · imported {result.imported:,} · updated {result.updated:,} · "
                      f"unchanged {result.unchanged:,} · quarantined {result.quarantined:,}")
        for r in result.first_reasons:
            where = f"line {r['line']}" + (f", column {r['column']}" if r["column"] else "")
            value = f" (value {r['value']!r})" if r["value"] is not None else ""
            console.print(f"  {r['file']} {where}: {r['reason']}{value}", markup=False)
        if result.quarantined > len(result.first_reasons):
            console.print(f"  … see all reasons with: ltv quarantine --import {result.import_id}")
    if strict and result.quarantined:
        raise InputError(f"--strict: {result.quarantined:,} row(s) were quarantined, so nothing was imported.")
    if result.valid_rows == 0:
        raise InputError(f"No valid order row was found in {result.file}; see the reasons above.")
    raise typer.Exit(0)
