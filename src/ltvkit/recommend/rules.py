"""Association rules between items and categories, upsell pairs and bundle candidates.

Support, confidence and lift count *customers* (a rule A -> B holds for a customer who bought B within
``window_days`` after A; the same day counts both ways), so one heavy buyer cannot make a rule alone.
Bundles count *baskets* (items bought together on the same day).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ._copurchase import count_pairs, dedupe_rows
from ._data import History, load_history

__all__ = ["association_rules", "bundle_candidates", "upsell_candidates"]


def _rules_from_history(h: History, level: str, window_days: int, min_customers: int, min_confidence: float,
                        min_lift: float) -> pd.DataFrame:
    if level in ("sku", "item"):
        code, names, n_codes = h.item, h.items, h.n_items
    elif level == "category":
        code, names, n_codes = h.item_category[h.item], h.categories, len(h.categories)
    else:
        raise InputError(key="err.rules_level", value=level)
    u, c, d = dedupe_rows(h.user, code, h.day)
    pc = count_pairs(u, c, d, n_codes, window_days)
    conf, lift = pc.confidence(), pc.lift()
    keep = (pc.n_ij >= min_customers) & (conf >= min_confidence) & (lift >= min_lift)
    out = pd.DataFrame({
        "antecedent": names[pc.i[keep]], "consequent": names[pc.j[keep]], "customers": pc.n_ij[keep],
        "support": pc.support()[keep], "confidence": conf[keep], "lift": lift[keep]})
    return out.sort_values(["lift", "customers", "antecedent", "consequent"],
                           ascending=[False, False, True, True]).reset_index(drop=True)


def association_rules(lines: Any, *, level: str = "sku", window_days: int = 30, as_of: Any = None,
                      min_customers: int = 3, min_confidence: float = 0.0, min_lift: float = 1.0) -> pd.DataFrame:
    """Rules "customers who buy A buy B within ``window_days``", between items or categories.

    Parameters
    ----------
    lines
        Canonical order lines (Ibis table or pandas DataFrame).
    level
        ``"sku"`` or ``"category"``.
    window_days
        B must follow A within this many days (0: the same day).
    as_of
        Ignore lines after this date.
    min_customers, min_confidence, min_lift
        Thresholds a rule must meet.

    Returns
    -------
    pandas.DataFrame
        ``antecedent, consequent, customers, support`` (customers with A then B / all customers),
        ``confidence`` (customers with A then B / customers with A) and ``lift`` (confidence / share of
        customers who bought B), strongest lift first.
    """
    return _rules_from_history(load_history(lines, as_of), level, window_days, min_customers, min_confidence,
                               min_lift)


def upsell_candidates(lines: Any, *, window_days: int = 180, as_of: Any = None, min_price_step: float = 0.2,
                      min_customers: int = 3, min_confidence: float = 0.05, min_lift: float = 0.0) -> pd.DataFrame:
    """Higher-priced items of the same category that buyers of an item go on to buy (trade-up paths).

    Parameters
    ----------
    min_price_step
        The upsell item's median unit price must exceed the item's by at least this share (0.2 = +20%).
    min_confidence
        At least this share of the item's buyers must go on to buy the upsell item within ``window_days``.
    min_lift
        Lift is not required by default: buyers of entry items (trial sizes) churn more than the average
        customer, so a real trade-up path can show a lift below 1.

    Returns
    -------
    pandas.DataFrame
        ``sku, upsell_sku, category, price, upsell_price, price_ratio, customers, confidence, lift``.
    """
    h = load_history(lines, as_of)
    rules = _rules_from_history(h, "sku", window_days, min_customers, min_confidence, min_lift)
    idx = pd.Series(np.arange(h.n_items), index=h.items)
    a = idx.reindex(rules["antecedent"]).to_numpy()
    b = idx.reindex(rules["consequent"]).to_numpy()
    pa, pb = h.item_price[a], h.item_price[b]
    same_cat = (h.item_category[a] == h.item_category[b]) & (h.categories[h.item_category[a]] != "")
    keep = same_cat & np.isfinite(pa) & np.isfinite(pb) & (pb >= pa * (1 + min_price_step)) & (pa > 0)
    out = pd.DataFrame({
        "sku": rules["antecedent"].to_numpy()[keep], "upsell_sku": rules["consequent"].to_numpy()[keep],
        "category": h.categories[h.item_category[a[keep]]], "price": pa[keep], "upsell_price": pb[keep],
        "price_ratio": pb[keep] / pa[keep], "customers": rules["customers"].to_numpy()[keep],
        "confidence": rules["confidence"].to_numpy()[keep], "lift": rules["lift"].to_numpy()[keep]})
    return out.sort_values(["sku", "confidence"], ascending=[True, False]).reset_index(drop=True)


def bundle_candidates(lines: Any, *, as_of: Any = None, min_baskets: int = 3, min_lift: float = 1.5,
                      top: int | None = 100) -> pd.DataFrame:
    """Item pairs often bought in the same basket (same customer, same day): candidates for a set offer.

    Returns
    -------
    pandas.DataFrame
        ``sku_a, sku_b, baskets`` (baskets holding both), ``support`` (share of all baskets),
        ``confidence_ab``, ``confidence_ba``, ``lift``, ``price_a``, ``price_b``, ``bundle_price`` (sum of
        median unit prices), strongest first.
    """
    h = load_history(lines, as_of)
    # one "user" per basket: pairs inside a basket, counted per basket
    bid, _, _ = h.basket_id()
    n_baskets = int(bid.max()) + 1
    u, c, d = dedupe_rows(bid, h.item, np.zeros_like(h.day))
    pc = count_pairs(u, c, d, h.n_items, 0)
    sym = pc.i < pc.j
    if not sym.any():
        return pd.DataFrame(columns=["sku_a", "sku_b", "baskets", "support", "confidence_ab", "confidence_ba",
                                     "lift", "price_a", "price_b", "bundle_price"])
    i, j, n = pc.i[sym], pc.j[sym], pc.n_ij[sym]
    ni, nj = pc.n_i[i], pc.n_i[j]
    lift = n * n_baskets / np.maximum(ni * nj, 1)
    keep = (n >= min_baskets) & (lift >= min_lift)
    i, j, n, ni, nj, lift = i[keep], j[keep], n[keep], ni[keep], nj[keep], lift[keep]
    out = pd.DataFrame({
        "sku_a": h.items[i], "sku_b": h.items[j], "baskets": n, "support": n / n_baskets,
        "confidence_ab": n / ni, "confidence_ba": n / nj, "lift": lift, "price_a": h.item_price[i],
        "price_b": h.item_price[j], "bundle_price": h.item_price[i] + h.item_price[j]})
    out = out.sort_values(["baskets", "lift"], ascending=[False, False]).reset_index(drop=True)
    return out.head(top) if top else out
