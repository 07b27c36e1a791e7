"""Any CSV, Parquet or Excel file, through a YAML column mapping or, with none, canonical column names.

A file whose header already uses the canonical names (``order_id``, ``customer_id``, ``ordered_at`` or
``order_date``, ``sku``, ``quantity``, ``unit_price`` …) imports with no mapping. Otherwise write a mapping::

    source: myshop            # optional, default "generic"
    timezone: Asia/Tokyo      # time zone of times written without an offset (optional)
    encoding: cp932           # optional; detected when absent
    sheet: 注文               # Excel sheet (optional; the first sheet by default)
    columns:                  # canonical field: column in the file (a list is joined with spaces)
      order_id: 注文ID
      customer_id: 会員ID
      ordered_at: [受注日, 受注時刻]
      sku: 商品コード
      quantity: 個数
      unit_price: 価格
    order_level: [shipping_fee, points_used]   # amounts given per order, to allocate across its lines
    status:                   # words that mark a status (contained in the status column)
      cancelled: [キャンセル]
      returned: [返品]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..exceptions import MappingError
from ._reader import FIELDS, MONEY_FIELDS, Reader, status_sql

__all__ = ["GENERIC", "load_mapping", "reader_from_mapping"]

_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer_key"),
    "ordered_at": ("ordered_at", "order_date"),
}

GENERIC = Reader(
    name="generic",
    source="generic",
    description="Any CSV/Parquet/Excel file with canonical column names, or with a YAML column mapping.",
    fields={f: _ALIASES.get(f, (f,)) for f in FIELDS},
    signatures=(("order_id", "customer_id", "ordered_at"), ("order_id", "customer_id", "order_date"),
                ("order_id", "customer_key", "ordered_at"), ("order_id", "customer_key", "order_date")),
    identity=("number", "email", "contact"),
    notes=("Canonical names map to themselves (customer_id or customer_key -> customer_key as given; ordered_at "
           "or order_date). Amounts are per line unless the mapping lists them under order_level. Status words: "
           "cancel/キャンセル -> cancelled, return/refund/返品/返金 -> returned."),
)


def load_mapping(mapping: str | os.PathLike[str] | dict[str, Any] | None) -> dict[str, Any] | None:
    """Read a YAML mapping file (or pass a dict through), raising :class:`MappingError` with one sentence."""
    if mapping is None or isinstance(mapping, dict):
        return mapping
    path = Path(mapping)
    if not path.exists():
        raise MappingError(f"No mapping file at {path}; check the --mapping path.")
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"Mapping {path.name} is not valid YAML ({str(exc).splitlines()[0]}).") from None
    if not isinstance(data, dict):
        raise MappingError(f"Mapping {path.name} must be a YAML mapping with a 'columns:' section.")
    return data


def reader_from_mapping(mapping: dict[str, Any], base: Reader = GENERIC) -> Reader:
    """A reader whose fields come from the mapping's ``columns`` (other fields keep ``base``'s names)."""
    columns = mapping.get("columns", mapping if "order_id" in mapping else None)
    if not isinstance(columns, dict) or not columns:
        raise MappingError("The mapping needs a 'columns:' section naming the file's column for each field.")
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise MappingError(f"The mapping names unknown field(s) {', '.join(unknown)}; valid fields are "
                           f"{', '.join(FIELDS)}.")
    fields = dict(base.fields)
    for name, col in columns.items():
        if isinstance(col, (list, tuple)):
            fields[name] = (tuple(str(c) for c in col),)
        elif col is None or str(col).strip() == "":
            fields.pop(name, None)
        else:
            fields[name] = (str(col),)
    order_level = mapping.get("order_level") or []
    bad = sorted(set(order_level) - set(MONEY_FIELDS))
    if bad:
        raise MappingError(f"order_level may list only {', '.join(MONEY_FIELDS)}, not {', '.join(bad)}.")
    words = mapping.get("status") or {}
    status_fn = None
    if words:
        cancelled = tuple(str(w) for w in words.get("cancelled", ()))
        returned = tuple(str(w) for w in words.get("returned", ()))

        def status_fn(f):  # type: ignore[no-untyped-def]
            return status_sql(f("status"), cancelled=cancelled, returned=returned)

    return Reader(
        name=base.name,
        source=str(mapping.get("source") or base.source),
        description=base.description,
        fields=fields,
        signatures=base.signatures,
        order_level=frozenset(order_level) | base.order_level,
        fill_within_order=base.fill_within_order,
        identity=tuple(mapping.get("identity") or base.identity),
        naive_tz=mapping.get("timezone") or base.naive_tz,
        delimiter=mapping.get("delimiter") or base.delimiter,
        status=status_fn or base.status,
        notes=base.notes,
        extra={**base.extra, "mapping": mapping},
    )
