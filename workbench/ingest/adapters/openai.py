"""OpenAI Chat Completions responses, Responses API objects, Batch API output lines, HTTP error
bodies, and the same shapes as OpenRouter returns them.

OpenAI counts cached tokens inside `prompt_tokens`/`input_tokens` (cache writes too:
`prompt_tokens_details.cache_write_tokens` is part of `prompt_tokens`) and reasoning inside
`completion_tokens`/`output_tokens`: the canonical convention already. response_id = `id`
(chatcmpl-…, resp_…; batch lines: the body's id). Response bodies carry no user or tag; where a
logger stored request `metadata` in the record (`metadata.feature`, `metadata.session_id`, ...)
it is used. Responses objects: latency = `completed_at - created_at` (both whole seconds, so
the latency has one-second resolution); finish_reason = `incomplete_details.reason`, else the
status when it is not `completed`.

HTTP error bodies (`{"error": {"message", "type", "param", "code"}}`, what the API answers with a
4xx/5xx) are failed calls: no id, model, time or tokens (call_id is then a content hash), the
class from `error.code` / `error.type` / `error.message`. Batch output lines: call_id = the
line's `id` (batch_req_…, unique across batches; `custom_id` is only unique within its batch
and is kept in attributes), batch tier; an errored line (`error.code` such as batch_expired)
is a failed call of class `expired`, `canceled`, ... from `wb_error_class`.

OpenRouter (`openrouter_chat`, `openrouter_responses`, source family `openrouter`): the same
bodies with `id` gen-…, `model` as `vendor/model`, `provider` the upstream host, and
`usage.cost`. provider = the model's vendor prefix (`google/gemini-2.5-flash` -> google; an
error body with no model: the first word of `error.metadata.provider_name`, else openrouter);
`gateway: openrouter` and the upstream host are kept in attributes. prompt_tokens includes
cache reads and writes. logged cost = `usage.cost` (what OpenRouter charged), and for BYOK
calls (`is_byok`, where `cost` is only OpenRouter's fee and the provider billed the user's own
key) `cost + cost_details.upstream_inference_cost`; both parts are kept in attributes.
Google models report cache reads plus cache "writes" larger than the prompt (read 2161 + write
2161 of a 2168-token prompt): the writes are the same tokens as the reads, billed as cache
storage, not a second part of the prompt. When reads + writes exceed prompt_tokens the writes
are therefore not counted as cache writes (cache_write 0; the reported value in
`attributes.reported_cache_write_tokens`), so the buckets follow the canonical convention.
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

# Error bodies (OpenAI's and OpenRouter's) and OpenRouter's additions to the usage object.
_ERROR_FIELDS = {
    "err": "$.error", "err_code": "$.error.code", "err_type": "$.error.type", "err_message": "$.error.message",
    "err_provider": "$.error.metadata.provider_name", "body_user": "$.user_id",
}
_GATEWAY_FIELDS = {
    "cost": "$.usage.cost", "is_byok": "$.usage.is_byok", "upstream_cost": "$.usage.cost_details.upstream_inference_cost",
}



# An error body: no id, an `error` object.
_ERR_BODY = "(id IS NULL AND err LIKE '{%')"
_ERR_CLASS = "wb_error_class(concat_ws(' ', err_code, err_type), err_message)"


def _gateway_columns(gateway: bool, cache_write: str) -> tuple[str, str, str]:
    """(provider, cache_write_raw, logged cost) expressions; OpenRouter's when `gateway`."""
    if not gateway:
        return "'openai'", cache_write, "NULL::DOUBLE"
    provider = (
        "CASE WHEN model LIKE '%_/_%' THEN lower(split_part(model, '/', 1)) "
        "WHEN wb_nonempty(err_provider) IS NOT NULL THEN lower(regexp_extract(err_provider, '^[A-Za-z0-9_-]+')) "
        "ELSE 'openrouter' END"
    )
    cw = f"CASE WHEN write_is_storage THEN '0' ELSE {cache_write} END"
    cost = ("CASE WHEN TRY_CAST(is_byok AS BOOLEAN) THEN coalesce(TRY_CAST(cost AS DOUBLE), 0) "
            "+ TRY_CAST(upstream_cost AS DOUBLE) ELSE TRY_CAST(cost AS DOUBLE) END")
    return provider, cw, cost


def _gateway_attrs(gateway: bool, cache_write: str) -> str:
    if not gateway:
        return ""
    return f""", 'gateway', 'openrouter', 'is_byok', TRY_CAST(is_byok AS BOOLEAN),
        'openrouter_cost_usd', TRY_CAST(cost AS DOUBLE), 'upstream_inference_cost_usd', TRY_CAST(upstream_cost AS DOUBLE),
        'reported_cache_write_tokens', CASE WHEN write_is_storage THEN TRY_CAST({cache_write} AS BIGINT) END,
        'http_status', CASE WHEN TRY_CAST(err_code AS INT) BETWEEN 100 AND 599 THEN TRY_CAST(err_code AS INT) END"""


