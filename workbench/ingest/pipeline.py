"""One file in: frame, map, validate, quarantine, dedupe, insert — atomically.

Everything here is set-based SQL; Python only decides which SQL to run. The heavy work
(reading and mapping the file) lands in TEMP tables outside any transaction, so the user's
database is touched only by a short transaction of INSERT ... SELECT statements: a crash or
Ctrl-C before COMMIT leaves it exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from .. import __version__
from ..errors import WorkbenchError
from . import fastpath, readers, redact
from .adapters import all_adapters, by_name
from .adapters.base import ADAPTER_COLUMNS, Adapter, Options, sql_for, sql_str
from .validate import SETTABLE, staging_sql

@dataclass
class IngestResult:
    path: str
    format: str
    sha256: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_duplicate_other_source: int = 0  # of rows_duplicate: the same provider response from another source
    redactions: int = 0  # records stored with a credential redacted
    reasons: dict[str, int] = field(default_factory=dict)
    ingest_id: int | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# What `workbench ingest` says when interrupted: the file whose transaction is open, files done.
file_in_progress: Path | None = None
files_committed = 0

# Test hook: called inside the transaction, just before COMMIT (simulates a crash there).
_before_commit = None


def _sha256_async(path: Path) -> Future:
    """Hash the file on a thread while DuckDB reads it (both release the GIL)."""
    fut: Future = Future()

    def run() -> None:
        try:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    h.update(chunk)
            fut.set_result(h.hexdigest())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            fut.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return fut


def format_names() -> list[str]:
    return [a.name for a in all_adapters()]


def choose_adapter(con: duckdb.DuckDBPyConnection, path: Path, kind: str, fmt: str | None) -> Adapter:
    if fmt:
        adapter = by_name(fmt)
        if adapter is None:
            raise WorkbenchError(f"unknown --format {fmt!r}; choose one of: {', '.join(format_names())}")
        return adapter
    samples = readers.sample_records(con, path, kind)
    if samples:
        for adapter in all_adapters():
            if adapter.framing not in ("any", "json" if kind.startswith("json") else kind):
                continue
            if any(_safe_sniff(adapter, s) for s in samples[:3]):
                return adapter
    raise WorkbenchError(
        f"cannot tell the format of {path} ({kind.replace('_', ' ')}); pass --format with one of: "
        f"{', '.join(format_names())} (see `workbench formats`)"
    )


def likely_formats(con: duckdb.DuckDBPyConnection, path: Path, exclude: str | None = None) -> list[str]:
    """The formats whose sniffers recognise this file's first records (for "did you mean" hints)."""
    try:
        kind = readers.detect_framing(path)
        samples = readers.sample_records(con, path, kind)
    except (WorkbenchError, duckdb.Error, OSError, ValueError):
        return []
    framing = "json" if kind.startswith("json") else kind
    named = [a for a in all_adapters() if a.name != exclude and a.framing in ("any", framing)
             and any(_safe_sniff(a, s) for s in samples[:3])]
    # The generic tables read anything with token columns: name them only when nothing specific fits.
    specific = [a.name for a in named if a.source_format != "generic"]
    return specific or [a.name for a in named]


def no_calls_message(con: duckdb.DuckDBPyConnection, path: Path, result: IngestResult, fmt: str | None) -> str:
    """Why a file that was read yielded no call at all, and what to try next."""
    top = max(result.reasons.items(), key=lambda kv: kv[1])[0] if result.reasons else "unusable records"
    said = f"read as {result.format}" + (" (from --format)" if fmt else " (detected)")
    head = (f"{path}: none of its {result.rows_read:,} records became a call {said}; "
            f"all are in quarantine (mostly: {top})")
    others = likely_formats(con, path, exclude=result.format)
    if others:
        return f"{head}. It looks like {' or '.join(others)}: try --format {others[0]}"
    if fmt:
        return f"{head}. Try without --format to detect the format, or see `workbench formats`"
    return f"{head}. If this file does hold LLM calls, pass the right --format (see `workbench formats`)"


def _safe_sniff(adapter: Adapter, sample: dict) -> bool:
    try:
        return bool(adapter.sniff(sample))
    except Exception:  # noqa: BLE001 - a sniffer that trips on odd input just says no
        return False


