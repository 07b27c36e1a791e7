"""Temporary files of a killed import are removed by the next import; those of running imports are kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from ltvkit.ingest._tempdir import import_tempdir, remove_abandoned


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _import_dir(parent, name, owner=None):
    path = parent / f"ltv-import-{name}"
    path.mkdir()
    (path / "part.csv").write_text("x")
    if owner is not None:
        (path / "owner.pid").write_text(str(owner))
    return path


def test_only_directories_of_ended_processes_are_removed(tmp_path):
    dead = _import_dir(tmp_path, "dead", _dead_pid())
    live = _import_dir(tmp_path, "live", os.getpid())
    unknown = _import_dir(tmp_path, "unknown")  # no owner recorded: left alone
    other = tmp_path / "something-else"
    other.mkdir()
    assert remove_abandoned(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and unknown.exists() and other.exists()


def test_import_tempdir_cleans_up_before_and_after(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = _import_dir(tmp_path, "dead", _dead_pid())
    with import_tempdir() as tmp:
        assert not dead.exists()
        assert tmp.parent == tmp_path and (tmp / "owner.pid").read_text() == str(os.getpid())
    assert not tmp.exists()