def _storage_flag(gateway: bool, prompt: str, cached: str, cache_write: str) -> str:
    if not gateway:
        return "false AS write_is_storage"
    return (f"coalesce(TRY_CAST({cached} AS DOUBLE) + TRY_CAST({cache_write} AS DOUBLE) > TRY_CAST({prompt} AS DOUBLE), "
            "false) AS write_is_storage")


def _chat_select(gateway: bool) -> str:
    provider, cw, cost = _gateway_columns(gateway, "cache_write")
    return f"""
WITH f AS ({extract({
    "id": "$.id", "created": "$.created", "model": "$.model", "tier": "$.service_tier",
    "prompt": "$.usage.prompt_tokens", "cached": "$.usage.prompt_tokens_details.cached_tokens",
    "cache_write": "$.usage.prompt_tokens_details.cache_write_tokens",
    "completion": "$.usage.completion_tokens", "reasoning": "$.usage.completion_tokens_details.reasoning_tokens",
    "finish": "$.choices[0].finish_reason", "native_finish": "$.choices[0].native_finish_reason",
    "fingerprint": "$.system_fingerprint", "upstream": "$.provider",
    **_ERROR_FIELDS, **_GATEWAY_FIELDS, **_META_FIELDS,
})}),
g AS (SELECT *, {_ERR_BODY} AS err_body, {_storage_flag(gateway, "prompt", "cached", "cache_write")} FROM f)
SELECT line, raw,
    id AS call_id, id AS response_id, wb_ts_epoch(created, 1) AS ts, created AS ts_raw,
    {provider} AS provider, model, tier AS service_tier,
    prompt AS input_raw, cached AS cache_read_raw, {cw} AS cache_write_raw,
    completion AS output_raw, reasoning AS reasoning_raw,
    CASE WHEN err_body OR finish = 'content_filter' THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN err_body THEN coalesce({_ERR_CLASS}, 'other')
         WHEN finish = 'content_filter' THEN 'content_filter' END AS error_type,
    finish AS finish_reason,
    wb_nonempty(m_prompt_version) AS prompt_version, wb_nonempty(coalesce(m_user, body_user)) AS user_id,
    {_META}
    {cost} AS logged_cost_usd,
    json_object('system_fingerprint', fingerprint, 'metadata', TRY_CAST(metadata AS JSON),
                'upstream_provider', wb_nonempty(upstream), 'native_finish_reason', native_finish,
                'error', TRY_CAST(err AS JSON){_gateway_attrs(gateway, "cache_write")}) AS attributes
FROM g
"""


def _responses_select(gateway: bool) -> str:
    provider, cw, cost = _gateway_columns(gateway, "cache_write")
    return f"""
WITH f AS ({extract({
    "id": "$.id", "created": "$.created_at", "completed": "$.completed_at", "model": "$.model",
    "tier": "$.service_tier", "rstatus": "$.status",
    "input": "$.usage.input_tokens", "cached": "$.usage.input_tokens_details.cached_tokens",
    "cache_write": "$.usage.input_tokens_details.cache_write_tokens",
    "output": "$.usage.output_tokens", "reasoning": "$.usage.output_tokens_details.reasoning_tokens",
    "incomplete": "$.incomplete_details.reason", "user": "$.user", "safety_id": "$.safety_identifier",
    "prompt_id": "$.prompt.id", "prompt_ver": "$.prompt.version",
    "conversation_id": "$.conversation.id", "conversation": "$.conversation", "upstream": "$.provider",
    "previous": "$.previous_response_id", "cache_key": "$.prompt_cache_key",
    **_ERROR_FIELDS, **_GATEWAY_FIELDS, **_META_FIELDS,
})}),
g AS (SELECT *, rstatus IN ('failed', 'cancelled') OR err LIKE '{{%' AS failed,
        {_storage_flag(gateway, "input", "cached", "cache_write")} FROM f)
SELECT line, raw,
    id AS call_id, id AS response_id, wb_ts_epoch(created, 1) AS ts, created AS ts_raw,
    {provider} AS provider, model, tier AS service_tier,
    input AS input_raw, cached AS cache_read_raw, {cw} AS cache_write_raw,
    output AS output_raw, reasoning AS reasoning_raw,
    (TRY_CAST(completed AS DOUBLE) - TRY_CAST(created AS DOUBLE)) * 1000 AS latency_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN coalesce({_ERR_CLASS}, CASE WHEN rstatus = 'cancelled' THEN 'canceled' END, 'other')
         END AS error_type,
    coalesce(wb_nonempty(incomplete), CASE WHEN rstatus <> 'completed' THEN rstatus END) AS finish_reason,
    wb_nonempty(coalesce(user, safety_id, m_user, body_user)) AS user_id,
    wb_nonempty(coalesce(m_prompt_version,
        CASE WHEN prompt_id IS NOT NULL THEN prompt_id || coalesce('@' || prompt_ver, '') END)) AS prompt_version,
    wb_nonempty(coalesce(m_feature, m_tag)) AS feature,
    wb_nonempty(coalesce(conversation_id, CASE WHEN conversation NOT LIKE '{{%' THEN conversation END,
                         m_session, m_conversation)) AS session_id,
    wb_nonempty(m_trace) AS trace_id,
    wb_nonempty(m_environment) AS environment,
    {cost} AS logged_cost_usd,
    json_object('previous_response_id', previous, 'metadata', TRY_CAST(metadata AS JSON),
                'prompt_cache_key', cache_key, 'status', rstatus, 'upstream_provider', wb_nonempty(upstream),
                'error', TRY_CAST(err AS JSON){_gateway_attrs(gateway, "cache_write")}) AS attributes
FROM g
"""


