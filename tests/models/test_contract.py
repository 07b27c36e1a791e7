"""One contract over every model: sklearn conventions, errors that say what to do, summary and persistence."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import ltvkit.models as models
from ltvkit import ConvergenceError, InputError, NotFittedError
from ltvkit.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)


def _data(Model, cdnow, cdnow_spend, donations):
    if Model is GammaGammaModel:
        r = cdnow_spend[cdnow_spend["x"] > 0]
        return (r["x"], r["zbar"]), {}
    if Model is BetaGeoBetaBinomModel:
        return (donations["frequency"], donations["recency"], donations["periods"]), {"weights": donations["weights"]}
    if Model is ShiftedBetaGeoModel:
        return (np.r_[np.arange(1, 8), 7], np.r_[np.ones(7), 0]), {"weights": [369, 163, 86, 56, 37, 27, 21, 241]}
    return (cdnow["frequency"], cdnow["recency"], cdnow["T"]), {}


ALL_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, GammaGammaModel, BetaGeoBetaBinomModel,
              ShiftedBetaGeoModel]


def test_all_is_complete():
    public = {n for n, v in vars(models).items() if not n.startswith("_") and not inspect.ismodule(v)
              and n not in ("annotations",)}
    assert set(models.__all__) == public
    assert models.__all__ == sorted(models.__all__, key=str.casefold)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_init_stores_settings_only(Model):
    m = Model(penalizer=0.01)
    assert m.penalizer == 0.01
    assert not [k for k in vars(m) if k.endswith("_")]
    assert "not fitted" in repr(m)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_fit_returns_self_and_sets_underscore_attrs(Model, cdnow, cdnow_spend, donations):
    args, kw = _data(Model, cdnow, cdnow_spend, donations)
    m = Model()
    assert m.fit(*args, **kw) is m
    learned = {k for k in vars(m) if k.endswith("_")}
    assert {"params_", "log_likelihood_", "variance_matrix_", "standard_errors_", "confidence_intervals_",
            "AIC_", "BIC_", "n_customers_"} <= learned
    assert list(m.params_.index) == list(Model._param_names)
    assert np.all(m.params_ > 0) and np.isfinite(m.log_likelihood_)
    ci = m.confidence_intervals_
    assert np.all(ci["lower 95% bound"] < m.params_) and np.all(m.params_ < ci["upper 95% bound"])
    k = len(m.params_)
    assert m.AIC_ == pytest.approx(2 * k - 2 * m.log_likelihood_)
    assert m.BIC_ == pytest.approx(k * np.log(m.n_customers_) - 2 * m.log_likelihood_)
    summary = m.summary()
    assert list(summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert summary.attrs["log_likelihood_"] == m.log_likelihood_
    assert Model.__name__ in repr(m) and "customers" in repr(m)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_not_fitted_error_uses_sklearn_message(Model):
    m = Model()
    with pytest.raises(NotFittedError, match=f"This {Model.__name__} instance is not fitted yet. "
                                             "Call 'fit' with appropriate arguments first."):
        m.summary()
    assert isinstance(NotFittedError("x"), (ValueError, AttributeError))


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_save_and_load_round_trip(Model, tmp_path, cdnow, cdnow_spend, donations):
    args, kw = _data(Model, cdnow, cdnow_spend, donations)
    m = Model().fit(*args, **kw)
    m.save(tmp_path / "m.json")
    back = Model.load(tmp_path / "m.json")
    pd.testing.assert_series_equal(back.params_, m.params_)
    assert back.log_likelihood_ == pytest.approx(m.log_likelihood_)
    other = BetaGeoModel if Model is not BetaGeoModel else ParetoNBDModel
    with pytest.raises(InputError, match="load it with that class"):
        other.load(tmp_path / "m.json")


def test_weights_equal_repeated_rows(cdnow):
    head = cdnow.head(300)
    doubled = pd.concat([head, head])
    a = BetaGeoModel().fit(doubled["frequency"], doubled["recency"], doubled["T"])
    b = BetaGeoModel().fit(head["frequency"], head["recency"], head["T"], weights=np.full(len(head), 2.0))
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-5)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_)
    assert b.n_unique_rows_ <= len(head)


def test_input_errors_name_column_count_and_row(cdnow):
    with pytest.raises(InputError, match=r"Some values in recency are larger than T \(1 rows, e.g. row 2\)"):
        BetaGeoModel().fit([1, 2, 3], [1.0, 2.0, 9.0], [5.0, 5.0, 5.0])
    with pytest.raises(InputError, match="frequency are negative"):
        ParetoNBDModel().fit([-1, 2], [0.0, 2.0], [5.0, 5.0])
    with pytest.raises(InputError, match="missing or infinite"):
        BetaGeoModel().fit([1, np.nan], [1.0, 2.0], [5.0, 5.0])
    with pytest.raises(InputError, match="repeat customers only"):
        GammaGammaModel().fit([0, 2], [10.0, 20.0])
    with pytest.raises(InputError, match="same length"):
        BetaGeoModel().fit([1, 2], [1.0, 2.0, 3.0], [5.0, 5.0])


def test_convergence_error_lists_what_to_try(cdnow):
    with pytest.raises(ConvergenceError) as info:
        BetaGeoModel(maxiter=1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    text = str(info.value)
    assert "did not converge" in text and "\n1. " in text and "\n2. " in text and "penalizer" in text


def test_penalizer_shrinks_log_params(cdnow):
    free = BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    pen = BetaGeoModel(penalizer=0.1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert np.sum(np.log(pen.params_) ** 2) < np.sum(np.log(free.params_) ** 2)


def test_series_in_series_out_and_scalar_in_float_out(cdnow):
    m = BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    out = m.p_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(out, pd.Series) and out.index.equals(cdnow.index)
    assert isinstance(m.p_alive(2, 30.43, 38.86), float)
    assert m.conditional_probability_alive(2, 30.43, 38.86) == m.p_alive(2, 30.43, 38.86)
    assert m.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) == m.expected_purchases(
        39, 2, 30.43, 38.86)


def test_integer_packing_compression_matches_general_grouping():
    from ltvkit.models._base import compress

    rng = np.random.default_rng(0)
    n = 20_000
    x = rng.integers(0, 30, n).astype(float)
    T = rng.integers(1, 1096, n).astype(float)
    tx = np.where(x > 0, np.floor(T * rng.random(n)), 0.0)
    w = rng.integers(1, 4, n).astype(float)
    packed, wp = compress([x, tx, T], w)  # whole numbers: one int64 key per row
    general, wg = compress([x, tx + 0.5, T], w)  # fractions: pandas grouping
    a = pd.DataFrame({"x": packed[0], "tx": packed[1], "T": packed[2], "w": wp}).sort_values(["x", "tx", "T"])
    b = pd.DataFrame({"x": general[0], "tx": general[1] - 0.5, "T": general[2], "w": wg}).sort_values(["x", "tx", "T"])
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert wp.sum() == w.sum()


def test_unexecuted_ibis_columns_are_refused_with_a_hint():
    import ibis

    from ltvkit.exceptions import InputError
    from ltvkit.models import BetaGeoModel

    t = ibis.memtable({"frequency": [1.0, 0.0], "recency": [3.0, 0.0], "T": [5.0, 5.0]})
    with pytest.raises(InputError, match=r"to_pandas\(\)"):
        BetaGeoModel().fit(t.frequency, t.recency, t["T"])
