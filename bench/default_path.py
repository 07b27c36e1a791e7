"""The default path at scale: ``ltv predict``, ``ltv recommend`` and ``ltv report`` as whole processes, next to
lifetimes' whole pipeline and the one-query RFM summary, in the same run (issue 21).

One synthetic shop (``ltvkit.synth.generate_shop(N, seed=3)``) is written as Parquet, imported with ``ltv import``
and then each command runs as its own process on that workspace, in this order:

* ``ltv predict`` (the default: ``--model auto`` and the regularity timing, k chosen) on the freshly imported workspace,
  taking turns with lifetimes' pipeline ``--repeat`` times (best wall time of each), then ``ltv predict`` again
  (k read back from the stored run), and ``ltv predict --timing model``;
* ``ltv recommend --k 5``;
* ``ltv report`` with the predictions and recommendations stored (it computes the rest and stores it), then
  ``ltv report`` again (everything stored);
* the peers: lifetimes 0.11.3's whole pipeline on the same Parquet file (summary_data_from_transaction_data ->
  BG/NBD -> P(alive), E[30 days] -> Gamma-Gamma -> CLV -> Parquet; in its own virtual environment, see
  ``--lifetimes-python``) and the RFM summary as one DuckDB query on the workspace (timed inside its process).

Wall time, CPU time (user + system) and peak RSS of each process come from ``os.wait4``. ltvkit's bytecode is
compiled before the first command, as ``pip install`` compiles an installed package (lifetimes' included).

Usage::

    .venv/bin/python bench/default_path.py --customers 500000
    .venv/bin/python bench/default_path.py --customers 5000000 --skip recommend report
    .venv/bin/python bench/default_path.py --customers 50000 --no-speed-goals     # a quick check

Goals (exit status 1 when one is missed): ``ltv predict`` (default) at least 3x faster than lifetimes' pipeline
(wall), at most 2 minutes at 5,000,000 customers or more, peak RSS at most 2 GB; the first ``ltv report`` on the
workspace with stored predictions (and the second one, with everything stored) at most 10x the one-query summary's
time, the first at most 2 GB; ``ltv recommend`` at most 1 GB. Checks: every command succeeds and ``result_predictions`` has one row per customer of the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _goals import Goals, add_goal_arguments  # noqa: E402

GB = 1024 ** 3
PREDICT_RATIO = 3.0  # lifetimes wall / ltv predict wall
PREDICT_SECONDS_5M = 120.0
PREDICT_RSS = 2 * GB
REPORT_RATIO = 10.0  # ltv report wall / one-query summary
REPORT_RSS = 2 * GB
RECOMMEND_RSS = 1 * GB

LIFETIMES_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    warnings.filterwarnings("ignore")
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data
    src, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    lines = pd.read_parquet(src, columns=["customer_id", "ordered_at", "line_amount", "status"])
    lines = lines[lines["status"] != "cancelled"]
    summ = summary_data_from_transaction_data(lines, "customer_id", "ordered_at", monetary_value_col="line_amount",
                                              observation_period_end=lines["ordered_at"].max(), freq="D")
    t1 = time.perf_counter()
    bg = BetaGeoFitter().fit(summ["frequency"], summ["recency"], summ["T"])
    t2 = time.perf_counter()
    x, tx, T = summ["frequency"], summ["recency"], summ["T"]
    summ["p_alive"] = bg.conditional_probability_alive(x, tx, T)
    summ["expected_purchases_30d"] = bg.conditional_expected_number_of_purchases_up_to_time(30, x, tx, T)
    rep = summ[(summ["frequency"] > 0) & (summ["monetary_value"] > 0)]
    gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    summ["predicted_clv"] = gg.customer_lifetime_value(bg, x, tx, T, summ["monetary_value"], time=12,
                                                       discount_rate=0.01, freq="D")
    summ.to_parquet(out)
    print(json.dumps({"customers": len(summ), "summary_s": round(t1 - t0, 2), "bgnbd_fit_s": round(t2 - t1, 2)}))
""")

SUMMARY_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    rows = con.execute('''
        SELECT customer_key, count(DISTINCT order_date) - 1 AS frequency,
               date_diff('day', min(order_date), max(order_date)) AS recency,
               date_diff('day', min(order_date), (SELECT max(order_date) FROM order_lines WHERE status = 'ordered'))
                   AS "T",
               sum(line_amount) / count(DISTINCT order_id) AS monetary_value
        FROM order_lines WHERE status != 'cancelled' GROUP BY customer_key''').fetchnumpy()
    seconds = time.perf_counter() - t0
    print(json.dumps({"customers": len(rows["customer_key"]), "query_s": seconds}))
