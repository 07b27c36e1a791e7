"""The dashboard over real HTTP: every page and its JSON twin, one error shape, escaping, contact data only on the
customer page, CSRF on every form, scenario edits that validate before saving, retry, the LINE inbox."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape
from webhelp import (
    CONTACT,
    FORMULA_CUSTOMER,
    LINE_USER,
    OPS_EMAIL,
    PAGES,
    XSS_CATEGORY,
    XSS_CUSTOMER,
    XSS_DESCRIPTION,
    XSS_PRODUCT,
    XSS_SCENARIO,
    assert_error_shape,
    csrf_of,
    line_text,
    signed_post,
    wait_until,
)

from ltvkit.actions._ops import inbound, outbox

HOSTILE = (XSS_PRODUCT, XSS_CATEGORY, XSS_CUSTOMER, XSS_SCENARIO, XSS_DESCRIPTION)


@pytest.fixture(scope="module")
def client(served):
    with httpx.Client(base_url=served[0], timeout=30, follow_redirects=False) as c:
        yield c


def _state(store, key):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(outbox.c.state).where(outbox.c.key == key)).scalar()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_and_its_json_twin(client, lang):
    for name in PAGES:
        page = client.get(f"/{name}", params={"lang": lang})
        assert page.status_code == 200, (name, page.text[:500])
        assert page.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in page.text
        twin = client.get(f"/{name}.json", params={"lang": lang})
        assert twin.status_code == 200, (name, twin.text[:500])
        data = twin.json()
        assert data["ok"] is True and data["page"] == name and data["lang"] == lang
        assert str(escape(data["title"])) in page.text
        for section in data.get("sections", []):  # the page shows each section of its twin
            assert str(escape(section["title"])) in page.text, (name, section["title"])
    assert client.get("/").headers["location"] == "/overview"
    found = client.get("/customers", params={"key": XSS_CUSTOMER, "lang": "en"})
    assert found.status_code == 303
    assert found.headers["location"] == f"/customers/{quote(XSS_CUSTOMER, safe='')}?lang=en"


def test_pages_read_the_stored_results(client, shop):
    overview = client.get("/overview.json").json()
    assert overview["charts"][0]["figure"]["layout"]["barmode"] == "stack"
    week = next(t for t in overview["tables"] if t["key"] == "last_7_days")["kpi_rows"]
    assert [r["change"] for r in week] == [r["now"] - r["week_before"] for r in week]
    assert week[0]["now"] + week[0]["week_before"] > 0  # orders in the last two weeks of the shop
    kpis = {k["key"]: k["value"] for s in overview["sections"] for k in s["kpis"]}
    assert kpis["customers"] > 300
    assert overview["outbox"] == {"expired": 1, "failed": 1, "holdout": 41, "planned": 1, "sent": 81}
    pred = client.get("/predictions.json").json()
    assert {s["key"] for s in pred["sections"]} == {"predictive"}
    assert {t["key"] for t in pred["tables"]} >= {"buy_this_week", "buy_next_week", "runout_this_week"}
    monday = pred["filters"]["week_of"]
    for t in pred["tables"]:
        for row in t["rows"]:
            day = row.get("expected_next_purchase_date") or row.get("due_date")
            assert day[:10] >= monday
    cohorts = client.get("/cohorts.json", params={"metric": "retention"}).json()
    assert cohorts["filters"]["metric"] == "retention"
    z = [v for row in cohorts["charts"][0]["figure"]["data"][0]["z"] for v in row if v is not None]
    assert z and all(0 <= v <= 1 for v in z)
    recs = client.get("/recommendations.json").json()
    assert recs["tables"][0]["rows"][0]["customers"] >= 1
    from webhelp import MEASURED

    results = client.get("/results.json").json()
    rows = [r for s in results["sections"] for tb in s["tables"] if tb["key"] == "crm_results" for r in tb["rows"]]
    assert (MEASURED["scenario"], MEASURED["treated"], MEASURED["holdout"]) in [
        (r["scenario"], r["treated"], r["holdout"]) for r in rows]
    trace = results["charts"][0]["figure"]["data"][0]
    measured = next(r for r in rows if r["treated"] == MEASURED["treated"])
    assert trace["y"] == [measured["uplift"]]  # the other month has no holdout, so no uplift to draw
    assert trace["error_y"]["arrayminus"][0] == pytest.approx(measured["uplift"] - measured["uplift_ci_low"])


def test_segment_drill_down_and_csv(client):
    sizes = client.get("/segments.json").json()["tables"][0]["rows"]
    seg = max(sizes, key=lambda r: r["customers"])
    data = client.get("/segments.json", params={"segment": seg["segment"]}).json()
    members = data["tables"][1]
    assert members["total"] == seg["customers"]
    assert len(members["rows"]) == min(100, seg["customers"])
    assert all(r["segment"] == seg["segment"] for r in members["rows"])
    margins = [r["margin"] for r in members["rows"]]
    assert margins == sorted(margins, reverse=True)
    page = client.get("/segments", params={"segment": seg["segment"]})
    assert f'/customers/{quote(members["rows"][0]["customer_key"], safe="")}' in page.text
    second = client.get("/segments.json", params={"segment": seg["segment"], "page": 2}).json()["tables"][1]
    assert len(second["rows"]) == max(0, min(100, seg["customers"] - 100)) and second["total"] == seg["customers"]
    small = client.get("/segments.json", params={"segment": seg["segment"], "page": 1}).json()["tables"][1]
    assert small["rows"] == members["rows"]
    csv = client.get("/segments.csv", params={"segment": seg["segment"]})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("customer_key,segment,")
    assert len(lines) == seg["customers"] + 1


def test_csv_keeps_a_formula_as_text(client):
    from urllib.parse import quote as q_

    data = client.get(f"/customers/{q_(FORMULA_CUSTOMER, safe='')}.json").json()
    segment = next(t for t in data["tables"] if t["key"] == "segments_rfm")["rows"][0]["segment"]
    text = client.get("/segments.csv", params={"segment": segment}).text
    row = next(line for line in text.splitlines() if "=SUM(1+1)" in line)
    assert row.startswith("'=SUM(1+1)") and not row.startswith("=")


def test_one_error_shape(client):
    assert_error_shape(client.get("/customers/no-such-customer.json"), 404)
    assert_error_shape(client.get("/segments.json", params={"kind": "bogus"}), 400)
    assert_error_shape(client.get("/segments.json", params={"segment": "no such segment"}), 400)
    assert_error_shape(client.get("/outbox.json", params={"page": "x"}), 400)
    assert_error_shape(client.get("/overview.json", params={"lang": "fr"}), 400)
    assert_error_shape(client.get("/scenarios/nope.json"), 404)
    assert_error_shape(client.get("/no/such/page"), 404)
    html = client.get("/customers/no-such-customer")
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert "no-such-customer" in html.text


def test_hostile_names_are_escaped_everywhere(client, shop):
    pages = [f"/{p}" for p in PAGES] + [f"/customers/{quote(XSS_CUSTOMER, safe='')}",
                                         f"/customers/{shop['contact_key']}", "/scenarios/web-vip",
                                         "/outbox?state=sent", "/recommendations?lang=en"]
    seen = set()
    for path in pages:
        text = client.get(path).text
        for bad in HOSTILE:
            assert bad not in text, (path, bad)
            if str(escape(bad)) in text:
                seen.add(bad)
    assert seen == set(HOSTILE)  # each hostile name is shown somewhere, as text
    assert XSS_CUSTOMER in client.get(f"/customers/{quote(XSS_CUSTOMER, safe='')}.json").json()["customer_key"]


def test_contact_data_only_on_the_customer_page(client, shop):
    secrets_ = (CONTACT["name"], CONTACT["email"], CONTACT["phone"], OPS_EMAIL, LINE_USER)
    for name in PAGES:
        for path in (f"/{name}", f"/{name}.json"):
            text = client.get(path).text
            assert not [s for s in secrets_ if s in text], path
    for seg in client.get("/segments.json").json()["tables"][0]["rows"]:
        assert not [s for s in secrets_ if s in client.get("/segments.csv", params={"segment": seg["segment"]}).text]
    page = client.get(f"/customers/{shop['contact_key']}").text
    assert all(s in page for s in secrets_)
    data = client.get(f"/customers/{shop['contact_key']}.json").json()
    assert data["contact"]["shop"]["email"] == CONTACT["email"]
    tables = {t["key"]: t for t in data["tables"]}
    assert {r["state"] for r in tables["messages"]["rows"]} == {"failed", "planned", "holdout"}
    assert tables["orders"]["total"] >= 2
    assert tables["scores"]["rows"][0]["p_alive"] is not None
    assert [r["channel"] for r in tables["consent"]["rows"] if r["opted_out"]] == ["email"]


def test_forms_need_the_csrf_token(client, served):
    _, store, _ = served
    key = "00000000-0000-4000-8000-000000000000"  # the failed one
    assert_error_shape(client.post(f"/outbox/{key}/retry", data={}), 403)
    assert_error_shape(client.post(f"/outbox/{key}/retry", data={"csrf": "0" * 64}), 403)
    assert_error_shape(client.post("/scenarios/winback/enabled", data={"enabled": "0", "csrf": "abc"}), 403)
    with httpx.Client(base_url=str(client.base_url)) as other:  # a token that fits another browser's cookie
        token = csrf_of(other.get("/outbox", params={"state": "failed"}).text)
    with httpx.Client(base_url=str(client.base_url), cookies={"ltv_csrf": "forged"}) as forged:
        assert_error_shape(forged.post(f"/outbox/{key}/retry", data={"csrf": token}), 403)
    assert _state(store, key) == "failed"


def test_outbox_pages(client):
    one = client.get("/outbox.json").json()["tables"][0]
    two = client.get("/outbox.json", params={"page": 2}).json()["tables"][0]
    assert one["total"] == two["total"] == 125 and (len(one["rows"]), len(two["rows"])) == (100, 25)
    assert not {r["key"] for r in one["rows"]} & {r["key"] for r in two["rows"]}
    assert 'href="/outbox?page=2"' in client.get("/outbox").text
    sent = client.get("/outbox.json", params={"state": "sent", "scenario": "winback"}).json()["tables"][0]
    assert sent["total"] == 80 and {(r["state"], r["scenario"]) for r in sent["rows"]} == {("sent", "winback")}


def test_a_form_too_large_is_refused(client):
    token = csrf_of(client.get("/scenarios/web-vip").text)
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": "x" * 300_000, "action": "save"})
    assert_error_shape(r, 413)


def test_retry_a_dead_message(client, served, shop):
    _, store, _ = served
    keys = shop["outbox_keys"]
    page = client.get("/outbox", params={"state": "failed"})
    assert f"/outbox/{keys['failed']}/retry" in page.text
    assert f"/outbox/{keys['planned']}/retry" not in client.get("/outbox").text
    token = csrf_of(page.text)
    r = client.post(f"/outbox/{keys['failed']}/retry", data={"csrf": token})
    assert r.status_code == 303
    assert _state(store, keys["failed"]) == "retry"
    r = client.post(f"/outbox/{keys['planned']}/retry", data={"csrf": token})
    assert r.status_code == 400 and _state(store, keys["planned"]) == "planned"
    rows = client.get("/outbox.json", params={"state": "retry"}).json()["tables"][0]
    assert [row["key"] for row in rows["rows"]] == [keys["failed"]] and rows["total"] == 1


def test_switch_a_scenario_off_and_on(client, served):
    _, store, _ = served
    from ltvkit.actions.dashboard import disabled_scenarios

    token = csrf_of(client.get("/scenarios").text)
    assert client.post("/scenarios/winback/enabled", data={"csrf": token, "enabled": "0"}).status_code == 303
    assert disabled_scenarios(store) == {"winback"}
    rows = {s["name"]: s for s in client.get("/scenarios.json").json()["scenarios"]}
    assert rows["winback"]["enabled"] is False and rows["web-vip"]["enabled"] is True
    assert rows["web-vip"]["description"] == XSS_DESCRIPTION
    assert client.post("/scenarios/winback/enabled", data={"csrf": token, "enabled": "1"}).status_code == 303
    assert disabled_scenarios(store) == set()
    assert client.post("/scenarios/nope/enabled", data={"csrf": token, "enabled": "0"}).status_code == 404


def test_scenario_edit_validates_previews_and_saves(client, served):
    _, _, folder = served
    path = folder / "scenarios" / "web-vip.yaml"
    before = path.read_text(encoding="utf-8")
    page = client.get("/scenarios/web-vip")
    token = csrf_of(page.text)
    broken = before.replace("kind: segment", "kind: whenever")
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": broken, "action": "save"})
    assert r.status_code == 400
    assert "trigger.kind" in r.text and 'role="alert"' in r.text
    assert path.read_text(encoding="utf-8") == before
    bad_var = before.replace("{{ orders }}回", "{{ nickname }}回")
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": bad_var, "action": "save"})
    assert r.status_code == 400 and "nickname" in r.text and path.read_text(encoding="utf-8") == before
    renamed = before.replace("name: web-vip", "name: other")
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": renamed, "action": "save"})
    assert r.status_code == 400 and not (folder / "scenarios" / "other.yaml").exists()
    edited = before.replace("holdout: 0.2", "holdout: 0.5")
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": edited, "action": "preview"})
    assert r.status_code == 200, r.text[:2000]
    assert path.read_text(encoding="utf-8") == before  # a preview saves nothing
    assert r.text.count('class="sample"') == 3
    assert "テスト店です。いつもありがとうございます" in r.text
    assert 'data-kpi="eligible"' in r.text
    r = client.post("/scenarios/web-vip", data={"csrf": token, "yaml": edited, "action": "save"})
    assert r.status_code == 303 and path.read_text(encoding="utf-8") == edited
    rows = {s["name"]: s for s in client.get("/scenarios.json").json()["scenarios"]}
    assert rows["web-vip"]["holdout"] == 0.5


def test_library_scenario_saved_as_a_shop_file(client, served):
    _, _, folder = served
    data = client.get("/scenarios/winback.json").json()
    assert data["file"].startswith("library:")
    token = csrf_of(client.get("/scenarios/winback").text)
    text = data["yaml"].replace("priority:", "priority: 7\n# was:", 1) if "priority:" in data["yaml"] else (
        data["yaml"] + "priority: 7\n")
    r = client.post("/scenarios/winback", data={"csrf": token, "yaml": text, "action": "save"})
    assert r.status_code == 303, r.text[:1000]
    assert (folder / "scenarios" / "winback.yaml").read_text(encoding="utf-8") == text
    assert client.get("/scenarios/winback.json").json()["file"].endswith("winback.yaml")


def test_a_line_message_reaches_the_inbox_and_is_answered(client, served, fake_line, shop):
    url, store, _ = served
    text = "<i>届いた商品について</i> 質問です"
    assert signed_post(client, url, line_text(text)).json() == {"ok": True, "events": 1}
    row = wait_until(lambda: next((m for m in client.get("/inbox.json").json()["messages"] if m["text"] == text), None))
    assert row["customer_key"] == shop["contact_key"]
    page = client.get("/inbox")
    assert str(escape(text)) in page.text and text not in page.text
    customer = client.get(f"/customers/{shop['contact_key']}.json").json()
    assert text in [m["text"] for t in customer["tables"] if t["key"] == "inbound" for m in t["rows"]]
    before = len(fake_line.delivered)
    r = client.post(f"/inbox/{row['key']}/reply", data={"csrf": csrf_of(page.text), "text": "ご連絡ありがとうございます"})
    assert r.status_code == 303
    sent = fake_line.delivered[before:]
    assert [(d["to"], d["text"]) for d in sent] == [(LINE_USER, "ご連絡ありがとうございます")]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(inbound.c.reply_text).where(inbound.c.key == row["key"])).scalar() == \
            "ご連絡ありがとうございます"
    assert text not in [m["text"] for m in client.get("/inbox.json").json()["messages"]]
    assert text in [m["text"] for m in client.get("/inbox.json", params={"all": "1"}).json()["messages"]]



def test_pages_before_any_import(shop, fake_line, tmp_path):
    """A server started before the first import: the webhook and the ops pages work, analysis pages say what to
    do (404, one error shape), and they appear once the workspace file does."""
    import shutil

    from webhelp import AppServer, make_app

    (tmp_path / "scenarios").mkdir()
    app, store = make_app(tmp_path, fake_line)
    with AppServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/outbox.json").json()["counts"] == {}
        assert c.get("/inbox").status_code == 200
        missing = c.get("/overview.json")
        assert_error_shape(missing, 404)
        assert "ltv import" in missing.json()["error"]
        assert c.get("/cohorts").status_code == 404
        shutil.copy(shop["dir"] / "ltv.duckdb", tmp_path / "ltv.duckdb")
        assert wait_until(lambda: c.get("/overview.json").status_code == 200)
    store.close()
