"""Fake, stable and unique contact data for synthetic customers (names, kana, phone, zip, address, e-mail).

Each customer's phone number is a bijection of the customer number, so name + phone + zip is unique per customer
and the importers' contact-data keys map one-to-one onto synthetic customers. Only CP932-safe characters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_SURNAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"),
    ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"), ("石井", "イシイ"), ("小川", "オガワ"),
]
_GIVEN = [
    ("陽子", "ヨウコ"), ("恵子", "ケイコ"), ("美穂", "ミホ"), ("直美", "ナオミ"), ("真由美", "マユミ"),
    ("さくら", "サクラ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("美咲", "ミサキ"), ("愛", "アイ"),
    ("裕子", "ユウコ"), ("明美", "アケミ"), ("優子", "ユウコ"), ("千尋", "チヒロ"), ("彩", "アヤ"),
    ("健太", "ケンタ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("誠", "マコト"), ("隆", "タカシ"),
    ("浩二", "コウジ"), ("拓也", "タクヤ"), ("直樹", "ナオキ"), ("和也", "カズヤ"), ("亮", "リョウ"),
]
# prefecture, zip prefix (first 3 digits), city
_PLACES = [
    ("東京都", "150", "渋谷区"), ("東京都", "160", "新宿区"), ("東京都", "170", "豊島区"), ("東京都", "180", "武蔵野市"),
    ("神奈川県", "220", "横浜市西区"), ("神奈川県", "210", "川崎市川崎区"), ("埼玉県", "330", "さいたま市大宮区"),
    ("千葉県", "260", "千葉市中央区"), ("大阪府", "530", "大阪市北区"), ("大阪府", "590", "堺市堺区"),
    ("京都府", "600", "京都市下京区"), ("兵庫県", "650", "神戸市中央区"), ("愛知県", "460", "名古屋市中区"),
    ("福岡県", "810", "福岡市中央区"), ("北海道", "060", "札幌市中央区"), ("宮城県", "980", "仙台市青葉区"),
    ("広島県", "730", "広島市中区"), ("静岡県", "420", "静岡市葵区"), ("新潟県", "950", "新潟市中央区"),
    ("沖縄県", "900", "那覇市"),
]


def _pick(values: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(idx % len(values)))


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values).cast(pa.string()), width, "0")


def make_contacts(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Contact data for customers ``0 .. n-1`` (one row each, in customer order; Arrow-backed strings)."""
    if n > 30_000_000:
        raise ValueError("at most 30 million synthetic customers have unique phone numbers")
    i = np.arange(n, dtype=np.int64)
    sur = rng.integers(0, len(_SURNAMES), n)
    giv = rng.integers(0, len(_GIVEN), n)
    place = rng.integers(0, len(_PLACES), n)
    offset = int(rng.integers(0, 10**8))
    # a bijection of 0..10^8-1 (multiplier coprime to 10): every customer gets a different number
    sub = _digits((i * 48_271 + offset) % 10**8, 8)
    prefix = _pick(["090", "080", "070"], i)
    phone = pc.binary_join_element_wise(prefix, pc.utf8_slice_codeunits(sub, 0, 4),
                                        pc.utf8_slice_codeunits(sub, 4, 8), "-")
    zip_code = pc.binary_join_element_wise(_pick([p[1] for p in _PLACES], place),
                                           _digits(rng.integers(0, 10_000, n), 4), "-")
    street = pc.binary_join_element_wise(pa.array(rng.integers(1, 6, n)).cast(pa.string()),
                                         pa.array(rng.integers(1, 30, n)).cast(pa.string()),
                                         pa.array(rng.integers(1, 20, n)).cast(pa.string()), "-")
    mail = pc.binary_join_element_wise("u", _digits((i * 2_654_435_761 + offset) % 10**10, 10), "@fw.example.jp", "")
    cols = {
        "last_name": _pick([s[0] for s in _SURNAMES], sur),
        "first_name": _pick([g[0] for g in _GIVEN], giv),
        "last_name_kana": _pick([s[1] for s in _SURNAMES], sur),
        "first_name_kana": _pick([g[1] for g in _GIVEN], giv),
        "phone": phone,
        "zip": zip_code,
        "prefecture": _pick([p[0] for p in _PLACES], place),
        "city": _pick([p[2] for p in _PLACES], place),
        "street": street,
        "email": mail,
    }
    return pd.DataFrame({k: v.to_pandas() for k, v in cols.items()})
