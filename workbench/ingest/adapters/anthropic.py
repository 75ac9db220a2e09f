"""Anthropic Messages responses and Message Batches result lines.

Anthropic's `usage.input_tokens` EXCLUDES cache reads and cache writes (total input =
`input_tokens + cache_read_input_tokens + cache_creation_input_tokens`), so both adapters set
`input_includes_cache=False` and the pipeline adds the cache buckets. `output_tokens` includes
thinking; `usage.output_tokens_details.thinking_tokens` is the reasoning part.

Cache writes: `cache_creation_input_tokens` is the total (5-minute + 1-hour);
`usage.cache_creation.ephemeral_1h_input_tokens` is the 1-hour part. When a record gives only the
split (no total), the total is `ephemeral_5m_input_tokens + ephemeral_1h_input_tokens`.

Status: `stop_reason = 'refusal'` is the model declining for safety reasons, the counterpart of
OpenAI's `finish_reason = 'content_filter'`: the call is kept with its (billed) tokens as
status `error`, error_type `content_filter`, finish_reason `refusal`. An Anthropic error body
(`{"type": "error", "error": {"type": "overloaded_error", "message": ...}}`) is an error with
error_type from `wb_error_class(error.type, error.message)`.

Timestamps: a Message carries none, so `ts` is NULL for plain Message objects (allowed for this
format). Loggers often wrap the response: a record with a nested `response` (or `message`) Message
beside top-level `timestamp` / `created_at` / `ts` (ISO text, or epoch seconds or milliseconds),
`latency_ms`, `ttft_ms`, `metadata` {feature, tag, prompt_version, session_id, conversation_id,
trace_id, environment, user_id} and optionally the `request` (whose `metadata.user_id` is
Anthropic's request-level user field). Both shapes are read by `anthropic_messages`.

Message Batches (`anthropic_batch`): one line per request, `custom_id` plus `result` {type:
succeeded | errored | canceled | expired, message | error}. Every line is batch tier. Lines that
did not succeed are kept as errors with no tokens: errored -> class of `result.error.error.type`
(or a flat `result.error.type`), canceled / expired -> `wb_error_class` of the result type (the
classes `canceled` / `expired`); finish_reason is the result type. call_id is the
Message id (custom_id repeats across batches, so unsuccessful lines fall back to the content hash);
custom_id is kept in attributes.

Pricing attributes: `usage.inference_geo` (`global`, `us`, `not_available`) and `usage.speed`
(`fast` for fast mode, else `standard` or absent) are kept as `attributes.inference_geo` and
`attributes.speed`: `priced_calls` multiplies the call by the entry's `provider_specific_entry`
factors for them (e.g. us x1.1, fast x2).
"""

from __future__ import annotations

from .base import Adapter, dig, extract

# Message fields, relative to the Message object.
_MESSAGE = {
    "msg_type": "type",
    "id": "id",
    "model": "model",
    "stop_reason": "stop_reason",
    "stop_sequence": "stop_sequence",
    "input": "usage.input_tokens",
    "output": "usage.output_tokens",
    "cache_read": "usage.cache_read_input_tokens",
    "cache_write": "usage.cache_creation_input_tokens",
    "cw_5m": "usage.cache_creation.ephemeral_5m_input_tokens",
    "cw_1h": "usage.cache_creation.ephemeral_1h_input_tokens",
    "thinking": "usage.output_tokens_details.thinking_tokens",
    "tier": "usage.service_tier",
    "geo": "usage.inference_geo",
    "speed": "usage.speed",
    "web_search": "usage.server_tool_use.web_search_requests",
    "web_fetch": "usage.server_tool_use.web_fetch_requests",
    "err_type": "error.type",
    "err_message": "error.message",
    "request_id": "request_id",
}


def _message_fields(roots: dict[str, str]) -> dict[str, str]:
    """Extract paths for every Message field under each root ({suffix: '$.path.'})."""
    return {f"{name}{suffix}": f"{root}{path}" for suffix, root in roots.items() for name, path in _MESSAGE.items()}


