"""Writers into the real export formats that ltvkit's importers read.

* :func:`write_rakuten_csv` — Rakuten RMS 楽天ペイ受注 CSV, CP932, every header of the layout, one row per item
  line with order values repeated; ステータス 500 (発送済) or 900 (キャンセル確定), サブステータス 返品 for returns.
* :func:`write_yahoo_csv` — Yahoo! Shopping order file + item file (orderInfo field names), CP932.
* :func:`write_shopify_csv` — Shopify orders export, UTF-8, order fields on the first row of each order only.
* :func:`write_generic_parquet` — canonical column names, customer column ``customer_id``.

The synthetic sales channel is written where each format keeps a channel-like value (利用端末, DeviceType,
Source) so per-channel analyses work on the demo. Columns are built with Arrow compute and written in chunks,
so writing stays linear and memory stays near one chunk of text.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .shop import SyntheticShop

__all__ = [
    "EXPORT_FORMATS",
    "RAKUTEN_HEADERS",
    "SHOPIFY_HEADERS",
    "YAHOO_ITEM_HEADERS",
    "YAHOO_ORDER_HEADERS",
    "write_export",
    "write_generic_parquet",
    "write_rakuten_csv",
    "write_shopify_csv",
    "write_yahoo_csv",
]

RAKUTEN_HEADERS = (
    "注文番号", "ステータス", "サブステータスID", "サブステータス", "注文日時", "注文日", "注文時間", "キャンセル期限日",
    "注文確認日時", "注文確定日時", "発送指示日時", "発送完了報告日時", "支払方法名", "クレジットカード支払い方法",
    "クレジットカード支払い回数", "配送方法", "配送区分", "注文種別", "複数送付先フラグ", "送付先一致フラグ", "離島フラグ",
    "楽天確認中フラグ", "警告表示タイプ", "楽天会員フラグ", "購入履歴修正有無フラグ", "商品合計金額", "消費税合計", "送料合計",
    "代引料合計", "請求金額", "合計金額", "ポイント利用額", "クーポン利用総額", "店舗発行クーポン利用額", "楽天発行クーポン利用額",
    "注文者郵便番号1", "注文者郵便番号2", "注文者住所都道府県", "注文者住所郡市区", "注文者住所それ以降の住所", "注文者姓",
    "注文者名", "注文者姓カナ", "注文者名カナ", "注文者電話番号1", "注文者電話番号2", "注文者電話番号3", "注文者メールアドレス",
    "注文者性別", "申込番号", "申込お届け回数", "送付先ID", "送付先送料", "送付先代引料", "送付先消費税合計", "送付先商品合計金額",
    "送付先合計金額", "のし", "送付先郵便番号1", "送付先郵便番号2", "送付先住所都道府県", "送付先住所郡市区",
    "送付先住所それ以降の住所", "送付先姓", "送付先名", "送付先姓カナ", "送付先名カナ", "送付先電話番号1", "送付先電話番号2",
    "送付先電話番号3", "商品明細ID", "商品ID", "商品名", "商品番号", "商品管理番号", "単価", "個数", "送料込別", "税込別",
    "代引手数料込別", "項目・選択肢", "ポイント倍率", "納期情報", "在庫タイプ", "ラッピングタイトル1", "ラッピング名1",
    "ラッピング料金1", "ラッピング税込別1", "ラッピング種類1", "ラッピングタイトル2", "ラッピング名2", "ラッピング料金2",
    "ラッピング税込別2", "ラッピング種類2", "お届け時間帯", "お届け日指定", "担当者", "ひとことメモ",
    "メール差込文 (お客様へのメッセージ)", "ギフト配送希望", "コメント", "利用端末", "メールキャリアコード", "あす楽希望フラグ",
    "医薬品受注フラグ", "楽天スーパーDEAL商品受注フラグ", "メンバーシッププログラム受注タイプ",
)

YAHOO_ORDER_HEADERS = (
    "OrderId", "ParentOrderId", "DeviceType", "IsAffiliate", "FspLicenseCode", "FspLicenseName", "OrderTime",
    "OrderTimeUnixEpoch", "UsePointType", "OrderStatus", "StoreStatus", "Referer", "EntryPoint", "Clink",
    "SuspectMessage", "IsItemCoupon", "IsShippingCoupon", "ShipName", "ShipFirstName", "ShipLastName", "ShipAddress1",
    "ShipAddress2", "ShipCity", "ShipPrefecture", "ShipZipCode", "ShipNameKana", "ShipFirstNameKana",
    "ShipLastNameKana", "ShipPhoneNumber", "ShipEmgPhoneNumber", "ShipMethod", "ShipMethodName", "ShipRequestDate",
    "ShipRequestTime", "ShipNotes", "ArriveType", "ShipInvoiceNumber1", "ShipInvoiceNumber2", "ShipUrl", "ShipDate",
    "GiftWrapType", "GiftWrapMessage", "Option1Field", "Option1Value", "Option2Field", "Option2Value", "BillName",
    "BillFirstName", "BillLastName", "BillAddress1", "BillAddress2", "BillCity", "BillPrefecture", "BillZipCode",
    "BillNameKana", "BillFirstNameKana", "BillLastNameKana", "BillPhoneNumber", "BillEmgPhoneNumber",
    "BillMailAddress", "PayMethod", "PayMethodName", "PayKind", "CardPayCount", "CardPayType", "SettleStatus",
    "SettleId", "PayNo", "PayNoIssueDate", "PayDate", "BuyerComments", "AgeConfirm", "QuantityDetail", "ShipCharge",
    "PayCharge", "GiftWrapCharge", "Discount", "UsePoint", "GetPoint", "Total", "TotalPrice",
    "ShippingCouponDiscount", "ItemCouponDiscount", "TotalMallCouponDiscount", "StoreCouponDiscount",
    "IsSubscription", "SubscriptionId", "SubscriptionContinueCount", "SubscriptionCycleType", "Id",
)
YAHOO_ITEM_HEADERS = (
    "OrderId", "LineId", "Quantity", "ItemId", "SubCode", "Title", "ItemOptionName", "ItemOptionValue",
    "SubCodeOption", "InscriptionName", "InscriptionValue", "UnitPrice", "UnitGetPoint", "LineSubTotal",
    "LineGetPoint", "PointFspCode", "Condition", "CouponId", "CouponDiscount", "OriginalPrice", "IsGetPointFix",
    "GetPointFixDate", "ReleaseDate", "GetPointType", "Jan", "ProductId", "Id",
)
SHOPIFY_HEADERS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip", "Billing Province",
    "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1", "Shipping Address2",
    "Shipping Company", "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone",
    "Notes", "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value",
    "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties",
    "Billing Province Name", "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At",
    "Payment References",
)

EXPORT_FORMATS = ("rakuten", "yahoo", "shopify", "generic")

_CHUNK_ROWS = 200_000


# -- helpers ------------------------------------------------------------------------------------------------

class _Orders:
    """Order-level views of a set of canonical lines (lines of an order are contiguous)."""

    def __init__(self, lines: pd.DataFrame) -> None:
        codes, _ = pd.factorize(lines["order_id"], sort=False)
        if len(codes) and not (np.diff(codes) >= 0).all():
            raise ValueError("lines of an order must be contiguous (sort by ordered_at, order_id, line_no)")
        self.code = codes
        self.n = int(codes.max()) + 1 if len(codes) else 0
        self.first = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, bool)

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per-line repetition of the order sum."""
        sums = np.bincount(self.code, weights=values, minlength=self.n).astype(np.int64)
        return sums[self.code]


