from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def sim_shop():
    from recsim import simulate_shop

    return simulate_shop(1500, seed=0, explore_per_90d=2.0, staples_mean=2.5)
