"""The workload profile: `calls` aggregated once, in DuckDB, into the small table the engine works on.

One row per feature x provider x model x prompt version x service tier x rate period x rate
multiplier x input-size bin x day, with calls and every token bucket summed, plus per-feature
sessions and peak-to-mean load. Its size does not grow with the number of calls.

It is read from `priced_calls`, so the rules a call's own record decides keep deciding its price
in the projection: the tier it was priced at (`pricing_tier`: ultrafast and balanced where the
entry has them), whether it fell in an off-peak window (`rate_period`, from its timestamp) and
Anthropic's geo/speed multiplier (`rate_multiplier`). Input-size bins end on every context
threshold in the map but one (199,999, a call of exactly 200,000 input tokens apart), so today's
mix projects to the sum of `priced_calls` (a test holds it to the cent).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from ..errors import WorkbenchError
from .evidence import observed_levers
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
    levers: dict = field(default_factory=dict)  # what the logs show (evidence.observed_levers)

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
            pricing_tier AS tier, rate_period, coalesce(rate_multiplier, 1)::DOUBLE AS rate_multiplier,
            CASE {bin_case} ELSE {len(BIN_EDGES) + 1} END AS bin,
            CAST(date_trunc('day', ts) AS DATE) AS day,
            count(*)::DOUBLE AS calls,
            sum(input_tokens)::DOUBLE AS input_tokens, sum(cache_read_tokens)::DOUBLE AS cache_read_tokens,
            sum(cache_write_tokens)::DOUBLE AS cache_write_tokens,
            sum(cache_write_1h_tokens)::DOUBLE AS cache_write_1h_tokens,
            sum(output_tokens)::DOUBLE AS output_tokens, sum(reasoning_tokens)::DOUBLE AS reasoning_tokens,
            sum(coalesce(TRY_CAST(attributes ->> '$.prefix_reused_tokens' AS DOUBLE), 0)) AS prefix_reused_tokens
        FROM priced_calls GROUP BY ALL
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
        levers=observed_levers(con),
    )
