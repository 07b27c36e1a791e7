"""Mall message lists (channel export) and `ltv contacts list`."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from chanhelp import add_outbox, outbox_states
from test_inserts import line

from ltvkit.actions import (
    OpsStore,
    default_ops_url,
    import_contacts,
    issue_link_codes,
    load_scenarios,
    opt_out,
    redeem_code,
    send,
    set_reachable,
)
from ltvkit.actions._ops import outbox, utcnow
from ltvkit.cli import main
from ltvkit.config import load_settings
from ltvkit.store import Workspace


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setenv("LTV_CRM_SHOP_NAME", "テスト店")
    ws = tmp_path / "ltv.duckdb"
    with Workspace(ws) as w:
        w.append_order_lines(pd.DataFrame([
            line("rakuten", "r-1", 1, "c1", "2026-10-01", "S-1", "a"),
            line("rakuten", "r-2", 1, "c1", "2026-11-01", "S-1", "a"),
            line("yahoo", "y-1", 1, "c2", "2026-11-02", "S-1", "a"),
            line("shopify", "#1", 1, "c3", "2026-11-03", "S-1", "a")]))
    store = OpsStore(default_ops_url(ws))
    yield ws, store
    store.close()


def read(path):
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str)


def test_lists_per_mall_rows_become_sent_once(shop, tmp_path, capsys):
    ws, store = shop
    keys = add_outbox(store, [{"customer_key": c, "channel": "export", "scenario": "vip-thanks",
                               "context": {"orders": 3}} for c in ("c1", "c2", "c3")])
    opt_out(store, "c4", source="test")
    add_outbox(store, [{"customer_key": "c4", "channel": "export"}])
    # `ltv crm send` leaves lists for staff alone
    assert send(store, load_settings(ws), load_scenarios()).claimed == 0
    out = tmp_path / "lists"
    assert main(["mall", "export", "--out-dir", str(out), "--workspace", str(ws), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["exported"] == {"rakuten": 1, "yahoo": 1}
    assert report["failed"] == {"no_mall_order": 1, "opted_out": 1}
    rak = read(report["files"]["rakuten"])
    assert list(rak["order_id"]) == ["r-2"]  # the latest order on the mall
    assert "3回のご注文" in rak["text"][0] and "テスト店" in rak["text"][0]
    assert list(read(report["files"]["yahoo"])["key"]) == [keys[1]]
    states = outbox_states(store)
    assert [states[k] for k in keys] == ["sent", "sent", "failed"]
    assert main(["mall", "export", "--out-dir", str(out), "--workspace", str(ws), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == {}  # nothing listed twice
    assert len(list(out.glob("*.csv"))) == 2 and not list(out.glob("*.tmp"))


def test_an_interrupted_export_is_finished_not_repeated(shop, tmp_path):
    ws, store = shop
    written, lost = add_outbox(store, [{"customer_key": "c1", "channel": "export", "scenario": "vip-thanks"},
                                       {"customer_key": "c2", "channel": "export", "scenario": "vip-thanks"}])
    done_file = tmp_path / "rakuten-messages-old.csv"
    done_file.write_text("order_id\n", encoding="utf-8")
    past = utcnow() - dt.timedelta(hours=2)
    with store.begin() as conn:  # as left by an export killed after writing one file, before marking rows sent
        for key, path in ((written, done_file), (lost, tmp_path / "yahoo-messages-never-written.csv")):
            conn.execute(sa.update(outbox).where(outbox.c.key == key).values(
                state="sending", claimed_by="export:dead", lease_until=past, provider_id=str(path)))
    from ltvkit.actions.channels import export_mall_messages

    with Workspace(ws, read_only=True) as w:
        report = export_mall_messages(store, w, load_settings(ws), load_scenarios(), tmp_path / "lists")
    assert report.recovered == 1 and report.exported == {"yahoo": 1}
    assert outbox_states(store) == {written: "sent", lost: "sent"}


def test_contacts_list(shop, capsys):
    ws, store = shop
    import_contacts(store, pd.DataFrame({"customer_key": ["a", "b", "c"], "email": ["a@x.jp", "b@x.jp", None],
                                         "line_user_id": [None, "Ub", None]}))
    code, _ = issue_link_codes(store, [("c", "o")], days=1)[("c", "o")]
    redeem_code(store, code, "Uc")
    set_reachable(store, "b", "line", False, "unfollowed")
    opt_out(store, "a", channel="email", source="test")
    assert main(["contacts", "list", "--json", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    rows = {r["customer_key"]: r for r in json.loads(out)}
    assert rows["a"]["channels"] == ["email"] and rows["a"]["reachable"] == [] and rows["a"]["opted_out"] == ["email"]
    assert rows["b"]["reachable"] == ["email"] and rows["b"]["unreachable"] == ["line"]
    assert rows["c"]["reachable"] == ["line"] and rows["c"]["line_linked_at"] and rows["c"]["line_following"]
    assert "@" not in out and "Ub" not in out  # no addresses
    assert main(["contacts", "list", "--workspace", str(ws), "--lang", "en"]) == 0
    assert "ltv contacts list" in capsys.readouterr().out
    assert main(["contacts", "list", "--workspace", str(ws)]) == 0  # the default language is Japanese
    assert "連絡先" in capsys.readouterr().out
