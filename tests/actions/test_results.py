"""Did it work? Intervals that keep their promise over 40 simulated shops, intention to treat through the real
planner, sender and fake LINE server, and one clear sentence for each edge case."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from crmhelp import AS_OF, NOON, write_scenario

from ltvkit.actions import compare_groups, crm_results, load_scenarios, opt_out, outbox_frame, plan, send
from ltvkit.actions._ops import outbox
from ltvkit.actions.results import COVARIATES, JSON_KEYS
from ltvkit.config import load_settings
from ltvkit.synth.response import simulate_experiment

SEEDS = range(40)
EFFECTS = ((0.03, "lift"), (0.0, "lift"), (-0.02, "annoy"))


def _narrowing(r: dict) -> float:
    return 1 - (r["adjusted_ci_high"] - r["adjusted_ci_low"]) / (r["uplift_ci_high"] - r["uplift_ci_low"])


def _forty(effect: float, kind: str) -> dict[str, list]:
    out: dict[str, list] = {"plain": [], "adjusted": [], "significant": [], "narrowing": [], "history": [],
                            "hidden": []}
    for seed in SEEDS:
        f = simulate_experiment(5000, seed, effect=effect, kind=kind)
        r = compare_groups(f["treated"].to_numpy(), f["converted"].to_numpy(), f["orders"].to_numpy(),
                           margin=f["margin"].to_numpy(), covariates=f[list(COVARIATES)].to_numpy(float))
        truth = f.attrs["true_uplift"]
        out["plain"].append(r["uplift_ci_low"] <= truth <= r["uplift_ci_high"])
        out["adjusted"].append(r["adjusted_ci_low"] <= truth <= r["adjusted_ci_high"])
        out["significant"].append(r["significant"])
        out["narrowing"].append(_narrowing(r))
        # the same estimator given the best covariates there could be (a bound, not something ltvkit can know)
        for bound, column in (("history", "p_convert_history"), ("hidden", "p_convert_true")):
            out[bound].append(_narrowing(compare_groups(f["treated"].to_numpy(), f["converted"].to_numpy(),
                                                        covariates=f[column].to_numpy(float))))
    return out


@pytest.fixture(scope="module")
def forty():
    return {e: _forty(*e) for e in EFFECTS}


@pytest.mark.parametrize("effect", EFFECTS, ids=["plus3", "zero", "minus2"])
def test_intervals_cover_the_true_uplift_in_36_of_40_shops(forty, effect):
    res = forty[effect]
    assert sum(res["plain"]) >= 36, sum(res["plain"])
    assert sum(res["adjusted"]) >= 36, sum(res["adjusted"])


def test_a_zero_effect_is_called_significant_in_at_most_3_of_40(forty):
    assert sum(forty[(0.0, "lift")]["significant"]) <= 3


def test_a_real_effect_is_found_more_often_than_by_chance(forty):
    assert sum(forty[(0.03, "lift")]["significant"]) >= 15


def test_adjustment_narrows_the_interval(forty):
    narrowing = np.mean([x for res in forty.values() for x in res["narrowing"]])
    assert narrowing >= 0.05, narrowing


def _mean(forty, key: str) -> float:
    return float(np.mean([x for res in forty.values() for x in res[key]]))


def test_no_plan_time_covariate_could_narrow_the_interval_by_20_percent_here(forty):
    """The bound behind the unmet goal below: the exact chance of converting given the history (the BG/NBD
    posterior with the true parameters; for rhythm buyers even their true cycle and state) narrows the interval by
    less than 20 % on this population; knowing every customer's hidden rate and state would only just do it."""
    assert _mean(forty, "history") < 0.20, _mean(forty, "history")
    assert _mean(forty, "narrowing") < _mean(forty, "history") < _mean(forty, "hidden")


def test_the_adjustment_gets_most_of_what_the_history_allows(forty):
    assert _mean(forty, "narrowing") >= 0.5 * _mean(forty, "history"), (_mean(forty, "narrowing"),
                                                                         _mean(forty, "history"))


@pytest.mark.xfail(strict=True, reason="issue 15 asks for 20 %; on this simulated population (BG/NBD plus 10 % "
                                       "rhythm buyers) no plan-time covariate can reach it: see the bound above")
def test_adjustment_narrows_the_interval_by_20_percent(forty):
    narrowing = np.mean([x for res in forty.values() for x in res["narrowing"]])
    assert narrowing >= 0.20, narrowing


# -- edge cases -----------------------------------------------------------------------------------------------

def test_small_and_missing_holdouts_give_a_sentence_not_an_interval():
    t = np.array([True] * 200 + [False] * 3)
    y = np.r_[np.zeros(180), np.ones(20), [0, 1, 0]].astype(bool)
    r = compare_groups(t, y)
    assert r["note"] == "small_holdout" and r["uplift_ci_low"] is None and r["holdout"] == 3
    from ltvkit.actions import ResultsReport

    rep = ResultsReport(AS_OF, 30, [{"scenario": "s", "send_month": "2026-01", **r}], pd.DataFrame(), lang="en")
    assert rep.sentences() == ["s (2026-01): only 3 customers were held out, too few for an interval (at least 30 "
                               "are needed); the differences shown are not evidence either way."]
    r = compare_groups(np.ones(50, bool), np.zeros(50, bool))
    assert r["note"] == "no_holdout" and r["uplift"] is None


