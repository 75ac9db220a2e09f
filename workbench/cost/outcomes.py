"""Business outcomes (correlation id -> outcome, value) for cost per outcome."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkbenchError

ID_COLUMNS = ("correlation_id", "session_id", "trace_id", "conversation_id")
VALUE_COLUMNS = ("value_usd", "value")


def load_outcomes(con, path: str | Path) -> int:
    """Replace the outcomes from this file (CSV/JSONL/Parquet); return the rows loaded."""
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
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM outcomes WHERE source_file = ?", [str(path.resolve())])
    con.execute(
        f"INSERT INTO outcomes (correlation_id, outcome, value_usd, source_file) "
        f"SELECT CAST({idc} AS VARCHAR), CAST(outcome AS VARCHAR), {value}, ? FROM {src} WHERE {idc} IS NOT NULL",
        [str(path.resolve())],
    )
    con.execute("COMMIT")
    return con.execute("SELECT count(*) FROM outcomes WHERE source_file = ?", [str(path.resolve())]).fetchone()[0]
