"""A small demo shop (the synth generator) with hostile product, category and channel names and contact data."""

from __future__ import annotations

import pytest

from ltvkit import Workspace

XSS_PRODUCT = "<script>alert(1)</script>"
XSS_CATEGORY = "<img src=x onerror=alert(2)>"
XSS_CHANNEL = '"><svg onload=alert(3)>'
CONTACT = {"name": "山田太郎", "email": "taro.yamada@example.com", "phone": "090-1234-5678"}


def make_shop_workspace(path, customers: int = 500, seed: int = 3) -> tuple[Workspace, object]:
    from ltvkit.synth import generate_shop

    shop = generate_shop(customers=customers, seed=seed)
    lines = shop.order_lines.copy()
    for col in ("product_name", "category", "channel", "sku"):
        lines[col] = lines[col].astype(object)
    top_sku = lines["sku"].value_counts().index[0]
    lines.loc[lines["sku"] == top_sku, "product_name"] = XSS_PRODUCT
    lines.loc[lines["sku"] == top_sku, "category"] = XSS_CATEGORY
    first_channel = lines["channel"].dropna().iloc[0]
    lines.loc[lines["channel"] == first_channel, "channel"] = XSS_CHANNEL
    ws = Workspace(path)
    ws.append_order_lines(lines)
    key = lines["customer_key"].iloc[0]
    ws.con.execute(
        "INSERT INTO contacts (customer_key, source, name, email, phone, updated_at) VALUES (?, 'rakuten', ?, ?, ?, now()::TIMESTAMP)",
        [key, CONTACT["name"], CONTACT["email"], CONTACT["phone"]])
    costs = shop.acquisition_costs.copy()
    costs.loc[costs["channel"] == first_channel, "channel"] = XSS_CHANNEL
    return ws, costs


@pytest.fixture(scope="session")
def hostile():
    """Names from the data that must show as text, and contact data that must never show."""
    return {"product": XSS_PRODUCT, "category": XSS_CATEGORY, "channel": XSS_CHANNEL, "contact": CONTACT}


@pytest.fixture(scope="session")
def make_shop():
    return make_shop_workspace


@pytest.fixture(scope="session")
def shop_ws(tmp_path_factory):
    ws, costs = make_shop_workspace(tmp_path_factory.mktemp("shop") / "shop.duckdb")
    yield ws, costs
    ws.close()


@pytest.fixture(scope="session")
def reports(shop_ws, tmp_path_factory):
    """The report of the shop in both languages (built once; HTML and Excel written)."""
    from ltvkit.reports import build_report

    ws, costs = shop_ws
    out = tmp_path_factory.mktemp("report")
    return {lang: build_report(ws, lang=lang, out=out / f"report-{lang}.html", xlsx=out / f"report-{lang}.xlsx",
                               costs=costs, strict=True)
            for lang in ("ja", "en")}
