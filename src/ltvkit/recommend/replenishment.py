"""Replenishment: inter-purchase intervals per item and category, and each customer's next-need date.

The model follows the "buy it again" factorisation (Bhagat et al., KDD 2018): the chance that a customer buys
an item again within the next ``k`` days is Q × R, where Q is the chance that they re-buy it at all and R the
timing, here a log-normal distribution of the interval centred on the customer's own median interval,
shrunk towards the item's (and, with few intervals, the category's) median.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..exceptions import NotFittedError
from ._data import History, from_day, load_history

__all__ = ["ReplenishmentModel"]


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """Boolean 'first row of a group' for rows sorted by ``keys``."""
    n = len(keys[0])
    new = np.ones(n, dtype=bool)
    if n:
        diff = np.zeros(n - 1, dtype=bool)
        for k in keys:
            diff |= k[1:] != k[:-1]
        new[1:] = diff
    return new


def _interval_table(pair_key: np.ndarray, group: np.ndarray, day: np.ndarray, n_groups: int,
                    as_of_day: int, min_followup_days: int, qty: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Interval statistics per group from purchase days of (customer, group) pairs.

    Rows must be sorted by (pair_key, day) with one row per pair and day. With ``qty``, the spread and the
    ``unit_median`` use intervals per unit bought at the start of the interval.
    """
    start = _group_starts(pair_key)
    same = ~start[1:]
    raw = (day[1:] - day[:-1])[same].astype(np.float64)
    gaps = raw / np.maximum(qty[:-1][same], 1.0) if qty is not None else raw
    gap_group = group[1:][same]
    pair_id = np.cumsum(start) - 1
    n_pairs = int(pair_id[-1]) + 1 if len(pair_id) else 0
    n_purch = np.bincount(pair_id, minlength=n_pairs)
    first_day = day[start]
    pgroup = group[start]
    repeat = n_purch >= 2
    eligible = repeat | (first_day <= as_of_day - min_followup_days)
    buyers = np.bincount(pgroup, minlength=n_groups)
    rep_buyers = np.bincount(pgroup, weights=repeat, minlength=n_groups)
    elig = np.bincount(pgroup, weights=eligible, minlength=n_groups)
    n_gaps = np.bincount(gap_group, minlength=n_groups)
    out = {"buyers": buyers, "repeat_buyers": rep_buyers.astype(np.int64), "eligible": elig,
           "intervals": n_gaps, "median": np.full(n_groups, np.nan), "p25": np.full(n_groups, np.nan),
           "p75": np.full(n_groups, np.nan), "mean": np.full(n_groups, np.nan),
           "log_sd": np.full(n_groups, np.nan)}
    out["unit_median"] = np.full(n_groups, np.nan)
    if len(gaps):
        s = pd.DataFrame({"g": gap_group, "x": raw, "u": gaps, "lx": np.log(np.maximum(gaps, 0.5))}).groupby("g")
        q = s["x"].quantile([0.25, 0.5, 0.75]).unstack()
        idx = q.index.to_numpy()
        out["p25"][idx] = q[0.25].to_numpy()
        out["median"][idx] = q[0.5].to_numpy()
        out["p75"][idx] = q[0.75].to_numpy()
        out["mean"][idx] = s["x"].mean().to_numpy()
        out["unit_median"][idx] = s["u"].median().to_numpy()
        out["log_sd"][idx] = s["lx"].std(ddof=1).to_numpy()
    return out


