"""Build time and size of the report on a synthetic demo shop (default about 1M order lines).

Usage::

    .venv/bin/python bench/report_bench.py [--customers 150000] [--seed 0] [--lang ja] [--out bench/out]

Prints the time of each step (generation and loading are shown apart; the report's own time is the sum of the
section rows and the rendering rows), the HTML and Excel sizes, and saves a screenshot of the page when
Debian's chromium and the playwright package are present. There is no peer tool to compare with, so the table
shows each step's share of the report's build time instead of a ratio.

Goals (exit status 1 when one is missed): the report's build (sections, HTML, Excel) takes at most 60 CPU
seconds per million order lines (at least 60 s: 41.6 s measured on 1M lines), the HTML page is at most 6 MB,
and every section is available.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from _goals import Goals, add_goal_arguments

GOAL_CPU_S_PER_MILLION_LINES = 60.0
GOAL_HTML_MB = 6.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=150_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lang", default="ja")
    ap.add_argument("--out", type=Path, default=Path("bench/out"))
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)

    from ltvkit import Workspace
    from ltvkit.reports import ReportSettings, build_report_data
    from ltvkit.reports.render_html import render_html
    from ltvkit.reports.render_xlsx import write_xlsx
    from ltvkit.synth import generate_shop

    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, float]] = []
    t = time.perf_counter()
    shop = generate_shop(customers=args.customers, seed=args.seed)
    rows.append(("generate shop (not part of the report)", time.perf_counter() - t))
    path = args.out / "report-bench.duckdb"
    if path.exists():
        path.unlink()
    ws = Workspace(path)
    t = time.perf_counter()
    ws.append_order_lines(shop.order_lines)
    rows.append(("load order lines (not part of the report)", time.perf_counter() - t))
    n_lines = ws.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]

    marks: list[tuple[str, float]] = []
    settings = ReportSettings(lang=args.lang, costs=shop.acquisition_costs, strict=True)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    data = build_report_data(ws, settings, progress=lambda key, title: marks.append((key, time.perf_counter())))
    t_data = time.perf_counter()
    marks.append(("_end", t_data))
    section_rows = [(f"section {k}", b - a) for (k, a), (_, b) in zip(marks[:-1], marks[1:], strict=True)]
    html_path = args.out / f"report-{args.lang}.html"
    t = time.perf_counter()
    html_path.write_text(render_html(data), encoding="utf-8")
    t_html = time.perf_counter() - t
    t = time.perf_counter()
    xlsx_path = write_xlsx(data, args.out / f"report-{args.lang}.xlsx")
    t_xlsx = time.perf_counter() - t
    cpu = time.process_time() - cpu0
    report_rows = section_rows + [("render HTML", t_html), ("write Excel", t_xlsx)]
    total = (t_data - t0) + t_html + t_xlsx

    shot = args.out / f"report-{args.lang}.png"
    shot_note = _screenshot(html_path, shot)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nreport benchmark: {n_lines:,} order lines, {args.customers:,} customers, lang={args.lang}")
    print(f"{'step':<44}{'seconds':>10}{'share':>9}")
    for name, sec in rows:
        print(f"{name:<44}{sec:>10.2f}{'':>9}")
    for name, sec in report_rows:
        print(f"{name:<44}{sec:>10.2f}{sec / total:>9.1%}")
    print(f"{'report total (wall clock)':<44}{total:>10.2f}{1:>9.0%}")
    print(f"{'report total (CPU time, all threads)':<44}{cpu:>10.2f}")
    print(f"HTML {html_path}: {html_path.stat().st_size / 1e6:.2f} MB "
          f"({len(data.sections)} sections, {len(data.charts())} charts, "
          f"{html_path.stat().st_size / 1e6 - _plotly_mb():.2f} MB without plotly.js)")
    print(f"Excel {xlsx_path}: {xlsx_path.stat().st_size / 1e6:.2f} MB ({len(data.tables()) + 1} sheets)")
    print(f"peak RSS {peak:,.0f} MB; screenshot: {shot_note}")
    if data.unavailable:
        print("not available:", "; ".join(f"{u.key}: {u.reason}" for u in data.unavailable))
    ws.close()
    goals.at_most("report build CPU seconds", cpu, GOAL_CPU_S_PER_MILLION_LINES * max(1.0, n_lines / 1e6), unit=" s")
    goals.at_most("HTML size", html_path.stat().st_size / 1e6, GOAL_HTML_MB, unit=" MB")
    goals.equal("sections not available", [u.key for u in data.unavailable], [])
    raise SystemExit(goals.finish())


def _plotly_mb() -> float:
    from ltvkit.reports.render_html import plotly_js

    return len(plotly_js().encode("utf-8")) / 1e6


def _screenshot(html: Path, shot: Path) -> str:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return "skipped (no /usr/bin/chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped (playwright not installed)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        t = time.perf_counter()
        page.goto(html.resolve().as_uri())
        page.wait_for_function("document.querySelectorAll('.chart .main-svg').length > 0", timeout=60_000)
        page.wait_for_timeout(500)
        load = time.perf_counter() - t
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return f"{shot} (page ready in {load:.1f} s)"


if __name__ == "__main__":
    main()
