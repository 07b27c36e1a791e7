"""What "the same answer on two engines" means for a command's ``--json`` output (tests/spark, bench/engines.py).

Integers compare exactly, floats to a relative tolerance (an integral float equals the same integer, NaN equals
NaN), rows (lists of objects) in any order (ordered by their values with floats rounded, so that noise in the
last bits does not reorder them); keys that hold seconds a step took are left out.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["TIMING_KEYS", "assert_same_json", "normalise_json"]

TIMING_KEYS = frozenset({"fit_seconds", "score_seconds"})


def normalise_json(value: Any) -> Any:
    """``value`` with rows in a canonical order and the timing keys dropped."""
    if isinstance(value, dict):
        return {k: normalise_json(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        items = [normalise_json(v) for v in value]
        if items and all(isinstance(v, dict) for v in items):
            return sorted(items, key=lambda v: json.dumps(_rounded(v), sort_keys=True, default=str))
        return items
    return value


def _rounded(value: Any) -> Any:
    """Floats to 8 significant digits, for ordering rows only: noise in the last bits must not reorder them."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.8g}")
    return value


def assert_same_json(a: Any, b: Any, *, rel: float = 1e-9, path: str = "$") -> None:
    """Raise AssertionError naming the first place where two normalised JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            raise AssertionError(f"{path}: keys differ {sorted(a.keys() ^ b.keys())}")
        for k in a:
            assert_same_json(a[k], b[k], rel=rel, path=f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise AssertionError(f"{path}: {len(a)} rows vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_json(x, y, rel=rel, path=f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) \
            or not isinstance(b, (int, float)):
        if a != b:
            raise AssertionError(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, int) and isinstance(b, int):
        if a != b:
            raise AssertionError(f"{path}: {a} != {b}")
    elif math.isnan(a) or math.isnan(b):
        if not (math.isnan(a) and math.isnan(b)):
            raise AssertionError(f"{path}: {a!r} != {b!r}")
    elif not math.isclose(a, b, rel_tol=rel, abs_tol=1e-12):
        raise AssertionError(f"{path}: {a!r} != {b!r}")
