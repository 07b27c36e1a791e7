"""The closed loop on a synthetic shop: plan → send through the fake LINE server → simulated response → import →
results, with the truth beside the measurement (used by ``ltv demo`` and the full-loop test).

The synthetic shop's sends lie in its own past (its orders end on ``observation_end``), while the sender compares
expiry with the real clock; the loop therefore clears the expiry of the rows it planned before sending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pydantic import SecretStr

from ..actions import OpsStore, import_contacts, load_scenarios, outbox_frame, plan, send
from ..actions._ops import outbox
from ..actions.results import ResultsReport, crm_results
from ..synth import SyntheticShop
from ..synth.response import Effect, simulate_response
from ..synth.writers import write_rakuten_csv, write_shopify_csv, write_yahoo_csv
from ..workspace import Workspace
from .fake_line import FakeLineServer

__all__ = ["DEMO_EFFECTS", "LoopResult", "run_closed_loop"]

DEMO_EFFECTS: dict[str, Effect] = {
    "thanks-first-order": Effect("lift", 0.04),
    "f2-golden-time": Effect("lift", 0.10),
    "next-purchase-due": Effect("pull_forward", 0.30),
    "replenishment-due": Effect("lift", 0.06),
    "cross-sell": Effect("lift", 0.0),
    "vip-thanks": Effect("annoy", 0.15),
    "winback": Effect("lift", 0.05),
}
"""The true effects the demo gives the shipped scenarios: positive, zero, pulled forward and negative."""


@dataclass
class LoopResult:
    plan: Any
    send: Any
    response_changes: dict[str, int]
    truth: pd.DataFrame
    results: ResultsReport
    comparison: pd.DataFrame
    files: list[Path]
    seconds: dict[str, float]


def _synthetic_keys(ws: Workspace, shop: SyntheticShop) -> pd.DataFrame:
    if ws.has_result("synthetic_truth"):
        t = ws.read_result("synthetic_truth").to_pandas()
        if "customer_key_synthetic" in t.columns:
            return t[["customer_key", "customer_key_synthetic"]].drop_duplicates("customer_key")
    imported = ws.order_ids_and_keys()
    ours = shop.order_lines[["order_id", "customer_key"]].drop_duplicates("order_id")
    keys = imported.merge(ours, on="order_id", suffixes=("", "_synthetic"))
    return keys[["customer_key", "customer_key_synthetic"]].drop_duplicates("customer_key")


def _write(shop: SyntheticShop, lines: pd.DataFrame, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    if shop.mall == "rakuten":
        return [write_rakuten_csv(shop, directory / "rakuten_orders_after_sends.csv", lines=lines)]
    if shop.mall == "yahoo":
        return list(write_yahoo_csv(shop, directory, lines=lines))
    return [write_shopify_csv(shop, directory / "shopify_orders_after_sends.csv", lines=lines)]


def run_closed_loop(ws: Workspace, store: OpsStore, shop: SyntheticShop, out: Path, *,
                    effects: dict[str, Effect] | None = None, window_days: int = 30, seed: int = 0,
                    lang: str = "en", workers: int = 32) -> LoopResult:
    """Plan the shipped scenarios the day after ``observation_end``, send through a fake LINE server on loopback,
    simulate the customers' response for the shop's holdout period, import it, and measure."""
    import time

    effects = DEMO_EFFECTS if effects is None else effects
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        seconds[name] = round(now - t0, 2)
        t0 = now
    day = shop.observation_end + dt.timedelta(days=1)
    pred = ws.read_result("predictions").select("customer_key").to_pandas()
    keys = pred["customer_key"].to_numpy(dtype=object)
    ids = np.char.add("U", np.char.zfill(np.arange(len(keys)).astype(str), 32)).astype(object)
    import_contacts(store, pd.DataFrame({"customer_key": keys, "line_user_id": ids}), source="demo")
    scenarios = load_scenarios(None)
    planned = plan(ws, store, list(scenarios.values()), as_of=day,
                   now=dt.datetime.combine(day, dt.time(10, 0)).replace(tzinfo=ZoneInfo(ws.timezone)))
    lap("plan")
    with store.begin() as conn:
        conn.execute(sa.update(outbox).where(outbox.c.run_id == planned.run_id).values(expires_at=None))
    settings = ws.settings()
    with FakeLineServer(token="demo-token", keep_texts=False, seed=seed) as line:
        settings = settings.model_copy(update={"line_api_base": line.url,
                                               "line_channel_access_token": SecretStr("demo-token")})
        sent = send(store, settings, scenarios, workers=workers, batch=50)
    lap("send")
    box = outbox_frame(store)
    zone = ZoneInfo(ws.timezone)
    box["send_at"] = (pd.to_datetime(box["send_at"]).dt.tz_localize("UTC").dt.tz_convert(zone)
                      .dt.tz_localize(None))
    sends = box.merge(_synthetic_keys(ws, shop), on="customer_key")
    synth_sends = sends.drop(columns=["customer_key"]).rename(columns={"customer_key_synthetic": "customer_key"})
    response = simulate_response(shop, synth_sends, effects, window_days=window_days, seed=seed)
    lap("response")
    files = _write(shop, response.lines, out)
    ws.import_orders(files if len(files) > 1 else files[0])
    lap("import")
    results = crm_results(ws, store, window_days=window_days, as_of=shop.holdout_end, lang=lang)
    measured = results.frame()[["scenario", "send_month", "treated", "holdout", "uplift", "uplift_ci_low",
                                "uplift_ci_high", "adjusted_uplift", "variance_reduction"]]
    truth = response.truth[["scenario", "send_month", "effect_kind", "effect_size", "true_conversion_uplift"]]
    comparison = measured.merge(truth, on=["scenario", "send_month"], how="left")
    lap("results")
    return LoopResult(planned, sent, response.changes, response.truth, results, comparison, files, seconds)
