"""Rows that cannot be imported: each reason has a code and one sentence, stored with file, line and column.

Quarantine rows belong to the import that found them (``import_id``; the import log holds the file's path and
content hash) and are never replaced: the *current* quarantine is that of the latest import of each path, and
the earlier imports stay as history.

The stored value is the offending text of the failing column, never contact data (a row without a usable buyer
identity is quarantined with an empty value).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ._csv import sql_literal

__all__ = ["REASONS", "Reason", "first_reasons", "reason_case"]


@dataclass(frozen=True)
class Reason:
    code: int
    key: str
    sentence: str


REASONS: dict[str, Reason] = {r.key: r for r in (
    Reason(1, "missing_order_id", "the order number is empty"),
    Reason(2, "orphan_item", "the item row has no order row with the same OrderId"),
    Reason(3, "bad_date", "the order time is missing or not a date"),
    Reason(4, "date_out_of_range", "the order time is before 1990 or after 2100"),
    Reason(5, "bad_quantity", "the quantity is missing or not a whole number"),
    Reason(6, "negative_quantity", "the quantity is negative"),
    Reason(7, "bad_price", "the price is missing or not a number"),
    Reason(8, "negative_price", "the price is negative"),
    Reason(9, "bad_amount", "an amount is not a number"),
    Reason(10, "bad_number", "a number field is not a number"),
    Reason(11, "bad_line_no", "the line number is missing or not a whole number"),
    Reason(12, "missing_item", "the row has neither an item code nor an item name"),
    Reason(13, "missing_customer", "no customer number, e-mail or name with phone/postal code identifies the buyer"),
    Reason(14, "duplicate_line", "the same order line (order number and line number) appears earlier in the file"),
    Reason(15, "malformed_row", "the row cannot be parsed as CSV (wrong number of columns or a broken quote)"),
    Reason(16, "order_without_items", "the order row has no item rows with the same OrderId"),
    Reason(17, "amount_too_large", "an amount (or quantity × price) is too large: 10^15 or more"),
    Reason(18, "invalid_utf8", "the row has bytes that are not UTF-8"),
    Reason(19, "conflicting_order", "the order number appears earlier in the file with another buyer or order time"),
    Reason(20, "duplicate_order_row", "the order row repeats an earlier row with the same OrderId (the first one was used)"),
    Reason(21, "order_kept", "the order has a quarantined line, so its previously imported lines were kept unchanged"),
)}
_BY_CODE = {r.code: r for r in REASONS.values()}


def reason_case(code_sql: str) -> str:
    """SQL turning a reason code into its sentence."""
    whens = " ".join(f"WHEN {r.code} THEN {sql_literal(r.sentence)}" for r in _BY_CODE.values())
    return f"CASE {code_sql} {whens} END"


def first_reasons(con: duckdb.DuckDBPyConnection, import_id: int, limit: int = 5) -> list[dict[str, object]]:
    """The first quarantined rows of an import, in file order."""
    rows = con.execute(
        "SELECT file, line_number, column_name, value, reason FROM quarantine WHERE import_id = ? "
        "ORDER BY file, line_number LIMIT ?", [import_id, limit]).fetchall()
    return [dict(zip(("file", "line", "column", "value", "reason"), r, strict=False)) for r in rows]
