"""``ltv serve``: the web shell (FastAPI) — the dashboard, the LINE webhook and unsubscribe links.

A route parses the request, calls the library (``ltvkit.actions``, ``ltvkit.store``, the report's section
builders) and renders a Jinja2 page or its JSON twin (one error shape, see :mod:`ltvkit.web.errors`; the pages in
docs/web.md). The webhook uses only the ops store; pages read a private copy of the DuckDB workspace
(:class:`ltvkit.store.WorkspaceSnapshot`), so the server keeps working while an import holds the workspace.
"""

from __future__ import annotations

from .app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
