"""DuckDB vs Spark (local[2]): every analytics command as a whole process on each engine, in the same run
(issue 17), and the Spark scoring path's peak memory on the driver at two shop sizes.

One synthetic shop of about ``--lines`` order lines (``ltvkit.synth.generate_shop``, its catalogue as the
products) is written to a workspace, copied once per engine, and each command runs as its own process with
``--json`` under ``--engine duckdb`` and ``--engine spark`` (``LTV_SPARK_MASTER=local[2]``). Wall time, and CPU
time (user + system) and peak RSS of the whole process tree, Spark's JVM included (sampled from /proc every
0.1 s). The two outputs of each command must be equal (integers exact, floats to 1e-9
relative, rows in any order; :mod:`ltvkit.testing.conformance`). ``recommend`` prints a row per customer and
item (tens of millions at 10M lines): it runs with ``--csv`` to a file, and the two files are compared in DuckDB
(joined on customer and rank), not in this process's memory.

The scoring path (``--scoring``): a process computes the RFM summary in Spark, compresses it to the distinct
(frequency, recency, T) rows, fits and scores those in Python, joins the scores back and lets Spark write the
per-customer scores as Parquet; it prints its own peak RSS (the Python driver) and the rows that came back. It
runs on the full shop and on a quarter of it; the goal is a driver peak that does not grow with the customers.

Usage::

    .venv/bin/python bench/engines.py --lines 10000000
    .venv/bin/python bench/engines.py --lines 200000 --no-speed-goals     # a quick check

Goals (exit 1 when missed): every command on Spark at most ``--max-ratio`` (default 30) times DuckDB's wall time
(local Spark pays JVM start-up and per-stage overhead; the goal bounds the adapter, not Spark); the scoring
driver's peak RSS at the full size at most 1.25x the quarter size's. Checks: every command exits 0 on both
engines and their --json outputs are equal; the scoring path brings back fewer rows than there are customers.
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _goals import Goals, add_goal_arguments  # noqa: E402

GB = 1024 ** 3
LINES_PER_CUSTOMER = 2.6  # generate_shop's default shop, measured
SCORING_FLAT = 1.25  # driver peak RSS at the full size / at a quarter

COMMANDS = {
    "summary": ["summary"],
    "cohorts": ["cohorts"],
    "f2": ["f2"],
    "segments": ["segments", "--kind", "cpm"],
    "points": ["points"],
    "cac": ["cac"],
    "predict": ["predict"],
    "recommend": ["recommend", "--k", "5"],
}

#: commands whose output has a row per customer (or more), compared as CSV on these keys
CSV_KEYS = {"recommend": ("customer_key", "rank")}

SCORING_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from ltvkit import Workspace
    from ltvkit import scoring
    ws = Workspace(sys.argv[1], read_only=True)
    ws.use_engine("spark", master="local[2]", data_dir=sys.argv[2])
    t0 = time.perf_counter()
    scored = scoring.score_customers(ws, model="bgnbd", timing="model")
    ws.write_parquet(scored["expr"], sys.argv[3])
    # this process's own high-water mark (VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak)
    status = open("/proc/self/status").read()
    peak = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) * 1024
    print(json.dumps({"driver_peak_rss_gb": round(peak / 2**30, 3), "unique_rows": scored["unique_rows"],
                      "seconds": round(time.perf_counter() - t0, 2)}))
""")


def make_shop(path: Path, lines: int, seed: int = 3) -> tuple[int, int]:
    """A workspace with a synthetic shop of about ``lines`` order lines; returns its customers and lines."""
    from ltvkit import Workspace
    from ltvkit.synth import generate_shop

    customers = max(200, int(lines / LINES_PER_CUSTOMER))
    shop = generate_shop(customers=customers, seed=seed)
    with Workspace(path) as ws:
        ws.append_order_lines(shop.order_lines)
        ws.upsert_products(shop.catalog[["sku", "product_name", "category", "unit_cost"]])
        info = ws.info()
        return int(info["customers"]), int(info["order_lines"])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _sample(pid: int) -> tuple[int, float]:
    """Resident bytes and CPU seconds of a process tree now."""
    rss, cpu = 0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/statm") as fh:
                rss += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
                cpu += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            pass
    return rss, cpu