""")

GENERATE_SCRIPT = textwrap.dedent("""
    import sys
    from ltvkit.synth import generate_shop, write_generic_parquet
    write_generic_parquet(generate_shop(int(sys.argv[1]), seed=int(sys.argv[2])), sys.argv[3])
""")

COUNT_SCRIPT = textwrap.dedent("""
    import json, sys
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(json.dumps({"predictions": con.execute("SELECT count(*) FROM result_predictions").fetchall()[0][0]}))
""")


def measure(name: str, cmd: list[str], *, env: dict[str, str] | None = None, log: Path) -> dict:
    """Run ``cmd`` as a process; its wall time, CPU time (user + system) and peak RSS (from ``os.wait4``)."""
    load = round(os.getloadavg()[0], 2)
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out, env=env)
        stdout = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.write(stdout)
    row = {"command": name, "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
           "peak_rss_gb": round(usage.ru_maxrss * 1024 / GB, 3), "rc": proc.returncode, "load_1min": load}
    print(json.dumps(row), flush=True)
    row["stdout"] = stdout.decode(errors="replace")
    return row


def last_json(text: str) -> dict:
    for line in reversed(text.replace("\r", "\n").strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def lifetimes_python(path: str | None) -> Path:
    """The python of a virtual environment with lifetimes 0.11.3 and pyarrow (created in the temp dir when none
    is given; pip needs the network once)."""
    if path:
        return Path(path)
    venv = Path(tempfile.gettempdir()) / "lifetimes-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import lifetimes, pyarrow"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "lifetimes==0.11.3", "pyarrow"], check=True)
    return python


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--lifetimes-python", help="python of a virtual environment with lifetimes 0.11.3 and pyarrow "
                    "(default: <temp dir>/lifetimes-venv, created on first use)")
    ap.add_argument("--workdir", help="where the shop, the workspace and the outputs go (default: a temp dir, "
                    "removed at the end)")
    ap.add_argument("--skip", nargs="*", default=[], choices=("recommend", "report", "lifetimes"),
                    help="commands not to run (their goals are then not measured)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs of ltv predict and of lifetimes' pipeline, taking turns (the best wall time counts)")
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ltv-default-path-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "commands.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    ltv = [sys.executable, "-m", "ltvkit"]
    # ltvkit's bytecode compiled first, as `pip install` does for a package and did for lifetimes and every
    # dependency: run from a checkout (PYTHONPATH=src) with PYTHONDONTWRITEBYTECODE set, as on the development
    # machine, each command would otherwise compile about 100 modules again (about 0.25 s per command)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "ltvkit")], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        print(f"load before: {os.getloadavg()[0]:.2f} (1-minute average, {os.cpu_count()} CPUs)", flush=True)
        parquet = work / "orders.parquet"
        if not parquet.exists():
            # in its own process: Linux hands a parent's peak RSS on to the children it starts, so this process
            # stays small (no pandas before the measurements)
            measure("generate the shop", [sys.executable, "-c", GENERATE_SCRIPT, str(args.customers), str(args.seed),
                                          str(parquet)], env=env, log=log)
        db = work / "ltv.duckdb"
        if db.exists():
            db.unlink()
        rows = [measure("ltv import (Parquet)", [*ltv, "import", str(parquet), "--workspace", str(db), "--lang", "en"],
                        env=env, log=log)]
        ws = ["--workspace", str(db), "--lang", "en"]
        summary = measure("one-query RFM summary (process)", [sys.executable, "-c", SUMMARY_SCRIPT, str(db)],
                          env=env, log=log)
        query = last_json(summary["stdout"])
        rows.append(summary)
        rows.append({"command": "one-query RFM summary (the query)", "wall_s": round(query["query_s"], 3),
                     "cpu_s": None, "peak_rss_gb": None, "rc": summary["rc"], "load_1min": summary["load_1min"]})
        # ltv predict on the freshly imported workspace (k chosen) and lifetimes' pipeline, taking turns
        # ``--repeat`` times so that both see the same load; the best wall time of each counts
        pristine = work / "imported.duckdb"
        shutil.copyfile(db, pristine)
        python = lifetimes_python(args.lifetimes_python) if "lifetimes" not in args.skip else None
        predicts, peers = [], []
        for _ in range(args.repeat):
            shutil.copyfile(pristine, db)
            predicts.append(measure("ltv predict", [*ltv, "predict", *ws], env=env, log=log))
            if python is not None:
                peers.append(measure("lifetimes pipeline", [str(python), "-c", LIFETIMES_SCRIPT, str(parquet),
                                                            str(work / "lifetimes.parquet")], log=log))
        predict = min(predicts, key=lambda r: (r["rc"] != 0, r["wall_s"]))
        rows.append(predict)
        peer = min(peers, key=lambda r: (r["rc"] != 0, r["wall_s"])) if peers else None
        if peer is not None:
            rows.append(peer)
        n_pred = last_json(measure("count", [sys.executable, "-c", COUNT_SCRIPT, str(db)], env=env,
                                   log=log)["stdout"]).get("predictions")
        rows.append(measure("ltv predict (k stored)", [*ltv, "predict", *ws], env=env, log=log))
        rows.append(measure("ltv predict --timing model", [*ltv, "predict", "--timing", "model", *ws], env=env,
                            log=log))
        if "recommend" not in args.skip:
            recommend = measure("ltv recommend --k 5", [*ltv, "recommend", "--k", "5", *ws], env=env, log=log)
            rows.append(recommend)
        if "report" not in args.skip:
            report = measure("ltv report (predictions stored)",
                             [*ltv, "report", *ws, "--out", str(work / "report.html")], env=env, log=log)
            rows.append(report)
            report2 = measure("ltv report (all stored)",
                              [*ltv, "report", *ws, "--out", str(work / "report2.html")], env=env, log=log)
            rows.append(report2)
        print(f"load after: {os.getloadavg()[0]:.2f}", flush=True)

        import pandas as pd

        table = pd.DataFrame([{k: v for k, v in r.items() if k != "stdout"} for r in rows])
        if peer is not None and peer["rc"] == 0:
            table["wall_vs_lifetimes"] = (table["wall_s"] / peer["wall_s"]).round(3)
            table["cpu_vs_lifetimes"] = (table["cpu_s"] / peer["cpu_s"]).round(3)
        table["wall_vs_query"] = (table["wall_s"] / query["query_s"]).round(1)
        print(f"\nThe default path, {args.customers:,} customers (each command a whole process; ratios to lifetimes' "
              "pipeline and to the one-query summary's query time)")
        print(table.to_string(index=False))

        for r in rows:
            goals.equal(f"{r['command']}: exit status", r["rc"], 0)
        goals.equal("result_predictions: one row per customer", n_pred, query["customers"])
        if peer is not None and peer["rc"] == 0:
            goals.equal("lifetimes: one row per customer", last_json(peer["stdout"]).get("customers"),
                        query["customers"])
            goals.at_least("ltv predict: wall-time ratio lifetimes / ltv predict (best of --repeat each)",
                           peer["wall_s"] / predict["wall_s"], PREDICT_RATIO, unit="x")
            print(f"CPU-time ratio lifetimes / ltv predict: {peer['cpu_s'] / predict['cpu_s']:.2f}x "
                  "(ltv predict uses two threads; lifetimes one)")
        else:
            goals.at_least("ltv predict: wall-time ratio lifetimes / ltv predict", None, PREDICT_RATIO, unit="x")
        if args.customers >= 5_000_000:
            goals.at_most("ltv predict: wall time", predict["wall_s"], PREDICT_SECONDS_5M, unit=" s")
        goals.at_most("ltv predict: peak RSS", predict["peak_rss_gb"], PREDICT_RSS / GB, unit=" GB")
        if "report" not in args.skip:
            goals.at_most("ltv report (predictions stored): wall / one-query summary",
                          report["wall_s"] / query["query_s"], REPORT_RATIO, unit="x")
            goals.at_most("ltv report (predictions stored): peak RSS", report["peak_rss_gb"], REPORT_RSS / GB,
                          unit=" GB")
            goals.at_most("ltv report (all stored): wall / one-query summary", report2["wall_s"] / query["query_s"],
                          REPORT_RATIO, unit="x")
        if "recommend" not in args.skip:
            goals.at_most("ltv recommend --k 5: peak RSS", recommend["peak_rss_gb"], RECOMMEND_RSS / GB, unit=" GB")
        print(f"\ncommand output: {log}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    raise SystemExit(goals.finish())


if __name__ == "__main__":
    main()
