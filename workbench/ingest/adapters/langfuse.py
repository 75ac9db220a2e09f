"""Langfuse observations: the public API (camelCase) and the blob-storage export (snake_case).

Only GENERATION observations are LLM calls. Every other type (SPAN, EVENT, AGENT, TOOL, ...)
is output with a `skip_reason`, so it lands in quarantine and the counts reconcile.

`usageDetails` holds DISJOINT buckets that sum to `total`: on ingest Langfuse subtracts every
`prompt_tokens_details` entry (cache reads, cache writes, audio, ...) from `input` and every
`completion_tokens_details` entry (reasoning, audio, ...) from `output`. So:
- input  = every input-family key (`input`, `input_tokens`, `input_audio_tokens`, ...) except the
  cache keys, which go to cache_read / cache_write; the pipeline adds those back
  (`input_includes_cache=False`);
- output = every output-family key except the reasoning ones (`output_includes_reasoning=False`).
Cache writes come either as one total (`input_cache_creation` / `cache_creation_input_tokens`) or
split by TTL (`input_cache_creation_5m` / `_1h`); some senders write both (the total beside its
split), others only one: the larger of the total and the split's sum is taken, never both added.
"""

from __future__ import annotations

from .base import Adapter, extract

# Observation types Langfuse knows (v3); only GENERATION is an LLM call.
OBSERVATION_TYPES = frozenset(
    {"GENERATION", "SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL"}
)

# Aliases of one bucket (one of them per record), first found wins.
_CACHE_READ_KEYS = ("input_cached_tokens", "input_cache_read", "cache_read_input_tokens")
_CACHE_WRITE_KEYS = ("input_cache_creation", "cache_creation_input_tokens", "input_cache_write_tokens",
                     "cache_write_tokens")
_REASONING_KEYS = ("output_reasoning_tokens", "output_reasoning", "reasoning_tokens")

# Disjoint input / output buckets that are summed (cache and reasoning keys excluded: they have columns).
_INPUT_KEY = "(e.key = 'input' OR starts_with(e.key, 'input_')) AND NOT starts_with(e.key, 'input_cache')"
_OUTPUT_KEY = "(e.key = 'output' OR starts_with(e.key, 'output_')) AND NOT starts_with(e.key, 'output_reasoning')"


def tokens_text(total: str, parts: str) -> str:
    """Token text for a sum: `parts` is the list of the texts summed (NULLs removed), `total` their
    sum as DOUBLE. NULL for no parts, the text itself for one, the first non-numeric text if any
    (so the pipeline reports it), else the sum ('1234' for whole numbers)."""
    bad = f"list_filter({parts}, lambda v: TRY_CAST(v AS DOUBLE) IS NULL)[1]"
    whole = f"CASE WHEN {total} = trunc({total}) THEN CAST(CAST({total} AS HUGEINT) AS VARCHAR) ELSE CAST({total} AS VARCHAR) END"
    return f"CASE len({parts}) WHEN 0 THEN NULL WHEN 1 THEN {parts}[1] ELSE coalesce({bad}, {whole}) END"


def cache_write_sql(total: str, w5m: str, w1h: str) -> tuple[str, str]:
    """(parts, DOUBLE) SQL for all cache writes from a flat total and/or its 5m/1h split, never counting
    both: the larger of the total and the split's sum (senders that split either zero the total or
    keep it beside the split). Feed both to `tokens_text` after naming them in a CTE."""
    parts = f"list_filter([{total}, {w5m}, {w1h}], lambda v: v IS NOT NULL)"
    value = (f"greatest(coalesce(TRY_CAST({total} AS DOUBLE), 0), "
             f"coalesce(TRY_CAST({w5m} AS DOUBLE), 0) + coalesce(TRY_CAST({w1h} AS DOUBLE), 0))")
    return parts, value


def _bucket_values(mp: str, predicate: str) -> str:
    """Non-empty text values of the entries `e` of MAP `mp` that satisfy `predicate`."""
    return (f"list_filter([nullif(trim(e.value), '') FOR e IN map_entries({mp}) IF {predicate}], "
            "lambda v: v IS NOT NULL)")


def _json_text(x: str) -> str:
    """Extracted JSON text (an object or array, or a JSON-encoded string of one as CSV exports
    write it; ClickHouse map literals with single quotes too) -> JSON, else NULL."""
    fixed = f"CASE WHEN json_valid({x}) THEN {x} ELSE replace({x}, '''', '\"') END"
    return f"TRY_CAST(wb_obj(TRY_CAST({fixed} AS JSON)) AS JSON)"