def _check_options(adapter: Adapter, options: Options) -> None:
    allowed = set(SETTABLE) | set(adapter.set_keys)
    unknown = sorted(set(options.set) - allowed)
    if unknown:
        raise WorkbenchError(f"--set {unknown[0]}=... is not a settable field; use one of: {', '.join(sorted(allowed))}")
    missing = [k for k in adapter.requires if not options.set.get(k)]
    if missing:
        example = " ".join(f"--set {k}=..." for k in missing)
        raise WorkbenchError(f"format {adapter.name} needs {example}. {adapter.hint}".strip())



def _adapter_columns_sql(adapter: Adapter, options: Options, con: duckdb.DuckDBPyConnection) -> Adapter:
    """Wrap the adapter SELECT so that every ADAPTER_COLUMNS column exists (NULL when absent)."""
    inner = sql_for(adapter, options)
    have = {r[0] for r in con.execute(f"DESCRIBE ({inner})").fetchall()}
    for required in ("line", "raw"):
        if required not in have:
            raise RuntimeError(f"adapter {adapter.name} does not output `{required}`")
    extra = [f"NULL::{typ} AS {name}" for name, typ in ADAPTER_COLUMNS.items() if name not in have]
    wrapped = f"SELECT *{', ' if extra else ''}{', '.join(extra)} FROM ({inner})"
    return Adapter(**{**adapter.__dict__, "select": wrapped})


def _records_and_columns(con: duckdb.DuckDBPyConnection, adapter: Adapter, options: Options, kind: str) -> Adapter:
    """Point the TEMP VIEW `records` at the file's records; return the adapter, all columns filled.

    JSONL read by an adapter that keeps one row per record in order gets every line, blank ones
    included, unnumbered and unvalidated: one parse per line (the adapter's extract() doubles as
    the validity check), on every core, with line numbers taken afterwards from the rowid of the
    order-preserving staging table (`row_number() OVER ()` would make the scan single-threaded).
    """
    if kind == "jsonl" and adapter.tolerates_malformed:
        con.execute("CREATE OR REPLACE TEMP VIEW records AS SELECT NULL::BIGINT AS line, raw, raw AS j FROM file_lines")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW records AS SELECT line, raw, j FROM framed WHERE j IS NOT NULL")
    if kind == "jsonl" and not adapter.tolerates_malformed:
        con.execute(
            "INSERT INTO framing_rejects SELECT line, raw, CASE WHEN json_valid(raw) THEN 'not a JSON object' "
            "ELSE 'malformed JSON' END FROM framed WHERE j IS NULL"
        )
    return _adapter_columns_sql(adapter, options, con)


class _NotClean(Exception):
    """The fast path met a record it cannot take: the general path must read the file."""


def _fast_adapter(adapter: Adapter, options: Options, path: Path, con: duckdb.DuckDBPyConnection) -> Adapter | None:
    """The adapter reading only its fields through a typed read_json (`workbench.ingest.fastpath`),
    with the TEMP VIEW `json_fields` in place; None when the fast path cannot read this adapter."""
    fast = fastpath.fast_select(sql_for(adapter, options))
    if fast is None:
        return None
    sql, fields = fast
    con.execute(f"CREATE OR REPLACE TEMP VIEW json_fields AS {fastpath.json_fields_sql(sql_str(str(path)), fields)}")
    return Adapter(**{**adapter.__dict__, "select": sql})


def _stage(con: duckdb.DuckDBPyConnection, staging_sql: str, *, clean_only: bool) -> None:
    """Materialize the staged rows in TEMP `staged_rows` and the view `staged` over them
    (line numbers from the rowid where the records had none). With `clean_only`, raise
    _NotClean unless every row is usable and has its own id."""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged_rows AS {staging_sql}")
        if clean_only:
            (unusable,) = con.execute(
                "SELECT count(*) FROM staged_rows WHERE reason IS NOT NULL OR call_id IS NULL"
            ).fetchone()
            if unusable:
                raise _NotClean
    except duckdb.Error:
        if clean_only:
            raise _NotClean from None
        raise
    con.execute(
        "CREATE OR REPLACE TEMP VIEW staged AS "
        "SELECT coalesce(line, rowid + 1) AS line, * EXCLUDE (line, blank) FROM staged_rows WHERE NOT blank"
    )


