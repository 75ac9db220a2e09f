"""LiteLLM proxy logs: `LiteLLM_SpendLogs` rows and `StandardLoggingPayload` callback records.

LiteLLM normalizes every provider to OpenAI-style usage: `completion_tokens` includes reasoning,
and `prompt_tokens` normally includes cache reads and cache writes. Cached tokens are not
SpendLogs columns: they come from the provider-normalized usage object (SpendLogs
`metadata.usage_object`, payload `hidden_params.usage_object` or `metadata.usage_object`):
cache reads `cache_read_input_tokens` / `prompt_tokens_details.cached_tokens`, cache writes
`cache_creation_input_tokens` / `prompt_tokens_details.cache_creation_tokens` /
`prompt_tokens_details.cache_write_tokens` (then `metadata.additional_usage_values`), the 1-hour
writes `prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens`, reasoning
`completion_tokens_details.reasoning_tokens`.

Does `prompt_tokens` include Anthropic's cache tokens? Current LiteLLM adds both cache buckets to
`prompt_tokens`; 2024 versions passed Anthropic's `input_tokens` through (cache excluded), and
some `anthropic_messages` logging paths report the Anthropic convention. The rule, per record,
with P = prompt_tokens, R = cache reads, W = cache writes, UP = `usage_object.prompt_tokens`:

    P EXCLUDES the cache when R + W > 0 and (P < R + W  or  UP = P + R + W); otherwise it includes it.

P < R + W is impossible if P includes both buckets; UP = P + R + W means the usage object counted
the cache on top of P. Excluding records get input = P + R + W. The rule cannot catch an
excluding record whose uncached part alone is at least R + W and that has no usage object to
compare with: it is then read as including (under-counting input by R + W). The convention used
is kept in `attributes.prompt_tokens_convention` whenever R + W > 0.

Other mappings (both formats): call_id = `request_id` / `id`; response_id = the provider's id
behind it (payload `response.id` first): LiteLLM re-encodes Responses API ids as `resp_` + base64
of `litellm:custom_llm_provider:...;response_id:resp_...`, decoded here to the OpenAI id, and a bare
uuid (LiteLLM's own id, a failed call) is none; ts = `startTime` (epoch seconds, or text: real
fixtures write naive text, taken as UTC); latency = `endTime - startTime` (SpendLogs
`request_duration_ms`, truncated to whole ms, when the times are missing); TTFT = `completionStartTime -
startTime`, NULL when completionStartTime is not before endTime (LiteLLM fills it with endTime
for non-streaming calls, which is not a first-token time); provider = `custom_llm_provider`;
model = `model` (else `model_group`; both kept); status `success`/`failure` (SpendLogs also
`metadata.status`); error_type from `error_information` {error_code, error_class, error_message};
logged cost = `spend` / `response_cost`; user = `end_user`, else `user` (SpendLogs) or
`metadata.user_api_key_end_user_id`, the caller's `model_parameters.user`, `user_api_key_user_id`
(payload); payload finish_reason = `response.choices[0].finish_reason`, service tier also
`response.service_tier`, and usage details also from `response.usage` (1.109 leaves
`hidden_params.usage_object` null); feature =
`spend_logs_metadata.feature` / `.tag`, else the first `request_tags` entry; prompt_version and
environment from `spend_logs_metadata`; session_id = `session_id` column (by default LiteLLM
fills it with the trace id, so it is a conversation only when the caller set one), else
`spend_logs_metadata.session_id`; trace_id = payload `trace_id` (groups retries and fallbacks; a caller's `metadata.session_id`
lands there, and in the SpendLogs `session_id` column).
`cache_hit` is LiteLLM's own response cache, not provider prompt caching: kept in attributes.

SpendLogs arrive as JSONL/JSON/CSV/Parquet exports of the Postgres table: in CSV the `metadata`
and `request_tags` JSON columns are JSON-encoded strings. `json_extract_string(j, '$.metadata')`
yields the object's JSON text in both cases (what `wb_obj` would do, without a second parse),
and the nested fields are then read from it in one `json_extract_string` call.
"""

from __future__ import annotations

from .base import Adapter, extract, sql_str


def _nested(column: str, fields: dict[str, str], alias: str) -> tuple[str, str]:
    """Like `extract()` for a column holding JSON text: one parse, many fields.

    Returns (the list expression `AS alias`, the `alias[i] AS name` column list)."""
    paths = ", ".join(sql_str(p) for p in fields.values())
    expr = f"json_extract_string(TRY_CAST({column} AS JSON), [{paths}]) AS {alias}"
    cols = ", ".join(f"{alias}[{i}] AS {name}" for i, name in enumerate(fields, 1))
    return expr, cols


