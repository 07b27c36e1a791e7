"""Contacts, consent and reachability in the ops store.

Contact data (LINE user IDs, e-mail addresses) is read from a file the shop provides (or from contacts an import
kept with ``--keep-contacts``) and stored only in the ops store. Every opt-in and opt-out is appended to the consent
ledger (who, which channel, when, how) and sets the current consent state that planning and sending read.
Nothing here prints or logs contact data: results are counts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..exceptions import InputError
from ._ops import OpsStore, consent, consent_ledger, contacts, reachability, utcnow

__all__ = ["CONTACT_COLUMNS", "import_contacts", "opt_in", "opt_out", "set_reachable"]

CONTACT_COLUMNS = ("customer_key", "line_user_id", "email", "opt_out", "consent_source")
_TRUE = {"1", "true", "yes", "y", "t", "on", "x", "opt_out", "optout"}
_FALSE = {"0", "false", "no", "n", "f", "off", ""}


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep="\t" if suffix == ".tsv" else ",",
                                encoding="utf-8-sig")
        else:
            raise InputError(key="err.contacts_extension", name=path.name)
    except FileNotFoundError:
        raise InputError(key="err.contacts_no_file", path=str(path)) from None
    except (ValueError, OSError) as exc:
        raise InputError(key="err.contacts_unreadable", name=path.name, reason=str(exc)) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _flag(value: Any, line: int, path: str) -> bool | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return None if text == "" else False
    raise InputError(key="err.contacts_bad_opt_out", path=str(path), line=line, value=repr(value))


def import_contacts(store: OpsStore, data: str | os.PathLike[str] | pd.DataFrame, *,
                    source: str = "file") -> dict[str, int]:
    """Store contacts and consent from a CSV/Parquet file or a frame.

    Columns: ``customer_key`` and any of ``line_user_id``, ``email``, ``opt_out`` (true → opted out of every
    channel; false with a ``consent_source`` → opted in), ``consent_source`` (how consent was given). Only the
    columns present are updated, so a file of LINE IDs keeps the e-mail addresses stored before.

    Returns counts: ``contacts`` written, ``opt_outs`` and ``opt_ins`` recorded.
    """
    name = "frame" if isinstance(data, pd.DataFrame) else Path(data).name
    frame = data.copy() if isinstance(data, pd.DataFrame) else _read(Path(data))
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "customer_key" not in frame.columns:
        raise InputError(key="err.contacts_no_key_column", name=name)
    unknown = [c for c in frame.columns if c not in CONTACT_COLUMNS]
    if unknown:
        raise InputError(key="err.contacts_unknown_columns", name=name, columns=", ".join(unknown),
                         known=", ".join(CONTACT_COLUMNS))
    frame = frame.astype(object).where(frame.notna(), None)
    now = utcnow()
    address_cols = [c for c in ("line_user_id", "email") if c in frame.columns]
    rows, ledger, states = [], [], []
    for i, rec in enumerate(frame.to_dict("records")):
        key = rec.get("customer_key")
        if key is None or not str(key).strip():
            raise InputError(key="err.contacts_empty_key_line", name=name, line=i + 2)
        key = str(key).strip()
        if address_cols:
            row = {"customer_key": key, "source": source, "updated_at": now}
            for c in address_cols:
                v = rec.get(c)
                row[c] = str(v).strip() if v is not None and str(v).strip() else None
            rows.append(row)
        flag = _flag(rec.get("opt_out"), i + 2, name) if "opt_out" in frame.columns else None
        how = str(rec.get("consent_source") or source)
        if flag is True or (flag is False and rec.get("consent_source")):
            action = "opt_out" if flag else "opt_in"
            ledger.append({"customer_key": key, "channel": "all", "action": action, "source": how, "at": now})
            states.append({"customer_key": key, "channel": "all", "opted_out": bool(flag), "source": how,
                           "updated_at": now})
    with store.begin() as conn:
        if rows:
            store.upsert(conn, contacts, rows, ["customer_key"], [*address_cols, "source", "updated_at"])
        if ledger:
            conn.execute(consent_ledger.insert(), ledger)
            store.upsert(conn, consent, states, ["customer_key", "channel"], ["opted_out", "source", "updated_at"])
    return {"contacts": len(rows), "opt_outs": sum(1 for r in ledger if r["action"] == "opt_out"),
            "opt_ins": sum(1 for r in ledger if r["action"] == "opt_in")}


def _consent(store: OpsStore, key: str, channel: str, opted_out: bool, source: str) -> None:
    if not key.strip():
        raise InputError(key="err.contacts_empty_key")
    now = utcnow()
    with store.begin() as conn:
        conn.execute(consent_ledger.insert().values(customer_key=key, channel=channel,
                                                    action="opt_out" if opted_out else "opt_in",
                                                    source=source, at=now))
        store.upsert(conn, consent, [{"customer_key": key, "channel": channel, "opted_out": opted_out,
                                      "source": source, "updated_at": now}],
                     ["customer_key", "channel"], ["opted_out", "source", "updated_at"])


def opt_out(store: OpsStore, customer_key: str, *, channel: str = "all", source: str = "cli") -> None:
    """Record that a customer opted out of ``channel`` (or of every channel): nothing is sent to them there,
    including messages planned before."""
    _consent(store, customer_key, channel, True, source)


def opt_in(store: OpsStore, customer_key: str, *, channel: str = "all", source: str = "cli") -> None:
    """Record that a customer agreed to messages on ``channel`` (or every channel)."""
    _consent(store, customer_key, channel, False, source)


def set_reachable(store: OpsStore, customer_key: str, channel: str, reachable: bool, reason: str = "") -> None:
    """Mark a customer reachable or not on a channel (a blocked LINE account, an address that bounced)."""
    with store.begin() as conn:
        store.upsert(conn, reachability, [{"customer_key": customer_key, "channel": channel,
                                           "reachable": reachable, "reason": reason[:200],
                                           "updated_at": utcnow()}],
                     ["customer_key", "channel"], ["reachable", "reason", "updated_at"])


def consent_frame(store: OpsStore) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per customer: the addresses known (as booleans, never the addresses), opt-outs and unreachable channels."""
    with store.engine.connect() as conn:
        c = pd.DataFrame(store.contact_flags(conn), columns=["customer_key", "has_line", "has_email"])
        o = pd.DataFrame([tuple(r) for r in conn.execute(sa.select(consent.c.customer_key, consent.c.channel)
                                                         .where(consent.c.opted_out.is_(True)))],
                         columns=["customer_key", "channel"])
        u = pd.DataFrame([tuple(r) for r in conn.execute(
            sa.select(reachability.c.customer_key, reachability.c.channel)
            .where(reachability.c.reachable.is_(False)))],
                         columns=["customer_key", "channel"])
    return c, o, u
