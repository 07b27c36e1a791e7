"""``ltv info``: what the workspace holds."""

from __future__ import annotations

from ..i18n import t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, open_workspace, use_lang


@app.command()
def info(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False, lang: LangOpt = None) -> None:
    """Counts (orders, order lines, customers, products, quarantined), the date range and the sources."""
    lang = use_lang(lang)
    with open_workspace(workspace, read_only=True) as ws:
        data = ws.info()
    if json_:
        emit(data, json_=True)
        return
    sources = data.pop("sources")
    emit(data, title=t("cli.title.info", lang))
    if sources:
        emit(sources, title=t("cli.title.sources", lang))
    else:
        console.print(t("cli.info.no_orders", lang), markup=False)
