"""Validation: one SELECT that maps, converts and checks every record of a file.

In: an adapter's SELECT over `records` (raw token values as text) and the user's `--set`
values. Out: the canonical columns, with `reason` NULL for a usable call and a plain-words
quarantine reason otherwise. Token arithmetic follows the adapter's convention flags (input
with or without cache, output with or without reasoning); no value can fail the file: casts
are TRY_CASTs and every out-of-range value is a reason, so one bad record costs only itself.
Credentials in the kept text (`attributes`, a quarantined record's `raw`) are redacted here,
before anything is stored (`redact.py`).
"""

from __future__ import annotations

from . import readers
from .adapters.base import ADAPTER_COLUMNS, Adapter, Options, sql_for, sql_str

# Text columns a user may set for every record of a file (`--set model=gpt-4o`).
SETTABLE = ("provider", "model", "service_tier", "feature", "environment", "prompt_version", "user_id", "session_id")

# A token count this large is a unit or parsing error, not a call (the largest context windows
# hold ~1e7 tokens); it also keeps every count far inside BIGINT, whose overflow would fail a file.
MAX_TOKENS = 1e12
_TOKENS = {  # adapter column -> words used in quarantine reasons
    "input_raw": "input tokens",
    "cache_read_raw": "cache-read tokens",
    "cache_write_raw": "cache-write tokens",
    "cache_write_1h_raw": "1-hour cache-write tokens",
    "output_raw": "output tokens",
    "reasoning_raw": "reasoning tokens",
}


def staging_sql(adapter: Adapter, options: Options, *, keeps_blank_lines: bool = False) -> str:
    """Map, convert and validate every record in one SELECT (`reason` NULL for a usable call).

    With `keeps_blank_lines` the records are every line of the file, blank ones included, so
    that row k of the result is line k; `blank` marks the lines to leave out afterwards."""
    inner = sql_for(adapter, options)
    blank = f"NOT ({readers.NOT_BLANK})" if keeps_blank_lines else "false"
    # Fill the columns the adapter leaves out; apply --set overrides.
    cols = []
    for name, typ in ADAPTER_COLUMNS.items():
        if name in options.set and name in SETTABLE:
            cols.append(f"{sql_str(options.set[name])}::{typ} AS {name}")
        else:
            cols.append(name)
    numeric = ",\n        ".join(f"TRY_CAST({c} AS DOUBLE) AS {c[:-4]}_n" for c in _TOKENS)
    checks = []
    for c, words in _TOKENS.items():
        n = f"{c[:-4]}_n"
        checks.append(f"WHEN {c} IS NOT NULL AND {n} IS NULL THEN 'non-numeric {words}: ' || left({c}, 40)")
        checks.append(f"WHEN isnan({n}) OR isinf({n}) THEN 'non-numeric {words}: ' || left({c}, 40)")
        checks.append(f"WHEN {n} < 0 THEN 'negative {words}: ' || left({c}, 40)")
        checks.append(f"WHEN {n} >= {MAX_TOKENS:.0e} THEN 'implausible {words}: ' || left({c}, 40)")
        checks.append(f"WHEN {n} <> floor({n}) THEN 'fractional {words}: ' || left({c}, 40)")
    checks_sql = "\n            ".join(checks)
    input_total = (
        "input_n" if adapter.input_includes_cache
        else "input_n + coalesce(cache_read_n, 0) + coalesce(cache_write_n, 0)"
    )
    output_total = "output_n" if adapter.output_includes_reasoning else "output_n + coalesce(reasoning_n, 0)"
    return f"""
    WITH adapted AS ({inner}),
    a AS (SELECT line, raw, {", ".join(cols)} FROM adapted),
    n AS (
        SELECT *, {numeric},
            CASE WHEN lower(coalesce(status, 'ok')) IN ('ok', 'success', 'succeeded') THEN 'ok' ELSE 'error' END AS st
        FROM a
    ),
    t AS (
        SELECT *,
            TRY_CAST(coalesce({input_total}, 0) AS BIGINT) AS input_tokens,
            TRY_CAST(coalesce(cache_read_n, 0) AS BIGINT) AS cache_read_tokens,
            TRY_CAST(coalesce(cache_write_n, cache_write_1h_n, 0) AS BIGINT) AS cache_write_tokens,
            TRY_CAST(coalesce(cache_write_1h_n, 0) AS BIGINT) AS cache_write_1h_tokens,
            TRY_CAST(coalesce({output_total}, 0) AS BIGINT) AS output_tokens,
            TRY_CAST(coalesce(reasoning_n, 0) AS BIGINT) AS reasoning_tokens
        FROM n
    ),
    v AS (
        SELECT *, CASE
            WHEN input_raw IS NULL AND output_raw IS NULL AND NOT ({readers.OBJECT_START} AND json_valid(raw))
                THEN CASE WHEN json_valid(raw) THEN 'not a JSON object' ELSE 'malformed JSON' END
            WHEN skip_reason IS NOT NULL THEN skip_reason
            {checks_sql}
            WHEN st = 'ok' AND (input_n IS NULL OR output_n IS NULL)
                THEN 'missing token counts (a successful call needs input and output tokens)'
            WHEN ts_raw IS NOT NULL AND ts IS NULL THEN 'unparseable timestamp: ' || left(ts_raw, 60)
            WHEN year(ts) NOT BETWEEN 2000 AND 2100
                THEN 'implausible timestamp ' || CAST(ts AS VARCHAR) || ' (check its unit: seconds, ms or ns?)'
            WHEN st = 'ok' AND model IS NULL THEN 'missing model (pass --set model=NAME if the source names none)'
            WHEN cache_read_tokens + cache_write_tokens > input_tokens
                THEN 'cache tokens (' || (cache_read_tokens + cache_write_tokens) || ') exceed input tokens ('
                     || input_tokens || '): the source does not follow its documented convention'
            WHEN cache_write_1h_tokens > cache_write_tokens THEN '1-hour cache writes exceed all cache writes'
            WHEN reasoning_tokens > output_tokens
                THEN 'reasoning tokens (' || reasoning_tokens || ') exceed output tokens (' || output_tokens || ')'
            WHEN latency_ms < 0 OR ttft_ms < 0 THEN 'negative latency'
            WHEN isnan(latency_ms) OR isinf(latency_ms) OR isnan(ttft_ms) OR isinf(ttft_ms)
                OR latency_ms > 8.64e7 * 7 OR ttft_ms > 8.64e7 * 7
                THEN 'implausible latency (over a week, or not a number): check its unit'
        END AS reason
        FROM t
    )
    SELECT line, {blank} AS blank, CASE WHEN reason IS NOT NULL THEN wb_redact(raw) END AS raw, reason,
        coalesce(call_id, md5(raw)) AS call_id, wb_nonempty(response_id) AS response_id, ts,
        lower(provider) AS provider, model,
        CASE WHEN service_tier IS NULL OR lower(service_tier) IN ('auto', 'standard', 'default', 'on_demand')
             THEN 'default' ELSE lower(service_tier) END AS service_tier,
        input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
        latency_ms, ttft_ms, st AS status,
        CASE WHEN st = 'error' THEN coalesce(error_type, 'other') END AS error_type, finish_reason,
        session_id, trace_id, user_id, feature, prompt_version, environment,
        CASE WHEN isfinite(logged_cost_usd) THEN logged_cost_usd END AS logged_cost_usd,
        CASE WHEN CAST(attributes AS VARCHAR) <> '{{}}' THEN CAST(wb_redact(attributes) AS JSON) END AS attributes
    FROM v
    """
