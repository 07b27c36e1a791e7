"""Small helpers shared by the section builders (they read results; the pipeline computes them)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import ibis

from ... import pipeline

if TYPE_CHECKING:
    import pandas as pd

    from ...store import Workspace
    from ..data import ReportSettings


def as_of(ws: Workspace, settings: ReportSettings) -> dt.date:
    """The analysis date: the settings' ``as_of``, else the pipeline's rule (the last valid order date); resolved
    once per report build (every section asks for it)."""
    return cached(settings, ("as_of", settings.as_of), lambda: pipeline.resolve_as_of(ws, settings.as_of))


def reuse(settings: ReportSettings) -> dict[str, Any]:
    """Keyword arguments of a pipeline call from the report: read what is stored, compute only when allowed."""
    return {"reuse": True, "compute": settings.compute_missing}


def margin(settings: ReportSettings) -> dict[str, Any]:
    """The margin settings of the report (``ltv report --margin-config``) for the pipeline calls that take them."""
    return {"settings": settings.margin}


def table_of(ws: Workspace, result: pipeline.Result) -> ibis.Table:
    """A pipeline result as an Ibis table of the workspace: the stored run's rows, or a temporary table of a frame
    computed without storing (read-only workspace)."""
    if isinstance(result.data, ibis.Table):
        return result.data
    if result.run is not None:
        return ws.read_result(result.name, run_id=result.run.run_id)
    return ws.temp_table(f"_report_{result.name}", result.data)


def weighted_mean(values: pd.Series, weights: pd.Series) -> float | None:
    ok = values.notna() & weights.notna()
    w = weights[ok].astype(float)
    if not ok.any() or w.sum() <= 0:
        return None
    return float((values[ok].astype(float) * w).sum() / w.sum())


def cached(settings: ReportSettings, key: Any, compute: Any) -> Any:
    """``compute()`` once per report build (builders share results such as the cohort summary)."""
    if key not in settings.cache:
        settings.cache[key] = compute()
    return settings.cache[key]


def cohort_summary(ws: Workspace, settings: ReportSettings, day: dt.date) -> pd.DataFrame | None:
    """The monthly cohort summary (12/24-month LTV) shared by the KPI and cohort sections."""
    def read() -> pd.DataFrame | None:
        res = pipeline.cohort_summary_result(ws, day, by="month", **reuse(settings), **margin(settings))
        return None if res is None else res.data

    return cached(settings, ("cohort_summary", day), read)


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with DECIMAL columns (sums read back from DuckDB) as floats."""
    import decimal

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            first = out[col].dropna().head(1)
            if len(first) and isinstance(first.iloc[0], decimal.Decimal):
                out[col] = out[col].astype(float)
    return out
