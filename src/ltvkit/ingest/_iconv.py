"""CP932 to UTF-8 through the C library's ``iconv(3)``, about twice as fast as Python's codec.

glibc ships a CP932 converter whose table equals Python's ``cp932`` codec on every byte pair it accepts (a test
checks all of them). Bytes iconv rejects (0x80, 0xA0, 0xFD-0xFF, a lead byte without its trail) make
:meth:`IconvConverter.convert` return None, and the caller decodes that piece with Python's codec instead, which
replaces them with U+FFFD. Where the C library has no CP932 (musl, macOS without it), :meth:`IconvConverter.open`
returns None and Python's codec does all the work.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["IconvConverter"]

_NAMES = {"cp932": b"CP932", "ms932": b"CP932", "windows-31j": b"CP932", "mskanji": b"CP932"}
_FAILED = ctypes.c_size_t(-1).value
_MAX_GROWTH = 3  # a half-width katakana byte becomes three UTF-8 bytes


class IconvConverter:
    """Converts whole pieces of text that start and end on character boundaries (e.g. after a newline)."""

    def __init__(self, lib: ctypes.CDLL, handle: int) -> None:
        self._lib = lib
        self._handle: int | None = handle
        self._out: ctypes.Array[ctypes.c_char] | None = None

    @classmethod
    def open(cls, encoding: str) -> IconvConverter | None:
        """A converter from ``encoding`` to UTF-8, or None when ``encoding`` is not CP932 or iconv lacks it."""
        name = _NAMES.get(encoding.lower().replace("_", "-"))
        if name is None:
            return None
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            iconv_open, iconv = lib.iconv_open, lib.iconv
        except (OSError, AttributeError, TypeError):
            return None
        iconv_open.restype = ctypes.c_void_p
        iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        iconv.restype = ctypes.c_size_t
        pointer = ctypes.POINTER(ctypes.c_void_p)
        size = ctypes.POINTER(ctypes.c_size_t)
        iconv.argtypes = [ctypes.c_void_p, pointer, size, pointer, size]
        lib.iconv_close.argtypes = [ctypes.c_void_p]
        handle = iconv_open(b"UTF-8", name)
        if handle is None or handle == ctypes.c_void_p(-1).value:
            return None
        return cls(lib, handle)

    def convert(self, data: bytes) -> bytes | None:
        """UTF-8 bytes of ``data``, or None when ``data`` holds a byte sequence iconv rejects."""
        if not data:
            return b""
        need = len(data) * _MAX_GROWTH + 16
        if self._out is None or len(self._out) < need:  # kept between calls: allocating it costs a third
            self._out = ctypes.create_string_buffer(need)
        out = self._out
        in_ptr = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p)  # iconv only reads the input
        in_left = ctypes.c_size_t(len(data))
        out_ptr = ctypes.c_void_p(ctypes.addressof(out))
        out_left = ctypes.c_size_t(len(out))
        self._lib.iconv(self._handle, None, None, None, None)  # back to the initial state
        done = self._lib.iconv(self._handle, ctypes.byref(in_ptr), ctypes.byref(in_left), ctypes.byref(out_ptr),
                               ctypes.byref(out_left))
        if done == _FAILED or in_left.value:
            return None
        return ctypes.string_at(out, len(out) - out_left.value)

    def close(self) -> None:
        if self._handle is not None:
            self._lib.iconv_close(self._handle)
            self._handle = None

    def __del__(self) -> None:  # pragma: no cover - depends on the collector
        try:
            self.close()
        except Exception:
            pass
