"""One catalogue of words: every key in both languages, every key the code uses in it, no second vocabulary."""

from __future__ import annotations

import ast
import datetime as dt
import doctest
import pickle
import re
from pathlib import Path

import pytest

import ltvkit.i18n
from ltvkit.exceptions import InputError, MissingDataError
from ltvkit.i18n import (
    LANGS,
    MESSAGES,
    fmt,
    format_currency,
    format_date,
    format_number,
    format_percent,
    label,
    placeholders,
    t,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "ltvkit"
CATALOG = SRC / "i18n" / "_catalog.py"


def test_doctests():
    result = doctest.testmod(ltvkit.i18n)
    assert result.attempted > 0 and result.failed == 0


def test_every_key_has_both_languages_and_the_same_placeholders():
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGS), key
        assert all(isinstance(entry[lang], str) and entry[lang] for lang in LANGS), key
        assert placeholders(entry["ja"]) == placeholders(entry["en"]), key
        for lang in LANGS:  # no format specs: numbers are formatted (Babel) before they are filled in
            assert not re.search(r"\{\w+[:!][^}]*\}", entry[lang]), (key, lang)


def test_no_key_is_written_twice():
    tree = ast.parse(CATALOG.read_text(encoding="utf-8"))
    catalog = next(n.value for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and n.target.id == "MESSAGES")
    keys = [k.value for k in catalog.keys]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def _used_keys() -> set[str]:
    """Catalogue keys written as literals in the code: t("key", …) and Error(key="…")."""
    used = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "t" and node.args and isinstance(node.args[0], ast.Constant):
                used.add(node.args[0].value)
            used.update(k.value.value for k in node.keywords
                        if k.arg == "key" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str))
    return used


def test_every_key_the_code_uses_is_in_the_catalogue():
    from ltvkit.cli.demo import DEMO_STEPS
    from ltvkit.recommend._reasons import REASON_CODES
    from ltvkit.reports.sections import BUILDERS

    used = _used_keys()
    assert len(used) > 300
    used |= {f"demo.step.{s.key}" for s in DEMO_STEPS} | {f"reason.{c}" for c in REASON_CODES}
    used |= {f"report.sec_{key}" for key, _ in BUILDERS}
    assert sorted(used - set(MESSAGES)) == []


_LANG_BRANCH = re.compile(r"""lang\s*[!=]=\s*["'](ja|en)["']|["'](ja|en)["']\s*[!=]=\s*\w*lang|\bja\s*=\s*lang\b""")
_OTHER_VOCABULARIES = re.compile(r"^(_TEXT|LABELS|_TITLES|_REASONS|_CPM_EN)\s*[:=]", re.MULTILINE)


def test_no_language_branch_or_inline_pair_is_left():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(SRC)
        offenders += [f"{rel}: {m.group(0)}" for m in _LANG_BRANCH.finditer(text)]
        offenders += [f"{rel}: vocabulary {m.group(1)}" for m in _OTHER_VOCABULARIES.finditer(text)]
        for node in ast.walk(ast.parse(text)):  # label(en, ja, lang): the old inline pair
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "label" and len(node.args) == 3:
                offenders.append(f"{rel}:{node.lineno}: label(en, ja, lang)")
    assert offenders == []


def test_the_catalogue_is_a_leaf():
    """i18n is imported by every layer (errors included), so it imports nothing of ltvkit but ``_defaults``, which
    imports nothing at all."""
    for path in [*(SRC / "i18n").rglob("*.py"), SRC / "_defaults.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert path.name != "_defaults.py", f"_defaults.py imports .{node.module}"
                assert node.level == 1 or node.module == "_defaults", (path.name, node.module)
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("ltvkit"):
                pytest.fail(f"{path.name} imports {node.module}")


def test_t_fills_placeholders_and_writes_lists_in_each_language():
    assert t("err.unknown_model", "en", value="nbd", choices=["bgnbd", "pnbd"]) == \
        "Unknown model 'nbd'; choose one of bgnbd, pnbd or auto."
    assert t("err.unknown_model", "ja", value="nbd", choices=["bgnbd", "pnbd"]) == \
        "モデル「nbd」はありません。bgnbd、pnbd か auto を指定してください。"
    assert t("no.such.key", "ja") == "no.such.key"


def test_numbers_money_and_shares():
    assert format_currency(12345.4, "ja") == "12,345円" and format_currency(12345.6, "en") == "¥12,346"
    assert format_currency(-5, "en") == "-¥5" and format_currency(-5, "ja") == "-5円"
    assert format_percent(0.3685026, "ja") == "36.9%" and format_percent(0.5, "en", digits=0) == "50%"
    assert format_number(1234567.891, "en") == "1,234,568" and format_number(1.25, "ja", digits=1) == "1.2"
    assert format_number(2.675, "en", digits=2) == f"{2.675:.2f}"  # rounds as Python does: the values stay the same
    assert format_number(0.000123456, "en", significant=4) == "0.0001235"
    assert fmt(1.5, "months", "ja") == "1.5か月" and fmt(2, "years", "en") == "2.00 years"
    assert fmt(0.8, "ratio", "en") == "0.80×" and fmt(float("nan"), "yen", "ja") == "—"


def test_dates_in_the_shop_time_zone():
    utc = dt.datetime(2024, 3, 31, 20, 30, tzinfo=dt.timezone.utc)
    assert format_date(utc, "ja") == "2024-04-01 05:30"  # Asia/Tokyo, the shop's day
    assert format_date(utc, "en", tz="UTC") == "2024-03-31 20:30"
    assert format_date(dt.date(2024, 4, 1), "ja", month=True) == "2024年4月"
    assert format_date(dt.date(2024, 4, 1), "en", month=True) == "Apr 2024"
    assert format_date(dt.datetime(2024, 4, 1), "en") == "2024-04-01"


def test_labels_and_cpm_names():
    assert label("f2_rate", "ja") == "F2転換率" and label("f2_rate", "en") == "F2 rate"
    assert label("優良現役", "en") == "prime (active)" and label("優良現役", "ja") == "優良現役"
    assert label("not_a_column", "ja") == "not_a_column"


def test_errors_keep_english_for_the_library_and_localize_for_people():
    exc = InputError(key="err.bad_date", option="--as-of", value="2024-13-01")
    assert str(exc) == "--as-of '2024-13-01' is not a date; write it as YYYY-MM-DD."
    assert exc.localized("ja") == "--as-of の「2024-13-01」は日付として読めません。YYYY-MM-DD の形で書いてください。"
    assert isinstance(exc, ValueError)
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is InputError and again.localized("ja") == exc.localized("ja") and str(again) == str(exc)
    plain = MissingDataError("no data here")
    assert plain.localized("ja") == "no data here" and plain.key is None