# -- the outbox, the orders and intention to treat --------------------------------------------------------------

def _lines(keys: list[str], when: dt.datetime, tag: str) -> pd.DataFrame:
    n = len(keys)
    return pd.DataFrame({
        "source": "generic", "order_id": [f"{tag}-{i}" for i in range(n)], "line_no": 1, "customer_key": keys,
        "ordered_at": [when] * n, "sku": "SKU-1", "quantity": 1, "unit_price": 3000, "line_amount": 3000,
        "shop_coupon": 0, "mall_coupon": 0, "points_used": 0, "shipping_fee": 0, "cost": 1200,
        "status": "ordered"})


SOME = """\
name: some
description: customers with 5 orders (tests)
trigger:
  kind: segment
  once_per_days: 1
audience:
  - orders >= 5
channels: [line]
holdout: 0.2
priority: 50
template:
  ja: "{{ shop }} ありがとうございます"
  en: "Thanks"
"""


@pytest.fixture(scope="module")
def loop(_template_ws, tmp_path_factory):
    """Scenario `some` (holdout 20 %) planned and sent through the fake LINE server; 30 treated customers opted
    out before sending (they fail at sending and stay treated). Results are taken before any order after the
    sends (partial window, no orders), then after orders of every fifth customer three days after the send."""
    import shutil

    from crmhelp import N_CUSTOMERS, TOKEN, Shop
    from pydantic import SecretStr

    from ltvkit import Workspace
    from ltvkit.actions import OpsStore, import_contacts
    from ltvkit.testing import FakeLineServer, synthetic_contacts

    d = tmp_path_factory.mktemp("loop")
    ws_path = d / "ltv.duckdb"
    shutil.copy(_template_ws, ws_path)
    url = "sqlite:///" + str(d / "ltv.ops.sqlite")
    write_scenario(d / "scenarios", "some", SOME)
    scen = load_scenarios(d / "scenarios")
    out = {"shop": Shop(ws_path, url, d / "scenarios")}
    with Workspace(ws_path) as ws, OpsStore(url) as store, FakeLineServer(token=TOKEN) as line:
        import_contacts(store, synthetic_contacts(N_CUSTOMERS))
        ws.append_order_lines(_lines(["c0000000"], dt.datetime.combine(AS_OF, dt.time(8)), "old"))
        plan(ws, store, [scen["some"]], as_of=AS_OF, now=NOON)
        box = outbox_frame(store)
        for key in box.loc[~box["holdout"], "customer_key"].tolist()[:30]:
            opt_out(store, key, source="test")
        settings = load_settings(ws_path).model_copy(update={"line_api_base": line.url,
                                                             "line_channel_access_token": SecretStr(TOKEN)})
        out["send"] = send(store, settings, scen, workers=4, batch=50)
        out["delivered"] = set(line.stats()["deliveries"])
        out["box"] = box = outbox_frame(store)
        out["early"] = crm_results(ws, store, window_days=30, as_of=AS_OF + dt.timedelta(days=10), lang="en")
        send_at = pd.Timestamp(box["send_at"].iloc[0]).tz_localize("UTC").tz_convert("Asia/Tokyo").tz_localize(None)
        out["buyers"] = buyers = box["customer_key"].iloc[::5].tolist()
        ws.append_order_lines(_lines(buyers, send_at.to_pydatetime() + dt.timedelta(days=3), "after"))
        out["late"] = crm_results(ws, store, window_days=30, as_of=AS_OF + dt.timedelta(days=40))
    return out


def test_intention_to_treat_failed_stay_treated_and_holdout_never_sends(loop):
    box, report = loop["box"], loop["send"]
    assert report.failed == 30 and report.sent == int((~box["holdout"]).sum()) - 30 > 100
    assert set(box.loc[box["holdout"], "state"]) == {"holdout"}
    assert not loop["delivered"] & set(box.loc[box["holdout"], "key"])
    res = loop["late"]
    row = res.rows[0]
    assert list(res.frame().columns[:len(JSON_KEYS)]) == list(JSON_KEYS)
    assert row["treated"] == int((~box["holdout"]).sum())  # failed rows counted as treated
    assert row["holdout"] == int(box["holdout"].sum()) >= 30
    conv = box.assign(b=box["customer_key"].isin(loop["buyers"])).groupby("holdout")["b"].mean()
    assert row["conversion_treated"] == pytest.approx(conv[False])
    assert row["conversion_holdout"] == pytest.approx(conv[True])
    assert row["uplift_ci_low"] < row["uplift"] < row["uplift_ci_high"] and not row["partial"]
    assert row["margin_per_customer_treated"] == pytest.approx(conv[False] * (3000 - 1200 - 90))
    json.dumps(res.to_dict(), default=str)
    coh = res.cohorts.set_index("period")
    assert coh["observational"].all() and list(coh.index) == ["before", "after"]
    assert coh.loc["after", "customers"] == len(set(loop["buyers"]) - {"c0000000"})
    assert coh.loc["after", "observed_customers"] == 0  # nobody acquired after the start is 90 days old yet
    with loop["shop"].workspace() as ws:
        assert ws.has_result("crm_results") and ws.has_result("crm_cumulative") and ws.has_result("crm_cohorts")


