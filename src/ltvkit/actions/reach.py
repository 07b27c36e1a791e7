"""Per customer: the channels they can be reached on, and why not (no contact data is shown)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ._ops import OpsStore, consent, contacts, line_users, reachability

__all__ = ["contact_rows"]


def contact_rows(store: OpsStore) -> list[dict[str, Any]]:
    """One row per known customer: ``channels`` with an address, ``reachable`` / ``unreachable`` channels,
    ``line_linked_at``, ``line_following`` and ``opted_out`` channels (``all`` for every channel). Addresses are
    never returned, only whether one is known."""
    with store.engine.connect() as conn:
        people: dict[str, dict[str, Any]] = {}

        def row(key: str) -> dict[str, Any]:
            return people.setdefault(key, {"customer_key": key, "channels": [], "unreachable": [],
                                           "line_linked_at": None, "line_following": None, "opted_out": []})

        for key, line, email in conn.execute(sa.select(contacts.c.customer_key, contacts.c.line_user_id,
                                                       contacts.c.email)):
            r = row(key)
            r["channels"] += [c for c, v in (("line", line), ("email", email)) if v]
        for key, linked, following in conn.execute(sa.select(line_users.c.customer_key, line_users.c.linked_at,
                                                             line_users.c.following)
                                                   .where(line_users.c.customer_key.isnot(None))):
            r = row(key)
            r["line_linked_at"] = linked
            r["line_following"] = bool(following)
        for key, ch in conn.execute(sa.select(reachability.c.customer_key, reachability.c.channel)
                                    .where(reachability.c.reachable.is_(False))):
            row(key)["unreachable"].append(ch)
        for key, ch in conn.execute(sa.select(consent.c.customer_key, consent.c.channel)
                                    .where(consent.c.opted_out.is_(True))):
            row(key)["opted_out"].append(ch)
    out = []
    for key in sorted(people):
        r = people[key]
        blocked = set(r["opted_out"]) | set(r["unreachable"])
        r["reachable"] = [] if "all" in r["opted_out"] else [c for c in r["channels"] if c not in blocked]
        for k in ("channels", "unreachable", "opted_out", "reachable"):
            r[k] = sorted(set(r[k]))
        out.append(r)
    return out