# Logical field -> JSON path, per variant. Both variants produce the same logical columns.
_API = {
    "id": "$.id", "trace": "$.traceId", "otype": "$.type", "oname": "$.name",
    "t_start": "$.startTime", "t_end": "$.endTime", "t_first": "$.completionStartTime",
    "model": "$.model", "model2": "$.providedModelName", "internal_model": "$.internalModelId",
    "internal_model2": "$.modelId",
    "usage": "$.usageDetails", "usage2": "$.usage", "usage_in": "$.promptTokens", "usage_out": "$.completionTokens",
    "cost": "$.costDetails", "total_cost": "$.totalCost", "total_cost2": "$.calculatedTotalCost",
    "level": "$.level", "status_message": "$.statusMessage",
    "prompt_name": "$.promptName", "prompt_ver": "$.promptVersion", "prompt_id": "$.promptId",
    "latency_s": "$.latency", "ttft_s": "$.timeToFirstToken",
    "session": "$.sessionId", "user": "$.userId", "tags": "$.tags", "environment": "$.environment",
    "release": "$.release", "trace_name": "$.traceName", "version": "$.version",
    "parent": "$.parentObservationId", "metadata": "$.metadata", "model_params": "$.modelParameters",
    "pricing_tier": "$.usagePricingTierName",
}
_EXPORT = {
    "id": "$.id", "trace": "$.trace_id", "otype": "$.type", "oname": "$.name",
    "t_start": "$.start_time", "t_end": "$.end_time", "t_first": "$.completion_start_time",
    "model": "$.provided_model_name", "model2": "$.model", "internal_model": "$.internal_model_id",
    "internal_model2": "$.model_id",
    "usage": "$.usage_details", "usage2": "$.provided_usage_details", "usage_in": "$.prompt_tokens",
    "usage_out": "$.completion_tokens",
    "cost": "$.cost_details", "total_cost": "$.total_cost", "total_cost2": "$.calculated_total_cost",
    "level": "$.level", "status_message": "$.status_message",
    "prompt_name": "$.prompt_name", "prompt_ver": "$.prompt_version", "prompt_id": "$.prompt_id",
    "latency_s": "$.latency", "ttft_s": "$.time_to_first_token",
    "session": "$.session_id", "user": "$.user_id", "tags": "$.tags", "environment": "$.environment",
    "release": "$.release", "trace_name": "$.trace_name", "version": "$.version",
    "parent": "$.parent_observation_id", "metadata": "$.metadata", "model_params": "$.model_parameters",
    "pricing_tier": "$.usage_pricing_tier_name",
}

# Paths read from metadata (one parse).
_META_PATHS = ["$.feature", "$.session_id", "$.conversation_id", "$.user_id", "$.provider", "$.ls_provider",
               "$.prompt_version", "$.finish_reason", "$.service_tier"]
_M = {p[2:]: i for i, p in enumerate(_META_PATHS, 1)}


def _u(*keys: str) -> str:
    """The first non-empty of these usage keys (aliases of one bucket)."""
    return "coalesce(" + ", ".join(f"nullif(trim(mp['{k}']), '')" for k in keys) + ")"


def _m(key: str) -> str:
    return f"wb_nonempty(mk[{_M[key]}])"


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


_CW_PARTS, _CW_VALUE = cache_write_sql("cw_total", "cw_5m", "cw_1h")


