"""One-time linking codes: printed on a package insert, sent by the customer in LINE, they link a LINE user to a
customer key.

A code is 8 characters of an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), shown as ``ABCD-EFGH``;
what the customer types is read leniently (NFKC, case, spaces and hyphens ignored). A code is issued once per
(customer, order), so printing the inserts again prints the same codes; it expires after ``LTV_LINK_CODE_DAYS``
and is used once.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa

from ._ops import OpsStore, contacts, line_users, link_codes, reachability, utcnow

__all__ = ["CODE_ALPHABET", "format_code", "issue_link_codes", "link_line_user", "normalize_code", "redeem_code"]

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8
_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def normalize_code(text: str) -> str | None:
    """The code in what a customer typed (``abcd-efgh``, full-width, spaces), or ``None`` if it is not one."""
    s = unicodedata.normalize("NFKC", text or "").upper()
    s = re.sub(r"[\s\-‐－ー_]", "", s)
    return s if _CODE.match(s) else None


def format_code(code: str) -> str:
    """``ABCDEFGH`` → ``ABCD-EFGH``."""
    return f"{code[:4]}-{code[4:]}"


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def issue_link_codes(store: OpsStore, pairs: Iterable[tuple[str, str]], *, days: int,
                     now: dt.datetime | None = None) -> dict[tuple[str, str], tuple[str, dt.datetime]]:
    """A code per ``(customer_key, order_ref)``: the stored one while it is valid and unused, else a new one
    (used and expired codes stay in the store, dead).

    Returns ``{(customer_key, order_ref): (code, expires_at)}``.
    """
    now = now or utcnow()
    wanted = list(dict.fromkeys(pairs))
    out: dict[tuple[str, str], tuple[str, dt.datetime]] = {}
    with store.begin() as conn:
        keys = list({k for k, _ in wanted})
        want = set(wanted)
        for i in range(0, len(keys), 500):
            for r in conn.execute(sa.select(link_codes.c.customer_key, link_codes.c.order_ref, link_codes.c.code,
                                            link_codes.c.expires_at, link_codes.c.used_at)
                                  .where(link_codes.c.customer_key.in_(keys[i:i + 500]))):
                if r.used_at is None and r.expires_at > now and (r.customer_key, r.order_ref) in want:
                    out[(r.customer_key, r.order_ref)] = (r.code, r.expires_at)
        expires = now + dt.timedelta(days=days)
        for pair in wanted:
            if pair in out:
                continue
            while True:
                code = _new_code()
                if conn.execute(sa.select(link_codes.c.code).where(link_codes.c.code == code)).first() is None:
                    break
            conn.execute(link_codes.insert().values(code=code, customer_key=pair[0], order_ref=pair[1],
                                                    created_at=now, expires_at=expires))
            out[pair] = (code, expires)
    return out


def link_line_user(store: OpsStore, line_user_id: str, customer_key: str, *, source: str = "line-link",
                   now: dt.datetime | None = None, conn: sa.Connection | None = None) -> None:
    """Link a LINE user to a customer: the contact's LINE ID, the user's link time and LINE reachability."""
    now = now or utcnow()

    def write(c: sa.Connection) -> None:
        store.upsert(c, line_users, [{"line_user_id": line_user_id, "customer_key": customer_key,
                                      "following": True, "linked_at": now, "updated_at": now}],
                     ["line_user_id"], ["customer_key", "following", "linked_at", "updated_at"])
        store.upsert(c, contacts, [{"customer_key": customer_key, "line_user_id": line_user_id, "source": source,
                                    "updated_at": now}], ["customer_key"], ["line_user_id", "source", "updated_at"])
        store.upsert(c, reachability, [{"customer_key": customer_key, "channel": "line", "reachable": True,
                                        "reason": "linked", "updated_at": now}], ["customer_key", "channel"],
                     ["reachable", "reason", "updated_at"])

    if conn is not None:
        write(conn)
    else:
        with store.begin() as c:
            write(c)


def redeem_code(store: OpsStore, code: str, line_user_id: str, *, now: dt.datetime | None = None) -> str | None:
    """Use a code for a LINE user: link them and return the customer key, or ``None`` for an unknown, used or
    expired code (nothing changes then)."""
    now = now or utcnow()
    with store.begin() as conn:
        row = conn.execute(sa.select(link_codes.c.customer_key).where(
            link_codes.c.code == code, link_codes.c.used_at.is_(None), link_codes.c.expires_at > now)).first()
        if row is None:
            return None
        done = conn.execute(sa.update(link_codes).where(link_codes.c.code == code, link_codes.c.used_at.is_(None))
                            .values(used_at=now))
        if done.rowcount != 1:
            return None
        link_line_user(store, line_user_id, row.customer_key, now=now, conn=conn)
    return str(row.customer_key)
