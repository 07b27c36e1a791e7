"""Text-file plumbing shared by every reader: encodings, headers, and SQL for Japanese numbers and dates.

Japanese exports arrive as CP932 (Shift_JIS), UTF-8 or UTF-8 with a BOM. DuckDB reads only UTF-8, so CP932 files
are transcoded once, in streamed chunks, to a temporary UTF-8 file (see ``engines.md`` §4.4). Headers are matched
by name after NFKC normalisation (``郵便番号１`` = ``郵便番号1``, ``住所：都道府県`` = ``住所:都道府県``), never by
position. Values are normalised in SQL so that no per-row Python runs on large files.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import UnknownFormatError
from ._iconv import IconvConverter

__all__ = [
    "FileInfo",
    "norm_header",
    "sniff_file",
    "broken_quote_lines",
    "sql_clean_number",
    "sql_int",
    "sql_is_decimal",
    "sql_money",
    "sql_money_from",
    "sql_int_from",
    "sql_double_from",
    "sql_decimal",
    "sql_fold",
    "sql_text",
    "sql_date_text",
    "sql_timestamp",
    "sql_literal",
    "sql_once",
    "transcode_to_utf8",
]

_PREFIX_BYTES = 4 << 20
_CHUNK = 16 << 20

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map to ASCII: the part of NFKC that matters for
# numbers, dates, e-mails, phones and codes, done in SQL with one translate().
_FW = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_ASCII = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def norm_header(name: str) -> str:
    """Normalise a header for matching: NFKC, case-folded, without any white space or BOM."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return "".join(text.split()).casefold()


@dataclass
class FileInfo:
    """What sniffing learned about one input file."""

    path: Path
    kind: str  # csv, parquet, excel
    encoding: str | None = None
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    sheet: str | int = 0

    @property
    def norm_headers(self) -> list[str]:
        return [norm_header(h) for h in self.headers]


def _detect_encoding(prefix: bytes, complete: bool) -> str | None:
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "cp932"):
        try:
            codecs.getincrementaldecoder(enc)().decode(prefix, final=complete)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def _first_line(text: str) -> str:
    end = len(text)
    for sep in ("\r\n", "\n", "\r"):
        i = text.find(sep)
        if i != -1:
            end = min(end, i)
    return text[:end]


def sniff_file(path: Path, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | int | None = None) -> FileInfo:
    """Detect the kind, encoding, delimiter and header of a file, raising one sentence when it is not a table."""
    path = Path(path)
    if not path.exists():
        raise UnknownFormatError(f"No file at {path}; check the path.")
    if path.is_dir():
        raise UnknownFormatError(f"{path} is a folder; give the export file itself.")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure means "not Parquet"
            raise UnknownFormatError(f"{path.name} is not a readable Parquet file ({exc}).") from None
        return FileInfo(path, "parquet", headers=list(names))
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            if isinstance(sheet, str) and sheet not in wb.sheetnames:
                raise UnknownFormatError(f"{path.name} has no sheet {sheet!r}; its sheets are "
                                         f"{', '.join(wb.sheetnames)}.")
            ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet or 0]
            first = next(ws.iter_rows(max_row=1, values_only=True), ())
            wb.close()
        except UnknownFormatError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise UnknownFormatError(f"{path.name} is not a readable Excel workbook ({exc}).") from None
        headers = ["" if v is None else str(v) for v in first]
        while headers and headers[-1] == "":
            headers.pop()
        return FileInfo(path, "excel", headers=headers, sheet=sheet or 0)
    with open(path, "rb") as fh:
        prefix = fh.read(_PREFIX_BYTES)
        complete = len(prefix) < _PREFIX_BYTES
    if not prefix.strip():
        raise UnknownFormatError(f"{path.name} is empty; export the orders again.")
    if b"\x00" in prefix[:4096] and not prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnknownFormatError(f"{path.name} is not a text CSV file (it contains binary data).")
    enc = encoding or _detect_encoding(prefix, complete)
    if enc is None:
        raise UnknownFormatError(f"{path.name} is neither UTF-8 nor Shift_JIS/CP932 text; save it as CSV in one of those.")
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(prefix, final=complete)
    text = text.lstrip("\ufeff")
    line = _first_line(text)
    if delimiter is None:
        delimiter = "\t" if line.count("\t") > line.count(",") else ","
    try:
        headers = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        headers = line.split(delimiter)
    headers = [h.strip() for h in headers]
    return FileInfo(path, "csv", encoding=enc, delimiter=delimiter, headers=headers)


