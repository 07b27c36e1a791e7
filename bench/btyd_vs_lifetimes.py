"""Fit-time ratios of ltvkit vs lifetimes 0.11.3 at equal log-likelihood, and chunked scoring of 10M customers.

lifetimes runs in its own virtual environment (<temp dir>/models-venv, created on first use) through a subprocess,
on exactly the same per-customer arrays. Both log-likelihoods are evaluated with the same formula at each
library's fitted parameters, so "equal log-likelihood" is checked, not assumed.

Usage::

    .venv/bin/python bench/btyd_vs_lifetimes.py                  # 1M customers, both scenarios, 10M scoring
    .venv/bin/python bench/btyd_vs_lifetimes.py --customers 100000 --score-customers 1000000 --quick

Goals (exit status 1 when one is missed): lifetimes' fit wall time / ltvkit's >= 20x for BG/NBD and >= 200x for
Pareto/NBD, each at equal log-likelihood: the two log-likelihoods must agree within 1e-3 + 1e-9 x |LL| (a
difference beyond it fails the run whichever library is better); chunked scoring must write one row per customer.

Scenarios (daily timestamps, so recency and T are whole days):

* ``tiled``: the CDNOW sample tiled to N customers (as clv-libraries.md section 0 did), each customer's first
  purchase and last purchase moved by 0 or 1 day at random. Realistic for one acquisition cohort.
* ``spread``: N customers simulated from Pareto/NBD with first purchases spread over three years (T from 1 to
  1,095 days): far fewer identical rows, the hard case for compression.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _goals import Goals, add_goal_arguments  # noqa: E402

from ltvkit.models import BetaGeoModel, ParetoNBDModel  # noqa: E402
from ltvkit.models._base import compress  # noqa: E402

GOAL_RATIO = {"bgnbd": 20.0, "pnbd": 200.0}  # lifetimes wall seconds / ltvkit wall seconds


def ll_tolerance(ll: float) -> float:
    return 1e-3 + 1e-9 * abs(ll)

VENV = Path(tempfile.gettempdir()) / "models-venv"

LIFETIMES_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    warnings.filterwarnings("ignore")
    from lifetimes import BetaGeoFitter, ParetoNBDFitter
    d = np.load(sys.argv[1])
    fitter = {"bgnbd": BetaGeoFitter, "pnbd": ParetoNBDFitter}[sys.argv[2]]()
    t0, c0 = time.perf_counter(), time.process_time()
    fitter.fit(d["x"], d["tx"], d["T"])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"seconds": dt, "cpu": dc, "params": {k: float(v) for k, v in fitter.params_.items()}}))
""")


def ensure_lifetimes() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if subprocess.run([str(python), "-c", "import lifetimes"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "lifetimes==0.11.3"], check=True)
    return python


def tiled_cdnow(n: int, rng: np.random.Generator) -> pd.DataFrame:
    base = pd.read_csv(ROOT / "tests" / "data" / "cdnow_customers_summary.csv")
    reps = -(-n // len(base))
    x = np.tile(base["frequency"].to_numpy(float), reps)[:n]
    tx = np.tile(np.round(base["recency"].to_numpy() * 7), reps)[:n]
    T = np.tile(np.round(base["T"].to_numpy() * 7), reps)[:n]
    T = T + rng.integers(0, 2, n)
    tx = np.where(x > 0, np.minimum(tx + rng.integers(0, 2, n), T), 0.0)
    return pd.DataFrame({"x": x, "tx": tx, "T": T})


def spread_simulated(n: int, rng: np.random.Generator) -> pd.DataFrame:
    model = ParetoNBDModel.from_params({"r": 0.55, "alpha": 74.0, "s": 0.61, "beta": 81.7})
    T = rng.integers(1, 1096, n).astype(float)
    sim = model.simulate(T, random_state=int(rng.integers(1 << 31)))
    tx = np.floor(sim["recency"].to_numpy())
    x = sim["frequency"].to_numpy()
    return pd.DataFrame({"x": x, "tx": np.where(x > 0, tx, 0.0), "T": T})


def run_lifetimes(python: Path, data: pd.DataFrame, model: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, x=data["x"].to_numpy(), tx=data["tx"].to_numpy(), T=data["T"].to_numpy())
        script = Path(tmp) / "fit.py"
        script.write_text(LIFETIMES_SCRIPT)
        out = subprocess.run([str(python), str(script), str(path), model], capture_output=True, text=True,
                             check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def total_ll(model_cls, params: dict, data: pd.DataFrame) -> float:
    cols, w = compress([data["x"].to_numpy(), data["tx"].to_numpy(), data["T"].to_numpy()], None)
    m = model_cls.from_params(params)
    return float(w @ m._loglik(m._params(), cols))


def bench_fit(name: str, data: pd.DataFrame, python: Path, skip_pareto_peer: bool, goals: Goals) -> list[dict]:
    rows = []
    for key, cls in (("bgnbd", BetaGeoModel), ("pnbd", ParetoNBDModel)):
        runs = []
        for _ in range(3):  # median of three (a busy machine makes single timings noisy)
            t0, c0 = time.perf_counter(), time.process_time()
            ours = cls().fit(data["x"], data["tx"], data["T"])
            runs.append((time.perf_counter() - t0, time.process_time() - c0))
        ours_s, ours_c = float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs]))
        row = {"scenario": name, "model": key, "customers": len(data), "unique_rows": ours.n_unique_rows_,
               "ltvkit_wall_s": round(ours_s, 3), "ltvkit_cpu_s": round(ours_c, 3),
               "ltvkit_ll": round(ours.log_likelihood_, 3)}
        if key == "pnbd" and skip_pareto_peer:
            row.update({"lifetimes_wall_s": None, "lifetimes_cpu_s": None, "wall_ratio": None, "cpu_ratio": None,
                        "lifetimes_ll": None, "ll_diff": None})
        else:
            # lifetimes' Pareto/NBD takes minutes, so it runs once; its BG/NBD runs three times (median)
            peers = [run_lifetimes(python, data, key) for _ in range(3 if key == "bgnbd" else 1)]
            peer = {"seconds": float(np.median([p["seconds"] for p in peers])),
                    "cpu": float(np.median([p["cpu"] for p in peers])), "params": peers[0]["params"]}
            peer_ll = total_ll(cls, peer["params"], data)
            row.update({"lifetimes_wall_s": round(peer["seconds"], 3), "lifetimes_cpu_s": round(peer["cpu"], 3),
                        "wall_ratio": round(peer["seconds"] / ours_s, 1), "cpu_ratio": round(peer["cpu"] / ours_c, 1),
                        "lifetimes_ll": round(peer_ll, 3), "ll_diff": round(ours.log_likelihood_ - peer_ll, 4)})
            label = f"{key} {name}"
            goals.close(f"{label}: log-likelihood", float(ours.log_likelihood_), peer_ll,
                        tol=ll_tolerance(peer_ll))
            goals.at_least(f"{label}: fit wall-time ratio lifetimes/ltvkit", peer["seconds"] / ours_s,
                           GOAL_RATIO[key], unit="x")
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


