"""Section builders: each is ``(workspace, settings) -> Section | None`` and independent of the others.

Builders only read: each result comes from :mod:`ltvkit.pipeline` (stored, or computed and stored when missing).
A builder returns ``None`` (or raises MissingDataError) when the workspace lacks what it needs; the report then
lists the analysis as not available yet.
"""

from __future__ import annotations

from . import cac, cohorts, crm_results, f2, kpi, ltvlab, points, predictive, recommend, segments

__all__ = ["BUILDERS"]

BUILDERS = (
    ("kpi", kpi.build),
    ("cohorts", cohorts.build),
    ("f2", f2.build),
    ("segments", segments.build),
    ("points", points.build),
    ("cac", cac.build),
    ("predictive", predictive.build),
    ("recommend", recommend.build),
    ("ltvlab", ltvlab.build),
    ("crm_results", crm_results.build),
)
