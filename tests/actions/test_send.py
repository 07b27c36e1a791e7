"""Sending through the fake LINE server (real HTTP on loopback): exactly once per idempotency key, opt-outs
honoured at send time, transient failures retried, quota pauses the channel, permanent failures recorded."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from crmhelp import AS_OF, N_CUSTOMERS, NOON

from ltvkit.actions import load_scenarios, opt_out, outbox_frame, plan, send, status
from ltvkit.actions._ops import attempts, outbox, reachability
from ltvkit.config import load_settings
from ltvkit.testing import synthetic_contacts


def _plan(shop, names=("everyone",)):
    found = load_scenarios(shop.scenarios_dir)
    with shop.workspace() as ws, shop.store() as store:
        plan(ws, store, [found[n] for n in names], as_of=AS_OF, now=NOON)
        return outbox_frame(store)


def _send(shop, **kw):
    with shop.store() as store:
        return send(store, load_settings(shop.ws_path), load_scenarios(shop.scenarios_dir), **kw)


def test_every_planned_message_is_delivered_once_and_holdouts_never(shop, fake_line):
    planned = _plan(shop)
    report = _send(shop, workers=2)
    treated = set(planned.loc[~planned["holdout"], "key"])
    held = set(planned.loc[planned["holdout"], "key"])
    stats = fake_line.stats()
    assert set(stats["deliveries"]) == treated  # the idempotency key is the retry key
    assert set(stats["deliveries"].values()) == {1}
    assert set(stats["requests"].values()) == {1} and stats["no_key"] == 0
    assert not held & set(stats["requests"])
    assert report.sent == len(treated) and report.failed == 0
    after = outbox_frame(shop.store())
    assert set(after.loc[after["holdout"], "state"]) == {"holdout"}
    assert set(after.loc[~after["holdout"], "state"]) == {"sent"}
    assert after.loc[~after["holdout"], "sent_at"].notna().all()
    # rendered at send time, with the customer's data and the shop name from the settings
    texts = {d["text"] for d in fake_line.delivered}
    assert all(t.startswith(" ") is False and "回のご注文ありがとうございます" in t for t in texts)
    assert _send(shop).claimed == 0  # nothing left to send


def test_opt_out_between_plan_and_send_stops_the_message(shop, fake_line):
    planned = _plan(shop)
    treated = planned.loc[~planned["holdout"]]
    a, b = treated["customer_key"].iloc[:2]
    with shop.store() as store:
        opt_out(store, a)
        opt_out(store, b, channel="line")
    _send(shop)
    after = outbox_frame(shop.store()).set_index("customer_key")
    sent_to = {d["to"] for d in fake_line.delivered}
    ids = dict(synthetic_contacts(N_CUSTOMERS).values)
    assert ids[a] not in sent_to and ids[b] not in sent_to
    assert after.loc[a, "state"] == "failed" and after.loc[b, "state"] == "failed"
    with shop.store() as store, store.engine.connect() as conn:
        errors = dict(conn.execute(sa.select(outbox.c.customer_key, outbox.c.last_error)
                                   .where(outbox.c.customer_key.in_([a, b]))).all())
    assert errors == {a: "opted_out", b: "opted_out"}
    assert len(sent_to) == len(treated) - 2


def test_transient_failures_are_retried_and_delivered_exactly_once(shop, fake_line):
    planned = _plan(shop)
    treated = set(planned.loc[~planned["holdout"], "key"])
    fake_line.configure(fail_before=7, fail_after=9, rate_limit=5)
    report = _send(shop, workers=2, wait=True)
    stats = fake_line.stats()
    assert set(stats["deliveries"]) == treated and set(stats["deliveries"].values()) == {1}
    assert stats["status_counts"]["409"] == 9  # lost answers recognised by their retry key
    assert stats["status_counts"]["500"] == 16 and stats["status_counts"]["429"] == 5
    assert report.sent == len(treated)
    with shop.store() as store, store.engine.connect() as conn:
        outcomes = dict(conn.execute(sa.select(attempts.c.outcome, sa.func.count()).group_by(attempts.c.outcome)).all())
        multi = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.attempts > 1)).scalar_one()
    assert outcomes["retry"] == 21 and outcomes["sent"] == len(treated)
    assert multi == 21


def test_backoff_grows_exponentially_with_jitter():
    import random

    from ltvkit.actions import backoff_seconds

    rng = random.Random(0)
    for attempt in range(1, 8):
        d = backoff_seconds(attempt, 30.0, rng)
        assert 15.0 * 2 ** (attempt - 1) <= d <= 30.0 * 2 ** (attempt - 1)
    assert backoff_seconds(30, 30.0, rng) <= 3600.0


def test_exhausted_quota_pauses_the_channel_with_a_clear_status(shop, fake_line):
    planned = _plan(shop)
    fake_line.configure(quota=25)
    report = _send(shop)
    assert report.sent == 25 and "line" in report.paused and "monthly limit" in report.paused["line"]
    with shop.store() as store:
        st = status(store)
        assert "monthly limit" in st["paused_channels"]["line"]["reason"]
        again = send(store, load_settings(shop.ws_path), load_scenarios(shop.scenarios_dir))
    assert again.claimed == 0 and "line" in again.paused
    after = outbox_frame(shop.store())
    waiting = after[after["state"].isin(["retry", "planned"]) & ~after["holdout"]]
    assert len(waiting) == (~planned["holdout"]).sum() - 25
    assert (waiting["attempts"] == 0).all()  # a pause does not use up attempts
    assert (after["state"] == "retry").sum() > 0  # the batch in hand when the quota ran out waits its turn
    assert len(fake_line.stats()["deliveries"]) == 25


def test_permanent_failure_marks_the_customer_unreachable(shop, fake_line):
    planned = _plan(shop)
    victim = planned.loc[~planned["holdout"], "customer_key"].iloc[0]
    line_id = dict(synthetic_contacts(N_CUSTOMERS).values)[victim]
    fake_line.configure(unknown_users={line_id})
    report = _send(shop)
    assert report.failed == 1 and report.failures == {"http_400": 1}
    with shop.store() as store, store.engine.connect() as conn:
        row = conn.execute(sa.select(reachability).where(reachability.c.customer_key == victim)).mappings().one()
    assert row["reachable"] is False and row["channel"] == "line"
    # the next plan skips the unreachable customer
    found = load_scenarios(shop.scenarios_dir)
    with shop.workspace() as ws, shop.store() as store:
        later = plan(ws, store, [found["everyone"]], as_of=AS_OF + dt.timedelta(days=1), now=NOON)
    assert later.scenarios["everyone"].skipped.get("unreachable") == 1


def test_expired_messages_are_not_sent(shop, fake_line):
    _plan(shop)
    with shop.store() as store, store.begin() as conn:
        conn.execute(sa.update(outbox).values(expires_at=dt.datetime(2000, 1, 1)))
    report = _send(shop)
    assert report.expired == (outbox_frame(shop.store())["state"] == "expired").sum() > 0
    assert fake_line.stats()["total_requests"] == 0


def test_limit_claims_at_most_n(shop, fake_line):
    _plan(shop)
    report = _send(shop, limit=37, workers=3)
    assert report.claimed == 37 and report.sent == 37
    assert len(fake_line.stats()["deliveries"]) == 37


def test_a_slow_batch_renews_its_lease_so_no_other_sender_claims_it(shop, fake_line):
    # each push takes 0.25 s, a batch of 12 takes ~3 s and the lease is 1.5 s: without renewal a second sender
    # started meanwhile would claim the rest of the first one's batch and push it again
    import threading
    import time

    _plan(shop)
    fake_line.configure(latency=0.25)
    settings = load_settings(shop.ws_path).model_copy(update={"crm_lease_seconds": 1.5})
    scen = load_scenarios(shop.scenarios_dir)
    reports = {}

    def first():
        with shop.store() as store:
            reports["first"] = send(store, settings, scen, limit=12, batch=12)

    t = threading.Thread(target=first)
    t.start()
    time.sleep(1.9)  # past the first sender's original lease
    with shop.store() as store:
        reports["second"] = send(store, settings, scen, limit=12, batch=12)
    t.join()
    stats = fake_line.stats()
    assert reports["first"].sent == 12 and reports["second"].sent == 12
    assert len(stats["requests"]) == 24
    assert set(stats["requests"].values()) == {1}, "a row was pushed by both senders"
