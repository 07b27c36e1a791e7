"""Small realistic exports built in code: real header sets (ec-crm.md §1), CP932 bytes, both Rakuten layouts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

RAKUTEN_PAY_HEADER = [h.strip() for h in """注文番号, ステータス, サブステータスID, サブステータス, 注文日時, 注文日, 注文時間, キャンセル期限日, 注文確認日時,
注文確定日時, 発送指示日時, 発送完了報告日時, 支払方法名, クレジットカード支払い方法, クレジットカード支払い回数,
配送方法, 配送区分, 注文種別, 複数送付先フラグ, 送付先一致フラグ, 離島フラグ, 楽天確認中フラグ, 警告表示タイプ,
楽天会員フラグ, 購入履歴修正有無フラグ, 商品合計金額, 消費税合計, 送料合計, 代引料合計, 請求金額, 合計金額,
ポイント利用額, クーポン利用総額, 店舗発行クーポン利用額, 楽天発行クーポン利用額, 注文者郵便番号1, 注文者郵便番号2,
注文者住所都道府県, 注文者住所郡市区, 注文者住所それ以降の住所, 注文者姓, 注文者名, 注文者姓カナ, 注文者名カナ,
注文者電話番号1, 注文者電話番号2, 注文者電話番号3, 注文者メールアドレス, 注文者性別, 申込番号, 申込お届け回数,
送付先ID, 送付先送料, 送付先代引料, 送付先消費税合計, 送付先商品合計金額, 送付先合計金額, のし, 送付先郵便番号1,
送付先郵便番号2, 送付先住所都道府県, 送付先住所郡市区, 送付先住所それ以降の住所, 送付先姓, 送付先名, 送付先姓カナ,
送付先名カナ, 送付先電話番号1, 送付先電話番号2, 送付先電話番号3, 商品明細ID, 商品ID, 商品名, 商品番号, 商品管理番号,
単価, 個数, 送料込別, 税込別, 代引手数料込別, 項目・選択肢, ポイント倍率, 納期情報, 在庫タイプ, ラッピングタイトル1,
ラッピング名1, ラッピング料金1, ラッピング税込別1, ラッピング種類1, ラッピングタイトル2, ラッピング名2, ラッピング料金2,
ラッピング税込別2, ラッピング種類2, お届け時間帯, お届け日指定, 担当者, ひとことメモ, メール差込文 (お客様へのメッセージ),
ギフト配送希望, コメント, 利用端末, メールキャリアコード, あす楽希望フラグ, 医薬品受注フラグ,
楽天スーパーDEAL商品受注フラグ, メンバーシッププログラム受注タイプ""".replace("\n", " ").split(",")]

RAKUTEN_LEGACY_HEADER = [h.strip() for h in """受注番号, 受注ステータス, カード決済ステータス, 入金日, 配送日, お届け時間帯, お届け日指定, 担当者, ひとことメモ,
メール差込文(お客様へのメッセージ), 初期購入合計金額, 利用端末, メールキャリアコード, ギフトチェック（0:なし/1:あり）,
コメント, 注文日時, 複数送付先フラグ, 警告表示フラグ, 楽天会員フラグ, 合計, 消費税(-99999=無効値), 送料(-99999=無効値),
代引料(-99999=無効値), 請求金額(-99999=無効値), 合計金額(-99999=無効値), 同梱ID, 同梱ステータス, 同梱商品合計金額,
同梱送料合計, 同梱代引料合計, 同梱消費税合計, 同梱請求金額, 同梱合計金額, 同梱楽天バンク決済振替手数料, 同梱ポイント利用合計,
メールフラグ, 注文日, 注文時間, モバイルキャリア決済番号, 購入履歴修正可否タイプ, 購入履歴修正アイコンフラグ,
購入履歴修正催促メールフラグ, 送付先一致フラグ, ポイント利用有無, 注文者郵便番号１, 注文者郵便番号２, 注文者住所：都道府県,
注文者住所：都市区, 注文者住所：町以降, 注文者名字, 注文者名前, 注文者名字フリガナ, 注文者名前フリガナ, 注文者電話番号１,
注文者電話番号２, 注文者電話番号３, メールアドレス, 注文者性別, 注文者誕生日, 決済方法, クレジットカード種類,
クレジットカード番号, クレジットカード名義人, クレジットカード有効期限, クレジットカード分割選択, クレジットカード分割備考,
配送方法, 配送区分, ポイント利用額, ポイント利用条件, ポイントステータス, 楽天バンク決済ステータス, 楽天バンク振替手数料負担区分,
楽天バンク決済手数料, ラッピングタイトル(包装紙), ラッピング名(包装紙), ラッピング料金(包装紙), 税込別(包装紙),
ラッピングタイトル(リボン), ラッピング名(リボン), ラッピング料金(リボン), 税込別(リボン), 送付先送料, 送付先代引料,
送付先消費税, お荷物伝票番号, 送付先商品合計金額, のし, 送付先郵便番号１, 送付先郵便番号２, 送付先住所：都道府県,
送付先住所：都市区, 送付先住所：町以降, 送付先名字, 送付先名前, 送付先名字フリガナ, 送付先名前フリガナ, 送付先電話番号１,
送付先電話番号２, 送付先電話番号３, 商品ID, 商品名, 商品番号, 商品URL, 単価, 個数, 送料込別, 税込別, 代引手数料込別,
項目・選択肢, ポイント倍率, ポイントタイプ, レコードナンバー, 納期情報, 在庫タイプ, ラッピング種類(包装紙),
ラッピング種類(リボン), あす楽希望, クーポン利用額, 店舗発行クーポン利用額, 楽天発行クーポン利用額, 同梱注文クーポン利用額,
配送会社, 薬事フラグ, 楽天スーパーDEAL, メンバーシッププログラム""".replace("\n", " ").split(",")]

YAHOO_ORDER_HEADER = ("OrderId, ParentOrderId, DeviceType, IsAffiliate, OrderTime, OrderTimeUnixEpoch, UsePointType, "
                      "OrderStatus, StoreStatus, Referer, ShipName, ShipPrefecture, ShipZipCode, ShipPhoneNumber, "
                      "BillName, BillFirstName, BillLastName, BillAddress1, BillAddress2, BillCity, BillPrefecture, "
                      "BillZipCode, BillPhoneNumber, BillMailAddress, PayMethod, ShipCharge, PayCharge, Discount, "
                      "UsePoint, GetPoint, Total, TotalPrice, ShippingCouponDiscount, ItemCouponDiscount, "
                      "TotalMallCouponDiscount, StoreCouponDiscount, SubscriptionId, SubscriptionContinueCount, Id"
                      ).split(", ")
YAHOO_ITEM_HEADER = ("OrderId, LineId, Quantity, ItemId, SubCode, Title, ItemOptionName, ItemOptionValue, "
                     "SubCodeOption, InscriptionName, InscriptionValue, UnitPrice, UnitGetPoint, LineSubTotal, "
                     "LineGetPoint, PointFspCode, Condition, CouponId, CouponDiscount, OriginalPrice, IsGetPointFix, "
                     "GetPointFixDate, ReleaseDate, GetPointType, Jan, ProductId, Id").split(", ")
SHOPIFY_HEADER = ("Name, Email, Financial Status, Paid at, Fulfillment Status, Fulfilled at, Accepts Marketing, "
                  "Currency, Subtotal, Shipping, Taxes, Total, Discount Code, Discount Amount, Shipping Method, "
                  "Created at, Lineitem quantity, Lineitem name, Lineitem price, Lineitem compare at price, "
                  "Lineitem sku, Lineitem requires shipping, Lineitem taxable, Lineitem fulfillment status, "
                  "Billing Name, Billing Street, Billing Address1, Billing Address2, Billing Company, Billing City, "
                  "Billing Zip, Billing Province, Billing Country, Billing Phone, Shipping Name, Notes, "
                  "Cancelled at, Payment Method, Refunded Amount, Vendor, Id, Tags, Source, Lineitem discount, "
                  "Phone, Billing Province Name").split(", ")
AMAZON_HEADER = ("order-id, order-item-id, purchase-date, payments-date, buyer-email, buyer-name, "
                 "buyer-phone-number, sku, product-name, quantity-purchased, currency, item-price, item-tax, "
                 "shipping-price, shipping-tax, gift-wrap-price, gift-wrap-tax, ship-service-level, recipient-name, "
                 "ship-address-1, ship-address-2, ship-address-3, ship-city, ship-state, ship-postal-code, "
                 "ship-country, ship-phone-number, gift-wrap-type, gift-message-text, item-promotion-discount, "
                 "item-promotion-id, ship-promotion-discount, ship-promotion-id, delivery-start-date, "
                 "delivery-end-date, delivery-time-zone, delivery-Instructions, is-prime").split(", ")
NEXT_ENGINE_HEADER = ("店舗伝票番号, 受注日, 受注郵便番号, 受注住所１, 受注住所２, 受注名, 受注名カナ, 受注電話番号, "
                      "受注メールアドレス, 発送郵便番号, 発送先住所１, 発送先住所２, 発送先名, 発送先カナ, 発送電話番号, "
                      "支払方法, 発送方法, 商品計, 税金, 発送料, 手数料, ポイント, その他費用, 合計金額, ギフトフラグ, "
                      "時間帯指定, 日付指定, 作業者欄, 備考, 商品名, 商品コード, 商品価格, 受注数量, 商品オプション, "
                      "出荷済フラグ, 顧客区分, 顧客コード, 消費税率（%）").split(", ")


def write_csv(path: Path, header: list[str], rows: Iterable[Mapping[str, object]], *, encoding: str = "utf-8",
              delimiter: str = ",", quote_all: bool = True) -> Path:
    """Write rows (dicts keyed by header name; missing keys are blank) in the given encoding."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if row.get(h) is None else str(row.get(h)) for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def rakuten_pay_row(order: str, item: int, *, status: str = "500", when: str = "2024-01-05 13:05:00",
                    price: object = 1980, qty: object = 1, points: object = 0, shop_coupon: object = 0,
                    mall_coupon: object = 0, shipping: object = 0, name: tuple[str, str] = ("山田", "太郎"),
                    phone: tuple[str, str, str] = ("090", "1234", "5678"), zip_: tuple[str, str] = ("150", "0001"),
                    sku: str | None = None, **extra: object) -> dict[str, object]:
    row = {
        "注文番号": order, "ステータス": status, "注文日時": when, "注文日": when[:10], "注文時間": when[11:],
        "ポイント利用額": points, "店舗発行クーポン利用額": shop_coupon, "楽天発行クーポン利用額": mall_coupon,
        "クーポン利用総額": _sum(shop_coupon, mall_coupon), "送料合計": shipping,
        "注文者郵便番号1": zip_[0], "注文者郵便番号2": zip_[1], "注文者住所都道府県": "東京都",
        "注文者住所郡市区": "渋谷区", "注文者住所それ以降の住所": "神宮前1-1-1", "注文者姓": name[0], "注文者名": name[1],
        "注文者電話番号1": phone[0], "注文者電話番号2": phone[1], "注文者電話番号3": phone[2],
        "注文者メールアドレス": f"{abs(hash(order)) % 10**8}@pc.fw.rakuten.ne.jp",
        "商品明細ID": f"{order}-{item}", "商品ID": f"10000{item}", "商品名": f"テスト商品{item}号①",
        "商品番号": f"item-{item}", "商品管理番号": sku if sku is not None else f"sku-{item}", "単価": price,
        "個数": qty, "ポイント倍率": 1, "利用端末": "スマートフォン",
    }
    row.update(extra)
    return row


def rakuten_legacy_row(order: str, item: int, *, status: str = "発送済", date: str = "2018/3/5", time: str = "9:05:00",
                       price: object = 1000, qty: object = 1, points: object = 0, shipping: object = "-99999",
                       **extra: object) -> dict[str, object]:
    row = {
        "受注番号": order, "受注ステータス": status, "注文日時": f"{date} {time}", "注文日": date, "注文時間": time,
        "ポイント利用額": points, "送料(-99999=無効値)": shipping, "注文者郵便番号１": "530", "注文者郵便番号２": "0001",
        "注文者住所：都道府県": "大阪府", "注文者住所：都市区": "大阪市北区", "注文者住所：町以降": "梅田1-1",
        "注文者名字": "佐藤", "注文者名前": "花子", "注文者電話番号１": "06", "注文者電話番号２": "1234",
        "注文者電話番号３": "5678", "メールアドレス": "masked@pc.fw.rakuten.ne.jp", "商品ID": f"{item}",
        "商品名": f"旧商品{item}", "商品番号": f"old-{item}", "単価": price, "個数": qty, "ポイント倍率": 2,
    }
    row.update(extra)
    return row


def _sum(*values: object) -> object:
    try:
        return sum(int(v) for v in values)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
