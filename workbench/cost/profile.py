"""The workload profile: `calls` aggregated once, in DuckDB, into the small table the engine works on.

One row per feature x provider x model x prompt version x service tier x input-size bin x day,
with calls and every token bucket summed, plus per-feature sessions and peak-to-mean load. Its
size does not grow with the number of calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from ..errors import WorkbenchError
from .scenario import BIN_EDGES, DAYS_PER_MONTH

# ---------------------------------------------------------------------------------------------
# The workload profile
# ---------------------------------------------------------------------------------------------


@dataclass
class Profile:
    rows: pd.DataFrame  # KEY_COLS + calls + TOKEN_COLS
    window_days: float
    first: str | None
    last: str | None
    sessions: dict[str, int]  # feature -> distinct sessions
    peak_to_mean: dict[str, float]  # feature -> peak hourly tokens / mean hourly tokens
    fingerprint: str
    calls: int

    @property
    def monthly_factor(self) -> float:
        return DAYS_PER_MONTH / self.window_days

    @property
    def days(self) -> list:
        return sorted(self.rows["day"].unique())


def build_profile(con) -> Profile:
    """Aggregate `calls` once (DuckDB) into the profile the engine works on."""
    bin_case = " ".join(f"WHEN input_tokens <= {e} THEN {i}" for i, e in enumerate(BIN_EDGES, 1))
    rows = con.execute(
        f"""
        SELECT coalesce(feature, '(untagged)') AS feature, provider, model, prompt_version,
            CASE WHEN service_tier IN ('batch', 'flex', 'priority') THEN service_tier ELSE 'default' END AS tier,
            CASE {bin_case} ELSE {len(BIN_EDGES) + 1} END AS bin,
            CAST(date_trunc('day', ts) AS DATE) AS day,
            count(*)::DOUBLE AS calls,
            sum(input_tokens)::DOUBLE AS input_tokens, sum(cache_read_tokens)::DOUBLE AS cache_read_tokens,
            sum(cache_write_tokens)::DOUBLE AS cache_write_tokens,
            sum(cache_write_1h_tokens)::DOUBLE AS cache_write_1h_tokens,
            sum(output_tokens)::DOUBLE AS output_tokens, sum(reasoning_tokens)::DOUBLE AS reasoning_tokens,
            sum(coalesce(TRY_CAST(attributes ->> '$.prefix_reused_tokens' AS DOUBLE), 0)) AS prefix_reused_tokens
        FROM calls GROUP BY ALL
        """
    ).df()
    if rows.empty:
        raise WorkbenchError("no calls to project: run `workbench ingest PATH` first")
    rows["bin"] = rows["bin"].astype(int)
    first, last, seconds = con.execute(
        "SELECT min(ts), max(ts), epoch(max(ts)) - epoch(min(ts)) FROM calls"
    ).fetchone()
    window_days = max((seconds or 0) / 86400, 1 / 24)  # at least an hour
    sessions = dict(con.execute(
        "SELECT coalesce(feature, '(untagged)'), count(DISTINCT session_id) FROM calls GROUP BY 1"
    ).fetchall())
    peak = dict(con.execute(
        """
        WITH h AS (SELECT coalesce(feature, '(untagged)') AS feature, date_trunc('hour', ts) AS hour,
                          sum(input_tokens + output_tokens) AS tokens FROM calls WHERE ts IS NOT NULL GROUP BY ALL),
        span AS (SELECT greatest((epoch(max(ts)) - epoch(min(ts))) / 3600, 1) AS hours FROM calls)
        SELECT feature, max(tokens) / (sum(tokens) / any_value(span.hours)) FROM h, span GROUP BY feature
        """
    ).fetchall())
    fp = con.execute("SELECT string_agg(sha256, ',' ORDER BY sha256) FROM (SELECT DISTINCT sha256 FROM ingests)").fetchone()[0]
    return Profile(
        rows=rows, window_days=window_days,
        first=first.isoformat() if first else None, last=last.isoformat() if last else None,
        sessions=sessions, peak_to_mean={k: float(v or 1) for k, v in peak.items()},
        fingerprint=hashlib.sha256((fp or "").encode()).hexdigest(), calls=int(rows["calls"].sum()),
    )
