"""Seasonality of repeat buying, and the operational time that carries it into BTYD predictions.

The BTYD models buy on a clock that runs at a constant pace. A shop's repeat buying does not: it rises in mall
campaigns (Super SALE, お買い物マラソン, 5と0のつく日), on some weekdays and in some months. :class:`SeasonalProfile`
fits a Poisson regression of the daily number of customers with a repeat purchase on the customers acquired before
that day (the exposure), a smooth trend (the base ageing and growing), weekday, campaign covariates
(:func:`ltvkit.features.seasonality.calendar_covariates`) and, with two years of history or more, month of year::

    log E[repeat_d] = log exposure_d + b0 + b1 u + b2 u^2 + weekday_d + campaign_d' g + month_d

(``u`` the time in years). The seasonal intensity of a day, ``s(d) = exp(weekday_d + campaign_d' g + month_d)``,
leaves the trend out. A model fitted on calendar time predicts the purchases of ``t`` days after a date as if at the
average pace of the recent past; :meth:`SeasonalProfile.operational` turns ``t`` into the operational time
``tau(t) = sum of s(d) over the t days / mean of s(d) over the reference period before`` (the last 365 days), which
is what the model's clock would show, and the model is asked for ``tau(t)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceError, InputError

__all__ = ["SeasonalProfile"]


class SeasonalProfile:
    """Daily seasonal intensity of repeat buying (Poisson regression with exposure).

    Parameters
    ----------
    months : bool or None, default None
        Month-of-year effects; ``None``: when the series spans at least 730 days (two of each month).
    reference_days : int, default 365
        Days before the start of a prediction whose mean intensity the fitted BTYD rates stand for.

    Attributes
    ----------
    coef_ : pandas.Series
        The coefficients (``intercept``, ``trend``, ``trend2``, ``weekday_1..6``, one per covariate, ``month_2..12``).
    std_err_ : pandas.Series
        Their standard errors (from the Fisher information).
    covariates_ : list of str
        Campaign covariate columns used.
    """

    def __init__(self, months: bool | None = None, reference_days: int = 365) -> None:
        self.months = months
        self.reference_days = int(reference_days)

    def _design(self, days: pd.DatetimeIndex, cov: pd.DataFrame) -> np.ndarray:
        u = (days - self.origin_).days.to_numpy(float) / 365.25
        cols = [np.ones(len(days)), u, u * u]
        wd = days.dayofweek.to_numpy()
        cols += [(wd == k).astype(float) for k in range(1, 7)]
        cols += [cov[c].to_numpy(float) if c in cov.columns else np.zeros(len(days)) for c in self.covariates_]
        if self.months_:
            mo = days.month.to_numpy()
            cols += [(mo == k).astype(float) for k in range(2, 13)]
        return np.column_stack(cols)

    def fit(self, series: pd.DataFrame, covariates: pd.DataFrame | None = None) -> SeasonalProfile:
        """Fit on :func:`~ltvkit.features.seasonality.daily_repeat_series` (``day``, ``repeat``, ``exposure``)
        and its :func:`~ltvkit.features.seasonality.calendar_covariates` (indexed by day)."""
        frame = series[series["exposure"] > 0]
        if len(frame) < 56 or frame["repeat"].sum() < 100:
            raise InputError("Seasonality needs at least 8 weeks of days with customers and 100 repeat purchase "
                             "days; there are too few.")
        days = pd.DatetimeIndex(pd.to_datetime(frame["day"]))
        cov = (covariates.reindex(days, fill_value=0.0) if covariates is not None
               else pd.DataFrame(index=days))
        self.origin_ = days.min()
        span = (days.max() - days.min()).days + 1
        self.months_ = bool(span >= 730) if self.months is None else bool(self.months)
        # a covariate that never varies cannot be estimated
        self.covariates_ = [c for c in cov.columns if float(cov[c].std()) > 1e-9]
        X = self._design(days, cov)
        y = frame["repeat"].to_numpy(float)
        offset = np.log(frame["exposure"].to_numpy(float))
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(max(y.sum(), 1e-9) / np.exp(offset).sum())
        for _ in range(100):  # Newton (IRLS) on the Poisson log-likelihood
            eta = np.clip(offset + X @ beta, -700, 700)
            mu = np.exp(eta)
            info = X.T @ (X * mu[:, None])
            step = np.linalg.lstsq(info, X.T @ (y - mu), rcond=None)[0]
            beta += step
            if not np.isfinite(beta).all():
                raise ConvergenceError("The seasonal profile did not converge (the daily counts leave a "
                                       "coefficient without bound); predictions go without seasonality.")
            if np.max(np.abs(step)) < 1e-10:
                break
        names = ["intercept", "trend", "trend2", *(f"weekday_{k}" for k in range(1, 7)), *self.covariates_,
                 *((f"month_{k}" for k in range(2, 13)) if self.months_ else ())]
        mu = np.exp(np.clip(offset + X @ beta, -700, 700))
        cov_beta = np.linalg.pinv(X.T @ (X * mu[:, None]))
        self.coef_ = pd.Series(beta, index=names)
        self.std_err_ = pd.Series(np.sqrt(np.clip(np.diag(cov_beta), 0, None)), index=names)
        self.n_days_ = int(len(frame))
        return self

    def intensity(self, days: Any, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """``s(d)``: the seasonal intensity of each day (weekday, campaigns, month; no trend, no intercept)."""
        idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(days))).normalize()
        cov = (covariates.reindex(idx, fill_value=0.0) if covariates is not None
               else pd.DataFrame(index=idx))
        X = self._design(idx, cov)
        beta = self.coef_.to_numpy().copy()
        beta[:3] = 0.0
        return np.exp(X @ beta)

    def operational(self, start: dt.date, horizons: Any, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """Operational time of each horizon (days after ``start``): the seasonal intensity summed over those days
        over its mean in the ``reference_days`` before ``start``; fractional days are interpolated. A horizon of
        ``t`` days at the reference period's average pace stays ``t``."""
        h = np.asarray(horizons, dtype=float)
        if h.size and (not np.isfinite(h).all() or (h < 0).any()):
            raise InputError("Horizons must be non-negative numbers of days.")
        start_ts = pd.Timestamp(start)
        n_ahead = int(np.ceil(h.max())) if h.size else 0
        ref = pd.date_range(start_ts - pd.Timedelta(days=self.reference_days - 1), start_ts, freq="D")
        ahead = pd.date_range(start_ts + pd.Timedelta(days=1), periods=max(n_ahead, 1), freq="D")
        s_ref = self.intensity(ref, covariates)
        s_ahead = self.intensity(ahead, covariates) / s_ref.mean()
        cum = np.concatenate([[0.0], np.cumsum(s_ahead)])
        return np.interp(h, np.arange(len(cum), dtype=float), cum)
