"""``ltv serve``: the web shell (FastAPI) — the LINE webhook, unsubscribe links, and later the dashboard.

A route parses the request, calls the library in ``ltvkit.actions``, and renders JSON (one error shape, see
:mod:`ltvkit.web.errors`). Only the ops store is opened, so the server keeps working while an import holds the
DuckDB workspace.
"""

from __future__ import annotations

from .app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
