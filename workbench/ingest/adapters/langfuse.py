"""Langfuse observations: the public API (camelCase), the UI's trace download, the blob-storage export.

Shapes read (sniffed on the observation):
- public API `GET /api/public/observations` (a page `{data: [...]}` is unwrapped), ObservationsView, ObservationV2;
- the UI's trace download `{trace, observations}` (camelCase observations; the envelope is unwrapped by the
  framing). `sessionId` / `userId` live on the TRACE there; the observations carry them only as OTel span
  attributes (`metadata.attributes["session.id"]` / `["user.id"]`, or `langfuse.session.id` / `langfuse.user.id`),
  which are read as the fallback; a `trace` object beside the observation (`$.trace.sessionId`) is read first;
- the blob-storage export (snake_case ClickHouse columns; JSONL, JSON, CSV or Parquet).

Only GENERATION observations are LLM calls. Every other type (SPAN, EVENT, AGENT, TOOL, ...)
is output with a `skip_reason`, so it lands in quarantine and the counts reconcile.

Time. `latency` is in SECONDS in the public API but in MILLISECONDS in the UI download (the UI's own
observation view, recognisable by its `inputUsage` / `outputUsage` / `totalUsage` fields). So latency is
`endTime - startTime` (unit-free) wherever both are there; only without them is `latency` read, as ms in
the UI shape and as seconds otherwise. TTFT likewise: `completionStartTime - startTime`, else
`timeToFirstToken` in the same unit as `latency`.

Tokens: two conventions, decided PER OBSERVATION.
- Documented (Langfuse SDKs, the API): `usageDetails` holds DISJOINT buckets that sum to `total`: the
  SDKs subtract every `prompt_tokens_details` entry (cache reads, cache writes, audio, ...) from `input`
  and every `completion_tokens_details` entry (reasoning, audio, ...) from `output`. So input = every
  input-family key (`input`, `input_tokens`, `input_audio_tokens`, ...) + cache reads + cache writes, and
  output = every output-family key + reasoning.
- Inclusive (observations Langfuse ingested from OpenTelemetry: OpenInference, other OTel instrumentations):
  `input` is ALL input (cache reads included) and `output` ALL output (REASONING INCLUDED), `total` =
  input + output, and the detail keys are parts, named as the producer wrote them (OpenInference:
  `prompt_details.cache_read`, `completion_details.reasoning`).
The rule: an observation is inclusive when (1) `usageDetails.total` = `input` + `output` while some other
key is nonzero (a disjoint sender's total would also count that key), or (2) a usage key is an
OpenInference detail name (`prompt_details.*`, `completion_details.*`), or (3) `metadata.scope.name`
(the OTel instrumentation scope) is present and is not a Langfuse SDK (`langfuse-sdk`, which computes
disjoint buckets itself). Otherwise the documented disjoint rule applies. Where all detail keys are 0
the two conventions give the same numbers.

Cache writes come either as one total (`input_cache_creation` / `cache_creation_input_tokens`) or
split by TTL (`input_cache_creation_5m` / `_1h`); some senders write both (the total beside its
split), others only one: the larger of the total and the split's sum is taken, never both added.
The adapter outputs the canonical totals itself (`input_includes_cache` / `output_includes_reasoning`
are True), so the pipeline's "cache exceeds input" / "reasoning exceeds output" checks see the
source's own numbers.

`response_id` is the provider's id when the observation's `output` is the provider response
(`output.id` = `resp_…` / `chatcmpl-…` / `msg_…` / `gen-…`, or Gemini's `output.response_id`).
"""

from __future__ import annotations

from .base import Adapter, extract

# Observation types Langfuse knows (v3); only GENERATION is an LLM call.
OBSERVATION_TYPES = frozenset(
    {"GENERATION", "SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL"}
)

# Aliases of one bucket (one of them per record), first found wins.
_CACHE_READ_KEYS = ("input_cached_tokens", "input_cache_read", "cache_read_input_tokens", "prompt_details.cache_read",
                    "cache_read")
_CACHE_WRITE_KEYS = ("input_cache_creation", "cache_creation_input_tokens", "input_cache_write_tokens",
                     "cache_write_tokens", "prompt_details.cache_write", "cache_write")
