"""Business outcomes (correlation id -> outcome, value) for cost per outcome."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkbenchError

ID_COLUMNS = ("correlation_id", "session_id", "trace_id", "conversation_id")
VALUE_COLUMNS = ("value_usd", "value")


def load_outcomes(con, path: str | Path) -> int:
    """Replace the outcomes from this file (CSV/JSONL/Parquet); return the rows it holds.

    Dedupe by content, as for calls: the same file loaded again, from any path, replaces its
    earlier rows (matched by path or by sha256), and a row another file already gave (same id,
    outcome and value: overlapping exports) is not stored twice."""
    import hashlib

    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file")
    src = "'" + str(path).replace("'", "''") + "'"
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    idc = next((c for c in ID_COLUMNS if c in cols), None)
    valc = next((c for c in VALUE_COLUMNS if c in cols), None)
    if idc is None or "outcome" not in cols:
        raise WorkbenchError(
            f"{path}: an outcomes file needs an id column ({' or '.join(ID_COLUMNS)}) and `outcome`; "
            f"it has: {', '.join(cols)}"
        )
    value = f"TRY_CAST({valc} AS DOUBLE)" if valc else "NULL"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    where = str(path.resolve())
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM outcomes WHERE source_file = ? OR source_sha256 = ?", [where, sha])
        con.execute(
            f"""
            INSERT INTO outcomes (correlation_id, outcome, value_usd, source_file, source_sha256)
            SELECT DISTINCT s.id, s.outcome, s.value, ?, ? FROM (
                SELECT CAST({idc} AS VARCHAR) AS id, CAST(outcome AS VARCHAR) AS outcome, {value} AS value
                FROM {src} WHERE {idc} IS NOT NULL) s
            WHERE NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.correlation_id = s.id AND o.outcome = s.outcome
                              AND o.value_usd IS NOT DISTINCT FROM s.value)
            """,
            [where, sha],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM outcomes WHERE source_sha256 = ?", [sha]).fetchone()[0]
