"""Uploaded files -> a private SQLite file and its schema, or one line naming the file and the fix.

One SQLite file (copied by SQLite's backup API: validated, only the data kept), or CSV and Parquet files
(one table each). No value changes without a word: a CSV is UTF-8 when it decodes cleanly (a byte-order
mark dropped), else in the encoding charset-normalizer detects, named in the message; readings that
disagree are refused, but Windows-1252 (what spreadsheets write) wins a tie and the message names the
other reading. Columns are numbers only when SQLite keeps each value exactly; empty or repeated column
names become `column_3`, `a_2` as in a spreadsheet, and are listed. nl2sql.service checks kinds and sizes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nl2sql.limits import default_limits
from nl2sql.sandbox import read_schema
from nl2sql.schema import SchemaError

UPLOAD_PREFIX, UPLOAD_NAME = "nl2sql-upload-", "data.sqlite"  # where an upload's private copy lives
SQLITE_SUFFIXES, TABLE_SUFFIXES = (".sqlite", ".db", ".sqlite3"), (".csv", ".tsv", ".parquet")
MAX_TABLES = 5000  # the schema is parsed once per upload: about 1 s per 1,000 tables on 2 cores
SPREADSHEET = "cp1252"  # what Excel and LibreOffice write as "CSV" on Western systems: it wins a tie
TIE, CLOSE = 0.01, 0.1  # charset-normalizer's chaos (0-1): readings this close to the cleanest tie with it;
# Windows-1252 joins when CLOSE and its letters are all Western (Western text often reads cleaner as Windows-1257)
_NOT_WESTERN = re.compile(r"[^\W\d_A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ffŒœŸ]")  # a letter outside Latin-1
MAGIC = {b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one too)", b"\x1f\x8b": "a gzip archive",
         b"SQLite format 3\x00": "a SQLite database: name it .db", b"PAR1": "a Parquet file: name it .parquet",
         b"\xd0\xcf\x11\xe0": "an Excel .xls workbook", b"%PDF": "a PDF document"}
_BOMS = {b"\xff\xfe\x00\x00": "utf_32", b"\x00\x00\xfe\xff": "utf_32", b"\xff\xfe": "utf_16", b"\xfe\xff": "utf_16"}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_INT = re.compile(r"\s*[-+]?(?:0|[1-9]\d{0,17})\s*")  # 18 digits always fit 64 bits
_REAL = re.compile(r"\s*[-+]?((?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?\s*")
_ARROW = {"INTEGER": ("integer", "boolean"), "REAL": ("floating", "decimal"),
          "BLOB": ("binary", "large_binary", "fixed_size_binary")}  # Arrow types -> SQLite's; the rest TEXT
_TOO_BIG = "the limit for one value, {:,} bytes (NL2SQL_MAX_VALUE_BYTES)"


class UploadError(ValueError):
    """An upload that cannot be used, with a one-line message fit to show as is."""


@dataclass
class Upload:
    """A user's data as a private SQLite file we wrote or copied, its schema, and what was said about it."""

    db_path: Path
    schema: str
    tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # encodings used, names made unique, WAL mode, ...


def column_names(raw: list[str]) -> tuple[list[str], list[str]]:
    """Names a table can have (word characters); an empty one becomes column_N, a repeated one (SQLite
    compares names case-insensitively) name_2, name_3, as a spreadsheet would. Also the names so made."""
    names, seen, made = [], set(), []
    for i, r in enumerate(raw):
        name = base = re.sub(r"\W+", "_", str(r).strip()).strip("_") or f"column_{i + 1}"
        k = 1
        while name.lower() in seen:
            k, name = k + 1, f"{base}_{k + 1}"
        seen.add(name.lower())
        names.append(name)
        if name != base or not str(r).strip():
            made.append(name)
    return names, made


def _table_name(path: Path, used: set[str]) -> str:
    name = re.sub(r"^(?=sqlite_)", "t_", re.sub(r"\W+", "_", path.stem).strip("_").lower()) or "data"  # SQLite's own
    while name in used:
        name += "_2"
    used.add(name)
    return name


