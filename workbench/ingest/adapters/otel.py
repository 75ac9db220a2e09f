"""OpenTelemetry GenAI spans exported as OTLP/JSON (`otel_genai`).

A record is one `ExportTraceServiceRequest`: `{"resourceSpans": [{"resource": {"attributes": [...]},
"scopeSpans": [{"scope": {...}, "spans": [...]}]}]}`. The Collector file exporter writes one request
per line (JSONL); an SDK or a test dump often writes one pretty-printed request per file (the reader
hands the whole document over as one record). The SELECT expands each record into one row per span
and pivots the span's and the resource's `attributes` lists by key (values are `stringValue`,
`intValue` (a decimal string, numbers accepted), `doubleValue`, `boolValue`, `arrayValue`).
`raw` is the span's own JSON; `line` the record's.

Which spans are calls: those whose `gen_ai.operation.name` is `chat`, `text_completion` or
`generate_content`, and spans with another or no operation name (older or vendor instrumentations)
that carry a `gen_ai.usage.*` attribute, unless the operation is one of embeddings, retrieval,
execute_tool, create_agent, invoke_agent, invoke_workflow. Every other span (tool, agent, workflow, retrieval, embeddings, plain
HTTP spans) is quarantined as "not an LLM call: span NAME" so that counts reconcile. Agent and
workflow spans are excluded even when they carry usage: instrumentations put the *sum* of their
children's usage there, which would count the tokens twice. Embeddings are excluded because they
have no output tokens and are not generation traffic; they are visible in the quarantine.

Tokens (semconv): `gen_ai.usage.input_tokens` (old: `prompt_tokens`) INCLUDES cache reads and
writes (`gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens`);
`gen_ai.usage.output_tokens` (old: `completion_tokens`) includes
`gen_ai.usage.reasoning.output_tokens`.

Other columns: model = `gen_ai.response.model` else `gen_ai.request.model`; provider =
`gen_ai.provider.name` (old `gen_ai.system`), normalised to the price book's names (`aws.bedrock` ->
`bedrock`, `azure.ai.openai` -> `azure`, `gcp.vertex_ai` -> `vertex_ai`, `gcp.gemini` / `gcp.gen_ai`
-> `gemini`, ...); status.code 2 (or an `error.type` attribute) = error, classified from
`error.type` and `status.message`; latency = end - start; TTFT = `gen_ai.response.time_to_first_chunk`
(seconds). The conventions define no user, feature, cost or prompt-version attribute, so common
custom ones are read, span first, then resource: session = `gen_ai.conversation.id` / `session.id`;
user = `user.id` / `enduser.id`; feature = `app.feature` / `feature`, else the resource's
`service.name` (the service is the closest thing to a feature the conventions define; the SDK
default `unknown_service...` is ignored); environment = `deployment.environment.name` /
`deployment.environment`; prompt_version = `app.prompt_version` / `prompt.version`.
`attributes` keeps the span name, kind, parent, scope, service, response id, finish reasons,
server address and the other `gen_ai.request.*` parameters (under `request`, prefix dropped).
"""

from __future__ import annotations

from .base import Adapter, sql_str

# One OTLP attribute list, as DuckDB `from_json` structure.
_SCALAR = '"stringValue":"VARCHAR","intValue":"VARCHAR","doubleValue":"VARCHAR","boolValue":"VARCHAR"'
_ATTRS_T = (
    '[{"key":"VARCHAR","value":{' + _SCALAR + ',"arrayValue":{"values":[{' + _SCALAR + '}]},'
    '"kvlistValue":"JSON","bytesValue":"VARCHAR"}}]'
)
_SPAN_T = (
    '{"traceId":"VARCHAR","spanId":"VARCHAR","parentSpanId":"VARCHAR","name":"VARCHAR","kind":"VARCHAR",'
    '"startTimeUnixNano":"VARCHAR","endTimeUnixNano":"VARCHAR","status":{"code":"VARCHAR","message":"VARCHAR"},'
    '"attributes":' + _ATTRS_T + "}"
)
_RESOURCE_T = (
    '{"resource":{"attributes":' + _ATTRS_T + '},"scopeSpans":["JSON"],"instrumentationLibrarySpans":["JSON"]}'
)
_SCOPE_T = (
    '{"scope":{"name":"VARCHAR","version":"VARCHAR"},"instrumentationLibrary":{"name":"VARCHAR"},"spans":["JSON"]}'
)


