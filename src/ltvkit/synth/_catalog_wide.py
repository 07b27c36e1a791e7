"""The wide catalogue: 358 SKUs of a Japanese cosmetics, health-food and daily-goods shop.

Built from product lines, not listed SKU by SKU: a line (say うるおい化粧水) has variants (しっとり / さっぱり,
scents, flavours, colours) and sizes (本体, 詰め替え, お徳用), and every variant × size is a SKU. A line may
have a trial size per variant whose upgrade target is the variant's standard size. The construction is fixed
(no dependence on the shop's seed): the same catalogue every time.

* **Prices** are the line's price × the size's price factor, rounded to shop prices (…80 yen above ¥1,000);
  unit costs are the line's cost ratio (cosmetics ~25 %, foods ~45 %) with a small fixed jitter.
* **Cycles**: consumables have a replenishment cycle (line cycle × the size's cycle factor: a 300 ml bottle
  lasts twice a 150 ml one); durables (shakers, towels, brushes, lipsticks) and gifts have none.
* **Popularity** is Zipf-like: line weight × 1/k for the k-th variant × the size's share × a fixed
  log-normal jitter ranks the SKUs, and the SKU of rank r gets popularity ∝ 1/(r + 2): the ten best-sellers
  carry about a third of the demand, half the SKUs share about a seventh.
* **Cross-sell** pairs (:func:`wide_affinity_frame`) follow regimens and needs: 洗顔 → 化粧水 → 乳液 → 美容液 → クリーム
  within a skincare series (same variant), シャンプー → コンディショナー, 本体 → 詰め替え of the same variant,
  and across categories (化粧水 → コットン, coffee beans → filters, protein → shaker, 洗剤 → 柔軟剤 of the same
  scent, 味噌 ↔ だし, …).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["build_wide_affinity", "build_wide_catalog", "wide_affinity_frame"]

# A size: code (suffix of the SKU, "" = the standard size), label, price factor, cycle factor, popularity share.
Size = tuple[str, str, float, float, float]
Variant = tuple[str, str]  # code, label

REPEAT_SHARE = 0.2
"""Chance that an order's main item is the previous order's consumable again (besides rhythm buyers)."""
CROSS_SELL_SHARE = 0.3
"""Chance that the next item follows a declared cross-sell pair of the previous item (when it has pairs)."""
CATEGORY_SHARE = 0.5
"""Of the next items drawn by popularity, this share is drawn among the items of the previous item's category."""
ZIPF_EXPONENT = 1.0
ZIPF_OFFSET = 2.0
"""Popularity of the SKU of popularity rank r is proportional to 1 / (r + ZIPF_OFFSET) ** ZIPF_EXPONENT."""
TRIAL_POPULARITY = 0.1
"""Trial sizes are entry offers: as a follow-up item their popularity counts this much (as in the demo)."""


@dataclass(frozen=True)
class _Line:
    code: str
    name: str
    category: str
    price: int  # standard size
    cost_ratio: float
    cycle: int  # days the standard size lasts; 0 = durable
    weight: float  # popularity of the line
    variants: tuple[Variant, ...] = (("", ""),)
    sizes: tuple[Size, ...] = (("", "", 1.0, 1.0, 1.0),)
    trial: tuple[str, int] | None = None  # label and price of a trial size (one per variant)
    subscribable: bool = False


def _bottle(main: str, refill: str, big: str | None = None, *, big_price: float = 1.8,
            big_cycle: float = 2.0) -> tuple[Size, ...]:
    sizes: list[Size] = [("", main, 1.0, 1.0, 1.0), ("RF", f"詰め替え {refill}", 0.8, 1.0, 0.8)]
    if big:
        sizes.append(("XL", big, big_price, big_cycle, 0.3))
    return tuple(sizes)


def _two(std: tuple[str, str], big: tuple[str, str], price: float, cycle: float, share: float = 0.35
         ) -> tuple[Size, ...]:
    return ((std[0], std[1], 1.0, 1.0, 1.0), (big[0], big[1], price, cycle, share))


_SKIN_SERIES = (("MO", "うるおい", 1.0, 3.0), ("BR", "薬用ホワイト", 1.3, 2.0), ("AG", "ハリ肌", 1.6, 1.2))
_MOIST = (("M", "しっとり"), ("R", "さっぱり"))
_HAIR = (("M", "しっとり"), ("S", "さらさら"), ("D", "ダメージケア"))
_SCENTS3 = (("FL", "フローラル"), ("SP", "ソープ"), ("UN", "無香料"))


