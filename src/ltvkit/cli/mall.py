"""``ltv mall export``: the due messages of the export channel as CSV lists per mall (R-Messe, Yahoo!)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import format_number, t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, open_workspace, use_lang

mall_app = typer.Typer(name="mall", no_args_is_help=True,
                       help="Mall message lists: CRM messages staff send by hand in R-Messe or the Yahoo! store.")
app.add_typer(mall_app)


@mall_app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Directory for the CSV files (one per mall).")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Write due messages of the export channel as one CSV per mall (order number, text); they become sent.

    \b
    Example:
        ltv mall export --out-dir lists/
    """
    from ..actions import load_scenarios, open_ops_store
    from ..actions.channels import export_mall_messages
    from ..config import load_settings

    lang = use_lang(lang)
    settings = load_settings(workspace)
    scenarios = load_scenarios(settings.crm_scenarios)
    with open_workspace(workspace, read_only=True) as ws, open_ops_store(workspace, settings) as store:
        report = export_mall_messages(store, ws, settings, scenarios, out_dir)
    if json_:
        emit(report.to_dict(), json_=True)
        return
    if not report.files:
        console.print(t("cli.mall.none_due", lang), markup=False)
    for mall, path in report.files.items():
        console.print(t("cli.mall.wrote", lang, count=format_number(report.exported[mall], lang), mall=mall,
                        path=str(path)), markup=False)
    for why, n in report.failed.items():
        console.print(t("cli.mall.not_listed", lang, reason=why, count=format_number(n, lang)), markup=False)
