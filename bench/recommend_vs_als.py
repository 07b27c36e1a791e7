"""Benchmark: ltvkit's next-basket recommender against implicit's ALS on ~1M order lines / 100k customers.

Both models fit on the same history (everything before a cut date) and produce top-10 lists for every
customer; the script prints seconds, peak memory (each model runs in its own child process, so the peak
resident memory is its own) and Recall@10 on the 60 days after the cut, with ratios against ALS.

Data: ``ltvkit.synth.generate_shop(catalog="wide")`` (a ~360-SKU cosmetics / health-food / daily-goods shop
with replenishment cycles, trial sizes, regimen and cross-category cross-sell pairs and Zipf-like popularity;
``--synth-customers 370000`` gives about 1M lines before the cut), and the test simulator
``tests/recommend/recsim.py`` with a 2,000-SKU catalogue (``--customers 100000``, about 1M lines).

implicit is not a dependency of ltvkit; install it apart, e.g.::

    python -m pip install --target /tmp/recommend-venv/site implicit tqdm threadpoolctl --no-deps
    PYTHONPATH=/tmp/recommend-venv/site OPENBLAS_NUM_THREADS=1 python bench/recommend_vs_als.py

or ``pip install ltvkit[als]``. Options: ``--customers 100000`` (simulator) ``--synth-customers 370000``
``--catalog wide|demo`` ``--data synth|sim|both``. Generated data is cached in ``$LTV_BENCH_CACHE``
(default ``<temp dir>/ltv-bench-recommend``).

Goals, on each data set (exit status 1 when one is missed): ltvkit's Recall@10 >= ALS's, >= 1.05x P-TopFreq's
and >= 1.5x popularity's; ltvkit's fit + top-10 time <= ALS's. Every model must score the same customers on the
same history, and ALS must run (without implicit the run fails: its goals cannot be checked).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _goals import Goals, add_goal_arguments

from ltvkit.config import load_settings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
CACHE = load_settings(toml=False).bench_cache or Path(tempfile.gettempdir()) / "ltv-bench-recommend"
ALS = "ALS (implicit)"
# ltvkit's Recall@10 over each baseline's (at least)
GOAL_RECALL = {ALS: 1.0, "P-TopFreq": 1.05, "Popularity": 1.5}


def _rss_mib() -> float:
    """Peak resident memory of this process (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the model's own peak can be read; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _simulator():
    spec = importlib.util.spec_from_file_location("recsim", HERE.parent / "tests" / "recommend" / "recsim.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["recsim"] = mod
    spec.loader.exec_module(mod)
    return mod


def make_data(kind: str, customers: int, catalog: str = "wide") -> tuple[Path, str, int]:
    """Write the order lines to Parquet; return the path, the cut date and the horizon."""
    import pandas as pd

    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{catalog}-{customers}" if kind == "synth" else f"{kind}-{customers}"
    path = CACHE / f"{name}.parquet"
    meta = CACHE / f"{name}.json"
    if path.exists() and meta.exists():
        m = json.loads(meta.read_text())
        return path, m["as_of"], m["horizon"]
    if kind == "synth":
        from ltvkit.synth import generate_shop

        shop = generate_shop(customers=customers, seed=0, catalog=catalog)
        lines = pd.concat([shop.order_lines, shop.holdout_lines], ignore_index=True)
        lines = lines[["customer_key", "sku", "category", "ordered_at", "quantity", "unit_price", "status"]]
        as_of, horizon = shop.observation_end.isoformat(), 60
    else:
        sim = _simulator().simulate_shop(customers, seed=0, n_items=2000, n_categories=60, days=540,
                                         staples_mean=1.5, stop_prob=0.12, explore_per_90d=0.6)
        lines = sim.order_lines[["customer_key", "sku", "category", "order_date", "quantity", "unit_price", "status"]]
        as_of, horizon = sim.as_of.isoformat(), sim.horizon_days
    lines.to_parquet(path, index=False)
    meta.write_text(json.dumps({"as_of": as_of, "horizon": horizon}))
    return path, as_of, horizon


def run_one(model: str, path: str, as_of: str, horizon: int) -> dict:
    """Child process: split, fit one model, top-10 for all customers; time, memory, recall."""
    import pandas as pd

    from ltvkit.recommend import (
        ALSRecommender,
        NextBasketRecommender,
        PopularityRecommender,
        PTopFreqRecommender,
    )
    from ltvkit.recommend.evaluation import ranking_metrics, time_split

    lines = pd.read_parquet(path)
    t0 = time.perf_counter()
    split = time_split(lines, as_of, horizon)
    prep = time.perf_counter() - t0
    del lines
    import gc

    gc.collect()
    base = _status_mib("VmRSS")
    can_reset = _reset_peak()
    est = {"ltvkit": lambda: NextBasketRecommender(horizon_days=horizon),
           "ALS (implicit)": lambda: ALSRecommender(factors=64, iterations=15),
           "P-TopFreq": lambda: PTopFreqRecommender(), "Popularity": lambda: PopularityRecommender()}[model]()
    t0 = time.perf_counter()
    est._fit_history(split.history)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    items, _, _, _ = est._topk(10)
    top = time.perf_counter() - t0
    peak = _status_mib("VmHWM") if can_reset else _rss_mib()
    m, _, _ = ranking_metrics(split, items)
    h = split.history
    return {"model": model, "lines": int(len(h.user)), "customers": h.n_users, "items": h.n_items,
            "prepare_s": prep, "fit_s": fit, "top10_s": top, "total_s": fit + top,
            "peak_rss_mib": peak, "extra_rss_mib": peak - base, "recall": m["recall"],
            "recall_repeat": m["recall_repeat"], "recall_explore": m["recall_explore"], "scored": m["customers"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000, help="customers of the simulator data")
    ap.add_argument("--synth-customers", type=int, default=370_000,
                    help="customers of the synthetic shop (370,000: about 1M lines before the cut)")
    ap.add_argument("--catalog", choices=["wide", "demo"], default="wide", help="catalogue of the synthetic shop")
    ap.add_argument("--data", choices=["synth", "sim", "both"], default="both")
    ap.add_argument("--child", nargs=4, metavar=("MODEL", "PATH", "AS_OF", "HORIZON"), help=argparse.SUPPRESS)
    add_goal_arguments(ap)
    args = ap.parse_args()
    if args.child:
        model, path, as_of, horizon = args.child
        print(json.dumps(run_one(model, path, as_of, int(horizon))))
        return
    goals = Goals(args)
    try:
        import implicit  # noqa: F401

        models = ["ltvkit", ALS, "P-TopFreq", "Popularity"]
    except ImportError:
        print("implicit is not importable: ALS is left out (see the module docstring to install it).")
        models = ["ltvkit", "P-TopFreq", "Popularity"]
    goals.check("the peer ALS (implicit) runs", ALS in models,
                "yes" if ALS in models else "implicit is not importable, so the goals against ALS are not checked")
    kinds = ["synth", "sim"] if args.data == "both" else [args.data]
    if "synth" in kinds and importlib.util.find_spec("ltvkit.synth.generator") is None:
        kinds.remove("synth")
    for kind in kinds:
        t0 = time.perf_counter()
        n = args.synth_customers if kind == "synth" else args.customers
        path, as_of, horizon = make_data(kind, n, args.catalog)
        gen = time.perf_counter() - t0
        rows = []
        for model in models:
            out = subprocess.run([sys.executable, __file__, "--child", model, str(path), as_of, str(horizon)],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stderr[-2000:])
                raise SystemExit(f"{model} failed")
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r0 = rows[0]
        label = f"synth ({args.catalog} catalogue)" if kind == "synth" else "sim (recsim)"
        print(f"\n== data: {label}  lines before cut {r0['lines']:,}  customers {r0['customers']:,}  "
              f"items {r0['items']:,}  cut {as_of} + {horizon} days  scored {r0['scored']:,}  "
              f"(generated/loaded in {gen:.1f}s; shared split {r0['prepare_s']:.1f}s)")
        ref = next((r for r in rows if r["model"].startswith("ALS")), None)
        hdr = (f"{'model':<16}{'fit s':>8}{'top10 s':>9}{'total s':>9}{'peak MiB':>10}{'+MiB':>8}"
               f"{'R@10':>8}{'repeat':>8}{'explore':>8}{'time/ALS':>10}{'+MiB/ALS':>9}{'R/ALS':>7}")
        print(hdr)
        for r in rows:
            ratio = ((f"{r['total_s'] / ref['total_s']:>10.2f}{r['extra_rss_mib'] / max(ref['extra_rss_mib'], 1):>9.2f}"
                      f"{r['recall'] / ref['recall']:>7.2f}") if ref else "")
            print(f"{r['model']:<16}{r['fit_s']:>8.2f}{r['top10_s']:>9.2f}{r['total_s']:>9.2f}"
                  f"{r['peak_rss_mib']:>10.0f}{r['extra_rss_mib']:>8.0f}{r['recall']:>8.4f}"
                  f"{r['recall_repeat']:>8.4f}{r['recall_explore']:>8.4f}{ratio}")
        check_goals(goals, kind, rows)
    raise SystemExit(goals.finish())


def check_goals(goals: Goals, kind: str, rows: list[dict]) -> None:
    by_model = {r["model"]: r for r in rows}
    ours = by_model["ltvkit"]
    for key in ("lines", "customers", "items", "scored"):
        goals.equal(f"{kind}: {key} of every model", sorted({r[key] for r in rows}), [ours[key]])
    for peer, goal in GOAL_RECALL.items():
        if peer in by_model:
            ratio = ours["recall"] / by_model[peer]["recall"] if by_model[peer]["recall"] else float("inf")
            goals.at_least(f"{kind}: ltvkit Recall@10 / {peer}'s", ratio, goal, unit="x", kind="result")
    if ALS in by_model:
        goals.at_most(f"{kind}: ltvkit fit + top-10 seconds / ALS's", ours["total_s"] / by_model[ALS]["total_s"], 1.0,
                      unit="x")


if __name__ == "__main__":
    main()