def _lines() -> list[_Line]:
    L: list[_Line] = []
    S, H, B, M = "スキンケア", "ヘアケア", "ボディケア", "メイク"
    for code, name, pf, w in _SKIN_SERIES:
        L += [
            _Line(f"{code}-CLN", f"{name}洗顔フォーム", S, int(1650 * pf), 0.25, 45, w * 1.0,
                  sizes=(("", "120g", 1.0, 1.0, 1.0), ("W", "2本セット", 1.9, 2.0, 0.25))),
            _Line(f"{code}-CLO", f"{name}クレンジング", S, int(1980 * pf), 0.25, 45, w * 0.8,
                  variants=(("OIL", "オイル"), ("GEL", "ジェル")), sizes=_bottle("150ml", "130ml")),
            _Line(f"{code}-LOT", f"{name}化粧水", S, int(3300 * pf), 0.27, 30, w * 3.0, variants=_MOIST,
                  sizes=_bottle("150ml", "140ml", "お徳用 300ml"), trial=("お試し 30ml", 980), subscribable=True),
            _Line(f"{code}-EMU", f"{name}乳液", S, int(3080 * pf), 0.27, 45, w * 1.8, variants=_MOIST,
                  sizes=_bottle("100ml", "90ml"), trial=("お試し 20ml", 880), subscribable=True),
            _Line(f"{code}-SER", f"{name}美容液", S, int(4950 * pf), 0.26, 60, w * 1.3,
                  sizes=_two(("", "30ml"), ("L", "50ml"), 1.55, 1.67), trial=("お試し 7ml", 1100),
                  subscribable=True),
            _Line(f"{code}-CRM", f"{name}クリーム", S, int(3850 * pf), 0.26, 60, w * 0.8, sizes=(("", "40g", 1, 1, 1),)),
            _Line(f"{code}-MSK", f"{name}シートマスク", S, int(1320 * pf), 0.29, 30, w * 0.8,
                  sizes=_two(("7", "7枚入"), ("30", "30枚入"), 3.6, 4.3, 0.4)),
        ]
    L += [
        _Line("UV", "日焼け止め", S, 2200, 0.27, 60, 2.0,
              variants=(("GEL", "ジェル SPF50"), ("MLK", "ミルク SPF50"), ("LT", "ライト SPF30")),
              sizes=(("", "50g", 1, 1, 1),)),
    ]
    for code, name, w in (("AM", "アミノ", 2.0), ("BT", "ボタニカル", 1.4)):
        hair = _bottle("本体 480ml", "400ml", "詰め替え 1000ml", big_price=1.6, big_cycle=2.1)
        L += [
            _Line(f"HR{code}-SHP", f"{name}シャンプー", H, 1760, 0.24, 45, w * 1.5, variants=_HAIR, sizes=hair,
                  trial=("お試し 3回分", 330), subscribable=code == "AM"),
            _Line(f"HR{code}-CND", f"{name}コンディショナー", H, 1760, 0.24, 45, w * 1.1, variants=_HAIR,
                  sizes=hair),
            _Line(f"HR{code}-TRT", f"{name}ヘアトリートメント", H, 2420, 0.25, 45, w * 0.6,
                  sizes=(("", "200g", 1, 1, 1),)),
        ]
    L += [
        _Line("HR-OIL", "ヘアオイル", H, 2860, 0.25, 90, 0.8, variants=(("RS", "ローズ"), ("UN", "無香料")),
              sizes=(("", "100ml", 1, 1, 1),)),
        _Line("BD-SOP", "ボディソープ", B, 1320, 0.3, 30, 1.5,
              variants=(("FL", "フローラル"), ("CT", "シトラス"), ("UN", "無香料")),
              sizes=_bottle("本体 480ml", "400ml", "詰め替え 1000ml", big_price=1.7, big_cycle=2.1)),
        _Line("BD-HND", "ハンドクリーム", B, 1100, 0.3, 45, 1.0,
              variants=(("RS", "ローズ"), ("YZ", "ゆず"), ("SK", "さくら"), ("UN", "無香料")),
              sizes=(("", "50g", 1, 1, 1),)),
        _Line("BD-MLK", "ボディミルク", B, 1980, 0.28, 45, 0.7, variants=(("FL", "フローラル"), ("UN", "無香料")),
              sizes=(("", "200ml", 1, 1, 1),)),
        _Line("BD-BTH", "薬用入浴剤", B, 1650, 0.32, 30, 0.9,
              variants=(("YZ", "ゆず"), ("HN", "ひのき"), ("LV", "ラベンダー"), ("ON", "温泉の素")),
              sizes=(("", "30回分", 1, 1, 1),)),
        _Line("BD-LIP", "リップバーム", B, 880, 0.3, 60, 0.6, variants=(("HN", "はちみつ"), ("UN", "無香料")),
              sizes=(("", "10g", 1, 1, 1),)),
        _Line("MK-FND", "ミネラルファンデーション", M, 3520, 0.25, 90, 1.0,
              variants=(("OC1", "オークル10"), ("OC2", "オークル20"), ("PO", "ピンクオークル"), ("NA", "ナチュラル")),
              sizes=(("", "8g", 1, 1, 1),)),
        _Line("MK-BSE", "化粧下地", M, 2750, 0.25, 90, 0.7, variants=(("TU", "トーンアップ"), ("PC", "毛穴カバー")),
              sizes=(("", "30g", 1, 1, 1),)),
        _Line("MK-LIP", "ルージュ", M, 2200, 0.22, 0, 0.8,
              variants=tuple((f"{i:02d}", c) for i, c in enumerate(
                  ("ローズ", "コーラル", "ベージュ", "レッド", "ブラウン", "ピンク"), start=1))),
        _Line("MK-PUF", "メイクパフ 2個入", M, 550, 0.3, 0, 0.5),
        _Line("MK-BRS", "メイクブラシ", M, 2980, 0.3, 0, 0.3),
    ]
    supp = [  # code, name, price, weight, trial price (0 = none)
        ("COL", "コラーゲン", 3980, 3.0, 500), ("LAC", "乳酸菌", 2980, 2.5, 500), ("VIT", "マルチビタミン", 1980, 2.0, 0),
        ("IRN", "鉄分", 1480, 1.0, 0), ("VC", "ビタミンC", 1280, 1.0, 0), ("VD", "ビタミンD", 1280, 0.8, 0),
        ("DHA", "DHA EPA", 2480, 1.2, 500), ("ZN", "亜鉛", 980, 0.6, 0), ("FOL", "葉酸", 1780, 0.6, 0),
        ("LUT", "ルテイン", 2680, 0.7, 0), ("GLU", "グルコサミン", 2980, 0.9, 500), ("KRZ", "黒酢", 2480, 0.6, 0),
        ("ENZ", "酵素", 3280, 0.8, 500), ("PLC", "プラセンタ", 4980, 0.7, 0), ("HYA", "ヒアルロン酸", 2980, 0.7, 0),
    ]
    for code, name, price, w, trial in supp:
        L.append(_Line(f"SP-{code}", f"{name}サプリ", "サプリメント", price, 0.25, 30, w,
                       sizes=_two(("30", "30日分"), ("90", "90日分 お徳用"), 2.7, 3.0),
                       trial=("お試し 7日分", trial) if trial else None, subscribable=True))
    F, D, G, K, X = "健康食品", "飲料", "食品", "日用品", "キッチン雑貨"
    L += [
        _Line("HF-AOJ", "国産青汁", F, 3240, 0.35, 30, 2.0,
              variants=(("MC", "抹茶風味"), ("OM", "大麦若葉"), ("KL", "ケール")),
              sizes=_two(("30", "30包"), ("90", "90包 お徳用"), 2.6, 3.0, 0.3), trial=("お試し 7包", 500),
              subscribable=True),
        _Line("HF-PRS", "ソイプロテイン", F, 4280, 0.38, 30, 2.2,
              variants=(("CO", "ココア味"), ("VA", "バニラ味"), ("MT", "抹茶味"), ("ST", "ストロベリー味")),
              sizes=_two(("1K", "1kg"), ("3K", "3kg"), 2.6, 3.0, 0.25), trial=("お試し 3食", 600),
              subscribable=True),
        _Line("HF-PRW", "ホエイプロテイン", F, 4680, 0.4, 30, 1.5,
              variants=(("CO", "ココア味"), ("VA", "バニラ味"), ("PL", "プレーン")),
              sizes=_two(("1K", "1kg"), ("3K", "3kg"), 2.6, 3.0, 0.25), subscribable=True),
        _Line("HF-SMO", "グリーンスムージー 30食", F, 3480, 0.38, 30, 0.8,
              variants=(("MG", "マンゴー"), ("BR", "ベリー"), ("BN", "バナナ"))),
        _Line("HF-AMZ", "米麹甘酒", F, 1980, 0.45, 14, 0.8, sizes=_two(("6", "6本入"), ("24", "24本入"), 3.5, 4.0, 0.3)),
        _Line("HF-BAR", "プロテインバー 12本入", F, 2160, 0.45, 21, 0.9,
              variants=(("CH", "チョコ"), ("BR", "ベリー"))),
        _Line("DR-BNS", "有機コーヒー豆", D, 1280, 0.42, 14, 2.5,
              variants=(("BL", "ブレンド"), ("ET", "エチオピア"), ("CO", "コロンビア"), ("BR", "ブラジル"), ("DC", "デカフェ")),
              sizes=_two(("200", "200g"), ("500", "500g"), 2.2, 2.5, 0.5), subscribable=True),
        _Line("DR-DRP", "ドリップバッグコーヒー", D, 1080, 0.42, 10, 1.6,
              variants=(("BL", "ブレンド"), ("MD", "マイルド"), ("DC", "デカフェ")),
              sizes=_two(("10", "10袋"), ("30", "30袋"), 2.6, 3.0, 0.5), subscribable=True),
        _Line("DR-TEA", "国産茶ティーバッグ", D, 1080, 0.38, 30, 1.4,
              variants=(("HJ", "ほうじ茶"), ("SN", "煎茶"), ("GM", "玄米茶"), ("MG", "麦茶")),
              sizes=_two(("30", "30包"), ("100", "100包"), 2.8, 3.3, 0.3)),
        _Line("DR-BTE", "紅茶ティーバッグ 50包", D, 1480, 0.38, 45, 0.9,
              variants=(("DJ", "ダージリン"), ("AS", "アッサム"), ("EG", "アールグレイ"))),
        _Line("DR-ROI", "ルイボスティー", D, 1280, 0.38, 30, 0.7, sizes=_two(("30", "30包"), ("90", "90包"), 2.5, 3.0)),
        _Line("FD-GRA", "グラノーラ", G, 980, 0.42, 14, 1.6,
              variants=(("PL", "プレーン"), ("FR", "フルーツ"), ("CH", "チョコ"), ("MA", "抹茶")),
              sizes=_two(("500", "500g"), ("1K", "1kg"), 1.8, 2.0, 0.5)),
        _Line("FD-OAT", "オートミール", G, 880, 0.45, 30, 0.9, sizes=_two(("800", "800g"), ("2K", "2kg"), 2.2, 2.5)),
        _Line("FD-MIS", "無添加味噌 1kg", G, 1620, 0.4, 45, 1.2,
              variants=(("KM", "米味噌"), ("MG", "麦味噌"), ("AW", "合わせ味噌"))),
        _Line("FD-DSH", "無添加だしパック", G, 1480, 0.42, 30, 1.2,
              variants=(("KB", "かつお昆布"), ("AG", "あご"), ("VG", "野菜")),
              sizes=_two(("30", "30包"), ("50", "50包"), 1.55, 1.67, 0.4)),
        _Line("FD-SOY", "丸大豆醤油 1L", G, 980, 0.45, 60, 0.6),
        _Line("FD-HNY", "国産はちみつ", G, 1680, 0.45, 60, 0.8,
              variants=(("RG", "れんげ"), ("AC", "アカシア"), ("HY", "百花")),
              sizes=_two(("300", "300g"), ("1K", "1kg"), 2.8, 3.3, 0.25)),
        _Line("FD-NUT", "素焼きミックスナッツ", G, 1580, 0.45, 21, 1.0,
              sizes=_two(("500", "500g"), ("1K", "1kg"), 1.8, 2.0, 0.5)),
        _Line("FD-DRF", "ドライフルーツ 200g", G, 980, 0.45, 30, 0.6,
              variants=(("MG", "マンゴー"), ("FG", "いちじく"), ("BR", "ベリーミックス"))),
        _Line("FD-RIC", "特別栽培米", G, 1680, 0.55, 14, 1.0, variants=(("KS", "コシヒカリ"), ("YU", "ゆめぴりか")),
              sizes=_two(("2K", "2kg"), ("5K", "5kg"), 2.3, 2.5, 0.6)),
        _Line("DG-DET", "植物性洗濯洗剤", K, 980, 0.34, 30, 1.8, variants=_SCENTS3,
              sizes=_bottle("本体 850g", "720g", "詰め替え 1.4kg", big_price=1.6, big_cycle=1.9), subscribable=True),
        _Line("DG-SOF", "柔軟剤", K, 880, 0.34, 30, 1.2, variants=_SCENTS3,
              sizes=_bottle("本体 600ml", "500ml", "詰め替え 1.2L", big_price=1.7, big_cycle=2.0)),
        _Line("DG-DSH", "食器用洗剤", K, 550, 0.34, 30, 0.9, variants=(("CT", "シトラス"), ("UN", "無香料")),
              sizes=_bottle("本体 300ml", "250ml")),
        _Line("DG-HSP", "泡ハンドソープ", K, 660, 0.34, 45, 0.9,
              variants=(("CT", "シトラス"), ("UN", "無香料"), ("KD", "キッズ")), sizes=_bottle("本体 250ml", "200ml")),
        _Line("DG-TPS", "歯磨き粉 100g", K, 880, 0.3, 45, 1.0,
              variants=(("WH", "ホワイトニング"), ("SN", "知覚過敏ケア"), ("HB", "ハーブ"))),
        _Line("DG-TBR", "歯ブラシ 3本組", K, 660, 0.32, 90, 0.6, variants=(("F", "ふつう"), ("S", "やわらかめ"))),
        _Line("DG-CTN", "化粧用コットン", K, 550, 0.33, 30, 1.0,
              sizes=_two(("80", "80枚"), ("200", "200枚"), 2.1, 2.5, 0.6)),
        _Line("DG-FLT", "コーヒーフィルター", K, 440, 0.34, 60, 0.8,
              sizes=_two(("100", "100枚"), ("300", "300枚"), 2.6, 3.0, 0.3)),
        _Line("GD-SHK", "プロテインシェイカー", X, 880, 0.34, 0, 0.8,
              variants=(("BK", "ブラック"), ("WH", "ホワイト"), ("PK", "ピンク"))),
        _Line("GD-DRP", "陶器ドリッパー", X, 2200, 0.4, 0, 0.4, variants=(("WH", "ホワイト"), ("NV", "ネイビー"))),
        _Line("GD-MIL", "手挽きコーヒーミル", X, 4950, 0.45, 0, 0.3),
        _Line("GD-TMB", "真空断熱タンブラー", X, 2750, 0.4, 0, 0.5,
              variants=(("SV", "シルバー"), ("BK", "ブラック"), ("WH", "ホワイト"))),
        _Line("GD-POT", "常滑焼 急須", X, 3850, 0.45, 0, 0.3),
        _Line("GD-FTW", "今治フェイスタオル 2枚組", X, 2640, 0.42, 0, 0.6, variants=(("WH", "ホワイト"), ("GY", "グレー"))),
        _Line("GD-BTW", "今治バスタオル", X, 3300, 0.42, 0, 0.4, variants=(("WH", "ホワイト"), ("GY", "グレー"))),
        _Line("GD-BRS", "天然毛ヘアブラシ", X, 3520, 0.4, 0, 0.3),
        _Line("GD-ROL", "美顔ローラー", X, 4400, 0.35, 0, 0.3),
        _Line("GF-SKN", "スキンケア3点ギフトセット", "ギフト", 8800, 0.34, 0, 0.5,
              variants=(("MO", "うるおい"), ("BR", "薬用ホワイト"), ("AG", "ハリ肌"))),
        _Line("GF-COF", "コーヒーギフト", "ギフト", 4320, 0.45, 0, 0.4, variants=(("BN", "豆"), ("DB", "ドリップバッグ"))),
        _Line("GF-TEA", "日本茶ギフト", "ギフト", 3780, 0.45, 0, 0.3),
        _Line("GF-SEA", "季節の詰め合わせギフト", "ギフト", 5400, 0.48, 0, 0.5, variants=(("SU", "夏"), ("WI", "冬"))),
        _Line("GF-TWL", "今治タオルギフト", "ギフト", 5500, 0.42, 0, 0.3),
        _Line("GF-HNY", "はちみつギフト", "ギフト", 4860, 0.45, 0, 0.2),
    ]
    return L


