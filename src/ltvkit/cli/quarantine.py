"""``ltv quarantine``: the rows an import could not take, with file, line, column, value and reason."""

from __future__ import annotations

from typing import Annotated

import typer

from ..i18n import t
from ._app import app
from ._common import (
    DEFAULT_WS,
    EXCEL_SAFE,
    CsvOpt,
    ExcelSafeOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    WorkspaceOpt,
    console,
    emit,
    open_workspace,
    use_lang,
)


@app.command("quarantine")
def quarantine(
    import_id: Annotated[int | None, typer.Option("--import", help="Only this import (its id is in `ltv import "
                                                                   "--json` and in the import_log table).")] = None,
    history: Annotated[bool, typer.Option("--all", help="Every import's rows, also those of files imported "
                                                         "again since.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    out: OutOpt = None,
    excel_safe: ExcelSafeOpt = False,
    lang: LangOpt = None,
) -> None:
    """List quarantined rows: by default those of the latest import of each file (path), in file order.

    Each import keeps its own rows, so importing another file, even one with the same name, loses none.

    \b
    Examples:
        ltv quarantine
        ltv quarantine --import 3 --csv > bad_rows.csv
        ltv quarantine --all --out quarantine.xlsx
    """
    lang = use_lang(lang)
    if excel_safe:
        EXCEL_SAFE["on"] = True
    with open_workspace(workspace, read_only=True) as ws:
        data = ws.quarantine_rows(import_id=import_id, history=history)
    if data.empty and not (json_ or csv_ or out):
        console.print(t("cli.quarantine.none", lang) if import_id is None
                      else t("cli.quarantine.none_in_import", lang, import_id=import_id), markup=False)
        return
    emit(data, json_=json_, csv_=csv_, out=out, title=t("cli.title.quarantine", lang))
