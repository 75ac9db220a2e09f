"""Helicone request exports (`helicone`): `HeliconeRequest` objects as JSONL, a JSON array (or the
API's `{"data": [...]}` page) or CSV (nested columns as JSON text).

Helicone's own export tool (`npx @helicone/export`, `examples/export/typescript`) writes CSV with
exactly `response_id,response_created_at,response_status,request_created_at,request_body,
request_properties,request_user_id,model,prompt_tokens,completion_tokens,latency,cost`: no
`request_id` (call_id is then Helicone's `response_id`), no provider, TTFT or cache columns,
`latency` never filled (latency = `response_created_at - request_created_at`, noted in
`attributes.latency_from`), and JSON values with every quote doubled twice (undone here).

Columns: call_id = `request_id` (else `response_id`); response_id = `response_body.id` (the
provider's id, when the body is exported); ts = `request_created_at`; model = `response_model` (as served),
else `model`, else `request_model`; provider = `provider` lower-cased (`aws` -> `bedrock`, `x` ->
`xai`, `google` -> `vertex_ai` when `target_url` is aiplatform.googleapis.com else `gemini`, ...);
latency = `delay_ms` (else `latency`); TTFT = `time_to_first_token` (ms); logged cost = `costUSD` (newer: `cost`).
Status: `response_status` is HTTP; >= 400 is an error, and so is a status below 100 (Helicone's
negative/zero codes mean no response came back); the class comes from the status and
`response_body.error`. Helicone has no reasoning-token column (output includes it anyway).

Properties: `request_properties` and `properties` (custom `Helicone-Property-*` headers; stored with
or without the prefix) are merged and matched case-insensitively with the prefix dropped:
session = `Helicone-Session-Id` (or `session-id`, `session_id`); user = `request_user_id`, else
`Helicone-User-Id` / `user-id` / `user_id`; feature = `feature` / `app-feature` / `app.feature`;
environment = `environment` / `env`; prompt_version = `prompt-version` / `prompt_version`, else
`prompt_id`; trace = `trace-id` / `trace_id`. All properties are kept in `attributes.properties`.

Cache tokens. Whether `prompt_tokens` includes `prompt_cache_read_tokens` and
`prompt_cache_write_tokens` is not documented upstream (Helicone's own usage statistics add the
cache columns to `prompt_tokens`, i.e. treat them as disjoint, but older rows copied the provider's
`prompt_tokens`, which for OpenAI includes cached tokens). The rule, per row:
1. no cache tokens: input = `prompt_tokens` (nothing to decide);
2. `prompt + cache_read + cache_write + completion == total_tokens`: prompt EXCLUDES the cache;
3. `prompt + completion == total_tokens`: prompt INCLUDES the cache;
4. cache tokens > `prompt_tokens`: prompt must exclude them;
5. otherwise (no or inconsistent `total_tokens`): `--set prompt_tokens=inclusive|exclusive` if
   given, else exclusive (Helicone's own convention).
The adapter outputs the canonical total as `input_raw` (so `input_includes_cache=True`) and
records which rule decided in `attributes.prompt_tokens_convention`.
"""

from __future__ import annotations

from ...errors import WorkbenchError
from .base import Adapter, Options, extract, sql_str

_ERR_CLASS = "wb_error_class(coalesce(err_code, err_type, http_status), err_message)"

_FIELDS = {
    "request_id": "$.request_id",
    "created": "$.request_created_at",
    "response_created": "$.response_created_at",
    "latency": "$.latency",
    "body_id": "$.response_body.id",
    "props": "$.request_properties",
    "props2": "$.properties",
    "user_id": "$.request_user_id",
    "request_model": "$.request_model",
    "response_model": "$.response_model",
    "model": "$.model",
    "model_override": "$.model_override",
    "provider": "$.provider",
    "target_url": "$.target_url",
    "request_path": "$.request_path",
    "response_id": "$.response_id",
    "http_status": "$.response_status",
    "delay_ms": "$.delay_ms",
    "ttft": "$.time_to_first_token",
    "prompt": "$.prompt_tokens",
    "completion": "$.completion_tokens",
    "cache_read": "$.prompt_cache_read_tokens",
    "cache_write": "$.prompt_cache_write_tokens",
    "total": "$.total_tokens",
    "cost_usd": "$.costUSD",
    "cost": "$.cost",
    "prompt_id": "$.prompt_id",
    "helicone_user": "$.helicone_user",
    "country": "$.country_code",
    "err_code": "$.response_body.error.code",
    "err_type": "$.response_body.error.type",
    "err_message": "$.response_body.error.message",
    "finish": "$.response_body.choices[0].finish_reason",
    "stop_reason": "$.response_body.stop_reason",
}

