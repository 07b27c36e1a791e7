"""One contract over every model: sklearn conventions, errors that say what to do, summary and persistence."""

from __future__ import annotations

import inspect
import json
import types

import numpy as np
import pandas as pd
import pytest

import ltvkit.models as models
from ltvkit import ConvergenceError, InputError, NotFittedError
from ltvkit.models import (
    BaseModel,
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    CovariateBetaGeoModel,
    CovariateParetoNBDModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NetValueSpendModel,
    ParetoNBDModel,
    RegularBetaGeoModel,
    ReturnAdjustedSpendModel,
    ShiftedBetaGeoModel,
    _base,
)


def _orders(seed: int, n: int = 400) -> pd.DataFrame:
    """Seeded orders with refunds: gross values and the amount given back on each order."""
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 6, n)
    cust = np.repeat([f"c{i}" for i in range(n)], k)
    scale = np.repeat(rng.gamma(4.0, 1000.0, n), k)
    gross = np.round(rng.gamma(5.0, 1.0, len(cust)) * scale / 5.0)
    refunded = np.where(rng.random(len(cust)) < 0.1, np.round(gross * 0.8), 0.0)
    return pd.DataFrame({"customer": cust, "gross": gross, "refunded": refunded})


def _covariates(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({"big_first_order": rng.integers(0, 2, n),
                         "channel": rng.choice(["web", "line", "mall"], n, p=[0.5, 0.3, 0.2])})


@pytest.fixture(scope="module")
def cases(cdnow, cdnow_spend, donations):
    """Per model: fit arguments, a prediction that needs the fitted parameters, and a setting for every
    constructor argument that differs from its default (so each one is seen to round-trip)."""
    rfm = (cdnow["frequency"], cdnow["recency"], cdnow["T"])
    rep = cdnow_spend[cdnow_spend["x"] > 0]
    small = tuple(c.iloc[:1000] for c in rfm)  # Pareto/NBD with covariates is the slowest fit; 1,000 customers do
    cov = _covariates(len(small[0]))
    orders = _orders(3)
    net = orders["gross"] - orders["refunded"] - 1500.0  # some net values are negative
    sbg = (np.r_[np.arange(1, 8), 7], np.r_[np.ones(7), 0])
    common = {"penalizer": 0.001, "tol": 1e-9, "maxiter": 1500, "random_state": 7}
    case = types.SimpleNamespace
    return {
        BetaGeoModel: case(args=rfm, kw={}, predict=lambda m: m.p_alive(*rfm), settings=common),
        ModifiedBetaGeoModel: case(args=rfm, kw={}, predict=lambda m: m.p_alive(*rfm), settings=common),
        ParetoNBDModel: case(args=rfm, kw={}, predict=lambda m: m.p_alive(*rfm), settings=common),
        GammaGammaModel: case(args=(rep["x"], rep["zbar"]), kw={},
                              predict=lambda m: m.expected_spend(rep["x"], rep["zbar"]), settings=common),
        BetaGeoBetaBinomModel: case(
            args=(donations["frequency"], donations["recency"], donations["periods"]),
            kw={"weights": donations["weights"]},
            predict=lambda m: m.p_alive(donations["frequency"], donations["recency"], donations["periods"]),
            settings=common),
        ShiftedBetaGeoModel: case(args=sbg, kw={"weights": [369, 163, 86, 56, 37, 27, 21, 241]},
                                  predict=lambda m: m.survival_function(np.arange(1, 10)), settings=common),
        RegularBetaGeoModel: case(args=rfm, kw={}, predict=lambda m: m.next_purchase_timing(*(c[:50] for c in rfm)),
                                  settings={**common, "k": 2, "k_max": 4, "modified": False}),
        CovariateBetaGeoModel: case(args=(*small, cov), kw={}, predict=lambda m: m.p_alive(*small, cov),
                                    settings=common),
        CovariateParetoNBDModel: case(args=(*small, cov), kw={}, predict=lambda m: m.p_alive(*small, cov),
                                      settings=common),
        ReturnAdjustedSpendModel: case(
            args=(orders["customer"], orders["gross"], orders["refunded"]), kw={},
            predict=lambda m: m.expected_net_value(orders["customer"], orders["gross"], orders["refunded"]),
            settings=common),
        NetValueSpendModel: case(args=(orders["customer"], net), kw={},
                                 predict=lambda m: m.expected_net_value(orders["customer"], net), settings=common),
    }


ALL_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, GammaGammaModel, BetaGeoBetaBinomModel,
              ShiftedBetaGeoModel, RegularBetaGeoModel, CovariateBetaGeoModel, CovariateParetoNBDModel,
              ReturnAdjustedSpendModel, NetValueSpendModel]


