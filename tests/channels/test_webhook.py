"""`ltv serve` over real HTTP: the LINE webhook verifies, deduplicates and acts; nothing else gets in."""

from __future__ import annotations

import json
import uuid

import duckdb
import httpx
import sqlalchemy as sa
from chanhelp import SECRET, AppServer, signed_post, snapshot, wait_until

from ltvkit.actions import inbound_messages, issue_link_codes
from ltvkit.actions._ops import consent, contacts, line_users, reachability, webhook_events
from ltvkit.actions.linking import format_code


def event(kind: str, user: str = "Uuser1", **extra) -> dict:
    ev = {"type": kind, "mode": "active", "timestamp": 1, "webhookEventId": uuid.uuid4().hex.upper()[:26],
          "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": user}}
    if kind in ("follow", "message", "postback"):
        ev["replyToken"] = uuid.uuid4().hex
    ev.update(extra)
    return ev


def text(t: str, user: str = "Uuser1") -> dict:
    return event("message", user, message={"type": "text", "id": "1", "text": t})


def payload(*events) -> dict:
    return {"destination": "Ubot", "events": list(events)}


def state_of(store, event_id):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(webhook_events.c.state).where(webhook_events.c.event_id == event_id)).scalar()


def done(store, event_id):
    return wait_until(lambda: state_of(store, event_id) in ("done", "failed")) and state_of(store, event_id)


def replies_to(fake_line, n):
    return wait_until(lambda: [d for d in fake_line.delivered if d["to"] == "reply"][n - 1:] and
                      [d for d in fake_line.delivered if d["to"] == "reply"])


def test_forged_truncated_wrong_channel_and_unsigned_change_nothing(serve, fake_line):
    url, store, _ = serve
    before = snapshot(store)
    body = json.dumps(payload(event("follow"))).encode()
    forged = httpx.post(url + "/webhooks/line", content=body, headers={"x-line-signature": "AAAA" + "=" * 40})
    unsigned = httpx.post(url + "/webhooks/line", content=body)
    good_sig = signed_post  # signature over the full body, body cut short in transit
    from ltvkit.actions.webhook import line_signature

    truncated = httpx.post(url + "/webhooks/line", content=body[:-7],
                           headers={"x-line-signature": line_signature(SECRET, body)})
    other_secret = good_sig(url, payload(event("follow")), secret="another-channel-secret")
    other_destination = signed_post(url, {"destination": "Uother", "events": [event("follow")]})
    not_json = signed_post(url, b"{not json")
    no_id = signed_post(url, payload({"type": "follow", "source": {"userId": "U1"}}))
    huge = signed_post(url, payload(text("x" * 1_100_000)))
    for r, status in ((forged, 401), (unsigned, 401), (truncated, 401), (other_secret, 401),
                      (other_destination, 403), (not_json, 400), (no_id, 400), (huge, 413)):
        assert r.status_code == status, r.text
        assert r.json() == {"ok": False, "error": r.json()["error"], "status": status}
    assert snapshot(store) == before


def test_replayed_event_is_processed_once(serve, fake_line):
    url, store, _ = serve
    ev = text("こんにちは、質問があります", user="Ureplay")
    assert signed_post(url, payload(ev)).json() == {"ok": True, "events": 1}
    assert done(store, ev["webhookEventId"]) == "done"
    after_first = snapshot(store)
    ev2 = {**ev, "deliveryContext": {"isRedelivery": True}}
    assert signed_post(url, payload(ev2)).json() == {"ok": True, "events": 0}
    assert signed_post(url, payload(ev)).json() == {"ok": True, "events": 0}
    assert snapshot(store) == after_first
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(inbound_messages)
                         .where(inbound_messages.c.line_user_id == "Ureplay")).scalar()
    assert n == 1