# Cross-sell rules between lines (from, to, weight): every SKU of `from` points at the standard size of `to`
# in the same variant when `to` has it, else at its first (best-selling) variant. "{s}" is each skincare series.
_REGIMEN = [
    ("{s}-CLO", "{s}-CLN", 3.0), ("{s}-CLN", "{s}-LOT", 3.0), ("{s}-LOT", "{s}-EMU", 6.0),
    ("{s}-EMU", "{s}-LOT", 4.0), ("{s}-LOT", "{s}-SER", 2.5), ("{s}-EMU", "{s}-SER", 2.5),
    ("{s}-SER", "{s}-CRM", 2.0), ("{s}-CRM", "{s}-SER", 1.5), ("{s}-SER", "{s}-LOT", 2.0),
    ("{s}-MSK", "{s}-SER", 1.5), ("{s}-LOT", "{s}-MSK", 1.0), ("{s}-LOT", "DG-CTN", 3.0),
    ("{s}-CLO", "UV", 1.0),
]
_HAIR_RULES = [("HR{h}-SHP", "HR{h}-CND", 6.0), ("HR{h}-CND", "HR{h}-SHP", 5.0), ("HR{h}-CND", "HR{h}-TRT", 2.0),
               ("HR{h}-TRT", "HR{h}-CND", 1.5), ("HR{h}-SHP", "HR-OIL", 1.0)]
