"""The import's temporary directory (UTF-8 copies, staging database), and the removal of those a killed import left.

Each directory holds the id of the process that made it; a later import removes directories whose process is gone
(a SIGKILL leaves no chance to clean up, and a large export's copies take more room than the export itself).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["import_tempdir", "remove_abandoned"]

PREFIX = "ltv-import-"
_OWNER = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def remove_abandoned(parent: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove import directories in ``parent`` (default: the system temp directory) whose process has ended."""
    removed = []
    for path in Path(parent or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            pid = int((path / _OWNER).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours to judge: no owner recorded (or unreadable)
        if not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def import_tempdir() -> Iterator[Path]:
    """A fresh temporary directory for one import, removed afterwards; abandoned ones are removed first."""
    remove_abandoned()
    with tempfile.TemporaryDirectory(prefix=PREFIX) as tmp:
        (Path(tmp) / _OWNER).write_text(str(os.getpid()))
        yield Path(tmp)
