"""MBG/NBD: the modified BG/NBD model (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from typing import ClassVar

from .beta_geo import BetaGeoModel

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase.

    So customers with no repeat purchase can be inactive, which avoids BG/NBD's P(alive) = 1 for them.
    Parameters, attributes and methods are those of :class:`BetaGeoModel`.

    Examples
    --------
    >>> from ltvkit.models import ModifiedBetaGeoModel
    >>> m = ModifiedBetaGeoModel.from_params({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
    >>> float(m.p_alive(0, 0, 38.9)) < 1
    True

    References
    ----------
    Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison of models for
    customer base analysis. International Journal of Research in Marketing, 24(3), 201-209.
    """

    _shift: ClassVar[int] = 1
