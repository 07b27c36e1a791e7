"""The synthetic shop: order lines, holdout lines and the truth that generated them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..calendar import CampaignCalendar

__all__ = ["LINE_COLUMNS", "SyntheticShop"]

LINE_COLUMNS = (
    "source", "order_id", "line_no", "customer_key", "ordered_at", "sku", "product_name", "category", "quantity",
    "unit_price", "line_amount", "shop_coupon", "mall_coupon", "points_used", "point_rate", "shipping_fee", "cost",
    "channel", "status", "subscription_id", "delivery_count",
)
"""Columns of :attr:`SyntheticShop.order_lines` (canonical names, see ``ltvkit.store.schema.ORDER_LINES``)."""

_FRAMES = ("order_lines", "holdout_lines", "truth", "catalog", "affinity", "subscriptions", "acquisition_costs")


@dataclass
class SyntheticShop:
    """A generated shop with its ground truth (made by :func:`ltvkit.synth.generate_shop`).

    Attributes
    ----------
    order_lines : pandas.DataFrame
        Canonical order lines up to ``observation_end`` (``customer_key`` is the synthetic customer number).
    holdout_lines : pandas.DataFrame
        The same columns for the ``holdout_days`` after ``observation_end``.
    truth : pandas.DataFrame
        One row per customer: type (``point_driven``/``loyal``), acquisition channel and time, purchase and
        dropout rates (per day), dropout time, spend level, rhythm item, realised and expected holdout orders,
        and the fake contact data the exports carry.
    catalog : pandas.DataFrame
        SKUs with category, price, unit cost, replenishment cycle, role (trial/full), upgrade target.
    affinity : pandas.DataFrame
        Declared cross-sell pairs ``sku -> next_sku``.
    subscriptions : pandas.DataFrame
        One row per 定期購入: item, cycle, deliveries, delivery count after which it was cancelled.
    acquisition_costs : pandas.DataFrame
        Acquisition spend per channel (``channel, spend, start, end, customers, cac``), the layout of
        ``ltv cac --costs`` (written as ``acquisition_costs.csv`` by :meth:`save`).
    calendar : CampaignCalendar
        The campaign calendar used to generate point-driven buying.
    campaign_share_expected : dict
        Expected share of orders inside campaigns on the point-driven and the loyal clock.
    catalog_name : str
        Which catalogue the shop sells: ``demo`` (28 SKUs) or ``wide`` (about 360 SKUs).
    """

    order_lines: pd.DataFrame
    holdout_lines: pd.DataFrame
    truth: pd.DataFrame
    catalog: pd.DataFrame
    affinity: pd.DataFrame
    subscriptions: pd.DataFrame
    acquisition_costs: pd.DataFrame
    calendar: CampaignCalendar
    mall: str
    start: dt.date
    observation_end: dt.date
    holdout_days: int
    seed: int
    params: dict[str, Any] = field(default_factory=dict)
    campaign_share_expected: dict[str, float] = field(default_factory=dict)
    catalog_name: str = "demo"

    @property
    def holdout_end(self) -> dt.date:
        """Last day of the holdout period."""
        return self.observation_end + dt.timedelta(days=self.holdout_days)

    def __repr__(self) -> str:
        return (f"SyntheticShop(mall={self.mall!r}, catalog={self.catalog_name!r}, customers={len(self.truth):,}, "
                f"order_lines={len(self.order_lines):,}, holdout_lines={len(self.holdout_lines):,}, "
                f"{self.start} .. {self.observation_end} + {self.holdout_days} days)")

    def meta(self) -> dict[str, Any]:
        return {
            "mall": self.mall, "start": self.start.isoformat(), "observation_end": self.observation_end.isoformat(),
            "holdout_days": self.holdout_days, "seed": self.seed, "params": self.params,
            "campaign_share_expected": self.campaign_share_expected, "catalog": self.catalog_name,
            "customers": len(self.truth), "order_lines": len(self.order_lines),
            "holdout_lines": len(self.holdout_lines),
        }

    def save(self, directory: str | Path) -> Path:
        """Write data and truth as Parquet (microsecond timestamps) plus ``meta.json`` and ``calendar.json``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            frame = getattr(self, name)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, out / f"{name}.parquet", coerce_timestamps="us", allow_truncated_timestamps=True)
        self.acquisition_costs.to_csv(out / "acquisition_costs.csv", index=False)
        (out / "meta.json").write_text(json.dumps(self.meta(), ensure_ascii=False, indent=1, default=str),
                                       encoding="utf-8")
        (out / "calendar.json").write_text(json.dumps(self.calendar.to_dict(), ensure_ascii=False, indent=1),
                                           encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> SyntheticShop:
        """Read a shop written by :meth:`save`."""
        src = Path(directory)
        meta = json.loads((src / "meta.json").read_text(encoding="utf-8"))
        frames = {name: pq.read_table(src / f"{name}.parquet").to_pandas() for name in _FRAMES}
        cal = CampaignCalendar.from_dict(json.loads((src / "calendar.json").read_text(encoding="utf-8")))
        return cls(**frames, calendar=cal, mall=meta["mall"], start=dt.date.fromisoformat(meta["start"]),
                   observation_end=dt.date.fromisoformat(meta["observation_end"]), holdout_days=meta["holdout_days"],
                   seed=meta["seed"], params=meta["params"], campaign_share_expected=meta["campaign_share_expected"],
                   catalog_name=meta.get("catalog", "demo"))
