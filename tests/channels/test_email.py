"""E-mail through the outbox sender to a local SMTP server (aiosmtpd): STARTTLS and auth, headers, both parts,
one message per key after retries, and the RFC 8058 one-click unsubscribe through `ltv serve`."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
from collections import Counter

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from chanhelp import AppServer, add_outbox, free_port, outbox_states

from ltvkit.actions import OpsStore, default_ops_url, import_contacts, load_scenarios, send
from ltvkit.actions._ops import consent, reachability
from ltvkit.config import load_settings

HOSTILE = '<script>alert("x")</script>'


class Handler:
    def __init__(self) -> None:
        self.fail = 0
        self.messages: list[email.message.EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce@"):
            return "550 5.1.1 <bounce@example.com>: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.fail > 0:
            self.fail -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"shop" and auth_data.password == b"p@ss word", handled=False)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate for the STARTTLS test server")
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def smtp(cert):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    handler = Handler()
    ctrl = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True,
                      auth_required=True, authenticator=_auth)
    ctrl.start()
    try:
        yield handler, ctrl.port
    finally:
        ctrl.stop()


@pytest.fixture
def env(tmp_path, monkeypatch, smtp, cert):
    _, port = smtp
    ws = tmp_path / "ltv.duckdb"
    for k, v in {"LTV_SMTP_URL": f"smtp://shop:p%40ss%20word@127.0.0.1:{port}?tls=required",
                 "LTV_MAIL_FROM": "テスト店 <info@example.jp>", "LTV_CRM_SHOP_NAME": "テスト店",
                 "LTV_SERVE_PUBLIC_URL": "https://crm.example.jp", "LTV_CRM_RETRY_BASE_SECONDS": "0.01",
                 "SSL_CERT_FILE": str(cert[0])}.items():
        monkeypatch.setenv(k, v)
    store = OpsStore(default_ops_url(ws))
    import_contacts(store, pd.DataFrame({"customer_key": ["c0", "c1", "c2", "cb"],
                                         "email": ["a@example.com", "b@example.com", "c@example.com",
                                                   "bounce@example.com"]}))
    yield store, load_settings(ws), load_scenarios(), ws
    store.close()


def test_headers_parts_and_one_message_per_key_after_retries(env, smtp):
    handler, _ = smtp
    store, settings, scenarios, _ = env
    handler.fail = 2  # two attempts refused with 451: retried with the same key
    keys = add_outbox(store, [
        {"customer_key": "c0", "channel": "email", "scenario": "cross-sell",
         "context": {"items": [{"sku": "A", "name": HOSTILE}]}},
        {"customer_key": "c1", "channel": "email", "lang": "en"},
        {"customer_key": "c2", "channel": "email"},
    ])
    report = send(store, settings, scenarios, channel="email", wait=True)
    assert report.sent == 3 and set(outbox_states(store).values()) == {"sent"}
    ids = Counter(m["Message-ID"] for m in handler.messages)
    assert ids == Counter({f"<{k}@example.jp>": 1 for k in keys})
    by_to = {m["To"]: m for m in handler.messages}
    m = by_to["a@example.com"]
    assert m["Subject"] == "テスト店からのお知らせ"
    assert m["From"] == "テスト店 <info@example.jp>"
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = m["List-Unsubscribe"]
    assert unsub.startswith("<https://crm.example.jp/unsubscribe/") and unsub.endswith(">")
    assert m.get_content_type() == "multipart/alternative"
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert HOSTILE in text  # the text part is text
    assert HOSTILE not in html and "&lt;script&gt;" in html  # the HTML part is escaped
    assert unsub[1:-1] in text and unsub[1:-1].replace("&", "&amp;") in html
    assert by_to["b@example.com"]["Subject"] == "A note from テスト店"


def test_refused_recipient_is_unreachable(env, smtp):
    handler, _ = smtp
    store, settings, scenarios, _ = env
    add_outbox(store, [{"customer_key": "cb", "channel": "email"}])
    report = send(store, settings, scenarios, channel="email")
    assert report.failed == 1 and handler.messages == []
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(reachability).where(reachability.c.customer_key == "cb")).one()
    assert row.reachable is False and "bounce" not in (row.reason or "")  # the address is not kept in answers


def test_wrong_password_pauses_email(env, smtp, monkeypatch):
    handler, port = smtp
    store, _, scenarios, ws = env
    monkeypatch.setenv("LTV_SMTP_URL", f"smtp://shop:wrong@127.0.0.1:{port}")
    add_outbox(store, [{"customer_key": "c0", "channel": "email"}])
    report = send(store, load_settings(ws), scenarios, channel="email")
    assert "authentication" in report.paused["email"] and handler.messages == []
    assert set(outbox_states(store).values()) == {"retry"}


def test_one_click_unsubscribe_records_the_opt_out(env, smtp):
    handler, _ = smtp
    store, settings, scenarios, ws = env
    add_outbox(store, [{"customer_key": "c2", "channel": "email"}])
    send(store, settings, scenarios, channel="email")
    url = handler.messages[0]["List-Unsubscribe"][1:-1]
    from ltvkit.web import create_app

    with AppServer(create_app(ws, settings=settings)) as srv:
        local = url.replace("https://crm.example.jp", srv.url)
        page = httpx.get(local)  # a GET (a mail scanner) changes nothing
        assert page.status_code == 200 and "<form" in page.text
        bad = httpx.post(local[:-3] + ("AAA" if not local.endswith("AAA") else "BBB"),
                         data={"List-Unsubscribe": "One-Click"})
        assert bad.status_code == 400 and bad.json()["ok"] is False
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(consent)).scalar() == 0
        r = httpx.post(local, data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(consent)).one()
    assert (row.customer_key, row.channel, row.opted_out) == ("c2", "email", True)
    add_outbox(store, [{"customer_key": "c2", "channel": "email"}])
    n = len(handler.messages)
    send(store, settings, scenarios, channel="email")
    assert len(handler.messages) == n  # opted out: nothing more is sent


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_from_the_start(cert, tmp_path, monkeypatch):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    handler = Handler()
    ctrl = Controller(handler, hostname="127.0.0.1", port=free_port(), ssl_context=ctx, authenticator=_auth,
                      auth_required=True, auth_require_tls=False)  # aiosmtpd does not count implicit TLS
    ctrl.start()
    try:
        from ltvkit.actions.channels import EmailChannel, Message

        ch = EmailChannel(f"smtps://shop:p%40ss%20word@127.0.0.1:{ctrl.port}", "info@example.jp",
                          lambda c, ch_: f"https://crm.example.jp/unsubscribe/{c}-{ch_}")
        ch.context = ssl.create_default_context(cafile=str(cert[0]))
        d = ch.send(Message("0b9c7a34-6f57-4b35-9f2e-4c52a1a0b1c2", "a@example.com", "hello", "s", "c0",
                            lang="en"))
        ch.close()
    finally:
        ctrl.stop()
    assert d.ok and handler.messages[0]["Message-ID"] == "<0b9c7a34-6f57-4b35-9f2e-4c52a1a0b1c2@example.jp>"
    assert handler.messages[0]["Subject"] == "A note from the shop"


def test_an_address_with_a_line_break_is_never_sent(env, smtp):
    handler, _ = smtp
    store, settings, scenarios, _ = env
    import_contacts(store, pd.DataFrame({"customer_key": ["evil"], "email": ["x@example.com\r\nBcc: all@example.com"]}))
    add_outbox(store, [{"customer_key": "evil", "channel": "email"}])
    report = send(store, settings, scenarios, channel="email")
    assert report.failed == 1 and handler.messages == []
    from ltvkit.actions._ops import outbox

    with store.engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.last_error)).scalar() == "invalid address"
