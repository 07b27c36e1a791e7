"""``ltv info``: what the workspace holds."""

from __future__ import annotations

from ._app import app
from ._common import DEFAULT_WS, JsonOpt, WorkspaceOpt, console, emit, open_workspace


@app.command()
def info(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False) -> None:
    """Counts (orders, order lines, customers, products, quarantined), the date range and the sources."""
    with open_workspace(workspace, read_only=True) as ws:
        data = ws.info()
    if json_:
        emit(data, json_=True)
        return
    sources = data.pop("sources")
    emit(data, title="ltv workspace")
    if sources:
        emit(sources, title="sources")
    else:
        console.print("No orders yet: `ltv import FILE` or `ltv demo`.")
