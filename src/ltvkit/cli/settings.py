"""``ltv settings``: every ``LTV_*`` setting with its value, where it came from and what it means."""

from __future__ import annotations

from rich.table import Table

from ..config import load_settings
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, WorkspaceOpt, console, emit


@app.command()
def settings(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False) -> None:
    """List every setting: name, value (secrets masked), source (default, env, file, toml) and help.

    Values come from the environment, then an owner-only secret file (LTV_<NAME>_FILE), then ltv.toml beside
    the workspace, then the default.

    \b
    Example:
        ltv settings --json
    """
    current = load_settings(None if workspace == DEFAULT_WS else workspace)
    rows = current.rows()
    if json_:
        emit(rows, json_=True)
        return
    table = Table(title="ltv settings")
    table.add_column("name", no_wrap=True)
    table.add_column("value", max_width=40)
    table.add_column("source", no_wrap=True)
    table.add_column("help", ratio=1, min_width=30)
    for row in rows:
        table.add_row(row["name"], "" if row["value"] is None else str(row["value"]), row["source"], row["help"])
    console.print(table)
    if current.toml_path is not None:
        console.print(f"Read {current.toml_path}.")
