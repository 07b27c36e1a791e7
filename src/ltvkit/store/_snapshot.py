"""A private, read-side copy of a workspace for long-running readers (``ltv serve``).

DuckDB lets one process write a file at a time, and a writer (``ltv import``, a pipeline run) shuts every other
process out for as long as it holds the file. A server that opened the file on each request would fail while an
import runs, and a server that kept it open would stop every import. :class:`WorkspaceSnapshot` does neither:
it copies the file while nobody writes (holding a read lock only for the copy), reads the copy, and when the file
has changed and is free again copies it anew. While a writer holds the file, readers keep the last committed
state; an import or pipeline run never waits on the server for longer than one copy.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ..exceptions import StoreError
from ._workspace import Workspace, engine_error_key

__all__ = ["WorkspaceSnapshot"]


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    wal = path.with_name(path.name + ".wal")
    return st.st_mtime_ns, st.st_size, wal.stat().st_mtime_ns if wal.exists() else 0


class WorkspaceSnapshot:
    """Read a workspace through a private copy refreshed whenever the file changed and no writer holds it.

    Parameters
    ----------
    path
        The workspace file.
    wait_s
        How long the first :meth:`read` waits for a writer to let go when there is no copy yet.
    check_every_s
        How often (at most) a read looks at the file for changes.

    Use :meth:`read` as a context manager: readers of one snapshot take turns (one DuckDB connection).
    """

    def __init__(self, path: str | Path, *, wait_s: float = 10.0, check_every_s: float = 0.5) -> None:
        self.path = Path(path)
        self.wait_s = wait_s
        self.check_every_s = check_every_s
        self._dir = Path(tempfile.mkdtemp(prefix="ltv-snapshot-"))
        self._lock = threading.RLock()
        self._ws: Workspace | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._serial = itertools.count(1)
        self.copies = 0  # copies made
        self.busy = 0  # times the file had changed but a writer held it (the last copy was read instead)
        self.copied_at: float | None = None

    def _copy(self) -> bool:
        """Copy the file under a read lock; ``False`` when a writer holds it."""
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            if engine_error_key(str(exc)) == "err.workspace_locked":
                self.busy += 1
                return False
            raise StoreError(key=engine_error_key(str(exc)), path=str(self.path), detail=str(exc)) from exc
        try:
            stamp = _stamp(self.path)
            n = next(self._serial)
            folder = self._dir / str(n)
            folder.mkdir()
            target = folder / self.path.name
            shutil.copyfile(self.path, target)
            wal = self.path.with_name(self.path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        finally:
            con.close()
        toml = self.path.with_name("ltv.toml")  # the settings beside the file go with it
        if toml.exists():
            shutil.copyfile(toml, folder / "ltv.toml")
        ws = Workspace(target)
        old, self._ws, self._stamp = self._ws, ws, stamp
        self.copies += 1
        self.copied_at = time.time()
        if old is not None:
            old.close()
            assert old.path is not None
            shutil.rmtree(old.path.parent, ignore_errors=True)
        return True

    def refresh(self) -> None:
        """Copy the file again when it changed since the last copy and no writer holds it now."""
        with self._lock:
            now = time.monotonic()
            if self._ws is not None and now - self._checked < self.check_every_s:
                return
            self._checked = now
            if not self.path.exists():
                raise StoreError(key="err.no_workspace", path=str(self.path))
            if self._ws is not None and _stamp(self.path) == self._stamp:
                return
            if self._copy() or self._ws is not None:
                return
            end = time.monotonic() + self.wait_s
            while time.monotonic() < end:
                time.sleep(0.1)
                if self._copy():
                    return
            raise StoreError(key="err.workspace_locked", path=str(self.path), detail="")

    @contextmanager
    def read(self) -> Iterator[Workspace]:
        """The latest copy, for the duration of the ``with`` block (readers take turns)."""
        with self._lock:
            self.refresh()
            assert self._ws is not None
            yield self._ws

    def close(self) -> None:
        with self._lock:
            if self._ws is not None:
                self._ws.close()
                self._ws = None
            shutil.rmtree(self._dir, ignore_errors=True)
