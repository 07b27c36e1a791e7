"""The rule the Spark conformance tests compare --json output by catches differences (and only those)."""

import pytest

from ltvkit.testing.conformance import assert_same_json as assert_same
from ltvkit.testing.conformance import normalise_json as _normal


def test_the_comparison_itself_catches_differences():
    assert_same(_normal([{"a": 1, "b": 0.5}, {"a": 2, "b": None}]), _normal([{"a": 2, "b": None}, {"a": 1, "b": 0.5}]))
    assert_same({"x": 3.0, "y": float("nan")}, {"x": 3, "y": float("nan")})
    for a, b in (({"x": 1}, {"x": 2}), ({"x": 1.0}, {"x": 1.0 + 1e-6}), ({"x": 0}, {"x": None}), ({"x": 0.0}, {"x": float("nan")}),
                 ([{"a": 1}], [{"a": 1}, {"a": 1}]), ({"x": 1}, {"y": 1}), ({"x": "a"}, {"x": "b"})):
        with pytest.raises(AssertionError):
            assert_same(_normal(a), _normal(b))


def test_rows_whose_floats_differ_in_the_last_bits_still_line_up():
    a = [{"w": 1, "x": 0.30000000000000004}, {"w": 2, "x": 0.3}]
    b = [{"w": 2, "x": 0.30000000000000004}, {"w": 1, "x": 0.3}]
    assert_same(_normal(a), _normal(b))
    with pytest.raises(AssertionError):
        assert_same(_normal(a), _normal([{"w": 1, "x": 0.3}, {"w": 3, "x": 0.3}]))
