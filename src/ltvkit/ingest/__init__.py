"""Getting order exports in: readers per source, one shared SQL pipeline, quarantine and pseudonymous keys.

>>> from ltvkit import Workspace
>>> from ltvkit.ingest import import_orders
>>> result = import_orders(Workspace(), "orders.csv")  # doctest: +SKIP
"""

from __future__ import annotations

from ._reader import Reader
from .generic import load_mapping, reader_from_mapping
from .pipeline import ImportResult, import_orders, import_to_parquet
from .quarantine import REASONS
from .registry import detect_reader, get_reader, preset_names, readers, register_reader

__all__ = [
    "REASONS",
    "ImportResult",
    "Reader",
    "detect_reader",
    "get_reader",
    "import_orders",
    "import_to_parquet",
    "load_mapping",
    "preset_names",
    "reader_from_mapping",
    "readers",
    "register_reader",
]
