"""lifetimes.plotting: the diagnostic plots lifetimes users rely on, drawn with matplotlib (``ltvkit[plot]``).

Each function draws on ``ax`` (default: the current axes) and returns it, as lifetimes' functions do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...exceptions import InputError

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError("The lifetimes plots need matplotlib: pip install 'ltvkit[plot]'.") from None
    return plt


def _axes(ax: Any) -> Any:
    return ax if ax is not None else _pyplot().gca()


def _fitted_data(model: Any) -> pd.DataFrame:
    data = getattr(model, "data", None)
    if data is None:
        raise InputError("Fit the model first (model.fit(frequency, recency, T)); the plot reads its data.")
    return data


def plot_period_transactions(model: Any, max_frequency: int = 7, title: str = "Frequency of Repeat Transactions",
                             xlabel: str = "Number of Calibration Period Transactions",
                             ylabel: str = "Customers", ax: Any = None, random_state: int | None = 0,
                             **kwargs: Any) -> Any:
    """Customers by number of repeat transactions: actual beside customers simulated from the fitted model
    with the same ages ``T`` (counts of ``max_frequency`` or more share the last bar)."""
    ax = _axes(ax)
    data = _fitted_data(model)
    simulated = model.simulate(data["T"].to_numpy(dtype=float), random_state=random_state)

    def counts(freq: Any) -> np.ndarray:
        f = np.minimum(np.asarray(freq, dtype=int), max_frequency)
        return np.bincount(f, minlength=max_frequency + 1)[: max_frequency + 1]

    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    table = pd.DataFrame({"Actual": counts(data["frequency"]), "Model": counts(simulated["frequency"])},
                         index=labels)
    table.plot(kind="bar", ax=ax, rot=0, **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _grid(fn: Any, max_frequency: int, max_recency: int) -> np.ndarray:
    """``fn(frequency, recency, T=max_recency)`` for recency rows and frequency columns; cells that no customer
    can have (no repeat purchase but a positive recency) are left empty (NaN)."""
    r, f = np.meshgrid(np.arange(max_recency + 1, dtype=float), np.arange(max_frequency + 1, dtype=float),
                       indexing="ij")
    ok = (f > 0) | (r == 0)
    z = np.full(r.shape, np.nan)
    z[ok] = np.asarray(fn(f[ok], r[ok], np.full(int(ok.sum()), float(max_recency))), dtype=float)
    return z


def _matrix_plot(z: np.ndarray, ax: Any, title: str, xlabel: str, ylabel: str, **kwargs: Any) -> Any:
    ax = _axes(ax)
    kwargs.setdefault("cmap", "viridis")
    image = ax.imshow(z, aspect="auto", **kwargs)
    ax.figure.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_frequency_recency_matrix(model: Any, T: float = 1, max_frequency: int | None = None,
                                  max_recency: int | None = None, title: str | None = None,
                                  xlabel: str = "Customer's Historical Frequency",
                                  ylabel: str = "Customer's Recency", ax: Any = None, **kwargs: Any) -> Any:
    """Expected purchases in the next ``T`` periods of a customer aged ``max_recency`` (default: the oldest
    customer's ``T``), by recency (rows) and frequency (columns)."""
    data = _fitted_data(model)
    max_frequency = int(max_frequency or data["frequency"].max())
    max_recency = int(max_recency or data["T"].max())
    z = _grid(lambda f, r, age: model.conditional_expected_number_of_purchases_up_to_time(T, f, r, age),
              max_frequency, max_recency)
    title = title or f"Expected Number of Future Purchases for {T} Unit{'s' if T != 1 else ''} of Time,\n" \
                     "by Frequency and Recency of a Customer"
    return _matrix_plot(z, ax, title, xlabel, ylabel, **kwargs)


def plot_probability_alive_matrix(model: Any, max_frequency: int | None = None, max_recency: int | None = None,
                                  title: str = "Probability Customer is Alive,\nby Frequency and Recency of a Customer",
                                  xlabel: str = "Customer's Historical Frequency",
                                  ylabel: str = "Customer's Recency", ax: Any = None, **kwargs: Any) -> Any:
    """P(alive) of a customer aged ``max_recency`` by recency (rows) and frequency (columns)."""
    z = model.conditional_probability_alive_matrix(max_frequency, max_recency)
    return _matrix_plot(z, ax, title, xlabel, ylabel, **kwargs)


def plot_calibration_purchases_vs_holdout_purchases(model: Any, calibration_holdout_matrix: pd.DataFrame,
                                                    kind: str = "frequency_cal", n: int = 7, ax: Any = None,
                                                    **kwargs: Any) -> Any:
    """Mean holdout purchases, actual and predicted, by calibration frequency (capped at ``n``).

    ``calibration_holdout_matrix`` is :func:`~ltvkit.compat.lifetimes.utils.calibration_and_holdout_data`'s
    output; ``kind`` is the column to group by (``frequency_cal``, ``recency_cal`` or ``T_cal``).
    """
    ax = _axes(ax)
    m = calibration_holdout_matrix
    if kind not in m.columns:
        raise InputError(f"kind must be a column of the calibration/holdout data, such as frequency_cal; not {kind!r}.")
    predicted = model.conditional_expected_number_of_purchases_up_to_time(
        m["duration_holdout"].to_numpy(dtype=float), m["frequency_cal"].to_numpy(dtype=float),
        m["recency_cal"].to_numpy(dtype=float), m["T_cal"].to_numpy(dtype=float))
    frame = pd.DataFrame({"frequency_holdout": m["frequency_holdout"].to_numpy(dtype=float),
                          "model_predictions": np.asarray(predicted, dtype=float),
                          kind: np.minimum(m[kind].to_numpy(dtype=float), n)})
    means = frame.groupby(kind)[["frequency_holdout", "model_predictions"]].mean()
    means.plot(ax=ax, **kwargs)
    ax.set_title("Actual Purchases in Holdout Period vs Predicted Purchases")
    ax.set_xlabel(f"Purchases in calibration period ({kind})")
    ax.set_ylabel("Average of Purchases in Holdout Period")
    ax.legend()
    return ax


def plot_history_alive(model: Any, t: int, transactions: pd.DataFrame, datetime_col: str, freq: str = "D",
                       start_date: Any = None, ax: Any = None, title: str = "History of P_alive",
                       xlabel: str = "date", ylabel: str = "P_alive", **kwargs: Any) -> Any:
    """One customer's probability of being alive over the ``t`` periods from ``start_date`` (default: the first
    transaction), with a dashed line at each purchase period. ``transactions`` holds that customer's rows."""
    ax = _axes(ax)
    if transactions.empty:
        raise InputError("plot_history_alive needs at least one transaction of the customer.")
    dates = pd.to_datetime(transactions[datetime_col])
    start = pd.Timestamp(start_date) if start_date is not None else dates.min()
    periods = pd.period_range(start=start, periods=int(t), freq=freq)
    origin = periods[0]
    # purchase periods as whole periods from the first one plotted; the customer's history up to each period
    bought = np.unique([(p - origin).n for p in dates.dt.to_period(freq)])
    steps = np.arange(len(periods))
    n_seen = np.searchsorted(bought, steps, side="right")
    seen = n_seen > 0
    first = bought[0] if len(bought) else 0
    last = bought[np.maximum(n_seen - 1, 0)] if len(bought) else steps * 0
    p_alive = np.full(len(periods), np.nan)
    if seen.any():
        p_alive[seen] = np.asarray(model.conditional_probability_alive(
            (n_seen[seen] - 1).astype(float), (last[seen] - first).astype(float),
            (steps[seen] - first).astype(float)), dtype=float)
    x = periods.to_timestamp()
    ax.plot(x, p_alive, **kwargs)
    for k in bought:
        if 0 <= k < len(periods):
            ax.axvline(x[k], color="black", linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