def _coalesced(roots: dict[str, str]) -> str:
    """`coalesce(x, x_r, ...) AS x` for every Message field: the first root that has it."""
    return ",\n    ".join(
        f"coalesce({', '.join(name + s for s in roots)}) AS {name}" if len(roots) > 1 else f"{name}{next(iter(roots))} AS {name}"
        for name in _MESSAGE
    )


# Cache writes: the total, else 5m + 1h (a non-numeric part is passed through so the pipeline reports it).
_CACHE_WRITE = """
    CASE WHEN cache_write IS NOT NULL THEN cache_write
         WHEN cw_5m IS NOT NULL AND TRY_CAST(cw_5m AS DOUBLE) IS NULL THEN cw_5m
         WHEN cw_1h IS NOT NULL AND TRY_CAST(cw_1h AS DOUBLE) IS NULL THEN cw_1h
         WHEN cw_5m IS NOT NULL OR cw_1h IS NOT NULL
             THEN CAST(coalesce(TRY_CAST(cw_5m AS DOUBLE), 0) + coalesce(TRY_CAST(cw_1h AS DOUBLE), 0) AS VARCHAR)
    END AS cache_write_raw"""

_TOKENS = f"""
    input AS input_raw, cache_read AS cache_read_raw, {_CACHE_WRITE},
    cw_1h AS cache_write_1h_raw, output AS output_raw, thinking AS reasoning_raw"""

_MSG_ATTRS = """'stop_sequence', stop_sequence, 'inference_geo', geo, 'speed', speed,
    'web_search_requests', TRY_CAST(web_search AS BIGINT), 'web_fetch_requests', TRY_CAST(web_fetch AS BIGINT),
    'request_id', request_id"""

_ROOTS = {"": "$.", "_r": "$.response.", "_m": "$.message."}

# Anthropic models served by AWS Bedrock answer with `msg_bdrk_` ids (`msg_bdrk_01…` base-58, or, for
# newer models such as claude-opus-4-8, `msg_bdrk_` + 56 lowercase base-32 characters).
_PROVIDER = "CASE WHEN starts_with(id, 'msg_bdrk_') THEN 'bedrock' ELSE 'anthropic' END"



# Keys of LiteLLM records, whose `response` may itself be an Anthropic Message.
_LITELLM_KEYS = ("call_type", "response_cost", "spend", "hidden_params", "standard_logging_object")


def _sniff_messages(s: dict) -> bool:
    if s.get("type") == "message" and isinstance(s.get("usage"), dict):
        return True
    if any(k in s for k in _LITELLM_KEYS) or "custom_id" in s:
        return False
    if "sessionId" in s and "uuid" in s:  # a Claude Code transcript line (`claude_code`)
        return False
    return any(dig(s, key, "type") == "message" and isinstance(dig(s, key, "usage"), dict) for key in ("response", "message"))


def _ts(x: str) -> str:
    """ISO text, or epoch seconds / milliseconds."""
    return (
        f"CASE WHEN TRY_CAST({x} AS DOUBLE) IS NULL THEN wb_ts_iso({x}) "
        f"ELSE wb_ts_epoch({x}, CASE WHEN TRY_CAST({x} AS DOUBLE) > 1e11 THEN 1000 ELSE 1 END) END"
    )