_REASONING_KEYS = ("output_reasoning_tokens", "output_reasoning", "reasoning_tokens", "completion_details.reasoning",
                   "reasoning")

# Disjoint input / output buckets that are summed (cache and reasoning keys excluded: they have columns).
_INPUT_KEY = "(e.key = 'input' OR starts_with(e.key, 'input_')) AND NOT starts_with(e.key, 'input_cache')"
_OUTPUT_KEY = "(e.key = 'output' OR starts_with(e.key, 'output_')) AND NOT starts_with(e.key, 'output_reasoning')"
# OpenInference detail names as Langfuse's OTel ingestion copies them (parts of input / output).
_OPENINFERENCE_KEY = "(starts_with(e.key, 'prompt_details.') OR starts_with(e.key, 'completion_details.'))"
# Provider response ids (the observation's output is the provider response).
_RESPONSE_ID = "^(chatcmpl-|resp_|msg_|gen-|cmpl-)"


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
    # The UI's own observation view (trace download): its latency / timeToFirstToken are milliseconds.
    "ui_usage": "$.totalUsage", "ui_usage2": "$.inputUsage",
    "output": "$.output", "trace_obj": "$.trace",
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
    "ui_usage": "$.total_usage", "ui_usage2": "$.input_usage",
    "output": "$.output", "trace_obj": "$.trace",
}

# Paths read from metadata (one parse). OTel-ingested observations keep the span attributes and the
# instrumentation scope there.
_META_PATHS = ["$.feature", "$.session_id", "$.conversation_id", "$.user_id", "$.provider", "$.ls_provider",
               "$.prompt_version", "$.finish_reason", "$.service_tier",
               '$.attributes."llm.provider"', '$.attributes."gen_ai.provider.name"', '$.attributes."llm.system"',
               '$.attributes."gen_ai.system"', '$.attributes."session.id"', '$.attributes."langfuse.session.id"',
               '$.attributes."gen_ai.conversation.id"', '$.attributes."user.id"', '$.attributes."langfuse.user.id"',
               "$.scope.name"]
_M = {p[2:]: i for i, p in enumerate(_META_PATHS, 1)}
# Paths read from a `trace` object beside the observation (the UI download's trace).
_TRACE_PATHS = ["$.sessionId", "$.userId", "$.name", "$.release", "$.environment", "$.session_id", "$.user_id"]
_T = {p[2:]: i for i, p in enumerate(_TRACE_PATHS, 1)}


def _u(*keys: str) -> str:
    """The first non-empty of these usage keys (aliases of one bucket)."""
    return "coalesce(" + ", ".join(f"nullif(trim(mp['{k}']), '')" for k in keys) + ")"


def _m(key: str) -> str:
    return f"wb_nonempty(mk[{_M[key]}])"


def _t(key: str) -> str:
    return f"wb_nonempty(tk[{_T[key]}])"


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


_CW_PARTS, _CW_VALUE = cache_write_sql("cw_total", "cw_5m", "cw_1h")

# A duration in the record's unit -> ms: the UI's observation view writes ms, the API seconds.
_TO_MS = "CASE WHEN ui_shape THEN 1 ELSE 1000 END"