_CROSS = [
    ("UV", "MO-CLO", 2.0), ("BD-SOP", "BD-MLK", 2.0), ("BD-BTH", "BD-MLK", 1.5), ("BD-MLK", "BD-HND", 1.5),
    ("BD-HND", "BD-LIP", 1.0), ("MK-FND", "MK-BSE", 3.0), ("MK-BSE", "MK-FND", 2.0), ("MK-FND", "MK-PUF", 2.0),
    ("MK-LIP", "MK-BRS", 0.5),
    ("SP-COL", "SP-HYA", 2.0), ("SP-COL", "MO-SER", 2.0), ("SP-LAC", "SP-VIT", 3.0), ("SP-VIT", "SP-IRN", 2.0),
    ("SP-IRN", "SP-VIT", 2.0), ("SP-VIT", "SP-VC", 1.5), ("SP-DHA", "SP-GLU", 1.5), ("SP-GLU", "SP-DHA", 1.0),
    ("SP-FOL", "SP-IRN", 2.5), ("SP-PLC", "SP-COL", 2.0), ("SP-ENZ", "HF-AOJ", 2.0), ("SP-VD", "SP-VIT", 1.0),
    ("SP-HYA", "SP-COL", 1.5), ("SP-ZN", "SP-VIT", 1.0), ("SP-LUT", "SP-DHA", 1.0), ("SP-KRZ", "SP-ENZ", 1.0),
    ("HF-AOJ", "GD-SHK", 2.0), ("HF-PRS", "GD-SHK", 5.0), ("HF-PRW", "GD-SHK", 5.0), ("HF-PRS", "HF-BAR", 2.0),
    ("HF-PRW", "HF-BAR", 2.0), ("HF-PRS", "FD-GRA", 2.0), ("HF-SMO", "GD-SHK", 2.0), ("HF-BAR", "HF-PRW", 1.5),
    ("HF-AMZ", "FD-GRA", 1.0),
    ("DR-BNS", "DG-FLT", 6.0), ("DR-BNS", "GD-DRP", 2.0), ("DR-BNS", "GD-MIL", 1.5), ("DR-DRP", "GD-TMB", 1.5),
    ("DR-TEA", "GD-POT", 1.5), ("DR-BTE", "FD-HNY", 2.0), ("DR-ROI", "DR-BTE", 1.0), ("DR-DRP", "DR-BNS", 1.0),
    ("FD-GRA", "FD-NUT", 2.0), ("FD-GRA", "FD-DRF", 2.0), ("FD-OAT", "FD-NUT", 1.5), ("FD-MIS", "FD-DSH", 4.0),
    ("FD-DSH", "FD-MIS", 3.0), ("FD-SOY", "FD-DSH", 2.0), ("FD-RIC", "FD-MIS", 2.0), ("FD-HNY", "DR-BTE", 1.5),
    ("FD-NUT", "FD-DRF", 1.0),
    ("DG-DET", "DG-SOF", 6.0), ("DG-SOF", "DG-DET", 4.0), ("DG-DSH", "DG-HSP", 1.5), ("DG-HSP", "DG-DSH", 1.5),
    ("DG-TPS", "DG-TBR", 4.0), ("DG-TBR", "DG-TPS", 2.0), ("DG-CTN", "MO-LOT", 1.0), ("DG-FLT", "DR-BNS", 1.5),
    ("GD-FTW", "GD-BTW", 1.5), ("GD-BTW", "GD-FTW", 1.5), ("GD-MIL", "DR-BNS", 2.0), ("GD-DRP", "DG-FLT", 2.0),
    ("GF-SEA", "GF-TWL", 1.5), ("GF-TWL", "GF-SEA", 1.5), ("GF-COF", "GF-TEA", 1.5), ("GF-TEA", "GF-COF", 1.0),
    ("GF-HNY", "FD-HNY", 1.5),
]
REFILL_WEIGHT = 4.0
"""Weight of the pair 本体 / お徳用 -> 詰め替え of the same variant."""
TRIAL_RULE_FACTOR = 0.5
"""A trial size carries its line's cross-sell rules at this fraction of the weight."""


