"""Speed of the synthetic shop generator and the export writers, with peak memory.

Each size runs in its own process (so peak memory is that size's own). Peers, measured in the same run:

* generation: a straightforward per-customer Python loop drawing the same Pareto/NBD story (one line per
  order), the way such simulators are usually written;
* export: ``pandas.DataFrame.to_csv(encoding="cp932")`` of the canonical 21-column lines (the Rakuten layout
  our writer produces has 105 columns).

Usage::

    .venv/bin/python bench/synth_speed.py --lines 1000000 10000000

Goals (exit status 1 when one is missed): generation at every size >= 1.5x the loop's lines per CPU second
(about 2x measured), and the Rakuten writer (105 columns) >= 0.5x the speed of pandas ``to_csv`` of the 21
canonical columns on the same lines (0.79x measured).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _goals import Goals, add_goal_arguments

GOAL_VS_LOOP = 1.5  # generated lines per CPU second over the Python loop's
GOAL_VS_PANDAS_CSV = 0.5  # Rakuten writer speed over pandas to_csv's, same lines
LINES_PER_CUSTOMER = 3.3  # observed + holdout lines per customer with the default parameters


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def child(lines: int, peer_csv: bool) -> dict:
    from ltvkit.synth import generate_shop
    from ltvkit.synth.writers import write_generic_parquet, write_rakuten_csv

    customers = max(100, int(lines / LINES_PER_CUSTOMER))
    t0, c0 = time.perf_counter(), time.process_time()
    shop = generate_shop(customers=customers, seed=0)
    gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(shop.order_lines) + len(shop.holdout_lines)
    out = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        path = write_rakuten_csv(shop, out / "rakuten.csv")
        rak_s, rak_cpu = time.perf_counter() - t0, time.process_time() - c0
        rak_mb = path.stat().st_size / 1e6
        path.unlink()
        t0 = time.perf_counter()
        write_generic_parquet(shop, out / "orders.parquet")
        pq_s = time.perf_counter() - t0
        res = {"lines": n, "observed_lines": len(shop.order_lines), "customers": customers, "gen_s": gen_s,
               "gen_cpu": gen_cpu, "rakuten_s": rak_s, "rakuten_cpu": rak_cpu, "rakuten_mb": rak_mb, "parquet_s": pq_s}
        if peer_csv:
            t0, c0 = time.perf_counter(), time.process_time()
            shop.order_lines.to_csv(out / "pandas.csv", index=False, encoding="cp932")
            res["pandas_csv_s"], res["pandas_csv_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    res["peak_gib"] = _peak_gib()
    return res


def peer_loop(customers: int, seed: int = 0) -> tuple[int, float]:
    """Per-customer Python loop: gamma rate, exponential lifetime, Poisson purchases, one line per order, as a DataFrame."""
    rng = random.Random(seed)
    t0 = time.process_time()
    rows = []
    horizon = 1006.0
    for c in range(customers):
        acq = rng.uniform(0, 1006 - 180)
        lam = rng.gammavariate(0.6, 1 / 120)
        mu = rng.gammavariate(0.7, 1 / 150)
        death = acq + rng.expovariate(mu)
        t = acq
        n = 0
        while t < min(death, horizon):
            rows.append((f"O{len(rows)}", f"C{c:07d}", t, rng.randrange(28), 1 + (rng.random() < 0.2), n))
            n += 1
            t += rng.expovariate(lam)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "t", "item", "quantity", "n"])
    return len(frame), time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 10_000_000], help="target line counts")
    ap.add_argument("--peer-customers", type=int, default=100_000, help="customers for the Python-loop peer")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--peer-csv", action="store_true", help=argparse.SUPPRESS)
    add_goal_arguments(ap)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.peer_csv)))
        return
    goals = Goals(args)
    peer_n, peer_s = peer_loop(args.peer_customers)
    peer_rate = peer_n / peer_s
    print(f"peer (per-customer Python loop, {args.peer_customers:,} customers): {peer_n:,} lines in {peer_s:.1f} "
          f"CPU s = {peer_rate:,.0f} lines/s")
    rows = []
    for i, lines in enumerate(args.lines):
        cmd = [sys.executable, __file__, "--child", str(lines)] + (["--peer-csv"] if i == 0 else [])
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rows.append(res)
    print("Times are wall-clock seconds with CPU seconds in brackets (the machine is shared); rates use CPU time.")
    head = (f"{'lines':>11} {'customers':>10} {'generate s':>14} {'gen lines/s':>12} {'vs loop':>8} "
            f"{'rakuten csv s':>15} {'csv lines/s':>12} {'csv MB':>7} {'parquet s':>10} {'peak GiB':>9}")
    print(head)
    for r in rows:
        gen_rate = r["lines"] / r["gen_cpu"]
        print(f"{r['lines']:>11,} {r['customers']:>10,} {r['gen_s']:>6.1f} ({r['gen_cpu']:>5.1f}) {gen_rate:>12,.0f} "
              f"{gen_rate / peer_rate:>7.2f}x {r['rakuten_s']:>6.1f} ({r['rakuten_cpu']:>6.1f}) "
              f"{r['observed_lines'] / r['rakuten_cpu']:>12,.0f} {r['rakuten_mb']:>7,.0f} {r['parquet_s']:>10.1f} "
              f"{r['peak_gib']:>9.2f}")
        goals.at_least(f"{r['lines']:,} lines: generation speed vs the Python loop", gen_rate / peer_rate,
                       GOAL_VS_LOOP, unit="x")
    if "pandas_csv_s" in rows[0]:
        r = rows[0]
        print(f"export peer at {r['observed_lines']:,} lines: pandas to_csv (21 canonical columns, cp932) "
              f"{r['pandas_csv_s']:.1f} s ({r['pandas_csv_cpu']:.1f} CPU) vs our Rakuten writer (105 columns) "
              f"{r['rakuten_s']:.1f} s ({r['rakuten_cpu']:.1f} CPU): {r['pandas_csv_cpu'] / r['rakuten_cpu']:.2f}x "
              f"the peer's speed")
        goals.at_least("Rakuten writer speed vs pandas to_csv", r["pandas_csv_cpu"] / r["rakuten_cpu"],
                       GOAL_VS_PANDAS_CSV, unit="x")
    raise SystemExit(goals.finish())

if __name__ == "__main__":
    main()
