"""One sentence, in the user's language, for the failures the CLI meets outside ltvkit's own errors.

The texts live in one dict (key -> ja/en) so that they can move to a shared catalogue unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

__all__ = ["MESSAGES", "cli_lang", "message"]

MESSAGES: dict[str, dict[str, str]] = {
    "workspace_damaged": {
        "en": "The workspace {path} is damaged or not a complete DuckDB file; restore it from a backup, or import "
              "into a new workspace with --workspace NEW.duckdb.",
        "ja": "ワークスペース {path} は壊れているか、完全な DuckDB ファイルではありません。バックアップから戻すか、"
              "--workspace NEW.duckdb で新しいワークスペースに取り込み直してください。",
    },
    "not_a_workspace": {
        "en": "{path} is a DuckDB file but not an ltvkit workspace; choose another --workspace, or create one with "
              "`ltv import FILE --workspace NEW.duckdb`.",
        "ja": "{path} は DuckDB ファイルですが ltvkit のワークスペースではありません。別の --workspace を指定するか、"
              "`ltv import FILE --workspace NEW.duckdb` で作成してください。",
    },
    "workspace_locked": {
        "en": "The workspace {path} is in use by another ltv command or program; wait until it finishes and try again.",
        "ja": "ワークスペース {path} は別の ltv コマンドまたはプログラムが使用中です。終わるのを待ってからやり直してください。",
    },
    "workspace_error": {
        "en": "The workspace {path} could not be read or written ({detail}); nothing was changed.",
        "ja": "ワークスペース {path} を読み書きできませんでした（{detail}）。何も変更していません。",
    },
    "out_is_folder": {
        "en": "{path} is a folder; give a file name for --out, such as {example}.",
        "ja": "{path} はフォルダです。--out には {example} のようにファイル名を指定してください。",
    },
    "out_under_file": {
        "en": "Cannot write {path}: {parent} is a file, not a folder; choose another --out.",
        "ja": "{path} に書き込めません。{parent} はフォルダではなくファイルです。別の --out を指定してください。",
    },
    "out_failed": {
        "en": "Cannot write {path} ({reason}); choose another --out.",
        "ja": "{path} に書き込めません（{reason}）。別の --out を指定してください。",
    },
    "demo_out_is_file": {
        "en": "--out {path} is a file; ltv demo writes a folder, so give a new or empty folder.",
        "ja": "--out {path} はファイルです。ltv demo はフォルダに書き出すので、新しいフォルダを指定してください。",
    },
    "negative_discount_rate": {
        "en": "--discount-rate must be 0 or more (an annual rate such as 0.1); it was {value}.",
        "ja": "--discount-rate は 0 以上の年率（例: 0.1）にしてください。指定値: {value}。",
    },
    "negative_within_days": {
        "en": "--within-days must be 0 or more (the number of days ahead to look); it was {value}.",
        "ja": "--within-days は 0 以上の日数にしてください。指定値: {value}。",
    },
    "as_of_after_orders": {
        "en": "Note: no order in the year before --as-of {day} (the last one is on {last}), so the KPIs that need "
              "recent orders are empty; choose an --as-of within the data.",
        "ja": "注意: --as-of {day} の前の1年間に注文がありません（最後の注文は {last}）。最近の注文を使う指標は空になります。"
              "データの期間内の --as-of を指定してください。",
    },
    "as_of_before_orders": {
        "en": "Note: --as-of {day} is before the first order ({first}), so there is nothing to analyse yet.",
        "ja": "注意: --as-of {day} は最初の注文（{first}）より前なので、分析する注文がありません。",
    },
    "file_error": {
        "en": "Cannot use {path} ({reason}).",
        "ja": "{path} を使えません（{reason}）。",
    },
}


_CURRENT: dict[str, str] = {}


def set_lang(argv: Sequence[str]) -> str:
    """Remember the language of this command's messages (called once by ``main``)."""
    _CURRENT["lang"] = cli_lang(argv)
    return _CURRENT["lang"]


def cli_lang(argv: Sequence[str] | None = None) -> str:
    """The language of messages: ``--lang`` on the command line, else ``LTV_LANG``, else English.

    Without ``argv``: the language ``main`` found for the running command.
    """
    if argv is None and "lang" in _CURRENT:
        return _CURRENT["lang"]
    args = list(argv) if argv is not None else []
    for k, a in enumerate(args):
        if a == "--lang" and k + 1 < len(args):
            value = args[k + 1]
            break
        if a.startswith("--lang="):
            value = a.split("=", 1)[1]
            break
    else:
        value = os.environ.get("LTV_LANG", "en")
    return "ja" if value.strip().lower() == "ja" else "en"


def message(key: str, lang: str = "en", **params: object) -> str:
    """The sentence ``key`` in ``lang`` (English when the language is unknown)."""
    texts = MESSAGES[key]
    return texts.get(lang, texts["en"]).format(**params)


def duckdb_key(text: str) -> str:
    """Which sentence a DuckDB error on opening or reading a workspace deserves."""
    if re.search(r"Could not set lock|Conflicting lock", text):
        return "workspace_locked"
    if re.search(r"not a valid DuckDB database|truncated|database file .* is not|Invalid Input Error.*file|"
                 r"IO Error|Serialization|Corrupt|checksum|INTERNAL Error", text, re.IGNORECASE):
        return "workspace_damaged"
    if re.search(r"Catalog Error|Binder Error|does not exist", text):
        return "not_a_workspace"
    return "workspace_error"
