"""Langfuse adapters: public API observations (camelCase) and the blob-storage export (snake_case).

usageDetails buckets are disjoint: input is net of cache reads/writes (and audio, ...), output is
net of reasoning; the canonical columns add them back.
"""

import csv
import json

import pytest

from conftest import only_call, rows

from workbench.ingest.adapters import langfuse


def obs(id="obs-1", usage=None, **extra):
    rec = {
        "id": id, "traceId": "trace-1", "type": "GENERATION", "name": "answer",
        "startTime": "2024-11-07T17:20:00.000Z", "endTime": "2024-11-07T17:20:02.500Z",
        "completionStartTime": "2024-11-07T17:20:00.400Z", "model": "claude-sonnet-4-5-20250929",
        "usageDetails": {"input": 200, "output": 80, "total": 280} if usage is None else usage,
        "costDetails": {"input": 0.0006, "output": 0.0012, "total": 0.0018},
        "level": "DEFAULT", "statusMessage": None, "parentObservationId": "span-0",
        "promptName": "support-answer", "promptVersion": 3, "environment": "production",
        "metadata": {"feature": "support"},
    }
    rec.update(extra)
    return rec


def test_api_page_cache_split_reasoning_and_a_span_in_quarantine(con, tmp_path, ingest):
    gen = obs(
        usage={"input": 200, "input_cached_tokens": 1000, "input_cache_creation": 500,
               "input_cache_creation_5m": 300, "input_cache_creation_1h": 200,
               "output": 80, "output_reasoning_tokens": 120, "total": 2400},
        latency=2.5, timeToFirstToken=0.4, sessionId="sess-9", userId="u-7", tags=["beta"],
        totalCost=0.0018,
    )
    span = {"id": "span-0", "traceId": "trace-1", "type": "SPAN", "name": "pipeline",
            "startTime": "2024-11-07T17:19:59Z", "endTime": "2024-11-07T17:20:03Z", "level": "DEFAULT"}
    path = tmp_path / "observations.json"
    path.write_text(json.dumps({"data": [span, gen], "meta": {"page": 1, "limit": 50, "totalItems": 2}}, indent=2))
    r = ingest(path)  # sniffed
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langfuse_api", 2, 1, 1)
    assert r.reasons == {"not an LLM call": 1}
    c = only_call(con)
    # input 200 + cache reads 1000 + cache writes 500 (the total, not total + its 5m/1h split)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        1700, 1000, 500, 200)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (200, 120)  # 80 net + 120 reasoning
    assert (c["latency_ms"], c["ttft_ms"]) == (2500.0, 400.0)
    assert (c["call_id"], c["trace_id"], c["session_id"], c["user_id"]) == ("obs-1", "trace-1", "sess-9", "u-7")
    assert (c["prompt_version"], c["feature"], c["environment"]) == ("support-answer@3", "support", "production")
    assert c["logged_cost_usd"] == 0.0018 and c["source_format"] == "langfuse"
    assert c["ts"].isoformat() == "2024-11-07T17:20:00+00:00"
    assert c["status"] == "ok" and c["model"] == "claude-sonnet-4-5-20250929"
    attrs = json.loads(c["attributes"])
    assert attrs["tags"] == ["beta"] and attrs["parent_observation_id"] == "span-0"
    (q,) = rows(con, "SELECT * FROM quarantine")
    assert q["reason"] == "not an LLM call: Langfuse observation type SPAN" and '"span-0"' in q["raw"]


