from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ltvkit.synth import generate_shop

sys.path.insert(0, str(Path(__file__).parent))  # for synthhelp


@pytest.fixture(scope="session")
def shop():
    """A mid-size Rakuten shop: large enough for the statistical checks, about a second to make."""
    return generate_shop(customers=20_000, seed=7)
