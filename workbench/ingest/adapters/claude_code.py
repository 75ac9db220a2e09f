"""Claude Code session transcripts (`claude_code`): the JSONL files under `~/.claude/projects/<project>/`
(`<sessionId>.jsonl`, and subagents' `<sessionId>/subagents/agent-<id>.jsonl`).

Every line has a `type`: `user`, `assistant`, `system`, `progress`, `summary`,
`file-history-snapshot`, `queue-operation`, ...; conversation lines carry `sessionId`, `uuid`,
`parentUuid`, `timestamp` (ISO, UTC), `cwd`, `version`, `gitBranch`, `isSidechain` (subagents:
true, with `agentId`; their `sessionId` is the parent session's). An `assistant` line has
`requestId` (`req_…`) and `message`, an Anthropic Message with `usage` (`input_tokens`,
`cache_read_input_tokens`, `cache_creation_input_tokens`, `cache_creation.ephemeral_5m/1h_input_tokens`,
`output_tokens`, `service_tier`).

One LLM call = one `message.id`. Claude Code writes one `assistant` line per content block (text,
thinking, tool_use), each repeating the message's usage (the last line may carry a later, larger
`output_tokens`), so summing lines over-counts. Every line of a message gets the same values:
usage (tokens, stop reason, service tier, cost) from the message's LAST line, `ts` from its FIRST
line. The pipeline keeps the first of them and counts the others as duplicates (read = accepted +
duplicates + quarantined still holds line by line). call_id = response_id = `message.id` (so a
message copied into another transcript, e.g. by a resumed session, or logged by a gateway, is one
call); session_id = `sessionId`; `requestId`, `agentId`, `isSidechain`, `version`, `gitBranch`,
`cwd` and the number of lines of the message go to attributes. Token convention: Anthropic's
(`input_tokens` excludes cache reads and writes; `input_includes_cache=False`). No latency, TTFT,
user or cost in current transcripts; older versions' `costUSD` / `durationMs` on assistant lines
are read when present. Note: transcripts often record the usage as streamed so far
(`stop_reason` null): the counts are what the file says.

Not LLM calls, quarantined with a reason "not an LLM call: Claude Code <type> line": user lines
(prompts and tool results), system, progress, summary, file-history-snapshot, queue-operation
lines, and `<synthetic>` assistant messages that Claude Code writes itself (no API request).
An API error Claude Code logged (`isApiErrorMessage`: an assistant line with model `<synthetic>`
whose text is "API Error: …") is a call with status `error`, 0 tokens, class from
`wb_error_class(error, text)`.
"""

from __future__ import annotations

from .base import Adapter, extract

_FIELDS = {
    "type": "$.type",
    "session_id": "$.sessionId",
    "uuid": "$.uuid",
    "timestamp": "$.timestamp",
    "request_id": "$.requestId",
    "agent_id": "$.agentId",
    "is_sidechain": "$.isSidechain",
    "version": "$.version",
    "git_branch": "$.gitBranch",
    "cwd": "$.cwd",
    "api_error": "$.isApiErrorMessage",
    "error": "$.error",
    "cost_usd": "$.costUSD",
    "duration_ms": "$.durationMs",
    "msg_id": "$.message.id",
    "model": "$.message.model",
    "stop_reason": "$.message.stop_reason",
    "text": "$.message.content[0].text",
    "input": "$.message.usage.input_tokens",
    "output": "$.message.usage.output_tokens",
    "cache_read": "$.message.usage.cache_read_input_tokens",
    "cache_write": "$.message.usage.cache_creation_input_tokens",
    "cw_5m": "$.message.usage.cache_creation.ephemeral_5m_input_tokens",
    "cw_1h": "$.message.usage.cache_creation.ephemeral_1h_input_tokens",
    "tier": "$.message.usage.service_tier",
    "geo": "$.message.usage.inference_geo",
}

_TYPES = {"user", "assistant", "system", "progress", "summary", "file-history-snapshot", "queue-operation",
          "attachment"}


def _sniff(s: dict) -> bool:
    kind = s.get("type")
    if kind not in _TYPES:
        return False
    if kind == "summary":
        return "leafUuid" in s
    if kind == "file-history-snapshot":
        return "snapshot" in s and "messageId" in s
    return "sessionId" in s and "uuid" in s and "parentUuid" in s