def test_api_cache_keys_variants(con, write_jsonl, ingest):
    recs = [
        # Anthropic-style keys, split only (no total): writes = 40 + 60
        obs("a", {"input": 100, "cache_read_input_tokens": 10, "input_cache_creation_5m": 40,
                  "input_cache_creation_1h": 60, "output": 5}),
        # total zeroed beside the split (LangChain): writes = 50, all 1h
        obs("b", {"input": 100, "input_cache_creation": 0, "input_cache_creation_1h": 50, "output": 5}),
        # flat total only, other aliases
        obs("c", {"input": 100, "input_cache_read": 30, "cache_creation_input_tokens": 70, "output": 5,
                  "output_reasoning": 7}),
        # audio buckets are disjoint too: added back to input / output
        obs("d", {"input": 100, "input_audio_tokens": 20, "output": 10, "output_audio_tokens": 5,
                  "reasoning_tokens": 3}),
    ]
    r = ingest(write_jsonl(recs, "obs.jsonl"))
    assert (r.format, r.rows_accepted) == ("langfuse_api", 4)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    key = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
           "reasoning_tokens")
    assert tuple(got["a"][k] for k in key) == (210, 10, 100, 60, 5, 0)
    assert tuple(got["b"][k] for k in key) == (150, 0, 50, 50, 5, 0)
    assert tuple(got["c"][k] for k in key) == (200, 30, 70, 0, 12, 7)
    assert tuple(got["d"][k] for k in key) == (120, 0, 0, 0, 18, 3)


def test_api_latency_from_timestamps_error_and_missing_tokens(con, write_jsonl, ingest):
    err = obs("err", usage={}, level="ERROR", statusMessage="Error code: 429 - rate_limit_error",
              costDetails={})
    nousage = obs("nousage", usage={})
    ok = obs("ok", promptName=None, promptVersion=None, environment="default")
    r = ingest(write_jsonl([err, nousage, ok]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 2, 1)
    assert list(r.reasons) == ["missing token counts (a successful call needs input and output tokens)"]
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert (got["err"]["status"], got["err"]["error_type"], got["err"]["input_tokens"]) == ("error", "rate_limit", 0)
    assert got["err"]["logged_cost_usd"] is None
    o = got["ok"]
    assert (o["input_tokens"], o["output_tokens"], o["cache_read_tokens"]) == (200, 80, 0)
    assert (o["latency_ms"], o["ttft_ms"]) == (2500.0, 400.0)  # endTime/completionStartTime - startTime
    assert o["prompt_version"] is None and o["logged_cost_usd"] == 0.0018


def export_row(id="gen-1", type="GENERATION", **extra):
    rec = {
        "id": id, "trace_id": "trace-7", "project_id": "proj-1", "environment": "staging", "type": type,
        "parent_observation_id": None, "start_time": "2024-11-07 17:20:00.000", "end_time": "2024-11-07 17:20:01.250",
        "name": "ChatOpenAI", "metadata": {"user_id": "u-1", "session_id": "s-1"}, "level": "DEFAULT",
        "status_message": None, "version": None, "provided_model_name": "gpt-4o-2024-08-06",
        "internal_model_id": "m-4o", "model_parameters": {"temperature": 0},
        "usage_details": {"input": 176, "input_cached_tokens": 1024, "output": 60, "output_reasoning_tokens": 0,
                          "total": 1260},
        "cost_details": {"input": 0.00044, "input_cached_tokens": 0.00128, "output": 0.0006, "total": 0.00232},
        "total_cost": 0.00232, "completion_start_time": "2024-11-07 17:20:00.300",
        "prompt_id": "p-1", "prompt_name": "triage", "prompt_version": 12,
    }
    rec.update(extra)
    return rec


def test_export_jsonl(con, write_jsonl, ingest):
    r = ingest(write_jsonl([export_row(), export_row("ev-1", type="EVENT", usage_details={})], "export.jsonl"))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("langfuse_export", 1, 1)
    assert r.reasons == {"not an LLM call": 1}
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["output_tokens"], c["reasoning_tokens"]) == (1200, 1024, 60, 0)
    assert (c["latency_ms"], c["ttft_ms"]) == (1250.0, 300.0)
    assert (c["model"], c["prompt_version"], c["environment"]) == ("gpt-4o-2024-08-06", "triage@12", "staging")
    assert (c["user_id"], c["session_id"], c["trace_id"]) == ("u-1", "s-1", "trace-7")
    assert c["logged_cost_usd"] == 0.00232 and c["source_format"] == "langfuse"


