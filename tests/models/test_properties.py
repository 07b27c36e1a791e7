"""Property-based checks: every output stays finite for extreme histories (frequency and T up to 10,000)."""

from __future__ import annotations

import numpy as np
import pytest
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
    for need_grad in (0, 1, 2):  # the value; with the gradient's moments; with the Hessian's too
        monkeypatch.setattr(pareto_nbd, "_cores", lambda: 2)
        threaded = pareto_nbd._quadrature(*rows, 1.7, need_grad)
        monkeypatch.setattr(pareto_nbd, "_cores", lambda: 1)
        single = pareto_nbd._quadrature(*rows, 1.7, need_grad)
        assert threaded.shape == single.shape == ((1, 5, 15)[need_grad], n)
        assert np.all(np.isfinite(single))
        np.testing.assert_array_equal(threaded, single)


def _pareto_rows(rng, n):
    x = rng.poisson(2.0, n).astype(float)
    x[:5] = [0, 0, 3, 40, 1]
    T = rng.uniform(0.5, 120.0, n)
    T[:5] = [0.0, 30.0, 50.0, 100.0, 7.0]
    t_x = np.where(x > 0, T * rng.uniform(0, 1, n), 0.0)
    t_x[2], t_x[4] = 50.0, 7.0  # the last purchase at T: an empty integration range
    return x, t_x, T


@settings(max_examples=20, deadline=None)
@given(r=st.floats(0.05, 5.0), alpha=st.floats(0.5, 200.0), s=st.floats(0.05, 2.9), beta=st.floats(0.5, 200.0))
def test_pareto_nbd_exact_hessian_equals_differences_of_its_gradient(r, alpha, s, beta):
    """The weighted sum of the rows' Hessians (quadrature moments, logaddexp mixing) against central
    differences of the analytic gradient, on rows with no repeat purchase, with T = 0, and with t_x = T."""
    rng = np.random.default_rng(3)
    x, t_x, T = _pareto_rows(rng, 400)
    m = ParetoNBDModel()
    data = m._prepare((x, t_x, T))
    w = rng.uniform(0.5, 3.0, len(x))
    p = np.array([r, alpha, s, beta])
    ll, g, h = m._loglik_grad_hess(p, data, w)
    ll0, g0 = m._loglik_grad(p, data)
    np.testing.assert_array_equal(ll, ll0)
    np.testing.assert_array_equal(g, g0)
    fd = np.empty((4, 4))
    for i in range(4):
        step = 1e-6 * p[i]
        up, down = p.copy(), p.copy()
        up[i] += step
        down[i] -= step
        fd[i] = (w @ m._loglik_grad(up, data)[1] - w @ m._loglik_grad(down, data)[1]) / (2 * step)
    np.testing.assert_allclose(h, h.T)
    # to the quadrature's accuracy: the Hessian is the exact integral's, the differences the rule's
    np.testing.assert_allclose(h, fd, rtol=2e-3, atol=2e-3 * np.abs(fd).max())


def test_pareto_nbd_fit_with_the_exact_hessian_reaches_the_same_optimum():
    """Newton steps with the exact Hessian and its standard errors against the quasi-Newton steps and
    finite-difference standard errors of the other models: the same optimum and log-likelihood, standard
    errors equal to the differences' accuracy."""
    class QuasiNewton(ParetoNBDModel):
        _has_hessian = False

    truth = ParetoNBDModel.from_params({"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7})
    sim = truth.simulate(np.random.default_rng(8).uniform(10, 80, 6000), random_state=9)
    cols = (sim["frequency"], sim["recency"].round(1), sim["T"].round(1))
    exact, quasi = ParetoNBDModel().fit(*cols), QuasiNewton().fit(*cols)
    assert exact.n_unique_rows_ > ParetoNBDModel._subsample_above  # the warm start, then Newton on all rows
    np.testing.assert_allclose(exact.params_, quasi.params_, rtol=1e-6)
    assert exact.log_likelihood_ == pytest.approx(quasi.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(exact.standard_errors_, quasi.standard_errors_, rtol=1e-3)
    assert np.all(exact.standard_errors_ > 0)


@pytest.mark.parametrize("Model", [BetaGeoModel, ModifiedBetaGeoModel])
def test_predictions_at_the_poisson_boundary_are_numbers_and_continuous(Model):
    """Regular buyers drive (M)BG/NBD's fit to r, alpha -> infinity with r/alpha fixed (no rate heterogeneity);
    scipy's 2F1 gives no number there, so the expectation takes its limit (Kummer's 1F1). It must be finite and
    join the finite-r values: the gap to r = 1e10 shrinks like 1/r."""
    x = np.array([0.0, 1, 3, 8, 20])
    t_x = np.array([0.0, 30, 100, 200, 300])
    T = np.array([65.0, 100, 200, 300, 310])

    def expected(r):
        m = Model.from_params({"r": r, "alpha": r * 41.9, "a": 0.62, "b": 2.57})
        return np.asarray(m.expected_purchases(181.0, x, t_x, T), dtype=float)

    limit = expected(1e10)
    assert np.isfinite(limit).all()
    gaps = [np.max(np.abs(expected(r) / limit - 1)) for r in (1e3, 3e4, 1e6)]
    assert gaps[0] < 2e-2 and gaps[1] < 1e-3 and gaps[2] < 1e-4
    assert gaps[0] > gaps[1] > gaps[2]