def _value_json(v: str) -> str:
    """An OTLP AnyValue struct -> JSON text (ints and doubles as numbers, arrays as lists)."""
    return f"""CASE
        WHEN {v}.stringValue IS NOT NULL THEN to_json({v}.stringValue)
        WHEN TRY_CAST({v}.intValue AS HUGEINT) IS NOT NULL THEN to_json(TRY_CAST({v}.intValue AS HUGEINT))
        WHEN isfinite(TRY_CAST({v}.doubleValue AS DOUBLE)) THEN to_json(TRY_CAST({v}.doubleValue AS DOUBLE))
        WHEN coalesce({v}.intValue, {v}.doubleValue) IS NOT NULL THEN to_json(coalesce({v}.intValue, {v}.doubleValue))
        WHEN {v}.boolValue IS NOT NULL THEN to_json({v}.boolValue = 'true')
        WHEN {v}.arrayValue IS NOT NULL THEN to_json(list_transform({v}.arrayValue.values,
            lambda e: coalesce(e.stringValue, e.intValue, e.doubleValue, e.boolValue)))
        WHEN {v}.kvlistValue IS NOT NULL THEN {v}.kvlistValue
        WHEN {v}.bytesValue IS NOT NULL THEN to_json({v}.bytesValue)
        ELSE 'null' END::VARCHAR"""


def _object(attrs: str, where: str = "a.key IS NOT NULL", key: str = "a.key") -> str:
    """An OTLP attribute list -> one JSON object text {key: value} (pivot by key)."""
    return (
        f"('{{' || coalesce(array_to_string(list_transform(list_filter({attrs}, lambda a: {where}), "
        f"lambda a: to_json({key})::VARCHAR || ':' || {_value_json('a.value')}), ','), '') || '}}')"
    )


# Attribute keys read from the span (and, for the context ones, from the resource).
_SPAN_KEYS = {
    "op": "gen_ai.operation.name",
    "provider_name": "gen_ai.provider.name",
    "system": "gen_ai.system",
    "req_model": "gen_ai.request.model",
    "resp_model": "gen_ai.response.model",
    "resp_id": "gen_ai.response.id",
    "in_tok": "gen_ai.usage.input_tokens",
    "prompt_tok": "gen_ai.usage.prompt_tokens",
    "out_tok": "gen_ai.usage.output_tokens",
    "completion_tok": "gen_ai.usage.completion_tokens",
    "cache_read": "gen_ai.usage.cache_read.input_tokens",
    "cache_write": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning": "gen_ai.usage.reasoning.output_tokens",
    "ttft_s": "gen_ai.response.time_to_first_chunk",
    "finish": "gen_ai.response.finish_reasons",
    "error_type": "error.type",
    "server": "server.address",
    "tier": "openai.response.service_tier",
    "req_tier": "openai.request.service_tier",
    "old_tier": "gen_ai.openai.response.service_tier",
}
_CONTEXT_KEYS = {
    "conversation": "gen_ai.conversation.id",
    "session": "session.id",
    "user": "user.id",
    "enduser": "enduser.id",
    "app_feature": "app.feature",
    "feature": "feature",
    "env_name": "deployment.environment.name",
    "env": "deployment.environment",
    "app_prompt_version": "app.prompt_version",
    "prompt_version": "prompt.version",
    "service": "service.name",
}