def test_follow_link_code_links_and_replies(serve, fake_line):
    url, store, _ = serve
    codes = issue_link_codes(store, [("cust-link", "order-1")], days=30)
    code, _ = codes[("cust-link", "order-1")]
    replies_before = len([d for d in fake_line.delivered if d["to"] == "reply"])
    follow = event("follow", user="Ulink")
    signed_post(url, payload(follow))
    assert done(store, follow["webhookEventId"]) == "done"
    typed = format_code(code).lower().replace("-", " - ")  # what a customer types, leniently read
    msg = text(typed, user="Ulink")
    signed_post(url, payload(msg))
    assert done(store, msg["webhookEventId"]) == "done"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(contacts.c.line_user_id).where(contacts.c.customer_key == "cust-link")
                            ).scalar() == "Ulink"
        linked = conn.execute(sa.select(line_users).where(line_users.c.line_user_id == "Ulink")).one()
        assert linked.customer_key == "cust-link" and linked.linked_at is not None
        assert conn.execute(sa.select(reachability.c.reachable).where(
            reachability.c.customer_key == "cust-link", reachability.c.channel == "line")).scalar() is True
    replies = replies_to(fake_line, replies_before + 2)
    assert "連携が完了" in replies[-1]["text"]
    # the code is single-use: sent again (another user), it is refused and nothing is linked
    again = text(code, user="Uthief")
    signed_post(url, payload(again))
    assert done(store, again["webhookEventId"]) == "done"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(line_users.c.customer_key).where(line_users.c.line_user_id == "Uthief")
                            ).scalar() is None
    assert "無効" in replies_to(fake_line, replies_before + 3)[-1]["text"]


def test_unfollow_stop_and_reorder(serve, fake_line):
    url, store, _ = serve
    code, _ = issue_link_codes(store, [("cust-stop", "o-9")], days=30)[("cust-stop", "o-9")]
    for ev in (event("follow", user="Ustop"), text(code, user="Ustop")):
        signed_post(url, payload(ev))
        done(store, ev["webhookEventId"])
    stop = text("配信停止", user="Ustop")
    reorder = event("postback", user="Ustop", postback={"data": "reorder:SKU 1/ä"})
    unfollow = event("unfollow", user="Ustop")
    signed_post(url, payload(stop, reorder, unfollow))
    for ev in (stop, reorder, unfollow):
        assert done(store, ev["webhookEventId"]) == "done"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(consent.c.opted_out).where(
            consent.c.customer_key == "cust-stop", consent.c.channel == "line")).scalar() is True
        assert conn.execute(sa.select(reachability.c.reachable).where(
            reachability.c.customer_key == "cust-stop", reachability.c.channel == "line")).scalar() is False
        intent = conn.execute(sa.select(inbound_messages).where(inbound_messages.c.kind == "reorder")).one()
        assert intent.sku == "SKU 1/ä" and intent.customer_key == "cust-stop"
    texts = [d["text"] for d in fake_line.delivered if d["to"] == "reply"]
    assert any("配信を停止" in t for t in texts)
    assert any("https://shop.example/items/SKU%201%2F%C3%A4" in t for t in texts)


def test_inbox_and_reply_through_the_cli(serve, fake_line, monkeypatch, capsys):
    url, store, tmp = serve
    ev = text("サイズ交換できますか", user="Uask")
    signed_post(url, payload(ev))
    done(store, ev["webhookEventId"])
    r = httpx.get(url + "/line/inbox.json")
    assert r.status_code == 200 and any(row["text"] == "サイズ交換できますか" for row in r.json()["rows"])
    from ltvkit.cli import main

    monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", "test-token")
    monkeypatch.setenv("LTV_LINE_API_BASE", fake_line.url)
    ws = str(tmp / "ltv.duckdb")
    assert main(["line", "inbox", "--json", "--workspace", ws]) == 0
    rows = json.loads(capsys.readouterr().out)
    key = next(row["key"] for row in rows if row["text"] == "サイズ交換できますか")
    n = len(fake_line.delivered)
    assert main(["line", "reply", key, "できます。", "--workspace", ws]) == 0
    assert main(["line", "reply", key, "できます。", "--workspace", ws]) == 0  # the same reply twice: sent once
    sent = [d for d in fake_line.delivered[n:] if d["to"] == "Uask"]
    assert [d["text"] for d in sent] == ["できます。"]


def test_events_are_accepted_while_an_import_holds_the_workspace(serve, fake_line):
    url, store, tmp = serve
    con = duckdb.connect(str(tmp / "ltv.duckdb"))  # holds the workspace file's write lock
    try:
        con.execute("CREATE TABLE IF NOT EXISTS busy AS SELECT 1 AS x")
        ev = event("follow", user="Ubusy")
        assert signed_post(url, payload(ev)).status_code == 200
        assert done(store, ev["webhookEventId"]) == "done"
    finally:
        con.close()


def test_non_loopback_host_needs_a_token(tmp_path, monkeypatch, capsys):
    from ltvkit.cli import main

    monkeypatch.delenv("LTV_SERVE_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--workspace", str(tmp_path / "ltv.duckdb")]) == 1
    assert "LTV_SERVE_TOKEN" in capsys.readouterr().err


