"""Planning onto the new channels: LINE, e-mail, then the mall list for customers with no address; then the list."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ltvkit import pipeline
from ltvkit.actions import (
    OpsStore,
    default_ops_url,
    import_contacts,
    load_scenario,
    opt_out,
    outbox_frame,
    plan,
)
from ltvkit.actions.channels import export_mall_messages
from ltvkit.config import load_settings
from ltvkit.store import Workspace
from ltvkit.synth import generate_shop

SCENARIO = """name: reach-test
trigger: {kind: segment, once_per_days: 30}
channels: [line, email, export]
holdout: 0
template: {ja: "{{ shop }}です。いつもありがとうございます。", en: "Thank you."}
"""


def test_channel_choice_and_mall_list(tmp_path):
    day = dt.date(2025, 12, 31)
    shop = generate_shop(customers=200, seed=1, mall="rakuten")
    ws_path = tmp_path / "ltv.duckdb"
    store = OpsStore(default_ops_url(ws_path))
    try:
        with Workspace(ws_path) as ws:
            ws.append_order_lines(shop.order_lines)
            pipeline.predictions(ws, day)
            pipeline.segments(ws, day, kind="rfm")
            keys = sorted(shop.order_lines["customer_key"].unique())
            a, b, c, d, e = keys[:5]
            import_contacts(store, pd.DataFrame({"customer_key": [a, b], "line_user_id": ["Ua", None],
                                                 "email": [None, "b@example.jp"]}))
            opt_out(store, d, source="test")  # every channel, the mall list included
            opt_out(store, e, channel="export", source="test")
            report = plan(ws, store, [load_scenario("reach-test.yaml", text=SCENARIO)], as_of=day)
        counts = report.to_dict()["scenarios"]["reach-test"]
        assert counts["skipped"] == {"opted_out": 2}
        rows = outbox_frame(store).set_index("customer_key")["channel"]
        assert (rows[a], rows[b], rows[c]) == ("line", "email", "export")
        assert d not in rows.index and e not in rows.index
        with Workspace(ws_path, read_only=True) as ws:
            from ltvkit.actions import load_scenarios

            scenarios = {**load_scenarios(), "reach-test": load_scenario("reach-test.yaml", text=SCENARIO)}
            listed = export_mall_messages(store, ws, load_settings(ws_path), scenarios, tmp_path / "lists",
                                          now=dt.datetime(2026, 1, 1, 12))
        assert listed.exported == {"rakuten": int((rows == "export").sum())}
        lst = pd.read_csv(listed.files["rakuten"], encoding="utf-8-sig", dtype=str)
        assert set(lst["customer_key"]) == set(rows[rows == "export"].index)
        assert lst["order_id"].str.match(r"^\d+-\d{8}-\d+$").all()  # Rakuten order numbers staff can open
    finally:
        store.close()
