"""Defaults that both :mod:`ltvkit.config` and :mod:`ltvkit.i18n` need, in a leaf module (it imports nothing), so
that neither has to import the other."""

from __future__ import annotations

DEFAULT_TIMEZONE = "Asia/Tokyo"
"""The shop's time zone when none is set (``LTV_TIMEZONE``): Japan."""
