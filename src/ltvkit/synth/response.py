"""How synthetic customers respond to messages, with a true effect per scenario set by the caller.

Two levels:

* :func:`simulate_response` closes the loop on a :class:`SyntheticShop`: given the outbox (who was planned what,
  when, through which channel, held out or not, delivered or not), it changes the shop's own future orders
  (``holdout_lines``, what would have happened without any message) by each scenario's effect and returns the order
  lines of the period after the sends, ready for the export writers, with the truth per scenario.
* :func:`simulate_experiment` is the same story at the level a statistical test needs: one scenario over a
  buy-till-you-die population (BG/NBD) with plan-time covariates from the closed-form BG/NBD predictions, vectorised
  so that hundreds of shops take seconds.

Effects (:class:`Effect`), applied only to messages that were delivered (state ``sent``), so that the truth of the
intention-to-treat comparison is the effect diluted by failed sends:

``lift``
    With probability ``size`` a delivered message brings one extra order within the window.
``pull_forward``
    With probability ``size`` the customer's next order in the 90 days after the window moves into the window:
    conversion in the window rises, long-run orders do not.
``annoy``
    With probability ``size`` a *frequent* buyer (3 or more orders before the send) skips every order in the 90
    days after the send.

The simulator is not the world: real customers respond in ways no such model holds, which is why the shop keeps
a holdout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .shop import LINE_COLUMNS, SyntheticShop

__all__ = ["KINDS", "Effect", "ResponseResult", "simulate_experiment", "simulate_response"]

KINDS = ("lift", "pull_forward", "annoy")
LATER_DAYS = 90


@dataclass(frozen=True)
class Effect:
    """A scenario's true effect: ``kind`` (lift, pull_forward, annoy) and ``size`` (a probability, 0–1)."""

    kind: str
    size: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"Unknown effect kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if not 0.0 <= self.size <= 1.0:
            raise InputError(f"Effect size {self.size!r} is not a probability between 0 and 1.")


@dataclass
class ResponseResult:
    """What :func:`simulate_response` made: the order lines after the sends and the truth per scenario."""

    lines: pd.DataFrame
    truth: pd.DataFrame
    changes: dict[str, int]


# -- the closed loop on a synthetic shop ----------------------------------------------------------------------

def _order_table(lines: pd.DataFrame) -> pd.DataFrame:
    valid = lines["status"].astype(str) != "cancelled"
    g = lines.assign(_valid=valid, _amt=lines["line_amount"].where(lines["status"].astype(str) == "ordered", 0))
    return g.groupby("order_id", sort=False, observed=True).agg(
        customer_key=("customer_key", "first"), ordered_at=("ordered_at", "first"), valid=("_valid", "any"),
        revenue=("_amt", "sum")).reset_index()


