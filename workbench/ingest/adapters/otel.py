"""OpenTelemetry spans of LLM calls exported as OTLP/JSON (`otel_genai`): GenAI semconv,
openllmetry (Traceloop), pydantic-ai / Logfire, the Vercel AI SDK and OpenInference (Arize Phoenix,
LlamaIndex, OpenAI Agents, google-genai instrumentations), in one adapter.

A record is one `ExportTraceServiceRequest`: `{"resourceSpans": [{"resource": {"attributes": [...]},
"scopeSpans": [{"scope": {...}, "spans": [...]}]}]}`. The Collector file exporter writes one request
per line (JSONL); an SDK or a test dump often writes one pretty-printed request per file (the reader
hands the whole document over as one record). The SELECT expands each record into one row per span
and pivots the span's and the resource's `attributes` lists by key (values are `stringValue`,
`intValue` (a decimal string; JS exporters write JSON numbers, accepted), `doubleValue`, `boolValue`,
`arrayValue`). `raw` is the span's own JSON; `line` the record's. OpenInference spans share this
framing (and may share a request with GenAI-semconv spans), so they are read here, span by span,
rather than by a second format: the sniffer sees `resourceSpans` whoever produced them.

**The alias table is data**: `otel_aliases.yaml` beside this module lists, per canonical column,
the attribute keys producers write it under, in priority order (the first the span carries wins);
an entry may read a JSON path inside a string attribute (`llm.invocation_parameters` -> `$.model`)
or scale a value (TTFT in seconds -> ms). It is read once at import (libyaml's C loader when
available) and turned into the SQL below: supporting a new producer, or a renamed attribute, is
an edit of that file. The same file holds the span-kind rules, the TTFT / exception event names and
the provider-name normalisation.

Which spans are calls (`span_kinds` in the YAML): `openinference.span.kind = LLM` (CHAIN, AGENT,
TOOL, RETRIEVER, EMBEDDING, ... are not); Vercel `ai.operationId` `ai.generateText.doGenerate` /
`ai.streamText.doStream` / `...Object...` (the outer `ai.generateText` / `ai.streamText` spans repeat
their child's `ai.usage.*` and would count the call twice); `gen_ai.operation.name` `chat`,
`text_completion`, `generate_content` (not embeddings, retrieval, execute_tool, create_agent,
invoke_agent, invoke_workflow: agents sum their children's usage); openllmetry's `llm.request.type`
and `traceloop.span.kind`. A span no rule decides is a call when it carries a token count, or when it
failed naming a model (an HTTP 404 is an LLM call with an error, not "not an LLM call"). Every other
span is quarantined as "not an LLM call: span NAME" so that counts reconcile. Embeddings are not
generation traffic; they stay visible in the quarantine.

Tokens: every producer listed counts cache reads and writes INSIDE input (`gen_ai.usage.input_tokens`,
`ai.usage.inputTokens`, `llm.token_count.prompt`, ...) and reasoning INSIDE output: the canonical
convention. A bucket the span does not carry reads 0 (openai-v2 writes no cache or reasoning counts;
pydantic-ai writes cache reads only when non-zero).

Other columns: call_id = the provider's response id (`gen_ai.response.id`, Vercel `ai.response.id`,
OpenAI Agents' `llm.invocation_parameters.id`; also `response_id`) so that two instrumentation layers
logging one response (pydantic-ai over openllmetry) count once, else the `spanId`; model = the response
model, else the request model; provider = `gen_ai.provider.name` / `llm.provider` / `gen_ai.system` /
`ai.model.provider` / `llm.system`, normalised to the price book's names (`aws.bedrock` -> `bedrock`,
`azure.ai.openai` -> `azure`, Vercel `openai.chat` -> `openai`, ...); status.code 2 (or an `error.type`
attribute) = error, classified by `wb_error_class` from `error.type` (else the `exception` event's
`exception.type`) and `status.message` (else `exception.message`); latency = end - start; TTFT = a
TTFT attribute (semconv / pydantic-ai seconds, Vercel ms), else the first chunk event - start
(openllmetry, OpenInference); logged cost = pydantic-ai `operation.cost` / OpenInference `llm.cost.total`.
The conventions define no user, feature, cost or prompt-version attribute, so common custom ones are
read, span first, then resource: session = `gen_ai.conversation.id` / `session.id` / Vercel
`ai.telemetry.metadata.sessionId`; user = `user.id` / `enduser.id` / `ai.telemetry.metadata.userId`;
feature = `app.feature` / `feature` / Vercel metadata `feature` / `ai.telemetry.functionId`, else the
resource's `service.name` (the SDK default `unknown_service...` is ignored); environment =
`deployment.environment.name` / `deployment.environment`; prompt_version = `app.prompt_version` /
`prompt.version`. `attributes` keeps the span name, kind, operation, parent, scope, service, response
id, finish reasons, server address, the exception type, the Vercel telemetry metadata and the other
`gen_ai.request.*` parameters (under `request`, prefix dropped).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ...config import parse_yaml
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
    '"attributes":' + _ATTRS_T + ',"events":[{"name":"VARCHAR","timeUnixNano":"VARCHAR","attributes":' + _ATTRS_T + '}]}'
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


ALIASES_FILE = Path(__file__).with_name("otel_aliases.yaml")
ALIASES: dict[str, Any] = parse_yaml(ALIASES_FILE.read_bytes())

_TOKEN_COLUMNS = ("input_raw", "cache_read_raw", "cache_write_raw", "output_raw", "reasoning_raw")


def _entries(items: list) -> list[tuple[str, str | None, float | None]]:
    """YAML alias entries -> (attribute key, JSON path inside it or None, scale or None)."""
    out = []
    for item in items or ():
        if isinstance(item, str):
            out.append((item, None, None))
        else:
            out.append((str(item["key"]), item.get("path"), item.get("scale")))
    return out


_COLUMNS = {name: _entries(items) for name, items in ALIASES["columns"].items()}
_CONTEXT = {name: _entries(items) for name, items in ALIASES["context"].items()}
_RULES = ALIASES["span_kinds"]
_FIRST_TOKEN_EVENTS = list(ALIASES["events"]["first_token"])
_EXCEPTION_EVENT = str(ALIASES["events"]["exception"])
_PROVIDERS = {str(k).lower(): str(v) for k, v in ALIASES["providers"].items()}

# Every span attribute read, each once: key -> column name in `f`.
_FIXED_SPAN_KEYS = ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.finish_reasons", "server.address")
_span_keys: dict[str, str] = {}
for _key in [*_FIXED_SPAN_KEYS, *(r["key"] for r in _RULES),
             *(k for es in [*_COLUMNS.values(), *_CONTEXT.values()] for k, _, _ in es)]:
    _span_keys.setdefault(_key, f"s_{len(_span_keys)}")
_res_keys: dict[str, str] = {}
for _key in ["service.name", *(k for es in _CONTEXT.values() for k, _, _ in es)]:
    _res_keys.setdefault(_key, f"r_{len(_res_keys)}")
_TOKEN_KEYS = sorted({k for c in _TOKEN_COLUMNS for k, _, _ in _COLUMNS[c]})


def _extract(obj: str, keys: dict[str, str], alias: str) -> tuple[str, str]:
    """One json_extract_string of many keys out of a pivoted attribute object (one parse)."""
    paths = ", ".join(sql_str(f'$."{k}"') for k in keys)
    cols = ", ".join(f"{alias}[{i}] AS {col}" for i, col in enumerate(keys.values(), 1))
    return f"json_extract_string({obj}, [{paths}]) AS {alias}", cols


_NUMERIC = ("ttft_ms", "logged_cost_usd")  # DOUBLE columns (the token columns stay raw text for the pipeline)


def _entry_sql(col: str, path: str | None, scale: float | None, numeric: bool = False) -> str:
    """One alias entry: the attribute's text, a JSON path inside it, or its number times a scale."""
    v = f"wb_nonempty({col})"
    if path is not None:
        v = f"wb_nonempty(CASE WHEN json_valid({col}) THEN json_extract_string({col}, {sql_str(path)}) END)"
    if numeric or scale is not None:
        v = f"TRY_CAST({v} AS DOUBLE)" + (f" * {float(scale)!r}" if scale is not None else "")
    return v