@dataclass
class _File:
    """What the transaction needs to know about the file being ingested."""

    path: Path
    src: str
    adapter: Adapter
    options_json: str
    started: datetime
    digest: Future


def _write(con: duckdb.DuckDBPyConnection, f: _File, result: IngestResult, write_calls) -> int:
    """The one transaction per file: quarantine rows, calls (`write_calls(ingest_id)` returns the
    rows it accepted), the `ingests` row. Any exception rolls all of it back.

    Rows in these tables have no order, so DuckDB may write them in any (much faster in
    parallel). Never so for staging, whose rowid numbers the lines: the setting is put back
    after COMMIT or ROLLBACK, since an aborted transaction refuses even a RESET."""
    con.execute("SET preserve_insertion_order = false")
    con.execute("BEGIN TRANSACTION")
    try:
        (ingest_id,) = con.execute("SELECT nextval('ingest_id_seq')").fetchone()
        if result.rows_quarantined:
            con.execute(
                "INSERT INTO quarantine (ingest_id, source_file, file_sha256, line, format, reason, raw) "
                "SELECT ?, ?, ?, line, ?, reason, raw FROM q_new",
                [ingest_id, f.src, result.sha256, f.adapter.name],
            )
        result.rows_accepted = write_calls(ingest_id)
        result.rows_duplicate = result.rows_read - result.rows_accepted - result.rows_quarantined
        result.redactions = _redactions(con, ingest_id)
        result.sha256 = f.digest.result()  # hashed on a thread meanwhile
        con.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
            [ingest_id, f.src, result.sha256, f.path.stat().st_size, f.adapter.name, f.options_json,
             result.rows_read, result.rows_accepted, result.rows_duplicate, result.rows_quarantined,
             f.started, __version__, result.rows_duplicate_other_source, result.redactions],
        )
        if _before_commit is not None:
            _before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("RESET preserve_insertion_order")
    return ingest_id


