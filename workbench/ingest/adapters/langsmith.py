"""LangSmith runs: the Run schema of the API, and runs as the Python / JS SDKs record them.

Shapes read:
- runs one per line (JSONL), a JSON array or `{"runs": [...]}` (the API's Run: `prompt_tokens`, ...);
- runs as the SDKs send them (`POST /runs/multipart` parts merged per run, or the older JSON ingest):
  the usage is in `outputs.usage_metadata` (LangChain's UsageMetadata: `input_tokens`, `output_tokens`,
  `input_token_details.cache_read` / `cache_creation` / `ephemeral_5m_input_tokens` /
  `ephemeral_1h_input_tokens`, `output_token_details.reasoning`), also copied into
  `extra.metadata.usage_metadata`; LangChain chat-model runs keep it on the AIMessage
  (`outputs.generations[0][0].message.kwargs.usage_metadata`);
- `{"post": [RunCreate...], "patch": [RunUpdate...]}` documents (the JS SDK's batch bodies; its test
  fixtures): each POST is merged with its PATCH (the PATCH wins). The PATCH may have no `id` (it was in
  the URL): it is then joined on `trace_id` + `dotted_order`. A PATCH that matches no POST is
  quarantined as such.

Only `run_type = 'llm'` runs are LLM calls; chain / tool / retriever / ... runs are output with a
`skip_reason`, so they land in quarantine and the counts reconcile.

Tokens: `prompt_tokens` / `usage_metadata.input_tokens` is all input (cache reads and writes included:
OpenAI's prompt_tokens passed through; `wrap_anthropic` and langchain-anthropic sum Anthropic's
buckets) and `completion_tokens` / `output_tokens` all output (reasoning included): the canonical
convention. On flex / priority runs the SDK prefixes the detail keys with the tier
(`flex_cache_read`, `flex_reasoning`, `priority_cache_read`, ...): they are read as cache reads and
reasoning, and name the tier when the response does not. `cache_creation` is the cache-write total;
the TTL split (`ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`) may come beside it (newer
versions zero the total): the larger of the total and the split's sum is taken, never both.

Time: `start_time` / `end_time` are ISO text (Python SDK, API) or epoch numbers (the JS SDK writes
epoch MILLISECONDS: 0.1.x both, 0.12 the end time); numbers are read as s / ms / µs / ns by their
magnitude. TTFT is `first_token_time` (API) or the first `new_token` event (`events[]`, streaming).

Model: the response's own `outputs.model` (the dated snapshot served) before `ls_model_name` (the
requested name). `response_id` = the provider response id (`outputs.id`: `chatcmpl-…`, `msg_…`, ...).
The run's `session_id` is the PROJECT; the conversation is `extra.metadata.thread_id`
(or `session_id` / `conversation_id` inside the metadata).
"""

from __future__ import annotations

from .base import Adapter, extract
from .langfuse import cache_write_sql, tokens_text

_CW_PARTS, _CW_VALUE = cache_write_sql("cw_total", "cw_5m", "cw_1h")

# Provider response ids.
_RESPONSE_ID = "^(chatcmpl-|resp_|msg_|gen-|cmpl-)"

# Logical field -> JSON path in a run.
_FIELDS = {
    "id": "$.id", "name": "$.name", "run_type": "$.run_type",
    "t_start": "$.start_time", "t_end": "$.end_time", "t_first": "$.first_token_time", "events": "$.events",
    "rstatus": "$.status", "err": "$.error",
    "provider": "$.extra.metadata.ls_provider", "model_ls": "$.extra.metadata.ls_model_name",
    "model_type": "$.extra.metadata.ls_model_type",
    "model_served": "$.outputs.llm_output.model_name",
    "model_out": "$.outputs.model",
    "model_rm": "$.outputs.generations[0][0].message.kwargs.response_metadata.model_name",
    "model_inv": "$.extra.invocation_params.model", "model_inv2": "$.extra.invocation_params.model_name",
    "tier": "$.extra.invocation_params.service_tier", "tier_out": "$.outputs.service_tier",
    "tier_ls": "$.extra.metadata.ls_invocation_params.service_tier",
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
    "um_out": "$.outputs.usage_metadata", "um_msg": "$.outputs.generations[0][0].message.kwargs.usage_metadata",
    "um_extra": "$.extra.metadata.usage_metadata",
    "total_cost": "$.total_cost", "prompt_cost": "$.prompt_cost", "completion_cost": "$.completion_cost",
    "trace": "$.trace_id", "parent": "$.parent_run_id", "project": "$.session_id", "project_name": "$.session_name",
    "dotted_order": "$.dotted_order", "tags": "$.tags",
    "metadata": "$.extra.metadata",
    "out_id": "$.outputs.id", "out_id_rm": "$.outputs.generations[0][0].message.kwargs.response_metadata.id",
    "finish": "$.outputs.generations[0][0].generation_info.finish_reason",
    "stop": "$.outputs.generations[0][0].message.kwargs.response_metadata.stop_reason",
    "finish_out": "$.outputs.choices[0].finish_reason",
    "stop_out": "$.outputs.stop_reason",
}
_NAMES = list(_FIELDS)