def run(name: str, cmd: list[str], env: dict[str, str], log: Path, out: Path | None = None) -> dict:
    """Run ``cmd`` as a process: wall time, and CPU time and peak RSS of its whole process tree (Spark's JVM is a
    child of the Python driver that is never reaped, so ``os.wait4`` alone would miss it): the tree is sampled
    every 0.1 s. Its stdout is kept in the row, or written to ``out`` (long outputs: millions of rows)."""
    with open(log, "ab") as err, open(out or os.devnull, "wb") as sink:
        err.write(f"\n$ {' '.join(cmd)}\n".encode())
        err.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink if out else subprocess.PIPE, stderr=err, env=env)
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else b""))
        reader.start()
        peak, cpu = 0, 0.0
        while proc.poll() is None:
            rss, used = _sample(proc.pid)
            peak, cpu = max(peak, rss), max(cpu, used)
            time.sleep(0.1)
        reader.join()
        wall = time.perf_counter() - t0
    row = {"command": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
           "peak_rss_gb": round(peak / GB, 3), "rc": proc.returncode}
    print(json.dumps(row), flush=True)
    row["stdout"] = b"".join(chunks).decode(errors="replace")
    return row


def same_csv(a: Path, b: Path, keys: tuple[str, ...]) -> str | None:
    """Compare two CSV outputs (any row order) in DuckDB, out of this process's memory: ``None`` when they hold
    the same rows (numbers to 1e-9 relative), else what differs."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for name, path in (("a", a), ("b", b)):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', header = true, sample_size = -1)")
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE a)").fetchall())
    if types != dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE b)").fetchall()):
        return f"columns differ: {types}"
    differs = []
    for col, typ in types.items():
        if col in keys:
            continue
        if typ in ("DOUBLE", "FLOAT"):
            differs.append(f'NOT (a."{col}" = b."{col}" OR abs(a."{col}" - b."{col}") <= '
                           f'1e-9 * greatest(abs(a."{col}"), abs(b."{col}")))')
        else:
            differs.append(f'a."{col}" IS DISTINCT FROM b."{col}"')
    on = " AND ".join(f'a."{k}" = b."{k}"' for k in keys)
    n_a, n_b = (con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("a", "b"))
    missing = con.execute(f"SELECT count(*) FROM a FULL JOIN b ON {on} WHERE a.\"{keys[0]}\" IS NULL "
                          f"OR b.\"{keys[0]}\" IS NULL").fetchall()[0][0]
    bad = con.execute(f"SELECT count(*) FROM a JOIN b ON {on} WHERE {' OR '.join(differs) or 'false'}").fetchall()[0][0]
    con.close()
    if n_a != n_b or missing or bad:
        return f"{n_a:,} vs {n_b:,} rows, {missing:,} without a partner, {bad:,} differing"
    return None


def scoring_run(ws: Path, work: Path, env: dict[str, str], log: Path, label: str) -> dict:
    lake = work / f"lake-{label}"
    from ltvkit import Workspace

    with Workspace(ws, read_only=True) as w:
        w.publish_parquet(lake)
    script = work / "score.py"
    script.write_text(SCORING_SCRIPT, encoding="utf-8")
    row = run(f"scoring {label}", [sys.executable, str(script), str(ws), str(lake), str(work / f"scores-{label}")],
              env, log)
    try:
        row.update(json.loads(row["stdout"].strip().splitlines()[-1]))
    except (ValueError, IndexError):
        pass
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=10_000_000, help="order lines of the synthetic shop")
    ap.add_argument("--commands", nargs="*", default=list(COMMANDS), choices=list(COMMANDS))
    ap.add_argument("--max-ratio", type=float, default=30.0, help="goal: Spark wall / DuckDB wall per command")
    ap.add_argument("--no-scoring", action="store_true", help="skip the scoring path's memory check")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temp dir, removed)")
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)

    from ltvkit.testing.conformance import assert_same_json, normalise_json

    work = args.work or Path(tempfile.mkdtemp(prefix="ltv-bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "stderr.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
           "LTV_SPARK_MASTER": "local[2]", "PYSPARK_PYTHON": sys.executable}
    base = work / "shop.duckdb"
    t0 = time.perf_counter()
    customers, lines = make_shop(base, args.lines)
    print(f"shop: {lines:,} order lines, {customers:,} customers, built in {time.perf_counter() - t0:.1f} s "
          f"(log: {log})", flush=True)
    copies = {}
    for engine in ("duckdb", "spark"):
        copies[engine] = work / f"{engine}.duckdb"
        # a write-ahead log left by an earlier, interrupted run belongs to the old file: DuckDB would replay it
        # into the new copy and refuse it as corrupt
        Path(f"{copies[engine]}.wal").unlink(missing_ok=True)
        shutil.copyfile(base, copies[engine])

    rows = []
    for name in args.commands:
        got = {}
        long = name in CSV_KEYS  # millions of rows: --csv to a file, compared in DuckDB
        for engine in ("duckdb", "spark"):
            cmd = [sys.executable, "-m", "ltvkit", *COMMANDS[name], "--workspace", str(copies[engine]),
                   "--csv" if long else "--json", "--engine", engine]
            got[engine] = run(f"{name} {engine}", cmd, env, log, out=work / f"{name}-{engine}.csv" if long else None)
        d, s = got["duckdb"], got["spark"]
        ok = d["rc"] == 0 and s["rc"] == 0
        goals.check(f"{name}: exits 0 on both engines", ok, f"duckdb rc {d['rc']}, spark rc {s['rc']}")
        if ok and long:
            diff = same_csv(work / f"{name}-duckdb.csv", work / f"{name}-spark.csv", CSV_KEYS[name])
            goals.check(f"{name}: --csv equal on both engines", diff is None, diff or "equal")
        elif ok:
            try:
                assert_same_json(normalise_json(json.loads(d["stdout"])), normalise_json(json.loads(s["stdout"])))
                goals.check(f"{name}: --json equal on both engines", True, "equal")
            except (AssertionError, ValueError) as exc:
                goals.check(f"{name}: --json equal on both engines", False, str(exc)[:200])
        ratio = s["wall_s"] / d["wall_s"] if d["wall_s"] else None
        goals.at_most(f"{name}: Spark wall / DuckDB wall", ratio, args.max_ratio, unit="x")
        rows.append((name, d, s, ratio))

    print(f"\n{'command':<11} {'duckdb s':>9} {'spark s':>9} {'ratio':>7} {'duckdb cpu':>11} {'spark cpu':>10} "
          f"{'duckdb GB':>10} {'spark GB':>9}")
    for name, d, s, ratio in rows:
        print(f"{name:<11} {d['wall_s']:>9.2f} {s['wall_s']:>9.2f} {(ratio or 0):>6.1f}x {d['cpu_s']:>11.2f} "
              f"{s['cpu_s']:>10.2f} {d['peak_rss_gb']:>10.3f} {s['peak_rss_gb']:>9.3f}")

    if not args.no_scoring:
        quarter = work / "quarter.duckdb"
        q_customers, _ = make_shop(quarter, args.lines // 4, seed=4)
        small = scoring_run(quarter, work, env, log, "quarter")
        full = scoring_run(base, work, env, log, "full")
        print(f"\nscoring on Spark (driver = the Python process): {q_customers:,} customers -> "
              f"{small.get('unique_rows')} rows back, {small.get('driver_peak_rss_gb')} GB; {customers:,} customers "
              f"-> {full.get('unique_rows')} rows back, {full.get('driver_peak_rss_gb')} GB")
        for row, n in ((small, q_customers), (full, customers)):
            goals.check(f"{row['command']}: exits 0", row["rc"] == 0, f"rc {row['rc']}")
            back = row.get("unique_rows")
            goals.check(f"{row['command']}: fewer rows back than customers", back is not None and back < n,
                        f"{back} of {n:,}")
        if small.get("driver_peak_rss_gb") and full.get("driver_peak_rss_gb"):
            goals.at_most("scoring driver peak RSS, full / quarter size",
                          full["driver_peak_rss_gb"] / small["driver_peak_rss_gb"], SCORING_FLAT, unit="x")
        else:
            goals.check("scoring driver peak RSS measured", False, "a scoring run printed no figure")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return goals.finish()


if __name__ == "__main__":
    raise SystemExit(main())
