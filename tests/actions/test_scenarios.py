"""Scenario files: the shipped library, validation on load and at plan time (one sentence naming file, line and
field; nothing planned), safe condition parsing, sandboxed strict templates."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from crmhelp import AS_OF, NOON, write_scenario

from ltvkit.actions import load_library, load_scenario, load_scenarios, parse_condition, plan, render
from ltvkit.actions._ops import outbox
from ltvkit.exceptions import ScenarioError

LIBRARY = {"thanks-first-order", "f2-golden-time", "replenishment-due", "next-purchase-due", "winback",
           "cross-sell", "vip-thanks"}
NO_INCENTIVES = re.compile(r"ポイント|割引|クーポン|値引|OFF|\d+\s*%(?!\})|％|point|discount|coupon|voucher|sale",
                           re.IGNORECASE)


def test_library_is_complete_bilingual_and_has_no_points_or_discounts():
    lib = {s.name: s for s in load_library()}
    assert set(lib) == LIBRARY
    for s in lib.values():
        assert set(s.template) == {"ja", "en"}, s.name
        for lang, text in s.template.items():
            assert not NO_INCENTIVES.search(text), f"{s.name} {lang} mentions an incentive"
        assert s.channels[0] == "line"


def test_library_templates_render_in_both_languages():
    item = {"sku": "SP-1", "name": "ラクトフェリン"}
    ctx = {"shop": "テスト店", "scenario": "x", "first_order_date": "2026-01-01", "last_order_date": "2026-02-01",
           "orders": 3, "segment": "Loyal", "expected_next_purchase_date": "2026-03-01", "due_date": "2026-03-01",
           "item": item, "items": [item]}
    for s in load_library():
        for lang in ("ja", "en"):
            text = render(s, lang, ctx)
            assert text and "{{" not in text
    empty = {**ctx, "items": [], "item": item}
    assert "ラクトフェリン" not in render(load_scenarios()["vip-thanks"], "ja", empty)


@pytest.mark.parametrize(("text", "column", "op", "value"), [
    ("p_alive >= 0.5", "p_alive", ">=", 0.5),
    ("orders == 1", "orders", "==", 1),
    ("segment in [Champions, 'At risk']", "segment", "in", ["Champions", "At risk"]),
    ("segment not in [Dormant]", "segment", "not in", ["Dormant"]),
    ("first_order_date < 2026-01-01", "first_order_date", "<", __import__("datetime").date(2026, 1, 1)),
])
def test_conditions_parse(text, column, op, value):
    c = parse_condition(text)
    assert (c.column, c.op, c.value) == (column, op, value)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "p_alive >= (1).__class__", "p_alive",
                                  "p_alive >= 0.5 or True", "orders == [1, 2]]", "segment in Champions"])
def test_conditions_are_never_evaluated(text):
    with pytest.raises(ValueError):
        parse_condition(text)


def _one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert message.count(". ") == 0 or message.count(". ") <= 1 and ".yaml" in message


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write_scenario(tmp_path, "bad", "name: bad\ntrigger:\n  kind: segment\n once_per_days: 3\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"Scenario file {path}, line ") and "not valid YAML" in msg
    _one_sentence(msg)


@pytest.mark.parametrize(("body", "field", "line"), [
    ("name: x\ntrigger:\n  kind: birthday\nchannels: [line]\ntemplate: {ja: hi}\n", "trigger.kind", 3),
    ("name: x\ntrigger:\n  kind: segment\nchannels: [line]\ntemplate: {ja: hi}\n", "trigger", 2),
    ("name: x\ntrigger: {kind: segment, once_per_days: 7}\nchannels: [line, fax]\ntemplate: {ja: hi}\n",
     "channels[1]", 3),
    ("name: x\ntrigger: {kind: segment, once_per_days: 7}\nholdout: 1.5\ntemplate: {ja: hi}\n", "holdout", 3),
    ("name: x\ntrigger: {kind: segment, once_per_days: 7}\naudience:\n  - p_alive >=\ntemplate: {ja: hi}\n",
     "audience[0]", 4),
    ("name: x\ntrigger: {kind: segment, once_per_days: 7}\ncolour: red\ntemplate: {ja: hi}\n", "colour", 3),
    ("name: x\ntrigger: {kind: segment, once_per_days: 7}\n", "template", None),
])
def test_invalid_fields_name_file_line_and_field(tmp_path, body, field, line):
    path = write_scenario(tmp_path, "x", body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    where = f"Scenario file {path}, line {line}, field {field}: " if line else f"Scenario file {path}, field {field}: "
    assert msg.startswith(where), msg
    _one_sentence(msg)


def test_unknown_template_variable_names_file_line_and_field(tmp_path):
    path = write_scenario(tmp_path, "x", """\
        name: x
        trigger: {kind: segment, once_per_days: 7}
        template:
          ja: "こんにちは {{ customer_name }} さん"
        """)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"Scenario file {path}, line 4, field template.ja: unknown template variable "
                          "'customer_name'; templates may use ")
    _one_sentence(msg)


def test_template_sandbox_refuses_attribute_tricks(tmp_path):
    path = write_scenario(tmp_path, "x", """\
        name: x
        trigger: {kind: segment, once_per_days: 7}
        template:
          en: "{{ item.__class__.__mro__ }}"
        """)
    s = load_scenario(path)
    with pytest.raises(ScenarioError, match="field template.en: the template cannot be rendered"):
        render(s, "en", {"item": {"sku": "a"}})


def _outbox_rows(shop) -> int:
    with shop.store() as store, store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()


@pytest.mark.parametrize(("extra", "expect"), [
    ("audience:\n  - lifetime_value > 3\n", r"line 7, field audience\[0\]: unknown column 'lifetime_value'; "
                                            r"audience columns are .*p_alive"),
    ("audience:\n  - segment > 3\n", r"line 7, field audience\[0\]: column 'segment' holds .*cannot compare"),
    ("audience:\n  - cpm_segment == 初回現役\n", r"field audience\[0\]: column 'cpm_segment' is not stored "
                                               r"for this run; run `ltv segments --kind cpm"),
    ("template:\n  ja: '{{ item.price }}'\n", r"field template.ja: the template cannot be rendered"),
])
def test_plan_time_errors_plan_nothing(shop, extra, expect):
    base = "name: broken\ntrigger: {kind: segment, once_per_days: 7}\nchannels: [line]\npriority: 1\n"
    if not extra.startswith("template"):
        base += "template: {ja: hi}\n"
    path = write_scenario(shop.scenarios_dir, "broken", base + extra)
    found = load_scenarios(shop.scenarios_dir)
    with shop.workspace() as ws, shop.store() as store, pytest.raises(ScenarioError) as info:
        plan(ws, store, list(found.values()), as_of=AS_OF, now=NOON)
    msg = str(info.value)
    assert msg.startswith(f"Scenario file {path}"), msg
    assert re.search(expect, msg), msg
    assert "\n" not in msg and msg.endswith(".")
    assert _outbox_rows(shop) == 0  # the valid scenarios planned before it are not written either


def test_cli_prints_one_sentence_and_exits_1(shop):
    write_scenario(shop.scenarios_dir, "broken", "name: broken\ntrigger: {kind: segment, once_per_days: 7}\n"
                   "audience:\n  - ltv > 3\ntemplate: {ja: hi}\n")
    args = ("crm", "plan", "--all", "--as-of", AS_OF.isoformat(), "--scenarios", str(shop.scenarios_dir))
    r = shop.ltv(*args, "--lang", "en")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Scenario file ") and "unknown column 'ltv'" in lines[0]
    assert "Traceback" not in r.stderr
    r = shop.ltv(*args)  # the default language is Japanese
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("エラー: シナリオファイル ")
    assert "列 'ltv' はありません" in lines[0] and "Traceback" not in r.stderr
    assert _outbox_rows(shop) == 0


def test_shop_file_replaces_a_shipped_one_and_duplicates_are_refused(tmp_path):
    write_scenario(tmp_path, "mine", "name: winback\ntrigger: {kind: segment, once_per_days: 30}\n"
                   "template: {ja: お元気ですか}\n")
    found = load_scenarios(tmp_path)
    assert found["winback"].path.endswith("mine.yaml") and len(found) == len(LIBRARY)
    write_scenario(tmp_path, "mine2", "name: winback\ntrigger: {kind: segment, once_per_days: 30}\n"
                   "template: {ja: again}\n")
    with pytest.raises(ScenarioError, match="'winback' is also the name in"):
        load_scenarios(tmp_path)