# Paths read from the usage_metadata object (one parse).
_UM_PATHS = ["$.input_tokens", "$.output_tokens", "$.total_tokens",
             "$.input_token_details.cache_read", "$.input_token_details.flex_cache_read",
             "$.input_token_details.priority_cache_read",
             "$.input_token_details.cache_creation", "$.input_token_details.ephemeral_5m_input_tokens",
             "$.input_token_details.ephemeral_1h_input_tokens",
             "$.output_token_details.reasoning", "$.output_token_details.flex_reasoning",
             "$.output_token_details.priority_reasoning",
             "$.input_token_details.flex", "$.input_token_details.priority"]
_U = {p: i for i, p in enumerate(_UM_PATHS, 1)}


def _um(path: str) -> str:
    return f"wb_nonempty(ux[{_U[path]}])"


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def _ts(x: str) -> str:
    """ISO text, or an epoch number in s / ms / µs / ns (told by its magnitude) -> TIMESTAMPTZ."""
    d = f"TRY_CAST({x} AS DOUBLE)"
    us_per = (f"CASE WHEN abs({d}) >= 1e17 THEN 1e-3 WHEN abs({d}) >= 1e14 THEN 1 "
              f"WHEN abs({d}) >= 1e11 THEN 1e3 ELSE 1e6 END")
    return (f"CASE WHEN {d} IS NOT NULL THEN to_timestamp(0) + to_microseconds(CAST(round({d} * {us_per}) AS BIGINT)) "
            f"ELSE wb_ts_iso({x}) END")


def _json_list(x: str) -> str:
    """A JSON array text as LIST(JSON); a JSON object as a one-element list; else an empty list."""
    kind = f"CASE WHEN json_valid({x}) THEN json_type(CAST({x} AS JSON)) END"
    return (f"CASE {kind} WHEN 'ARRAY' THEN from_json({x}, '[\"JSON\"]') WHEN 'OBJECT' THEN [CAST({x} AS JSON)] "
            "ELSE CAST([] AS JSON[]) END")


# PATCH q belongs to POST p: same id, or (the PATCH has none) same trace_id and dotted_order.
_MATCH = ("coalesce(q->>'id' = p->>'id', "
          "(q->>'trace_id' = p->>'trace_id' AND q->>'dotted_order' = p->>'dotted_order'), false)")

