"""Cohort table, RFM segments and point dependence on N order lines: ltvkit (Ibis -> DuckDB) vs hand-written SQL.

The order lines are generated with numpy straight into a workspace DuckDB file (in chunks, so memory stays
moderate). The peer is a hand-written DuckDB SQL query computing the same cohort table (same margin formula,
same 30-day columns, same cumulative margin per customer) and the same RFM scores, run in the same process on
the same connection; the results are checked equal before timing counts.

    .venv/bin/python bench/analytics_vs_sql.py --lines 1000000          # quick
    .venv/bin/python bench/analytics_vs_sql.py --lines 10000000 --repeat 3

Prints one table: task, ltvkit seconds, SQL seconds, ratio (goal: cohort ratio within 1.3x). Exits 1 when the
cohort ratio misses the goal or when ltvkit's cohort table or RFM segments differ from the SQL peer's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from _goals import Goals, add_goal_arguments

from ltvkit import Workspace
from ltvkit.features import cohort_expr, point_dependence, segment_customers

GOAL_COHORT_RATIO = 1.3  # ltvkit seconds / hand-written SQL seconds

AS_OF = dt.date(2025, 12, 31)
START = dt.datetime(2023, 1, 1)


def generate(path: Path, n_lines: int, seed: int = 0, chunk: int = 2_000_000) -> None:
    """Write ``n_lines`` canonical order lines (about 1.4 lines per order, 4 orders per customer)."""
    rng = np.random.default_rng(seed)
    n_customers = max(1, n_lines // 6)
    with Workspace(path) as ws:
        con = ws.con
        done, order_no = 0, 0
        span = int((dt.datetime(2026, 1, 10) - START).total_seconds())
        sources = np.array(["rakuten", "yahoo", "shopify"])
        cats = np.array(["skincare", "supplement", "food", "haircare", "bath"])
        channels = np.array(["search", "ads", "line", "sns", None], dtype=object)
        acq = rng.integers(0, span, n_customers)  # acquisition time of each customer
        while done < n_lines:
            m = min(chunk, n_lines - done)
            n_orders = int(m / 1.4) + 1
            cust = rng.integers(0, n_customers, n_orders)
            secs = acq[cust] + (rng.random(n_orders) ** 2 * (span - acq[cust])).astype(np.int64)
            n_lin = np.minimum(1 + rng.poisson(0.4, n_orders), 4)
            order_idx = np.repeat(np.arange(n_orders), n_lin)[:m]
            line_no = (np.arange(len(order_idx)) - np.searchsorted(order_idx, order_idx)) + 1
            k = len(order_idx)
            ordered_at = (np.datetime64(START, "us") + secs[order_idx].astype("timedelta64[s]")).astype("datetime64[us]")
            qty = rng.integers(1, 3, k)
            price = rng.choice(np.array([980, 1480, 1980, 2980, 4980]), k)
            amount = qty * price
            src = sources[cust[order_idx] % 3]
            used = rng.random(k) < 0.3
            points = np.where(used, (amount * rng.uniform(0, 0.3, k)).astype(np.int64), 0)
            mall_coupon = np.where((rng.random(k) < 0.1) & (src != "shopify"), amount // 10, 0)
            shop_coupon = np.where(rng.random(k) < 0.1, amount // 20, 0)
            status = np.where(rng.random(k) < 0.03, "cancelled", "ordered")
            table = pa.table({
                "source": pa.array(src),
                "order_id": pa.array(np.char.add("o", (order_idx + order_no).astype(str))),
                "line_no": pa.array(line_no.astype(np.int32)),
                "customer_key": pa.array(np.char.add("c", cust[order_idx].astype(str))),
                "ordered_at": pa.array(ordered_at),
                "order_date": pa.array(ordered_at.astype("datetime64[D]")),
                "sku": pa.array(np.char.add("SKU", (price // 10 + line_no).astype(str))),
                "category": pa.array(cats[(price // 500) % 5]),
                "quantity": pa.array(qty.astype(np.int32)),
                "unit_price": pa.array(price.astype(np.int64)),
                "line_amount": pa.array(amount.astype(np.int64)),
                "shop_coupon": pa.array(shop_coupon.astype(np.int64)),
                "mall_coupon": pa.array(mall_coupon.astype(np.int64)),
                "points_used": pa.array(points.astype(np.int64)),
                "point_rate": pa.array(np.where(src == "shopify", np.nan, 1.0)),
                "shipping_fee": pa.array(np.zeros(k, dtype=np.int64)),
                "channel": pa.array(channels[cust[order_idx] % 5]),
                "status": pa.array(status),
                "import_id": pa.array(np.zeros(k, dtype=np.int64)),
            })
            con.register("_chunk", table)
            cols = ", ".join(table.column_names)
            con.execute(f"INSERT INTO order_lines ({cols}) SELECT {cols} FROM _chunk")
            con.unregister("_chunk")
            done += k
            order_no += n_orders
            del table


COHORT_SQL = """
WITH l AS (
  SELECT ol.*, coalesce(ol.cost, p.unit_cost * ol.quantity, CAST(round(ol.line_amount * 0.4) AS BIGINT)) AS cogs,
         ol.source IN ('rakuten', 'yahoo', 'amazon', 'au', 'wowma', 'qoo10') AS is_mall
  FROM order_lines ol LEFT JOIN (SELECT DISTINCT ON (sku) sku, unit_cost FROM products) p USING (sku)
  WHERE ol.status = 'ordered' AND ol.order_date <= DATE '{as_of}'
), lm AS (
  SELECT source, order_id, customer_key, ordered_at, order_date, line_amount,
         line_amount - cogs - (shop_coupon + CASE WHEN is_mall THEN 0 ELSE points_used END)
         - CASE WHEN is_mall THEN CAST(round(line_amount * 0.01 * coalesce(point_rate, 1.0)) AS BIGINT) ELSE 0 END
         - CAST(round((line_amount - shop_coupon - mall_coupon - points_used) * 0.03
                      + line_amount * CASE source WHEN 'rakuten' THEN 0.07 WHEN 'yahoo' THEN 0.05
                                                  WHEN 'amazon' THEN 0.10 ELSE 0.0 END) AS BIGINT) AS margin
  FROM l
), o AS (
  SELECT source, order_id, customer_key, min(ordered_at) AS ordered_at, min(order_date) AS order_date,
         sum(line_amount) AS revenue, sum(margin) AS margin
  FROM lm GROUP BY ALL
), f AS (
  SELECT customer_key, min(order_date) AS first_date FROM o GROUP BY 1
), r AS (
  SELECT o.*, f.first_date, date_trunc('month', f.first_date)::DATE AS cohort,
         (o.order_date - f.first_date) // 30 AS idx
  FROM o JOIN f USING (customer_key)
), sizes AS (
  SELECT date_trunc('month', first_date)::DATE AS cohort, count(*) AS cohort_size, min(first_date) AS lo,
         max(first_date) AS hi
  FROM f GROUP BY 1
), cells AS (
  SELECT cohort, idx, count(DISTINCT customer_key) AS active_customers, count(*) AS orders,
         sum(revenue) AS revenue, sum(margin) AS margin
  FROM r WHERE idx < 24 GROUP BY ALL
), grid AS (
  SELECT s.*, g.idx FROM sizes s CROSS JOIN range(24) g(idx) WHERE DATE '{as_of}' - s.lo >= g.idx * 30
)
SELECT g.cohort, g.cohort_size, (g.idx + 1) * 30 AS period,
       coalesce(c.active_customers, 0) AS active_customers,
       coalesce(c.active_customers, 0) / g.cohort_size AS retention,
       coalesce(c.orders, 0) AS orders, coalesce(c.revenue, 0) AS revenue, coalesce(c.margin, 0) AS margin,
       sum(coalesce(c.revenue, 0)) OVER w / g.cohort_size AS cum_revenue_per_customer,
       sum(coalesce(c.margin, 0)) OVER w / g.cohort_size AS cum_margin_per_customer,
       DATE '{as_of}' - g.hi >= (g.idx + 1) * 30 - 1 AS complete
