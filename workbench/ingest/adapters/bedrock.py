"""AWS Bedrock model invocation logs (`bedrock_invocation`).

What Bedrock's model invocation logging writes, to CloudWatch Logs (one event per invocation; a
CloudWatch export or `aws logs filter-log-events` output saved as one `message` per line) or to
S3 (JSON objects): `schemaType` "ModelInvocationLog", `schemaVersion`, `timestamp` (ISO, UTC),
`accountId`, `region`, `identity.arn`, `requestId`, `operation` (InvokeModel,
InvokeModelWithResponseStream, Converse, ConverseStream), `modelId`, `input` {inputBodyJson,
inputTokenCount, cacheReadInputTokenCount, cacheWriteInputTokenCount}, `output`
{outputBodyJson, outputTokenCount}, `inferenceRegion` (cross-region inference), and
`errorCode` / `errorMessage` on a failed invocation. Key order varies (`schemaType` first or last).

Columns: call_id = `requestId`; ts = `timestamp`; provider `bedrock`; user_id = `identity.arn` (the
caller) unless the Converse `requestMetadata` names a `user_id`; session_id / feature from
`requestMetadata.session_id` / `feature` (all of it kept in `attributes.request_metadata`);
model = `modelId` with an ARN's `arn:aws:bedrock:…:inference-profile/` or `…:foundation-model/`
prefix stripped (a cross-region profile such as `us.anthropic.claude-sonnet-4-20250514-v1:0`
stays as written: it is what Bedrock bills); an application-inference-profile, provisioned or
custom model ARN names no model, so the body's `model` is used when there is one, else the ARN.
The body's own `model` is kept in `attributes.response_model`. response_id = the body's `id`
(Anthropic bodies served by Bedrock: `msg_bdrk_…`), so an SDK log of the same call dedupes.

Tokens: `inputTokenCount` EXCLUDES cache reads and writes (it is Bedrock's
`x-amzn-bedrock-input-token-count`, the uncached part), so `input_includes_cache=False`: total
input = inputTokenCount + cache reads + cache writes. Cache reads/writes come from
`input.cacheReadInputTokenCount` / `cacheWriteInputTokenCount` when logged, else from the body's
usage (Anthropic `cache_read_input_tokens` / `cache_creation_input_tokens`, Converse
`cacheReadInputTokens` / `cacheWriteInputTokens`); the body's token counts are also the fallback
for input/output. The 1-hour cache write part and thinking tokens come from an Anthropic body's
`usage.cache_creation.ephemeral_1h_input_tokens` / `usage.output_tokens_details.thinking_tokens`.
Latency = the Converse body's `metrics.latencyMs` (InvokeModel logs carry none). No TTFT, no cost.

Guardrails: a call whose guardrail intervened (`outputBodyJson."amazon-bedrock-guardrailAction"`
= INTERVENED, or a Converse `stopReason` "guardrail_intervened") is a call with status `error`,
error_type `content_filter` (`wb_error_class('guardrail_intervened', actionReason)`),
finish_reason the body's stop reason (else `guardrail_intervened`).
When the guardrail blocked the INPUT the model never ran: the log has no inputTokenCount /
outputTokenCount and the body no usage, and the call is kept with 0 tokens — it is not
quarantined as "missing token counts" (guardrail units are billed apart, in
`amazon-bedrock-trace.guardrail`; the action reason is kept in `attributes.guardrail_reason`).
When it blocked the OUTPUT the model's tokens are logged and kept (they are billed).

Errors: `errorCode` (ThrottlingException, ModelTimeoutException, ValidationException,
AccessDeniedException, …) makes the call an error, class from `wb_error_class(errorCode,
errorMessage)` (Throttling -> rate_limit, AccessDenied -> auth, ModelTimeout -> timeout, …).
"""

from __future__ import annotations

from .base import Adapter, extract

_B = "$.output.outputBodyJson."