# Property lookups: canonical column -> keys (lower case, `helicone-property-` prefix dropped).
_PROPS = {
    "p_session": ("helicone-session-id", "session-id", "session_id"),
    "p_user": ("helicone-user-id", "user-id", "user_id"),
    "p_feature": ("feature", "app-feature", "app.feature"),
    "p_environment": ("environment", "env"),
    "p_prompt_version": ("prompt-version", "prompt_version"),
    "p_trace": ("trace-id", "trace_id"),
}

_PROVIDERS = {
    "aws": "bedrock",
    "x": "xai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
}

# A JSON object (or an object sent as JSON text, from CSV) -> its entries.
_ENTRIES = "coalesce(map_entries(from_json({x}, '\"MAP(VARCHAR, VARCHAR)\"')), [])"


def _undoubled(x: str) -> str:
    """JSON text from Helicone's CSV export: its writer doubles the quotes of JSON.stringify's
    output and then doubles every quote again, so after CSV unquoting `"` still reads `""`."""
    return f"""CASE WHEN starts_with({x}, '{{""') THEN replace({x}, '""', '"') ELSE {x} END"""


def _props_object() -> str:
    """Merged properties as one JSON object text with normalized keys (first occurrence wins)."""
    entries = (f"list_concat({_ENTRIES.format(x=_undoubled('props'))}, "
               f"{_ENTRIES.format(x=_undoubled('props2'))})")
    return (
        f"('{{' || coalesce(array_to_string(list_transform(list_filter({entries}, lambda e: e.value IS NOT NULL), "
        "lambda e: to_json(regexp_replace(lower(e.key), '^helicone-property-', ''))::VARCHAR || ':' "
        "|| to_json(e.value)::VARCHAR), ','), '') || '}')"
    )