def test_export_csv_with_json_encoded_maps(con, tmp_path, ingest):
    recs = [
        export_row(usage_details={"input": "50", "input_cache_read": "950", "input_cache_creation": "0",
                                  "output": "40", "output_reasoning_tokens": "200", "total": "1240"},
                   total_cost=None),
        export_row("err-1", level="ERROR", status_message="Request timed out.", usage_details={}, cost_details={},
                   total_cost=None, prompt_name=None, prompt_version=None),
        export_row("span-1", type="SPAN", usage_details={}, provided_model_name=None),
    ]
    path = tmp_path / "observations.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(recs[0]))
        w.writeheader()
        for rec in recs:  # the export writes objects as JSON text and nulls as empty cells
            w.writerow({k: json.dumps(v) if isinstance(v, dict) else ("" if v is None else v) for k, v in rec.items()})
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langfuse_export", 3, 2, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    g = got["gen-1"]
    assert (g["input_tokens"], g["cache_read_tokens"], g["cache_write_tokens"]) == (1000, 950, 0)
    assert (g["output_tokens"], g["reasoning_tokens"]) == (240, 200)
    assert g["logged_cost_usd"] == 0.00232  # cost_details.total
    assert (g["user_id"], g["prompt_version"]) == ("u-1", "triage@12")
    e = got["err-1"]
    assert (e["status"], e["error_type"], e["prompt_version"]) == ("error", "timeout", None)


def test_sniffers_are_specific():
    api, export = langfuse.API.sniff, langfuse.EXPORT.sniff
    assert api(obs()) and not export(obs())
    assert export(export_row()) and not api(export_row())
    others = [
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "usage": {}},
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "usage": {"input_tokens": 1}},
        {"request_id": "r1", "call_type": "acompletion", "startTime": "2024-11-07T17:20:00Z", "model": "gpt-4o",
         "prompt_tokens": 1, "session_id": "s"},
        {"id": "x", "trace_id": "t", "call_type": "completion", "startTime": 1.0, "status": "success",
         "prompt_tokens": 1},
        {"traceId": "ab", "spanId": "cd", "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1",
         "attributes": []},
        {"resourceSpans": []},
        {"id": "run-1", "name": "ChatOpenAI", "run_type": "llm", "start_time": "2024-11-07T17:20:00",
         "trace_id": "t", "session_id": "p"},
        {"type": "generation-create", "id": "e1", "timestamp": "2024-11-07T17:20:00Z", "body": {"traceId": "t"}},
    ]
    for rec in others:
        assert not api(rec) and not export(rec), rec


def ui_obs(id="g-1", usage=None, scope="openinference.instrumentation.openai", **extra):
    """An observation as the UI's trace download writes it (latency in ms, inputUsage / totalUsage)."""
    rec = obs(id, usage, latency=2500, timeToFirstToken=None, completionStartTime=None, inputUsage=1,
              outputUsage=1, totalUsage=2, projectId="p-1",
              metadata={"attributes": {"llm.provider": "openai", "session.id": "sess-otel", "user.id": "u-otel"},
                        "scope": {"name": scope, "version": "1.0"}})
    rec.pop("promptName")
    rec.update(extra)
    return rec