def _money(lines: pd.DataFrame, col: str) -> np.ndarray:
    return lines[col].fillna(0).to_numpy(np.int64)


def _int_text(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, np.int64)).cast(pa.string())


def _pick(mask: np.ndarray, yes: str, no: str) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(yes), pa.scalar(no))


_PEOPLE = ("last_name", "first_name", "last_name_kana", "first_name_kana", "phone", "zip", "prefecture", "city",
           "street", "email")


class _Data:
    """Lines and buyers as Arrow arrays, sliced per chunk (rows ``lo:hi`` or given row numbers)."""

    _TEXT = ("order_id", "sku", "product_name", "category", "channel", "subscription_id")

    def __init__(self, shop: SyntheticShop, lines: pd.DataFrame) -> None:
        self.lines = lines
        self.table = pa.Table.from_pandas(lines[list(self._TEXT)], preserve_index=False)
        idx = pd.Index(shop.truth["customer_key"]).get_indexer(lines["customer_key"])
        if (idx < 0).any():
            raise ValueError("every line's customer_key must be in shop.truth")
        self.cidx = idx
        people = pa.Table.from_pandas(shop.truth[list(_PEOPLE)], preserve_index=False)
        self.people = {c: people.column(c).combine_chunks().cast(pa.string()) for c in _PEOPLE}
        for field, sep in (("phone", ("phone1", "phone2", "phone3")), ("zip", ("zip1", "zip2"))):
            parts = pc.split_pattern(self.people[field], "-")
            for i, name in enumerate(sep):
                self.people[name] = pc.list_element(parts, i)
        self.people["name"] = pc.binary_join_element_wise(self.people["last_name"], self.people["first_name"], " ")
        self.people["kana"] = pc.binary_join_element_wise(self.people["last_name_kana"],
                                                          self.people["first_name_kana"], " ")
        status = lines["status"].astype(str) if not isinstance(lines["status"].dtype, pd.CategoricalDtype) \
            else lines["status"]
        self.cancelled = (status == "cancelled").to_numpy(bool)
        self.returned = (status == "returned").to_numpy(bool)
        self.seconds = lines["ordered_at"].to_numpy("datetime64[s]")
        self.delivery = lines["delivery_count"].to_numpy("float64", na_value=np.nan)

    def rows(self, lo: int, hi: int, rows: np.ndarray | None) -> np.ndarray | slice:
        return slice(lo, hi) if rows is None else rows[lo:hi]

    def text(self, name: str, sel: np.ndarray | slice) -> pa.Array:
        col = self.table.column(name)
        part = col.slice(sel.start, sel.stop - sel.start) if isinstance(sel, slice) else col.take(pa.array(sel))
        return part.combine_chunks().cast(pa.string())

    def who(self, name: str, sel: np.ndarray | slice) -> pa.Array:
        return self.people[name].take(pa.array(self.cidx[sel]))

    def when(self, sel: np.ndarray | slice) -> pa.Array:
        """``YYYY-MM-DD HH:MM:SS``."""
        return pa.array(self.seconds[sel], pa.timestamp("s")).cast(pa.string())

    def count(self, sel: np.ndarray | slice) -> pa.Array:
        d = self.delivery[sel]
        return pc.if_else(pa.array(np.isnan(d)), pa.scalar(None, pa.string()),
                          _int_text(np.nan_to_num(d).astype(np.int64)))


