"""Test doubles that are real servers on loopback (no mocks of ltvkit's own code)."""

from .fake_line import FakeLineServer

__all__ = ["FakeLineServer"]