def test_ui_trace_download_latency_in_ms_and_otel_inclusive_usage(con, tmp_path, ingest):
    # OpenInference through Langfuse's OTel endpoint: input includes the cache reads, output the reasoning
    otel = ui_obs("otel", {"input": 1000, "prompt_details.cache_read": 800, "output": 500,
                           "completion_details.reasoning": 300, "total": 1500})
    # no endTime: `latency` is read, in ms in this shape
    no_end = ui_obs("no-end", {"input": 10, "output": 5, "total": 15}, endTime=None)
    span = {"id": "s-1", "traceId": "trace-1", "type": "AGENT", "name": "agent", "level": "DEFAULT",
            "startTime": "2024-11-07T17:19:59Z", "endTime": "2024-11-07T17:20:03Z", "latency": 4000,
            "usageDetails": {}}
    trace = {"id": "trace-1", "name": "t", "timestamp": "2024-11-07T17:19:59Z", "sessionId": "sess-otel",
             "userId": "u-otel", "latency": 4.0}
    path = tmp_path / "trace-download.json"
    path.write_text(json.dumps({"trace": trace, "observations": [span, otel, no_end]}, indent=2))
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langfuse_api", 3, 2, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    o = got["otel"]
    assert (o["input_tokens"], o["cache_read_tokens"], o["output_tokens"], o["reasoning_tokens"]) == (1000, 800, 500, 300)
    assert (o["latency_ms"], o["ttft_ms"]) == (2500.0, None)  # endTime - startTime, not latency x 1000
    assert (o["provider"], o["session_id"], o["user_id"]) == ("openai", "sess-otel", "u-otel")
    assert json.loads(o["attributes"])["usage_convention"] == "inclusive"
    assert got["no-end"]["latency_ms"] == 2500.0  # `latency` 2500 is ms here


def test_usage_convention_is_decided_per_observation(con, write_jsonl, ingest):
    recs = [
        # total = input + output while details are nonzero: inclusive whoever sent it
        obs("by-total", {"input": 100, "input_cache_read": 40, "output": 50, "output_reasoning": 20, "total": 150}),
        # the documented disjoint buckets: total counts the details too
        obs("disjoint", {"input": 100, "input_cache_read": 40, "output": 50, "output_reasoning": 20, "total": 210}),
        # an OTel instrumentation scope (not the Langfuse SDK), no total: inclusive
        obs("by-scope", {"input": 100, "input_cached_tokens": 40, "output": 50, "output_reasoning_tokens": 20},
            metadata={"scope": {"name": "opentelemetry.instrumentation.openai.v2"}}),
        # the Langfuse SDK exports over OTel but computes disjoint buckets itself
        obs("langfuse-sdk", {"input": 100, "input_cache_read": 40, "output": 50, "output_reasoning": 20},
            metadata={"scope": {"name": "langfuse-sdk"}}),
        # API latency without endTime is in seconds
        obs("api-latency", endTime=None, latency=1.5, completionStartTime=None, timeToFirstToken=0.25),
    ]
    r = ingest(write_jsonl(recs, "obs.jsonl"))
    assert (r.format, r.rows_accepted) == ("langfuse_api", 5)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    key = ("input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")
    assert tuple(got["by-total"][k] for k in key) == (100, 40, 50, 20)
    assert tuple(got["disjoint"][k] for k in key) == (140, 40, 70, 20)
    assert tuple(got["by-scope"][k] for k in key) == (100, 40, 50, 20)
    assert tuple(got["langfuse-sdk"][k] for k in key) == (140, 40, 70, 20)
    assert (got["api-latency"]["latency_ms"], got["api-latency"]["ttft_ms"]) == (1500.0, 250.0)


def test_response_id_from_the_provider_response_in_output(con, write_jsonl, ingest):
    recs = [obs("a", output={"id": "resp_abc", "object": "response"}),
            obs("b", output={"id": "run-123", "content": "hi"}), obs("c", output="plain text")]
    ingest(write_jsonl(recs, "obs.jsonl"))
    got = {c["call_id"]: c["response_id"] for c in rows(con, "SELECT * FROM calls")}
    assert got == {"a": "resp_abc", "b": None, "c": None}


def test_ui_trace_download_session_and_user_from_the_trace(con, tmp_path, ingest):
    gen = obs("g", metadata={})  # a native-SDK observation: no OTel attributes
    trace = {"id": "trace-1", "sessionId": "sess-trace", "userId": "u-trace", "name": "t"}
    path = tmp_path / "trace-download.json"
    path.write_text(json.dumps({"trace": trace, "observations": [gen]}))
    ingest(path)
    c = only_call(con)
    assert (c["session_id"], c["user_id"]) == ("sess-trace", "u-trace")