def encoding_name(enc: str) -> str:
    return f"Windows-{enc[2:]}" if re.fullmatch(r"cp125\d", enc) else enc.replace("utf_", "UTF-")


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """A file's text and how it was read ("UTF-8", "Windows-1252 (detected)", ...); UploadError for binary
    data or an encoding that cannot be told for sure. Clean UTF-8 is UTF-8 without asking the detector."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return data[3 if bom else 0:].decode("utf-8"), "UTF-8" + (" (byte-order mark dropped)" if bom else "")
    except UnicodeDecodeError:
        pass
    for mark, enc in _BOMS.items():  # UTF-32's marks first: UTF-32-LE's begins with UTF-16-LE's
        if data.startswith(mark):
            try:
                return data.decode(enc), encoding_name(enc)
            except UnicodeDecodeError as e:
                raise UploadError(f"{name} starts as {encoding_name(enc)} but is not ({e.reason}).") from e
    if b"\x00" in data:
        raise UploadError(f"{name} holds binary data (a NUL byte at offset {data.index(0):,}), not CSV text.")
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    cleanest, readings = min((m.chaos for m in matches), default=0.0), {}  # reading -> the encodings giving it
    sample = b"\n".join(re.findall(rb"[^\n]*[\x80-\xff][^\n]*", data))  # only these lines can read differently
    for m in (m for m in matches if m.chaos <= cleanest + (CLOSE if m.encoding == SPREADSHEET else TIE)):
        try:
            text = sample.decode(m.encoding)
        except UnicodeDecodeError:
            continue
        if m.chaos <= cleanest + TIE or not _NOT_WESTERN.search(text):
            readings.setdefault(text, []).append(m.encoding)
    western = [t for t in readings if SPREADSHEET in readings[t] and not _NOT_WESTERN.search(t)]
    texts = western + [t for t in readings if t not in western]
    words = lambda s: re.findall(r"[^\s,;\"]+", s)  # noqa: E731 - the first word the readings spell differently
    other = texts[1:] and " or ".join(encoding_name(readings[t][0]) for t in texts[1:4]) + next(
        (f" ({x[:30]!r} or {y[:30]!r})" for x, y in zip(words(texts[0]), words(texts[1])) if x != y), "")
    if not texts or other and not western:
        why = f"it reads as {encoding_name(readings[texts[0]][0])} or {other}" if texts else "no encoding reads it"
        raise UploadError(f"{name}: its text encoding cannot be told for sure ({why}). Save it as CSV UTF-8 and "
                          "upload it again.")
    enc = SPREADSHEET if western else readings[texts[0]][0]
    hint = f"; it could also be {other}: if its text looks wrong, save it as CSV UTF-8" if other else ""
    return data.decode(enc), f"{encoding_name(enc)} (detected{hint})"


def _csv_rows(text: str, name: str, max_bytes: int, sep: str | None = None) -> tuple[list[tuple[int, list[str]]], str]:
    """(line number, fields) of each non-empty line, and the separator (`sep`; when None ',', else the
    header's ';' or tab); UploadError for binary data, a value over `max_bytes` or text that is not CSV."""
    bad = _CONTROL.search(text)
    if bad:
        raise UploadError(f"{name} holds binary data (control character 0x{ord(bad.group()):02x} on line "
                          f"{text.count(chr(10), 0, bad.start()) + 1}), not CSV text.")
    first = text.split("\n", 1)[0]
    sep = sep or (max(";\t", key=first.count) if "," not in first and (";" in first or "\t" in first) else ",")
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes + 1))  # only ever raised: others keep theirs
    reader, rows = csv.reader(io.StringIO(text, newline=None), delimiter=sep), []
    try:
        for row in reader:
            if row and max(map(len, row)) * 4 > max_bytes:
                big = next((i for i, v in enumerate(row) if len(v.encode()) > max_bytes), None)
                if big is not None:
                    raise UploadError(f"{name}: line {reader.line_num}, column {big + 1} holds "
                                      f"{len(row[big].encode()):,} bytes, over {_TOO_BIG.format(max_bytes)}.")
            if row:
                rows.append((reader.line_num, row))
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise UploadError(f"{name}: line {reader.line_num} holds a value over {_TOO_BIG.format(max_bytes)}.") from e
        raise UploadError(f"{name}: line {reader.line_num} is not valid CSV ({e}).") from e
    return rows, sep


