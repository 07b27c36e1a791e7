"""Open the demo shop's report in headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                     "(scripts/test installs it with apt-get when run as root)"),
]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_renders_in_chromium(reports, hostile, lang, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed ([test] extra)")
    paths = reports[lang]
    n_charts = len(paths.data.charts())
    errors: list[str] = []
    dialogs: list[str] = []
    shot = tmp_path / f"report-{lang}.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: errors.append(f"network request {r.url}")
                    if not r.url.startswith(("file:", "data:", "blob:", "about:")) else None)
            page.goto(paths.html.as_uri())
            page.wait_for_function(f"document.querySelectorAll('.chart .main-svg').length >= {n_charts}",
                                   timeout=30_000)
            charts = page.locator(".chart")
            assert charts.count() == n_charts
            for i in range(n_charts):
                chart = charts.nth(i)
                assert chart.locator(".main-svg").count() >= 1, chart.get_attribute("id")
                assert chart.locator(".plot-container").count() == 1
                assert chart.bounding_box()["height"] > 200
            text = page.inner_text("body")
            assert hostile["product"] in text
            assert hostile["category"] in text
            assert hostile["channel"] in text
            # the product name is drawn as chart text too (a Plotly label), as text
            assert hostile["product"] in page.inner_text("#sec-recommend")
            assert page.locator("script").count() == 3
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert dialogs == []
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("LTV_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    print(f"screenshot: {shot}")