def _usage(root: str, suffix: str = "") -> dict[str, str]:
    """Paths of the usage-object fields under `root` (e.g. '$.usage_object.')."""
    return {
        f"u_prompt{suffix}": f"{root}prompt_tokens",
        f"u_completion{suffix}": f"{root}completion_tokens",
        f"u_read{suffix}": f"{root}cache_read_input_tokens",
        f"u_cached{suffix}": f"{root}prompt_tokens_details.cached_tokens",
        f"u_write{suffix}": f"{root}cache_creation_input_tokens",
        f"u_creation{suffix}": f"{root}prompt_tokens_details.cache_creation_tokens",
        f"u_cw{suffix}": f"{root}prompt_tokens_details.cache_write_tokens",
        f"u_1h{suffix}": f"{root}prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens",
        f"u_reasoning{suffix}": f"{root}completion_tokens_details.reasoning_tokens",
        f"u_tier{suffix}": f"{root}service_tier",
    }


# Buckets from the usage columns above plus `additional_usage_values` (av_*), then the
# prompt-token convention rule (see the module docstring).
_BUCKETS = """
    b AS (
        SELECT *,
            wb_nonempty(coalesce(wb_nonempty(prompt), u_prompt)) AS p_raw,
            wb_nonempty(coalesce(wb_nonempty(completion), u_completion)) AS c_raw,
            wb_nonempty(coalesce(u_read, u_cached, av_read)) AS r_raw,
            wb_nonempty(coalesce(u_write, u_creation, u_cw, av_write)) AS w_raw,
            wb_nonempty(u_1h) AS w1h_raw,
            wb_nonempty(coalesce(u_reasoning, av_reasoning)) AS reasoning_raw
        FROM u
    ),
    n AS (
        SELECT *, TRY_CAST(p_raw AS DOUBLE) AS p_n, coalesce(TRY_CAST(r_raw AS DOUBLE), 0) AS r_n,
            coalesce(TRY_CAST(w_raw AS DOUBLE), 0) AS w_n, TRY_CAST(u_prompt AS DOUBLE) AS up_n
        FROM b
    ),
    k AS (
        SELECT *, r_n + w_n > 0 AND p_n IS NOT NULL AND (p_n < r_n + w_n OR up_n = p_n + r_n + w_n) AS excl
        FROM n
    )"""

_TOKENS = """
    CASE WHEN excl THEN CAST(p_n + r_n + w_n AS VARCHAR) ELSE p_raw END AS input_raw,
    r_raw AS cache_read_raw, w_raw AS cache_write_raw, w1h_raw AS cache_write_1h_raw,
    c_raw AS output_raw, reasoning_raw"""

_CONVENTION = """'prompt_tokens_convention',
        CASE WHEN excl THEN 'excludes_cache' WHEN r_n + w_n > 0 THEN 'includes_cache' END"""

_ERR_CLASS = "wb_error_class(e_code, concat_ws(' ', e_class, e_message))"
_STATUS = f"""
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN coalesce({_ERR_CLASS}, 'other') END AS error_type"""

_META = {
    "s_feature": "spend_logs_metadata.feature",
    "s_tag": "spend_logs_metadata.tag",
    "s_prompt_version": "spend_logs_metadata.prompt_version",
    "s_environment": "spend_logs_metadata.environment",
    "s_session": "spend_logs_metadata.session_id",
    "s_trace": "spend_logs_metadata.trace_id",
    "s_user": "spend_logs_metadata.user_id",
    "spend_logs_metadata": "spend_logs_metadata",
    "m_status": "status",
    "e_code": "error_information.error_code",
    "e_class": "error_information.error_class",
    "e_message": "error_information.error_message",
    "key_alias": "user_api_key_alias",
    "team_alias": "user_api_key_team_alias",
    "key_user": "user_api_key_user_id",
    "key_end_user": "user_api_key_end_user_id",
    "av_read": "additional_usage_values.cache_read_input_tokens",
    "av_write": "additional_usage_values.cache_creation_input_tokens",
    "av_reasoning": "additional_usage_values.completion_tokens_details.reasoning_tokens",
}

_META_COLS = """
    wb_nonempty(coalesce(s_feature, s_tag, first_tag)) AS feature,
    wb_nonempty(s_prompt_version) AS prompt_version,
    wb_nonempty(s_environment) AS environment"""


def _response_id(x: str) -> str:
    """The provider's response id behind a LiteLLM id: LiteLLM re-encodes Responses API ids as
    `resp_` + base64 of `litellm:custom_llm_provider:openai;model_id:...;response_id:resp_...`;
    a bare uuid is LiteLLM's own call id (a failed call), not a provider response id."""
    return (
        f"CASE WHEN starts_with({x}, 'resp_bGl0ZWxsbT') "
        f"THEN coalesce(nullif(regexp_extract(try(decode(from_base64(substr({x}, 6)))), 'response_id:([^;]+)', 1), ''), {x}) "
        f"WHEN regexp_full_match({x}, '[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}') "
        f"THEN NULL ELSE wb_nonempty({x}) END"
    )