def column_type(values: list[str]) -> str:
    """INTEGER or REAL when SQLite keeps every value exactly as that number ("007", 20-digit ids and
    over-precise decimals stay TEXT); else TEXT. Empty values (NULL) do not count."""
    vals = [v for v in values if v != ""]
    if vals and all(_INT.fullmatch(v) for v in vals):
        return "INTEGER"
    for v in vals:
        m = _REAL.fullmatch(v)
        if not m or len(re.sub(r"\D", "", m.group(1)).strip("0")) > 15:
            return "TEXT"
    return "REAL" if vals else "TEXT"


def _create(conn: sqlite3.Connection, table: str, cols: list[tuple[str, str]], rows, name: str) -> None:
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_COLUMN)
    if len(cols) > limit:
        raise UploadError(f"{name} has {len(cols):,} columns; the limit is {limit:,} (SQLite's most per table): "
                          "upload only the columns you need.")
    conn.execute(f'CREATE TABLE "{table}" (' + ", ".join(f'"{c}" {k}' for c, k in cols) + ")")
    try:
        conn.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(cols))})', rows)
    except OverflowError as e:
        raise UploadError(f"{name} holds an integer beyond SQLite's 64-bit range ({e}).") from e


def _csv_table(conn: sqlite3.Connection, path: Path, used: set[str], notes: list[str]) -> str:
    data = path.read_bytes()
    what = next((w for magic, w in MAGIC.items() if data.startswith(magic)), None)
    if what:
        raise UploadError(f"{path.name} is not CSV: it is {what}.")
    text, encoding = decode_text(data, path.name)
    tab = "\t" if path.suffix.lower() == ".tsv" else None  # a .tsv file is tab-separated, commas in its header or not
    rows, sep = _csv_rows(text, path.name, default_limits().max_value_bytes, tab)
    (_, raw), body = rows[0] if rows else (0, []), rows[1:]
    problem = ("is empty" if not rows else "has no header row" if not any(h.strip() for h in raw)
               else "has a header row but no data rows" if not body else None)
    if problem:
        raise UploadError(f"{path.name} {problem}.")
    ragged = next(((n, len(r)) for n, r in body if len(r) != len(raw)), None)
    if ragged:
        raise UploadError(f"{path.name}: line {ragged[0]} has {ragged[1]} fields but the header has {len(raw)}: give "
                          "every row one field per column (quote values that hold the separator).")
    header, made = column_names(raw)
    name = _table_name(path, used)
    types = [column_type([r[i] for _, r in body]) for i in range(len(header))]
    _create(conn, name, list(zip(header, types)), ([None if v == "" else v for v in r] for _, r in body), path.name)
    notes.append(f"{path.name} read as {encoding}" + ({",": "", ";": ", separated by ';'"}.get(sep, ", tab-separated")))
    notes += [f"{path.name}: empty or repeated column names renamed: {', '.join(made)}"] if made else []
    return name


def _sql_type(pa, t) -> str:
    t = t.value_type if pa.types.is_dictionary(t) else t
    return next((k for k, tests in _ARROW.items() if any(getattr(pa.types, f"is_{x}")(t) for x in tests)), "TEXT")


