"""CP932 -> UTF-8: the iconv fast path must give exactly what Python's codec gives, bad bytes included."""

from __future__ import annotations

import pytest

from ltvkit.ingest import _csv
from ltvkit.ingest._iconv import IconvConverter


def _all_cp932_characters() -> list[bytes]:
    chars = []
    for b in range(256):
        try:
            bytes([b]).decode("cp932")
            chars.append(bytes([b]))
        except UnicodeDecodeError:
            pass
    for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        for trail in range(0x40, 0xFD):
            pair = bytes([lead, trail])
            try:
                if len(pair.decode("cp932")) == 1:
                    chars.append(pair)
            except UnicodeDecodeError:
                pass
    return chars


def test_iconv_table_equals_pythons_cp932():
    conv = IconvConverter.open("cp932")
    if conv is None:
        pytest.skip("this C library has no CP932 converter (Python's codec is used)")
    chars = _all_cp932_characters()
    assert len(chars) > 9000
    accepted = 0
    for ch in chars:
        got = conv.convert(ch)
        if got is not None:  # a few single bytes (0x80, 0xA0, 0xFD-0xFF) are left to Python's codec
            assert got == ch.decode("cp932").encode("utf-8"), ch.hex()
            accepted += 1
    assert accepted >= len(chars) - 5
    assert conv.convert(b"\x82") is None and conv.convert(b"ok\x81") is None  # a lead byte without its trail


def test_iconv_is_only_for_cp932():
    assert IconvConverter.open("utf-16") is None
    assert IconvConverter.open("shift_jis") is None  # Python's shift_jis maps some bytes unlike CP932


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_transcode_equals_python_replace_with_bad_bytes(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(_csv, "_CHUNK", chunk)
    good = "注文番号,商品名,単価\r\n338811-1,ｻﾌﾟﾘ①「ﾃｽﾄ」～,１，９８０\r\n".encode("cp932")
    bad = b'"a","\x82\xa0\x80x"\n"\x81"\nok\n\xfdtail\n' + b"x" * 100 + b"\x82"  # last: a lead byte at EOF
    src = tmp_path / "in.csv"
    src.write_bytes(good * 5 + bad + good)
    dst = tmp_path / "out.csv"
    digest = _csv.transcode_to_utf8(src, dst, "cp932")
    assert dst.read_bytes() == src.read_bytes().decode("cp932", "replace").encode("utf-8")
    assert digest == __import__("hashlib").sha256(src.read_bytes()).hexdigest()
