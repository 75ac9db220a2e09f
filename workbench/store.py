"""The DuckDB store: one file, numbered append-only migrations, session macros.

The schema is part of the product (users query it directly), so it changes only by adding
a new numbered file to `workbench/migrations/`.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import duckdb

from .errors import WorkbenchError
from .ingest import error_classes, redact

DEFAULT_DB = "workbench.duckdb"

# Session macros used by the ingest adapters; TEMP so they never land in the user's file.
_MACROS = r"""
-- Epoch numbers in the unit the source documents (`per_second`: 1 for s, 1000 for ms, ...). A value
-- in a finer unit than documented (ms, us or ns where seconds are promised: seen in real exports)
-- is converted by its magnitude; an absurd or non-finite one gives NULL, which the pipeline
-- quarantines as an unparseable timestamp, never failing the file.
CREATE OR REPLACE TEMP MACRO wb_epoch_s(v) AS
    CASE WHEN v IS NULL OR isnan(v) OR isinf(v) THEN NULL
         WHEN abs(v) < 1e11 THEN v
         WHEN abs(v) < 1e14 THEN v / 1e3
         WHEN abs(v) < 1e17 THEN v / 1e6
         WHEN abs(v) < 1e20 THEN v / 1e9 END;
CREATE OR REPLACE TEMP MACRO wb_ts_epoch(x, per_second) AS
    to_timestamp(wb_epoch_s(TRY_CAST(x AS DOUBLE) / per_second));
-- ISO 8601 text (naive = UTC), else RFC 2822 (`Tue, 15 Nov 1994 08:12:31 GMT`, common in HTTP-derived logs).
CREATE OR REPLACE TEMP MACRO wb_ts_iso(x) AS coalesce(TRY_CAST(x AS TIMESTAMPTZ),
    CASE WHEN regexp_matches(CAST(x AS VARCHAR), '^\s*([A-Za-z]{3}, )?\d{1,2} [A-Za-z]{3} \d{4} ')
         THEN CAST(try_strptime(trim(CAST(x AS VARCHAR)), ['%a, %d %b %Y %H:%M:%S %z', '%a, %d %b %Y %H:%M:%S %Z',
              '%d %b %Y %H:%M:%S %z', '%d %b %Y %H:%M:%S %Z']) AS TIMESTAMPTZ) END);
-- JSON values that arrive as a JSON-encoded string (CSV exports) become JSON again.
CREATE OR REPLACE TEMP MACRO wb_obj(x) AS
    CASE WHEN json_type(x) = 'VARCHAR' AND json_valid(x ->> '$') THEN json(x ->> '$') ELSE x END;
CREATE OR REPLACE TEMP MACRO wb_nonempty(x) AS nullif(trim(CAST(x AS VARCHAR)), '');
-- A card number passes the Luhn checksum (13-19 digits; spaces and dashes ignored). No subquery:
-- the PII probe calls it inside a lambda.
CREATE OR REPLACE TEMP MACRO wb_luhn_digits(ds) AS len(ds) BETWEEN 13 AND 19 AND list_sum(list_transform(ds,
    lambda x, i: CASE WHEN i % 2 = 0 THEN (CASE WHEN x * 2 > 9 THEN x * 2 - 9 ELSE x * 2 END) ELSE x END)) % 10 = 0;
CREATE OR REPLACE TEMP MACRO wb_luhn(s) AS wb_luhn_digits(list_reverse(list_transform(
    string_split(regexp_replace(s, '[^0-9]', '', 'g'), ''), lambda c: CAST(c AS INTEGER))));
"""


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """`--db`, else `WORKBENCH_DB`, else `workbench.duckdb` in the working directory."""
    return Path(db or os.environ.get("WORKBENCH_DB") or DEFAULT_DB)


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every bundled migration, in order."""
    found = []
    for entry in resources.files("workbench.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text()))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this file has not seen yet; return their names."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


_LOG_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".gz", ".zip", ".yaml", ".yml")


def check_database_file(path: Path) -> None:
    """Refuse a `--db` that is not a DuckDB database: DuckDB itself would open a CSV or JSON
    path as an empty in-memory database, and everything written to it would be lost on exit."""
    if path.is_dir():
        raise WorkbenchError(f"--db {path} is a directory; give a database file, e.g. --db {path / DEFAULT_DB}")
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            head = fh.read(12)
        if head[8:12] != b"DUCK":
            hint = (f"; to load it, run `workbench ingest {path} --db pilot.duckdb`"
                    if path.name.lower().endswith(_LOG_SUFFIXES) else "")
            raise WorkbenchError(f"--db {path} is not a DuckDB database (it looks like a data file){hint}")
    elif not path.exists() and path.name.lower().endswith(_LOG_SUFFIXES):
        raise WorkbenchError(f"--db {path}: a database file name must not look like a log file "
                             f"(use e.g. {path.with_suffix('.duckdb').name})")


_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


def lock_holder(message: str) -> tuple[int, str] | None:
    """(PID, what it is running) of the process holding a DuckDB file, from DuckDB's lock error."""
    m = _HOLDER.search(message)
    if not m:
        return None
    pid = int(m["pid"])
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [a.decode(errors="replace") for a in argv if a]
    except OSError:
        words = [m["exe"]]
    # `python -m workbench ingest ...` / `.../bin/workbench ingest ...` -> `workbench ingest`
    for i, w in enumerate(words):
        if w == "workbench" or w.endswith("/workbench"):
            return pid, " ".join(["workbench", *words[i + 1:i + 2]])
    if any("ipykernel" in w or "jupyter" in w or "voila" in w for w in words):
        return pid, "a Jupyter kernel (an open notebook)"
    return pid, " ".join(Path(words[0]).name if j == 0 else w for j, w in enumerate(words[:3])) if words else m["exe"]


def _connect_waiting(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file; while another process holds it (DuckDB: one writer process, or readers
    only), wait a bounded time ($WORKBENCH_LOCK_WAIT seconds, default 30), saying once who
    holds it, then fail with what to do."""
    import sys
    import time

    budget = float(os.environ.get("WORKBENCH_LOCK_WAIT", "30"))
    deadline = time.monotonic() + budget
    said = False
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = lock_holder(str(exc))
            if holder is None:
                raise WorkbenchError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
            pid, what = holder
            if time.monotonic() >= deadline:
                raise WorkbenchError(
                    f"{path} is in use by {what} (PID {pid}) and stayed so for {budget:g} s: wait for it to finish, "
                    f"or close it (in a notebook: `wb.close()`, or restart its kernel), then run this again"
                ) from None
            if not said:
                print(f"{path.name} is being used by {what} (PID {pid}) — retrying for {budget:g} s", file=sys.stderr)
                said = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)


def connect(db: str | os.PathLike | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating and migrating if needed) the workbench database."""
    path = resolve_db_path(db)
    check_database_file(path)
    if read_only and not path.exists():
        raise WorkbenchError(f"no database at {path}: run `workbench ingest PATH --db {path}` first")
    con = _connect_waiting(path, read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # ours goes to stderr; DuckDB's would pollute stdout
    # Bounded memory: big ingests and aggregations spill to disk instead of growing without limit.
    con.execute(f"SET memory_limit = '{os.environ.get('WORKBENCH_MEMORY_LIMIT', '1GB')}'")
    if not read_only:
        migrate(con)
    elif not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'").fetchone():
        con.close()
        raise WorkbenchError(f"{path} is a DuckDB database but not a workbench one (no schema_migrations table): "
                             f"ingest logs into it first, or pick the right --db")
    con.execute(_MACROS + error_classes.macro_sql() + redact.macro_sql())
    return con
