"""Pilot summary: calls, token buckets, error rate and latency percentiles per model, feature or day."""

from __future__ import annotations

import duckdb

from ..errors import WorkbenchError

GROUPINGS = {
    "model": "coalesce(provider || '/', '') || coalesce(model, '(none)')",
    "feature": "coalesce(feature, '(untagged)')",
    "day": "strftime(ts, '%Y-%m-%d')",
    "provider": "coalesce(provider, '(unknown)')",
    "prompt_version": "coalesce(prompt_version, '(none)')",
}


def summary(con: duckdb.DuckDBPyConnection, by: str = "model") -> duckdb.DuckDBPyRelation:
    """One row per group; latency percentiles over successful calls that logged a latency."""
    if by not in GROUPINGS:
        raise WorkbenchError(f"--by {by!r} is not a grouping; choose one of: {', '.join(GROUPINGS)}")
    return con.sql(
        f"""
        SELECT {GROUPINGS[by]} AS {by},
            count(*) AS calls,
            sum(input_tokens) AS input_tokens,
            sum(cache_read_tokens) AS cache_read_tokens,
            sum(cache_write_tokens) AS cache_write_tokens,
            sum(output_tokens) AS output_tokens,
            sum(reasoning_tokens) AS reasoning_tokens,
            round(avg((status = 'error')::INT), 4) AS error_rate,
            round(quantile_cont(latency_ms, 0.50) FILTER (status = 'ok'), 1) AS latency_p50_ms,
            round(quantile_cont(latency_ms, 0.95) FILTER (status = 'ok'), 1) AS latency_p95_ms,
            round(quantile_cont(latency_ms, 0.99) FILTER (status = 'ok'), 1) AS latency_p99_ms
        FROM calls
        GROUP BY ALL
        ORDER BY {"1" if by == "day" else "calls DESC, 1"}
        """
    )


def overview(con: duckdb.DuckDBPyConnection) -> dict:
    """Totals across the store: calls, window, files, quarantine (for the summary header)."""
    calls, first, last, errors = con.execute(
        "SELECT count(*), min(ts), max(ts), count(*) FILTER (status = 'error') FROM calls"
    ).fetchone()
    files, read, dups, quarantined = con.execute(
        "SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_duplicate), 0), "
        "coalesce(sum(rows_quarantined), 0) FROM ingests"
    ).fetchone()
    reasons = con.execute(
        "SELECT regexp_replace(reason, ':.*', '') AS reason, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    return {
        "calls": calls,
        "errors": errors,
        "first_call": first.isoformat() if first else None,
        "last_call": last.isoformat() if last else None,
        "files_ingested": files,
        "rows_read": int(read),
        "rows_duplicate": int(dups),
        "rows_quarantined": int(quarantined),
        "quarantine_reasons": {r: n for r, n in reasons},
    }
