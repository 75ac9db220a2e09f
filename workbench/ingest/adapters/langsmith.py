"""LangSmith runs (the Run schema of the API / SDK), as JSONL, a JSON array or `{"runs": [...]}`.

Only `run_type = 'llm'` runs are LLM calls; chain / tool / retriever / ... runs are output with a
`skip_reason`, so they land in quarantine and the counts reconcile.

`prompt_tokens` is all input (cache reads and writes included) and `completion_tokens` all
output (reasoning included): the canonical convention. `prompt_token_details.cache_creation`
is the cache-write total; LangChain's Anthropic integration adds the TTL split
(`ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`) and, in newer versions, zeroes the
total beside it: the larger of the total and the split's sum is taken, never both.
The run's `session_id` is the PROJECT; the conversation is `extra.metadata.thread_id`
(or `session_id` / `conversation_id` inside the metadata).
"""

from __future__ import annotations

from .base import Adapter, extract
from .langfuse import cache_write_sql, tokens_text

_CW_PARTS, _CW_VALUE = cache_write_sql("cw_total", "cw_5m", "cw_1h")

RUNS = Adapter(
    name="langsmith",
    source_format="langsmith",
    description="LangSmith runs (run_type, extra.metadata ls_provider / ls_model_name / thread_id); "
    "JSONL, JSON array or {runs: [...]}. Non-llm runs are quarantined",
    sniff=lambda s: isinstance(s.get("run_type"), str) and "start_time" in s and "id" in s,
    select=f"""
WITH f AS ({extract({
    "id": "$.id", "name": "$.name", "run_type": "$.run_type",
    "t_start": "$.start_time", "t_end": "$.end_time", "t_first": "$.first_token_time",
    "rstatus": "$.status", "err": "$.error",
    "provider": "$.extra.metadata.ls_provider", "model_ls": "$.extra.metadata.ls_model_name",
    "model_type": "$.extra.metadata.ls_model_type",
    "model_served": "$.outputs.llm_output.model_name",
    "model_inv": "$.extra.invocation_params.model", "model_inv2": "$.extra.invocation_params.model_name",
    "tier": "$.extra.invocation_params.service_tier",
    "thread": "$.extra.metadata.thread_id", "m_session": "$.extra.metadata.session_id",
    "m_conversation": "$.extra.metadata.conversation_id", "user": "$.extra.metadata.user_id",
    "feature": "$.extra.metadata.feature", "prompt_version": "$.extra.metadata.prompt_version",
    "hub_repo": "$.extra.metadata.lc_hub_repo", "hub_commit": "$.extra.metadata.lc_hub_commit_hash",
    "environment": "$.extra.metadata.environment", "revision": "$.extra.metadata.revision_id",
    "prompt": "$.prompt_tokens", "completion": "$.completion_tokens", "total": "$.total_tokens",
    "cache_read": "$.prompt_token_details.cache_read", "cw_flat": "$.prompt_token_details.cache_creation",
    "cw5": "$.prompt_token_details.ephemeral_5m_input_tokens",
    "cw1h": "$.prompt_token_details.ephemeral_1h_input_tokens",
    "reasoning": "$.completion_token_details.reasoning",
    "total_cost": "$.total_cost", "prompt_cost": "$.prompt_cost", "completion_cost": "$.completion_cost",
    "trace": "$.trace_id", "parent": "$.parent_run_id", "project": "$.session_id", "tags": "$.tags",
    "metadata": "$.extra.metadata",
    "finish": "$.outputs.generations[0][0].generation_info.finish_reason",
    "stop": "$.outputs.generations[0][0].message.kwargs.response_metadata.stop_reason",
})}),
k AS (
    SELECT *,
        wb_ts_iso(wb_nonempty(t_start)) AS t_start_ts, wb_ts_iso(wb_nonempty(t_end)) AS t_end_ts,
        wb_ts_iso(wb_nonempty(t_first)) AS t_first_ts,
        lower(coalesce(wb_nonempty(run_type), 'unknown')) AS kind,
        lower(rstatus) = 'error' OR wb_nonempty(err) IS NOT NULL AS failed,
        wb_nonempty(cw_flat) AS cw_total, wb_nonempty(cw5) AS cw_5m, wb_nonempty(cw1h) AS cw_1h
    FROM f
),
n AS (SELECT *, {_CW_PARTS} AS cw_parts, {_CW_VALUE} AS cw_value FROM k)
SELECT line, raw,
    wb_nonempty(id) AS call_id, t_start_ts AS ts, wb_nonempty(t_start) AS ts_raw,
    wb_nonempty(provider) AS provider,
    coalesce(wb_nonempty(model_served), wb_nonempty(model_ls), wb_nonempty(model_inv), wb_nonempty(model_inv2))
        AS model,
    wb_nonempty(tier) AS service_tier,
    wb_nonempty(prompt) AS input_raw, wb_nonempty(cache_read) AS cache_read_raw,
    CASE WHEN cw_5m IS NULL AND cw_1h IS NULL THEN cw_total ELSE {tokens_text('cw_value', 'cw_parts')} END
        AS cache_write_raw,
    cw_1h AS cache_write_1h_raw,
    wb_nonempty(completion) AS output_raw, wb_nonempty(reasoning) AS reasoning_raw,
    (epoch_us(t_end_ts) - epoch_us(t_start_ts)) / 1000.0 AS latency_ms,
    (epoch_us(t_first_ts) - epoch_us(t_start_ts)) / 1000.0 AS ttft_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN failed THEN wb_error_class(NULL, err) END AS error_type,
    coalesce(wb_nonempty(finish), wb_nonempty(stop)) AS finish_reason,
    coalesce(wb_nonempty(thread), wb_nonempty(m_session), wb_nonempty(m_conversation)) AS session_id,
    wb_nonempty(trace) AS trace_id,
    wb_nonempty(user) AS user_id,
    wb_nonempty(feature) AS feature,
    coalesce(wb_nonempty(prompt_version), wb_nonempty(hub_repo) || coalesce('@' || wb_nonempty(hub_commit), ''))
        AS prompt_version,
    wb_nonempty(environment) AS environment,
    TRY_CAST(total_cost AS DOUBLE) AS logged_cost_usd,
    json_object(
        'run_name', wb_nonempty(name), 'run_type', kind, 'status', wb_nonempty(rstatus),
        'error', wb_nonempty(err), 'project_id', wb_nonempty(project), 'parent_run_id', wb_nonempty(parent),
        'tags', TRY_CAST(tags AS JSON), 'ls_model_name', wb_nonempty(model_ls),
        'ls_model_type', wb_nonempty(model_type), 'revision_id', wb_nonempty(revision),
        'total_tokens', TRY_CAST(total AS BIGINT), 'prompt_cost', TRY_CAST(prompt_cost AS DOUBLE),
        'completion_cost', TRY_CAST(completion_cost AS DOUBLE), 'metadata', TRY_CAST(metadata AS JSON)
    ) AS attributes,
    CASE WHEN kind <> 'llm' THEN 'not an LLM call: LangSmith run type ' || kind END AS skip_reason
FROM n
""",
)

ADAPTERS = [RUNS]
