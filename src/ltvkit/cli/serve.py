"""``ltv serve``: the shop team's dashboard, the LINE webhook and unsubscribe links (FastAPI + uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..i18n import t
from ._app import app
from ._common import DEFAULT_WS, LangOpt, WorkspaceOpt, console, use_lang


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind; any but loopback needs LTV_SERVE_TOKEN.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
) -> None:
    """Serve the dashboard (http://127.0.0.1:8000/overview), POST /webhooks/line and the unsubscribe links.

    Every page /x has a JSON twin /x.json (docs/web.md). Pages read a private copy of the workspace, refreshed
    when the file changes, so they stay up while an import or a pipeline run holds it; the webhook uses only the
    ops store.

    \b
    Example:
        LTV_LINE_CHANNEL_SECRET_FILE=secret LTV_SERVE_TOKEN_FILE=token ltv serve --host 0.0.0.0
    """
    import uvicorn

    lang = use_lang(lang)
    from ..config import load_settings
    from ..web import create_app, is_loopback

    settings = load_settings(workspace)
    application = create_app(workspace, settings=settings, require_token=not is_loopback(host))
    console.print(t("cli.serve.serving", lang, url=f"http://{host}:{port}", webhook="/webhooks/line"), markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
