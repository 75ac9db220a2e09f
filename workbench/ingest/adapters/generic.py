"""Generic tables of calls: CSV, JSONL (or a JSON array) and Parquet, one call per row.

Each canonical column is read from the column the user names with `--map canonical=source`,
else from a column with the canonical name, else from the first common alias present
(`prompt_tokens`, `completion_tokens`, `timestamp`, `created_at`, ...). The values follow the
canonical convention: input tokens include cache reads and writes, output includes reasoning.

- Timestamps: ISO strings (naive = UTC) or epoch numbers, unit told by magnitude
  (< 1e11 seconds, < 1e14 ms, < 1e17 us, else ns).
- Latency and TTFT in ms (`latency_ms`, `duration_ms`, bare `latency`, ...), or in seconds
  through the extra map targets `latency_s` / `ttft_s` (aliases `latency_s`, `response_time`, ...).
- status: ok/success/completed/true or an HTTP code < 400 is ok; anything else is an error,
  classified from the status and `error_type` (a class, code or message). No status but an
  error value: error.
- A column named in `--map` that no record has stops the ingest with an error listing the
  file's columns (checked in SQL, as the adapter SELECT sees no file, only `records`).
- `--map` sources may be nested paths into JSON records (`input.inputTokenCount`, `choices[0].x`);
  a key literally named so is tried first.
- Columns not read into a canonical one go to `attributes` (payload columns such as
  `messages`/`prompt`/`response` are dropped).
- Without a call id column, the id is the row's content hash, plus its occurrence number among
  identical rows from the second copy on: repeated identical calls are kept, a re-ingest dedupes.
"""

from __future__ import annotations

import json
import re

from ...errors import WorkbenchError
from .base import Adapter, Options, sql_str

# Canonical target -> aliases tried (after the canonical name itself) when the user maps nothing.
ALIASES: dict[str, tuple[str, ...]] = {
    "call_id": ("id", "request_id", "requestId", "call", "uuid"),
    "ts": ("timestamp", "created_at", "start_time", "startTime", "createdAt", "request_created_at",
           "time", "created", "datetime", "date"),
    "provider": ("custom_llm_provider", "vendor", "api_provider"),
    "model": ("model_name", "modelName", "model_id", "engine"),
    "service_tier": ("tier",),
    "input_tokens": ("prompt_tokens", "inputTokens", "promptTokens", "tokens_in", "prompt_token_count"),
    "cache_read_tokens": ("cached_tokens", "cache_read_input_tokens", "cached_input_tokens", "prompt_cache_read_tokens"),
    "cache_write_tokens": ("cache_creation_input_tokens", "cache_creation_tokens", "prompt_cache_write_tokens"),
    "output_tokens": ("completion_tokens", "outputTokens", "completionTokens", "tokens_out", "candidates_token_count"),
    "reasoning_tokens": ("thinking_tokens", "reasoning_output_tokens"),
    "latency_ms": ("duration_ms", "elapsed_ms", "response_time_ms", "request_duration_ms", "delay_ms", "latency"),
    "latency_s": ("latency_seconds", "duration_s", "response_time"),
    "ttft_ms": ("time_to_first_token_ms", "time_to_first_token"),
    "ttft_s": ("ttft_seconds", "time_to_first_token_s"),
    "status": ("status_code", "http_status", "response_status", "state"),
    "error_type": ("error", "error_code", "error_message", "error_class"),
    "finish_reason": ("stop_reason",),
    "session_id": ("conversation_id", "thread_id", "sessionId"),
    "trace_id": ("traceId",),
    "user_id": ("user", "userId", "end_user"),
    "feature": ("tag", "use_case", "app"),
    "prompt_version": ("promptVersion", "prompt_id"),
    "environment": ("env",),
    "logged_cost_usd": ("cost_usd", "total_cost", "cost", "spend", "costUSD"),
}
TARGETS = tuple(ALIASES)  # what `--map` accepts (the canonical columns plus latency_s / ttft_s)

# Payload columns not copied into attributes (prompt and response text would bloat the store).
_PAYLOAD = ("messages", "prompt", "response", "input", "output", "content", "completion", "choices",
            "request", "request_body", "response_body", "text",
            "file_row_number")  # the Parquet reader's row-number column