def test_partial_window_and_no_orders_after_sends(loop):
    res = loop["early"]
    text = " ".join(res.sentences())
    assert "No orders after the sends" in text
    assert res.rows[0]["partial"] and 9 <= res.rows[0]["days_covered"] <= 11
    assert "partial" in text and "of 30 days covered" in text


def test_no_holdout_scenario_says_so(shop, fake_line):
    write_scenario(shop.scenarios_dir, "everyone", (shop.scenarios_dir / "everyone.yaml").read_text()
                   .replace("holdout: 0.1", "holdout: 0.0"))
    with shop.workspace() as ws, shop.store() as store:
        ws.append_order_lines(_lines(["c0000001"], dt.datetime.combine(AS_OF, dt.time(8)), "old"))
        plan(ws, store, [load_scenarios(shop.scenarios_dir)["everyone"]], as_of=AS_OF, now=NOON)
        with store.begin() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                .where(outbox.c.holdout.is_(True))).scalar_one() == 0
        res = crm_results(ws, store, as_of=AS_OF + dt.timedelta(days=40), lang="en")
    assert res.rows[0]["note"] == "no_holdout"
    assert "no customer was held out" in res.sentences()[0]


def test_cli_results_json_keys_and_error_sentence(loop, capsys):
    from ltvkit.cli import main

    ws = str(loop["shop"].ws_path)
    assert main(["crm", "results", "--workspace", ws, "--json", "--as-of",
                 (AS_OF + dt.timedelta(days=40)).isoformat()]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert list(rows[0])[:len(JSON_KEYS)] == list(JSON_KEYS)
    assert main(["crm", "results", "--workspace", ws, "--scenario", "nope"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "no message of scenario 'nope'" in err


def test_report_section_and_excel_sheet_read_stored_results(loop, tmp_path):
    from openpyxl import load_workbook

    from ltvkit import Workspace
    from ltvkit.reports.data import build_report_data
    from ltvkit.reports.sections import crm_results as section

    with Workspace(loop["shop"].ws_path, read_only=True) as ws:
        report = build_report_data(ws, builders=[("crm_results", section.build)], lang="ja", strict=True)
        s = report.section("crm_results")
        assert s is not None and s.title.startswith("施策の効果検証")
        assert len(s.tables[0].frame) == len(loop["late"].rows) and any("some" in n for n in s.notes)
        assert [tb.key for tb in s.tables] == ["crm_results", "crm_cumulative", "crm_cohorts"]
        path = report.to_xlsx(tmp_path / "r.xlsx")
    assert len(load_workbook(path).sheetnames) >= 2
    with Workspace() as empty:
        empty.append_order_lines(_lines(["c1"], dt.datetime(2025, 1, 1), "x"))
        r = build_report_data(empty, builders=[("crm_results", section.build)], lang="en")
        assert r.unavailable[0].reason.startswith("no measurement stored yet")


def test_full_loop_on_a_small_synthetic_shop(tmp_path, monkeypatch):
    """history → predictions → plan (shipped scenarios) → fake LINE → simulated response → import → results."""
    from ltvkit.cli.demo import DEMO_STEPS, DemoContext, run_demo

    keep = ("generate", "export", "import", "products", "truth", "segments", "predict", "recommend", "crm_loop")
    ctx = DemoContext(out=tmp_path, workspace=tmp_path / "ltv.duckdb", customers=2500, seed=3, lang="en")
    try:
        done = run_demo(ctx, steps=[s for s in DEMO_STEPS if s.key in keep])
    finally:
        if ctx.ws is not None:
            ctx.ws.close()
    assert [r.status for r in done] == ["done"] * len(keep), done[-1].detail
    cmp = pd.read_csv(tmp_path / "crm_measured_vs_true.csv")
    assert len(cmp) >= 2 and cmp["true_conversion_uplift"].notna().all()
    truth = cmp.set_index("scenario")["true_conversion_uplift"]
    assert truth.get("winback", 0.0) > 0 and truth.get("cross-sell", 0.0) == 0
    if "vip-thanks" in truth:
        assert truth["vip-thanks"] <= 0
    rows = cmp.dropna(subset=["uplift_ci_low"])
    # one shop: a 95% interval misses the truth one time in twenty, so each side is widened to 99.9% (× 3.29/1.96
    # about the estimate); a wrong sign or a biased estimate still fails. 95% coverage is tested over 40 shops above.
    k = 3.2905 / 1.96
    low = rows["uplift"] - k * (rows["uplift"] - rows["uplift_ci_low"])
    high = rows["uplift"] + k * (rows["uplift_ci_high"] - rows["uplift"])
    assert len(rows) and ((low <= rows["true_conversion_uplift"]) & (rows["true_conversion_uplift"] <= high)).all()
