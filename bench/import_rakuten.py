"""Benchmark: import a CP932 Rakuten-layout CSV vs DuckDB's own read_csv of the same data in UTF-8.

    .venv/bin/python bench/import_rakuten.py --lines 1000000
    .venv/bin/python bench/import_rakuten.py --lines 10000000

The file uses a realistic subset of the 楽天ペイ受注 header (order, buyer, coupon, point and item columns), with
1-3 item lines per order and order values repeated on each line. Each measurement runs in a fresh child process
so that its peak resident memory (ru_maxrss) is its own. The peer is DuckDB ``CREATE TABLE AS SELECT * FROM
read_csv(...)`` of the UTF-8 copy into a fresh DuckDB file, under the same memory cap (2GB) as ltvkit's import; ltvkit does the whole import (transcode, parse,
normalise, validate, allocate, key, upsert, customers and products) into a fresh workspace file.
Goals (exit status 1 when one is missed): ltvkit speed >= 1/3 of DuckDB's, and peak memory that does not grow
with the file size: at every size ltvkit's peak RSS stays under the import memory cap (LTV_IMPORT_MEMORY, 2GB)
plus 1 GiB for Python and its libraries; give several sizes (``--lines 1000000 10000000``) to see it flat.
Results: ltvkit imports every generated line (none quarantined), as many rows as DuckDB reads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _goals import Goals, add_goal_arguments  # noqa: E402

GOAL_SPEED = 0.33  # ltvkit lines/s over DuckDB's
HEADROOM_MIB = 1024  # Python, pyarrow, ibis and DuckDB's own overhead above the memory cap

HEADER = ["注文番号", "ステータス", "注文日時", "商品合計金額", "送料合計", "合計金額", "ポイント利用額", "クーポン利用総額",
          "店舗発行クーポン利用額", "楽天発行クーポン利用額", "注文者郵便番号1", "注文者郵便番号2", "注文者住所都道府県",
          "注文者姓", "注文者名", "注文者電話番号1", "注文者電話番号2", "注文者電話番号3", "注文者メールアドレス",
          "申込番号", "申込お届け回数", "商品明細ID", "商品ID", "商品名", "商品管理番号", "単価", "個数", "ポイント倍率",
          "利用端末"]
PREFS = ["東京都", "大阪府", "北海道", "福岡県", "神奈川県", "愛知県", "京都府", "兵庫県"]
SEI = ["山田", "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "髙橋"]
MEI = ["太郎", "花子", "一郎", "美咲", "翔", "陽菜", "蓮", "結衣"]
DEVICES = ["PC", "スマートフォン", "タブレット"]


def generate(path: Path, lines: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    n_customers = max(lines // 6, 10)
    products = [(f"{100000 + i}", f"オーガニック商品①ソ表{i}号", f"sku-{i:05d}", rng.choice([980, 1980, 2480, 3980, 12800]))
                for i in range(2000)]
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write((",".join(f'"{h}"' for h in HEADER) + "\r\n").encode("cp932"))
        written, order_no = 0, 0
        buf: list[str] = []
        while written < lines:
            order_no += 1
            n_items = min(rng.choice((1, 1, 1, 2, 2, 3)), lines - written)
            c = rng.randrange(n_customers)
            day = 1 + (order_no * 7919) % 1000
            y, rem = 2022 + day // 365, day % 365
            m, d = 1 + rem // 31 % 12, 1 + rem % 28
            when = f"{y}-{m:02d}-{d:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
            oid = f"338811-{y}{m:02d}{d:02d}-{order_no:010d}"
            status = "900" if rng.random() < 0.03 else "500"
            items = [products[rng.randrange(len(products))] for _ in range(n_items)]
            qtys = [rng.choice((1, 1, 2, 3)) for _ in items]
            subtotal = sum(p[3] * q for p, q in zip(items, qtys, strict=False))
            points = rng.choice((0, 0, 0, 100, 500, 1200))
            shop_c, mall_c = rng.choice((0, 0, 300)), rng.choice((0, 0, 0, 500))
            ship = 0 if subtotal >= 3980 else 550
            sub = f"{c:07d}-{order_no % 5}" if rng.random() < 0.1 else ""
            sub_n = str(1 + order_no % 12) if sub else ""
            sei, mei = SEI[c % 8], MEI[(c // 8) % 8]
            head = (f'"{oid}","{status}","{when}","{subtotal:,}","{ship}","{subtotal + ship - points:,}","{points}",'
                    f'"{shop_c + mall_c}","{shop_c}","{mall_c}","{100 + c % 900:03d}","{c % 10000:04d}",'
                    f'"{PREFS[c % 8]}","{sei}","{mei}","090","{c % 10000:04d}","{(c // 10000) % 10000:04d}",'
                    f'"{rng.randrange(10**9):09d}@pc.fw.rakuten.ne.jp","{sub}","{sub_n}"')
            for k, (p, q) in enumerate(zip(items, qtys, strict=False)):
                buf.append(f'{head},"{oid}-{k}","{p[0]}","{p[1]}","{p[2]}","{p[3]}","{q}","{rng.choice((1, 1, 2, 5))}",'
                           f'"{DEVICES[c % 3]}"\r\n')
            written += n_items
            if len(buf) >= 50_000:
                fh.write("".join(buf).encode("cp932"))
                buf.clear()
        fh.write("".join(buf).encode("cp932"))
    tmp.rename(path)


def child(kind: str, data: Path, db: Path) -> dict[str, object]:
    import duckdb

    from ltvkit import Workspace
    from ltvkit.config import load_settings
    from ltvkit.ingest import import_orders

    if db.exists():
        db.unlink()
    t0 = time.perf_counter()  # after the imports: Python start-up is not what is measured
    if kind == "duckdb":
        con = duckdb.connect(str(db))
        con.execute(f"SET memory_limit = '{load_settings(db).import_memory}'")  # same cap as ltvkit
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{data}', header=true)")
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.close()
        out = {"rows": rows}
    else:
        ws = Workspace(db)
        result = import_orders(ws, data)
        ws.close()
        out = {"rows": result.imported, "quarantined": result.quarantined}
    out["seconds"] = time.perf_counter() - t0
    return out


def measure(kind: str, data: Path, db: Path) -> dict[str, object]:
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, str(data), str(db)], stdout=subprocess.PIPE)
    output = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{kind} child failed")
    out = json.loads(output)
    out["peak_rss_mib"] = usage.ru_maxrss / 1024
    return out


def mib(size: str) -> float:
    """A DuckDB memory size (2GB, 1.5GiB, 500MB) in MiB."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)(i?)b?\s*", size, flags=re.I)
    if m is None:
        raise SystemExit(f"cannot read the memory size {size!r}")
    power = " kmgt".index(m[2].lower() or " ")
    return float(m[1]) * (1024 if m[3] else 1000) ** power / 2**20