_INPUT = ("input_tokens",) + ALIASES["input_tokens"]
_OUTPUT = ("output_tokens",) + ALIASES["output_tokens"]
_MODEL = ("model",) + ALIASES["model"]


def _sniff(sample: dict) -> bool:
    keys = set(sample)
    return bool(keys & set(_INPUT)) and bool(keys & set(_OUTPUT)) and bool(keys & set(_MODEL))


def _path(column: str) -> str:
    return "$." + json.dumps(column)  # $."name with spaces"


_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")


def _paths_for(column: str) -> list[str]:
    """JSON paths a source column may name: the key itself and, for `a.b[0].c`, the nested path
    (so any JSON log maps without code: `--map input_tokens=input.inputTokenCount`)."""
    out = [_path(column)]
    if "." in column or "[" in column:
        segments = [_SEGMENT.match(s) for s in column.split(".")]
        if all(segments):
            out.append("$" + "".join("." + json.dumps(m.group(1)) + m.group(2) for m in segments))
    return out


def _select(options: Options) -> str:
    unknown = sorted(set(options.map) - set(TARGETS))
    if unknown:
        raise WorkbenchError(f"--map {unknown[0]}=... is not a canonical column; map one of: {', '.join(TARGETS)}")
    for target, source in options.map.items():
        if not source or not source.strip():
            raise WorkbenchError(f"--map {target}= needs a source column name")
    # One JSON path list, extracted once per record: the mapped column, or the name + aliases.
    paths: list[str] = []
    candidates: dict[str, list[int]] = {}
    for target in TARGETS:
        names = [options.map[target]] if target in options.map else [target, *ALIASES[target]]
        idx = []
        for name in names:
            for path in _paths_for(name) if target in options.map else [_path(name)]:
                if path not in paths:
                    paths.append(path)
                idx.append(paths.index(path) + 1)
        candidates[target] = idx

    def v(target: str) -> str:
        exprs = [f"wb_nonempty(x[{i}])" for i in candidates[target]]
        return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"

    path_list = ", ".join(sql_str(p) for p in paths)
    mapped = sorted(set(options.map.values()))
    # A mapped column that no record holds: stop with the file's columns (json_extract gives SQL
    # NULL only when the key is absent; a present null is JSON 'null').
    if mapped:
        m_paths = [p for m in mapped for p in _paths_for(m)]
        presence = f", json_extract(j, [{', '.join(sql_str(p) for p in m_paths)}]) AS y"
        counts = ", ".join(
            "count(coalesce(" + ", ".join(f"y[{m_paths.index(p) + 1}]" for p in _paths_for(m)) + f", NULL)) AS p{k}"
            for k, m in enumerate(mapped))
        missing = " || ".join(
            f"CASE WHEN p{k} = 0 THEN {sql_str(m + ', ')} ELSE '' END" for k, m in enumerate(mapped)
        )
        guard = f"""
chk AS (SELECT count(*) AS n, {counts} FROM f),
bad AS (SELECT n, rtrim({missing}, ', ') AS missing FROM chk),
ok AS (
    SELECT CASE WHEN n > 0 AND missing <> '' THEN error(
        '--map names column(s) not in the file: ' || missing || '; its columns are: '
        || coalesce((SELECT array_to_string(json_keys(j), ', ') FROM records ORDER BY line LIMIT 1), '(none)')
    ) ELSE true END AS ok FROM bad
),"""
        where = "WHERE (SELECT ok FROM ok)"
    else:
        presence, guard, where = "", "", ""
    # Keys read into canonical columns, and payload keys, are left out of attributes.
    names = [*(n for t in TARGETS for n in ([options.map[t]] if t in options.map else [t, *ALIASES[t]])), *_PAYLOAD]
    drop = "[" + ", ".join(sql_str(k) for k in dict.fromkeys(names)) + "]"
    raw_num = "TRY_CAST(ts_v AS DOUBLE)"
    return f"""
WITH f AS MATERIALIZED (SELECT line, raw, j, json_extract_string(j, [{path_list}]) AS x{presence} FROM records),
{guard}
-- The patch that removes those keys, from the keys the file has (a long constant patch is slow).
dropped AS (
    SELECT '{{' || coalesce(string_agg(DISTINCT to_json(k)::VARCHAR || ':null', ','), '') || '}}' AS patch
    FROM (SELECT unnest(json_keys(j)) AS k FROM f WHERE starts_with(CAST(j AS VARCHAR), '{{'))
    WHERE list_contains({drop}, k)
),
g AS (
    SELECT line, raw, j,
        {v("call_id")} AS id_v, {v("ts")} AS ts_v, {v("provider")} AS provider, {v("model")} AS model,
        {v("service_tier")} AS service_tier,
        {v("input_tokens")} AS input_raw, {v("cache_read_tokens")} AS cache_read_raw,
        {v("cache_write_tokens")} AS cache_write_raw, {v("output_tokens")} AS output_raw,
        {v("reasoning_tokens")} AS reasoning_raw,
        coalesce(TRY_CAST({v("latency_ms")} AS DOUBLE), TRY_CAST({v("latency_s")} AS DOUBLE) * 1000) AS latency_ms,
        coalesce(TRY_CAST({v("ttft_ms")} AS DOUBLE), TRY_CAST({v("ttft_s")} AS DOUBLE) * 1000) AS ttft_ms,
        {v("status")} AS status_v, {v("error_type")} AS error_v, {v("finish_reason")} AS finish_reason,
        {v("session_id")} AS session_id, {v("trace_id")} AS trace_id, {v("user_id")} AS user_id,
        {v("feature")} AS feature, {v("prompt_version")} AS prompt_version, {v("environment")} AS environment,
        TRY_CAST({v("logged_cost_usd")} AS DOUBLE) AS logged_cost_usd,
        row_number() OVER (PARTITION BY raw ORDER BY line) AS occ
    FROM f {where}
),
h AS (
    SELECT *, CASE
        WHEN status_v IS NULL THEN error_v IS NULL OR lower(error_v) IN ('false', '0', 'none', 'null')
        WHEN TRY_CAST(status_v AS DOUBLE) IS NOT NULL THEN TRY_CAST(status_v AS DOUBLE) BETWEEN 100 AND 399
        ELSE lower(status_v) IN ('ok', 'success', 'succeeded', 'successful', 'completed', 'complete', 'done',
                                 'finished', 'true', 'stop', 'end_turn')
    END AS ok_call
    FROM g
)
SELECT line, raw,
    coalesce(id_v, CASE WHEN occ = 1 THEN md5(raw) ELSE md5(raw || '#' || occ) END) AS call_id,
    CASE
        WHEN {raw_num} IS NULL THEN coalesce(wb_ts_iso(ts_v),
            wb_ts_iso(regexp_replace(ts_v, '(\\.\\d{{6}})\\d+', '\\1')))
        WHEN abs({raw_num}) < 1e11 THEN wb_ts_epoch(ts_v, 1)
        WHEN abs({raw_num}) < 1e14 THEN wb_ts_epoch(ts_v, 1e3)
        WHEN abs({raw_num}) < 1e17 THEN wb_ts_epoch(ts_v, 1e6)
        ELSE wb_ts_epoch(ts_v, 1e9)
    END AS ts,
    ts_v AS ts_raw,
    provider, model, service_tier, input_raw, cache_read_raw, cache_write_raw, output_raw, reasoning_raw,
    latency_ms, ttft_ms,
    CASE WHEN ok_call THEN 'ok' ELSE 'error' END AS status,
    CASE WHEN NOT ok_call THEN coalesce(wb_error_class(status_v, error_v), 'other') END AS error_type,
    finish_reason, session_id, trace_id, user_id, feature, prompt_version, environment, logged_cost_usd,
    CASE WHEN starts_with(CAST(j AS VARCHAR), '{{') THEN json_merge_patch(j, (SELECT patch FROM dropped)) END AS attributes
FROM h
"""


_DESC = ("one call per row; columns by canonical name, common alias or --map canonical=column "
         "(input incl. cache, output incl. reasoning)")

CSV = Adapter(name="csv", source_format="generic", description=f"Generic CSV table: {_DESC}",
              select=_select, sniff=_sniff, framing="csv", tolerates_malformed=False)
JSONL = Adapter(name="jsonl", source_format="generic", description=f"Generic JSON Lines / JSON array: {_DESC}",
                select=_select, sniff=_sniff, framing="json", tolerates_malformed=False)
PARQUET = Adapter(name="parquet", source_format="generic", description=f"Generic Parquet table: {_DESC}",
                  select=_select, sniff=_sniff, framing="parquet", tolerates_malformed=False)

ADAPTERS = [CSV, JSONL, PARQUET]