# {post, patch} documents: one run per POST, merged with its (last) PATCH; PATCHes of no POST, and
# documents without runs, come out with a skip reason.
_BATCH_RUNS = f"""
WITH d AS (SELECT line, raw, {_json_list("j ->> '$.post'")} AS pl, {_json_list("j ->> '$.patch'")} AS ql FROM records),
posts AS (
    SELECT line, pj, list_filter(ql, lambda q: coalesce(q->>'id' = pj->>'id',
        (q->>'trace_id' = pj->>'trace_id' AND q->>'dotted_order' = pj->>'dotted_order'), false)) AS qs
    FROM (SELECT line, ql, unnest(pl) AS pj FROM d)
),
merged AS (
    SELECT line, CAST(json_object('post', pj, 'patch', qs[-1]) AS VARCHAR) AS raw,
        CASE WHEN len(qs) = 0 THEN pj ELSE json_merge_patch(pj, qs[-1]) END AS run, NULL::VARCHAR AS doc_skip
    FROM posts
    UNION ALL
    SELECT line, CAST(json_object('patch', qj) AS VARCHAR) AS raw, qj AS run,
        'not a whole run: LangSmith run update (PATCH) whose run create (POST) is not in the file' AS doc_skip
    FROM (SELECT line, unnest(list_filter(ql, lambda q: len(list_filter(pl, lambda p: {_MATCH})) = 0)) AS qj
          FROM d)
    UNION ALL
    SELECT line, raw, NULL::JSON AS run, 'not a run: {{post, patch}} document without runs' AS doc_skip
    FROM d WHERE len(pl) = 0 AND len(ql) = 0
)
SELECT line, raw, {", ".join(f"x[{i}] AS {n}" for i, n in enumerate(_NAMES, 1))}, doc_skip
FROM (SELECT line, raw, doc_skip, json_extract_string(run, {_sql_list(list(_FIELDS.values()))}) AS x FROM merged)
"""


def _select(runs: str) -> str:
    """The canonical SELECT over `runs`: one row per run, with the _FIELDS columns and `doc_skip`."""
    return f"""
WITH runs AS ({runs}),
k AS (
    SELECT *,
        {_ts('wb_nonempty(t_start)')} AS t_start_ts, {_ts('wb_nonempty(t_end)')} AS t_end_ts,
        coalesce({_ts('wb_nonempty(t_first)')},
                 list_min(list_transform(
                     list_filter({_json_list('events')}, lambda e: e->>'name' = 'new_token'),
                     lambda e: {_ts("wb_nonempty(e->>'time')")}))) AS t_first_ts,
        lower(coalesce(wb_nonempty(run_type), 'unknown')) AS kind,
        lower(rstatus) = 'error' OR wb_nonempty(err) IS NOT NULL AS failed,
        json_extract_string(TRY_CAST(coalesce(um_out, um_msg, um_extra) AS JSON), {_sql_list(_UM_PATHS)}) AS ux,
        CASE WHEN json_valid(finish_out) AND json_type(CAST(finish_out AS JSON)) = 'OBJECT'
             THEN CAST(finish_out AS JSON)->>'finish_reason' ELSE finish_out END AS finish_choice
    FROM runs
),
u AS (
    SELECT *,
        coalesce(wb_nonempty(cw_flat), {_um('$.input_token_details.cache_creation')}) AS cw_total,
        coalesce(wb_nonempty(cw5), {_um('$.input_token_details.ephemeral_5m_input_tokens')}) AS cw_5m,
        coalesce(wb_nonempty(cw1h), {_um('$.input_token_details.ephemeral_1h_input_tokens')}) AS cw_1h,
        CASE WHEN {_um('$.input_token_details.flex_cache_read')} IS NOT NULL
                  OR {_um('$.output_token_details.flex_reasoning')} IS NOT NULL
                  OR {_um('$.input_token_details.flex')} IS NOT NULL THEN 'flex'
             WHEN {_um('$.input_token_details.priority_cache_read')} IS NOT NULL
                  OR {_um('$.output_token_details.priority_reasoning')} IS NOT NULL
                  OR {_um('$.input_token_details.priority')} IS NOT NULL THEN 'priority' END AS tier_keys
    FROM k
),
n AS (SELECT *, {_CW_PARTS} AS cw_parts, {_CW_VALUE} AS cw_value FROM u)
SELECT line, raw,
    wb_nonempty(id) AS call_id,
    coalesce(CASE WHEN regexp_matches(out_id, '{_RESPONSE_ID}') THEN out_id END,
             CASE WHEN regexp_matches(out_id_rm, '{_RESPONSE_ID}') THEN out_id_rm END) AS response_id,
    t_start_ts AS ts, wb_nonempty(t_start) AS ts_raw,
    wb_nonempty(provider) AS provider,
    coalesce(CASE WHEN json_valid(model_out) THEN NULL ELSE wb_nonempty(model_out) END, wb_nonempty(model_served),
             wb_nonempty(model_rm), wb_nonempty(model_ls), wb_nonempty(model_inv), wb_nonempty(model_inv2))
        AS model,
    coalesce(wb_nonempty(tier_out), wb_nonempty(tier), wb_nonempty(tier_ls), tier_keys) AS service_tier,
    coalesce(wb_nonempty(prompt), {_um('$.input_tokens')}) AS input_raw,
    coalesce(wb_nonempty(cache_read), {_um('$.input_token_details.cache_read')},
             {_um('$.input_token_details.flex_cache_read')}, {_um('$.input_token_details.priority_cache_read')})
        AS cache_read_raw,
    CASE WHEN cw_5m IS NULL AND cw_1h IS NULL THEN cw_total ELSE {tokens_text('cw_value', 'cw_parts')} END
        AS cache_write_raw,
    cw_1h AS cache_write_1h_raw,
    coalesce(wb_nonempty(completion), {_um('$.output_tokens')}) AS output_raw,
    coalesce(wb_nonempty(reasoning), {_um('$.output_token_details.reasoning')},
             {_um('$.output_token_details.flex_reasoning')}, {_um('$.output_token_details.priority_reasoning')})
        AS reasoning_raw,
    (epoch_us(t_end_ts) - epoch_us(t_start_ts)) / 1000.0 AS latency_ms,
    (epoch_us(t_first_ts) - epoch_us(t_start_ts)) / 1000.0 AS ttft_ms,
    CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
    -- the exception's first line (its repr), not the traceback's file names
    CASE WHEN failed THEN wb_error_class(NULL, coalesce(nullif(trim(split_part(err, chr(10), 1)), ''), err))
    END AS error_type,
    coalesce(wb_nonempty(finish), wb_nonempty(stop), wb_nonempty(finish_choice), wb_nonempty(stop_out))
        AS finish_reason,
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
        'error', wb_nonempty(err), 'project_id', wb_nonempty(project), 'project_name', wb_nonempty(project_name),
        'parent_run_id', wb_nonempty(parent), 'dotted_order', wb_nonempty(dotted_order),
        'tags', TRY_CAST(tags AS JSON), 'ls_model_name', wb_nonempty(model_ls),
        'ls_model_type', wb_nonempty(model_type), 'revision_id', wb_nonempty(revision),
        'total_tokens', TRY_CAST(coalesce(wb_nonempty(total), {_um('$.total_tokens')}) AS BIGINT),
        'prompt_cost', TRY_CAST(prompt_cost AS DOUBLE),
        'completion_cost', TRY_CAST(completion_cost AS DOUBLE), 'metadata', TRY_CAST(metadata AS JSON)
    ) AS attributes,
    coalesce(doc_skip, CASE WHEN kind <> 'llm' THEN 'not an LLM call: LangSmith run type ' || kind END) AS skip_reason
FROM n
"""


