"""OpenAI Chat Completions responses, Responses API objects and Batch API output lines.

OpenAI counts cached tokens inside `prompt_tokens`/`input_tokens` and reasoning inside
`completion_tokens`/`output_tokens`: the canonical convention already.
Response bodies carry no latency, user or tag; where a logger stored request `metadata`
in the record (`metadata.feature`, `metadata.session_id`, ...) it is used.
"""

from .base import Adapter, dig, extract

# Fields a logging wrapper commonly puts in the response's own `metadata` object.
_META_FIELDS = {
    "m_feature": "$.metadata.feature",
    "m_tag": "$.metadata.tag",
    "m_prompt_version": "$.metadata.prompt_version",
    "m_session": "$.metadata.session_id",
    "m_conversation": "$.metadata.conversation_id",
    "m_trace": "$.metadata.trace_id",
    "m_environment": "$.metadata.environment",
    "m_user": "$.metadata.user_id",
    "metadata": "$.metadata",
}
_META = """
    wb_nonempty(coalesce(m_feature, m_tag)) AS feature,
    wb_nonempty(coalesce(m_session, m_conversation)) AS session_id,
    wb_nonempty(m_trace) AS trace_id,
    wb_nonempty(m_environment) AS environment,
"""

CHAT = Adapter(
    name="openai_chat",
    source_format="openai",
    description="OpenAI Chat Completions response objects (object=chat.completion), one per line or a JSON array",
    sniff=lambda s: s.get("object") == "chat.completion",
    select=f"""
WITH f AS ({extract({
    "id": "$.id", "created": "$.created", "model": "$.model", "tier": "$.service_tier",
    "prompt": "$.usage.prompt_tokens", "cached": "$.usage.prompt_tokens_details.cached_tokens",
    "cache_write": "$.usage.prompt_tokens_details.cache_write_tokens",
    "completion": "$.usage.completion_tokens", "reasoning": "$.usage.completion_tokens_details.reasoning_tokens",
    "finish": "$.choices[0].finish_reason", "fingerprint": "$.system_fingerprint", **_META_FIELDS,
})})
SELECT line, raw,
    id AS call_id, wb_ts_epoch(created, 1) AS ts, created AS ts_raw,
    'openai' AS provider, model, tier AS service_tier,
    prompt AS input_raw, cached AS cache_read_raw, cache_write AS cache_write_raw,
    completion AS output_raw, reasoning AS reasoning_raw,
    CASE WHEN finish = 'content_filter' THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN finish = 'content_filter' THEN 'content_filter' END AS error_type,
    finish AS finish_reason,
    wb_nonempty(m_prompt_version) AS prompt_version, wb_nonempty(m_user) AS user_id,
    {_META}
    json_object('system_fingerprint', fingerprint, 'metadata', TRY_CAST(metadata AS JSON)) AS attributes
FROM f
""",
)

RESPONSES = Adapter(
    name="openai_responses",
    source_format="openai",
    description="OpenAI Responses API objects (object=response)",
    sniff=lambda s: s.get("object") == "response",
    select=f"""
WITH f AS ({extract({
    "id": "$.id", "created": "$.created_at", "model": "$.model", "tier": "$.service_tier", "rstatus": "$.status",
    "input": "$.usage.input_tokens", "cached": "$.usage.input_tokens_details.cached_tokens",
    "cache_write": "$.usage.input_tokens_details.cache_write_tokens",
    "output": "$.usage.output_tokens", "reasoning": "$.usage.output_tokens_details.reasoning_tokens",
    "err": "$.error", "err_code": "$.error.code", "err_message": "$.error.message",
    "incomplete": "$.incomplete_details.reason", "user": "$.user", "safety_id": "$.safety_identifier",
    "prompt_id": "$.prompt.id", "prompt_ver": "$.prompt.version",
    "conversation_id": "$.conversation.id", "conversation": "$.conversation",
    "previous": "$.previous_response_id", "cache_key": "$.prompt_cache_key", **_META_FIELDS,
})}),
g AS (SELECT *, rstatus IN ('failed', 'cancelled') OR err LIKE '{{%' AS failed FROM f)
SELECT line, raw,
    id AS call_id, wb_ts_epoch(created, 1) AS ts, created AS ts_raw,
    'openai' AS provider, model, tier AS service_tier,
    input AS input_raw, cached AS cache_read_raw, cache_write AS cache_write_raw,
    output AS output_raw, reasoning AS reasoning_raw,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN wb_error_class(err_code, err_message) END AS error_type,
    coalesce(incomplete, rstatus) AS finish_reason,
    wb_nonempty(coalesce(user, safety_id, m_user)) AS user_id,
    wb_nonempty(coalesce(m_prompt_version,
        CASE WHEN prompt_id IS NOT NULL THEN prompt_id || coalesce('@' || prompt_ver, '') END)) AS prompt_version,
    wb_nonempty(coalesce(m_feature, m_tag)) AS feature,
    wb_nonempty(coalesce(conversation_id, CASE WHEN conversation NOT LIKE '{{%' THEN conversation END,
                         m_session, m_conversation)) AS session_id,
    wb_nonempty(m_trace) AS trace_id,
    wb_nonempty(m_environment) AS environment,
    json_object('previous_response_id', previous, 'metadata', TRY_CAST(metadata AS JSON),
                'prompt_cache_key', cache_key) AS attributes
FROM g
""",
)

