"""The memory-bounded path of ``ltv recommend`` (issue 21) gives exactly what the in-memory path gives: the history
coded from the engine's columns, the lists made a chunk of customers at a time and streamed into the workspace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp

from ltvkit import Workspace, pipeline
from ltvkit.recommend import NextBasketRecommender, PTopFreqRecommender
from ltvkit.recommend._data import aggregate_lines, encode, load_history, to_day
from ltvkit.recommend._select import _rows_only
from ltvkit.synth import generate_shop


@pytest.fixture(scope="module")
def shop():
    return generate_shop(2000, seed=1)


@pytest.fixture(scope="module")
def ws(shop):
    w = Workspace()
    w.append_order_lines(shop.order_lines)
    return w


@pytest.fixture(scope="module")
def fitted(ws, shop):
    return NextBasketRecommender().fit(ws.orders(), as_of=shop.observation_end)


def _assert_same_history(a, b):
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name


@pytest.mark.parametrize("as_of", [None, "2025-06-30"])
def test_engine_coded_history_is_the_pandas_coded_one(ws, as_of):
    end = None if as_of is None else to_day(as_of)
    frame = aggregate_lines(ws.orders(), end=end)
    reference = encode(frame, int(frame["day"].max()) if end is None else end)
    _assert_same_history(load_history(ws.orders(), as_of), reference)


@pytest.mark.parametrize("chunk", [1, 137, 2000, 5000])
def test_lists_by_chunks_are_the_lists_at_once(fitted, chunk):
    whole = fitted.recommend(k=5, lang="ja")
    tables = list(fitted.iter_recommend(5, lang="ja", chunk_customers=chunk))
    assert len(tables) == -(-fitted.n_customers_ // chunk)
    pd.testing.assert_frame_equal(pa.concat_tables(tables).to_pandas(), whole, check_exact=True)
    # and the same rows as the reference for a few customers asked by key
    some = list(fitted._customers[[5, fitted.n_customers_ - 1, 0]])
    pd.testing.assert_frame_equal(fitted.recommend(k=5, lang="ja", customers=some).reset_index(drop=True),
                                  whole[whole["customer_key"].isin(some)].sort_values(
                                      "customer_key", key=lambda c: c.map({k: i for i, k in enumerate(some)}),
                                      kind="stable").reset_index(drop=True), check_exact=True)


def test_streamed_store_holds_the_in_memory_lists(ws, shop, fitted):
    res = pipeline.recommendations(ws, shop.observation_end, k=5, lang="en", chunk_customers=300)
    stored = pipeline.recommendation_frame(res.data)
    pd.testing.assert_frame_equal(stored, fitted.recommend(k=5, lang="en"), check_exact=True)
    assert pipeline.recommendation_count(res.data) == len(stored)
    pd.testing.assert_frame_equal(pipeline.recommendation_frame(res.data, rows=7), stored.head(7))
    pd.testing.assert_frame_equal(ws.read_result("recommendations").to_pyarrow().to_pandas(), stored)


def test_a_failing_chunk_stores_nothing_and_raises_its_own_error(ws, fitted):
    def chunks():
        yield from fitted.iter_recommend(3, chunk_customers=500)
        raise KeyError("chunk went wrong")

    before = ws.table_names()
    with pytest.raises(KeyError, match="chunk went wrong"):
        ws.write_result("broken", chunks(), kind="test")
    assert not ws.has_result("broken") and ws.table_names() == before


def test_ptopfreq_lists_of_some_customers_are_their_rows_of_all(ws, shop):
    pt = PTopFreqRecommender().fit(ws.orders(), as_of=shop.observation_end)
    rows = np.array([3, 17, 400, 1500])
    for a, b in zip(pt._topk_of(rows, 10), pt._topk(10), strict=True):
        np.testing.assert_array_equal(a, b[rows])


def test_rows_only_keeps_the_rows_exactly_and_empties_the_rest():
    rng = np.random.default_rng(0)
    m = sp.random(50, 9, density=0.3, format="csr", dtype=np.float32, random_state=rng)
    m.indices = m.indices.copy()
    for r in range(50):  # unsorted column indices within rows: the kept rows keep their order
        sl = slice(m.indptr[r], m.indptr[r + 1])
        m.indices[sl], m.data[sl] = m.indices[sl][::-1].copy(), m.data[sl][::-1].copy()
    rows = np.array([0, 7, 8, 49])
    kept = _rows_only(m, rows)
    assert kept.shape == m.shape
    sub, ref = kept[rows], m[rows]
    np.testing.assert_array_equal(sub.indptr, ref.indptr)
    np.testing.assert_array_equal(sub.indices, ref.indices)
    np.testing.assert_array_equal(sub.data, ref.data)
    others = np.setdiff1d(np.arange(50), rows)
    assert kept[others].nnz == 0
