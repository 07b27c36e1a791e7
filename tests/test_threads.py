"""ltvkit._threads.Ahead: items made by a helper thread ahead of the reader (the outbox insert, the scoring)."""

from __future__ import annotations

import threading
import time

import pytest

from ltvkit._threads import Ahead


def test_items_come_in_order_and_the_thread_ends():
    made = []

    def source():
        for i in range(10):
            made.append(i)
            yield i

    with Ahead(source(), depth=2) as items:
        assert list(items) == list(range(10))
        assert next(items, "done") == "done"
    assert made == list(range(10))
    assert not items._thread.is_alive()


def test_the_thread_starts_at_once_and_stays_at_most_depth_items_ahead():
    made = []
    started = threading.Event()

    def source():
        started.set()
        for i in range(100):
            made.append(i)
            yield i

    items = Ahead(source(), depth=3)
    assert started.wait(5)  # before anything was read
    time.sleep(0.2)
    assert len(made) <= 3 + 1  # the queue's items and the one waiting to be put
    assert next(items) == 0
    items.close()
    assert not items._thread.is_alive() and len(made) < 100


def test_an_error_of_the_source_is_raised_to_the_reader_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise ValueError("broken on purpose")

    items = Ahead(source())
    assert next(items) == 1 and next(items) == 2
    with pytest.raises(ValueError, match="broken on purpose"):
        next(items)
    with pytest.raises(StopIteration):
        next(items)
    items.close()


def test_closing_an_unread_ahead_stops_a_thread_blocked_on_its_full_queue():
    items = Ahead(iter(range(1_000_000)), depth=1)
    time.sleep(0.1)
    items.close()
    assert not items._thread.is_alive()