def _nice_price(x: float) -> int:
    """A shop price for a derived size: tens of yen below ¥1,000, else ending in 80 (¥2,980)."""
    if x < 1000:
        return int(round(x / 10.0) * 10)
    return int(round(x / 100.0) * 100 - 20)


def build_wide_catalog() -> pd.DataFrame:
    """The wide catalogue (same columns as the demo catalogue plus ``product_line``, ``variant``, ``size``)."""
    rng = np.random.default_rng(20230401)  # fixed: the catalogue does not depend on the shop's seed
    rows = []
    for line in _lines():
        for vi, (vcode, vlabel) in enumerate(line.variants):
            zipf = 1.0 / (vi + 1.0)
            base = f"{line.code}-{vcode}" if vcode else line.code
            std_sku = f"{base}-{line.sizes[0][0]}" if line.sizes[0][0] else base
            for scode, slabel, pf, cf, share in line.sizes:
                sku = f"{base}-{scode}" if scode else base
                price = line.price if pf == 1.0 else _nice_price(line.price * pf)
                rows.append((sku, " ".join(x for x in (line.name, vlabel, slabel) if x), line.category, price,
                             line.cost_ratio, int(round(line.cycle * cf)), "full", "", line.subscribable,
                             line.weight * zipf * share, line.code, vlabel, slabel))
            if line.trial:
                tlabel, tprice = line.trial
                rows.append((f"{base}-TR", " ".join(x for x in (line.name, vlabel, tlabel) if x), line.category,
                             tprice, 0.45, 0, "trial", std_sku, False, line.weight * zipf * 0.5, line.code, vlabel,
                             tlabel))
    df = pd.DataFrame(rows, columns=["sku", "product_name", "category", "price", "cost_ratio", "cycle_days", "role",
                                     "upgrade_to", "subscribable", "popularity", "product_line", "variant", "size"])
    # Zipf: the line x variant x size structure (with a little jitter) orders the SKUs, rank r sells ~ 1/(r + 2)
    score = df["popularity"].to_numpy() * rng.lognormal(0.0, 0.25, len(df))
    rank = np.empty(len(df), dtype=np.int64)
    rank[np.argsort(-score, kind="stable")] = np.arange(1, len(df) + 1)
    df["popularity"] = np.round(100.0 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT, 3)
    cost = df["price"] * df.pop("cost_ratio") * rng.uniform(0.9, 1.1, len(df))
    df.insert(4, "unit_cost", (np.round(cost / 10.0) * 10).astype("int64"))
    df["price"] = df["price"].astype("int64")
    df["cycle_days"] = df["cycle_days"].astype("int64")
    df.insert(0, "item_index", np.arange(len(df)))
    df["subscription_price"] = (df["price"] * 0.9).round(-1).astype("int64")
    return df