FROM grid g LEFT JOIN cells c USING (cohort, idx)
WINDOW w AS (PARTITION BY g.cohort ORDER BY g.idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY g.cohort, period
"""

_MARGIN_CTES = COHORT_SQL[: COHORT_SQL.index("), o AS (")] + ")"

RFM_SQL = _MARGIN_CTES + """, o AS (
  SELECT customer_key, source, order_id, min(order_date) AS order_date, sum(line_amount) AS revenue,
         sum(margin) AS margin
  FROM lm GROUP BY ALL
), b AS (
  SELECT customer_key, count(*) AS orders, DATE '{as_of}' - max(order_date) AS recency_days,
         sum(revenue) AS revenue, sum(margin) AS margin
  FROM o GROUP BY 1
), c AS (
  SELECT DISTINCT customer_key FROM order_lines WHERE order_date <= DATE '{as_of}'
), s AS (
  SELECT b.*, least(floor(percent_rank() OVER (ORDER BY recency_days DESC) * 5) + 1, 5) AS r_score,
         least(floor(percent_rank() OVER (ORDER BY orders) * 5) + 1, 5) AS f_score,
         least(floor(percent_rank() OVER (ORDER BY revenue) * 5) + 1, 5) AS m_score
  FROM b
), g AS (SELECT *, (f_score + m_score + 1) // 2 AS fm FROM s)
SELECT c.customer_key, r_score, f_score, m_score, orders, revenue, margin, CASE
  WHEN orders IS NULL THEN 'Prospects'
  WHEN orders = 1 AND r_score = 5 THEN 'New' WHEN orders = 1 AND r_score = 4 THEN 'Promising'
  WHEN r_score = 5 AND fm >= 4 THEN 'Champions' WHEN r_score >= 3 AND fm >= 4 THEN 'Loyal'
  WHEN r_score >= 4 THEN 'Active' WHEN r_score = 3 THEN 'Needs attention'
  WHEN r_score = 2 AND fm >= 3 THEN 'At risk' WHEN r_score = 2 THEN 'Almost lost'
  WHEN fm >= 4 THEN 'Previously loyal' ELSE 'Dormant' END AS segment
FROM c LEFT JOIN g USING (customer_key)
"""


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rss_mib() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None, help="Reuse or create this DuckDB file.")
    ap.add_argument("--memory-limit", default="4GB")
    add_goal_arguments(ap)
    args = ap.parse_args(argv)
    goals = Goals(args)
    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="ltv-bench-")
        path = Path(tmp.name) / f"bench_{args.lines}.duckdb"
    if not path.exists():
        t, _ = timed(lambda: generate(path, args.lines))
        print(f"generated {args.lines:,} lines into {path} in {t:.1f} s", file=sys.stderr)
    ws = Workspace(path)
    ws.con.execute(f"SET memory_limit = '{args.memory_limit}'")
    n_lines = ws.con.execute("SELECT count(*) FROM order_lines").fetchone()[0]
    n_cust = ws.con.execute("SELECT count(DISTINCT customer_key) FROM order_lines").fetchone()[0]
    orders = ws.orders()
    products = ws.table("products")

    def ibis_cohort():
        return cohort_expr(orders, AS_OF, products=products).to_pandas()

    def sql_cohort():
        return ws.con.execute(COHORT_SQL.format(as_of=AS_OF)).df()

    # Per-customer results stay in the database, as `ltv segments` / `ltv points` do (write_result).
    def ibis_rfm():
        ws.write_result("bench_rfm", segment_customers(orders, AS_OF, products=products))
        return ws.con.execute("SELECT * FROM result_bench_rfm").df()

    def sql_rfm():
        ws.con.execute("CREATE OR REPLACE TABLE bench_rfm_sql AS " + RFM_SQL.format(as_of=AS_OF))
        return ws.con.execute("SELECT * FROM bench_rfm_sql").df()

    def ibis_rfm_store():
        ws.write_result("bench_rfm", segment_customers(orders, AS_OF, products=products))

    def sql_rfm_store():
        ws.con.execute("CREATE OR REPLACE TABLE bench_rfm_sql AS " + RFM_SQL.format(as_of=AS_OF))

    def ibis_points():
        ws.write_result("bench_points", point_dependence(orders, AS_OF, products=products))

    # equality first (untimed warm-up)
    a, b = ibis_cohort(), sql_cohort()
    a = a.drop(columns="segment").sort_values(["cohort", "period"], ignore_index=True)
    b = b.sort_values(["cohort", "period"], ignore_index=True)
    goals.equal("cohort table: rows", len(a), len(b))
    if len(a) == len(b):
        for col in ("cohort_size", "period", "active_customers", "orders", "revenue", "margin", "complete"):
            diff = int((a[col].astype("int64").to_numpy() != b[col].astype("int64").to_numpy()).sum())
            goals.equal(f"cohort table: cells of {col} unlike the SQL peer's", diff, 0)
        for col in ("retention", "cum_revenue_per_customer", "cum_margin_per_customer"):
            diff = int((~np.isclose(a[col].astype(float), b[col].astype(float), rtol=1e-12)).sum())
            goals.equal(f"cohort table: cells of {col} unlike the SQL peer's (rtol 1e-12)", diff, 0)
    ra, rb = ibis_rfm(), sql_rfm()
    m = ra.merge(rb, on="customer_key", suffixes=("", "_sql"))
    goals.equal("RFM: customers in both results", len(m), len(ra))
    goals.equal("RFM: customers of ltvkit and of the SQL peer", len(ra), len(rb))
    goals.equal("RFM: segments unlike the SQL peer's", int((m.segment != m.segment_sql).sum()), 0)
    goals.equal("RFM: margins unlike the SQL peer's", int((m.margin != m.margin_sql.fillna(0)).sum()), 0)
    buyers = m[m.orders > 0]
    goals.equal("RFM: R scores of buyers unlike the SQL peer's",
                int((buyers.r_score != buyers.r_score_sql.astype("int64")).sum()), 0)

    rows = []
    for task, fi, fs, rep in (("cohort table (30-day columns, 粗利LTV)", ibis_cohort, sql_cohort, args.repeat),
                              ("RFM segments (Shopify groups), stored per customer", ibis_rfm_store,
                               sql_rfm_store, args.repeat)):
        ti, ts = [], []
        for i in range(rep):
            order = (fi, fs) if i % 2 == 0 else (fs, fi)
            for fn in order:
                (ti if fn is fi else ts).append(timed(fn)[0])
        rows.append((task, statistics.median(ti), statistics.median(ts)))
    tp = statistics.median(timed(ibis_points)[0] for _ in range(max(1, args.repeat)))
    rows.append(("point dependence, stored per customer (no SQL peer; ratio to the cohort SQL)", tp, rows[0][2]))

    print(f"\n{n_lines:,} order lines, {n_cust:,} customers, as of {AS_OF}; DuckDB threads="
          f"{ws.con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}, "
          f"median of {args.repeat}; peak RSS {rss_mib():,.0f} MiB; load {os.getloadavg()[0]:.1f}")
    print("| task | ltvkit (Ibis→DuckDB) s | hand-written DuckDB SQL s | ratio |")
    print("|---|---:|---:|---:|")
    for task, t_i, t_s in rows:
        print(f"| {task} | {t_i:.2f} | {t_s:.2f} | {t_i / t_s:.2f}x |")
    goals.at_most("cohort table: ltvkit seconds / SQL seconds", rows[0][1] / rows[0][2], GOAL_COHORT_RATIO,
                  unit="x")
    ws.close()
    if tmp is not None:
        tmp.cleanup()
    return goals.finish()


if __name__ == "__main__":
    raise SystemExit(main())