def simulate_response(shop: SyntheticShop, sends: pd.DataFrame, effects: dict[str, Effect], *,
                      window_days: int = 30, seed: int = 0) -> ResponseResult:
    """Order lines of the period after the sends, changed by each scenario's true effect.

    Parameters
    ----------
    shop
        The synthetic shop; its ``holdout_lines`` are what customers would have bought without messages.
    sends
        One row per outbox message: ``scenario``, ``customer_key`` (the shop's synthetic keys), ``send_at``
        (shop wall-clock time), ``holdout`` (bool) and ``state`` (only ``sent`` rows act on the customer).
    effects
        Scenario → :class:`Effect`; a scenario not named has no effect.
    window_days
        The window the truth is recorded for (as ``ltv crm results --window-days``).

    Returns
    -------
    ResponseResult
        ``lines`` (canonical columns, :data:`~ltvkit.synth.LINE_COLUMNS`), ``truth`` (per scenario and send month:
        treated customers, true conversion uplift in the window, true extra orders and revenue per treated
        customer) and counts of the changes made.
    """
    need = {"scenario", "customer_key", "send_at", "holdout", "state"}
    if not need <= set(sends.columns):
        raise InputError(f"sends need columns {', '.join(sorted(need))}.")
    rng = np.random.default_rng(seed)
    base = shop.holdout_lines.reset_index(drop=True)
    orders = _order_table(base)
    s = sends.copy()
    s["send_at"] = pd.to_datetime(s["send_at"])
    s = s.sort_values(["send_at", "scenario", "customer_key"], kind="stable").reset_index(drop=True)
    live = (~s["holdout"].astype(bool)) & (s["state"].astype(str) == "sent")
    hist = shop.order_lines
    prior = hist.loc[hist["status"].astype(str) != "cancelled"].groupby(
        "customer_key", observed=True)["order_id"].nunique()
    w = pd.Timedelta(days=window_days)
    later = pd.Timedelta(days=LATER_DAYS)
    by_cust = {k: g for k, g in orders.loc[orders["valid"]].groupby("customer_key", sort=False)}
    touched: dict[str, str] = {}       # order_id -> scenario that dropped or moved it
    dropped: dict[str, str] = {}
    moved: dict[str, tuple[str, pd.Timestamp]] = {}
    induced: list[tuple[int, pd.Timestamp]] = []
    u = rng.random(len(s))
    jitter = rng.random(len(s))
    for i in np.flatnonzero(live.to_numpy()):
        eff = effects.get(s.at[i, "scenario"])
        if eff is None or eff.size == 0 or u[i] >= eff.size:
            continue
        cust, t0, name = s.at[i, "customer_key"], s.at[i, "send_at"], s.at[i, "scenario"]
        if eff.kind == "lift":
            induced.append((i, t0 + pd.Timedelta(seconds=float(jitter[i]) * w.total_seconds() * 0.9)))
            continue
        g = by_cust.get(cust)
        if g is None:
            continue
        if eff.kind == "annoy":
            if int(prior.get(cust, 0)) < 3:
                continue
            hit = g.loc[(g["ordered_at"] >= t0) & (g["ordered_at"] < t0 + later), "order_id"]
            for oid in hit:
                if oid not in touched:
                    touched[oid] = name
                    dropped[oid] = name
        elif eff.kind == "pull_forward":
            nxt = g.loc[(g["ordered_at"] >= t0 + w) & (g["ordered_at"] < t0 + w + later)]
            if len(nxt) and not (g["ordered_at"].between(t0, t0 + w, inclusive="left")).any():
                oid = nxt["order_id"].iloc[0]
                if oid not in touched:
                    touched[oid] = name
                    moved[oid] = (name, t0 + pd.Timedelta(seconds=float(jitter[i]) * w.total_seconds() * 0.9))
    new_lines = _induced_lines(shop, s, induced, rng)
    out = base.loc[~base["order_id"].isin(list(dropped))].copy()
    if moved:
        when = pd.to_datetime(out["order_id"].map({k: v[1] for k, v in moved.items()}))
        delta = (when - out["ordered_at"]).where(when.notna())
        out["ordered_at"] = out["ordered_at"] + delta.fillna(pd.Timedelta(0))
    lines = pd.concat([out, new_lines], ignore_index=True) if len(new_lines) else out
    lines = lines.sort_values("ordered_at", kind="stable").reset_index(drop=True)
    truth = _truth(s, orders, dropped, moved, induced, new_lines, window_days, effects)
    return ResponseResult(lines[list(LINE_COLUMNS)], truth,
                          {"induced_orders": len(induced), "dropped_orders": len(dropped),
                           "moved_orders": len(moved)})


def _induced_lines(shop: SyntheticShop, s: pd.DataFrame, induced: list[tuple[int, pd.Timestamp]],
                   rng: np.random.Generator) -> pd.DataFrame:
    """One order line per induced order: an item by popularity at list price, bought through LINE."""
    if not induced:
        return pd.DataFrame(columns=list(LINE_COLUMNS))
    cat = shop.catalog.loc[shop.catalog["role"] != "trial"].reset_index(drop=True)
    p = cat["popularity"].to_numpy(float)
    pick = rng.choice(len(cat), size=len(induced), p=p / p.sum())
    rows = [r for r, _ in induced]
    when = pd.to_datetime([t for _, t in induced]).floor("s")
    price = cat["price"].to_numpy(np.int64)[pick]
    base_no = 900_000_000
    serial = np.arange(base_no, base_no + len(induced))
    if shop.mall == "rakuten":
        ids = [f"383920-{d:%Y%m%d}-{n:09d}" for d, n in zip(when, serial, strict=True)]
    elif shop.mall == "yahoo":
        ids = [f"ltv-demo-{n}" for n in serial]
    else:
        ids = [f"#{n}" for n in serial]
    free = int(shop.params.get("free_shipping_from", 3980))
    fee = int(shop.params.get("shipping_fee", 550))
    frame = pd.DataFrame({
        "source": shop.mall, "order_id": ids, "line_no": 1,
        "customer_key": s.loc[rows, "customer_key"].to_numpy(), "ordered_at": when.to_numpy(),
        "sku": cat["sku"].to_numpy()[pick], "product_name": cat["product_name"].to_numpy()[pick],
        "category": cat["category"].to_numpy()[pick], "quantity": 1, "unit_price": price, "line_amount": price,
        "shop_coupon": 0, "mall_coupon": 0, "points_used": 0,
        "point_rate": 1.0 if shop.mall == "rakuten" else np.nan,
        "shipping_fee": np.where(price >= free, 0, fee), "cost": cat["unit_cost"].to_numpy(np.int64)[pick],
        "channel": "line", "status": "ordered", "subscription_id": None, "delivery_count": pd.NA,
    })
    return frame