def _column(name: str) -> str:
    """A canonical column: the first of its aliases the span carries."""
    parts = [_entry_sql(_span_keys[k], p, sc, name in _NUMERIC) for k, p, sc in _COLUMNS.get(name, ())]
    if name == "finish_reason":  # `gen_ai.response.finish_reasons` is a list: its first element
        parts = [f"CASE WHEN starts_with({x}, '[') THEN {x} ->> 0 ELSE {x} END" for x in parts]
    return f"coalesce({', '.join(parts)})" if parts else "NULL"


def _context(name: str) -> str:
    """A context column: per alias, the span's value, else the resource's."""
    parts = [f"wb_nonempty(coalesce({_entry_sql(_span_keys[k], p, None)}, {_entry_sql(_res_keys[k], p, None)}))"
             for k, p, _ in _CONTEXT.get(name, ())]
    return f"coalesce({', '.join(parts)})" if parts else "NULL"


def _in(values) -> str:
    return ", ".join(sql_str(str(v).lower()) for v in values)


def _is_call() -> str:
    """The span-kind rules as one CASE; undecided spans are calls when they carry usage or failed naming a model."""
    whens = []
    for rule in _RULES:
        v = f"lower(wb_nonempty({_span_keys[rule['key']]}))"
        if rule.get("calls"):
            whens.append(f"WHEN {v} IN ({_in(rule['calls'])}) THEN TRUE")
        if rule.get("not_calls"):
            whens.append(f"WHEN {v} IN ({_in(rule['not_calls'])}) THEN FALSE")
        if rule.get("others") == "not_call":
            whens.append(f"WHEN {v} IS NOT NULL THEN FALSE")
    return f"CASE {' '.join(whens)} ELSE has_usage OR (failed AND model IS NOT NULL) END"