_FIELDS = {
    "schema_type": "$.schemaType",
    "timestamp": "$.timestamp",
    "request_id": "$.requestId",
    "operation": "$.operation",
    "model_id": "$.modelId",
    "arn": "$.identity.arn",
    "account": "$.accountId",
    "region": "$.region",
    "inference_region": "$.inferenceRegion",
    "error_code": "$.errorCode",
    "error_message": "$.errorMessage",
    "request_metadata": "$.requestMetadata",
    "in_tokens": "$.input.inputTokenCount",
    "in_cache_read": "$.input.cacheReadInputTokenCount",
    "in_cache_write": "$.input.cacheWriteInputTokenCount",
    "out_tokens": "$.output.outputTokenCount",
    # The response body: an Anthropic Message (InvokeModel) or a Converse response.
    "b_id": _B + "id",
    "b_model": _B + "model",
    "b_stop_reason": _B + "stop_reason",
    "b_stop_reason_c": _B + "stopReason",
    "b_input": _B + "usage.input_tokens",
    "b_output": _B + "usage.output_tokens",
    "b_cache_read": _B + "usage.cache_read_input_tokens",
    "b_cache_write": _B + "usage.cache_creation_input_tokens",
    "b_cw_1h": _B + "usage.cache_creation.ephemeral_1h_input_tokens",
    "b_thinking": _B + "usage.output_tokens_details.thinking_tokens",
    "c_input": _B + "usage.inputTokens",
    "c_output": _B + "usage.outputTokens",
    "c_cache_read": _B + "usage.cacheReadInputTokens",
    "c_cache_write": _B + "usage.cacheWriteInputTokens",
    "c_latency": _B + "metrics.latencyMs",
    "guardrail_action": _B + '"amazon-bedrock-guardrailAction"',
    "guardrail_reason": _B + '"amazon-bedrock-trace".guardrail.actionReason',
    "rm_session": "$.requestMetadata.session_id",
    "rm_user": "$.requestMetadata.user_id",
    "rm_feature": "$.requestMetadata.feature",
}


def _sniff(s: dict) -> bool:
    if s.get("schemaType") == "ModelInvocationLog":
        return True
    return (
        isinstance(s.get("requestId"), str)
        and isinstance(s.get("modelId"), str)
        and isinstance(s.get("input"), dict)
        and isinstance(s.get("output"), dict)
        and "operation" in s
        and ("inputTokenCount" in s["input"] or "outputBodyJson" in s["output"])
    )


INVOCATION = Adapter(
    name="bedrock_invocation",
    source_format="bedrock",
    description="AWS Bedrock model invocation logs (CloudWatch Logs / S3 JSON, schemaType ModelInvocationLog): "
    "InvokeModel and Converse, guardrail interventions kept as content_filter errors",
    sniff=_sniff,
    input_includes_cache=False,
    select=f"""
WITH f AS ({extract(_FIELDS)}),
g AS (
    SELECT *,
        upper(coalesce(guardrail_action, '')) = 'INTERVENED'
            OR lower(coalesce(b_stop_reason_c, '')) = 'guardrail_intervened' AS blocked,
        wb_nonempty(error_code) IS NOT NULL AS failed,
        regexp_extract(model_id, '^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:([a-z-]+)/', 1) AS arn_kind
    FROM f
)
SELECT line, raw,
    request_id AS call_id,
    wb_nonempty(b_id) AS response_id,
    wb_ts_iso(timestamp) AS ts, timestamp AS ts_raw,
    'bedrock' AS provider,
    CASE WHEN arn_kind IN ('inference-profile', 'foundation-model') THEN regexp_extract(model_id, '[^/]+$')
         WHEN arn_kind <> '' THEN coalesce(b_model, model_id)
         ELSE coalesce(model_id, b_model) END AS model,
    coalesce(in_tokens, b_input, c_input) AS input_raw,
    coalesce(in_cache_read, b_cache_read, c_cache_read) AS cache_read_raw,
    coalesce(in_cache_write, b_cache_write, c_cache_write) AS cache_write_raw,
    b_cw_1h AS cache_write_1h_raw,
    coalesce(out_tokens, b_output, c_output) AS output_raw,
    b_thinking AS reasoning_raw,
    TRY_CAST(c_latency AS DOUBLE) AS latency_ms,
    CASE WHEN failed OR blocked THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN coalesce(wb_error_class(error_code, error_message), 'other')
         WHEN blocked THEN wb_error_class('guardrail_intervened', guardrail_reason) END AS error_type,
    coalesce(b_stop_reason, b_stop_reason_c, CASE WHEN blocked THEN 'guardrail_intervened' END) AS finish_reason,
    wb_nonempty(coalesce(rm_user, arn)) AS user_id,
    wb_nonempty(rm_session) AS session_id,
    wb_nonempty(rm_feature) AS feature,
    json_object(
        'operation', operation, 'region', region, 'inference_region', inference_region, 'account_id', account,
        'model_id', CASE WHEN arn_kind <> '' THEN model_id END, 'response_model', b_model,
        'guardrail_action', guardrail_action, 'guardrail_reason', guardrail_reason,
        'error_code', error_code, 'error_message', error_message,
        'request_metadata', TRY_CAST(request_metadata AS JSON), 'request_user', rm_user
    ) AS attributes
FROM g
""",
)

ADAPTERS = [INVOCATION]