def wide_affinity_frame(catalog: pd.DataFrame) -> pd.DataFrame:
    """The declared cross-sell pairs of the wide catalogue: ``sku``, ``next_sku``, ``weight``."""
    rows = list(zip(catalog["sku"], catalog["product_line"], catalog["variant"], catalog["role"], strict=True))
    by_line: dict[str, list[tuple[str, str, str]]] = {}
    std: dict[tuple[str, str], str] = {}  # (line, variant) -> standard size (the first size listed)
    first: dict[str, str] = {}  # line -> standard size of its first (best-selling) variant
    for sku, line, variant, role in rows:
        by_line.setdefault(line, []).append((sku, variant, role))
        if role == "full":
            std.setdefault((line, variant), sku)
            first.setdefault(line, sku)

    def target(line: str, variant: str) -> str:
        return std.get((line, variant), first[line])

    rules = [(a.format(s=s), b.format(s=s), w) for s, *_ in _SKIN_SERIES for a, b, w in _REGIMEN]
    rules += [(a.format(h=h), b.format(h=h), w) for h in ("AM", "BT") for a, b, w in _HAIR_RULES]
    rules += _CROSS
    # a skincare gift set leads to its own series' lotion
    out = [(f"GF-SKN-{s}", first[f"{s}-LOT"], 2.0) for s, *_ in _SKIN_SERIES]
    for a, b, w in rules:
        for sku, variant, role in by_line[a]:
            t = target(b, variant)
            if t != sku:
                out.append((sku, t, w * (TRIAL_RULE_FACTOR if role == "trial" else 1.0)))
    # 本体 / お徳用 -> 詰め替え of the same variant
    refill = {(line, variant): sku for sku, line, variant, role in rows if sku.endswith("-RF")}
    for sku, line, variant, role in rows:
        r = refill.get((line, variant))
        if r is not None and role == "full" and sku != r:
            out.append((sku, r, REFILL_WEIGHT))
    df = pd.DataFrame(out, columns=["sku", "next_sku", "weight"])
    return df.groupby(["sku", "next_sku"], sort=False, as_index=False)["weight"].sum()