def test_all_is_complete():
    public = {n for n, v in vars(models).items() if not n.startswith("_") and not inspect.ismodule(v)
              and n not in ("annotations",)}
    assert set(models.__all__) == public
    assert models.__all__ == sorted(models.__all__, key=str.casefold)


def test_every_model_class_is_in_the_contract(cases):
    exported = {v for n in models.__all__ if isinstance(v := getattr(models, n), type)
                and issubclass(v, BaseModel) and v is not BaseModel}
    assert exported == set(ALL_MODELS) == set(cases)


def _settings(Model):
    return [p for p in inspect.signature(Model.__init__).parameters if p != "self"]


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_every_setting_has_a_non_default_value_in_the_cases(Model, cases):
    defaults = {p.name: p.default for p in inspect.signature(Model.__init__).parameters.values() if p.name != "self"}
    settings = cases[Model].settings
    assert set(settings) == set(defaults)
    assert [k for k in settings if settings[k] == defaults[k]] == []


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_init_stores_settings_only(Model, cases):
    settings = cases[Model].settings
    m = Model(**settings)
    assert vars(m) == settings  # no logic, no validation, nothing derived
    assert m.get_params() == settings
    assert Model().penalizer == 0.0
    assert "not fitted" in repr(m)


def _learned(m):
    return {k for k in vars(m) if not k.startswith("_") and k not in _settings(type(m))}


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_fit_returns_self_and_sets_underscore_attrs(Model, cases):
    case = cases[Model]
    m = Model(**case.settings)
    assert m.fit(*case.args, **case.kw) is m
    assert m.get_params() == case.settings  # fit leaves the settings alone
    learned = _learned(m)
    assert all(k.endswith("_") for k in learned), learned
    assert {"params_", "log_likelihood_", "variance_matrix_", "standard_errors_", "confidence_intervals_",
            "AIC_", "BIC_", "n_customers_", "n_unique_rows_", "n_iter_"} <= learned
    assert np.isfinite(m.log_likelihood_)
    se = m.standard_errors_
    assert list(se.index) == list(m.params_.index) == list(m.variance_matrix_.index)
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    ci = m.confidence_intervals_
    assert np.all(ci["lower 95% bound"] < m.params_) and np.all(m.params_ < ci["upper 95% bound"])
    k = len(m.params_)
    assert m.AIC_ == pytest.approx(2 * k - 2 * m.log_likelihood_)
    assert m.BIC_ == pytest.approx(k * np.log(m.n_customers_) - 2 * m.log_likelihood_)
    summary = m.summary()
    assert list(summary.columns[:4]) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    pd.testing.assert_series_equal(summary["se(coef)"], se, check_names=False)
    assert summary.attrs["log_likelihood_"] == m.log_likelihood_
    assert Model.__name__ in repr(m) and "customers" in repr(m)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_not_fitted_error_uses_sklearn_message(Model, cases):
    m = Model()
    message = f"This {Model.__name__} instance is not fitted yet. Call 'fit' with appropriate arguments first."
    for use in (m.summary, m.to_dict, lambda: cases[Model].predict(m)):
        with pytest.raises(NotFittedError, match=message):
            use()
    assert isinstance(NotFittedError("x"), (ValueError, AttributeError))


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_convergence_error_says_what_to_try(Model, cases, monkeypatch):
    """The base machinery's check holds for every model: stopped far from the optimum (no iterations, no Newton
    steps), the fit raises ConvergenceError with a numbered list that ends with the penalizer."""
    monkeypatch.setattr(BaseModel, "_newton", lambda self, objective, x, hess: (x, *objective(x)))
    monkeypatch.setattr(BaseModel, "_newton_exact", lambda self, objective, x: (x, *objective(x, True)))
    case = cases[Model]
    with pytest.raises(ConvergenceError) as info:
        Model(**{**case.settings, "maxiter": 0}).fit(*case.args, **case.kw)
    text = str(info.value)
    assert "did not converge" in text and "\n1. " in text and "\n2. " in text and "penalizer" in text


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_random_state_seeds_the_warm_start_subsample(Model, cases, monkeypatch):
    """Fits on many distinct rows start from a weighted random subset: the same seed draws the same subset and
    gives the very same fit; another seed draws another subset and reaches the same optimum."""
    case = cases[Model]
    n_rows = Model(**case.settings).fit(*case.args, **case.kw).n_unique_rows_
    # on the class itself: a model may set its own thresholds (Pareto/NBD subsamples from 2,000 rows)
    monkeypatch.setattr(Model, "_subsample_above", 0)
    monkeypatch.setattr(Model, "_subsample_size", max(4, n_rows // 2))
    drawn = []
    original = _base._weighted_subsample

    def spy(w, size, random_state):
        idx, weights = original(w, size, random_state)
        drawn.append(idx)
        return idx, weights

    monkeypatch.setattr(_base, "_weighted_subsample", spy)

    def fit(seed):
        drawn.clear()
        m = Model(**{**case.settings, "random_state": seed}).fit(*case.args, **case.kw)
        return m, [d.copy() for d in drawn]

    a, draws_a = fit(1)
    b, draws_b = fit(1)
    c, draws_c = fit(2)
    assert draws_a and all(len(d) < n for d, n in zip(draws_a, [n_rows] * len(draws_a), strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(draws_a, draws_b, strict=True))
    pd.testing.assert_series_equal(a.params_, b.params_, check_exact=True)
    assert any(not np.array_equal(x, y) for x, y in zip(draws_a, draws_c, strict=True))
    np.testing.assert_allclose(c.params_, a.params_, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_a_fit_in_parts_equals_the_fit_on_all_rows(Model, cases, monkeypatch):
    """Above ``_fit_part_rows`` distinct rows the likelihood is evaluated a part at a time (bounded memory on
    millions of customers): the same optimum, log-likelihood and standard errors as in one piece."""
    case = cases[Model]
    whole = Model(**case.settings).fit(*case.args, **case.kw)
    if whole.n_unique_rows_ < 8:
        pytest.skip(f"{Model.__name__}'s case has {whole.n_unique_rows_} distinct rows: nothing to split")
    evaluated = []
    original = Model._objective

    def spy(self, data, w, tf):
        evaluated.append(len(w))
        return original(self, data, w, tf)

    monkeypatch.setattr(Model, "_fit_part_rows", max(2, whole.n_unique_rows_ // 3))
    monkeypatch.setattr(Model, "_objective", spy)
    parts = Model(**case.settings).fit(*case.args, **case.kw)
    if not evaluated:
        pytest.skip(f"{Model.__name__} fits with its own optimiser, not BaseModel._fit")
    assert max(evaluated) < whole.n_unique_rows_  # the likelihood did run in parts
    np.testing.assert_allclose(parts.params_, whole.params_, rtol=1e-6, atol=1e-9)
    assert parts.log_likelihood_ == pytest.approx(whole.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(parts.standard_errors_, whole.standard_errors_, rtol=1e-4)


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_a_fit_without_standard_errors_has_the_same_optimum(Model, cases, recwarn):
    """The pipeline fits with ``_standard_errors = False`` (it never reads them): the same parameters and
    log-likelihood, no Hessian at the optimum, and NaN (not made-up) standard errors."""
    case = cases[Model]
    whole = Model(**case.settings).fit(*case.args, **case.kw)
    hessians = []
    original = BaseModel._hessian

    def spy(objective, x, g0=None):
        hessians.append(len(x))
        return original(objective, x, g0)

    bare = Model(**case.settings)
    bare._standard_errors = False
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BaseModel, "_hessian", staticmethod(spy))
        bare.fit(*case.args, **case.kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BaseModel, "_hessian", staticmethod(spy))
        n_before = len(hessians)
        Model(**case.settings).fit(*case.args, **case.kw)
        with_se = len(hessians) - n_before
    exact = Model(**case.settings)._has_hessian  # its standard errors use the last Newton step's exact Hessian
    if with_se == 0 and not exact:
        pytest.skip(f"{Model.__name__} fits with its own optimiser, not BaseModel._fit")
    if not exact:
        assert len(hessians[:n_before]) == with_se - 1  # the Hessian at the optimum is the one left out
    np.testing.assert_allclose(bare.params_, whole.params_, rtol=1e-12, atol=0)
    assert bare.log_likelihood_ == whole.log_likelihood_
    assert bare.standard_errors_.isna().all() and whole.standard_errors_.notna().all()


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_analytic_gradient_matches_finite_differences(Model, cases, monkeypatch):
    """Every model gives its gradient; at the fitted parameters it agrees, row by row, with central differences
    of its log-likelihood on the data the fit saw."""
    case = cases[Model]
    seen = {}
    original = BaseModel._objective

    def spy(self, data, w, tf):
        if type(self) is Model:
            seen.setdefault("data", data)
        return original(self, data, w, tf)

    monkeypatch.setattr(BaseModel, "_objective", spy)
    m = Model(**case.settings).fit(*case.args, **case.kw)
    assert m._has_gradient
    params, data = m.params_.to_numpy(), seen["data"]
    _, grad = m._loglik_grad(params, data)
    assert grad.shape == (len(data[0]), len(params))
    for j in range(len(params)):
        h = 1e-6 * max(abs(params[j]), 1e-3)
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        numeric = (m._loglik(up, data) - m._loglik(down, data)) / (2 * h)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-4, atol=1e-6 / max(abs(params[j]), 1e-3),
                                   err_msg=m.params_.index[j])


def test_a_model_without_gradient_fits_with_numerical_gradients():
    """The base machinery's fallback for a new model that gives only its likelihood: exponential waiting times,
    whose maximum-likelihood rate is 1 / mean with standard error rate / sqrt(n)."""

    class ExponentialModel(BaseModel):
        _param_names = ("rate",)

        def fit(self, t):
            return self._fit([np.asarray(t, dtype=float)])

        def _loglik(self, params, data):
            return np.log(params[0]) - params[0] * data[0]

    t = np.random.default_rng(0).exponential(2.0, 500)
    m = ExponentialModel().fit(t)
    assert not m._has_gradient
    assert m.params_["rate"] == pytest.approx(1 / t.mean(), rel=1e-7)
    assert m.standard_errors_["rate"] == pytest.approx(m.params_["rate"] / np.sqrt(len(t)), rel=1e-3)


def _assert_same(a, b, name):
    if isinstance(a, BaseModel):
        assert type(a) is type(b), name
        assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True), name
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=False, rtol=1e-12, obj=name)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=name)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), name
        for k in a:
            _assert_same(a[k], b[k], f"{name}[{k}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12, nan_ok=True), name
    else:
        assert a == b, name


@pytest.mark.parametrize("Model", ALL_MODELS)
def test_to_dict_from_dict_round_trip_every_setting_and_fitted_value(Model, cases, tmp_path):
    case = cases[Model]
    m = Model(**case.settings).fit(*case.args, **case.kw)
    data = json.loads(json.dumps(m.to_dict()))  # plain JSON, nothing pickled
    assert data["settings"] == case.settings
    back = Model.from_dict(data)
    assert back.get_params() == m.get_params() == case.settings
    assert _learned(back) == _learned(m)
    for name in _learned(m):
        _assert_same(getattr(m, name), getattr(back, name), name)
    before, after = case.predict(m), case.predict(back)
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    else:
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    m.save(tmp_path / "m.json")
    loaded = Model.load(tmp_path / "m.json")
    pd.testing.assert_series_equal(loaded.params_, m.params_)
    assert loaded.log_likelihood_ == m.log_likelihood_
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