class ReplenishmentModel:
    """Inter-purchase intervals and the next-need date of every customer × item.

    Parameters
    ----------
    prior_intervals
        Weight, in intervals, of the item's median when estimating a customer's own interval (shrinkage).
        A customer with ``n`` own intervals gets ``(n·log own_median + w·log item_median) / (n + w)``.
    category_prior_intervals
        Weight, in intervals, of the category median when estimating an item's median interval.
    prior_customers
        Weight, in customers, of the item's repeat rate when estimating a customer's chance of re-buying.
    min_followup_days
        A one-time buyer counts in an item's repeat rate only if the first purchase is at least this old.
    default_log_sd
        Spread (standard deviation of log interval) used when an item has fewer than 3 intervals.
    min_log_sd
        Lower bound on the spread, so that no date is predicted with false precision.
    per_unit
        Measure intervals per unit bought (a customer who buys 2 bottles needs the item again after about twice
        the interval); the expected interval is then the days per unit × the quantity of the last purchase.

    Attributes
    ----------
    item_intervals_ : pandas.DataFrame
        Per sku: buyers, repeat buyers, repeat rate, number of intervals, 25/50/75th percentile and mean days.
    category_intervals_ : pandas.DataFrame
        The same per category (a customer's purchases of any item of the category).
    as_of_ : datetime.date
        The date the model looks from.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_key": ["a"] * 3, "sku": ["tea"] * 3, "category": ["drink"] * 3,
    ...                       "order_date": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-03-01"])})
    >>> m = ReplenishmentModel(prior_intervals=0).fit(lines, as_of="2024-03-10")
    >>> row = m.predict().iloc[0]
    >>> row["sku"], float(row["interval_days"]), row["due_date"].isoformat()
    ('tea', 30.0, '2024-03-31')

    References
    ----------
    Bhagat, Muralidharan, Lobzhanidze, Vishwanath (2018). Buy It Again: Modeling Repeat Purchase
    Recommendations. KDD 2018.
    """

    def __init__(self, prior_intervals: float = 1.0, category_prior_intervals: float = 3.0,
                 prior_customers: float = 2.0, min_followup_days: int = 90, default_log_sd: float = 0.5,
                 min_log_sd: float = 0.15, per_unit: bool = True) -> None:
        self.prior_intervals = prior_intervals
        self.category_prior_intervals = category_prior_intervals
        self.prior_customers = prior_customers
        self.min_followup_days = min_followup_days
        self.default_log_sd = default_log_sd
        self.min_log_sd = min_log_sd
        self.per_unit = per_unit

    # ------------------------------------------------------------------------------------------------
    def fit(self, lines: Any, as_of: Any = None) -> ReplenishmentModel:
        """Learn intervals from order lines on or before ``as_of`` (default: the last order date).

        Parameters
        ----------
        lines
            Canonical order lines: an Ibis table (``ws.orders()``) or a pandas DataFrame.
        as_of
            Date to look from; later lines are ignored.
        """
        return self._fit_history(load_history(lines, as_of))

    def _fit_history(self, h: History) -> ReplenishmentModel:
        self.history_shape_ = (h.n_users, h.n_items)
        self.as_of_ = from_day(h.as_of_day)
        self._as_of_day = h.as_of_day
        self._customers, self._items, self._item_name = h.customers, h.items, h.item_name
        self._categories, self._item_category = h.categories, h.item_category

        # category level: one row per customer × category × day
        qty = np.maximum(h.qty.astype(np.float64), 1.0) if self.per_unit else np.ones(len(h.qty))
        cat = h.item_category[h.item]
        o = np.lexsort((h.day, cat, h.user))
        cu, cc, cd, cq = h.user[o], cat[o], h.day[o], qty[o]
        keep = _group_starts(cu, cc, cd)
        grp = np.cumsum(keep) - 1
        cq = np.bincount(grp, weights=cq)
        cu, cc, cd = cu[keep], cc[keep], cd[keep]
        del o, grp
        ckey = cu.astype(np.int64) * max(len(h.categories), 1) + cc
        cstats = _interval_table(ckey, cc, cd, len(h.categories), h.as_of_day, self.min_followup_days, cq)
        del cu, cc, cd, cq, ckey, keep, cat  # only the statistics are kept: free the rows before the item level

        # item level: h is sorted by (user, day, item); re-sort by (user, item, day)
        o = np.lexsort((h.day, h.item, h.user))
        pu, pi, pd_, pq = h.user[o], h.item[o], h.day[o], qty[o]
        del o, qty
        pkey = pu.astype(np.int64) * h.n_items + pi
        istats = _interval_table(pkey, pi, pd_, h.n_items, h.as_of_day, self.min_followup_days, pq)

        self.category_intervals_ = self._stats_frame(cstats, h.categories, "category")
        self.item_intervals_ = self._stats_frame(istats, h.items, "sku")
        self.item_intervals_.insert(1, "category", h.categories[h.item_category])

        # smoothed item parameters: log median interval, spread, repeat rate
        cmed = cstats["unit_median"]
        all_gaps_med = np.nanmedian(cmed) if np.isfinite(cmed).any() else np.nan
        cat_log_med = np.log(np.where(np.isfinite(cmed), cmed, all_gaps_med))
        cat_n = cstats["intervals"].astype(np.float64)
        item_cat_lm = cat_log_med[h.item_category]
        n_i = istats["intervals"].astype(np.float64)
        item_lm = np.log(np.where(np.isfinite(istats["unit_median"]), istats["unit_median"], 1.0))
        w = self.category_prior_intervals
        denom = n_i + w
        with np.errstate(invalid="ignore", divide="ignore"):
            lm = np.where(denom > 0, (n_i * item_lm + w * item_cat_lm) / np.where(denom > 0, denom, 1), item_lm)
        lm = np.where(n_i > 0, lm, item_cat_lm)
        sd = np.where(n_i >= 3, istats["log_sd"], np.nan)
        cat_sd = np.where(cat_n >= 3, cstats["log_sd"], self.default_log_sd)[h.item_category]
        sd = np.where(np.isfinite(sd), sd, cat_sd)
        sd = np.maximum(np.nan_to_num(sd, nan=self.default_log_sd), self.min_log_sd)
        # repeat rates shrink item -> category -> shop (Laplace); an unnamed category carries no information
        s = 5.0
        global_q = (istats["repeat_buyers"].sum() + 1.0) / (istats["eligible"].sum() + 2.0)
        cat_q = (cstats["repeat_buyers"] + s * global_q) / (cstats["eligible"] + s)
        cat_q = np.where(h.categories == "", global_q, cat_q)[h.item_category]
        item_q = (istats["repeat_buyers"] + s * cat_q) / (istats["eligible"] + s)
        self._item_log_median, self._item_log_sd, self._item_q = lm, sd, item_q

        # per customer × item pair
        start = _group_starts(pkey)
        del pkey
        pair_id = np.cumsum(start) - 1
        n_pairs = int(pair_id[-1]) + 1
        n_purch = np.bincount(pair_id, minlength=n_pairs)
        last_idx = np.r_[np.flatnonzero(start)[1:] - 1, len(start) - 1]
        same = ~start[1:]
        gaps = (pd_[1:] - pd_[:-1])[same].astype(np.float64) / pq[:-1][same]
        gap_pair = pair_id[1:][same]
        del pair_id, same
        own_med = np.full(n_pairs, np.nan)
        if len(gaps):
            med = pd.Series(gaps).groupby(gap_pair).median()
            own_med[med.index.to_numpy()] = med.to_numpy()
        self._pair_user = pu[start]
        self._pair_item = pi[start]
        self._pair_n = n_purch
        self._pair_last = pd_[last_idx]
        self._pair_last_qty = pq[last_idx]
        n_own = (n_purch - 1).astype(np.float64)
        item_lm_p = lm[self._pair_item]
        wp = self.prior_intervals
        own_lm = np.log(np.maximum(np.nan_to_num(own_med, nan=1.0), 0.5))
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(n_own > 0, (n_own * own_lm + wp * item_lm_p) / np.maximum(n_own + wp, 1e-12), item_lm_p)
        self._pair_mu = mu + np.log(self._pair_last_qty)
        self._pair_sd = np.maximum(self._item_log_sd[self._pair_item] / np.sqrt(1.0 + n_own / 2.0), self.min_log_sd)
        sq = self.prior_customers
        iq = item_q[self._pair_item]
        self._pair_q = np.where(sq + n_own > 0, (sq * iq + n_own) / np.maximum(sq + n_own, 1e-12), iq)
        return self

    @staticmethod
    def _stats_frame(st: dict[str, np.ndarray], names: np.ndarray, key: str) -> pd.DataFrame:
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(st["eligible"] > 0, st["repeat_buyers"] / np.maximum(st["eligible"], 1), np.nan)
        return pd.DataFrame({
            key: names, "buyers": st["buyers"], "repeat_buyers": st["repeat_buyers"], "repeat_rate": rate,
            "intervals": st["intervals"], "p25_days": st["p25"], "median_days": st["median"],
            "p75_days": st["p75"], "mean_days": st["mean"], "median_days_per_unit": st["unit_median"]})

    def _check(self) -> None:
        if not hasattr(self, "item_intervals_"):
            raise NotFittedError("This ReplenishmentModel instance is not fitted yet. Call 'fit' with order lines first.")

    def _pair_probability(self, within_days: float) -> np.ndarray:
        """P(the customer buys the item again within ``within_days`` after as-of | not bought since)."""
        e = np.maximum(self._as_of_day - self._pair_last, 0).astype(np.float64)
        valid = np.isfinite(self._pair_mu)
        mu = np.where(valid, self._pair_mu, 0.0)
        f_e = np.where(e > 0, ndtr((np.log(np.maximum(e, 1e-9)) - mu) / self._pair_sd), 0.0)
        f_k = ndtr((np.log(e + within_days) - mu) / self._pair_sd)
        q = self._pair_q
        p = q * (f_k - f_e) / np.maximum(1.0 - q * f_e, 1e-12)
        return np.where(valid, np.clip(p, 0.0, 1.0), 0.0)

    def _pair_next_need(self) -> np.ndarray:
        """Conditional median day of the next purchase given none between the last purchase and as-of."""
        e = np.maximum(self._as_of_day - self._pair_last, 0).astype(np.float64)
        f_e = np.where(e > 0, ndtr((np.log(np.maximum(e, 1e-9)) - self._pair_mu) / self._pair_sd), 0.0)
        target = np.clip(f_e + (1.0 - f_e) / 2.0, 1e-12, 1 - 1e-12)
        t = np.exp(self._pair_mu + self._pair_sd * ndtri(target))
        return self._pair_last + np.maximum(np.round(t), e)

    # ------------------------------------------------------------------------------------------------
    def predict(self, within_days: float = 30) -> pd.DataFrame:
        """Every customer × item bought before: expected next-need date and P(re-buy within ``within_days``).

        Returns
        -------
        pandas.DataFrame
            ``customer_key, sku, category, purchases, last_purchase, interval_days`` (the customer's expected
            interval), ``due_date`` (last purchase + interval; in the past when overdue), ``days_until_due``,
            ``next_need_date`` (median date of the next purchase given none so far, never before as-of),
            ``p_repurchase`` (chance of ever buying it again) and ``p_within`` (chance within ``within_days``
            after as-of).
        """
        self._check()
        interval = np.round(np.exp(self._pair_mu), 1)
        due = self._pair_last + np.round(np.exp(self._pair_mu)).astype(np.int64)
        out = pd.DataFrame({
            "customer_key": self._customers[self._pair_user],
            "sku": self._items[self._pair_item],
            "category": self._categories[self._item_category[self._pair_item]],
            "purchases": self._pair_n,
            "last_purchase": from_day(self._pair_last),
            "interval_days": interval,
            "due_date": from_day(due),
            "days_until_due": due - self._as_of_day,
            "next_need_date": from_day(self._pair_next_need().astype(np.int64)),
            "p_repurchase": self._pair_q,
            "p_within": self._pair_probability(within_days),
        })
        for c in ("last_purchase", "due_date", "next_need_date"):
            out[c] = pd.to_datetime(out[c]).dt.date
        return out

    def due_soon(self, within_days: float = 14, min_probability: float = 0.2,
                 include_overdue_days: float = 30) -> pd.DataFrame:
        """Customer × items expected to be needed soon: the "due soon" list, most likely first.

        Keeps rows with ``p_within >= min_probability`` whose due date falls between ``include_overdue_days``
        before as-of and ``within_days`` after it.
        """
        df = self.predict(within_days)
        keep = (df["p_within"] >= min_probability) & (df["days_until_due"] <= within_days) & (
            df["days_until_due"] >= -include_overdue_days)
        return df[keep].sort_values(["p_within", "customer_key"], ascending=[False, True]).reset_index(drop=True)
