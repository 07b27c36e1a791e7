"""Every analytics command gives the same --json under --engine spark (PySpark local[2]) as under DuckDB.

Integers compare exactly, floats to 1e-9 relative, rows in any order; only the seconds a fit took may differ.
Each engine writes its runs to its own copy of the demo workspace, the commands in the same order, so the run
ids must agree too.
"""

from __future__ import annotations

import json
import math

import pytest

from ltvkit.cli import main

pytestmark = pytest.mark.spark

TIMINGS = {"fit_seconds", "score_seconds"}

COMMANDS = {
    "summary": ["summary"],
    "cohorts": ["cohorts"],
    "cohorts-campaign-months": ["cohorts", "--split", "campaign", "--period", "months", "--long"],
    "f2": ["f2"],
    "f2-golden": ["f2", "--golden"],
    "segments": ["segments"],
    "segments-cpm": ["segments", "--kind", "cpm"],
    "segments-pareto": ["segments", "--pareto"],
    "points": ["points"],
    "points-compare": ["points", "--compare"],
    "cac": ["cac", "--costs", "{costs}", "--profit-goal", "0.3"],
    "predict": ["predict"],
    "recommend": ["recommend", "--k", "3"],
}


def _normal(value):
    """Rows (lists of objects) in a canonical order, so that row order never decides equality."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        if items and all(isinstance(v, dict) for v in items):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    return value


def assert_same(a, b, path="$"):
    """Equal JSON: integers exact, floats to 1e-9 relative (an integral float equals the same integer)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys differ {sorted(a.keys() ^ b.keys())}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} rows vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) \
            or not isinstance(b, (int, float)):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, int) and isinstance(b, int):
        assert a == b, f"{path}: {a} != {b}"
    elif math.isnan(a) or math.isnan(b):
        assert math.isnan(a) and math.isnan(b), f"{path}: {a!r} != {b!r}"
    else:
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {a!r} != {b!r}"


def test_the_comparison_itself_catches_differences():
    assert_same(_normal([{"a": 1, "b": 0.5}, {"a": 2, "b": None}]), _normal([{"a": 2, "b": None}, {"a": 1, "b": 0.5}]))
    assert_same({"x": 3.0, "y": float("nan")}, {"x": 3, "y": float("nan")})
    for a, b in (({"x": 1}, {"x": 2}), ({"x": 1.0}, {"x": 1.0 + 1e-6}), ({"x": 0}, {"x": None}), ({"x": 0.0}, {"x": float("nan")}),
                 ([{"a": 1}], [{"a": 1}, {"a": 1}]), ({"x": 1}, {"y": 1}), ({"x": "a"}, {"x": "b"})):
        with pytest.raises(AssertionError):
            assert_same(_normal(a), _normal(b))


def _run(capsys, args):
    capsys.readouterr()
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_json_is_the_same_on_spark(name, capsys, spark_env, demo_shop, engine_workspaces):
    args = [a.format(costs=demo_shop["costs"]) for a in COMMANDS[name]]
    duck = _run(capsys, [*args, "--workspace", str(engine_workspaces["duckdb"]), "--json"])
    spark = _run(capsys, [*args, "--workspace", str(engine_workspaces["spark"]), "--json", "--engine", "spark"])
    assert duck, "the command printed nothing to compare"
    assert_same(_normal(duck), _normal(spark))
