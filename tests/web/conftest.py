"""Fixtures of the dashboard tests: a small shop with stored results (hostile names, contact data), its ops store
(messages in every state, a linked LINE user), a scenarios folder, the fake LINE server and `ltv serve`'s app."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from webhelp import (  # noqa: E402
    CONTACT,
    FORMULA_CUSTOMER,
    LINE_USER,
    MEASURED,
    OPS_EMAIL,
    TOKEN,
    XSS_CATEGORY,
    XSS_CUSTOMER,
    XSS_DESCRIPTION,
    XSS_PRODUCT,
    XSS_SCENARIO,
    AppServer,
    copy_shop,
    make_app,
)

SCENARIO_YAML = f"""\
name: web-vip
description: '{XSS_DESCRIPTION}'
trigger:
  kind: segment
  once_per_days: 30
audience:
  - "segment in ['Champions', 'Loyal']"
channels: [line]
holdout: 0.2
template:
  ja: "{{{{ shop }}}}です。いつもありがとうございます（{{{{ orders }}}}回のご注文）。"
  en: "Thanks for your {{{{ orders }}}} orders."
"""


def _build_workspace(path: Path) -> str:
    """A 400-customer synthetic shop with every analysis stored; returns the hostile customer's key."""
    from ltvkit import Workspace, pipeline
    from ltvkit.reports.data import ReportSettings, build_report_data
    from ltvkit.synth import generate_shop

    shop = generate_shop(customers=400, seed=7)
    lines = shop.order_lines.copy()
    for col in ("product_name", "category", "sku", "customer_key"):
        lines[col] = lines[col].astype(object)
    top_sku = lines["sku"].value_counts().index[0]
    lines.loc[lines["sku"] == top_sku, "product_name"] = XSS_PRODUCT
    lines.loc[lines["sku"] == top_sku, "category"] = XSS_CATEGORY
    counts = lines.groupby("customer_key")["order_id"].nunique()
    victim = counts[counts >= 3].index[0]  # a repeat customer: in segments, predictions and recommendations
    lines.loc[lines["customer_key"] == victim, "customer_key"] = XSS_CUSTOMER
    formula = counts[counts >= 3].index[1]
    lines.loc[lines["customer_key"] == formula, "customer_key"] = FORMULA_CUSTOMER
    with Workspace(path) as ws:
        ws.append_order_lines(lines)
        contact_key = str(next(k for k in counts[counts >= 2].index if k not in (victim, formula)))
        ws.con.execute("INSERT INTO contacts (customer_key, source, name, email, phone, updated_at) "
                       "VALUES (?, 'rakuten', ?, ?, ?, now()::TIMESTAMP)",
                       [contact_key, CONTACT["name"], CONTACT["email"], CONTACT["phone"]])
        build_report_data(ws, ReportSettings(lang="en", strict=True))
        pipeline.replenishment(ws)
        ws.identity_secret()
    return contact_key


def _fill_store(store, contact_key: str) -> dict[str, str]:
    """Messages in every state (one dead), the contact's addresses and a linked LINE user."""
    from ltvkit.actions import opt_out
    from ltvkit.actions._ops import contacts, outbox, utcnow
    from ltvkit.actions.linking import link_line_user

    now = utcnow()
    keys = {}
    rows = []
    for i, (state, scenario, customer) in enumerate((
            ("failed", "winback", contact_key), ("planned", "winback", contact_key),
            ("sent", XSS_SCENARIO, XSS_CUSTOMER), ("holdout", "vip-thanks", contact_key),
            ("expired", "cross-sell", XSS_CUSTOMER))):
        key = f"00000000-0000-4000-8000-00000000000{i}"
        keys[state] = key
        rows.append({"key": key, "scenario": scenario, "customer_key": customer, "occurrence": str(i),
                     "channel": "line", "state": state, "holdout": state == "holdout", "priority": 50, "lang": "ja",
                     "context": json.dumps({}), "run_id": 1, "as_of": now.date(), "planned_at": now,
                     "send_at": now - dt.timedelta(days=i), "expires_at": now - dt.timedelta(days=1),
                     "next_attempt_at": now, "attempts": 3 if state == "failed" else 0,
                     "sent_at": now if state == "sent" else None,
                     "last_error": "blocked by the user" if state == "failed" else None})
    with store.begin() as conn:
        store.insert_ignore(conn, outbox, rows, ["key"])
    link_line_user(store, LINE_USER, contact_key)
    with store.begin() as conn:
        conn.execute(contacts.update().where(contacts.c.customer_key == contact_key).values(email=OPS_EMAIL))
    opt_out(store, contact_key, channel="email", source="test")
    return keys


def _measured_campaign(path: Path, store) -> None:
    """120 messages of one scenario sent in the shop's past (a third held out), measured by `ltv crm results`."""
    from ltvkit import Workspace
    from ltvkit.actions import crm_results
    from ltvkit.actions._ops import outbox

    with Workspace(path) as ws:
        keys = ws.read_result("segments_rfm").select("customer_key").order_by("customer_key").to_pandas()
        day = ws.last_order_date() - dt.timedelta(days=90)
        when = dt.datetime.combine(day, dt.time(3, 0))
        rows = [{"key": f"10000000-0000-4000-8000-{i:012d}", "scenario": MEASURED["scenario"], "customer_key": k,
                 "occurrence": "m", "channel": "line", "state": "holdout" if i % 3 == 2 else "sent",
                 "holdout": i % 3 == 2, "priority": 50, "lang": "ja", "context": "{}", "run_id": 1, "as_of": day,
                 "planned_at": when, "send_at": when, "expires_at": when + dt.timedelta(days=7),
                 "next_attempt_at": when, "attempts": 0 if i % 3 == 2 else 1,
                 "sent_at": None if i % 3 == 2 else when}
                for i, k in enumerate(keys["customer_key"].head(120))]
        with store.begin() as conn:
            store.insert_ignore(conn, outbox, rows, ["key"])
        crm_results(ws, store, scenario=MEASURED["scenario"], window_days=30, save=True)


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    """The template shop: workspace, ops store and scenarios folder (copied per test module)."""
    from ltvkit.actions import OpsStore

    base = tmp_path_factory.mktemp("web-shop")
    contact_key = _build_workspace(base / "ltv.duckdb")
    store = OpsStore("sqlite:///" + str(base / "ltv.ops.sqlite"))
    keys = _fill_store(store, contact_key)
    _measured_campaign(base / "ltv.duckdb", store)
    store.close()
    (base / "scenarios").mkdir()
    (base / "scenarios" / "web-vip.yaml").write_text(SCENARIO_YAML, encoding="utf-8")
    return {"dir": base, "contact_key": contact_key, "outbox_keys": keys}


@pytest.fixture(scope="module")
def fake_line():
    from ltvkit.testing import FakeLineServer

    with FakeLineServer(token=TOKEN) as line:
        yield line


@pytest.fixture(scope="module")
def served(shop, fake_line, tmp_path_factory):
    """The dashboard on a free loopback port over a private copy of the shop: (url, store, folder)."""
    folder = copy_shop(shop, tmp_path_factory.mktemp("served") / "shop")
    app, store = make_app(folder, fake_line)
    with AppServer(app) as server:
        yield server.url, store, folder
    store.close()