def _ms_between(start: str, end: str) -> str:
    return f"(epoch_us({end}) - epoch_us({start})) / 1000.0"


def _ttft(start: str, first: str, end: str) -> str:
    return f"CASE WHEN {first} < coalesce({end}, {first} + INTERVAL 1 SECOND) THEN {_ms_between(start, first)} END"


_SPEND_META_EXPR, _SPEND_META_COLS = _nested("md", {**{k: f"$.{p}" for k, p in _META.items()}, **_usage("$.usage_object.")}, "y")
_SPEND_TAGS_EXPR, _SPEND_TAGS_COLS = _nested("tags", {"first_tag": "$[0]"}, "z")

SPENDLOGS = Adapter(
    name="litellm_spendlogs",
    source_format="litellm",
    description="LiteLLM proxy LiteLLM_SpendLogs rows (JSONL/JSON/CSV/Parquet export of the table)",
    sniff=lambda s: "request_id" in s
    and "call_type" in s
    and ("spend" in s or "startTime" in s)
    and "response_cost" not in s
    and "hidden_params" not in s,
    framing="any",
    select=f"""
WITH f AS ({extract({
    "request_id": "$.request_id", "call_type": "$.call_type", "model": "$.model", "model_group": "$.model_group",
    "model_id": "$.model_id", "provider": "$.custom_llm_provider", "api_base": "$.api_base",
    "usr": "$.user", "end_user": "$.end_user", "team_id": "$.team_id", "organization_id": "$.organization_id",
    "session_id": "$.session_id", "status": "$.status", "spend": "$.spend",
    "prompt": "$.prompt_tokens", "completion": "$.completion_tokens", "duration": "$.request_duration_ms",
    "start_time": "$.startTime", "end_time": "$.endTime", "first_time": "$.completionStartTime",
    "cache_hit": "$.cache_hit", "md": "$.metadata", "tags": "$.request_tags",
})}),
g AS (SELECT *, {_SPEND_META_EXPR}, {_SPEND_TAGS_EXPR} FROM f),
u AS (
    SELECT *, {_SPEND_META_COLS}, {_SPEND_TAGS_COLS},
        wb_ts_iso(start_time) AS t0, wb_ts_iso(end_time) AS t1, wb_ts_iso(first_time) AS tf
    FROM g
),
{_BUCKETS},
s AS (SELECT *, lower(coalesce(wb_nonempty(status), m_status, 'success')) NOT IN ('success', 'ok') AS failed FROM k)
SELECT line, raw,
    request_id AS call_id, {_response_id("request_id")} AS response_id, t0 AS ts, wb_nonempty(start_time) AS ts_raw,
    wb_nonempty(provider) AS provider, coalesce(wb_nonempty(model), wb_nonempty(model_group)) AS model,
    wb_nonempty(u_tier) AS service_tier,
    {_TOKENS},
    coalesce({_ms_between("t0", "t1")}, TRY_CAST(duration AS DOUBLE)) AS latency_ms,
    {_ttft("t0", "tf", "t1")} AS ttft_ms,
    {_STATUS},
    wb_nonempty(coalesce(wb_nonempty(session_id), s_session)) AS session_id,
    wb_nonempty(s_trace) AS trace_id,
    wb_nonempty(coalesce(wb_nonempty(end_user), wb_nonempty(usr), s_user)) AS user_id,
    {_META_COLS},
    TRY_CAST(spend AS DOUBLE) AS logged_cost_usd,
    json_object('call_type', call_type, 'model_group', wb_nonempty(model_group), 'model_id', wb_nonempty(model_id),
                'api_base', wb_nonempty(api_base), 'team_id', wb_nonempty(team_id),
                'organization_id', wb_nonempty(organization_id), 'key_alias', key_alias, 'team_alias', team_alias,
                'cache_hit', cache_hit, 'request_tags', TRY_CAST(tags AS JSON),
                'spend_logs_metadata', TRY_CAST(spend_logs_metadata AS JSON), 'error_message', e_message,
                {_CONVENTION}) AS attributes
FROM s
""",
)


def _payload_ts(x: str) -> str:
    """Epoch seconds (the documented type) or, from other serializers, ms or ISO text."""
    return (
        f"CASE WHEN TRY_CAST({x} AS DOUBLE) IS NULL THEN wb_ts_iso({x}) "
        f"ELSE wb_ts_epoch({x}, CASE WHEN TRY_CAST({x} AS DOUBLE) > 1e11 THEN 1000 ELSE 1 END) END"
    )