def _select(paths: dict[str, str]) -> str:
    return f"""
WITH f AS ({extract(paths)}),
g AS (
    SELECT *,
        coalesce({_json_text('usage')}, {_json_text('usage2')}) AS u,
        {_json_text('metadata')} AS m, {_json_text('cost')} AS c,
        wb_ts_iso(wb_nonempty(t_start)) AS t_start_ts, wb_ts_iso(wb_nonempty(t_end)) AS t_end_ts,
        wb_ts_iso(wb_nonempty(t_first)) AS t_first_ts,
        upper(coalesce(wb_nonempty(otype), 'unknown')) AS kind
    FROM f
),
h AS (
    SELECT *,
        json_extract_string(m, {_sql_list(_META_PATHS)}) AS mk,
        {_bucket_values('mp', _INPUT_KEY)} AS in_vals,
        {_bucket_values('mp', _OUTPUT_KEY)} AS out_vals
    FROM (SELECT *, from_json(u, '"MAP(VARCHAR, VARCHAR)"') AS mp FROM g)
),
k AS (
    SELECT *,
        list_sum(list_transform(in_vals, lambda v: TRY_CAST(v AS DOUBLE))) AS in_sum,
        list_sum(list_transform(out_vals, lambda v: TRY_CAST(v AS DOUBLE))) AS out_sum,
        {_u(*_CACHE_WRITE_KEYS)} AS cw_total, {_u('input_cache_creation_5m')} AS cw_5m,
        {_u('input_cache_creation_1h')} AS cw_1h
    FROM h
),
n AS (SELECT *, {_CW_PARTS} AS cw_parts, {_CW_VALUE} AS cw_value FROM k)
SELECT line, raw,
    wb_nonempty(id) AS call_id, t_start_ts AS ts, wb_nonempty(t_start) AS ts_raw,
    coalesce({_m('provider')}, {_m('ls_provider')}) AS provider,
    coalesce(wb_nonempty(model), wb_nonempty(model2)) AS model,
    coalesce(wb_nonempty(json_extract_string(TRY_CAST(model_params AS JSON), '$.service_tier')),
             {_m('service_tier')}) AS service_tier,
    coalesce({tokens_text('in_sum', 'in_vals')}, wb_nonempty(usage_in)) AS input_raw,
    {_u(*_CACHE_READ_KEYS)} AS cache_read_raw,
    CASE WHEN cw_5m IS NULL AND cw_1h IS NULL THEN cw_total ELSE {tokens_text('cw_value', 'cw_parts')} END
        AS cache_write_raw,
    cw_1h AS cache_write_1h_raw,
    coalesce({tokens_text('out_sum', 'out_vals')}, wb_nonempty(usage_out)) AS output_raw,
    {_u(*_REASONING_KEYS)} AS reasoning_raw,
    coalesce(TRY_CAST(latency_s AS DOUBLE) * 1000,
             (epoch_us(t_end_ts) - epoch_us(t_start_ts)) / 1000.0) AS latency_ms,
    coalesce(TRY_CAST(ttft_s AS DOUBLE) * 1000,
             (epoch_us(t_first_ts) - epoch_us(t_start_ts)) / 1000.0) AS ttft_ms,
    CASE WHEN upper(level) = 'ERROR' THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN upper(level) = 'ERROR' THEN wb_error_class(NULL, status_message) END AS error_type,
    {_m('finish_reason')} AS finish_reason,
    coalesce(wb_nonempty(session), {_m('session_id')}, {_m('conversation_id')}) AS session_id,
    wb_nonempty(trace) AS trace_id,
    coalesce(wb_nonempty(user), {_m('user_id')}) AS user_id,
    coalesce({_m('feature')}, wb_nonempty(trace_name)) AS feature,
    coalesce(wb_nonempty(prompt_name) || coalesce('@' || wb_nonempty(prompt_ver), ''), {_m('prompt_version')})
        AS prompt_version,
    wb_nonempty(environment) AS environment,
    TRY_CAST(coalesce(json_extract_string(c, '$.total'), wb_nonempty(total_cost), wb_nonempty(total_cost2))
             AS DOUBLE) AS logged_cost_usd,
    json_object(
        'observation_name', wb_nonempty(oname), 'observation_type', kind, 'level', wb_nonempty(level),
        'status_message', wb_nonempty(status_message), 'parent_observation_id', wb_nonempty(parent),
        'trace_name', wb_nonempty(trace_name), 'tags', {_json_text('tags')}, 'release', wb_nonempty(release),
        'version', wb_nonempty(version), 'prompt_id', wb_nonempty(prompt_id),
        'internal_model_id', coalesce(wb_nonempty(internal_model), wb_nonempty(internal_model2)),
        'pricing_tier', wb_nonempty(pricing_tier), 'usage_details', u, 'cost_details', c,
        'model_parameters', {_json_text('model_params')}, 'metadata', m
    ) AS attributes,
    CASE WHEN kind <> 'GENERATION' THEN 'not an LLM call: Langfuse observation type ' || kind END
        AS skip_reason
FROM n
"""


def _is_observation(s: dict, trace_key: str, start_key: str) -> bool:
    return s.get("type") in OBSERVATION_TYPES and trace_key in s and start_key in s and "id" in s


API = Adapter(
    name="langfuse_api",
    source_format="langfuse",
    description="Langfuse public API observations (Observation / ObservationsView / ObservationV2, camelCase); "
    "a page {data: [...]} is unwrapped. Non-GENERATION observations are quarantined",
    sniff=lambda s: _is_observation(s, "traceId", "startTime"),
    select=_select(_API),
    input_includes_cache=False,
    output_includes_reasoning=False,
)

EXPORT = Adapter(
    name="langfuse_export",
    source_format="langfuse",
    description="Langfuse blob-storage export of observations (snake_case ClickHouse columns; JSONL, JSON, CSV "
    "or Parquet). Non-GENERATION observations are quarantined",
    sniff=lambda s: _is_observation(s, "trace_id", "start_time") and "run_type" not in s,
    select=_select(_EXPORT),
    input_includes_cache=False,
    output_includes_reasoning=False,
    framing="any",
)

ADAPTERS = [API, EXPORT]