def _openai_error_body(s: dict) -> bool:
    """`{"error": {"message", "type", "param", "code"}}` and nothing else: an OpenAI HTTP error body."""
    err = s.get("error")
    return set(s) == {"error"} and isinstance(err, dict) and "message" in err and "type" in err


def _openrouter_error_body(s: dict) -> bool:
    """OpenRouter's error body: `error` {code, message, metadata.provider_name}, maybe `user_id`."""
    err = s.get("error")
    return (isinstance(err, dict) and "message" in err and "code" in err and "type" not in s and "id" not in s
            and set(s) <= {"error", "user_id"} and ("user_id" in s or isinstance(err.get("metadata"), dict)))


def _openrouter_body(s: dict) -> bool:
    """An OpenRouter response: a gen-… id, or a `vendor/model` name with OpenRouter's usage additions."""
    usage = s.get("usage") if isinstance(s.get("usage"), dict) else {}
    return str(s.get("id", "")).startswith("gen-") or (
        "/" in str(s.get("model", "")) and ("is_byok" in usage or "cost_details" in usage))


OPENROUTER_CHAT = Adapter(
    name="openrouter_chat",
    source_format="openrouter",
    description="OpenRouter Chat Completions responses (id gen-…, model vendor/model, usage.cost) and error bodies",
    sniff=lambda s: (s.get("object") == "chat.completion" and _openrouter_body(s)) or _openrouter_error_body(s),
    select=_chat_select(gateway=True),
)

OPENROUTER_RESPONSES = Adapter(
    name="openrouter_responses",
    source_format="openrouter",
    description="OpenRouter Responses API objects (POST /api/v1/responses: id gen-…, usage.cost)",
    sniff=lambda s: s.get("object") == "response" and _openrouter_body(s),
    select=_responses_select(gateway=True),
)

CHAT = Adapter(
    name="openai_chat",
    source_format="openai",
    description="OpenAI Chat Completions response objects (object=chat.completion), one per line or a JSON array; "
    "HTTP error bodies ({\"error\": {...}}) as failed calls",
    sniff=lambda s: (s.get("object") == "chat.completion" and not _openrouter_body(s)) or _openai_error_body(s),
    select=_chat_select(gateway=False),
)

RESPONSES = Adapter(
    name="openai_responses",
    source_format="openai",
    description="OpenAI Responses API objects (object=response)",
    sniff=lambda s: s.get("object") == "response" and not _openrouter_body(s),
    select=_responses_select(gateway=False),
)

_BATCH_ERR_CLASS = "wb_error_class(coalesce(err_code, body_err_code, status_code), coalesce(err_message, body_err_message))"

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
    id AS call_id, body_id AS response_id,
    wb_ts_epoch(coalesce(created, created_at), 1) AS ts, coalesce(created, created_at) AS ts_raw,
    'openai' AS provider, model, 'batch' AS service_tier,
    coalesce(prompt, input) AS input_raw, coalesce(cached, cached2) AS cache_read_raw,
    coalesce(cw, cw2) AS cache_write_raw, coalesce(completion, output) AS output_raw,
    coalesce(reasoning, reasoning2) AS reasoning_raw,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN {_BATCH_ERR_CLASS} END AS error_type,
    coalesce(finish, body_status) AS finish_reason,
    wb_nonempty(feature) AS feature, wb_nonempty(prompt_version) AS prompt_version,
    json_object('custom_id', custom_id, 'request_id', request_id, 'response_id', body_id,
                'error', TRY_CAST(err AS JSON)) AS attributes
FROM g
""",
)

# OpenAI's sniffers leave OpenRouter's (OpenAI-shaped) bodies to the OpenRouter adapters.
ADAPTERS = [CHAT, RESPONSES, BATCH, OPENROUTER_CHAT, OPENROUTER_RESPONSES]
