"""The public :class:`Workspace`: the store's workspace plus importing order exports.

It sits above both ``store`` and ``ingest`` (ingest writes through the store), so neither imports the other's
way back: no import circle.
"""

from __future__ import annotations

import os
from typing import Any

from .ingest import ImportResult, import_orders
from .ingest.products import read_products
from .store import Workspace as _StoreWorkspace

__all__ = ["Workspace"]


class Workspace(_StoreWorkspace):
    """A shop's data: canonical order lines, customers, products, quarantine, import log and results.

    Parameters
    ----------
    path
        The DuckDB file. ``None`` keeps everything in memory (tests, notebooks).
    timezone
        The shop's wall-clock time zone, recorded in the file on first use (default ``Asia/Tokyo``).
    read_only
        Open the file without write access (several readers can share it).

    Examples
    --------
    >>> ws = Workspace()
    >>> ws.info()["order_lines"]
    0
    """

    def import_orders(self, path: str | os.PathLike[str] | list[str | os.PathLike[str]], preset: str = "auto",
                      **options: Any) -> ImportResult:
        """Import an order export (or a Yahoo order + item pair); see :func:`ltvkit.ingest.import_orders`."""
        return import_orders(self, path, preset=preset, **options)

    def import_products(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Import a product catalogue (sku, unit cost, category, list price; see :mod:`ltvkit.ingest.products`).

        Returns ``file, rows_read, updated, added, skipped, columns`` (``columns``: field -> header used) and
        ``bad_values`` (the first rows skipped for a money value that is not a number).
        """
        read = read_products(path)
        counts = self.upsert_products(read.products)
        return {"file": str(read.path), "rows_read": read.rows_read, **counts, "skipped": read.skipped,
                "columns": read.columns, "bad_values": read.bad_values}
