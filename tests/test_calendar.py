import datetime as dt

import ibis
import numpy as np
import pytest

from ltvkit.calendar import CampaignCalendar
from ltvkit.exceptions import InputError

CAL = CampaignCalendar.default()


@pytest.mark.parametrize(
    ("when", "mall", "expected"),
    [
        (dt.datetime(2025, 9, 4, 19, 59), "rakuten", False),  # Super SALE starts at 20:00
        (dt.datetime(2025, 9, 4, 20, 0), "rakuten", True),
        (dt.datetime(2025, 9, 11, 1, 59), "rakuten", True),  # window crosses midnight, ends 01:59
        (dt.datetime(2025, 9, 11, 2, 0), "rakuten", False),
        (dt.datetime(2025, 9, 12, 12, 0), "rakuten", False),
        (dt.datetime(2025, 9, 18, 12, 0), "rakuten", True),  # ご愛顧感謝デー
        (dt.datetime(2025, 9, 30, 23, 59), "rakuten", True),  # 5と0のつく日
        (dt.datetime(2025, 9, 7, 9, 0), "yahoo", True),  # Sunday
        (dt.datetime(2025, 9, 22, 9, 0), "yahoo", True),  # ゾロ目
        (dt.datetime(2025, 9, 9, 9, 0), "yahoo", False),
    ],
)
def test_rules_and_windows(when, mall, expected):
    assert CAL.is_campaign(when, mall) is expected


def test_estimated_windows_fill_months_without_announcements():
    windows = CAL.windows_between(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "rakuten")
    kinds = {(w.kind, w.estimated) for w in windows}
    assert ("super_sale", True) in kinds
    announced = CAL.windows_between(dt.date(2025, 9, 1), dt.date(2025, 9, 30), "rakuten")
    sales = [w for w in announced if w.kind == "super_sale"]
    assert len(sales) == 1 and not sales[0].estimated


def test_array_ibis_and_scalar_flags_agree():
    rng = np.random.default_rng(0)
    start = np.datetime64("2024-09-01T00:00", "m")
    times = start + rng.integers(0, 60 * 24 * 400, 500).astype("timedelta64[m]")
    times = times.astype("datetime64[us]")
    t = ibis.memtable({"ts": times})
    for mall in ("rakuten", "yahoo"):
        scalar = np.array([CAL.is_campaign(x.astype(dt.datetime), mall) for x in times])
        arr = CAL.flag_array(times, mall)
        via_ibis = t.mutate(f=CAL.expr(t.ts, mall, dt.date(2024, 9, 1), dt.date(2025, 12, 31))).execute()["f"].to_numpy()
        np.testing.assert_array_equal(arr, scalar)
        np.testing.assert_array_equal(via_ibis, scalar)


def test_base_rate_matches_rule_days_for_day_rules_only():
    cal = CampaignCalendar.from_dict({"rules": [{"mall": "m", "name": "5", "days": [5, 15, 25]}]})
    assert cal.base_rate(dt.date(2025, 1, 1), dt.date(2025, 1, 31), "m") == pytest.approx(3 / 31)


def test_bad_calendar_file_is_one_sentence(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("windows:\n  - {mall: rakuten, name: x, start: 'tomorrow', end: '2025-01-01 00:00'}\n", encoding="utf-8")
    with pytest.raises(InputError, match="not 'YYYY-MM-DD HH:MM'"):
        CampaignCalendar.from_file(p)


def test_round_trip_through_dict():
    again = CampaignCalendar.from_dict(CAL.to_dict())
    assert again.windows == CAL.windows and again.rules == CAL.rules


def test_the_windows_join_flags_what_the_scalar_rule_flags():
    from ltvkit.features._orders import with_campaign_flag

    rng = np.random.default_rng(1)
    start = np.datetime64("2024-09-01T00:00", "m")
    times = (start + rng.integers(0, 60 * 24 * 400, 600).astype("timedelta64[m]")).astype("datetime64[us]")
    sources = np.array(["rakuten", "yahoo", "shopify"])[rng.integers(0, 3, len(times))]
    t = ibis.memtable({"source": sources, "order_id": [f"o{i}" for i in range(len(times))],
                       "customer_key": ["c"] * len(times), "ordered_at": times})
    got = with_campaign_flag(t, CAL, dt.date(2024, 9, 1), dt.date(2025, 12, 31)).to_pandas()
    got = got.set_index("order_id").loc[[f"o{i}" for i in range(len(times))], "in_campaign"].to_numpy()
    want = np.array([src in ("rakuten", "yahoo") and CAL.is_campaign(x.astype(dt.datetime), src)
                     for src, x in zip(sources, times, strict=True)])
    assert want.any() and not want.all()
    np.testing.assert_array_equal(got, want)
    merged = CAL.intervals(dt.date(2024, 9, 1), dt.date(2025, 12, 31), "rakuten")
    assert (merged["start_at"].iloc[1:].to_numpy() > merged["end_at"].iloc[:-1].to_numpy()).all()