def file_hash(path: Path, *, validate_utf8: bool = False) -> tuple[str, bool]:
    """SHA-256 of a file; with ``validate_utf8`` also whether the whole file decodes as UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")() if validate_utf8 else None
    ok = True
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if decoder is not None and ok:
                if chunk.isascii():
                    continue
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    ok = False
    return digest.hexdigest(), ok


def transcode_to_utf8(src: Path, dst: Path, encoding: str) -> str:
    """Stream ``src`` (in ``encoding``) to UTF-8 ``dst`` in chunks; return the SHA-256 of the source bytes.

    Undecodable bytes become U+FFFD rather than stopping the import; memory stays at a few chunks.
    """
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        _transcode_stream(fin, fout, None, encoding, digest)
    return digest.hexdigest()


_PARALLEL_MIN_BYTES = 64 << 20


def _transcode_range(src: str, start: int, end: int, dst: str, encoding: str, header: bytes) -> None:
    """Worker: transcode bytes [start, end) of ``src`` to UTF-8 ``dst``, after the (already UTF-8) header."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(header)
        fin.seek(start)
        _transcode_stream(fin, fout, end - start, encoding, strip_bom=start == 0)


def _transcode_stream(fin: io.BufferedReader, fout: io.BufferedWriter, size: int | None, encoding: str,
                      digest: Any = None, *, strip_bom: bool = True) -> None:
    """Transcode ``size`` bytes (all when None) from ``fin`` to UTF-8 on ``fout``; with ``strip_bom`` (the start
    of a file) a leading U+FEFF is dropped.

    For CP932 the C library's iconv converts pieces cut after a newline (0x0A is never a CP932 trail byte, so
    a cut there is a character boundary); a piece iconv rejects, and every other encoding, go through Python's
    incremental decoder with ``errors="replace"``.
    """
    fast = IconvConverter.open(encoding)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    left = size
    carry = b""
    first = strip_bom
    while True:
        chunk = fin.read(_CHUNK if left is None else min(_CHUNK, left))
        if left is not None:
            left -= len(chunk)
        if digest is not None:
            digest.update(chunk)
        final = not chunk or left == 0
        data = carry + chunk if carry else chunk
        carry = b""
        if fast is not None and not final:
            cut = data.rfind(b"\n") + 1
            if cut:
                data, carry = data[:cut], data[cut:]
            else:  # no newline in a whole chunk: the incremental decoder takes over for the rest
                fast.close()
                fast = None
        out = fast.convert(data) if fast is not None else None
        if out is None:
            text = decoder.decode(data) if fast is None else codecs.decode(data, encoding, "replace")
            if first:
                text = text.lstrip("\ufeff")
            out = text.encode("utf-8")
        first = first and not out
        fout.write(out)
        if final:
            break
    fout.write(decoder.decode(b"", final=True).encode("utf-8"))
    if fast is not None:
        fast.close()