_CALL_OPS = ("chat", "text_completion", "generate_content")
# Operations that are not generation calls even when they carry usage (agents sum their children's).
_OTHER_OPS = ("embeddings", "retrieval", "execute_tool", "create_agent", "invoke_agent", "invoke_workflow")

_PROVIDERS = {
    "aws.bedrock": "bedrock",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure_openai": "azure",
    "azure.ai.inference": "azure_ai",
    "az.ai.inference": "azure_ai",
    "gcp.vertex_ai": "vertex_ai",
    "gcp.gemini": "gemini",
    "gcp.gen_ai": "gemini",
    "mistral_ai": "mistral",
    "x_ai": "xai",
    "ibm.watsonx.ai": "watsonx",
}


def _extract(obj: str, keys: dict[str, str], prefix: str) -> str:
    paths = ", ".join(sql_str(f'$."{k}"') for k in keys.values())
    cols = ", ".join(f"{prefix}[{i}] AS {prefix}_{name}" for i, name in enumerate(keys, 1))
    return f"json_extract_string({obj}, [{paths}]) AS {prefix}", cols


def _ctx(name: str) -> str:
    """A context attribute: the span's, else the resource's."""
    return f"wb_nonempty(coalesce(s_{name}, r_{name}))"


def _nanos(x: str) -> str:
    return f"coalesce(TRY_CAST({x} AS HUGEINT), TRY_CAST(TRY_CAST({x} AS DOUBLE) AS HUGEINT))"


_span_x, _span_cols = _extract("sa", {**_SPAN_KEYS, **_CONTEXT_KEYS}, "s")
_res_x, _res_cols = _extract("ra", _CONTEXT_KEYS, "r")
_provider_case = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in _PROVIDERS.items())
_call_ops = ", ".join(sql_str(o) for o in _CALL_OPS)
_other_ops = ", ".join(sql_str(o) for o in _OTHER_OPS)

