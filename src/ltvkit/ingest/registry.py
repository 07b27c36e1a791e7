"""Readers by name: the built-in presets and any registered later (``register_reader``)."""

from __future__ import annotations

from ..exceptions import InputError, UnknownFormatError
from ._reader import Reader
from .amazon import AMAZON
from .generic import GENERIC
from .next_engine import NEXT_ENGINE
from .rakuten import RAKUTEN
from .shopify import SHOPIFY
from .yahoo import YAHOO, file_role

__all__ = ["DEFAULT_READERS", "preset_names", "detect_reader", "get_reader", "register_reader", "readers"]

DEFAULT_READERS: tuple[Reader, ...] = (RAKUTEN, YAHOO, SHOPIFY, AMAZON, NEXT_ENGINE, GENERIC)
_READERS: dict[str, Reader] = {}


def register_reader(reader: Reader, *, replace: bool = False) -> None:
    """Add a reader under ``reader.name`` (``replace=True`` to override a built-in)."""
    if reader.name in _READERS and not replace:
        raise ValueError(f"A reader named {reader.name!r} is already registered.")
    _READERS[reader.name] = reader


for _r in DEFAULT_READERS:
    register_reader(_r)


def readers() -> dict[str, Reader]:
    return dict(_READERS)


def preset_names() -> tuple[str, ...]:
    """``auto`` and the names of the registered readers (the values of ``--preset``)."""
    return ("auto", *_READERS)


def get_reader(name: str) -> Reader:
    key = name.strip().lower().replace("_", "-")
    if key == "nextengine":
        key = "next-engine"
    if key not in _READERS:
        raise InputError(f"Unknown preset {name!r}; use one of {', '.join(preset_names())}.")
    return _READERS[key]


def detect_reader(norm_headers: set[str], file_name: str) -> Reader:
    """The reader whose signature the header matches (best score wins), or :class:`UnknownFormatError`."""
    if file_role(norm_headers) in ("order", "item"):
        return _READERS["yahoo"]
    found = [r for r in _READERS.values() if r.matches(norm_headers)]
    if not found:
        raise UnknownFormatError(
            f"{file_name} does not look like an order export: its header matches none of the presets "
            f"({', '.join(n for n in _READERS)}); pass --preset NAME, or --preset generic --mapping map.yaml.")
    return max(found, key=lambda r: (r.score(norm_headers), -list(_READERS).index(r.name)))