def _redactions(con: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
    """Records of this ingest stored with a credential redacted (`workbench.ingest.redact`)."""
    marker = f"%{redact.REDACTED}%"
    (n,) = con.execute(
        "SELECT (SELECT count(*) FROM calls WHERE ingest_id = $1 AND CAST(attributes AS VARCHAR) LIKE $2)"
        " + (SELECT count(*) FROM quarantine WHERE ingest_id = $1 AND raw LIKE $2)",
        [ingest_id, marker],
    ).fetchone()
    return n


def _ingest_direct(con: duckdb.DuckDBPyConnection, f: _File, fast: Adapter, options: Options) -> IngestResult:
    """A clean file of a family the store holds no calls of yet: insert straight from the scan.

    Nothing to dedupe against and, when every record is usable and its id unique in the file,
    nothing to quarantine: no staging table at all. Raises _NotClean (after rolling back) at
    the first record that needs the general path."""
    fmt_name = f.adapter.source_format
    # error() aborts the INSERT, and so the transaction, at the first unusable record.
    guard = "CASE WHEN reason IS NOT NULL OR call_id IS NULL THEN error('not clean') ELSE true END"

    def write_calls(ingest_id: int) -> int:
        try:
            (accepted,) = con.execute(
                f"""
                INSERT INTO calls BY NAME
                SELECT s.* EXCLUDE (line, blank, raw, reason), ? AS source_format, ? AS source_file, ? AS ingest_id
                FROM ({staging_sql(fast, options)}) s WHERE {guard}
                """,
                [fmt_name, f.src, ingest_id],
            ).fetchone()
        except duckdb.Error:
            raise _NotClean from None
        (repeats,) = con.execute(
            "SELECT count(*) - count(DISTINCT call_id) FROM calls WHERE ingest_id = ?", [ingest_id]
        ).fetchone()
        if repeats:
            raise _NotClean
        result.rows_read = accepted  # every record read was accepted
        return accepted

    result = IngestResult(path=f.src, format=f.adapter.name, sha256="")
    result.ingest_id = _write(con, f, result, write_calls)
    return result


def _ingest_staged(con: duckdb.DuckDBPyConnection, f: _File) -> IngestResult:
    """From `staged`: quarantine what is unusable, add the first of each new call_id."""
    sha = f.digest.result()
    fmt_name = f.adapter.source_format
    # New quarantine rows vs. rows this same file already put there (a re-ingest).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE q_new AS
        WITH q AS (
            SELECT line, raw, reason FROM staged WHERE reason IS NOT NULL
            UNION ALL SELECT line, wb_redact(raw), reason FROM framing_rejects
        )
        SELECT q.* FROM q ANTI JOIN (SELECT line, raw FROM quarantine WHERE file_sha256 = {sql_str(sha)}) o
            ON q.line = o.line AND q.raw IS NOT DISTINCT FROM o.raw
        """
    )
    (staged_n,) = con.execute("SELECT count(*) FROM staged").fetchone()
    (rejects_n,) = con.execute("SELECT count(*) FROM framing_rejects").fetchone()
    (q_new,) = con.execute("SELECT count(*) FROM q_new").fetchone()
    # Repeats of a call_id inside the file are rare: rank rows (a sort) only when there are some.
    (repeats,) = con.execute("SELECT count(call_id) - count(DISTINCT call_id) FROM staged WHERE reason IS NULL").fetchone()
    first_of_each = "QUALIFY row_number() OVER (PARTITION BY call_id ORDER BY line) = 1" if repeats else ""
    reasons = dict(
        con.execute(
            "SELECT regexp_replace(reason, ':.*', '') AS r, count(*) FROM q_new GROUP BY r ORDER BY 2 DESC"
        ).fetchall()
    )
    result = IngestResult(
        path=f.src, format=f.adapter.name, sha256=sha,
        rows_read=staged_n + rejects_n, rows_quarantined=q_new, reasons=reasons,
    )

    def write_calls(ingest_id: int) -> int:
        # New calls only: the first of each call_id in this file, and none already stored.
        (accepted,) = con.execute(
            f"""
            INSERT INTO calls BY NAME
            SELECT s.* EXCLUDE (line, raw, reason), ? AS source_format, ? AS source_file, ? AS ingest_id
            FROM (SELECT * FROM staged WHERE reason IS NULL {first_of_each}) s
            ANTI JOIN (SELECT call_id FROM calls WHERE source_format = {sql_str(fmt_name)}) c USING (call_id)
            WHERE s.response_id IS NULL OR s.response_id NOT IN (
                SELECT response_id FROM calls WHERE response_id IS NOT NULL AND source_format <> {sql_str(fmt_name)})
            """,
            [fmt_name, f.src, ingest_id],
        ).fetchone()
        result.rows_duplicate_other_source = _other_source_repeats(con, fmt_name, ingest_id)
        return accepted

    result.ingest_id = _write(con, f, result, write_calls)
    return result


def _other_source_repeats(con: duckdb.DuckDBPyConnection, fmt_name: str, ingest_id: int) -> int:
    """Usable calls of this file left out because another source family already logged the same
    provider response (same `response_id`), e.g. the SDK's response and the gateway's row for it."""
    (n,) = con.execute(
        f"""
        SELECT count(DISTINCT s.call_id) FROM staged s
        WHERE s.reason IS NULL AND s.response_id IN (
            SELECT response_id FROM calls WHERE response_id IS NOT NULL AND source_format <> {sql_str(fmt_name)})
          AND s.call_id NOT IN (SELECT call_id FROM calls WHERE ingest_id = ?)
        """,
        [ingest_id],
    ).fetchone()
    return n


def _response_ids_elsewhere(con: duckdb.DuckDBPyConnection, source_format: str) -> bool:
    """Does `calls` hold response ids logged by another source family (then cross-family dedupe applies)?"""
    (n,) = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM calls WHERE response_id IS NOT NULL AND source_format <> ? LIMIT 1)",
        [source_format],
    ).fetchone()
    return n > 0


def _family_stored(con: duckdb.DuckDBPyConnection, source_format: str) -> bool:
    """Does `calls` hold any call of this source family (so new ones must be deduped against it)?"""
    (n,) = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM calls WHERE source_format = ? LIMIT 1)", [source_format]
    ).fetchone()
    return n > 0


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    fmt: str | None = None,
    options: Options | None = None,
) -> IngestResult:
    """Ingest one file; return its reconciliation. Raises WorkbenchError on unusable input.

    Three ways in, one outcome: a clean JSONL file goes through a typed read_json, straight
    into `calls` when the store has no calls of its family yet, else through a staging
    table; anything else (or a clean attempt that meets a bad record) is framed line by line.
    `ingests.options.reader` records which ran."""
    options = options or Options()
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file")
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    digest = _sha256_async(path)
    workdir: list[Path] = []  # a temp folder for readable copies, made only when needed

    def scratch() -> Path:
        if not workdir:
            workdir.append(Path(tempfile.mkdtemp(prefix="workbench-ingest-")))
        return workdir[0]

    global file_in_progress, files_committed
    file_in_progress = path
    try:
        try:
            result = _ingest(con, path, fmt, options, started, t0, digest, scratch)
        except (_UnreadableLine, duckdb.Error) as exc:
            if not (isinstance(exc, _UnreadableLine) or readers.is_line_error(exc)):
                raise
            _drop_temporaries(con)
            # A line DuckDB cannot read (bytes that are not UTF-8, over 32 MiB): read a copy in which
            # such lines are blank, each quarantined with its number and reason.
            result = _ingest(con, path, fmt, options, started, t0, digest, scratch, line_safe=True)
        files_committed += 1
        file_in_progress = None  # left set when the file fails: that is the file an interrupt rolled back
        return result
    finally:
        for d in workdir:
            shutil.rmtree(d, ignore_errors=True)


class _UnreadableLine(Exception):
    """A JSONL line DuckDB's reader cannot take: the file is read again through a line-safe copy."""


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS staged")
    con.execute("DROP VIEW IF EXISTS json_fields")
    for t in ("staged_rows", "q_new", "framing_rejects", "json_docs", "csv_rows"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _ingest(con, path: Path, fmt, options: Options, started, t0, digest, scratch,
            line_safe: bool = False) -> IngestResult:
    read_path = path  # what the readers read: the file, or a UTF-8 / line-safe copy of it
    if readers.detect_framing_by_name(path) != "parquet":
        encoding = readers.text_encoding(path)
        if encoding != "utf-8":
            read_path = readers.utf8_copy(path, encoding, scratch())
    kind = readers.detect_framing(read_path)
    rejects = []
    if line_safe and kind == "jsonl":
        read_path, rejects = readers.line_safe_copy(read_path, scratch())
    readers.create_records_view(con, read_path, kind)
    if rejects:
        con.executemany("INSERT INTO framing_rejects VALUES (?, ?, ?)", rejects)
    adapter = choose_adapter(con, read_path, kind, fmt)
    _check_options(adapter, options)
    number_by_rowid = kind == "jsonl" and adapter.tolerates_malformed
    wrapped = _records_and_columns(con, adapter, options, kind)

    def file_info(reader: str) -> _File:
        opts = json.dumps({"set": options.set, "map": options.map, "framing": kind, "reader": reader})
        return _File(path, str(path.resolve()), adapter, opts, started, digest)

    try:
        result = None
        # The fast path reads the file whole: not for a copy whose unreadable lines were set apart.
        fast = _fast_adapter(wrapped, options, read_path, con) if number_by_rowid and not line_safe else None
        if fast is not None:
            try:
                if not _family_stored(con, adapter.source_format) and not _response_ids_elsewhere(
                        con, adapter.source_format):
                    result = _ingest_direct(con, file_info("read_json"), fast, options)
                else:
                    _stage(con, staging_sql(fast, options), clean_only=True)
                    result = _ingest_staged(con, file_info("read_json"))
            except _NotClean:
                result = None
        if result is None:
            try:
                _stage(con, staging_sql(wrapped, options, keeps_blank_lines=number_by_rowid), clean_only=False)
            except duckdb.Error as exc:
                if kind == "jsonl" and readers.is_line_error(exc) and not line_safe:
                    raise _UnreadableLine from None
                hint = (f" (the file was read as {adapter.name} because you passed --format)" if fmt
                        else ". If the format was guessed wrong, pass --format (see `workbench formats`)")
                raise WorkbenchError(
                    f"{path} could not be read as {adapter.name}: {str(exc).splitlines()[0]}{hint}"
                ) from None
            result = _ingest_staged(con, file_info("lines"))
    finally:
        _drop_temporaries(con)
    result.seconds = time.perf_counter() - t0
    return result
