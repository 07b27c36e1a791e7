"""Synthetic Japanese mall shops with known truth, and writers into the real export formats.

>>> from ltvkit.synth import generate_shop
>>> shop = generate_shop(customers=100, seed=0)
>>> sorted(shop.truth["type"].unique())
['loyal', 'point_driven']
"""

from __future__ import annotations

from .generator import DEFAULT_PARAMS, MALLS, generate_shop
from .response import Effect, ResponseResult, simulate_experiment, simulate_response
from .shop import LINE_COLUMNS, SyntheticShop
from .writers import (
    EXPORT_FORMATS,
    write_export,
    write_generic_parquet,
    write_rakuten_csv,
    write_shopify_csv,
    write_yahoo_csv,
)

__all__ = [
    "DEFAULT_PARAMS",
    "EXPORT_FORMATS",
    "Effect",
    "LINE_COLUMNS",
    "MALLS",
    "ResponseResult",
    "SyntheticShop",
    "generate_shop",
    "simulate_experiment",
    "simulate_response",
    "write_export",
    "write_generic_parquet",
    "write_rakuten_csv",
    "write_shopify_csv",
    "write_yahoo_csv",
]