def build_wide_affinity(catalog: pd.DataFrame, pairs: pd.DataFrame, *, repeat_share: float = REPEAT_SHARE,
                        cross_share: float = CROSS_SELL_SHARE, category_share: float = CATEGORY_SHARE) -> np.ndarray:
    """Row-stochastic next-item matrix, in shares: from item i the next main item is

    * i again with probability ``repeat_share`` when i is a consumable (not a trial),
    * one of i's declared cross-sell partners with probability ``cross_share`` (split by the pair weights),
    * otherwise an item drawn by popularity (trial sizes at ``TRIAL_POPULARITY`` of theirs): with probability
      ``category_share`` among the items of i's category, else among all items.
    """
    n = len(catalog)
    pop = catalog["popularity"].to_numpy(float).copy()
    pop[catalog["role"].to_numpy() == "trial"] *= TRIAL_POPULARITY
    pos = pd.Index(catalog["sku"])
    cross = np.zeros((n, n))
    np.add.at(cross, (pos.get_indexer(pairs["sku"]), pos.get_indexer(pairs["next_sku"])), pairs["weight"].to_numpy(float))
    cs = cross.sum(axis=1)
    has = cs > 0
    cross[has] /= cs[has, None]
    consumable = (catalog["cycle_days"].to_numpy() > 0) & (catalog["role"].to_numpy() != "trial")
    same = np.where(consumable, repeat_share, 0.0)
    cr = np.where(has, cross_share, 0.0)
    cat = pd.factorize(catalog["category"])[0]
    in_cat = cat[:, None] == cat[None, :]
    pop_cat = in_cat * pop[None, :]
    pop_cat /= pop_cat.sum(axis=1, keepdims=True)
    pop_any = (1.0 - category_share) * (pop / pop.sum())[None, :] + category_share * pop_cat
    mat = (1.0 - same - cr)[:, None] * pop_any + cr[:, None] * cross
    mat[np.arange(n), np.arange(n)] += same
    return mat / mat.sum(axis=1, keepdims=True)
