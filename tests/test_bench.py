"""The benchmarks never run here, but each one parses, answers --help, is listed in bench/README.md and ends
with its goals (so it can fail)."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))


def _goals_module():
    spec = importlib.util.spec_from_file_location("bench_goals", BENCH / "_goals.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 7


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_compiles_answers_help_and_checks_goals(script, tmp_path):
    py_compile.compile(str(script), cfile=str(tmp_path / "x.pyc"), doraise=True)
    text = script.read_text(encoding="utf-8")
    assert "Goals(args)" in text and "goals.finish()" in text, f"{script.name} never fails on its goals"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "usage:" in out.stdout and "--no-speed-goals" in out.stdout


def test_readme_lists_every_script_with_a_goal():
    text = (BENCH / "README.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        assert f"`{script.name}`" in text, f"bench/README.md does not list {script.name}"


def test_goals_exit_status(capsys):
    goals = _goals_module()

    def run(*checks, no_speed=False):
        g = goals.Goals(type("Args", (), {"no_speed_goals": no_speed})())
        for check in checks:
            check(g)
        return g.finish()

    def speed_met(g):
        return g.at_least("ratio", 25.0, 20.0, unit="x")

    def speed_missed(g):
        return g.at_least("ratio", 4.5, 20.0, unit="x")

    def ll_same(g):
        return g.close("LL", -100.0, -100.0 + 1e-6, tol=1e-3)

    def ll_differs(g):
        return g.close("LL", -100.0, -100.5, tol=1e-3)

    assert run(speed_met, ll_same) == 0
    assert run(speed_missed, ll_same) == 1
    assert run(speed_missed, ll_same, no_speed=True) == 0
    assert run(speed_met, ll_differs, no_speed=True) == 1
    assert run() == 1  # nothing checked is a failure
    assert run(lambda g: g.at_most("seconds", None, 60.0)) == 1  # a goal not measured is missed
    out = capsys.readouterr().out
    assert "MISSED" in out and "missed (not enforced)" in out and "FAILED" in out
