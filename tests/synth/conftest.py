from __future__ import annotations

import pytest

from ltvkit.synth import generate_shop


@pytest.fixture(scope="session")
def shop():
    """A mid-size Rakuten shop: large enough for the statistical checks, about a second to make."""
    return generate_shop(customers=20_000, seed=7)
