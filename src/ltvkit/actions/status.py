"""What is in the outbox: counts by state, channel and scenario, and one row per message (no contact data)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from ._ops import OpsStore, channel_status, outbox, utcnow

__all__ = ["OUTBOX_COLUMNS", "outbox_frame", "status"]

OUTBOX_COLUMNS = ("key", "customer_key", "scenario", "channel", "state", "holdout", "planned_at", "send_at",
                  "sent_at", "attempts", "run_id")


def status(store: OpsStore) -> dict[str, Any]:
    """Counts by state, by channel and state, by scenario and state, and paused channels."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.scenario, outbox.c.channel, outbox.c.state, sa.func.count())
                            .group_by(outbox.c.scenario, outbox.c.channel, outbox.c.state)).all()
        paused = conn.execute(sa.select(channel_status.c.channel, channel_status.c.paused_until,
                                        channel_status.c.reason)
                              .where(channel_status.c.paused_until > utcnow())).all()
    by_state: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    by_scenario: dict[str, dict[str, int]] = {}
    for scenario, channel, state, n in rows:
        n = int(n)
        by_state[state] = by_state.get(state, 0) + n
        by_channel.setdefault(channel, {}).setdefault(state, 0)
        by_channel[channel][state] += n
        by_scenario.setdefault(scenario, {}).setdefault(state, 0)
        by_scenario[scenario][state] += n
    return {"ops_store": store.safe_url, "total": sum(by_state.values()), "by_state": dict(sorted(by_state.items())),
            "by_channel": dict(sorted(by_channel.items())), "by_scenario": dict(sorted(by_scenario.items())),
            "paused_channels": {c: {"until": u.isoformat(timespec="seconds") + "Z", "reason": r}
                                for c, u, r in paused}}


def outbox_frame(store: OpsStore, *, scenario: str | None = None, state: str | None = None) -> pd.DataFrame:
    """One row per message: key, customer_key, scenario, channel, state, holdout, planned_at, send_at,
    sent_at (UTC), attempts, run_id."""
    stmt = sa.select(*[outbox.c[c] for c in OUTBOX_COLUMNS]).order_by(outbox.c.id)
    if scenario:
        stmt = stmt.where(outbox.c.scenario == scenario)
    if state:
        stmt = stmt.where(outbox.c.state == state)
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=list(OUTBOX_COLUMNS))
