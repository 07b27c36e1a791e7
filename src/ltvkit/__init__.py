"""ltvkit: customer lifetime value for e-commerce shops.

Import mall order exports into one canonical order store (:class:`Workspace`), measure cohort LTV and point
dependence, predict CLV with buy-till-you-die models, and recommend what each customer needs next.
"""

from __future__ import annotations

from .exceptions import (
    ConvergenceError,
    InputError,
    LtvkitError,
    MappingError,
    MigrationError,
    MissingDataError,
    NotFittedError,
    StatisticalWarning,
    StoreError,
    UnknownFormatError,
)
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "InputError",
    "LtvkitError",
    "MappingError",
    "MigrationError",
    "MissingDataError",
    "NotFittedError",
    "StatisticalWarning",
    "StoreError",
    "UnknownFormatError",
    "Workspace",
]
