"""Pseudonymous customer keys.

``customer_key`` is the source's own customer number when the export has one (Next Engine 顧客コード, a Shopify
customer id, a generic ``customer_id``). Otherwise it is a keyed hash (HMAC-SHA256 with the workspace's secret,
:meth:`ltvkit.Workspace.identity_secret`) of normalised contact data, prefixed ``h:``:

* ``e:`` + e-mail, lower-cased, full-width folded, trimmed;
* ``c:`` + name (no spaces) ``|`` phone (digits, ``+81`` to ``0``) ``|`` postal code (digits) — used for Rakuten,
  whose buyer e-mails are masked per order.

The same functions exist in Python (:func:`email_key`, :func:`contact_key`) and as SQL
(:func:`sql_identity_material` + :func:`sql_key_from_material`, hashed once per distinct buyer), and tests check
that they agree, so keys made by any reader and any engine match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from ._csv import sql_literal, sql_text

__all__ = ["KEY_LENGTH", "contact_key", "email_key", "hash_key", "normalise_email", "normalise_name",
           "normalise_phone", "normalise_zip", "sql_customer_keys", "sql_identity_material",
           "sql_key_from_material"]

KEY_LENGTH = 32  # hex characters kept from the HMAC (128 bits)
_BLOCK = 64


def _block_key(secret: bytes) -> bytes:
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    return key.ljust(_BLOCK, b"\x00")


def hash_key(secret: bytes, material: str) -> str:
    """``h:`` + the first :data:`KEY_LENGTH` hex digits of HMAC-SHA256(secret, material)."""
    return "h:" + hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def normalise_email(email: str | None) -> str:
    text = unicodedata.normalize("NFKC", email or "").strip().lower()
    return text if "@" in text else ""


def normalise_name(name: str | None) -> str:
    return re.sub(r"[\s\u3000]", "", name or "")


def normalise_phone(phone: str | None) -> str:
    text = unicodedata.normalize("NFKC", phone or "").strip()
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+81") and digits.startswith("81"):
        digits = "0" + digits[2:]
    return digits


def normalise_zip(zip_code: str | None) -> str:
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", zip_code or ""))


def email_key(secret: bytes, email: str) -> str | None:
    """Customer key from an e-mail address (None when it has no ``@``)."""
    norm = normalise_email(email)
    return hash_key(secret, "e:" + norm) if norm else None


def contact_key(secret: bytes, name: str | None, phone: str | None, zip_code: str | None) -> str | None:
    """Customer key from name + phone + postal code (None unless a name and a phone or postal code are given)."""
    if not (name or "").strip() or not ((phone or "").strip() or (zip_code or "").strip()):
        return None
    n, p, z = normalise_name(name), normalise_phone(phone), normalise_zip(zip_code)
    return hash_key(secret, f"c:{n}|{p}|{z}")


# -- SQL ----------------------------------------------------------------------------------------------------------

def _blob(data: bytes) -> str:
    return "'" + "".join(f"\\x{b:02X}" for b in data) + "'::BLOB"


def sql_hmac(secret: bytes, material_sql: str) -> str:
    """SQL for :func:`hash_key` (HMAC-SHA256 written out with DuckDB's sha256 on blobs)."""
    key = _block_key(secret)
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    inner = f"unhex(sha256({_blob(ipad)} || encode({material_sql})))"
    return f"('h:' || substr(sha256({_blob(opad)} || {inner}), 1, {KEY_LENGTH}))"


def sql_norm_email(expr: str) -> str:
    t = f"lower({sql_text(expr)})"
    return f"CASE WHEN contains({t}, '@') THEN {t} END"


_SPACES = (" ", "\u3000", "\t", "\n", "\f", "\r")


def sql_norm_name(expr: str) -> str:
    """Name without spaces; the regular expression runs only on names that hold a space (most hold none)."""
    spaced = " OR ".join(f"contains({expr}, {sql_literal(c)})" for c in _SPACES)
    return f"NULLIF(CASE WHEN {spaced} THEN regexp_replace({expr}, '[\\s\u3000]', '', 'g') ELSE {expr} END, '')"


def _sql_digits(text: str) -> str:
    """Only the digits of ``text``; text that is all digits already skips the regular expression."""
    return f"CASE WHEN ltrim({text}, '0123456789') = '' THEN {text} ELSE regexp_replace({text}, '[^0-9]', '', 'g') END"


def sql_norm_phone(expr: str) -> str:
    t = sql_text(expr)
    digits = _sql_digits(t)
    return f"NULLIF(CASE WHEN starts_with({t}, '+81') THEN '0' || substr({digits}, 3) ELSE {digits} END, '')"


def sql_norm_zip(expr: str) -> str:
    return f"NULLIF({_sql_digits(sql_text(expr))}, '')"


def sql_identity_material(order: tuple[str, ...], exprs: dict[str, str | None]) -> str:
    """SQL for a row's raw identity material, trying identity sources in ``order``; NULL when nothing identifies it.

    The material is cheap to build per row (kind and raw values joined by U+001F); normalising and hashing happen
    once per distinct material in :func:`sql_key_from_material`. ``exprs`` holds SQL for the raw text of
    ``customer_id``, ``email``, ``name``, ``phone`` and ``zip`` (None when the file lacks them).
    """
    sep = "chr(31)"
    parts: list[str] = []
    for kind in order:
        if kind == "number" and exprs.get("customer_id"):
            parts.append(f"'n' || {sep} || {exprs['customer_id']}")
        elif kind == "email" and exprs.get("email"):
            e = exprs["email"]
            parts.append(f"CASE WHEN contains({e}, '@') OR contains({e}, '＠') THEN 'e' || {sep} || {e} END")
        elif kind == "contact" and exprs.get("name") and (exprs.get("phone") or exprs.get("zip")):
            n = exprs["name"]
            p = exprs.get("phone") or "NULL"
            z = exprs.get("zip") or "NULL"
            parts.append(f"CASE WHEN {n} IS NOT NULL AND ({p} IS NOT NULL OR {z} IS NOT NULL) THEN 'c' || {sep} || "
                         f"{n} || {sep} || COALESCE({p}, '') || {sep} || COALESCE({z}, '') END")
    if not parts:
        return "CAST(NULL AS VARCHAR)"
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def _sql_key_of_kind(kind: str, secret: bytes, material: str) -> str:
    """SQL for the customer key of a material of one kind (``n``, ``e`` or ``c``)."""
    def part(i: int) -> str:
        return f"split_part({material}, chr(31), {i})"

    if kind == "n":
        return sql_text(part(2))
    if kind == "e":
        return sql_hmac(secret, f"'e:' || COALESCE({sql_norm_email(part(2))}, '')")
    return sql_hmac(secret, f"'c:' || COALESCE({sql_norm_name(part(2))}, '') || '|' || "
                            f"COALESCE({sql_norm_phone(part(3))}, '') || '|' || COALESCE({sql_norm_zip(part(4))}, '')")


def sql_key_from_material(secret: bytes, material: str) -> str:
    """SQL for the customer key of a raw identity material (see :func:`sql_identity_material`).

    ``n`` materials give the customer number as it is; ``e`` and ``c`` materials are normalised exactly as
    :func:`email_key` and :func:`contact_key` do, then hashed with :func:`sql_hmac`. For many materials use
    :func:`sql_customer_keys`, which is faster.
    """
    kind = f"split_part({material}, chr(31), 1)"
    return (f"CASE {kind} WHEN 'n' THEN {_sql_key_of_kind('n', secret, material)} "
            f"WHEN 'e' THEN {_sql_key_of_kind('e', secret, material)} ELSE {_sql_key_of_kind('c', secret, material)} END")


def sql_customer_keys(secret: bytes, materials: str) -> str:
    """A query of ``m, customer_key`` for the distinct materials in column ``m`` of the relation ``materials``.

    Each kind is keyed in its own branch: in one ``CASE`` DuckDB would compute the normalisation that the kinds
    share textually (e.g. folding the second field) for every row, whatever its kind.
    """
    kind = "split_part(m, chr(31), 1)"
    return " UNION ALL ".join(
        f"SELECT m, {_sql_key_of_kind(k, secret, 'm')} AS customer_key FROM {materials} WHERE {cond}"
        for k, cond in (("n", f"{kind} = 'n'"), ("e", f"{kind} = 'e'"), ("c", f"{kind} NOT IN ('n', 'e')")))