SELECT = f"""
WITH req AS (
    SELECT line, raw, from_json(j, '{{"resourceSpans":["JSON"]}}').resourceSpans AS rsl FROM records
),
rs AS (
    SELECT line, CASE WHEN coalesce(len(rsl), 0) = 0 THEN raw END AS empty_raw,
        unnest(CASE WHEN len(rsl) > 0 THEN rsl ELSE [NULL::JSON] END) AS r
    FROM req
),
ss AS (
    SELECT line, rr.resource.attributes AS rattrs,
        unnest(coalesce(rr.scopeSpans, rr.instrumentationLibrarySpans)) AS s
    FROM (SELECT line, from_json(r, '{_RESOURCE_T}') AS rr FROM rs WHERE r IS NOT NULL)
),
sp AS (
    SELECT line, rattrs, coalesce(sc.scope.name, sc.instrumentationLibrary.name) AS scope_name,
        sc.scope.version AS scope_version, unnest(sc.spans) AS span
    FROM (SELECT line, rattrs, from_json(s, '{_SCOPE_T}') AS sc FROM ss)
),
p AS (
    SELECT line, span::VARCHAR AS raw, scope_name, scope_version, x.*,
        {_object('x.attributes')} AS sa,
        {_object('rattrs')} AS ra,
        {_object('x.attributes', "starts_with(a.key, 'gen_ai.request.') AND a.key <> 'gen_ai.request.model'",
                 "substr(a.key, 16)")} AS req_params,
        coalesce(len(list_filter(x.attributes, lambda a: starts_with(a.key, 'gen_ai.usage.'))) > 0, FALSE) AS has_usage
    FROM (SELECT line, span, rattrs, scope_name, scope_version, from_json(span, '{_SPAN_T}') AS x FROM sp)
),
f AS (
    SELECT line, raw, scope_name, scope_version, traceId, spanId, parentSpanId, name, kind,
        startTimeUnixNano AS start_raw, endTimeUnixNano AS end_raw, status.code AS status_code,
        status.message AS status_message, req_params,
        has_usage,
        {_span_cols}, {_res_cols}
    FROM (SELECT *, {_span_x}, {_res_x} FROM p)
),
g AS (
    SELECT *,
        coalesce(s_op IN ({_call_ops}), FALSE) OR (has_usage AND coalesce(s_op NOT IN ({_other_ops}), TRUE)) AS is_call,
        status_code IN ('2', 'STATUS_CODE_ERROR') OR wb_nonempty(s_error_type) IS NOT NULL AS failed,
        {_nanos('start_raw')} AS start_ns, {_nanos('end_raw')} AS end_ns,
        wb_nonempty(coalesce(s_provider_name, s_system)) AS provider_raw
    FROM f
)
SELECT line, raw,
    wb_nonempty(spanId) AS call_id, wb_nonempty(traceId) AS trace_id,
    to_timestamp(0) + to_microseconds(TRY_CAST(start_ns // 1000 AS BIGINT)) AS ts, start_raw AS ts_raw,
    CASE lower(provider_raw) {_provider_case} ELSE lower(provider_raw) END AS provider,
    wb_nonempty(coalesce(s_resp_model, s_req_model)) AS model,
    wb_nonempty(coalesce(s_tier, s_old_tier, s_req_tier)) AS service_tier,
    coalesce(s_in_tok, s_prompt_tok) AS input_raw, s_cache_read AS cache_read_raw,
    s_cache_write AS cache_write_raw,
    coalesce(s_out_tok, s_completion_tok) AS output_raw, s_reasoning AS reasoning_raw,
    CASE WHEN end_ns > 0 AND start_ns > 0 THEN CAST(end_ns - start_ns AS DOUBLE) / 1e6 END AS latency_ms,
    TRY_CAST(s_ttft_s AS DOUBLE) * 1000 AS ttft_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN wb_error_class(s_error_type, status_message) END AS error_type,
    coalesce(s_finish ->> 0, CASE WHEN NOT starts_with(s_finish, '[') THEN s_finish END) AS finish_reason,
    coalesce({_ctx('conversation')}, {_ctx('session')}) AS session_id,
    coalesce({_ctx('user')}, {_ctx('enduser')}) AS user_id,
    coalesce({_ctx('app_feature')}, {_ctx('feature')},
             CASE WHEN NOT starts_with(r_service, 'unknown_service') THEN wb_nonempty(r_service) END) AS feature,
    coalesce({_ctx('env_name')}, {_ctx('env')}) AS environment,
    coalesce({_ctx('app_prompt_version')}, {_ctx('prompt_version')}) AS prompt_version,
    CASE WHEN NOT is_call THEN 'not an LLM call: span ' || coalesce(name, '?') END AS skip_reason,
    json_object('span_name', name, 'span_kind', TRY_CAST(kind AS INT), 'operation', s_op,
                'parent_span_id', wb_nonempty(parentSpanId), 'scope', scope_name, 'scope_version', scope_version,
                'service_name', r_service, 'response_id', s_resp_id, 'request_model', s_req_model,
                'finish_reasons', CASE WHEN starts_with(s_finish, '[') THEN json(s_finish) END,
                'server_address', s_server, 'provider_name', provider_raw,
                'status_message', wb_nonempty(status_message),
                'request', CASE WHEN req_params <> '{{}}' THEN json(req_params) END) AS attributes
FROM g
UNION ALL BY NAME
SELECT line, empty_raw AS raw, 'no spans in the OTLP export request' AS skip_reason
FROM rs WHERE empty_raw IS NOT NULL
"""

OTEL_GENAI = Adapter(
    name="otel_genai",
    tolerates_malformed=False,
    source_format="otel_genai",
    description="OpenTelemetry GenAI spans as OTLP/JSON (Collector file exporter JSONL, or one request per file)",
    sniff=lambda s: isinstance(s.get("resourceSpans"), list),
    input_includes_cache=True,
    output_includes_reasoning=True,
    select=SELECT,
)

ADAPTERS = [OTEL_GENAI]