# Per message (all its lines): the last line's value of x.
def _last(x: str) -> str:
    return f"last_value({x}) OVER m"


TRANSCRIPT = Adapter(
    name="claude_code",
    source_format="claude_code",
    description="Claude Code session transcripts (~/.claude/projects/*/*.jsonl): one call per assistant "
    "message.id (usage from its last line), session kept; user and other lines quarantined",
    sniff=_sniff,
    input_includes_cache=False,
    tolerates_malformed=False,  # window functions over the lines of a message
    select=f"""
WITH f AS ({extract(_FIELDS)}),
k AS (
    SELECT *,
        type = 'assistant' AND msg_id IS NOT NULL AS is_msg,
        coalesce(TRY_CAST(api_error AS BOOLEAN), false) AS is_api_error
    FROM f
),
w AS (
    SELECT line, raw, type, is_msg, is_api_error, msg_id, session_id,
        first_value(timestamp) OVER m AS first_ts,
        {_last("model")} AS model, {_last("stop_reason")} AS stop_reason, {_last("text")} AS text,
        {_last("error")} AS error,
        {_last("input")} AS input, {_last("output")} AS output, {_last("cache_read")} AS cache_read,
        {_last("cache_write")} AS cache_write, {_last("cw_5m")} AS cw_5m, {_last("cw_1h")} AS cw_1h,
        {_last("tier")} AS tier, {_last("geo")} AS geo, {_last("cost_usd")} AS cost_usd,
        {_last("duration_ms")} AS duration_ms, {_last("request_id")} AS request_id,
        agent_id, is_sidechain, version, git_branch, cwd,
        count(*) OVER m AS n_lines
    FROM k
    WINDOW m AS (PARTITION BY CASE WHEN is_msg THEN msg_id ELSE 'line ' || line END ORDER BY line
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT line, raw,
    CASE WHEN is_msg THEN msg_id END AS call_id,
    CASE WHEN is_msg AND model IS DISTINCT FROM '<synthetic>' THEN msg_id END AS response_id,
    CASE WHEN is_msg THEN wb_ts_iso(first_ts) END AS ts, CASE WHEN is_msg THEN first_ts END AS ts_raw,
    'anthropic' AS provider, nullif(model, '<synthetic>') AS model, tier AS service_tier,
    CASE WHEN NOT is_api_error THEN input END AS input_raw,
    CASE WHEN NOT is_api_error THEN cache_read END AS cache_read_raw,
    CASE WHEN is_api_error THEN NULL
         WHEN cache_write IS NOT NULL THEN cache_write
         WHEN cw_5m IS NOT NULL OR cw_1h IS NOT NULL
             THEN CAST(coalesce(TRY_CAST(cw_5m AS BIGINT), 0) + coalesce(TRY_CAST(cw_1h AS BIGINT), 0) AS VARCHAR)
    END AS cache_write_raw,
    CASE WHEN NOT is_api_error THEN cw_1h END AS cache_write_1h_raw,
    CASE WHEN NOT is_api_error THEN output END AS output_raw,
    TRY_CAST(duration_ms AS DOUBLE) AS latency_ms,
    CASE WHEN is_api_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_api_error THEN coalesce(wb_error_class(error, text), 'other') END AS error_type,
    stop_reason AS finish_reason,
    wb_nonempty(session_id) AS session_id,
    TRY_CAST(cost_usd AS DOUBLE) AS logged_cost_usd,
    CASE WHEN is_msg THEN json_object(
        'request_id', request_id, 'agent_id', agent_id, 'is_sidechain', TRY_CAST(is_sidechain AS BOOLEAN),
        'claude_code_version', version, 'git_branch', git_branch, 'cwd', cwd, 'inference_geo', geo,
        'message_lines', n_lines, 'error', error,
        'error_text', CASE WHEN is_api_error THEN left(text, 500) END) END AS attributes,
    CASE WHEN type = 'assistant' AND model = '<synthetic>' AND NOT is_api_error
             THEN 'not an LLM call: Claude Code synthetic assistant message (written by Claude Code, no API request)'
         WHEN type = 'user' THEN 'not an LLM call: Claude Code user line (prompt or tool result)'
         WHEN type IS DISTINCT FROM 'assistant' THEN 'not an LLM call: Claude Code ' || coalesce(type, 'untyped') || ' line'
    END AS skip_reason
FROM w
""",
)

ADAPTERS = [TRANSCRIPT]
