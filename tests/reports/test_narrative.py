from __future__ import annotations

import datetime as dt

from ltvkit.i18n import fmt
from ltvkit.reports import narrative

TEXTBOOK = {"aov": 1000, "purchases_per_year": 5, "lifespan_years": 3, "textbook_ltv": 15000}


def test_kpi_sentence_reads_the_textbook_example():
    assert narrative.kpi_sentence(TEXTBOOK, 4000, "ja") == (
        "お客様は1回に平均1,000円を使い、年に5.0回購入しています。継続年数3.0年を掛けた教科書的なLTVは15,000円ですが、"
        "実際に最初の12か月で得られた粗利は新規顧客1人あたり4,000円です。")
    assert narrative.kpi_sentence(TEXTBOOK, 4000, "en") == (
        "A customer spends ¥1,000 per order on average and buys 5.0 times a year; over a lifespan of 3.0 years that "
        "makes a textbook LTV of ¥15,000, while the margin actually earned in the first 12 months is ¥4,000 per new "
        "customer.")


def test_missing_numbers_give_a_shorter_sentence_not_a_wrong_one():
    assert narrative.kpi_sentence({"aov": 1000, "purchases_per_year": 2.0}, None, "ja") == \
        "お客様は1回に平均1,000円を使い、年に2.0回購入しています。"
    assert narrative.kpi_sentence({}, None, "en") == ""
    assert narrative.golden_time_sentence(None, None, None, None, "ja") == ""
    assert narrative.tracking_sentence(10.0, 0.0, 4, "en") == ""
    assert narrative.point_ltv_sentence(float("nan"), 100.0, 360, "ja") == ""


def test_comparisons_follow_the_numbers():
    up = narrative.cohort_heatmap_sentence(3000, 5000, ("2025-09", 3300.0), ("2023-04", 3000.0), "ja")
    down = narrative.cohort_heatmap_sentence(3000, None, ("2025-09", 2700.0), ("2023-04", 3000.0), "en")
    assert up.endswith("2025-09に初回購入した顧客は2023-04の顧客より10%高くなっています。")
    assert "at 90 days the 2025-09 cohort is 10% below the 2023-04 cohort." in down
    assert "after 360 days" not in down
    worst = narrative.cac_sentence(("line", 3.2), ("mall_ads", 0.8), "ja")
    assert worst == "LTV÷獲得コストが最も高いのは「line」（3.20倍）、最も低いのは「mall_ads」（0.80倍）で、獲得コストが粗利LTVを上回っています。"
    assert "costs more" not in narrative.cac_sentence(("line", 3.2), ("mall_ads", 1.5), "en")
    assert narrative.tracking_sentence(105.0, 100.0, 26, "en") == \
        "Over the 26-week holdout the model predicted 105 purchases against 100 actual (+5.0%)."


def test_formats():
    assert fmt(12345.4, "yen", "ja") == "12,345円" and fmt(-5, "yen", "en") == "-¥5"
    assert fmt(0.1234, "pct", "en") == "12.3%" and fmt(None, "pct", "ja") == "—" and fmt(float("nan"), "int", "en") == "—"
    assert fmt(2.5, "ratio", "ja") == "2.50倍" and fmt(45, "days", "en") == "45 days"
    assert fmt(dt.datetime(2025, 3, 1), "text", "ja") == "2025-03-01"
    assert fmt(0.00012, "float", "en") == "0.00012" and fmt(3.14159, "float", "en") == "3.14"
