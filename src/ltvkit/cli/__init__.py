"""The ``ltv`` command line: a thin shell over the library (parse, call, render)."""

from __future__ import annotations

# Each module registers its commands on ``app``; an import error in one of them is a bug and fails loudly.
from . import (  # noqa: F401
    analytics,
    contacts,
    contacts_list,
    crm,
    demo,
    imports,
    info,
    inserts,
    line,
    mall,
    predict,
    products,
    quarantine,
    recommend,
    report,
    runs,
    serve,
    settings,
)
from ._app import app, console_main, main

__all__ = ["app", "console_main", "main"]
