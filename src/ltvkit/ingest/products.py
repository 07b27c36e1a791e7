"""Product catalogue files: SKU, unit cost, category, list price (CSV, Excel or Parquet; Japanese headers).

Headers are matched by name after NFKC normalisation, as for order exports, so ``商品番号``, ``ＳＫＵ`` and
``sku`` all name the SKU. The catalogue exports of the malls and of Shopify read as they are:

============  =====================================================================================
field         headers accepted (first found wins)
============  =====================================================================================
sku           sku, 商品番号, 商品コード, 商品管理番号, 商品管理番号（商品URL）, SKU管理番号, 品番,
              Variant SKU (Shopify), code (Yahoo!), ItemId
product_name  product_name, 商品名, Title (Shopify), name (Yahoo!)
category      category, カテゴリ, カテゴリー, 商品カテゴリ, 商品分類, 分類, 表示先カテゴリ (Rakuten),
              Type / Product Type (Shopify), path (Yahoo! store category)
unit_cost     unit_cost, cost, 原価, 商品原価, 仕入価格, 仕入単価, 仕入原価, Cost per item (Shopify)
list_price    list_price, price, 定価, 販売価格, 売価, 通常購入販売価格, 価格, Variant Price (Shopify)
============  =====================================================================================

Money may be written ``1,200``, ``¥1,200``, ``1200円`` or in full-width digits; it is rounded to whole yen.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InputError
from ._csv import norm_header, sniff_file

__all__ = ["PRODUCT_FIELDS", "ProductFile", "looks_like_catalogue", "read_products"]

PRODUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "商品番号", "商品コード", "商品管理番号", "商品管理番号(商品URL)", "SKU管理番号", "品番",
            "Variant SKU", "code", "ItemId"),
    "product_name": ("product_name", "商品名", "Title", "name"),
    "category": ("category", "カテゴリ", "カテゴリー", "商品カテゴリ", "商品カテゴリー", "商品分類", "分類",
                 "表示先カテゴリ", "Type", "Product Type", "path"),
    "unit_cost": ("unit_cost", "cost", "原価", "商品原価", "仕入価格", "仕入単価", "仕入原価", "Cost per item"),
    "list_price": ("list_price", "price", "定価", "販売価格", "売価", "通常購入販売価格", "価格", "Variant Price"),
}
_MONEY = ("unit_cost", "list_price")
_NOT_MONEY = re.compile(r"[^0-9.\-]")


@dataclass
class ProductFile:
    """A catalogue file read into canonical columns.

    ``products`` has ``sku`` and the fields the file has (one row per SKU, the last row of a SKU wins);
    ``columns`` maps each field found to the header it came from; ``skipped`` counts rows without a SKU or with
    a money value that is not a number (``bad_values`` keeps the first few as ``(line, header, value)``).
    """

    path: Path
    products: pd.DataFrame
    columns: dict[str, str]
    rows_read: int
    skipped: int
    bad_values: list[tuple[int, str, str]]


def _read_frame(path: Path) -> pd.DataFrame:
    info = sniff_file(path)
    if info.kind == "parquet":
        return pd.read_parquet(path).astype(object)
    if info.kind == "excel":
        return pd.read_excel(path, sheet_name=info.sheet, dtype=object)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=info.encoding, sep=info.delimiter,
                       encoding_errors="replace")


def _money(value: Any) -> tuple[int | None, bool]:
    """``(yen, ok)``: empty cells are ``(None, True)``; text that is not a number is ``(None, False)``."""
    if value is None or (isinstance(value, float) and value != value):
        return None, True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(float(value))), True
    text = _NOT_MONEY.sub("", unicodedata.normalize("NFKC", str(value)))
    if text == "":
        return None, str(value).strip() in ("", "-", "—")
    try:
        return int(round(float(text))), True
    except ValueError:
        return None, False


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def looks_like_catalogue(path: str | os.PathLike[str]) -> bool:
    """Whether a file's header names a SKU and a cost or category but no order number (a product catalogue)."""
    try:
        headers = {norm_header(h) for h in sniff_file(Path(path)).headers}
    except InputError:
        return False

    def has(field: str) -> bool:
        return any(norm_header(name) in headers for name in PRODUCT_FIELDS[field])

    orders = {norm_header(h) for h in ("order_id", "注文番号", "受注番号", "OrderId", "Name", "店舗伝票番号", "order-id")}
    return has("sku") and (has("unit_cost") or has("category")) and not headers & orders


def read_products(path: str | os.PathLike[str]) -> ProductFile:
    """Read a product catalogue (CSV in UTF-8 or Shift_JIS/CP932, Excel or Parquet) into canonical columns.

    Raises :class:`InputError` when the file has no SKU column or none of cost, category, list price, name.
    """
    path = Path(path)
    raw = _read_frame(path)
    by_norm: dict[str, str] = {}
    for header in raw.columns:
        by_norm.setdefault(norm_header(header), header)
    columns: dict[str, str] = {}
    for field, names in PRODUCT_FIELDS.items():
        for name in names:
            if norm_header(name) in by_norm:
                columns[field] = by_norm[norm_header(name)]
                break
    if "sku" not in columns:
        raise InputError(key="err.products_no_sku", file=path.name, headers=", ".join(map(str, raw.columns)))
    if len(columns) == 1:
        raise InputError(key="err.products_no_values", file=path.name)
    out: dict[str, list[Any]] = {f: [] for f in columns}
    skipped, bad = 0, []
    for i, row in enumerate(raw[list(columns.values())].itertuples(index=False, name=None)):
        values = dict(zip(columns, row, strict=True))
        sku = _text(values["sku"])
        if sku is None:
            skipped += 1
            continue
        parsed: dict[str, Any] = {"sku": sku}
        ok = True
        for field, value in values.items():
            if field == "sku":
                continue
            if field in _MONEY:
                amount, good = _money(value)
                if not good:
                    ok = False
                    if len(bad) < 5:
                        bad.append((i + 2, columns[field], str(value)))
                parsed[field] = amount
            else:
                parsed[field] = _text(value)
        if not ok:
            skipped += 1
            continue
        for field in columns:
            out[field].append(parsed[field])
    frame = pd.DataFrame(out, columns=list(columns))
    for field in _MONEY:
        if field in frame:
            frame[field] = frame[field].astype("Int64")
    frame = frame.drop_duplicates("sku", keep="last").reset_index(drop=True)
    return ProductFile(path, frame, columns, len(raw), skipped, bad)
