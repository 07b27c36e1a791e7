"""``ltv runs list | prune``: the runs that stored results (what a CRM message points at), and pruning old ones."""

from __future__ import annotations

from typing import Annotated

import typer

from ..i18n import format_number, t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, open_workspace, use_lang

runs_app = typer.Typer(name="runs", help="Runs of the pipeline and the results they stored.", no_args_is_help=True)
app.add_typer(runs_app)


@runs_app.command("list")
def list_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    kind: Annotated[str | None, typer.Option("--kind", help="Only runs of this kind (predictions, segments, …).")] = None,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Every stored result with its run: id, kind, as-of date, parameters, when, ltvkit version, rows.

    A plain read of ``result_<name>`` sees the newest run that stored it.
    """
    lang = use_lang(lang)
    with open_workspace(workspace, read_only=True) as ws:
        rows = [{"run_id": r.run_id, "kind": r.kind, "as_of": r.as_of, "result": r.result, "rows": r.row_count,
                 "created_at": r.created_at, "code_version": r.code_version, "params": r.params}
                for r in ws.runs(kind=kind)]
    if json_:
        emit({"runs": rows}, json_=True)
    elif rows:  # the printed table is short; --json has every field
        emit([{"run": r["run_id"], "result": (r["result"] or "").removeprefix("result_"), "as_of": r["as_of"],
               "rows": r["rows"], "created": r["created_at"].strftime("%Y-%m-%d %H:%M"),
               "params": ", ".join(f"{k}={v}" for k, v in r["params"].items() if k not in ("margin", "cpm"))}
              for r in rows], title=t("cli.title.runs", lang))
    else:
        console.print(t("cli.runs.none", lang), markup=False)


@runs_app.command("prune")
def prune(
    keep: Annotated[int, typer.Option("--keep", help="Runs to keep per result (the newest).")] = 3,
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
) -> None:
    """Drop the rows of old runs: keep the newest --keep runs of each result (at least the latest)."""
    lang = use_lang(lang)
    with open_workspace(workspace) as ws:
        gone = ws.prune_runs(keep)
    text = (t("cli.runs.pruned", lang, count=format_number(len(gone), lang), ids=", ".join(map(str, gone))) if gone
            else t("cli.runs.pruned_none", lang))
    console.print(text, markup=False)