def _select(paths: dict[str, str]) -> str:
    return f"""
WITH f AS ({extract(paths)}),
g AS (
    SELECT *,
        coalesce({_json_text('usage')}, {_json_text('usage2')}) AS u,
        {_json_text('metadata')} AS m, {_json_text('cost')} AS c,
        TRY_CAST(trace_obj AS JSON) AS tj,
        wb_ts_iso(wb_nonempty(t_start)) AS t_start_ts, wb_ts_iso(wb_nonempty(t_end)) AS t_end_ts,
        wb_ts_iso(wb_nonempty(t_first)) AS t_first_ts,
        upper(coalesce(wb_nonempty(otype), 'unknown')) AS kind,
        (ui_usage IS NOT NULL OR ui_usage2 IS NOT NULL) AS ui_shape,
        -- only an object output can be the provider response (a text output is never parsed)
        CASE WHEN left(output, 1) = '{{' THEN try(json_extract_string(output, ['$.id', '$.response_id', '$.responseId']))
        END AS out_ids
    FROM f
),
h AS (
    SELECT *,
        json_extract_string(m, {_sql_list(_META_PATHS)}) AS mk,
        json_extract_string(tj, {_sql_list(_TRACE_PATHS)}) AS tk,
        {_bucket_values('mp', _INPUT_KEY)} AS in_vals,
        {_bucket_values('mp', _OUTPUT_KEY)} AS out_vals,
        list_sum([coalesce(TRY_CAST(e.value AS DOUBLE), 0) FOR e IN map_entries(mp)
                  IF e.key NOT IN ('input', 'output', 'total')]) AS detail_sum,
        len([1 FOR e IN map_entries(mp) IF {_OPENINFERENCE_KEY}]) > 0 AS openinference_keys
    FROM (SELECT *, from_json(u, '"MAP(VARCHAR, VARCHAR)"') AS mp FROM g)
),
k AS (
    SELECT *,
        list_sum(list_transform(in_vals, lambda v: TRY_CAST(v AS DOUBLE))) AS in_sum,
        list_sum(list_transform(out_vals, lambda v: TRY_CAST(v AS DOUBLE))) AS out_sum,
        {_u(*_CACHE_WRITE_KEYS)} AS cw_total, {_u('input_cache_creation_5m')} AS cw_5m,
        {_u('input_cache_creation_1h')} AS cw_1h,
        {_u(*_CACHE_READ_KEYS)} AS cr, {_u(*_REASONING_KEYS)} AS rs,
        {_u('input', 'input_tokens', 'prompt_tokens')} AS in_all, {_u('output', 'output_tokens', 'completion_tokens')}
            AS out_all,
        -- the per-observation convention (module docstring)
        coalesce(TRY_CAST(mp['total'] AS DOUBLE) = TRY_CAST(mp['input'] AS DOUBLE) + TRY_CAST(mp['output'] AS DOUBLE)
                 AND detail_sum > 0, false)
            OR openinference_keys
            OR coalesce({_m('scope.name')} IS NOT NULL AND NOT starts_with(lower({_m('scope.name')}), 'langfuse'), false)
            AS inclusive
    FROM h
),
n AS (SELECT *, {_CW_PARTS} AS cw_parts, {_CW_VALUE} AS cw_value FROM k),
s AS (
    SELECT *,
        list_concat(in_vals, list_filter([cr], lambda v: v IS NOT NULL), cw_parts) AS in_parts,
        list_concat(out_vals, list_filter([rs], lambda v: v IS NOT NULL)) AS out_parts,
        in_sum + coalesce(TRY_CAST(cr AS DOUBLE), 0) + cw_value AS in_total,
        out_sum + coalesce(TRY_CAST(rs AS DOUBLE), 0) AS out_total
    FROM n
)
SELECT line, raw,
    wb_nonempty(id) AS call_id,
    coalesce(CASE WHEN regexp_matches(out_ids[1], '{_RESPONSE_ID}') THEN out_ids[1] END,
             wb_nonempty(out_ids[2]), wb_nonempty(out_ids[3])) AS response_id,
    t_start_ts AS ts, wb_nonempty(t_start) AS ts_raw,
    coalesce({_m('provider')}, {_m('ls_provider')}, {_m('attributes."llm.provider"')},
             {_m('attributes."gen_ai.provider.name"')}, {_m('attributes."llm.system"')},
             {_m('attributes."gen_ai.system"')}) AS provider,
    coalesce(wb_nonempty(model), wb_nonempty(model2)) AS model,
    coalesce(wb_nonempty(json_extract_string(TRY_CAST(model_params AS JSON), '$.service_tier')),
             {_m('service_tier')}) AS service_tier,
    CASE WHEN inclusive THEN coalesce(in_all, wb_nonempty(usage_in))
         WHEN len(in_vals) = 0 THEN wb_nonempty(usage_in)
         ELSE {tokens_text('in_total', 'in_parts')} END AS input_raw,
    cr AS cache_read_raw,
    CASE WHEN cw_5m IS NULL AND cw_1h IS NULL THEN cw_total ELSE {tokens_text('cw_value', 'cw_parts')} END
        AS cache_write_raw,
    cw_1h AS cache_write_1h_raw,
    CASE WHEN inclusive THEN coalesce(out_all, wb_nonempty(usage_out))
         WHEN len(out_vals) = 0 THEN wb_nonempty(usage_out)
         ELSE {tokens_text('out_total', 'out_parts')} END AS output_raw,
    rs AS reasoning_raw,
    coalesce((epoch_us(t_end_ts) - epoch_us(t_start_ts)) / 1000.0,
             TRY_CAST(latency_s AS DOUBLE) * {_TO_MS}) AS latency_ms,
    coalesce((epoch_us(t_first_ts) - epoch_us(t_start_ts)) / 1000.0,
             TRY_CAST(ttft_s AS DOUBLE) * {_TO_MS}) AS ttft_ms,
    CASE WHEN upper(level) = 'ERROR' THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN upper(level) = 'ERROR' THEN wb_error_class(NULL, status_message) END AS error_type,
    {_m('finish_reason')} AS finish_reason,
    coalesce({_t('sessionId')}, {_t('session_id')}, wb_nonempty(session), {_m('session_id')},
             {_m('conversation_id')}, {_m('attributes."session.id"')}, {_m('attributes."langfuse.session.id"')},
             {_m('attributes."gen_ai.conversation.id"')}) AS session_id,
    wb_nonempty(trace) AS trace_id,
    coalesce({_t('userId')}, {_t('user_id')}, wb_nonempty(user), {_m('user_id')}, {_m('attributes."user.id"')},
             {_m('attributes."langfuse.user.id"')}) AS user_id,
    coalesce({_m('feature')}, wb_nonempty(trace_name), {_t('name')}) AS feature,
    coalesce(wb_nonempty(prompt_name) || coalesce('@' || wb_nonempty(prompt_ver), ''), {_m('prompt_version')})
        AS prompt_version,
    coalesce(wb_nonempty(environment), {_t('environment')}) AS environment,
    TRY_CAST(coalesce(json_extract_string(c, '$.total'), wb_nonempty(total_cost), wb_nonempty(total_cost2))
             AS DOUBLE) AS logged_cost_usd,
    json_object(
        'observation_name', wb_nonempty(oname), 'observation_type', kind, 'level', wb_nonempty(level),
        'status_message', wb_nonempty(status_message), 'parent_observation_id', wb_nonempty(parent),
        'trace_name', coalesce(wb_nonempty(trace_name), {_t('name')}), 'tags', {_json_text('tags')},
        'release', coalesce(wb_nonempty(release), {_t('release')}),
        'version', wb_nonempty(version), 'prompt_id', wb_nonempty(prompt_id),
        'internal_model_id', coalesce(wb_nonempty(internal_model), wb_nonempty(internal_model2)),
        'pricing_tier', wb_nonempty(pricing_tier), 'usage_details', u,
        'usage_convention', CASE WHEN u IS NULL THEN NULL WHEN inclusive THEN 'inclusive' ELSE 'disjoint' END,
        'otel_scope', {_m('scope.name')}, 'cost_details', c,
        'model_parameters', {_json_text('model_params')}, 'metadata', m
    ) AS attributes,
    CASE WHEN kind <> 'GENERATION' THEN 'not an LLM call: Langfuse observation type ' || kind END
        AS skip_reason
FROM s
"""


def _is_observation(s: dict, trace_key: str, start_key: str) -> bool:
    return s.get("type") in OBSERVATION_TYPES and trace_key in s and start_key in s and "id" in s


API = Adapter(
    name="langfuse_api",
    source_format="langfuse",
    description="Langfuse observations, camelCase: public API (Observation / ObservationsView / ObservationV2; "
    "a page {data: [...]} is unwrapped) and the UI's trace download {trace, observations}. "
    "Non-GENERATION observations are quarantined",
    sniff=lambda s: _is_observation(s, "traceId", "startTime"),
    select=_select(_API),
)

EXPORT = Adapter(
    name="langfuse_export",
    source_format="langfuse",
    description="Langfuse blob-storage export of observations (snake_case ClickHouse columns; JSONL, JSON, CSV "
    "or Parquet). Non-GENERATION observations are quarantined",
    sniff=lambda s: _is_observation(s, "trace_id", "start_time") and "run_type" not in s,
    select=_select(_EXPORT),
    framing="any",
)

ADAPTERS = [API, EXPORT]