def _is_run(s: object) -> bool:
    return isinstance(s, dict) and isinstance(s.get("run_type"), str) and "start_time" in s and "id" in s


def _is_batch(s: dict) -> bool:
    """A {post, patch} ingest body whose first POST is a run."""
    post = s.get("post")
    if isinstance(post, dict):
        post = [post]
    return isinstance(post, list) and bool(post) and _is_run(post[0]) and set(s) <= {"post", "patch"}


RUNS = Adapter(
    name="langsmith",
    source_format="langsmith",
    description="LangSmith runs (run_type, extra.metadata ls_provider / ls_model_name / thread_id; usage as the "
    "API's prompt_tokens or the SDKs' outputs.usage_metadata); JSONL, JSON array or {runs: [...]}. "
    "Non-llm runs are quarantined",
    sniff=_is_run,
    select=_select(f"SELECT *, NULL::VARCHAR AS doc_skip FROM ({extract(_FIELDS)})"),
)

BATCH = Adapter(
    name="langsmith_batch",
    source_format="langsmith",
    description="LangSmith SDK ingest bodies {post: [runs], patch: [run updates]}: each run create merged with "
    "its update (joined on id, else trace_id + dotted_order). Non-llm runs are quarantined",
    sniff=_is_batch,
    select=_select(_BATCH_RUNS),
    tolerates_malformed=False,  # expands each document into its runs
)

ADAPTERS = [RUNS, BATCH]