def _truth(s: pd.DataFrame, orders: pd.DataFrame, dropped: dict[str, str],
           moved: dict[str, tuple[str, pd.Timestamp]], induced: list[tuple[int, pd.Timestamp]],
           new_lines: pd.DataFrame, window_days: int, effects: dict[str, Effect]) -> pd.DataFrame:
    """Per scenario and send month: the treated customers' window outcome with every effect, minus the same
    without this scenario's effect (intention to treat: every planned non-holdout row, delivered or not)."""
    w = pd.Timedelta(days=window_days)
    valid = orders.loc[orders["valid"]]
    rows = []
    s = s.assign(send_month=s["send_at"].dt.strftime("%Y-%m"))
    treated = s.loc[~s["holdout"].astype(bool)].drop_duplicates(["scenario", "send_month", "customer_key"])
    ind = pd.DataFrame({"i": [i for i, _ in induced], "at": pd.to_datetime([t for _, t in induced])})
    if len(ind):
        ind["scenario"] = s.loc[ind["i"], "scenario"].to_numpy()
        ind["customer_key"] = s.loc[ind["i"], "customer_key"].to_numpy()
        ind["revenue"] = new_lines["line_amount"].to_numpy()
    for (name, month), g in treated.groupby(["scenario", "send_month"], sort=True):
        m = g[["customer_key", "send_at"]].merge(valid, on="customer_key", how="left")
        inwin = (m["ordered_at"] >= m["send_at"]) & (m["ordered_at"] < m["send_at"] + w)
        oid = m["order_id"]
        drop_s = oid.map(dropped).eq(name)
        move_s = oid.map({k: v[0] for k, v in moved.items()}).eq(name)
        new_at = pd.to_datetime(oid.map({k: v[1] for k, v in moved.items()}))
        in_moved = (new_at >= m["send_at"]) & (new_at < m["send_at"] + w)
        dropped_any = oid.isin(list(dropped))
        moved_any = oid.isin(list(moved))
        # with every effect
        win_all = np.where(moved_any, in_moved, inwin) & ~dropped_any
        # without this scenario's own changes
        win_wo = np.where(moved_any & ~move_s, in_moved, inwin) & ~(dropped_any & ~drop_s)
        key = m["customer_key"]
        a = pd.Series(win_all, index=m.index).groupby(key).sum()
        b = pd.Series(win_wo, index=m.index).groupby(key).sum()
        ra = (m["revenue"] * win_all).groupby(key).sum()
        rb = (m["revenue"] * win_wo).groupby(key).sum()
        ext_all = pd.Series(0.0, index=a.index)
        ext_rev = pd.Series(0.0, index=a.index)
        ext_s = pd.Series(0.0, index=a.index)
        ext_s_rev = pd.Series(0.0, index=a.index)
        if len(ind):
            gi = ind.merge(g[["customer_key", "send_at"]], on="customer_key")
            gi = gi.loc[(gi["at"] >= gi["send_at"]) & (gi["at"] < gi["send_at"] + w)]
            ext_all = ext_all.add(gi.groupby("customer_key").size(), fill_value=0)
            ext_rev = ext_rev.add(gi.groupby("customer_key")["revenue"].sum(), fill_value=0)
            own = gi.loc[gi["scenario"] == name]
            ext_s = ext_s.add(own.groupby("customer_key").size(), fill_value=0)
            ext_s_rev = ext_s_rev.add(own.groupby("customer_key")["revenue"].sum(), fill_value=0)
        n_all = a.add(ext_all, fill_value=0)
        n_wo = b.add(ext_all.sub(ext_s, fill_value=0), fill_value=0)
        conv = float(((n_all > 0).astype(float) - (n_wo > 0).astype(float)).mean())
        eff = effects.get(name)
        rows.append({"scenario": name, "send_month": month, "treated": int(len(g)),
                     "effect_kind": eff.kind if eff else "none", "effect_size": eff.size if eff else 0.0,
                     "window_days": window_days, "true_conversion_uplift": conv,
                     "true_orders_uplift_per_customer": float((n_all - n_wo).mean()),
                     "true_revenue_uplift_per_customer": float(
                         (ra.add(ext_rev, fill_value=0) - rb.add(ext_rev.sub(ext_s_rev, fill_value=0),
                                                                  fill_value=0)).mean())})
    return pd.DataFrame(rows)


