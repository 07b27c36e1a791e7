"""The synthetic shop's catalogue: a Japanese cosmetics and health-food shop with consumables, trial sizes,
subscriptions and cross-sell pairs. Written out by hand so that the truth is readable."""

from __future__ import annotations

import numpy as np
import pandas as pd

# sku, name, category, price, cost, cycle_days (0 = not a consumable), role, upgrade_to, subscribable, popularity
_ITEMS: list[tuple[str, str, str, int, int, int, str, str, bool, float]] = [
    ("SK-LOT-150", "薬用保湿化粧水 150ml", "スキンケア", 3300, 900, 30, "full", "", True, 9.0),
    ("SK-LOT-TR", "薬用保湿化粧水 お試し 30ml", "スキンケア", 980, 420, 0, "trial", "SK-LOT-150", False, 5.0),
    ("SK-EMU-100", "しっとり乳液 100ml", "スキンケア", 3080, 850, 45, "full", "", True, 5.0),
    ("SK-SER-30", "美容液 ビタミンC 30ml", "スキンケア", 4950, 1300, 60, "full", "", True, 4.0),
    ("SK-SER-TR", "美容液 ビタミンC お試し 7ml", "スキンケア", 1100, 480, 0, "trial", "SK-SER-30", False, 3.0),
    ("SK-CLN-120", "泡洗顔フォーム 120g", "スキンケア", 1650, 420, 45, "full", "", False, 5.0),
    ("SK-UV-50", "日焼け止めジェル SPF50 50g", "スキンケア", 2200, 600, 60, "full", "", False, 3.0),
    ("SK-MSK-7", "シートマスク 7枚入", "スキンケア", 1320, 380, 0, "full", "", False, 3.0),
    ("SP-COL-30", "コラーゲンサプリ 30日分", "サプリメント", 3980, 1000, 30, "full", "", True, 7.0),
    ("SP-COL-TR", "コラーゲンサプリ お試し 7日分", "サプリメント", 500, 260, 0, "trial", "SP-COL-30", False, 5.0),
    ("SP-LAC-30", "乳酸菌サプリ 30日分", "サプリメント", 2980, 760, 30, "full", "", True, 6.0),
    ("SP-LAC-90", "乳酸菌サプリ 90日分 お徳用", "サプリメント", 7980, 2050, 90, "full", "", True, 3.0),
    ("SP-VIT-60", "マルチビタミン 60日分", "サプリメント", 2480, 620, 60, "full", "", True, 4.0),
    ("SP-IRN-30", "鉄分サプリ 30日分", "サプリメント", 1980, 500, 30, "full", "", False, 2.0),
    ("FD-PRO-1K", "ソイプロテイン ココア味 1kg", "食品", 4280, 1500, 30, "full", "", True, 6.0),
    ("FD-PRO-TR", "ソイプロテイン お試し 3食", "食品", 600, 300, 0, "trial", "FD-PRO-1K", False, 3.0),
    ("FD-COF-500", "有機コーヒー豆 500g", "食品", 2700, 1100, 30, "full", "", True, 6.0),
    ("FD-TEA-30", "国産ほうじ茶 ティーバッグ 30包", "食品", 1080, 380, 30, "full", "", False, 4.0),
    ("FD-GRA-1K", "グラノーラ 1kg", "食品", 1780, 700, 21, "full", "", False, 4.0),
    ("FD-MIS-1K", "無添加味噌 1kg", "食品", 1620, 620, 45, "full", "", False, 3.0),
    ("FD-GFT-BOX", "季節の詰め合わせギフト", "ギフト", 5400, 2600, 0, "full", "", False, 2.0),
    ("DG-FLT-100", "コーヒーフィルター 100枚", "日用品", 440, 150, 60, "full", "", False, 2.0),
    ("DG-SHK-1", "プロテインシェイカー", "日用品", 880, 300, 0, "full", "", False, 1.5),
    ("DG-CTN-200", "化粧用コットン 200枚", "日用品", 550, 180, 60, "full", "", False, 2.5),
    ("DG-DET-1L", "植物性洗濯洗剤 詰め替え 1L", "日用品", 980, 330, 30, "full", "", True, 4.0),
    ("DG-SOF-1L", "柔軟剤 詰め替え 1L", "日用品", 880, 300, 30, "full", "", False, 2.5),
    ("DG-TWL-2", "今治タオル 2枚組", "日用品", 2640, 1100, 0, "full", "", False, 1.5),
    ("GF-SET-A", "スキンケア3点ギフトセット", "ギフト", 8800, 3000, 0, "full", "", False, 1.5),
]