_PAYLOAD_FIELDS = {
    "id": "$.id", "trace_id": "$.trace_id", "session_id": "$.session_id", "litellm_call_id": "$.litellm_call_id",
    "call_type": "$.call_type", "stream": "$.stream", "status": "$.status", "response_cost": "$.response_cost",
    "cost_breakdown": "$.cost_breakdown", "provider": "$.custom_llm_provider", "model": "$.model",
    "model_group": "$.model_group", "model_id": "$.model_id", "api_base": "$.api_base",
    "litellm_model_name": "$.hidden_params.litellm_model_name",
    "prompt": "$.prompt_tokens", "completion": "$.completion_tokens",
    "start_time": "$.startTime", "end_time": "$.endTime", "first_time": "$.completionStartTime",
    "response_time": "$.response_time", "end_user": "$.end_user", "cache_hit": "$.cache_hit",
    "tags": "$.request_tags", "first_tag": "$.request_tags[0]", "error_str": "$.error_str",
    **{k: f"$.metadata.{p}" for k, p in _META.items() if not k.startswith(("e_", "av_", "m_status"))},
    "e_code": "$.error_information.error_code", "e_class": "$.error_information.error_class",
    "e_message": "$.error_information.error_message",
    "av_read": "$.metadata.additional_usage_values.cache_read_input_tokens",
    "av_write": "$.metadata.additional_usage_values.cache_creation_input_tokens",
    "av_reasoning": "$.metadata.additional_usage_values.completion_tokens_details.reasoning_tokens",
    "r_id": "$.response.id", "r_finish": "$.response.choices[0].finish_reason", "r_tier": "$.response.service_tier",
    "mp_user": "$.model_parameters.user",
    **_usage("$.hidden_params.usage_object.", "_h"),
    **_usage("$.metadata.usage_object.", "_m"),
    **_usage("$.response.usage.", "_r"),
}
_USAGE_COALESCED = ", ".join(f"coalesce({n}_h, {n}_m, {n}_r) AS {n}" for n in _usage(""))

PAYLOAD = Adapter(
    name="litellm_payload",
    source_format="litellm",
    description="LiteLLM StandardLoggingPayload callback records (standard_logging_object: id, trace_id, "
    "response_cost, hidden_params, epoch-second times)",
    sniff=lambda s: "call_type" in s and "id" in s and ("response_cost" in s or "hidden_params" in s),
    select=f"""
WITH f AS ({extract(_PAYLOAD_FIELDS)}),
u AS (
    SELECT *, {_USAGE_COALESCED},
        {_payload_ts("start_time")} AS t0, {_payload_ts("end_time")} AS t1, {_payload_ts("first_time")} AS tf
    FROM f
),
{_BUCKETS},
s AS (SELECT *, lower(coalesce(wb_nonempty(status), 'success')) NOT IN ('success', 'ok') AS failed FROM k)
SELECT line, raw,
    id AS call_id, {_response_id("coalesce(wb_nonempty(r_id), id)")} AS response_id, t0 AS ts, start_time AS ts_raw,
    wb_nonempty(provider) AS provider, coalesce(wb_nonempty(model), wb_nonempty(model_group)) AS model,
    wb_nonempty(coalesce(wb_nonempty(u_tier), r_tier)) AS service_tier,
    {_TOKENS},
    coalesce({_ms_between("t0", "t1")}, TRY_CAST(response_time AS DOUBLE) * 1000) AS latency_ms,
    CASE WHEN stream IS DISTINCT FROM 'false' THEN {_ttft("t0", "tf", "t1")} END AS ttft_ms,
    {_STATUS},
    wb_nonempty(coalesce(session_id, s_session)) AS session_id,
    wb_nonempty(coalesce(trace_id, s_trace)) AS trace_id,
    wb_nonempty(coalesce(wb_nonempty(end_user), wb_nonempty(key_end_user), wb_nonempty(s_user), wb_nonempty(mp_user),
                         key_user)) AS user_id,
    wb_nonempty(r_finish) AS finish_reason,
    {_META_COLS},
    TRY_CAST(response_cost AS DOUBLE) AS logged_cost_usd,
    json_object('call_type', call_type, 'model_group', wb_nonempty(model_group), 'model_id', wb_nonempty(model_id),
                'litellm_model_name', litellm_model_name, 'api_base', wb_nonempty(api_base),
                'litellm_call_id', litellm_call_id, 'stream', TRY_CAST(stream AS BOOLEAN),
                'key_alias', key_alias, 'team_alias', team_alias, 'cache_hit', TRY_CAST(cache_hit AS BOOLEAN),
                'request_tags', TRY_CAST(tags AS JSON), 'spend_logs_metadata', TRY_CAST(spend_logs_metadata AS JSON),
                'cost_breakdown', TRY_CAST(cost_breakdown AS JSON), 'error_message', coalesce(e_message, error_str),
                {_CONVENTION}) AS attributes
FROM s
""",
)

ADAPTERS = [SPENDLOGS, PAYLOAD]
