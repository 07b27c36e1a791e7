"""Every dashboard page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright, as the report's
browser test): no console errors, charts drawn, a screenshot of each page, hostile names shown as text, a LINE
message posted to the webhook shown in the inbox, a broken scenario edit shown as an error with nothing saved."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from webhelp import (
    PAGES,
    XSS_CATEGORY,
    XSS_CUSTOMER,
    XSS_DESCRIPTION,
    XSS_PRODUCT,
    XSS_SCENARIO,
    line_text,
    signed_post,
    wait_until,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                     "(scripts/test installs it with apt-get when run as root)"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed ([test] extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page whose console errors, page errors, dialogs and requests off the server are collected."""

    def __init__(self, browser, base: str) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append("dialog " + d.message), d.dismiss()))
        self.page.on("request", lambda r: self.errors.append(f"request off the server {r.url}")
                     if not r.url.startswith((base, "data:", "about:", "blob:")) else None)

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        n = self.page.locator(".chart").count()
        if n:
            self.page.wait_for_function(f"document.querySelectorAll('.chart .main-svg').length >= {n}",
                                        timeout=30_000)


def _keep(shot: Path) -> None:
    keep = os.environ.get("LTV_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


def test_every_page_renders_in_chromium(browser, served, shop, tmp_path):
    url, _, _ = served
    w = Watched(browser, url)
    visits = [(name, f"{url}/{name}") for name in PAGES]
    visits += [("segments-drill", f"{url}/segments?segment=Loyal"), ("overview-en", f"{url}/overview?lang=en"),
               ("customer", f"{url}/customers/{shop['contact_key']}"),
               ("customer-hostile", f"{url}/customers/{quote(XSS_CUSTOMER, safe='')}"),
               ("scenario", f"{url}/scenarios/web-vip"), ("outbox-sent", f"{url}/outbox?state=sent")]
    text = {}
    charts = 0
    for name, target in visits:
        w.visit(target)
        charts += w.page.locator(".chart .main-svg").count()
        text[name] = w.page.inner_text("body")
        shot = tmp_path / f"dashboard-{name}.png"
        w.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        _keep(shot)
    w.page.close()
    assert w.errors == []
    assert charts >= 8  # the report's figures, drawn by the bundled plotly.js
    everything = "\n".join(text.values())
    assert XSS_PRODUCT in text["recommendations"] or XSS_PRODUCT in text["customer-hostile"]
    assert XSS_CATEGORY in everything
    assert XSS_CUSTOMER in text["customer-hostile"] and XSS_CUSTOMER in text["outbox-sent"]
    assert XSS_SCENARIO in text["outbox-sent"]
    assert XSS_DESCRIPTION in text["scenarios"]
    print(f"screenshots: {tmp_path}")


def test_a_line_message_appears_in_the_inbox(browser, served, tmp_path):
    url, _, _ = served
    message = "<b>定期便</b>の日程を変えたいです"
    with httpx.Client(timeout=30) as c:
        assert signed_post(c, url, line_text(message)).json()["events"] == 1
        wait_until(lambda: message in [m["text"] for m in c.get(url + "/inbox.json").json()["messages"]])
    w = Watched(browser, url)
    w.visit(url + "/inbox")
    assert message in w.page.inner_text("body")
    assert w.page.locator("article.message b").count() == 0  # shown as text, not markup
    w.page.screenshot(path=str(tmp_path / "dashboard-inbox-message.png"), full_page=True)
    w.page.close()
    assert w.errors == []


def test_a_broken_scenario_edit_shows_the_error_and_saves_nothing(browser, served, tmp_path):
    url, _, folder = served
    path = folder / "scenarios" / "web-vip.yaml"
    before = path.read_text(encoding="utf-8")
    w = Watched(browser, url)
    w.visit(url + "/scenarios/web-vip")
    w.page.fill("textarea[name=yaml]", before.replace("holdout: 0.2", "holdout: 2"))
    with w.page.expect_navigation():
        w.page.click("button[value=save]")
    alert = w.page.locator("[role=alert]")
    assert alert.count() == 1 and "holdout" in alert.inner_text()
    assert "holdout: 2" in w.page.input_value("textarea[name=yaml]")  # the edit is kept for fixing
    w.page.screenshot(path=str(tmp_path / "dashboard-scenario-error.png"), full_page=True)
    w.page.close()
    assert path.read_text(encoding="utf-8") == before
    # the browser saw the 400 of the form post; nothing else went wrong
    assert [e for e in w.errors if "400" not in e] == []