def _parquet_table(conn: sqlite3.Connection, path: Path, used: set[str], notes: list[str]) -> str:
    """A Parquet file as one table: integers/booleans INTEGER, floats/decimals REAL, bytes BLOB, the rest
    (dates too) TEXT; struct columns flattened (a.b -> a_b); lists, maps and unions refused."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path).read()  # read_table's dataset reader refuses repeated column names
    except (pa.ArrowException, OSError) as e:
        raise UploadError(f"{path.name} is not a readable Parquet file ({' '.join(str(e).split())[:300]}).") from e
    flat = table
    while any(pa.types.is_struct(f.type) for f in flat.schema):
        flat = flat.flatten()
    nested = next((f for f in flat.schema if pa.types.is_nested(f.type)), None)
    if nested:
        raise UploadError(f"{path.name}: column {nested.name!r} holds {nested.type} values, which a table cell cannot "
                          "hold: make it plain columns (or text) before uploading.")
    max_bytes, kinds = default_limits().max_value_bytes, [_sql_type(pa, f.type) for f in flat.schema]
    for f, col in zip(flat.schema, flat.columns):
        longest = (pc.max(pc.binary_length(col)).as_py() or 0) if any(
            getattr(pa.types, f"is_{x}")(f.type) for x in ("string", "large_string", "binary", "large_binary")) else 0
        if longest > max_bytes:
            raise UploadError(f"{path.name}: column {f.name!r} holds {longest:,} bytes, over "
                              f"{_TOO_BIG.format(max_bytes)}.")
    header, made = column_names([f.name for f in flat.schema])
    if flat is not table:
        notes.append(f"{path.name}: nested columns flattened into "
                     + ", ".join(h for h, f in zip(header, flat.schema) if "." in f.name))
    notes += [f"{path.name}: empty or repeated column names renamed: {', '.join(made)}"] if made else []
    cast = {"REAL": float, "BLOB": bytes, "INTEGER": int, "TEXT": lambda v: v if isinstance(v, str) else str(v)}
    rows = ([None if v is None else cast[k](v) for v, k in zip(r, kinds)]
            for batch in flat.to_batches(10_000) for r in zip(*(c.to_pylist() for c in batch.columns)))
    name = _table_name(path, used)
    _create(conn, name, list(zip(header, kinds)), rows, path.name)
    return name


def _copy_sqlite(path: Path, out: Path, notes: list[str]) -> None:
    """Copy through SQLite itself (validates the file, keeps only the data), opened immutable so that no
    side files appear beside the upload."""
    with path.open("rb") as f:
        head = f.read(100)
    if not head.startswith(b"SQLite format 3\x00"):
        raise UploadError(f"{path.name} is empty." if not head else f"{path.name} is not a SQLite database, or it is "
                          "an encrypted one (SQLCipher, SEE): upload a plain, unencrypted SQLite file.")
    try:
        src, dst = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True), sqlite3.connect(out)
        src.backup(dst)
        src.close()
        dst.execute("PRAGMA journal_mode=DELETE")  # a WAL-mode source copies as WAL: make the copy one plain file
        dst.close()
    except sqlite3.DatabaseError as e:
        raise UploadError(f"{path.name} is not a SQLite database ({e}).") from e
    if head[18:20] == b"\x02\x02":  # said beside the tables, or as the reason there are none
        notes.append(f"{path.name} is in WAL mode: what is still in its -wal file (not uploaded) is not in this copy; "
                     f"checkpoint it (PRAGMA wal_checkpoint(TRUNCATE)) and upload it again to include that")


def load_upload(paths: list[Path], workdir: str | Path | None = None) -> Upload:
    """One .sqlite/.db file, or CSV/TSV and Parquet files (one table each; nl2sql.service checks kinds and
    sizes first), as a private SQLite file + its schema; UploadError naming the file and the fix."""
    out, notes, used = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=workdir)) / UPLOAD_NAME, [], set()
    name = paths[0].name  # the file being read, for a message
    try:
        if paths[0].suffix.lower() in SQLITE_SUFFIXES:
            _copy_sqlite(paths[0], out, notes)
        conn = sqlite3.connect(out)
        try:
            for p in paths if paths[0].suffix.lower() not in SQLITE_SUFFIXES else []:
                name = p.name
                (_parquet_table if p.suffix.lower() == ".parquet" else _csv_table)(conn, p, used, notes)
            conn.commit()
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql IS NOT "
                                                 "NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        finally:
            conn.close()
        if not tables or len(tables) > MAX_TABLES:
            raise UploadError(" ".join(["The upload holds no tables.", *(f"{n}." for n in notes)]) if not tables else
                              f"The upload has {len(tables):,} tables; the limit is {MAX_TABLES:,}.")
        return Upload(out, read_schema(out), tables, notes)
    except (sqlite3.Error, SchemaError) as e:  # a limit of SQLite's that no check above caught: still one line
        shutil.rmtree(out.parent, ignore_errors=True)
        raise UploadError(f"{name} could not be stored in SQLite ({' '.join(str(e).split())}).") from e
    except BaseException:
        shutil.rmtree(out.parent, ignore_errors=True)
        raise
