"""The sender's claim: which due rows it takes, in which order, and that it reads the claim index.

The claim asks each state on its own and keeps the best ``n`` of the answers; these tests pin the order across
states (priority, then due time, then id), what is not due, and the migration that replaced the old
``(state, next_attempt_at)`` index, whose plan sorted every due row on each claim.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ltvkit.actions import OpsStore
from ltvkit.actions._ops import outbox, utcnow
from ltvkit.actions.send import _claim

NOW = utcnow()


def _row(i: int, state: str, priority: int, due_minutes: float, *, channel: str = "line",
         lease_minutes: float | None = None) -> dict:
    now = NOW  # one clock for every row: equal due times are real ties
    return {"key": f"k{i:04d}", "scenario": "s", "customer_key": f"c{i}", "occurrence": "o", "channel": channel,
            "state": state, "holdout": state == "holdout", "priority": priority, "lang": "ja", "context": "{}",
            "planned_at": now, "send_at": now, "next_attempt_at": now + dt.timedelta(minutes=due_minutes),
            "attempts": 0,
            "lease_until": None if lease_minutes is None else now + dt.timedelta(minutes=lease_minutes)}


ROWS = [
    _row(1, "planned", 10, -5),
    _row(2, "planned", 90, -1),
    _row(3, "retry", 90, -30),           # same priority as 2, due earlier: before it
    _row(4, "sending", 50, -60, lease_minutes=-1),   # a lapsed lease: claimable again
    _row(5, "sending", 99, -60, lease_minutes=+10),  # held by a live sender: never
    _row(6, "planned", 99, +30),         # not due yet
    _row(7, "retry", 99, +30),           # not due yet
    _row(8, "planned", 99, -1, channel="email"),  # another channel
    _row(9, "holdout", 99, -1),          # holdout rows never send
    _row(10, "sent", 99, -1),
    _row(11, "planned", 10, -5),         # ties with 1 on priority and due time: after it (id)
]


def _claimed(url: str, n: int) -> list[str]:
    with OpsStore(url) as store:
        with store.begin() as conn:
            conn.execute(sa.insert(outbox), ROWS)
        first = [r.key for r in _claim(store, "w1", n, ["line"], 60)]
        rest = [r.key for r in _claim(store, "w2", 100, ["line"], 60)]
        with store.engine.connect() as conn:
            claimed_by = dict(conn.execute(sa.select(outbox.c.key, outbox.c.claimed_by)).all())
    assert {k for k, w in claimed_by.items() if w == "w1"} == set(first)
    assert {k for k, w in claimed_by.items() if w == "w2"} == set(rest)
    return first + ["|"] + sorted(rest)


def test_claim_takes_due_rows_by_priority_then_due_time_across_states(ops_url):
    assert _claimed(ops_url, 3) == ["k0003", "k0002", "k0004", "|", "k0001", "k0011"]


def test_claim_order_of_the_remainder(ops_url):
    assert _claimed(ops_url, 4) == ["k0003", "k0002", "k0004", "k0001", "|", "k0011"]


def test_old_ops_store_gets_the_claim_index_and_the_claim_reads_it(tmp_path):
    url = "sqlite:///" + str(tmp_path / "ops.sqlite")
    OpsStore(url).close()
    raw = sa.create_engine(url)
    with raw.begin() as conn:  # as a store from before m003 looked
        conn.exec_driver_sql("DROP INDEX ix_outbox_claim")
        conn.exec_driver_sql("CREATE INDEX ix_outbox_due ON outbox (state, next_attempt_at)")
        conn.exec_driver_sql("DELETE FROM ops_migrations WHERE name = 'm003_outbox_claim_index'")
    with OpsStore(url) as store:
        assert store.applied_migrations()[-1] == "m003_outbox_claim_index"
        with store.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'")}
            assert "ix_outbox_claim" in names and "ix_outbox_due" not in names
            q = (sa.select(outbox.c.id).where(outbox.c.state == "planned", outbox.c.next_attempt_at <= utcnow(),
                                              outbox.c.channel.in_(["line"]))
                 .order_by(outbox.c.priority.desc(), outbox.c.next_attempt_at, outbox.c.id).limit(100))
            sql = str(q.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    raw.dispose()
    assert "ix_outbox_claim" in plan and "TEMP B-TREE" not in plan, plan