def run_size(lines: int, folder: Path, goals: Goals, cap_mib: float) -> dict[str, object]:
    sjis = folder / f"rakuten_{lines}.cp932.csv"
    utf8 = folder / f"rakuten_{lines}.utf8.csv"
    if not sjis.exists():
        t = time.perf_counter()
        generate(sjis, lines)
        print(f"generated {sjis} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not utf8.exists():
        from ltvkit.ingest._csv import transcode_to_utf8

        transcode_to_utf8(sjis, utf8, "cp932")
    duck = measure("duckdb", utf8, folder / "peer.duckdb")
    ltv = measure("ltvkit", sjis, folder / "ltv.duckdb")
    for f in ("peer.duckdb", "ltv.duckdb"):
        (folder / f).unlink(missing_ok=True)
    size = sjis.stat().st_size / 2**20
    print(f"\nRakuten CP932 import, {lines:,} lines, {size:,.0f} MiB (CP932)\n")
    print(f"| {'engine':<38} | {'seconds':>8} | {'lines/s':>12} | {'speed vs DuckDB':>15} | {'peak RSS MiB':>12} |")
    print(f"|{'-' * 40}|{'-' * 10}:|{'-' * 14}:|{'-' * 17}:|{'-' * 14}:|")
    for name, r in (("DuckDB read_csv (UTF-8 copy) -> table", duck), ("ltvkit import_orders (CP932 file)", ltv)):
        print(f"| {name:<38} | {r['seconds']:>8.2f} | {lines / r['seconds']:>12,.0f} | "
              f"{duck['seconds'] / r['seconds']:>15.2f} | {r['peak_rss_mib']:>12,.0f} |")
    print(f"\nltvkit imported {ltv['rows']:,} lines, quarantined {ltv.get('quarantined', 0):,}; "
          f"goal: speed ratio >= {GOAL_SPEED} and peak memory under the cap + {HEADROOM_MIB} MiB at every size.")
    label = f"{lines:,} lines"
    goals.equal(f"{label}: rows read by DuckDB", duck["rows"], lines)
    goals.equal(f"{label}: rows imported by ltvkit", ltv["rows"], duck["rows"])
    goals.equal(f"{label}: rows quarantined by ltvkit", ltv.get("quarantined", 0), 0)
    goals.at_least(f"{label}: speed vs DuckDB", duck["seconds"] / ltv["seconds"], GOAL_SPEED, unit="x")
    goals.at_most(f"{label}: ltvkit peak RSS", ltv["peak_rss_mib"], cap_mib + HEADROOM_MIB, unit=" MiB")
    return ltv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000], help="data lines in the generated file(s)")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "ltv-bench",
                    help="where the generated files are kept (default: <temp dir>/ltv-bench)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    add_goal_arguments(ap)
    args = ap.parse_args()
    if args.child:
        kind, data, db = args.child
        print(json.dumps(child(kind, Path(data), Path(db))))
        return
    from ltvkit.config import load_settings

    args.dir.mkdir(parents=True, exist_ok=True)
    cap = load_settings(args.dir / "ltv.duckdb").import_memory
    goals = Goals(args)
    peaks = {lines: run_size(lines, args.dir, goals, mib(cap))["peak_rss_mib"] for lines in args.lines}
    if len(peaks) > 1:
        print("\nltvkit peak RSS by size: " + ", ".join(f"{n:,} lines {p:,.0f} MiB" for n, p in peaks.items()))
    raise SystemExit(goals.finish())


if __name__ == "__main__":
    main()
