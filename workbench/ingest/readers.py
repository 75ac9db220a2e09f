"""Framing: turn a file into the relation `framed(line, raw, j)`, one row per record.

JSONL is read line by line through DuckDB's CSV reader (one VARCHAR column, no quoting), so a
malformed line becomes one quarantined record instead of aborting the read or vanishing, as
it would with `read_json(ignore_errors=true)`. JSON arrays and single documents go through
`read_json_objects`; CSV and Parquet rows become JSON objects so that one adapter SQL serves
a format whatever the file type. DuckDB decompresses `.gz` itself.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb

from ..errors import WorkbenchError

# Envelope keys whose list holds the records (API pages: Langfuse `data`, LangSmith `runs`, ...).
ENVELOPE_KEYS = ("data", "observations", "runs", "items", "records", "requests", "results")

# Cheap tests first: trim() copies every string, so it only runs on lines that start with blanks.
NOT_BLANK = "raw IS NOT NULL AND (left(raw, 1) NOT IN (' ', '\t', '\r') OR trim(raw) <> '')"
OBJECT_START = "(left(raw, 1) = '{' OR left(ltrim(raw), 1) = '{')"

# One ASCII control character: valid JSON never contains it unescaped, so it never splits a line.
_NO_DELIM = "\x1e"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _open_text(path: Path):
    # utf-8-sig: a byte-order mark is not content (DuckDB's readers skip it too).
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return open(path, encoding="utf-8-sig", errors="replace")


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# Files that are not text logs, told by their first bytes: (magic, what it is, what to do).
_NOT_LOGS = (
    (b"PK\x03\x04", "a ZIP archive (or an Excel/Office file)", "unzip it and ingest the files inside (or export CSV)"),
    (b"BZh", "a bzip2 archive", "decompress it (bunzip2) or recompress it with gzip"),
    (b"\xfd7zXZ\x00", "an xz archive", "decompress it (unxz) or recompress it with gzip"),
    (b"(\xb5/\xfd", "a zstd archive", "decompress it (unzstd) or recompress it with gzip"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it and ingest the files inside"),
    (b"%PDF", "a PDF document", "export the logs as JSONL, CSV or Parquet"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV or Parquet"),
    (b"\x89PNG", "a PNG image", "ingest the log files, not a screenshot"),
)
_UTF16 = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def text_encoding(path: Path) -> str:
    """'utf-8' or 'utf-16-le'/'utf-16-be' (read through a UTF-8 copy), from the first bytes;
    anything that is not a text log raises a WorkbenchError saying what the file is."""
    try:
        with _open_bytes(path) as fh:
            head = fh.read(64 * 1024)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise WorkbenchError(f"cannot read {path}: {exc}") from None
    if head[8:12] == b"DUCK":
        raise WorkbenchError(f"{path} is a DuckDB database, not a log file: pass it as --db {path}")
    for magic, what, todo in _NOT_LOGS:
        if head.startswith(magic):
            raise WorkbenchError(f"{path} is {what}, not a log file: {todo}")
    for bom, enc in _UTF16.items():
        if head.startswith(bom):
            return enc
    if len(head) >= 4 and head[1:2] == b"\x00" and head[3:4] == b"\x00" and head[0:1] != b"\x00":
        return "utf-16-le"  # UTF-16 without a byte-order mark (ASCII text, every other byte NUL)
    if len(head) >= 4 and head[0:1] == b"\x00" and head[2:3] == b"\x00" and head[1:2] != b"\x00":
        return "utf-16-be"
    sample = head[:8192]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or (sample and controls / len(sample) > 0.05):
        raise WorkbenchError(f"{path} is binary data, not a text log (JSONL, JSON, CSV) nor Parquet: "
                             "check that it is the export you meant")
    return "utf-8"


def utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """A UTF-8 copy of a file in another text encoding (UTF-16 exports from Windows tools),
    streamed in chunks; the readers then see ordinary UTF-8."""
    import codecs

    out = workdir / (path.name.removesuffix(".gz") + ".utf8")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with _open_bytes(path) as src, open(out, "w", encoding="utf-8", newline="") as dst:
            first = True
            while chunk := src.read(1 << 20):
                text = decoder.decode(chunk)
                if first:
                    text, first = text.removeprefix("\ufeff"), False
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise WorkbenchError(f"{path} looks like {encoding.upper()} but is not valid {encoding.upper()} "
                             f"(at byte {exc.start}): re-export it as UTF-8") from None
    return out


# DuckDB reads lines up to this size; longer ones are quarantined by `line_safe_copy`.
MAX_LINE = 32 * 2**20


def is_line_error(exc: Exception) -> bool:
    """A read that failed on one line (bad UTF-8, an over-long line), which a line-safe copy fixes."""
    s = str(exc).lower()
    return "invalid unicode" in s or "maximum line size" in s or "line size" in s


def line_safe_copy(path: Path, workdir: Path) -> tuple[Path, list[tuple[int, str, str]]]:
    """A copy of a JSONL file in which every line DuckDB cannot read (bytes that are not UTF-8, a
    line over 32 MiB) is blank, each such line recorded in `framing_rejects` with its number, its
    text (as latin-1, cut) and the reason (returned as `framing_rejects` rows), so line numbers stay
    exact and the rest of the file goes in. Only a file that failed to read takes this path."""
    out = workdir / (path.name.removesuffix(".gz") + ".lines")
    rejects = []
    with _open_bytes(path) as src, open(out, "wb") as dst:
        for n, line in enumerate(src, 1):
            body = line.rstrip(b"\r\n")
            if len(body) > MAX_LINE:
                rejects.append((n, body[:2000].decode("utf-8", "replace") + "…",
                                f"line of {len(body) / 2**20:.0f} MiB is over the 32 MiB limit of a record"))
                dst.write(b"\n")
                continue
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = body[exc.start]
                rejects.append((n, body[:100_000].decode("latin-1"),
                                f"not UTF-8: byte 0x{bad:02x} at column {exc.start + 1} "
                                "(this line looks latin-1 / cp1252 encoded)"))
                dst.write(b"\n")
                continue
            dst.write(line if line.endswith(b"\n") else line + b"\n")
    return out, rejects


def _base_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _peek(path: Path, size: int = 256 * 1024) -> str:
    try:
        with _open_text(path) as fh:
            return fh.read(size)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise WorkbenchError(f"cannot read {path}: {exc}") from None


def detect_framing_by_name(path: Path) -> str | None:
    """'parquet' when the name or the magic bytes say so (no text decoding needed), else None."""
    if _base_suffix(path) in (".parquet", ".pq"):
        return "parquet"
    try:
        with open(path, "rb") as fh:
            return "parquet" if fh.read(4) == b"PAR1" else None
    except OSError:
        return None


def detect_framing(path: Path) -> str:
    """jsonl, json_array, json_document, csv or parquet, from the extension and first bytes."""
    suffix = _base_suffix(path)
    if suffix in (".parquet", ".pq"):
        return "parquet"
    with open(path, "rb") as fh:
        if fh.read(4) == b"PAR1":
            return "parquet"
    head = _peek(path)
    stripped = head.lstrip()
    if not stripped:
        raise WorkbenchError(f"{path} is empty: nothing to ingest")
    if suffix in (".csv", ".tsv") or (stripped and stripped[0] not in "[{"):
        return "csv"
    if stripped.startswith("["):
        return "json_array"
    first_line = stripped.split("\n", 1)[0].strip()
    named_jsonl = suffix in (".jsonl", ".ndjson")
    try:
        first = json.loads(first_line)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
        pass
    else:
        # API pages saved one per line ({"data": [...]}) hold their records inside the envelope.
        if isinstance(first, dict) and any(isinstance(first.get(k), list) for k in ENVELOPE_KEYS):
            return "json_document"
        return "jsonl"
    # A pretty-printed document, or JSONL whose first line is broken: look at the next lines.
    lines = [ln.strip() for ln in stripped.split("\n")[1:20] if ln.strip()]
    parsed = 0
    for ln in lines[:-1]:  # the last one may be cut by the peek
        try:
            if isinstance(json.loads(ln), dict):
                parsed += 1
        except (ValueError, RecursionError):
            pass
    # A .jsonl name is JSON Lines even when its first line is broken and no other parses.
    return "jsonl" if parsed >= 1 or named_jsonl else "json_document"


def create_records_view(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> None:
    """Create TEMP VIEW `framed(line, raw, j)` (j NULL for a line that is no JSON object) and
    TEMP TABLE `framing_rejects(line, raw, reason)` for rows the reader itself rejected."""
    src = _quote(path)
    con.execute("CREATE OR REPLACE TEMP TABLE framing_rejects (line BIGINT, raw VARCHAR, reason VARCHAR)")
    if kind == "jsonl":
        # `file_lines` is every line, blank ones included, in file order and unnumbered: scans of
        # it run on every core. Numbering (`row_number() OVER ()`) makes a scan single-threaded,
        # so only `all_lines` (for adapters that expand records) pays for it; the pipeline's line
        # path numbers lines by the rowid of the order-preserving staging table instead.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW file_lines AS
            SELECT column0 AS raw
            FROM read_csv({src}, columns = {{'column0': 'VARCHAR'}}, header = false, delim = '{_NO_DELIM}',
                          quote = '', escape = '', auto_detect = false, max_line_size = 33554432, buffer_size = 67108864,
                          compression = 'auto')
            """
        )
        con.execute("CREATE OR REPLACE TEMP VIEW all_lines AS SELECT row_number() OVER () AS line, raw FROM file_lines")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW framed AS
            SELECT line, raw, CASE WHEN {OBJECT_START} AND json_valid(raw) THEN raw END AS j
            FROM all_lines WHERE {NOT_BLANK}
            """
        )
        return
    if kind in ("json_array", "json_document"):
        fmt = "array" if kind == "json_array" else "unstructured"
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE json_docs AS SELECT row_number() OVER () AS doc_no, json AS d "
                f"FROM read_json_objects({src}, format = '{fmt}', maximum_object_size = 134217728)"
            )
        except duckdb.Error as exc:
            if "utf-8" in str(exc).lower() or "unicode" in str(exc).lower():
                raise WorkbenchError(
                    f"{path} is not UTF-8: it looks latin-1 / cp1252 encoded (a byte such as 0xe9 for 'é'); "
                    f"re-export it as UTF-8, or convert it: iconv -f latin1 -t utf-8 {path.name} > {path.stem}.utf8.json"
                ) from None
            raise WorkbenchError(
                f"{path} is not valid JSON ({str(exc).splitlines()[0]}); fix the file, or if it is JSON Lines "
                "make sure each record is on one line"
            ) from None
        # Langfuse's UI trace download is {trace, observations}: each observation keeps its trace
        # (session, user, tags live there), as `trace` beside its own fields.
        with_trace = ("WHEN json_type(d, '$.observations') = 'ARRAY' AND json_type(d, '$.trace') = 'OBJECT' "
                      "THEN list_transform(from_json(d -> '$.observations', '[\"JSON\"]'), "
                      "lambda o: json_merge_patch(o, json_object('trace', d -> '$.trace')))")
        keys = with_trace + " " + " ".join(
            f"WHEN json_type(d, '$.{k}') = 'ARRAY' THEN from_json(d -> '$.{k}', '[\"JSON\"]')" for k in ENVELOPE_KEYS
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW framed AS
            WITH unwrapped AS (
                SELECT doc_no, unnest(CASE {keys} ELSE [d] END) AS j FROM json_docs
            )
            SELECT row_number() OVER (ORDER BY doc_no) AS line, j::VARCHAR AS raw, j FROM unwrapped
            """
        )
        return
    if kind == "csv":
        try:
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE csv_rows AS
                SELECT row_number() OVER () AS rn, to_json(t) AS j
                FROM read_csv({src}, all_varchar = true, header = true, store_rejects = true,
                              rejects_table = 'csv_reject_errors', rejects_scan = 'csv_reject_scans',
                              compression = 'auto') t
                """
            )
        except duckdb.Error as exc:
            raise WorkbenchError(f"cannot read {path} as CSV: {str(exc).splitlines()[0]}") from None
        con.execute(
            """
            INSERT INTO framing_rejects
            SELECT DISTINCT ON (line) line, csv_line, 'malformed CSV row: ' || error_message
            FROM csv_reject_errors ORDER BY line
            """
        )
        # Rejected rows leave gaps: map the n-th good row back to its line in the file.
        con.execute(
            """
            CREATE OR REPLACE TEMP VIEW framed AS
            WITH gaps AS (SELECT line - row_number() OVER (ORDER BY line) - 1 AS good_before FROM framing_rejects)
            SELECT rn + 1 + (SELECT count(*) FROM gaps WHERE good_before < rn) AS line, j::VARCHAR AS raw, j
            FROM csv_rows
            """
        )
        return
    if kind == "parquet":
        try:
            con.execute(
                f"""
                CREATE OR REPLACE TEMP VIEW framed AS
                SELECT file_row_number + 1 AS line, to_json(t)::VARCHAR AS raw, to_json(t) AS j
                FROM read_parquet({src}, file_row_number = true) t
                """
            )
        except duckdb.Error as exc:
            raise WorkbenchError(f"cannot read {path} as Parquet: {str(exc).splitlines()[0]}") from None
        return
    raise ValueError(kind)


def sample_records(con: duckdb.DuckDBPyConnection, path: Path, kind: str, n: int = 5) -> list[dict]:
    """The first few well-formed records, parsed, for format sniffing."""
    if kind == "jsonl":
        out = []
        with _open_text(path) as fh:
            for i, line in enumerate(fh):
                if i > 200 or len(out) >= n:
                    break
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(rec, dict):
                    out.append(rec)
        return out
    rows = con.execute(f"SELECT j FROM framed WHERE j IS NOT NULL LIMIT {n}").fetchall()
    out = []
    for (j,) in rows:
        try:
            out.append(json.loads(j))
        except (ValueError, RecursionError, TypeError):
            continue
    return out
