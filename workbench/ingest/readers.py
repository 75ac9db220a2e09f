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
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


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
    try:
        first = json.loads(first_line)
    except ValueError:
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
        except ValueError:
            pass
    return "jsonl" if parsed >= 1 else "json_document"


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
            raise WorkbenchError(
                f"{path} is not valid JSON ({str(exc).splitlines()[0]}); fix the file, or if it is JSON Lines "
                "make sure each record is on one line"
            ) from None
        keys = " ".join(
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
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    out.append(rec)
        return out
    rows = con.execute(f"SELECT j FROM framed WHERE j IS NOT NULL LIMIT {n}").fetchall()
    return [json.loads(r[0]) for r in rows if r[0] is not None]
