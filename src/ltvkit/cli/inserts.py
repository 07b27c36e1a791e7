"""``ltv inserts``: printable package inserts (A6 PDF, or CSV for print services) with LINE linking codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..i18n import format_number, t
from ._app import app
from ._common import (
    DEFAULT_WS,
    CsvOpt,
    LangOpt,
    WorkspaceOpt,
    console,
    open_workspace,
    parse_date,
    use_lang,
)


@app.command("inserts")
def inserts(
    orders_since: Annotated[str, typer.Option("--orders-since", help="Cards for orders on or after this date "
                                                                     "(YYYY-MM-DD).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write FILE.pdf (A6 cards) or FILE.csv.")] = None,
    tips: Annotated[Path | None, typer.Option("--tips", help="CSV of care/usage tips: columns match (a SKU or "
                                                             "category) and tip.")] = None,
    lang: LangOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    csv_: CsvOpt = False,
) -> None:
    """One insert per order: thanks, care tips, what you may need next, and a one-time LINE linking code with a
    QR code of the shop's add-friend URL where external URLs may be printed (not on Rakuten orders by default).

    \b
    Example:
        ltv inserts --orders-since 2026-12-01 --out inserts.pdf
    """
    from ..actions import open_ops_store
    from ..actions.inserts import plan_inserts, write_inserts_csv, write_inserts_pdf
    from ..config import load_settings
    from ..exceptions import InputError

    lang = use_lang(lang)
    since = parse_date(orders_since, "--orders-since")
    assert since is not None
    if out is None and not csv_:
        raise InputError(key="err.inserts_no_out")
    if out is not None and out.suffix.lower() not in (".pdf", ".csv"):
        raise InputError(key="err.inserts_extension", name=out.name)
    settings = load_settings(workspace)
    with open_workspace(workspace, read_only=True) as ws, open_ops_store(workspace, settings) as store:
        cards = plan_inserts(ws, store, settings, since=since, lang=lang, tips=tips)
    if csv_:
        write_inserts_csv(cards, sys.stdout)
    if out is not None:
        if out.suffix.lower() == ".csv":
            write_inserts_csv(cards, out)
        else:
            write_inserts_pdf(cards, out, lang=lang, shop=settings.crm_shop_name, font=settings.inserts_font)
        if not csv_:
            console.print(t("cli.inserts.wrote", lang, count=format_number(len(cards), lang), path=str(out)),
                          markup=False)
