import pytest

from ltvkit.features import MarginSettings, margin_lines


def _margins(ws, settings=None, products=None):
    t = margin_lines(ws.orders(), settings, products).order_by(["order_id", "line_no"]).to_pandas()
    return t.set_index(["order_id", "line_no"])


def test_own_site_line_pays_its_points_and_coupons(make_ws):
    ws = make_ws([{"c": "a", "at": "2025-01-10 10:00", "amount": 10_000, "shop_coupon": 500, "points": 200}])
    row = _margins(ws).iloc[0]
    # cogs 40 % = 4000; shop discount 500 + 200 (own-site points); payment 3 % of 9300 paid = 279
    assert (row.cogs, row.shop_discount, row.point_cost, row.fees) == (4000, 700, 0, 279)
    assert row.margin == 10_000 - 4000 - 700 - 279 == 5021


def test_mall_funded_points_and_coupons_are_not_the_shops_cost(make_ws):
    ws = make_ws([{"c": "a", "at": "2025-01-10 10:00", "amount": 10_000, "source": "rakuten", "cost": 3000,
                   "points": 1000, "mall_coupon": 500, "point_rate": 2.0}])
    row = _margins(ws).iloc[0]
    # granted points 1 % × 2 = 200; payment 3 % of 8500 = 255; Rakuten fee 7 % of 10000 = 700
    assert (row.cogs, row.shop_discount, row.point_cost, row.fees) == (3000, 0, 200, 955)
    assert row.margin == 5845


def test_products_unit_cost_and_shipping_per_order(make_ws):
    ws = make_ws([
        {"c": "a", "at": "2025-01-10 10:00", "amount": 5000, "quantity": 2, "sku": "P", "order_id": "x", "line_no": 1},
        {"c": "a", "at": "2025-01-10 10:00", "amount": 1000, "sku": "Q", "order_id": "x", "line_no": 2,
         "shipping_fee": 600},
    ])
    ws.con.execute("INSERT INTO products (sku, unit_cost) VALUES ('P', 1200)")
    s = MarginSettings(shipping_cost_per_order=600, shipping_fee_is_revenue=True, payment_fee_rate=0.0)
    t = _margins(ws, s, ws.table("products"))
    assert list(t.cogs) == [2400, 400]  # 2 × 1200 from products; 40 % of 1000 as fallback
    assert list(t.shipping_cost) == [300, 300]
    assert list(t.revenue) == [5000, 1600]
    assert t.margin.sum() == 6600 - 2800 - 600


def test_settings_validate():
    with pytest.raises(ValueError):
        MarginSettings(cost_rate=1.5)
    with pytest.raises(ValueError):
        MarginSettings(unknown=1)
