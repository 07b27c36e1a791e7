"""The LINE channel through the outbox sender against the fake LINE server: message shapes, faults, reachability."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from chanhelp import TOKEN, add_outbox, outbox_states

from ltvkit.actions import (
    LineChannel,
    Message,
    OpsStore,
    import_contacts,
    load_scenarios,
    opt_out,
    send,
    set_reachable,
    status,
)
from ltvkit.actions._ops import reachability
from ltvkit.config import load_settings
from ltvkit.testing import FakeLineServer

HOSTILE = '<script>alert("x")</script>{{ 7*7 }}'


@pytest.fixture
def line():
    with FakeLineServer(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def env(tmp_path, monkeypatch, line):
    for k, v in {"LTV_LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LTV_LINE_API_BASE": line.url,
                 "LTV_ITEM_URL_TEMPLATE": "https://shop.example/item/{sku}/", "LTV_CRM_RETRY_BASE_SECONDS": "0.01",
                 "LTV_CRM_MAX_ATTEMPTS": "60", "LTV_CRM_SHOP_NAME": "テスト店"}.items():
        monkeypatch.setenv(k, v)
    store = OpsStore("sqlite:///" + str(tmp_path / "ops.sqlite"))
    yield store, load_settings(tmp_path / "ltv.duckdb"), load_scenarios()
    store.close()


def contacts_for(store, n: int, prefix: str = "c") -> list[str]:
    keys = [f"{prefix}{i}" for i in range(n)]
    import pandas as pd

    import_contacts(store, pd.DataFrame({"customer_key": keys, "line_user_id": [f"U{k}" for k in keys]}))
    return keys


def test_text_with_quick_replies_and_flex_items(env, line):
    store, settings, scenarios = env
    contacts_for(store, 3)
    items = [{"sku": "A 1", "name": HOSTILE}, {"sku": "B/2", "name": "詰め替え用"}]
    add_outbox(store, [
        {"customer_key": "c0", "scenario": "cross-sell", "context": {"items": items}},
        {"customer_key": "c1", "scenario": "replenishment-due", "lang": "en",
         "context": {"item": {"sku": "REFILL", "name": "Refill"}, "due_date": "2026-01-10"}},
    ])
    report = send(store, settings, scenarios, channel="line")
    assert report.sent == 2
    got = {d["to"]: d["messages"] for d in line.delivered}
    text, flex = got["Uc0"]
    assert HOSTILE in text["text"]  # sent as a JSON string: text, never markup or a template
    assert [i["action"]["label"] for i in text["quickReply"]["items"]] == ["配信停止"]
    uris = [b["footer"]["contents"][0]["action"]["uri"] for b in flex["contents"]["contents"]]
    assert uris == ["https://shop.example/item/A%201/", "https://shop.example/item/B%2F2/"]
    assert flex["contents"]["contents"][0]["body"]["contents"][1]["text"] == HOSTILE
    (en,) = got["Uc1"]
    actions = [i["action"] for i in en["quickReply"]["items"]]
    assert actions[0] == {"type": "postback", "label": "Order again", "data": "reorder:REFILL",
                          "displayText": "Order again"}
    assert actions[1]["label"] == "stop"


def test_rate_limit_storm_and_5xx_bursts_lose_nothing(env, line):
    store, settings, scenarios = env
    keys = add_outbox(store, [{"customer_key": k} for k in contacts_for(store, 40)])
    line.configure(rate_limit=60, fail_before=15, fail_after=15)
    report = send(store, settings, scenarios, channel="line", wait=True, workers=3, batch=5, seed=0)
    stats = line.stats()
    assert report.sent == 40 and set(outbox_states(store).values()) == {"sent"}
    assert stats["deliveries"] == {k: 1 for k in keys}  # each exactly once, although 15 answers were lost
    assert stats["status_counts"]["429"] == 60 and stats["status_counts"]["409"] >= 1


def test_monthly_quota_pauses_the_channel_and_loses_nothing(env, line):
    store, settings, scenarios = env
    add_outbox(store, [{"customer_key": k} for k in contacts_for(store, 10)])
    line.configure(quota=4)
    report = send(store, settings, scenarios, channel="line")
    assert report.sent == 4
    assert "monthly limit" in report.paused["line"]
    st = status(store)
    assert "monthly limit" in st["paused_channels"]["line"]["reason"]
    states = outbox_states(store)
    assert sorted(states.values()).count("retry") == 6  # waiting for the pause to end, not failed
    before = line.stats()["total_requests"]
    again = send(store, settings, scenarios, channel="line")
    assert again.sent == 0 and line.stats()["total_requests"] == before  # a paused channel is not called


def test_unfollowed_blocked_opted_out_and_unknown_users_get_nothing(env, line):
    store, settings, scenarios = env
    keys = contacts_for(store, 5)
    set_reachable(store, "c0", "line", False, "unfollowed (blocked)")
    opt_out(store, "c1", channel="line", source="test")
    opt_out(store, "c2", source="test")
    line.configure(unknown_users={"Uc3"})
    add_outbox(store, [{"customer_key": k} for k in keys])
    report = send(store, settings, scenarios, channel="line")
    assert [d["to"] for d in line.delivered] == ["Uc4"]
    assert report.sent == 1 and report.failed == 4
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(reachability.c.reachable).where(
            reachability.c.customer_key == "c3", reachability.c.channel == "line")).scalar() is False
    add_outbox(store, [{"customer_key": "c3"}])  # marked unreachable: not even tried again
    n = line.stats()["total_requests"]
    send(store, settings, scenarios, channel="line")
    assert line.stats()["total_requests"] == n


def test_multicast_groups_identical_messages_with_retry_keys(line):
    ch = LineChannel(TOKEN, line.url)
    try:
        msgs = [Message(str(uuid.uuid4()), f"U{i}", "同じ内容", "s", f"c{i}") for i in range(600)]
        msgs.append(Message(str(uuid.uuid4()), "Uother", "別の内容", "s", "cx"))
        first = ch.send_many(msgs)
        assert all(d.ok for d in first) and len(first) == 601
        assert line.stats()["total_requests"] == 3  # 500 + 100 by multicast, 1 push
        line.configure(fail_after=1)  # an answer lost: the retry of the same group is recognised (409)
        again = ch.send_many(msgs)
        assert all(d.ok for d in again)
        assert sum(line.stats()["deliveries"].values()) == 601
        with pytest.raises(ValueError):
            ch.multicast([f"U{i}" for i in range(501)], [{"type": "text", "text": "x"}], str(uuid.uuid4()))
    finally:
        ch.close()