SCORE_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[2])
    from ltvkit import Workspace
    from ltvkit.models import BetaGeoModel
    from ltvkit.scoring import score_rfm_table
    n = int(sys.argv[1])
    ws = Workspace()
    ws.con.execute("SET memory_limit='3GB'")
    ws.con.execute("SET threads=2")
    t0 = time.perf_counter()
    ws.con.execute(f'''
        CREATE TEMP TABLE rfm AS
        WITH base AS (SELECT i, hash(i) AS h1, hash(i::BIGINT + 7919::BIGINT * {n}) AS h2 FROM range({n}) t(i)),
        draws AS (SELECT i, 1 + (h1 % 1095) AS T, floor(pow((h2 % 1000000) / 1e6, 4) * 40) AS x,
                         (h1 // 1095) % 1000000 / 1e6 AS u, h1 FROM base)
        SELECT 'c' || i AS customer_key, x::DOUBLE AS frequency,
               CASE WHEN x > 0 THEN floor(u * T) ELSE 0 END::DOUBLE AS recency, T::DOUBLE AS "T",
               CASE WHEN x > 0 THEN 1000 + (h1 % 9000) ELSE 0 END::DOUBLE AS monetary_value
        FROM draws''')
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = score_rfm_table(ws, "rfm", BetaGeoModel(), chunk_size=200_000)
    ws.write_result("predictions", out["expr"], kind="predictions")
    total = time.perf_counter() - t0
    rows = ws.con.execute("SELECT count(*) FROM result_predictions").fetchall()[0][0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"customers": rows, "unique_rows": out["unique_rows"], "generate_s": round(t_gen, 2),
                      "fit_s": round(out["fit_seconds"], 2), "score_groups_s": round(out["score_seconds"], 2),
                      "fit_score_write_s": round(total, 2), "peak_rss_mib": round(peak)}))
""")


def bench_scoring(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "score.py"
        script.write_text(SCORE_SCRIPT)
        out = subprocess.run([sys.executable, str(script), str(n), str(ROOT / "src")], capture_output=True,
                             text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    if out.returncode != 0:
        raise SystemExit(f"scoring benchmark failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--score-customers", type=int, default=10_000_000)
    ap.add_argument("--scenario", choices=("tiled", "spread", "both"), default="both",
                    help="fit scenarios (use --customers 0 to time only the scoring)")
    ap.add_argument("--quick", action="store_true", help="skip lifetimes' Pareto/NBD on the spread scenario")
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)
    rng = np.random.default_rng(0)
    rows = []
    if args.customers <= 0:
        args.scenario = "none"
    else:
        python = ensure_lifetimes()
    # warm-up (imports, first calls) on small data, not timed
    small = tiled_cdnow(5000, rng)
    BetaGeoModel().fit(small["x"], small["tx"], small["T"])
    ParetoNBDModel().fit(small["x"], small["tx"], small["T"])
    if args.scenario in ("tiled", "both"):
        rows += bench_fit("tiled", tiled_cdnow(args.customers, rng), python, skip_pareto_peer=False, goals=goals)
    if args.scenario in ("spread", "both"):
        rows += bench_fit("spread", spread_simulated(args.customers, rng), python, skip_pareto_peer=args.quick,
                          goals=goals)
    table = pd.DataFrame(rows)
    if rows:
        print("\nFit time at equal log-likelihood (ratio = lifetimes seconds / ltvkit seconds, wall and "
              "CPU (user+sys, less sensitive to other load); "
              "goals 20x BG/NBD, 200x Pareto/NBD)")
        print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    if args.score_customers:
        score = bench_scoring(args.score_customers)
        print("\nChunked scoring (BG/NBD + Gamma-Gamma fit, P(alive), 30/90/365-day purchases, discounted CLV, "
              "written to result_predictions)")
        print(pd.DataFrame([score]).to_string(index=False))
        goals.equal("chunked scoring: rows written", score["customers"], args.score_customers)
    raise SystemExit(goals.finish())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