def _nanos(x: str) -> str:
    return f"coalesce(TRY_CAST({x} AS HUGEINT), TRY_CAST(TRY_CAST({x} AS DOUBLE) AS HUGEINT))"


def _provider(x: str) -> str:
    """Normalise a provider name: the table, else its part before the first dot looked up, else that part."""
    cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in _PROVIDERS.items())
    head = f"split_part(lower({x}), '.', 1)"
    return f"CASE lower({x}) {cases} ELSE CASE {head} {cases} ELSE {head} END END"


def _attr_value(attrs: str, key: str) -> str:
    """The scalar value of one key in an OTLP attribute list (for event attributes)."""
    v = f"list_filter({attrs}, lambda a: a.key = {sql_str(key)})[1].value"
    return f"coalesce({v}.stringValue, {v}.intValue, {v}.doubleValue, {v}.boolValue)"


_span_x, _span_cols = _extract("sa", _span_keys, "s")
_res_x, _res_cols = _extract("ra", _res_keys, "r")
_token_keys = ", ".join(sql_str(k) for k in _TOKEN_KEYS)
_first_token = ", ".join(sql_str(e) for e in _FIRST_TOKEN_EVENTS)
_op = _span_keys["gen_ai.operation.name"]
_operation = ", ".join(_span_keys[k] for k in ["gen_ai.operation.name", *(r["key"] for r in _RULES)])
_service = _res_keys["service.name"]

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
        {_object('x.attributes', "starts_with(a.key, 'ai.telemetry.metadata.')", "substr(a.key, 23)")} AS telemetry_md,
        coalesce(len(list_filter(x.attributes, lambda a: a.key IN ({_token_keys})
                                 OR starts_with(a.key, 'gen_ai.usage.'))) > 0, FALSE) AS has_usage,
        list_min(list_transform(list_filter(x.events, lambda e: e.name IN ({_first_token})),
                                lambda e: {_nanos('e.timeUnixNano')})) AS first_token_ns,
        list_filter(x.events, lambda e: e.name = {sql_str(_EXCEPTION_EVENT)})[1].attributes AS exc_attrs
    FROM (SELECT line, span, rattrs, scope_name, scope_version, from_json(span, '{_SPAN_T}') AS x FROM sp)
),
f AS (
    SELECT line, raw, scope_name, scope_version, traceId, spanId, parentSpanId, name, kind,
        startTimeUnixNano AS start_raw, endTimeUnixNano AS end_raw, status.code AS status_code,
        status.message AS status_message, req_params, telemetry_md, has_usage, first_token_ns,
        {_attr_value('exc_attrs', 'exception.type')} AS exc_type,
        {_attr_value('exc_attrs', 'exception.message')} AS exc_message,
        {_span_cols}, {_res_cols}
    FROM (SELECT *, {_span_x}, {_res_x} FROM p)
),
g AS (
    SELECT *,
        status_code IN ('2', 'STATUS_CODE_ERROR') OR {_column('error_code')} IS NOT NULL AS failed,
        {_nanos('start_raw')} AS start_ns, {_nanos('end_raw')} AS end_ns,
        {_column('provider')} AS provider_raw, {_column('model')} AS model, {_column('response_id')} AS resp_id,
        {_column('finish_reason')} AS finish, {_span_keys['gen_ai.response.finish_reasons']} AS finish_list
    FROM f
),
h AS (SELECT *, {_is_call()} AS is_call FROM g)
SELECT line, raw,
    coalesce(resp_id, wb_nonempty(spanId)) AS call_id, resp_id AS response_id, wb_nonempty(traceId) AS trace_id,
    to_timestamp(0) + to_microseconds(TRY_CAST(start_ns // 1000 AS BIGINT)) AS ts, start_raw AS ts_raw,
    {_provider('provider_raw')} AS provider,
    model,
    {_column('service_tier')} AS service_tier,
    {_column('input_raw')} AS input_raw, {_column('cache_read_raw')} AS cache_read_raw,
    {_column('cache_write_raw')} AS cache_write_raw,
    {_column('output_raw')} AS output_raw, {_column('reasoning_raw')} AS reasoning_raw,
    CASE WHEN end_ns > 0 AND start_ns > 0 THEN CAST(end_ns - start_ns AS DOUBLE) / 1e6 END AS latency_ms,
    coalesce({_column('ttft_ms')},
             CASE WHEN first_token_ns >= start_ns AND start_ns > 0 THEN CAST(first_token_ns - start_ns AS DOUBLE) / 1e6 END)
        AS ttft_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN wb_error_class(coalesce({_column('error_code')}, wb_nonempty(exc_type)),
                                         coalesce(wb_nonempty(status_message), wb_nonempty(exc_message))) END AS error_type,
    finish AS finish_reason,
    {_context('session_id')} AS session_id,
    {_context('user_id')} AS user_id,
    coalesce({_context('feature')},
             CASE WHEN NOT starts_with({_service}, 'unknown_service') THEN wb_nonempty({_service}) END) AS feature,
    {_context('environment')} AS environment,
    {_context('prompt_version')} AS prompt_version,
    {_column('logged_cost_usd')} AS logged_cost_usd,
    CASE WHEN NOT is_call THEN 'not an LLM call: span ' || coalesce(name, '?') END AS skip_reason,
    json_object('span_name', name, 'span_kind', TRY_CAST(kind AS INT), 'operation', coalesce({_operation}),
                'parent_span_id', wb_nonempty(parentSpanId), 'scope', scope_name, 'scope_version', scope_version,
                'service_name', {_service}, 'response_id', resp_id, 'request_model', {_span_keys['gen_ai.request.model']},
                'finish_reasons', CASE WHEN starts_with(finish_list, '[') THEN json(finish_list) END,
                'server_address', {_span_keys['server.address']}, 'provider_name', provider_raw,
                'status_message', wb_nonempty(status_message), 'exception_type', wb_nonempty(exc_type),
                'metadata', CASE WHEN telemetry_md <> '{{}}' THEN json(telemetry_md) END,
                'request', CASE WHEN req_params <> '{{}}' THEN json(req_params) END) AS attributes
FROM h
UNION ALL BY NAME
SELECT line, empty_raw AS raw, 'no spans in the OTLP export request' AS skip_reason
FROM rs WHERE empty_raw IS NOT NULL
"""

OTEL_GENAI = Adapter(
    name="otel_genai",
    tolerates_malformed=False,
    source_format="otel_genai",
    description="OpenTelemetry LLM spans as OTLP/JSON (Collector file exporter JSONL, or one request per file): "
    "GenAI semconv, openllmetry, pydantic-ai/Logfire, Vercel AI SDK, OpenInference (Phoenix, LlamaIndex, "
    "OpenAI Agents); attribute aliases in otel_aliases.yaml",
    sniff=lambda s: isinstance(s.get("resourceSpans"), list),
    input_includes_cache=True,
    output_includes_reasoning=True,
    select=SELECT,
)

ADAPTERS = [OTEL_GENAI]
