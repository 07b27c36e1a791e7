"""Goals a benchmark prints and checks: the script exits 1 when it misses one or when its results and the peer's
differ, so a benchmark can fail.

Each script records its checks on one :class:`Goals` and ends with ``raise SystemExit(goals.finish())``:

* ``speed`` goals (ratios, seconds, memory) are what the script is for; ``--no-speed-goals`` still prints them
  but does not fail on them (for a small run that only checks the results on a busy machine);
* ``result`` checks (log-likelihoods, row counts, equal tables) always count.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

__all__ = ["Goals", "add_goal_arguments"]


def add_goal_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--no-speed-goals", action="store_true",
                    help="print the speed and memory goals but exit 0 when only they are missed (small runs)")


@dataclass
class _Check:
    kind: str  # "speed" or "result"
    what: str
    ok: bool
    detail: str


class Goals:
    """The goals and result checks of one benchmark run."""

    def __init__(self, args: argparse.Namespace | None = None) -> None:
        self.enforce_speed = not getattr(args, "no_speed_goals", False)
        self.checks: list[_Check] = []

    def check(self, what: str, ok: bool, detail: str, *, kind: str = "result") -> bool:
        self.checks.append(_Check(kind, what, bool(ok), detail))
        return bool(ok)

    def at_least(self, what: str, value: float | None, goal: float, *, unit: str = "", kind: str = "speed") -> bool:
        if value is None:
            return self.check(what, False, f"not measured (goal >= {goal:g}{unit})", kind=kind)
        return self.check(what, value >= goal, f"{value:.4g}{unit} (goal >= {goal:g}{unit})", kind=kind)

    def at_most(self, what: str, value: float | None, goal: float, *, unit: str = "", kind: str = "speed") -> bool:
        if value is None:
            return self.check(what, False, f"not measured (goal <= {goal:g}{unit})", kind=kind)
        return self.check(what, value <= goal, f"{value:.4g}{unit} (goal <= {goal:g}{unit})", kind=kind)

    def close(self, what: str, ours: float, peer: float | None, *, tol: float) -> bool:
        """A result of ltvkit and the peer's agree within ``tol`` (absolute)."""
        if peer is None:
            return self.check(what, False, "the peer gave no value")
        diff = ours - peer
        return self.check(what, abs(diff) <= tol, f"ltvkit {ours:.6g}, peer {peer:.6g}, difference {diff:+.3g} "
                                                  f"(tolerance {tol:.3g})")

    def equal(self, what: str, got: object, expected: object) -> bool:
        return self.check(what, got == expected, f"{got!r}, expected {expected!r}")

    def missed(self) -> list[_Check]:
        return [c for c in self.checks if not c.ok and (c.kind == "result" or self.enforce_speed)]

    def finish(self) -> int:
        """Print every check; return the exit status (1 when a counted check failed or nothing was checked)."""
        print("\ngoals and checks:")
        for c in self.checks:
            if c.ok:
                status = "met" if c.kind == "speed" else "ok"
            elif c.kind == "speed":
                status = "MISSED" if self.enforce_speed else "missed (not enforced)"
            else:
                status = "FAILED"
            print(f"  {status:<22} {c.what}: {c.detail}")
        missed = self.missed()
        if not self.checks:
            print("benchmark FAILED: nothing was checked")
            return 1
        if missed:
            print(f"benchmark FAILED: {len(missed)} of {len(self.checks)} checks failed")
            return 1
        print(f"benchmark passed: {len(self.checks)} checks")
        return 0
