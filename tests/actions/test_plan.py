"""Planning: idempotent, holdouts by keyed hash (share within sampling error, stable, independent), consent and
reachability, the frequency cap with priorities, quiet hours; no contact data outside the ops store."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from crmhelp import AS_OF, EVERYONE, N_CUSTOMERS, NOON, write_scenario

from ltvkit import Workspace
from ltvkit.actions import (
    OpsStore,
    import_contacts,
    load_scenarios,
    opt_out,
    outbox_frame,
    plan,
    quiet_hours_shift,
    set_reachable,
)
from ltvkit.actions._ops import outbox
from ltvkit.testing import synthetic_contacts, write_synthetic_results


def _scen(shop, *names):
    found = load_scenarios(shop.scenarios_dir)
    return [found[n] for n in names] if names else list(found.values())


def _count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()


def test_plan_twice_adds_nothing(shop, ops_url):
    shop.ops_url = ops_url
    with OpsStore(ops_url) as store:
        import_contacts(store, synthetic_contacts(N_CUSTOMERS))
    with shop.workspace() as ws, shop.store() as store:
        first = plan(ws, store, _scen(shop), as_of=AS_OF, now=NOON)
        n = _count(store)
        assert n == sum(c.planned + c.holdout for c in first.scenarios.values()) > N_CUSTOMERS // 2
        assert sum(1 for c in first.scenarios.values() if c.planned) >= 5  # library scenarios fire too
        second = plan(ws, store, _scen(shop), as_of=AS_OF, now=NOON)
        assert _count(store) == n
        for name, c in second.scenarios.items():
            assert (c.planned, c.holdout) == (0, 0)
            assert c.eligible == first.scenarios[name].eligible
            done = first.scenarios[name].planned + first.scenarios[name].holdout
            assert c.skipped.get("already_planned", 0) == done, name
        frame = outbox_frame(store)
        assert frame["run_id"].nunique() == 1 and int(frame["run_id"].iloc[0]) == first.run_id
        assert frame["key"].is_unique


def test_plan_report_adds_up_and_dry_run_writes_nothing(shop):
    with shop.workspace() as ws, shop.store() as store:
        dry = plan(ws, store, _scen(shop), as_of=AS_OF, now=NOON, dry_run=True)
        assert _count(store) == 0
        real = plan(ws, store, _scen(shop), as_of=AS_OF, now=NOON)
        for name, c in real.scenarios.items():
            assert c.eligible == c.planned + c.holdout + sum(c.skipped.values()), name
            assert c.to_dict() == dry.scenarios[name].to_dict()
        data = json.loads(json.dumps(real.to_dict()))
        assert set(data["scenarios"]["everyone"]) == {"eligible", "planned", "holdout", "skipped"}


@pytest.fixture(scope="module")
def big_ws(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "ltv.duckdb"
    with Workspace(path) as ws:
        write_synthetic_results(ws, 20_000, AS_OF, seed=7, recommendations=False, replenishment_share=0.0)
        ws.identity_secret()
    return path


def test_holdout_share_is_exact_within_sampling_error_and_stable(big_ws, tmp_path, monkeypatch):
    monkeypatch.setenv("LTV_CRM_FREQUENCY_CAP", "10")
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "holdout share")  # fixed: the 3-standard-error checks are then exact
    d = tmp_path / "sc"
    write_scenario(d, "everyone", EVERYONE.format(holdout=0.1, priority=50))
    write_scenario(d, "everyone-too", EVERYONE.format(holdout=0.1, priority=40).replace("name: everyone",
                                                                                        "name: everyone-too"))
    found = load_scenarios(d, library=False)
    n = 20_000
    with Workspace(big_ws) as ws, OpsStore(f"sqlite:///{tmp_path / 'ops.sqlite'}") as store:
        import_contacts(store, synthetic_contacts(n))
        day1 = plan(ws, store, list(found.values()), as_of=AS_OF, now=NOON)
        day2 = plan(ws, store, list(found.values()), as_of=AS_OF + dt.timedelta(days=1), now=NOON)
        frame = outbox_frame(store)
    for report in (day1, day2):
        for c in report.scenarios.values():
            assert c.eligible == n and c.planned + c.holdout == n
            se = math.sqrt(0.1 * 0.9 / n)
            assert abs(c.holdout / n - 0.1) < 3 * se, c.holdout
    held = {(s, d): set(g.loc[g["holdout"], "customer_key"])
            for (s, d), g in frame.assign(day=frame["send_at"].dt.date).groupby(["scenario", "day"])}
    days = sorted({d for _, d in held})
    assert len(days) == 2
    for s in found:
        assert held[(s, days[0])] == held[(s, days[1])]  # a later occurrence holds out the same customers
    both = held[("everyone", days[0])] & held[("everyone-too", days[0])]
    expected, sd = n * 0.01, math.sqrt(n * 0.01 * 0.99)
    assert abs(len(both) - expected) < 3 * sd  # independent between scenarios
    assert (frame.loc[frame["holdout"], "state"] == "holdout").all()
    assert (frame.loc[~frame["holdout"], "state"] == "planned").all()


def test_holdout_depends_on_the_workspace_secret(shop, monkeypatch):
    with shop.workspace() as ws, shop.store() as store:
        plan(ws, store, _scen(shop, "everyone"), as_of=AS_OF, now=NOON)
        a = set(outbox_frame(store).query("holdout")["customer_key"])
    shop.ws_path.with_name("ltv.ops.sqlite").unlink()
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "another shop")
    with shop.workspace() as ws, OpsStore(shop.ops_url) as store:
        import_contacts(store, synthetic_contacts(N_CUSTOMERS))
        plan(ws, store, _scen(shop, "everyone"), as_of=AS_OF, now=NOON)
        b = set(outbox_frame(store).query("holdout")["customer_key"])
    assert a and b and a != b


@pytest.mark.parametrize(("local", "quiet", "expect"), [
    (dt.datetime(2026, 1, 5, 22, 30), "21:00-09:00", dt.datetime(2026, 1, 6, 9, 0)),
    (dt.datetime(2026, 1, 5, 21, 0), "21:00-09:00", dt.datetime(2026, 1, 6, 9, 0)),
    (dt.datetime(2026, 1, 5, 0, 5), "21:00-09:00", dt.datetime(2026, 1, 5, 9, 0)),
    (dt.datetime(2026, 1, 5, 9, 0), "21:00-09:00", dt.datetime(2026, 1, 5, 9, 0)),
    (dt.datetime(2026, 1, 5, 20, 59), "21:00-09:00", dt.datetime(2026, 1, 5, 20, 59)),
    (dt.datetime(2026, 1, 5, 13, 30), "13:00-14:00", dt.datetime(2026, 1, 5, 14, 0)),
    (dt.datetime(2026, 1, 5, 14, 30), "13:00-14:00", dt.datetime(2026, 1, 5, 14, 30)),
])
def test_quiet_hours(local, quiet, expect):
    assert quiet_hours_shift(local, quiet) == expect


def test_plan_moves_send_time_out_of_quiet_hours_in_the_shop_zone(shop):
    late = dt.datetime.combine(AS_OF, dt.time(22, 30))
    with shop.workspace() as ws, shop.store() as store:
        report = plan(ws, store, _scen(shop, "everyone"), as_of=AS_OF, now=late)
        frame = outbox_frame(store)
    assert report.send_at == dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(9, 0))
    # 09:00 in Tokyo is 00:00 UTC; the outbox keeps UTC
    assert set(frame["send_at"]) == {dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(0, 0))}


def test_frequency_cap_keeps_the_highest_priorities_and_counts_earlier_rows(shop, monkeypatch):
    monkeypatch.setenv("LTV_CRM_HOLDOUT_SHARE", "0.2")
    # fixed: the share check below is within 3 standard errors, which a random secret misses 1 time in 200
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "frequency cap")
    for name, prio in (("high", 90), ("mid", 50), ("low", 10)):
        write_scenario(shop.scenarios_dir, name, EVERYONE.format(holdout="null", priority=prio)
                       .replace("name: everyone", f"name: {name}"))
    (shop.scenarios_dir / "everyone.yaml").unlink()
    found = load_scenarios(shop.scenarios_dir, library=False)
    with shop.workspace() as ws, shop.store() as store:
        report = plan(ws, store, list(found.values()), as_of=AS_OF, now=NOON)
        assert report.scenarios["low"].skipped == {"frequency_cap": N_CUSTOMERS}
        assert report.scenarios["low"].planned == 0
        for name in ("high", "mid"):
            c = report.scenarios[name]
            assert c.planned + c.holdout == N_CUSTOMERS
            assert abs(c.holdout / N_CUSTOMERS - 0.2) < 3 * math.sqrt(0.2 * 0.8 / N_CUSTOMERS)  # setting's share
        # three days later the window (7 days) still holds two rows per customer, holdout rows included
        later = plan(ws, store, [found["high"]], as_of=AS_OF + dt.timedelta(days=3), now=NOON)
        assert later.scenarios["high"].skipped == {"frequency_cap": N_CUSTOMERS}
        # eight days later the window is free again
        free = plan(ws, store, [found["high"]], as_of=AS_OF + dt.timedelta(days=8), now=NOON)
        assert free.scenarios["high"].planned + free.scenarios["high"].holdout == N_CUSTOMERS
    frame = outbox_frame(shop.store())
    per = frame[frame["send_at"] < dt.datetime.combine(AS_OF + dt.timedelta(days=4), dt.time())]
    assert per.groupby("customer_key").size().max() == 2


def test_consent_and_reachability_decide_who_is_planned(shop):
    with shop.store() as store:
        opt_out(store, "c0000001")
        opt_out(store, "c0000002", channel="line")
        opt_out(store, "c0000003", channel="email")  # not the channel of this scenario
        set_reachable(store, "c0000004", "line", False, "blocked")
        import_contacts(store, synthetic_contacts(N_CUSTOMERS).iloc[:1990])  # the last ten have no contact ...
    with shop.store() as store, store.begin() as conn:
        from ltvkit.actions._ops import contacts

        conn.execute(sa.delete(contacts).where(contacts.c.customer_key >= "c0001990"))  # ... really
    with shop.workspace() as ws, shop.store() as store:
        report = plan(ws, store, _scen(shop, "everyone"), as_of=AS_OF, now=NOON)
        frame = outbox_frame(store)
    c = report.scenarios["everyone"]
    assert c.skipped == {"opted_out": 2, "unreachable": 1, "no_contact": 10}
    keys = set(frame["customer_key"])
    assert not keys & {"c0000001", "c0000002", "c0000004", "c0001995"}
    assert "c0000003" in keys


def test_contact_data_stays_in_the_ops_store(shop):
    with shop.workspace() as ws, shop.store() as store:
        plan(ws, store, _scen(shop), as_of=AS_OF, now=NOON)
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox)).mappings().all()
    line_ids = set(synthetic_contacts(N_CUSTOMERS)["line_user_id"])
    for row in rows:
        assert not any(str(v) in line_ids for v in row.values())
        assert "U0000" not in row["context"]
    blob = shop.ws_path.read_bytes()
    assert b"U00000000000000000000000000000" not in blob


def test_missing_results_are_a_note_unless_the_scenario_was_named(tmp_path):
    path = tmp_path / "ltv.duckdb"
    with Workspace(path) as ws, OpsStore(f"sqlite:///{tmp_path / 'o.sqlite'}") as store:
        write_synthetic_results(ws, 300, AS_OF, replenishment_share=0.0)
        import_contacts(store, synthetic_contacts(300))
        lib = load_scenarios()
        report = plan(ws, store, list(lib.values()), as_of=AS_OF, now=NOON)
        assert "ltv recommend --due-soon" in report.scenarios["replenishment-due"].not_planned
        from ltvkit.exceptions import MissingDataError

        with pytest.raises(MissingDataError, match="^Scenario replenishment-due needs data that is missing"):
            plan(ws, store, [lib["replenishment-due"]], as_of=AS_OF, now=NOON, explicit=True)
        with pytest.raises(MissingDataError, match="No predictions are stored as of"):
            plan(ws, store, [lib["winback"]], as_of=AS_OF - dt.timedelta(days=3), now=NOON)


def test_every_column_of_a_planned_row(shop):
    """Each outbox column holds what the plan decided (the rows are written a batch at a time from column
    arrays): the key is the idempotency key of (scenario, customer, occurrence), the context is the customer's
    stored results, the times are the plan's."""
    from ltvkit.actions import idempotency_key
    from ltvkit.actions.plan import read_inputs

    scenarios = _scen(shop)
    with shop.workspace() as ws, shop.store() as store:
        report = plan(ws, store, scenarios, as_of=AS_OF, now=NOON)
        with store.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(sa.select(outbox)).mappings().all())
        secret = ws.identity_secret()
        settings = ws.settings()
        customers = read_inputs(ws, AS_OF).customers.set_index("customer_key")
    assert len(frame) == sum(c.planned + c.holdout for c in report.scenarios.values()) > 0
    by_name = {s.name: s for s in scenarios}
    send_at = report.send_at.replace(tzinfo=dt.timezone(dt.timedelta(hours=9)))  # the shop's zone is JST
    send_utc = send_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    for row in frame.to_dict(orient="records"):
        assert row["key"] == idempotency_key(secret, row["scenario"], row["customer_key"], row["occurrence"])
        assert row["state"] == ("holdout" if row["holdout"] else "planned")
        assert row["priority"] == by_name[row["scenario"]].priority
        assert row["lang"] == settings.crm_lang and row["run_id"] == report.run_id and row["attempts"] == 0
        assert row["channel"] in by_name[row["scenario"]].channels
        assert str(row["as_of"])[:10] == AS_OF.isoformat()
        assert row["send_at"] == send_utc == row["next_attempt_at"]
        assert row["expires_at"] == send_utc + dt.timedelta(days=by_name[row["scenario"]].expires_after_days)
        ctx = json.loads(row["context"])
        cust = customers.loc[row["customer_key"]]
        assert ctx["first_order_date"] == cust["first_order_date"].date().isoformat()
        assert ctx["last_order_date"] == cust["last_order_date"].date().isoformat()
        assert ctx["orders"] == int(cust["orders"])
        assert isinstance(ctx["items"], list) and all({"sku", "name"} <= set(i) for i in ctx["items"])


