"""The declarative description of a reader: which headers feed which canonical field, and the source's rules.

A reader holds no per-row code. It names, for each intermediate field, the header(s) that carry it (alternatives
are tried in order and coalesced; a tuple of headers is concatenated), which money fields are order-level (and so
allocated across the order's lines), how to identify the customer and how to read the status. The shared pipeline
(:mod:`ltvkit.ingest.pipeline`) turns that into one SQL statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._csv import norm_header, sql_literal, sql_text

__all__ = ["FIELDS", "Reader", "status_sql"]

# Intermediate fields a reader may fill (the canonical columns plus the raw identity/contact fields).
FIELDS = (
    "source", "order_id", "line_no", "customer_id", "email", "name", "phone", "zip", "prefecture", "address",
    "ordered_at", "sku", "product_name", "category", "quantity", "unit_price", "line_amount", "shop_coupon",
    "mall_coupon", "points_used", "point_rate", "shipping_fee", "cost", "channel", "status", "subscription_id",
    "delivery_count",
)
MONEY_FIELDS = ("shop_coupon", "mall_coupon", "points_used", "shipping_fee")
CONTACT_FIELDS = ("customer_id", "email", "name", "phone", "zip", "address")
_SEPARATOR = {"ordered_at": " ", "address": " ", "status": " "}
# numbers and dates are parsed by casts that ignore surrounding spaces: trimming 10 columns per row is not free
_UNTRIMMED = frozenset({"quantity", "unit_price", "line_amount", "shop_coupon", "mall_coupon", "points_used",
                        "point_rate", "shipping_fee", "cost", "delivery_count", "line_no", "ordered_at"})

Alternative = tuple[str, ...]
StatusFn = Callable[[Callable[[str], "str | None"]], str]


@dataclass(frozen=True)
class Reader:
    """How one export format maps onto the canonical order lines.

    Parameters
    ----------
    name
        Preset name (``--preset``).
    source
        Default ``source`` value of the imported lines.
    description
        One line for ``--help`` and the docs.
    fields
        Intermediate field -> header alternatives (a header name, or a tuple of names to concatenate).
    signatures
        Header sets (as written in the export) that identify the format; any one fully present is a match.
    order_level
        Money fields that are order totals (repeated on each line or given on the first line only).
    fill_within_order
        Fields that appear only on the first line of each order (Shopify) and are copied to the others.
    identity
        Identity sources in order of preference: ``number``, ``email``, ``contact``.
    naive_tz
        Time zone of timestamps written without an offset (None: the shop's).
    status
        Function building the status SQL from a field getter (None: the generic words).
    notes
        Mapping notes for docs/data-model.md.
    """

    name: str
    source: str
    description: str
    fields: Mapping[str, tuple[str | Alternative, ...]]
    signatures: tuple[tuple[str, ...], ...] = ()
    order_level: frozenset[str] = frozenset()
    fill_within_order: tuple[str, ...] = ()
    identity: tuple[str, ...] = ("number", "email", "contact")
    naive_tz: str | None = None
    delimiter: str | None = None
    status: StatusFn | None = None
    notes: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def matches(self, norm_headers: set[str]) -> bool:
        return any({norm_header(h) for h in sig} <= norm_headers for sig in self.signatures)

    def score(self, norm_headers: set[str]) -> int:
        """How many of the reader's known headers the file has (ties between matching readers)."""
        known = {norm_header(h) for alts in self.fields.values() for alt in alts
                 for h in ((alt,) if isinstance(alt, str) else alt)}
        return len(known & norm_headers)

    def resolve(self, cols: Mapping[str, str], headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """SQL text expression and original header name of every field the file carries.

        ``cols`` maps a normalised header to its SQL column; ``headers`` maps it to the header as written.
        """
        exprs: dict[str, str] = {}
        names: dict[str, str] = {}
        for fname, alts in self.fields.items():
            parts = []
            for alt in alts:
                hs = (alt,) if isinstance(alt, str) else alt
                keys = [norm_header(h) for h in hs]
                if not all(k in cols for k in keys):
                    continue
                if len(keys) == 1 and fname in _UNTRIMMED:
                    parts.append(f"NULLIF({cols[keys[0]]}, '')")  # the parsers ignore surrounding spaces
                elif len(keys) == 1:
                    parts.append(f"NULLIF(TRIM({cols[keys[0]]}), '')")
                else:
                    sep = sql_literal(_SEPARATOR.get(fname, ""))
                    pieces = ", ".join(f"NULLIF(TRIM({cols[k]}), '')" for k in keys)
                    joined = f"concat_ws({sep}, {pieces})"
                    parts.append(f"NULLIF(TRIM({joined}), '')")
                names.setdefault(fname, headers.get(keys[0], hs[0]))
            if parts:
                exprs[fname] = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
        return exprs, names


_CANCELLED_WORDS = ("cancelled", "canceled", "cancel", "キャンセル", "取消", "取り消し")
_RETURNED_WORDS = ("returned", "refunded", "return", "refund", "返品", "返金")


def status_sql(expr: str | None, cancelled: tuple[str, ...] = _CANCELLED_WORDS,
               returned: tuple[str, ...] = _RETURNED_WORDS, cancelled_codes: tuple[str, ...] = (),
               returned_codes: tuple[str, ...] = ()) -> str:
    """Status SQL from one text column: exact codes first, then words contained in the text (case-insensitive).

    Codes are compared with the first word, so a status joined with its sub-status ("500 返品") still matches.
    """
    if expr is None:
        return "'ordered'"
    t = f"lower({sql_text(expr)})"
    code = f"split_part({t}, ' ', 1)"
    whens = []
    if cancelled_codes:
        whens.append(f"WHEN {code} IN ({', '.join(sql_literal(c) for c in cancelled_codes)}) THEN 'cancelled'")
    if returned_codes:
        whens.append(f"WHEN {code} IN ({', '.join(sql_literal(c) for c in returned_codes)}) THEN 'returned'")
    for words, status in ((returned, "returned"), (cancelled, "cancelled")):
        if words:
            cond = " OR ".join(f"contains({t}, {sql_literal(w.lower())})" for w in words)
            whens.append(f"WHEN {cond} THEN '{status}'")
    return f"CASE {' '.join(whens)} ELSE 'ordered' END"
