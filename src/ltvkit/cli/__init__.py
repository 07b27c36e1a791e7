"""The ``ltv`` command line: a thin shell over the library (parse, call, render)."""

from __future__ import annotations

import importlib

from ._app import app, console_main, main

# Each module registers its commands on ``app``; a module missing from a partial checkout is skipped.
_COMMAND_MODULES = ("imports", "quarantine", "info", "analytics", "predict", "recommend", "demo", "report")
for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_name}":
            raise

__all__ = ["app", "console_main", "main"]