# -- the vectorised experiment ----------------------------------------------------------------------------------

BGNBD_PARAMS = {"r": 0.6, "alpha": 120.0, "a": 0.8, "b": 2.5}


def _bgnbd_predictions(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float,
                       p: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """P(alive) and expected purchases in the next ``t`` days (Fader, Hardie & Lee 2005, eq. 10 and 13)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
    d = np.where(x > 0, a / (b + x - 1) * ratio, 0.0)
    p_alive = 1.0 / (1.0 + d)
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return p_alive, num / (1.0 + d)


def simulate_experiment(customers: int = 5000, seed: int = 0, *, effect: float = 0.0, kind: str = "lift",
                        holdout_share: float = 0.10, window_days: int = 30, history_days: int = 720,
                        rhythm_share: float = 0.10, params: dict[str, float] | None = None) -> pd.DataFrame:
    """One scenario sent to a BG/NBD population, with a true conversion effect of ``effect`` (a difference in
    probability; negative for ``annoy``).

    Every customer is planned; a random ``holdout_share`` is held out. A ``rhythm_share`` of customers buy a
    consumable every 21–90 days (lognormal noise, as :func:`~ltvkit.synth.generate_shop` does for its rhythm
    buyers); the others follow BG/NBD. Plan-time covariates are what a BG/NBD model with the true parameters
    predicts from each history (``p_alive``, ``expected_purchases``, ``predicted_clv``, ``recency_days``,
    ``prior_orders``) and ``due_in_window``: whether the last purchase plus the customer's mean gap falls in the
    window (what the timing model's next-purchase date says). Outcomes in the window: ``converted``, ``orders``, ``margin``; the truth:
    ``y0``/``y1`` (conversion without/with the message) and ``attrs["true_uplift"]``, their mean difference over
    all customers. Bounds on what any adjustment could achieve: ``p_convert_true``, the chance of ``y0`` given the
    hidden state (rate, alive or not, cycle), and ``p_convert_history``, given the history (exact for the BG/NBD
    buyers; the hidden-state chance for the rhythm buyers, so an upper bound).
    """
    if kind not in ("lift", "annoy"):
        raise InputError("simulate_experiment takes kind 'lift' or 'annoy'.")
    p = {**BGNBD_PARAMS, **(params or {})}
    rng = np.random.default_rng(seed)
    n = customers
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    T = rng.uniform(1.0, history_days, n)
    spend = rng.gamma(4.0, 1.0 / 4.0, n) * 4000.0
    x = np.zeros(n)
    t_x = np.zeros(n)
    alive = np.ones(n, bool)
    t = np.zeros(n)
    idx = np.arange(n)
    while len(idx):
        t_new = t[idx] + rng.exponential(1.0, len(idx)) / lam[idx]
        ok = t_new < T[idx]
        idx, t_new = idx[ok], t_new[ok]
        x[idx] += 1
        t_x[idx] = t_new
        t[idx] = t_new
        dead = rng.random(len(idx)) < drop[idx]
        alive[idx[dead]] = False
        idx = idx[~dead]
    # rhythm buyers (as in generate_shop): a consumable bought every cycle × lognormal noise, from acquisition on
    rhythm = rng.random(n) < rhythm_share
    cycle = rng.choice(np.array([21.0, 30.0, 45.0, 60.0, 90.0]), n)
    r_idx = np.flatnonzero(rhythm)
    x[r_idx] = 0
    t_x[r_idx] = 0
    alive[r_idx] = True
    t[r_idx] = 0
    idx = r_idx
    while len(idx):
        t_new = t[idx] + cycle[idx] * rng.lognormal(0.0, 0.15, len(idx))
        ok = t_new < T[idx]
        idx, t_new = idx[ok], t_new[ok]
        x[idx] += 1
        t_x[idx] = t_new
        t[idx] = t_new
        dead = rng.random(len(idx)) < drop[idx] * 0.3
        alive[idx[dead]] = False
        idx = idx[~dead]
    # the window after the plan day: memoryless for BG/NBD buyers, the next cycle for rhythm buyers
    y_orders = np.zeros(n)
    idx = np.flatnonzero(alive & ~rhythm)
    t = np.zeros(n)
    while len(idx):
        t_new = t[idx] + rng.exponential(1.0, len(idx)) / lam[idx]
        ok = t_new < window_days
        idx, t_new = idx[ok], t_new[ok]
        y_orders[idx] += 1
        t[idx] = t_new
        idx = idx[rng.random(len(idx)) >= drop[idx]]
    idx = np.flatnonzero(alive & rhythm)
    t = t_x - T  # days since the plan day of the last purchase (≤ 0)
    while len(idx):
        t_new = t[idx] + cycle[idx] * rng.lognormal(0.0, 0.15, len(idx))
        ok = t_new < window_days
        idx, t_new = idx[ok], t_new[ok]
        y_orders[idx] += t_new >= 0
        t[idx] = t_new
    y0 = y_orders > 0
    u = rng.random(n)
    order_margin = spend * 0.3
    if kind == "lift":
        h = effect / max(float(np.mean(~y0)), 1e-9) if effect > 0 else 0.0
        extra = (u < h) & (effect > 0)
        y1 = y0 | extra
        orders1 = y_orders + extra
    else:
        frequent = x >= 2
        base = float(np.mean(y0 & frequent))
        k = -effect / base if effect < 0 and base > 0 else 0.0
        if k > 1:
            raise InputError(f"An effect of {effect} is larger than the frequent buyers' conversion allows.")
        lost = frequent & (u < k)
        y1 = y0 & ~lost
        orders1 = np.where(lost, 0, y_orders)
    treated = rng.random(n) >= holdout_share
    p_alive, e_w = _bgnbd_predictions(x, t_x, T, float(window_days), p)
    _, e_365 = _bgnbd_predictions(x, t_x, T, 365.0, p)
    obs_spend = spend * rng.gamma(8.0, 1.0 / 8.0, n)
    orders = np.where(treated, orders1, y_orders)
    margin = orders * order_margin * rng.gamma(6.0, 1.0 / 6.0, n)
    gap = np.where(x > 0, t_x / np.maximum(x, 1), np.nan)  # the customer's mean gap so far
    due = t_x + gap - T
    due_in_window = np.nan_to_num((due >= -0.25 * gap) & (due < window_days) & (x >= 2)).astype(float)
    frame = pd.DataFrame({
        "treated": treated, "due_in_window": due_in_window, "p_alive": p_alive, "expected_purchases": e_w, "predicted_clv": e_365 * obs_spend * 0.3,
        "recency_days": T - t_x, "prior_orders": x + 1, "converted": np.where(treated, y1, y0),
        "orders": orders, "margin": margin, "y0": y0, "y1": y1})
    # what any plan-time covariate could know at best: the chance of converting without the message given the
    # hidden state (rate, alive, cycle), and given the history (the exact BG/NBD posterior for the BG/NBD buyers;
    # the hidden-state chance for the rhythm buyers, which only flatters the history)
    due = _rhythm_conversion(np.where(alive & rhythm)[0], t_x - T, cycle, window_days, seed)
    frame["p_convert_true"] = np.where(alive & ~rhythm, -np.expm1(-lam * window_days), 0.0)
    frame.loc[due.index, "p_convert_true"] = due.to_numpy()
    posterior = p_alive * (1.0 - ((p["alpha"] + T) / (p["alpha"] + T + window_days)) ** (p["r"] + x))
    frame["p_convert_history"] = np.where(rhythm, frame["p_convert_true"].to_numpy(), posterior)
    frame.attrs["true_uplift"] = float(np.mean(y1.astype(float) - y0))
    return frame


def _rhythm_conversion(idx: np.ndarray, last: np.ndarray, cycle: np.ndarray, window_days: int, seed: int,
                       draws: int = 2000) -> pd.Series:
    """Monte Carlo chance that a rhythm buyer (last purchase ``last`` days from the plan day, cycle known) buys in
    the window, drawn as :func:`simulate_experiment` draws the window (its own generator: the shop is unchanged)."""
    rng = np.random.default_rng([seed, 15])
    t = np.repeat(last[idx, None], draws, axis=1)
    hit = np.zeros(t.shape, bool)
    going = np.ones(t.shape, bool)
    while going.any():
        t_new = t + cycle[idx, None] * rng.lognormal(0.0, 0.15, t.shape)
        ok = going & (t_new < window_days)
        hit |= ok & (t_new >= 0)
        t = np.where(ok, t_new, t)
        going = ok
    return pd.Series(hit.mean(axis=1), index=idx)