def _write_csv(headers: tuple[str, ...], n_rows: int, build: Callable[[int, int], dict[str, pa.Array | str]],
               path: Path, encoding: str) -> Path:
    """Write ``n_rows`` rows in chunks; ``build(lo, hi)`` gives the columns of rows ``lo:hi``.

    A column is an Arrow string array or one constant string (empty: an empty field); headers it omits are
    empty. Memory stays near one chunk of rows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for i, lo in enumerate(range(0, max(n_rows, 1), _CHUNK_ROWS)):
            hi = min(lo + _CHUNK_ROWS, n_rows)
            cols = build(lo, hi)
            arrays = []
            for name in headers:
                v = cols.get(name, "")
                if isinstance(v, str):
                    arrays.append(pa.repeat(v, hi - lo) if v else pa.nulls(hi - lo, pa.string()))
                else:
                    arrays.append(v)
            table = pa.Table.from_arrays(arrays, names=list(headers))
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=(i == 0), quoting_style="needed"))
            data = buf.getvalue()
            fh.write(data if encoding == "utf-8" else data.decode("utf-8").encode(encoding))
    return path


def _default_lines(shop: SyntheticShop, lines: pd.DataFrame | None, include_holdout: bool) -> pd.DataFrame:
    if lines is not None:
        return lines
    if include_holdout and len(shop.holdout_lines):
        return pd.concat([shop.order_lines, shop.holdout_lines], ignore_index=True)
    return shop.order_lines


# -- Rakuten ------------------------------------------------------------------------------------------------

def write_rakuten_csv(shop: SyntheticShop, path: str | Path, *, lines: pd.DataFrame | None = None,
                      include_holdout: bool = False) -> Path:
    """Write lines as a Rakuten RMS 楽天ペイ受注 CSV in CP932 (one row per item line).

    Parameters
    ----------
    shop
        The shop (its truth gives each customer's fake name, phone, postal code and address).
    path
        Output file.
    lines
        Canonical lines to write (default ``shop.order_lines``; lines of an order contiguous).
    include_holdout
        Also write the holdout period's lines.

    Returns
    -------
    pathlib.Path
    """
    lines = _default_lines(shop, lines, include_holdout)
    d = _Data(shop, lines)
    orders = _Orders(lines)
    items = orders.total(_money(lines, "line_amount"))
    ship = orders.total(_money(lines, "shipping_fee"))
    points = orders.total(_money(lines, "points_used"))
    shop_c = orders.total(_money(lines, "shop_coupon"))
    mall_c = orders.total(_money(lines, "mall_coupon"))
    price = _money(lines, "unit_price")
    qty = lines["quantity"].to_numpy(np.int64)
    item_no = pd.factorize(lines["sku"], sort=True)[0] + 10_000_001
    point_rate = lines["point_rate"].to_numpy(float)
    subscribed = lines["subscription_id"].notna().to_numpy()

    def build(lo: int, hi: int) -> dict[str, pa.Array | str]:
        sel = slice(lo, hi)
        it, sh, pt, sc, mc = items[sel], ship[sel], points[sel], shop_c[sel], mall_c[sel]
        total = it + sh
        tax = it * 10 // 110
        when = d.when(sel)
        pr = point_rate[sel]
        cols: dict[str, pa.Array | str] = {}
        buyer = {
            "郵便番号1": "zip1", "郵便番号2": "zip2", "住所都道府県": "prefecture", "住所郡市区": "city",
            "住所それ以降の住所": "street", "姓": "last_name", "名": "first_name", "姓カナ": "last_name_kana",
            "名カナ": "first_name_kana", "電話番号1": "phone1", "電話番号2": "phone2", "電話番号3": "phone3",
        }
        for k, field in buyer.items():
            cols["注文者" + k] = cols["送付先" + k] = d.who(field, sel)
        cols.update({
            "注文番号": d.text("order_id", sel),
            "ステータス": _pick(d.cancelled[sel], "900", "500"),
            "サブステータスID": _pick(d.returned[sel], "1001", ""),
            "サブステータス": _pick(d.returned[sel], "返品", ""),
            "注文日時": when,
            "注文日": pc.utf8_slice_codeunits(when, 0, 10),
            "注文時間": pc.utf8_slice_codeunits(when, 11, 19),
            "支払方法名": "クレジットカード", "クレジットカード支払い方法": "一括払い", "配送方法": "宅配便",
            "注文種別": _pick(subscribed[sel], "定期購入", "通常購入"),
            "複数送付先フラグ": "0", "送付先一致フラグ": "1", "離島フラグ": "0", "楽天確認中フラグ": "0",
            "警告表示タイプ": "0", "楽天会員フラグ": "1", "購入履歴修正有無フラグ": "0",
            "商品合計金額": _int_text(it), "消費税合計": _int_text(tax), "送料合計": _int_text(sh), "代引料合計": "0",
            "請求金額": _int_text(total - pt - sc - mc), "合計金額": _int_text(total), "ポイント利用額": _int_text(pt),
            "クーポン利用総額": _int_text(sc + mc), "店舗発行クーポン利用額": _int_text(sc),
            "楽天発行クーポン利用額": _int_text(mc),
            "注文者メールアドレス": d.who("email", sel),
            "申込番号": d.text("subscription_id", sel),
            "申込お届け回数": d.count(sel),
            "送付先ID": "1", "送付先送料": _int_text(sh), "送付先代引料": "0", "送付先消費税合計": _int_text(tax),
            "送付先商品合計金額": _int_text(it), "送付先合計金額": _int_text(total),
            "商品明細ID": _int_text(np.arange(lo + 1, hi + 1)),
            "商品ID": _int_text(item_no[sel]),
            "商品名": d.text("product_name", sel),
            "商品番号": pc.utf8_lower(d.text("sku", sel)),
            "商品管理番号": d.text("sku", sel),
            "単価": _int_text(price[sel]),
            "個数": _int_text(qty[sel]),
            "送料込別": "送料別", "税込別": "税込", "代引手数料込別": "代引手数料別",
            "ポイント倍率": pc.if_else(pa.array(np.isnan(pr)), pa.scalar(None, pa.string()),
                                  _int_text(np.nan_to_num(pr).astype(np.int64))),
            "在庫タイプ": "通常在庫", "利用端末": d.text("channel", sel), "あす楽希望フラグ": "0",
            "医薬品受注フラグ": "0", "楽天スーパーDEAL商品受注フラグ": "0",
        })
        return cols

    return _write_csv(RAKUTEN_HEADERS, len(lines), build, Path(path), "cp932")


# -- Yahoo ----------------------------------------------------------------------------------------------------

def write_yahoo_csv(shop: SyntheticShop, directory: str | Path, *, lines: pd.DataFrame | None = None,
                    include_holdout: bool = False, prefix: str = "yahoo") -> tuple[Path, Path]:
    """Write lines as a Yahoo! Shopping order file and item file (CP932); return their paths.

    The files are ``<prefix>_order.csv`` (one row per order) and ``<prefix>_item.csv`` (one row per line).
    """
    lines = _default_lines(shop, lines, include_holdout)
    directory = Path(directory)
    d = _Data(shop, lines)
    orders = _Orders(lines)
    first = np.flatnonzero(orders.first)
    items = orders.total(_money(lines, "line_amount"))[first]
    ship = orders.total(_money(lines, "shipping_fee"))[first]
    points = orders.total(_money(lines, "points_used"))[first]
    shop_c = orders.total(_money(lines, "shop_coupon"))[first]
    mall_c = orders.total(_money(lines, "mall_coupon"))[first]
    subscribed = lines["subscription_id"].notna().to_numpy()

    def build_order(lo: int, hi: int) -> dict[str, pa.Array | str]:
        rows = first[lo:hi]
        it, sh, pt, sc, mc = items[lo:hi], ship[lo:hi], points[lo:hi], shop_c[lo:hi], mall_c[lo:hi]
        epoch = d.seconds[rows].astype(np.int64) - 9 * 3600
        cols: dict[str, pa.Array | str] = {}
        bill = {
            "Name": "name", "FirstName": "first_name", "LastName": "last_name", "Address1": "street", "City": "city",
            "Prefecture": "prefecture", "ZipCode": "zip", "NameKana": "kana", "FirstNameKana": "first_name_kana",
            "LastNameKana": "last_name_kana", "PhoneNumber": "phone",
        }
        for k, field in bill.items():
            cols["Bill" + k] = cols["Ship" + k] = d.who(field, rows)
        cols.update({
            "OrderId": d.text("order_id", rows), "DeviceType": d.text("channel", rows), "IsAffiliate": "0",
            "OrderTime": pc.replace_substring(d.when(rows), "-", "/"), "OrderTimeUnixEpoch": _int_text(epoch),
            "UsePointType": _pick(pt > 0, "1", "0"),
            "OrderStatus": _pick(d.cancelled[rows], "4", "5"),
            "StoreStatus": _pick(d.returned[rows], "返品", ""),
            "IsItemCoupon": "0", "IsShippingCoupon": "0", "ShipMethod": "postage1", "ShipMethodName": "宅配便",
            "BillMailAddress": d.who("email", rows), "PayMethod": "payment_a1", "PayMethodName": "クレジットカード決済",
            "PayKind": "0", "SettleStatus": "1", "ShipCharge": _int_text(sh), "PayCharge": "0",
            "GiftWrapCharge": "0", "Discount": _int_text(sc + mc), "UsePoint": _int_text(pt),
            "Total": _int_text(it + sh - pt - sc - mc), "TotalPrice": _int_text(it),
            "ShippingCouponDiscount": "0", "ItemCouponDiscount": "0",
            "TotalMallCouponDiscount": _int_text(mc), "StoreCouponDiscount": _int_text(sc),
            "IsSubscription": _pick(subscribed[rows], "1", "0"),
            "SubscriptionId": d.text("subscription_id", rows), "SubscriptionContinueCount": d.count(rows),
            "Id": _int_text(np.arange(lo + 1, hi + 1)),
        })
        return cols

    price = _money(lines, "unit_price")
    amount = _money(lines, "line_amount")
    qty = lines["quantity"].to_numpy(np.int64)
    line_no = lines["line_no"].to_numpy(np.int64)

    def build_item(lo: int, hi: int) -> dict[str, pa.Array | str]:
        sel = slice(lo, hi)
        return {
            "OrderId": d.text("order_id", sel), "LineId": _int_text(line_no[sel]), "Quantity": _int_text(qty[sel]),
            "ItemId": d.text("sku", sel), "Title": d.text("product_name", sel), "UnitPrice": _int_text(price[sel]),
            "LineSubTotal": _int_text(amount[sel]), "Condition": "new", "OriginalPrice": _int_text(price[sel]),
            "Id": _int_text(np.arange(lo + 1, hi + 1)),
        }

    order_path = _write_csv(YAHOO_ORDER_HEADERS, len(first), build_order, directory / f"{prefix}_order.csv", "cp932")
    item_path = _write_csv(YAHOO_ITEM_HEADERS, len(lines), build_item, directory / f"{prefix}_item.csv", "cp932")
    return order_path, item_path


# -- Shopify --------------------------------------------------------------------------------------------------

def write_shopify_csv(shop: SyntheticShop, path: str | Path, *, lines: pd.DataFrame | None = None,
                      include_holdout: bool = False) -> Path:
    """Write lines as a Shopify orders export (UTF-8; order fields only on each order's first row).

    Points and mall coupons (which Shopify does not have) are folded into ``Discount Amount``.
    """
    lines = _default_lines(shop, lines, include_holdout)
    d = _Data(shop, lines)
    orders = _Orders(lines)
    items = orders.total(_money(lines, "line_amount"))
    ship = orders.total(_money(lines, "shipping_fee"))
    disc = orders.total(_money(lines, "shop_coupon") + _money(lines, "mall_coupon") + _money(lines, "points_used"))
    price = _money(lines, "unit_price")
    qty = lines["quantity"].to_numpy(np.int64)

    def build(lo: int, hi: int) -> dict[str, pa.Array | str]:
        sel = slice(lo, hi)
        n = hi - lo
        it, sh, ds = items[sel], ship[sel], disc[sel]
        total = it + sh - ds
        cancelled, returned = d.cancelled[sel], d.returned[sel]
        created = pc.binary_join_element_wise(d.when(sel), "+0900", " ")
        name, zip_, phone = d.who("name", sel), d.who("zip", sel), d.who("phone", sel)
        pref, city, street = d.who("prefecture", sel), d.who("city", sel), d.who("street", sel)
        fin = pc.if_else(pa.array(cancelled), pa.scalar("voided"), _pick(returned, "refunded", "paid"))
        order_fields: dict[str, pa.Array | str] = {
            "Email": d.who("email", sel), "Financial Status": fin, "Paid at": created,
            "Fulfillment Status": _pick(cancelled, "unfulfilled", "fulfilled"),
            "Accepts Marketing": "yes", "Currency": "JPY", "Subtotal": _int_text(it), "Shipping": _int_text(sh),
            "Taxes": _int_text(it * 10 // 110), "Total": _int_text(total),
            "Discount Code": _pick(ds > 0, "WELCOME", ""), "Discount Amount": _int_text(ds),
            "Shipping Method": "宅配便", "Created at": created, "Billing Name": name, "Billing Address1": street,
            "Billing City": city, "Billing Zip": zip_, "Billing Province": pref, "Billing Country": "JP",
            "Billing Phone": phone, "Shipping Name": name, "Shipping Address1": street, "Shipping City": city,
            "Shipping Zip": zip_, "Shipping Province": pref, "Shipping Country": "JP", "Shipping Phone": phone,
            "Cancelled at": pc.if_else(pa.array(cancelled), created, pa.scalar(None, pa.string())),
            "Payment Method": "Shopify Payments",
            "Refunded Amount": _int_text(np.where(returned, total, 0)),
            "Outstanding Balance": "0", "Id": _int_text(orders.code[sel] + 5_000_000_001),
            "Source": d.text("channel", sel), "Tax 1 Name": "JCT 10%", "Tax 1 Value": _int_text(it * 10 // 110),
            "Phone": phone, "Billing Province Name": pref, "Shipping Province Name": pref,
        }
        later = pa.array(~orders.first[sel])
        cols: dict[str, pa.Array | str] = {}
        for k, v in order_fields.items():
            arr = pa.repeat(v, n) if isinstance(v, str) else v
            cols[k] = pc.if_else(later, pa.scalar(None, pa.string()), arr)
        cols.update({
            "Name": d.text("order_id", sel), "Lineitem quantity": _int_text(qty[sel]),
            "Lineitem name": d.text("product_name", sel), "Lineitem price": _int_text(price[sel]),
            "Lineitem sku": d.text("sku", sel), "Lineitem requires shipping": "true", "Lineitem taxable": "true",
            "Lineitem fulfillment status": _pick(cancelled, "pending", "fulfilled"),
            "Vendor": d.text("category", sel), "Lineitem discount": "0",
        })
        return cols

    return _write_csv(SHOPIFY_HEADERS, len(lines), build, Path(path), "utf-8")


# -- generic --------------------------------------------------------------------------------------------------

def write_generic_parquet(shop: SyntheticShop, path: str | Path, *, lines: pd.DataFrame | None = None,
                          include_holdout: bool = False) -> Path:
    """Write lines as Parquet with canonical column names (``customer_id`` for the customer)."""
    lines = _default_lines(shop, lines, include_holdout)
    frame = lines.rename(columns={"customer_key": "customer_id"})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    cols = []
    for field in table.schema:
        col = table[field.name]
        if pa.types.is_dictionary(field.type):
            col = col.cast(pa.string())
        cols.append(col)
    table = pa.Table.from_arrays(cols, names=table.column_names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, coerce_timestamps="us", allow_truncated_timestamps=True)
    return path


def write_export(shop: SyntheticShop, directory: str | Path, fmt: str | None = None, *,
                 include_holdout: bool = False) -> list[Path]:
    """Write the shop in one export format (default: its own mall's) into ``directory``; return the file paths."""
    fmt = fmt or (shop.mall if shop.mall in EXPORT_FORMATS else "generic")
    directory = Path(directory)
    if fmt == "rakuten":
        return [write_rakuten_csv(shop, directory / "rakuten_orders.csv", include_holdout=include_holdout)]
    if fmt == "yahoo":
        return list(write_yahoo_csv(shop, directory, include_holdout=include_holdout))
    if fmt == "shopify":
        return [write_shopify_csv(shop, directory / "shopify_orders.csv", include_holdout=include_holdout)]
    if fmt == "generic":
        return [write_generic_parquet(shop, directory / "orders.parquet", include_holdout=include_holdout)]
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