def _select(options: Options) -> str:
    forced = options.set.get("prompt_tokens", "exclusive").strip().lower()
    if forced not in ("inclusive", "exclusive"):
        raise WorkbenchError("--set prompt_tokens= takes `inclusive` or `exclusive` (does prompt_tokens count cache tokens?)")
    keys = [k for ks in _PROPS.values() for k in ks]
    paths = ", ".join(sql_str(f'$."{k}"') for k in keys)
    cols, i = [], 1
    for name, ks in _PROPS.items():
        cols.append(f"wb_nonempty(coalesce({', '.join(f'pv[{i + n}]' for n in range(len(ks)))})) AS {name}")
        i += len(ks)
    provider_case = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in _PROVIDERS.items())
    return f"""
WITH f AS ({extract(_FIELDS)}),
p AS (SELECT *, {_props_object()} AS pobj FROM f),
q AS (SELECT *, {', '.join(cols)},
        TRY_CAST(prompt AS DOUBLE) AS p_n, TRY_CAST(completion AS DOUBLE) AS c_n, TRY_CAST(total AS DOUBLE) AS t_n,
        coalesce(TRY_CAST(cache_read AS DOUBLE), 0) + coalesce(TRY_CAST(cache_write AS DOUBLE), 0) AS cache_n,
        TRY_CAST(http_status AS DOUBLE) AS http_n
      FROM (SELECT *, json_extract_string(pobj, [{paths}]) AS pv FROM p)),
g AS (SELECT *, CASE
        WHEN p_n IS NULL OR cache_n = 0 THEN NULL
        WHEN t_n IS NOT NULL AND c_n IS NOT NULL AND p_n + cache_n + c_n = t_n THEN 'exclusive (total_tokens)'
        WHEN t_n IS NOT NULL AND c_n IS NOT NULL AND p_n + c_n = t_n THEN 'inclusive (total_tokens)'
        WHEN cache_n > p_n THEN 'exclusive (cache tokens exceed prompt_tokens)'
        ELSE '{forced} ({"--set prompt_tokens" if "prompt_tokens" in options.set else "default"})'
      END AS convention,
      http_n >= 400 OR http_n < 100 AS failed
      FROM q)
SELECT line, raw,
    coalesce(wb_nonempty(request_id), wb_nonempty(response_id)) AS call_id,
    CASE WHEN NOT regexp_full_match(body_id, '[0-9a-fA-F-]{{36}}') THEN wb_nonempty(body_id) END AS response_id,
    wb_ts_iso(created) AS ts, created AS ts_raw,
    CASE lower(provider) WHEN 'google'
         THEN CASE WHEN target_url LIKE '%aiplatform.googleapis.com%' THEN 'vertex_ai' ELSE 'gemini' END
         {provider_case} ELSE wb_nonempty(lower(provider)) END AS provider,
    wb_nonempty(coalesce(wb_nonempty(response_model), wb_nonempty(model), request_model)) AS model,
    CASE WHEN starts_with(convention, 'exclusive') THEN CAST(CAST(p_n + cache_n AS BIGINT) AS VARCHAR)
         ELSE prompt END AS input_raw,
    cache_read AS cache_read_raw, cache_write AS cache_write_raw, completion AS output_raw,
    coalesce(TRY_CAST(delay_ms AS DOUBLE), TRY_CAST(latency AS DOUBLE),
             (epoch_us(wb_ts_iso(response_created)) - epoch_us(wb_ts_iso(created))) / 1000.0) AS latency_ms,
    TRY_CAST(ttft AS DOUBLE) AS ttft_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN {_ERR_CLASS} END AS error_type,
    wb_nonempty(coalesce(finish, stop_reason)) AS finish_reason,
    p_session AS session_id, p_trace AS trace_id,
    coalesce(wb_nonempty(user_id), p_user) AS user_id,
    p_feature AS feature, p_environment AS environment,
    coalesce(p_prompt_version, wb_nonempty(prompt_id)) AS prompt_version,
    TRY_CAST(coalesce(cost_usd, cost) AS DOUBLE) AS logged_cost_usd,
    json_object('http_status', TRY_CAST(http_status AS INT), 'prompt_id', wb_nonempty(prompt_id),
                'request_model', wb_nonempty(request_model), 'model_override', wb_nonempty(model_override),
                'response_id', wb_nonempty(response_id), 'request_path', wb_nonempty(request_path),
                'latency_from', CASE WHEN delay_ms IS NULL AND latency IS NULL AND response_created IS NOT NULL
                                     THEN 'response_created_at - request_created_at' END,
                'target_url', wb_nonempty(target_url), 'helicone_user', wb_nonempty(helicone_user),
                'country_code', wb_nonempty(country), 'total_tokens', TRY_CAST(total AS BIGINT),
                'prompt_tokens', TRY_CAST(prompt AS BIGINT), 'prompt_tokens_convention', convention,
                'properties', CASE WHEN pobj <> '{{}}' THEN json(pobj) END) AS attributes
FROM g
"""


HELICONE = Adapter(
    name="helicone",
    source_format="helicone",
    description="Helicone request exports (HeliconeRequest rows: request_id, request_created_at, ...) "
    "as JSONL, JSON array or CSV",
    # The JSON rows carry request_id; the export tool's CSV has no request_id column (its own header).
    sniff=lambda s: "request_created_at" in s and (
        "request_id" in s or ("response_id" in s and "response_status" in s and "response_created_at" in s)),
    select=_select,
    input_includes_cache=True,  # the SELECT outputs the total input (see the cache rule above)
    output_includes_reasoning=True,
    framing="any",
    set_keys=("prompt_tokens",),
)

ADAPTERS = [HELICONE]