def _cut_points(src: Path, parts: int) -> list[int]:
    """Byte offsets where ``src`` can be cut into ``parts`` pieces at a record boundary (the first is 0).

    A cut goes after a newline outside quotes. ``"`` (0x22) is never a CP932 or UTF-8 trail byte, so counting
    quote bytes gives the quoting state exactly (doubled quotes keep the parity). Only the bytes before the last
    cut are read.
    """
    import numpy as np

    size = src.stat().st_size
    targets = [size * k // parts for k in range(1, parts)]
    cuts = [0]
    quotes = offset = 0
    with open(src, "rb") as fh:
        while targets and (chunk := fh.read(_CHUNK)):
            while targets and targets[0] < offset + len(chunk):
                pos = chunk.find(b"\n", max(targets[0] - offset, 0))
                while pos != -1 and (quotes + chunk.count(b'"', 0, pos)) % 2:
                    pos = chunk.find(b"\n", pos + 1)
                if pos == -1:
                    targets[0] = offset + len(chunk)  # try again in the next chunk
                    break
                cuts.append(offset + pos + 1)
                targets.pop(0)
            quotes += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == ord('"')))
            offset += len(chunk)
    return sorted(set(cuts))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def transcode_parts(src: Path, tmpdir: Path, tag: str, encoding: str,
                    workers: int | None = None) -> tuple[list[Path], str]:
    """Transcode ``src`` to UTF-8 part files (one per CPU on large files), each starting with the header line.

    Returns the part paths and the SHA-256 of the source. Parts are cut at record boundaries and transcoded by
    worker processes in parallel while this process hashes the source; small files, one CPU or a platform
    without ``fork`` give a single part.
    """
    import multiprocessing as mp
    import sys

    size = src.stat().st_size
    n = workers or min(os.cpu_count() or 1, 8)
    if n < 2 or size < _PARALLEL_MIN_BYTES or not sys.platform.startswith("linux"):
        dst = tmpdir / f"{tag}.csv"
        return [dst], transcode_to_utf8(src, dst, encoding)
    cuts = _cut_points(src, n)
    with open(src, "rb") as fh:
        head = fh.readline()
    header = codecs.decode(head, encoding, errors="replace").lstrip("\ufeff").encode("utf-8")
    ends = cuts[1:] + [size]
    paths = [tmpdir / f"{tag}_{k}.csv" for k in range(len(cuts))]
    jobs = [(str(src), start, end, str(path), encoding, b"" if k == 0 else header)
            for k, (start, end, path) in enumerate(zip(cuts, ends, paths, strict=True))]
    # fork: the workers only run the codec, never DuckDB, and start without re-importing ltvkit
    with mp.get_context("fork").Pool(len(jobs)) as pool:
        done = pool.starmap_async(_transcode_range, jobs)
        digest = _sha256(src)
        done.get()
    return paths, digest


# -- SQL building blocks -------------------------------------------------------------------------------------

def sql_once(value: str, body: Callable[[str], str]) -> str:
    """SQL for ``body(x)`` with ``x`` bound to ``value``, which is written (and computed) once.

    DuckDB lifts a subexpression that repeats inside one SELECT item out of its lazy ``CASE``/``COALESCE``
    branch and computes it for every row; a slow fallback that names its input several times would then run on
    all rows instead of the few that need it. Binding the input in a lambda keeps it inside the branch.
    """
    return f"list_transform([{value}], lambda ltv_x: {body('ltv_x')})[1]"