# (from, to, weight): buying `from` raises the chance that `to` is in the same or the next order.
_AFFINITY: list[tuple[str, str, float]] = [
    ("SK-LOT-150", "SK-EMU-100", 6.0), ("SK-LOT-150", "DG-CTN-200", 4.0), ("SK-LOT-150", "SK-SER-30", 3.0),
    ("SK-EMU-100", "SK-LOT-150", 5.0), ("SK-EMU-100", "SK-SER-30", 3.0),
    ("SK-SER-30", "SK-LOT-150", 3.0), ("SK-SER-30", "SK-UV-50", 2.0),
    ("SK-CLN-120", "SK-LOT-150", 3.0), ("SK-UV-50", "SK-CLN-120", 2.0), ("SK-MSK-7", "SK-SER-30", 2.0),
    ("SK-LOT-TR", "SK-EMU-100", 1.5), ("SK-SER-TR", "SK-LOT-150", 1.5),
    ("SP-COL-30", "SP-VIT-60", 3.0), ("SP-COL-30", "SK-SER-30", 2.0),
    ("SP-LAC-30", "SP-VIT-60", 3.0), ("SP-LAC-30", "SP-LAC-90", 2.5), ("SP-VIT-60", "SP-IRN-30", 3.0),
    ("SP-IRN-30", "SP-VIT-60", 2.0),
    ("FD-PRO-1K", "DG-SHK-1", 6.0), ("FD-PRO-1K", "FD-GRA-1K", 3.0), ("FD-PRO-TR", "DG-SHK-1", 3.0),
    ("FD-COF-500", "DG-FLT-100", 6.0), ("FD-COF-500", "FD-GRA-1K", 2.0), ("FD-TEA-30", "FD-MIS-1K", 2.0),
    ("FD-GRA-1K", "FD-PRO-1K", 2.0), ("DG-DET-1L", "DG-SOF-1L", 6.0), ("DG-SOF-1L", "DG-DET-1L", 4.0),
    ("FD-GFT-BOX", "GF-SET-A", 1.5), ("GF-SET-A", "DG-TWL-2", 1.5), ("DG-TWL-2", "FD-GFT-BOX", 1.5),
]

CHANNELS = ("mall_search", "mall_ads", "super_sale", "own_site", "line")
CHANNEL_COST_YEN = {"mall_search": 600, "mall_ads": 3200, "super_sale": 2400, "own_site": 4500, "line": 1200}
"""Acquisition cost per new customer by channel (search: share of RPP/SEO effort; ads: RPP/CPC; Super SALE:
coupon and ad spend; own site: web ads; LINE: friend-add campaigns)."""


def build_catalog() -> pd.DataFrame:
    """The catalogue as a DataFrame (one row per SKU, with ``item_index`` as the position used in arrays)."""
    cols = ["sku", "product_name", "category", "price", "unit_cost", "cycle_days", "role", "upgrade_to",
            "subscribable", "popularity"]
    df = pd.DataFrame(_ITEMS, columns=cols)
    df.insert(0, "item_index", np.arange(len(df)))
    df["subscription_price"] = (df["price"] * 0.9).round(-1).astype("int64")
    return df


def build_affinity(catalog: pd.DataFrame, *, same_item: float = 2.0, cross_strength: float = 1.0) -> np.ndarray:
    """Row-stochastic next-item matrix: popularity plus cross-sell boosts plus a pull back to the same item.

    Trial items are rarely bought as a follow-up (they are entry offers).
    """
    n = len(catalog)
    pop = catalog["popularity"].to_numpy(float).copy()
    pop[catalog["role"].to_numpy() == "trial"] *= 0.1
    mat = np.tile(pop, (n, 1))
    pos = {s: i for i, s in enumerate(catalog["sku"])}
    for a, b, w in _AFFINITY:
        mat[pos[a], pos[b]] += w * cross_strength * pop.mean()
    consumable = catalog["cycle_days"].to_numpy() > 0
    mat[np.arange(n), np.arange(n)] += np.where(consumable, same_item * pop.mean(), 0.0)
    return mat / mat.sum(axis=1, keepdims=True)


def affinity_frame(catalog: pd.DataFrame) -> pd.DataFrame:
    """The declared cross-sell pairs (truth for recommenders): ``sku``, ``next_sku``, ``weight``."""
    return pd.DataFrame(_AFFINITY, columns=["sku", "next_sku", "weight"])


CATALOGS = ("demo", "wide")


def load_catalog(name: str) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The catalogue ``name`` (``demo``: 28 hand-written SKUs; ``wide``: about 360 built from product lines).

    Returns the catalogue, its declared cross-sell pairs and the row-stochastic next-item matrix.
    """
    if name == "demo":
        catalog = build_catalog()
        return catalog, affinity_frame(catalog), build_affinity(catalog)
    from ._catalog_wide import build_wide_affinity, build_wide_catalog, wide_affinity_frame

    catalog = build_wide_catalog()
    pairs = wide_affinity_frame(catalog)
    return catalog, pairs, build_wide_affinity(catalog, pairs)
