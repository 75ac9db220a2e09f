"""Public LLM traffic traces: the Azure LLM inference trace (CSV) and the Mooncake trace (JSONL).

Neither names a model or provider: the user says what the traffic should be priced as
(`--set model=gpt-4o --set provider=azure`); the pipeline enforces `requires`.
Both count all input in one number (no cache split), so the canonical convention holds.

Neither has a request id, and identical rows do occur (the Mooncake conversation trace has one
exact duplicate line): the call_id is the content hash the pipeline would use, plus the
occurrence number among identical rows of the file from the second copy on. A re-ingest of the
same file gives the same ids (and dedupes), while real repeated requests are all kept.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ...errors import WorkbenchError
from .base import Adapter, Options, extract, sql_str

# The content hash of a record, made distinct for the 2nd, 3rd, ... identical record of a file.
_CALL_ID = "CASE WHEN occ = 1 THEN md5(raw) ELSE md5(raw || '#' || occ) END"
_OCC = "row_number() OVER (PARTITION BY raw ORDER BY line) AS occ"

# --- Azure LLM inference trace 2023/2024: TIMESTAMP,ContextTokens,GeneratedTokens -----------------

_AZURE_KEYS = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}

AZURE = Adapter(
    name="azure_trace",
    source_format="azure_trace",
    description="Azure LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens); needs --set model=",
    sniff=lambda s: _AZURE_KEYS <= set(s),
    framing="csv",
    requires=("model",),
    hint=(
        "The Azure trace names no model or provider: say what its traffic should be priced as, e.g. "
        "--set model=gpt-4o --set provider=azure (and --set feature=code or feature=conv for the service)."
    ),
    # TIMESTAMP is a naive wall-clock time with 7 fractional digits, read as UTC. DuckDB 2.0 casts
    # 7 digits; older versions do not, hence the fallback that truncates to microseconds.
    select=rf"""
WITH f AS ({extract({"t": "$.TIMESTAMP", "ctx": "$.ContextTokens", "gen": "$.GeneratedTokens"})}),
g AS (SELECT *, {_OCC} FROM f)
SELECT line, raw,
    {_CALL_ID} AS call_id,
    timezone('UTC', coalesce(TRY_CAST(t AS TIMESTAMP),
                             TRY_CAST(regexp_replace(t, '(\.\d{{6}})\d+', '\1') AS TIMESTAMP))) AS ts,
    t AS ts_raw,
    ctx AS input_raw, gen AS output_raw
FROM g
""",
)

# --- Mooncake trace: timestamp (ms from trace start), input_length, output_length, hash_ids -------

_MOONCAKE_KEYS = {"timestamp", "input_length", "output_length", "hash_ids"}
MOONCAKE_BLOCK_TOKENS = 512  # tokens per hash_ids block (FAST25-release/README.md)
# Where `timestamp` 0 lands when the user gives no --set start=...: an arbitrary, documented origin
# (the trace itself only says "one hour"); the origin used is kept in attributes.ts_origin.
MOONCAKE_DEFAULT_START = "2025-01-01T00:00:00+00:00"


def _origin(options: Options) -> datetime:
    text = options.set.get("start") or MOONCAKE_DEFAULT_START
    try:
        origin = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WorkbenchError(
            f"--set start={text!r} is not an ISO date-time; give the wall-clock time of the trace's "
            "timestamp 0, e.g. --set start=2025-01-01T00:00:00Z (naive times are UTC)"
        ) from None
    if origin.tzinfo is None:
        origin = origin.replace(tzinfo=timezone.utc)
    return origin


def _mooncake_select(options: Options) -> str:
    origin = _origin(options)
    epoch = origin.timestamp()
    origin_text = origin.astimezone(timezone.utc).isoformat()
    # prefix_reused_blocks: the leading hash_ids blocks already seen in an earlier request (by
    # timestamp, then line) = what an unbounded prefix cache would serve. Block ids are prefix
    # hashes, so the leading run ends at the first block this request is the first to show.
    return f"""
WITH f AS ({extract({"t": "$.timestamp", "inp": "$.input_length", "out": "$.output_length", "hashes": "$.hash_ids"})}),
g AS (
    SELECT *, {_OCC}, TRY_CAST(t AS DOUBLE) AS t_ms,
        row_number() OVER (ORDER BY TRY_CAST(t AS DOUBLE) NULLS LAST, line) AS seq
    FROM f
),
blocks AS (
    SELECT g.line, g.seq, b.h, b.pos
    FROM g, unnest(TRY_CAST(g.hashes AS VARCHAR[])) WITH ORDINALITY AS b(h, pos)
    WHERE b.h IS NOT NULL
),
first_seen AS (SELECT h, min(seq) AS first_seq FROM blocks GROUP BY h),
reuse AS (
    SELECT b.line,
        coalesce(min(CASE WHEN s.first_seq = b.seq THEN b.pos END) - 1, count(*)) AS reused_blocks
    FROM blocks b JOIN first_seen s USING (h)
    GROUP BY b.line
)
SELECT g.line, g.raw,
    {_CALL_ID} AS call_id,
    to_timestamp({epoch!r} + t_ms / 1000.0) AS ts, t AS ts_raw,
    inp AS input_raw, out AS output_raw,
    json_object(
        'hash_ids', TRY_CAST(hashes AS JSON),
        'prefix_reused_blocks', reuse.reused_blocks,
        'prefix_reused_tokens', least(reuse.reused_blocks * {MOONCAKE_BLOCK_TOKENS}, TRY_CAST(inp AS BIGINT)),
        'trace_ms', t_ms,
        'ts_origin', {sql_str(origin_text)}
    ) AS attributes
FROM g LEFT JOIN reuse USING (line)
"""


MOONCAKE = Adapter(
    name="mooncake_trace",
    tolerates_malformed=False,
    source_format="mooncake_trace",
    description=(
        "Mooncake trace JSONL (timestamp ms from start, input_length, output_length, hash_ids); "
        "needs --set model=, optional --set start=ISO (default 2025-01-01T00:00:00Z)"
    ),
    sniff=lambda s: _MOONCAKE_KEYS <= set(s) and isinstance(s.get("hash_ids"), list),
    framing="json",
    requires=("model",),
    set_keys=("start",),
    hint=(
        "The Mooncake trace names no model or provider: say what its traffic should be priced as, e.g. "
        "--set model=kimi-k2 --set provider=moonshot. Its timestamps are ms from the trace start: "
        f"--set start=ISO-TIME places timestamp 0 (default {MOONCAKE_DEFAULT_START})."
    ),
    select=_mooncake_select,
)

ADAPTERS = [AZURE, MOONCAKE]