# Batch output: the body is a chat completion or a Responses object; errored lines have no body
# (and so no timestamp, model or usage) but are kept as errors.
BATCH = Adapter(
    name="openai_batch",
    source_format="openai",
    description="OpenAI Batch API output lines (id=batch_req_..., custom_id, response, error); priced at batch rates",
    sniff=lambda s: "custom_id" in s
    and (isinstance(dig(s, "response"), dict) or s.get("response") is None)
    and "result" not in s,
    select=f"""
WITH f AS ({extract({
    "id": "$.id", "custom_id": "$.custom_id", "status_code": "$.response.status_code",
    "request_id": "$.response.request_id", "body_id": "$.response.body.id",
    "created": "$.response.body.created", "created_at": "$.response.body.created_at",
    "model": "$.response.body.model",
    "prompt": "$.response.body.usage.prompt_tokens", "input": "$.response.body.usage.input_tokens",
    "cached": "$.response.body.usage.prompt_tokens_details.cached_tokens",
    "cached2": "$.response.body.usage.input_tokens_details.cached_tokens",
    "cw": "$.response.body.usage.prompt_tokens_details.cache_write_tokens",
    "cw2": "$.response.body.usage.input_tokens_details.cache_write_tokens",
    "completion": "$.response.body.usage.completion_tokens", "output": "$.response.body.usage.output_tokens",
    "reasoning": "$.response.body.usage.completion_tokens_details.reasoning_tokens",
    "reasoning2": "$.response.body.usage.output_tokens_details.reasoning_tokens",
    "finish": "$.response.body.choices[0].finish_reason", "body_status": "$.response.body.status",
    "err": "$.error", "err_code": "$.error.code", "err_message": "$.error.message",
    "body_err_code": "$.response.body.error.code", "body_err_message": "$.response.body.error.message",
    "feature": "$.response.body.metadata.feature", "prompt_version": "$.response.body.metadata.prompt_version",
})}),
g AS (SELECT *, err LIKE '{{%' OR TRY_CAST(status_code AS INT) >= 400 AS failed FROM f)
SELECT line, raw,
    id AS call_id,
    wb_ts_epoch(coalesce(created, created_at), 1) AS ts, coalesce(created, created_at) AS ts_raw,
    'openai' AS provider, model, 'batch' AS service_tier,
    coalesce(prompt, input) AS input_raw, coalesce(cached, cached2) AS cache_read_raw,
    coalesce(cw, cw2) AS cache_write_raw, coalesce(completion, output) AS output_raw,
    coalesce(reasoning, reasoning2) AS reasoning_raw,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN wb_error_class(coalesce(err_code, body_err_code, status_code),
                                         coalesce(err_message, body_err_message)) END AS error_type,
    coalesce(finish, body_status) AS finish_reason,
    wb_nonempty(feature) AS feature, wb_nonempty(prompt_version) AS prompt_version,
    json_object('custom_id', custom_id, 'request_id', request_id, 'response_id', body_id,
                'error', TRY_CAST(err AS JSON)) AS attributes
FROM g
""",
)

ADAPTERS = [CHAT, RESPONSES, BATCH]