def test_serve_token_protects_pages_but_not_the_webhook(tmp_path, monkeypatch):
    from ltvkit.config import load_settings
    from ltvkit.web import create_app

    monkeypatch.setenv("LTV_SERVE_TOKEN", "s3cret")
    monkeypatch.setenv("LTV_LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.delenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    ws = tmp_path / "ltv.duckdb"
    with AppServer(create_app(ws, settings=load_settings(ws), require_token=True)) as srv:
        assert httpx.get(srv.url + "/line/inbox.json").status_code == 401
        r = httpx.get(srv.url + "/line/inbox.json", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["ok"] is False
        assert httpx.get(srv.url + "/line/inbox.json", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert signed_post(srv.url, {"events": [event("unfollow", user="Utok")]}).status_code == 200
        assert httpx.get(srv.url + "/nothing-here", headers={"Authorization": "Bearer s3cret"}).json() == {
            "ok": False, "error": "Not Found", "status": 404}


def test_events_stored_before_a_crash_are_processed_at_start(tmp_path, monkeypatch, fake_line):
    from ltvkit.actions import OpsStore, default_ops_url
    from ltvkit.actions.webhook import accept_line_webhook
    from ltvkit.config import load_settings
    from ltvkit.web import create_app

    monkeypatch.setenv("LTV_LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", "test-token")
    monkeypatch.setenv("LTV_LINE_API_BASE", fake_line.url)
    ws = tmp_path / "ltv.duckdb"
    settings = load_settings(ws)
    store = OpsStore(default_ops_url(ws))
    try:
        ev = text("届いた商品について", user="Ucrash")
        body = json.dumps(payload(ev)).encode()
        from ltvkit.actions.webhook import line_signature

        # stored and answered, then the server died before processing it
        assert accept_line_webhook(store, settings, body, line_signature(SECRET, body)) == [ev["webhookEventId"]]
        assert state_of(store, ev["webhookEventId"]) == "received"
        with AppServer(create_app(ws, settings=settings, store=store)):
            assert done(store, ev["webhookEventId"]) == "done"
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(inbound_messages.c.text).where(
                inbound_messages.c.line_user_id == "Ucrash")).scalar() == "届いた商品について"
    finally:
        store.close()


def test_guessing_codes_is_limited(serve, fake_line):
    url, store, _ = serve
    code, _ = issue_link_codes(store, [("cust-guess", "o-1")], days=30)[("cust-guess", "o-1")]
    wrong = [c for c in ("AAAAAAAA", "CCCCCCCC") if c != code][0]
    guesses = [text(wrong, user="Uguess") for _ in range(10)]
    signed_post(url, payload(*guesses))
    for ev in guesses:
        done(store, ev["webhookEventId"])
    right = text(code, user="Uguess")  # the 11th try within a day is not even looked up
    signed_post(url, payload(right))
    done(store, right["webhookEventId"])
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(line_users.c.customer_key).where(line_users.c.line_user_id == "Uguess")
                            ).scalar() is None
        assert conn.execute(sa.select(webhook_events.c.outcome).where(
            webhook_events.c.event_id == right["webhookEventId"])).scalar().startswith("bad code (limited)")


def test_after_unfollow_or_stop_in_line_nothing_is_sent(serve, fake_line, monkeypatch):
    from chanhelp import TOKEN, add_outbox, outbox_states

    from ltvkit.actions import load_scenarios, send
    from ltvkit.config import load_settings

    url, store, tmp = serve
    for customer, user, last in (("cust-unf", "Uunf", event("unfollow", user="Uunf")),
                                 ("cust-stp", "Ustp", text("ストップ", user="Ustp")),
                                 ("cust-ok", "Uok", None)):
        code, _ = issue_link_codes(store, [(customer, "o")], days=30)[(customer, "o")]
        for ev in [event("follow", user=user), text(code, user=user)] + ([last] if last else []):
            signed_post(url, payload(ev))
            assert done(store, ev["webhookEventId"]) == "done"
    monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LTV_LINE_API_BASE", fake_line.url)
    keys = add_outbox(store, [{"customer_key": c} for c in ("cust-unf", "cust-stp", "cust-ok")])
    n = len(fake_line.delivered)
    report = send(store, load_settings(tmp / "ltv.duckdb"), load_scenarios(), channel="line")
    assert [d["to"] for d in fake_line.delivered[n:]] == ["Uok"]
    states = outbox_states(store)
    assert [states[k] for k in keys] == ["failed", "failed", "sent"] and report.sent == 1
