"""Test doubles that are real servers on loopback (no mocks of ltvkit's own code), and synthetic results."""

from .fake_line import FakeLineServer
from .results import synthetic_contacts, write_synthetic_results

__all__ = ["FakeLineServer", "synthetic_contacts", "write_synthetic_results"]
