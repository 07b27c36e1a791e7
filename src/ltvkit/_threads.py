"""One helper thread that makes the items of an iterator ahead of the thread that uses them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any


class Ahead:
    """The items of ``source``, made by a helper thread (started at once) up to ``depth`` items ahead of the
    reader. An error of ``source`` is raised to the reader, in order; :meth:`close` (also on leaving a ``with``
    block) stops the thread, whether or not every item was read.

    Worth it where ``source`` and the reader both do work that leaves the interpreter lock (numpy, a database
    driver): on two cores they then overlap.
    """

    def __init__(self, source: Iterator[Any], depth: int = 2, name: str = "ltvkit-ahead") -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._produce, args=(source,), name=name, daemon=True)
        self._thread.start()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                if not self._put(("item", item)):
                    return
        except BaseException as exc:  # handed to the reader, raised there
            self._put(("error", exc))
            return
        self._put(("end", None))

    def __iter__(self) -> Ahead:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "item":
            return value
        self._done = True
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        self._done = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
