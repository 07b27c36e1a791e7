"""``ltv info``: what the workspace holds."""

from __future__ import annotations

from ..i18n import t
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
    scoped_label,
    use_lang,
)


@app.command()
def info(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False, csv_: CsvOpt = False, out: OutOpt = None,
         lang: LangOpt = None) -> None:
    """Counts (orders, order lines, customers, products, quarantined), the date range and the sources.

    The customers counted here are every customer imported (also those whose only orders were cancelled or come
    after --as-of); ``ltv summary`` counts the customers with a valid order up to its date.
    """
    lang = use_lang(lang)
    with open_workspace(workspace, read_only=True) as ws:
        data = ws.info()
    if json_ or csv_ or out is not None:
        if out is not None or csv_:
            flat = {k: v for k, v in data.items() if k != "sources"}
            emit(flat, csv_=csv_, out=out)
        if json_:
            emit(data, json_=True)
        return
    sources = data.pop("sources")
    emit({scoped_label("info", k, lang): v for k, v in data.items()}, title=t("cli.title.info", lang))
    if sources:
        emit(sources, title=t("cli.title.sources", lang))
    else:
        console.print(t("cli.info.no_orders", lang), markup=False)