MESSAGES = Adapter(
    name="anthropic_messages",
    source_format="anthropic",
    description="Anthropic Messages response objects (type=message), plain or inside a logger's "
    "{timestamp, latency_ms, metadata, response} wrapper",
    sniff=_sniff_messages,
    input_includes_cache=False,
    select=f"""
WITH f AS ({extract({
    **_message_fields(_ROOTS),
    "w_timestamp": "$.timestamp", "w_created_at": "$.created_at", "w_ts": "$.ts",
    "w_latency": "$.latency_ms", "w_ttft": "$.ttft_ms",
    "m_feature": "$.metadata.feature", "m_tag": "$.metadata.tag", "m_prompt_version": "$.metadata.prompt_version",
    "m_session": "$.metadata.session_id", "m_conversation": "$.metadata.conversation_id",
    "m_trace": "$.metadata.trace_id", "m_environment": "$.metadata.environment", "m_user": "$.metadata.user_id",
    "req_user": "$.request.metadata.user_id", "metadata": "$.metadata",
})}),
m AS (
    SELECT line, raw, {_coalesced(_ROOTS)},
        coalesce(w_timestamp, w_created_at, w_ts) AS ts_text, w_latency, w_ttft,
        m_feature, m_tag, m_prompt_version, m_session, m_conversation, m_trace, m_environment, m_user, req_user, metadata
    FROM f
),
g AS (
    SELECT *,
        msg_type = 'error' OR (msg_type IS NULL AND err_type IS NOT NULL) AS failed,
        stop_reason = 'refusal' AS refused
    FROM m
)
SELECT line, raw,
    coalesce(id, request_id) AS call_id, id AS response_id, {_ts("ts_text")} AS ts, ts_text AS ts_raw,
    {_PROVIDER} AS provider, model, tier AS service_tier,
    {_TOKENS},
    TRY_CAST(w_latency AS DOUBLE) AS latency_ms, TRY_CAST(w_ttft AS DOUBLE) AS ttft_ms,
    CASE WHEN failed OR refused THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN coalesce(wb_error_class(err_type, err_message), 'other')
         WHEN refused THEN 'content_filter' END AS error_type,
    stop_reason AS finish_reason,
    wb_nonempty(coalesce(m_feature, m_tag)) AS feature,
    wb_nonempty(m_prompt_version) AS prompt_version,
    wb_nonempty(coalesce(m_session, m_conversation)) AS session_id,
    wb_nonempty(m_trace) AS trace_id,
    wb_nonempty(m_environment) AS environment,
    wb_nonempty(coalesce(m_user, req_user)) AS user_id,
    json_object({_MSG_ATTRS}, 'error_message', err_message,
                'metadata', TRY_CAST(metadata AS JSON)) AS attributes
FROM g
""",
)

_BATCH_ROOT = {"": "$.result.message."}

BATCH = Adapter(
    name="anthropic_batch",
    source_format="anthropic",
    description="Anthropic Message Batches result lines (custom_id, result.type succeeded/errored/canceled/expired); "
    "priced at batch rates",
    sniff=lambda s: "custom_id" in s
    and isinstance(s.get("result"), dict)
    and s["result"].get("type") in ("succeeded", "errored", "canceled", "expired"),
    input_includes_cache=False,
    select=f"""
WITH f AS ({extract({
    **_message_fields(_BATCH_ROOT),
    "custom_id": "$.custom_id", "result_type": "$.result.type",
    "e_type": "$.result.error.error.type", "e_message": "$.result.error.error.message",
    "e_flat_type": "$.result.error.type", "e_flat_message": "$.result.error.message",
    "e_request_id": "$.result.error.request_id",
})}),
m AS (
    SELECT line, raw, {_coalesced(_BATCH_ROOT)}, custom_id, result_type,
        coalesce(e_type, e_flat_type) AS e_type, coalesce(e_message, e_flat_message) AS e_message, e_request_id
    FROM f
),
g AS (SELECT *, result_type IS DISTINCT FROM 'succeeded' AS failed, stop_reason = 'refusal' AS refused FROM m)
SELECT line, raw,
    id AS call_id, id AS response_id,
    {_PROVIDER} AS provider, model, 'batch' AS service_tier,
    {_TOKENS},
    CASE WHEN failed OR refused THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN result_type IN ('canceled', 'expired') THEN wb_error_class(result_type, NULL)
         WHEN failed THEN coalesce(wb_error_class(e_type, e_message), 'other')
         WHEN refused THEN 'content_filter' END AS error_type,
    coalesce(stop_reason, CASE WHEN failed THEN result_type END) AS finish_reason,
    json_object('custom_id', custom_id, 'result_type', result_type, {_MSG_ATTRS},
                'error_type', e_type, 'error_message', e_message, 'error_request_id', e_request_id) AS attributes
FROM g
""",
)

ADAPTERS = [MESSAGES, BATCH]
