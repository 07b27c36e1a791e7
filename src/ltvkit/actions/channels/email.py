"""E-mail over SMTP with the standard library (``smtplib`` / ``email``).

``LTV_SMTP_URL``: ``smtp://user:password@host:587`` (STARTTLS when the server offers it; ``?tls=required``
refuses a server that does not) or ``smtps://…:465`` (TLS from the start); ``LTV_MAIL_FROM`` is the sender.
Each message is ``multipart/alternative`` with a text part and an HTML part (the template rendered with
autoescape), a ``Message-ID`` derived from the idempotency key (so a retry is recognisable as the same message),
and ``List-Unsubscribe`` + ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) pointing at the
signed unsubscribe endpoint of ``ltv serve``.

Answers: 4xx and connection errors are transient (retried); a refused recipient marks the customer unreachable
on e-mail; refused credentials pause the channel. The server's reply text is not kept (it may echo the address).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from ._base import BaseChannel, Delivery, Message, register_channel

if TYPE_CHECKING:
    from ...config import Settings

__all__ = ["EmailChannel", "build_email"]

SUBJECT = {"ja": "{shop}からのお知らせ", "en": "A note from {shop}"}
SHOP = {"ja": "ショップ", "en": "the shop"}
FOOTER = {"ja": ("配信停止はこちら", "今後のメールが不要な場合は、次のリンクから配信を停止できます: {url}"),
          "en": ("Unsubscribe", "To stop these e-mails, unsubscribe here: {url}")}


def build_email(message: Message, *, mail_from: str, shop: str, unsubscribe_url: str) -> EmailMessage:
    """The e-mail of one outbox message: headers, a text part and an HTML part (both with the unsubscribe
    link)."""
    lang = message.lang if message.lang in SUBJECT else "ja"
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "ltvkit.invalid"
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = message.to
    msg["Subject"] = SUBJECT[lang].format(shop=shop or SHOP[lang])
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = f"<{message.key}@{domain}>"
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    label, line = FOOTER[lang]
    msg.set_content(f"{message.text}\n\n--\n{line.format(url=unsubscribe_url)}\n", charset="utf-8")
    body = message.html if message.html is not None else escape(message.text)
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head><body>{paragraphs}'
            f'<hr><p style="font-size:small"><a href="{escape(unsubscribe_url, quote=True)}">{label}</a></p>'
            "</body></html>")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


class EmailChannel(BaseChannel):
    """Send e-mails through one SMTP server (a connection kept open between messages).

    Parameters
    ----------
    smtp_url
        ``smtp://user:password@host:587`` or ``smtps://user:password@host:465``.
    mail_from
        The sender, ``Shop <info@example.jp>``.
    unsubscribe
        ``(customer_key, channel) -> URL`` of the signed unsubscribe endpoint.
    timeout
        Seconds per SMTP operation. Kept short: a batch of messages must finish within the sender's lease
        (``LTV_CRM_LEASE_SECONDS``), or another sender may claim and send the same e-mails again.
    """

    name = "email"

    def __init__(self, smtp_url: str, mail_from: str, unsubscribe: object, *, shop: str = "",
                 timeout: float = 10.0) -> None:
        u = urlsplit(smtp_url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            from ...exceptions import SettingsError

            raise SettingsError(key="err.smtp_url")
        self.ssl = u.scheme == "smtps"
        self.host = u.hostname
        self.port = u.port or (465 if self.ssl else 587)
        self.user = unquote(u.username) if u.username else None
        self.password = unquote(u.password) if u.password else None
        self.tls_required = parse_qs(u.query).get("tls", [""])[0] == "required"
        self.mail_from = mail_from
        self.unsubscribe = unsubscribe
        self.shop = shop
        self.timeout = timeout
        self.context = ssl.create_default_context()
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        from ...exceptions import SettingsError
        from .. import open_ops_store
        from ..unsubscribe import make_unsubscribe_url

        url = settings.secret("smtp_url")
        if not url or not settings.mail_from:
            raise SettingsError(key="err.smtp_missing")
        with open_ops_store(settings.workspace, settings) as store:
            secret = store.secret("unsubscribe")
        base = settings.serve_public_url

        def unsubscribe(customer_key: str, channel: str) -> str:
            return make_unsubscribe_url(secret, base, customer_key, channel)

        return cls(url, settings.mail_from, unsubscribe, shop=settings.crm_shop_name)

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        if self.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self.context)
                smtp.ehlo()
            elif self.tls_required:
                smtp.close()
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
        if self.user:
            smtp.login(self.user, self.password or "")
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def send(self, message: Message) -> Delivery:
        try:
            mail = build_email(message, mail_from=self.mail_from, shop=self.shop,
                               unsubscribe_url=self.unsubscribe(message.customer_key, "email"))  # type: ignore[operator]
        except (ValueError, TypeError):  # e.g. a line break in the address: never sent, never retried
            return Delivery(False, retryable=False, unreachable=True, answer="invalid address")
        try:
            smtp = self._connect()
            smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            return Delivery(False, retryable=True, status_code=exc.smtp_code, pause=True,
                            answer=f"{exc.smtp_code} authentication refused")
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0] if exc.recipients else None
            transient = code is not None and 400 <= code < 500
            return Delivery(False, retryable=transient, status_code=code, unreachable=not transient,
                            answer=f"{code} recipient refused")
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return Delivery(False, retryable=400 <= exc.smtp_code < 500, status_code=exc.smtp_code,
                            answer=f"{exc.smtp_code} {type(exc).__name__}")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Delivery(False, retryable=True, answer=f"connection: {type(exc).__name__}")
        return Delivery.accepted(250, mail["Message-ID"], "250")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


register_channel("email", EmailChannel.from_settings)