def sql_literal(value: object) -> str:
    """A SQL literal for a Python str/int/None."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _is_ascii(expr: str) -> str:
    return f"strlen({expr}) = length({expr})"


def sql_fold(expr: str) -> str:
    """Full-width ASCII folded to ASCII (translate() only runs on text that is not pure ASCII: it is slow)."""
    return f"CASE WHEN {_is_ascii(expr)} THEN {expr} ELSE translate({expr}, {sql_literal(_FW)}, {sql_literal(_ASCII)}) END"


def sql_text(expr: str) -> str:
    """Trimmed text with full-width ASCII folded, NULL when blank (``expr`` should be a column: it repeats)."""
    return f"NULLIF(TRIM({sql_fold(expr)}), '')"


def sql_clean_number(expr: str) -> str:
    """Text of a number: full-width digits folded; commas, yen signs, 円 and spaces removed; NULL when blank."""
    drop = ",¥￥円\\ \t\u3000"
    pairs = [(f, a) for f, a in zip(_FW[:-1], _ASCII[:-1], strict=False) if a not in drop]
    # full-width ASCII -> ASCII; characters without a counterpart in ``to`` are deleted
    src = "".join(f for f, _ in pairs) + "\u2212" + drop + "".join(f for f, a in zip(_FW, _ASCII, strict=False) if a in drop)
    dst = "".join(a for _, a in pairs) + "-"
    return (f"NULLIF(CASE WHEN {_is_ascii(expr)} THEN replace(replace(TRIM({expr}), ',', ''), '\\', '') "
            f"ELSE translate({expr}, {sql_literal(src)}, {sql_literal(dst)}) END, '')")


# Only decimal digits are numbers: DuckDB's casts also accept 0x10, 0b11, 1e3, 1_000, inf and nan, which no
# export writes and which must be quarantined, so every cast is guarded by this pattern (RE2, cheap).
_DECIMAL = "'\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)\\s*'"


def sql_is_decimal(expr: str) -> str:
    """SQL: ``expr`` is written with decimal digits only (a sign, one decimal point, surrounding spaces)."""
    return f"regexp_full_match({expr}, {_DECIMAL})"


def _guarded(expr: str, cast: str) -> str:
    return f"CASE WHEN {sql_is_decimal(expr)} THEN {cast} END"


def sql_money(clean: str) -> str:
    """Integer amount from cleaned number text (rounded half away from zero), NULL when not a number."""
    return _guarded(clean, f"TRY_CAST({clean} AS BIGINT)")


def sql_money_from(raw: str) -> str:
    """Integer amount from raw text: a plain cast first, the cleaning (commas, ¥, full width) only when it fails."""
    return f"COALESCE({_guarded(raw, f'TRY_CAST({raw} AS BIGINT)')}, {sql_once(sql_clean_number(raw), sql_money)})"


def sql_int_from(raw: str) -> str:
    """Whole number from raw text: a plain cast first (no decimal point), the cleaning only when it fails."""
    return (f"COALESCE(CASE WHEN NOT contains({raw}, '.') AND {sql_is_decimal(raw)} THEN TRY_CAST({raw} AS BIGINT) END, "
            f"{sql_once(sql_clean_number(raw), sql_int)})")


def sql_double_from(raw: str) -> str:
    return f"COALESCE({_guarded(raw, f'TRY_CAST({raw} AS DOUBLE)')}, {sql_once(sql_clean_number(raw), sql_decimal)})"


def sql_decimal(clean: str) -> str:
    return _guarded(clean, f"TRY_CAST({clean} AS DOUBLE)")


def sql_int(clean: str) -> str:
    """Whole number from cleaned text (``2`` or ``2.0``); NULL when not a whole number (``2.5``, ``x``, ``0x10``)."""
    dec = f"TRY_CAST({clean} AS DECIMAL(20,4))"
    return _guarded(clean, f"CASE WHEN NOT contains({clean}, '.') THEN TRY_CAST({clean} AS BIGINT) "
                           f"WHEN {dec} = TRY_CAST({dec} AS BIGINT) THEN TRY_CAST({dec} AS BIGINT) END")


def sql_date_text(expr: str) -> str:
    """Date text normalised for parsing: full-width folded, 年/月/日 and ``/`` to ``-``, ``T`` to a space."""
    jp = (f"replace(replace(replace(translate({expr}, {sql_literal(_FW)}, {sql_literal(_ASCII)}), '年', '-'), "
          f"'月', '-'), '日', ' ')")
    text = f"CASE WHEN {_is_ascii(expr)} THEN {expr} ELSE {jp} END"
    return (f"TRIM(regexp_replace(regexp_replace(replace({text}, '/', '-'), '([0-9])T([0-9])', '\\1 \\2'), "
            f"'\\s+', ' ', 'g'))")


def sql_timestamp(raw: str, *, shop_tz: str, naive_tz: str) -> str:
    """Shop wall-clock TIMESTAMP from a column of date text as Japanese exports write it.

    Accepted: ``2024/1/5 13:05``, ``2024-01-05 13:05:00``, ``2024年1月5日 13:05``, ``20240105``, full-width digits,
    ISO 8601 with ``T`` and an offset or ``Z`` (converted to ``shop_tz``). Text without an offset is taken as
    ``naive_tz`` time. Plain ASCII dates take a fast cast; only the rest goes through the regular expressions.
    """
    fast = (f"CASE WHEN strlen({raw}) <= 19 AND {_is_ascii(raw)} AND NOT contains({raw}, '+') "
            f"AND NOT contains({raw}, 'Z') THEN TRY_CAST({raw} AS TIMESTAMP) END")
    offset = "'[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?\\s*(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$'"

    def slow_path(t: str) -> str:
        with_offset = (f"timezone({sql_literal(shop_tz)}, TRY_CAST(regexp_replace(regexp_replace(regexp_replace({t}, "
                       f"'\\s*(Z|UTC)$', '+00:00'), '\\s*([+-][0-9]{{2}}):?([0-9]{{2}})$', '\\1:\\2'), "
                       f"'\\s*([+-][0-9]{{2}})$', '\\1:00') AS TIMESTAMPTZ))")
        naive = f"COALESCE(TRY_CAST({t} AS TIMESTAMP), TRY_STRPTIME({t}, ['%Y%m%d', '%Y%m%d %H%M%S', '%Y%m%d%H%M%S']))"
        if naive_tz != shop_tz:
            naive = f"timezone({sql_literal(shop_tz)}, timezone({sql_literal(naive_tz)}, {naive}))"
        return f"CASE WHEN regexp_matches({t}, {offset}) THEN {with_offset} ELSE {naive} END"

    if naive_tz != shop_tz:
        fast = f"timezone({sql_literal(shop_tz)}, timezone({sql_literal(naive_tz)}, {fast}))"
    slow = sql_once(sql_date_text(raw), slow_path)
    return f"COALESCE({fast}, {slow})"


def safe_remove(path: os.PathLike[str] | str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def count_newlines(path: Path) -> int:
    """Number of ``\\n`` bytes in the file (a fast count, no decoding)."""
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            n += chunk.count(b"\n")
    return n


def record_start_lines(path: Path) -> Any:
    """File line (1-based) where each data record starts, for records as a CSV reader sees them.

    A record ends at a newline outside quotes; blank lines are no records (DuckDB skips them); the header is
    line 1 and not in the result. ``"`` and ``\\n`` are never trail bytes of UTF-8 or CP932, so the bytes are
    scanned without decoding. Used to give quarantined rows their file line when a quoted field holds a
    newline (then records and lines differ).
    """
    import numpy as np

    ends, idx = [], []  # byte position and newline index of each newline outside quotes
    quotes = offset = seen = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            arr = np.frombuffer(chunk, np.uint8)
            nl = np.flatnonzero(arr == 0x0A)
            qpos = np.flatnonzero(arr == 0x22)
            outside = (quotes + np.searchsorted(qpos, nl)) % 2 == 0
            ends.append(nl[outside] + offset)
            idx.append(np.flatnonzero(outside) + seen)
            quotes += len(qpos)
            seen += len(nl)
            offset += len(chunk)
    end_pos = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    end_idx = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    size = offset
    if size and (not len(end_pos) or end_pos[-1] != size - 1):  # a last record without a newline
        end_pos = np.append(end_pos, size)
        end_idx = np.append(end_idx, seen)
    if len(end_pos) < 2:
        return np.zeros(0, np.int64)
    start_pos = end_pos[:-1] + 1  # records after the header
    length = end_pos[1:] - start_pos
    with open(path, "rb") as fh:
        data_cr = [fh.seek(int(p)) is not None and fh.read(1) == b"\r" for p in start_pos[length == 1]]
    blank = length == 0
    if data_cr:
        one = np.flatnonzero(length == 1)
        blank[one[np.array(data_cr, bool)]] = True
    lines = end_idx[:-1] + 2  # the line after the newline that ended the previous record
    return lines[~blank]


def lines_at_offsets(path: Path, offsets: list[int]) -> list[int]:
    """The file line (1-based) holding each byte offset (offsets in any order)."""
    order = sorted(range(len(offsets)), key=offsets.__getitem__)
    out = [0] * len(offsets)
    k, line, pos = 0, 1, 0
    with open(path, "rb") as fh:
        while k < len(order) and (chunk := fh.read(_CHUNK)):
            while k < len(order) and offsets[order[k]] < pos + len(chunk):
                out[order[k]] = line + chunk.count(b"\n", 0, max(offsets[order[k]] - pos, 0))
                k += 1
            line += chunk.count(b"\n")
            pos += len(chunk)
    for j in order[k:]:
        out[j] = line
    return out


def broken_quote_lines(path: Path, delimiter: str = ",") -> list[int]:
    """The file line (1-based) where each record with a broken quote starts, as a strict CSV reader finds them.

    A broken quote is one that is never closed (it would swallow the rest of the file) or a quoted value followed by
    something other than a delimiter or a line end (``"a"b``). After each, reading resumes at the line after that
    record's first line, so the lines it swallowed are read again as records of their own. Other CSV errors (a bare
    carriage return in an unquoted value) are not quote errors: that record is passed over. Only run on a file the
    engine found an unterminated quote in: it reads the file once, line by line.
    """
    from collections import deque

    def numbered() -> Any:
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                yield number, raw.decode("utf-8", errors="replace")

    source = numbered()
    again: deque[tuple[int, str]] = deque()
    record: list[tuple[int, str]] = []  # the lines of the record being read

    def feed() -> Any:
        while True:
            item = again.popleft() if again else next(source, None)
            if item is None:
                return
            record.append(item)
            yield item[1]

    bad: list[int] = []
    while True:
        record.clear()
        reader = csv.reader(feed(), delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        try:
            for _ in reader:
                record.clear()
            return sorted(set(bad))
        except csv.Error as exc:
            if not record:
                return sorted(set(bad))
            if "new-line" not in str(exc) and record[0][0] > 1:
                bad.append(record[0][0])
            again.extendleft(reversed(record[1:]))


_MAX_BAD_BYTES = 10_000


def utf8_errors(path: Path) -> tuple[list[int], int]:
    """Byte offsets of the invalid UTF-8 sequences of a file (at most 10,000) and its count of other non-ASCII bytes.

    Pieces are cut after a newline (never inside a UTF-8 character) and decoded strictly; each error is noted and
    decoding resumes after it. Run only on a file that failed validation.
    """
    import numpy as np

    errors: list[int] = []
    good = 0
    base = 0
    carry = b""
    with open(path, "rb") as fh:
        while len(errors) < _MAX_BAD_BYTES:
            chunk = fh.read(_CHUNK)
            data = carry + chunk
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            if cut == 0:
                cut = len(data)
            piece, carry = data[:cut], data[cut:]
            bad_bytes = 0
            pos = 0
            while pos < len(piece) and len(errors) < _MAX_BAD_BYTES:
                try:
                    piece[pos:].decode("utf-8")
                    break
                except UnicodeDecodeError as exc:
                    errors.append(base + pos + exc.start)
                    bad_bytes += exc.end - exc.start
                    pos += exc.end
            good += int(np.count_nonzero(np.frombuffer(piece, np.uint8) >= 0x80)) - bad_bytes
            base += len(piece)
            if not chunk:
                break
    return errors, good
