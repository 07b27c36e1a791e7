"""lifetimes' own Quickstart runs on ltvkit.compat.lifetimes with only the import lines changed.

The code below follows lifetimes' docs/Quickstart.md line by line; the dataset loaders read the CDNOW files of
tests/data (lifetimes ships them in ``lifetimes.datasets``). Expected values are the outputs printed in that
Quickstart (and the CDNOW summary file lifetimes itself ships, for the transaction utilities).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def load_cdnow_summary(**kwargs):
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value():
    df = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    df = df.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    return df.set_index("customer_id")


def load_cdnow_transactions():
    return pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                       names=["customer_id", "id", "date", "quantity", "amount"])


@pytest.fixture(scope="module")
def quickstart():
    # -- the Quickstart, with `lifetimes` replaced by `ltvkit.compat.lifetimes` in the imports -----------------
    from ltvkit.compat.lifetimes import BetaGeoFitter, GammaGammaFitter

    data = load_cdnow_summary(index_col=[0])
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(data['frequency'], data['recency'], data['T'])
    out = {"repr": repr(bgf), "params": bgf.params_.copy(), "summary": bgf.summary}

    t = 1
    data['predicted_purchases'] = bgf.conditional_expected_number_of_purchases_up_to_time(t, data['frequency'], data['recency'], data['T'])
    out["top5"] = data.sort_values(by='predicted_purchases').tail(5)

    summary_with_money_value = load_cdnow_summary_data_with_monetary_value()
    returning_customers_summary = summary_with_money_value[summary_with_money_value['frequency'] > 0]
    ggf = GammaGammaFitter(penalizer_coef = 0)
    ggf.fit(returning_customers_summary['frequency'],
            returning_customers_summary['monetary_value'])
    out["gg_repr"], out["gg_params"] = repr(ggf), ggf.params_.copy()
    out["profit"] = ggf.conditional_expected_average_profit(
        summary_with_money_value['frequency'],
        summary_with_money_value['monetary_value'])

    bgf.fit(summary_with_money_value['frequency'], summary_with_money_value['recency'], summary_with_money_value['T'])
    out["clv"] = ggf.customer_lifetime_value(
        bgf, #the model to use to predict the number of future transactions
        summary_with_money_value['frequency'],
        summary_with_money_value['recency'],
        summary_with_money_value['T'],
        summary_with_money_value['monetary_value'],
        time=12, # months
        discount_rate=0.01 # monthly discount rate ~ 12.7% annually
    )
    return out


def test_bgnbd_fit_as_published(quickstart):
    p = quickstart["params"]
    np.testing.assert_allclose([p["r"], p["alpha"], p["a"], p["b"]], [0.243, 4.414, 0.793, 2.426], atol=6e-4)
    assert quickstart["repr"].endswith("fitted with 2357 subjects, a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>")
    assert list(quickstart["summary"].columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]


def test_ranking_as_published(quickstart):
    top = quickstart["top5"]
    assert list(top.index) == [509, 841, 1981, 157, 1516]
    np.testing.assert_allclose(top["predicted_purchases"], [0.424877, 0.474738, 0.486526, 0.662396, 0.710623],
                               atol=2e-6)


def test_gamma_gamma_as_published(quickstart):
    assert quickstart["gg_repr"].endswith("fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>")
    profit = quickstart["profit"]
    np.testing.assert_allclose(profit.head(10), [24.658619, 18.911489, 35.170981, 35.170981, 35.170981,
                                                 71.462843, 18.911489, 35.170981, 27.282408, 35.170981], atol=5e-5)
    assert profit.mean() == pytest.approx(35.2529588256, abs=1e-5)


def test_clv_as_published(quickstart):
    clv = quickstart["clv"]
    assert clv.name == "clv"
    np.testing.assert_allclose(clv.head(10), [140.096211, 18.943467, 38.180574, 38.180574, 38.180574,
                                              1003.868107, 28.109683, 38.180574, 167.418216, 38.180574],
                               rtol=1e-6)


def test_summary_from_transactions_gives_lifetimes_cdnow_summary():
    from ltvkit.compat.lifetimes.utils import summary_data_from_transaction_data

    tx = load_cdnow_transactions()
    summary = summary_data_from_transaction_data(tx, 'id', 'date', monetary_value_col='amount',
                                                 datetime_format='%Y%m%d', observation_period_end='1997-09-30',
                                                 freq='D', freq_multiplier=7)
    published = load_cdnow_summary_data_with_monetary_value()
    assert summary.index.name == "id" and len(summary) == 2357
    np.testing.assert_allclose(summary["frequency"], published["frequency"])
    np.testing.assert_allclose(summary["recency"], published["recency"], atol=0.006)
    np.testing.assert_allclose(summary["T"], published["T"], atol=0.006)
    np.testing.assert_allclose(summary["monetary_value"], published["monetary_value"], atol=0.006)


def test_calibration_and_holdout_columns_and_counts():
    from ltvkit.compat.lifetimes.utils import calibration_and_holdout_data

    tx = load_cdnow_transactions()
    c = calibration_and_holdout_data(tx, 'id', 'date', calibration_period_end='1997-09-30',
                                     observation_period_end='1998-06-30', datetime_format='%Y%m%d',
                                     monetary_value_col='amount')
    assert list(c.columns) == ["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal", "frequency_holdout",
                               "monetary_value_holdout", "duration_holdout"]
    assert (c["duration_holdout"] == 273).all()
    # holdout purchase days of customer 1 (19970101, 19970118, 19970802 in calibration; the rest after)
    days = pd.to_datetime(tx.loc[tx["id"] == 1, "date"].astype(str))
    assert c.loc[1, "frequency_holdout"] == days[days > "1997-09-30"].dt.date.nunique()
    assert c.loc[1, "frequency_cal"] == 2


def test_lifetimes_argument_orders_and_penalizer():
    from ltvkit.compat.lifetimes import BetaGeoFitter, ParetoNBDFitter

    data = load_cdnow_summary(index_col=[0])
    bgf = BetaGeoFitter().fit(data['frequency'], data['recency'], data['T'])
    # (t, n) in lifetimes, (n, t) in ltvkit
    assert bgf.probability_of_n_purchases_up_to_time(39, 0) == pytest.approx(bgf.probability_of_purchases(0, 39))
    assert bgf.probability_of_n_purchases_up_to_time(39, 0) == pytest.approx(0.5737864, rel=2e-3)
    assert bgf.predict(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)
    # lifetimes' penalty (coef × Σ params²) pulls the parameters towards zero
    shrunk = BetaGeoFitter(penalizer_coef=0.01).fit(data['frequency'], data['recency'], data['T'])
    assert shrunk.params_["alpha"] < bgf.params_["alpha"] / 2
    pnbd = ParetoNBDFitter(penalizer_coef=0.0).fit(data['frequency'], data['recency'], data['T'])
    assert 0 < pnbd.conditional_probability_alive(2, 30.43, 38.86) <= 1
    matrix = bgf.conditional_probability_alive_matrix()
    assert matrix.shape == (int(data["T"].max()) + 1, int(data["frequency"].max()) + 1)


def test_plots_render_to_png(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ltvkit.compat.lifetimes import BetaGeoFitter
    from ltvkit.compat.lifetimes.plotting import (
        plot_calibration_purchases_vs_holdout_purchases,
        plot_frequency_recency_matrix,
        plot_history_alive,
        plot_period_transactions,
        plot_probability_alive_matrix,
    )
    from ltvkit.compat.lifetimes.utils import calibration_and_holdout_data

    data = load_cdnow_summary(index_col=[0])
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(data['frequency'], data['recency'], data['T'])
    tx = load_cdnow_transactions()
    tx["date"] = pd.to_datetime(tx["date"].astype(str))
    cal = calibration_and_holdout_data(tx, 'id', 'date', calibration_period_end='1997-09-30',
                                       observation_period_end='1998-06-30')
    cal_model = BetaGeoFitter().fit(cal['frequency_cal'], cal['recency_cal'], cal['T_cal'])
    plots = {
        "fr": lambda: plot_frequency_recency_matrix(bgf),
        "alive": lambda: plot_probability_alive_matrix(bgf),
        "period": lambda: plot_period_transactions(bgf),
        "holdout": lambda: plot_calibration_purchases_vs_holdout_purchases(cal_model, cal),
        "history": lambda: plot_history_alive(cal_model, 200, tx.loc[tx['id'] == 35], 'date'),
    }
    for name, draw in plots.items():
        plt.figure()
        ax = draw()
        assert ax.get_title()
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        plt.close("all")
    lines = plot_calibration_purchases_vs_holdout_purchases(cal_model, cal).get_lines()
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 8


def test_mbgnbd_and_bgbb_with_lifetimes_signatures():
    from ltvkit.compat.lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter

    data = load_cdnow_summary(index_col=[0])
    mbgf = ModifiedBetaGeoFitter(penalizer_coef=0.0).fit(data['frequency'], data['recency'], data['T'])
    np.testing.assert_allclose(mbgf.params_[["r", "alpha", "a", "b"]], [0.525, 6.183, 0.891, 1.614], atol=2e-3)
    donations = pd.read_csv(DATA / "donations.csv")
    bbf = BetaGeoBetaBinomFitter(penalizer_coef=0.0)
    bbf.fit(donations['frequency'], donations['recency'], donations['periods'], weights=donations['weights'])
    np.testing.assert_allclose(bbf.params_[["alpha", "beta", "gamma", "delta"]], [1.204, 0.750, 0.657, 2.783],
                               atol=2e-3)
    assert list(bbf.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    total = (bbf.conditional_expected_number_of_purchases_up_to_time(
        5, donations['frequency'], donations['recency'], donations['periods']) * donations['weights']).sum()
    assert total == pytest.approx(12884.2, abs=0.5)
    assert 11104 * bbf.probability_of_n_purchases_up_to_time(6, 0) == pytest.approx(3454.9, abs=0.1)
    assert 11104 * bbf.probability_of_n_purchases_up_to_time(6, 6) == pytest.approx(1253.1, abs=0.1)