def test_constant_columns_become_sqlite_literals_that_read_back_the_same():
    """bulk_insert_ignore gives constant columns to SQLite as literals of the statement: each reads back as the
    value (quotes doubled, no injection), and what has no literal form is refused."""
    import sqlite3

    from ltvkit.actions._ops import _sqlite_literal

    con = sqlite3.connect(":memory:")
    values = ["ja", "O'Brien'); DROP TABLE outbox; --", "2026-12-04 03:00:00.000000", "", 0, 42, -7, 1.5, None,
              "日本語の値"]
    got = con.execute("SELECT " + ", ".join(_sqlite_literal(v) for v in values)).fetchall()[0]
    assert list(got) == values
    assert _sqlite_literal(True) == "1" and _sqlite_literal(False) == "0"
    for bad in (float("nan"), float("inf"), b"x", object()):
        with pytest.raises((TypeError, ValueError)):
            _sqlite_literal(bad)


def test_the_context_of_odd_customer_columns_is_valid_json_with_the_stored_values():
    """The context is built in Arrow from the customer frame as stored: counts stored as floats (missing ones
    too), text with quotes and Japanese, missing dates, missing columns, no recommendations, SKUs that are not
    text; every row parses as JSON and holds what the frame holds."""
    from ltvkit.actions.plan import Inputs, _context_builder

    class _Names:
        def product_names(self, skus):
            return {s: (f"名前 \"{s}\"",) for s in skus}

    frame = pd.DataFrame({
        "customer_key": ["a", "b", "c", "d"],
        "orders": [3.0, np.nan, 1.0, 12.9],
        "segment": pd.Series(['Loyal "A"', None, "優良", "At risk"], dtype=object),
        "first_order_date": pd.to_datetime(["2026-01-02 23:59", None, "2025-12-31 00:00", "2024-02-29 12:00"]),
        "_rec1": ["S1", None, "S2", None], "_rec2": [None, None, "S1", None], "_rec3": ["S3", None, None, None]})
    inputs = Inputs(None, frame, None, None, True, {})
    pos = np.array([3, 0, 1, 2, 0])
    sku = np.array(["S2", None, "S9", float("nan"), "S1"], dtype=object)
    due = np.array([20_000.0, np.nan, 20_001.0, np.nan, 0.0])
    rows = [json.loads(t) for t in _context_builder(inputs, _Names(), sku)(pos, sku, due)]
    assert [r["orders"] for r in rows] == [12, 3, None, 1, 3]
    assert [r["segment"] for r in rows] == ["At risk", 'Loyal "A"', None, "優良", 'Loyal "A"']
    assert [r["first_order_date"] for r in rows] == ["2024-02-29", "2026-01-02", None, "2025-12-31", "2026-01-02"]
    assert all(r["last_order_date"] is None and r["expected_next_purchase_date"] is None for r in rows)
    assert [r["due_date"] for r in rows] == ["2024-10-04", None, "2024-10-05", None, "1970-01-01"]
    assert rows[0]["item"] == {"sku": "S2", "name": '名前 "S2"'} and rows[1]["item"] is None
    assert rows[2]["item"] == {"sku": "S9", "name": '名前 "S9"'} and rows[3]["item"] is None
    assert [[i["sku"] for i in r["items"]] for r in rows] == [[], ["S1", "S3"], [], ["S2", "S1"], ["S1", "S3"]]
    # SKUs that are not text are looked up one by one (and are not among the text SKUs)
    rows = [json.loads(t) for t in _context_builder(inputs, _Names(), np.array([7, None], dtype=object))(
        np.array([0, 1]), np.array([7, None], dtype=object), np.array([np.nan, np.nan]))]
    assert [r["item"] for r in rows] == [None, None]
    # without recommendations every list is empty
    plain = Inputs(None, frame[["customer_key", "orders"]], None, None, False, {})
    assert json.loads(_context_builder(plain, _Names(), sku[:1])(pos[:1], sku[:1], due[:1])[0])["items"] == []


def test_a_plan_leaves_the_garbage_collector_as_it_found_it(shop):
    import gc

    scenarios = _scen(shop)
    with shop.workspace() as ws, shop.store() as store:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                plan(ws, store, scenarios, as_of=AS_OF, now=NOON, dry_run=True)
                assert gc.isenabled() is enabled
            finally:
                gc.enable()
