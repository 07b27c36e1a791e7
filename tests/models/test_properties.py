"""Property-based checks: every output stays finite for extreme histories (frequency and T up to 10,000)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ltvkit.models import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
    discounted_expected_transactions,
)

# CDNOW-like parameters in days (the weekly fits with alpha and beta times 7)
MODELS = [
    BetaGeoModel.from_params({"r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426}),
    ModifiedBetaGeoModel.from_params({"r": 0.525, "alpha": 43.3, "a": 0.891, "b": 1.614}),
    ParetoNBDModel.from_params({"r": 0.553, "alpha": 74.0, "s": 0.606, "beta": 81.7}),
    BetaGeoModel.from_params({"r": 2.5, "alpha": 0.4, "a": 3.0, "b": 0.2}),
    ParetoNBDModel.from_params({"r": 0.05, "alpha": 2000.0, "s": 4.0, "beta": 0.5}),
]


@st.composite
def histories(draw):
    T = draw(st.floats(0.0, 10_000.0))
    x = draw(st.integers(0, 10_000))
    t_x = 0.0 if x == 0 else draw(st.floats(0.0, T))
    t = draw(st.floats(0.0, 3650.0))
    return float(x), t_x, T, t


@settings(max_examples=60, deadline=None)
@given(h=histories())
def test_predictions_are_finite_and_in_range(h):
    x, t_x, T, t = h
    for m in MODELS:
        p = m.p_alive(x, t_x, T)
        e = m.expected_purchases(t, x, t_x, T)
        assert np.isfinite(p) and -1e-12 <= p <= 1 + 1e-12, (m, h, p)
        assert np.isfinite(e) and e >= -1e-9, (m, h, e)
        ll = m._loglik(m._params(), (np.array([x]), np.array([t_x]), np.array([max(T, t_x)])))
        assert np.all(np.isfinite(ll)), (m, h, ll)


@settings(max_examples=30, deadline=None)
@given(t=st.floats(0.0, 10_000.0), n=st.integers(0, 10_000))
def test_new_customer_predictions_are_finite(t, n):
    for m in MODELS:
        e = m.expected_purchases_new_customer(t)
        p = m.probability_of_purchases(n, t)
        assert np.isfinite(e) and e >= -1e-9
        assert np.isfinite(p) and 0 <= p <= 1 + 1e-9


@settings(max_examples=25, deadline=None)
@given(h=histories(), spend=st.floats(0.01, 1e6))
def test_clv_is_finite(h, spend):
    x, t_x, T, _ = h
    gg = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "v": 15.44})
    assert np.isfinite(gg.expected_spend(x, spend))
    for m in MODELS[:3]:
        clv = customer_lifetime_value(m, gg, x, t_x, T, spend, time=12, freq="D")
        det = discounted_expected_transactions(m, x, t_x, T, freq="D")
        assert np.isfinite(clv) and clv >= -1e-6
        assert np.isfinite(det) and det >= -1e-9


def test_pareto_nbd_quadrature_in_two_threads_equals_one_pass(monkeypatch):
    """Above two blocks of rows the Pareto/NBD integral's second half is computed in a helper thread: every
    row's numbers are the same, to the bit, as in one pass over all rows."""
    from ltvkit.models import pareto_nbd

    rng = np.random.default_rng(5)
    n = 3 * pareto_nbd._CHUNK + 17
    v_T = rng.uniform(0.01, 0.99, n)
    rows = (v_T, 1 - v_T, rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 2.0, n), rng.uniform(-0.5, 2.0, n))
    for need_grad in (False, True):
        monkeypatch.setattr(pareto_nbd, "_cores", lambda: 2)
        threaded = pareto_nbd._quadrature(*rows, 1.7, need_grad)
        monkeypatch.setattr(pareto_nbd, "_cores", lambda: 1)
        single = pareto_nbd._quadrature(*rows, 1.7, need_grad)
        assert threaded.shape == single.shape == (5 if need_grad else 1, n)
        assert np.all(np.isfinite(single))
        np.testing.assert_array_equal(threaded, single)
