"""The version of ltvkit, recorded with every stored run (importable by every layer)."""

__version__ = "0.1.0"
