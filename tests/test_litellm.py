"""LiteLLM adapters: LiteLLM_SpendLogs rows (JSONL and CSV export) and StandardLoggingPayload records."""

import csv
import json

from conftest import only_call, rows

from workbench.ingest.adapters import anthropic, litellm, openai


def usage_object(prompt, completion, read=0, write=0, reasoning=None, one_hour=None):
    u = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
         "prompt_tokens_details": {"cached_tokens": read, "cache_creation_tokens": write, "text_tokens": None},
         "cache_read_input_tokens": read, "cache_creation_input_tokens": write}
    if reasoning is not None:
        u["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    if one_hour is not None:
        u["prompt_tokens_details"]["cache_creation_token_details"] = {
            "ephemeral_5m_input_tokens": write - one_hour, "ephemeral_1h_input_tokens": one_hour}
    return u


def spend_row(request_id="req-1", prompt=1000, completion=100, usage=None, **extra):
    row = {"request_id": request_id, "call_type": "acompletion", "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
           "spend": 0.0123, "total_tokens": prompt + completion, "prompt_tokens": prompt, "completion_tokens": completion,
           "startTime": "2025-01-15T10:00:00.000Z", "endTime": "2025-01-15T10:00:02.345Z",
           "completionStartTime": "2025-01-15T10:00:00.400Z", "request_duration_ms": 2345,
           "model": "claude-sonnet-4-5-20250929", "model_id": "dep-1", "model_group": "sonnet",
           "custom_llm_provider": "anthropic", "api_base": "https://api.anthropic.com/v1/messages",
           "user": "internal-user-1", "end_user": "customer-9", "team_id": "team-a", "cache_hit": "False",
           "session_id": "sess-1", "status": "success", "request_tags": ["triage", "prod"],
           "metadata": {"user_api_key_alias": "pilot-key", "status": "success",
                        "spend_logs_metadata": {"feature": "summarize", "prompt_version": "v4", "environment": "prod"},
                        "usage_object": usage or usage_object(prompt, completion)},
           "messages": {}, "response": {}}
    row.update(extra)
    return row


def test_spendlogs_anthropic_prompt_tokens_include_cache(con, write_jsonl, ingest):
    # LiteLLM >= 2025: prompt_tokens = input + cache reads + cache writes (98805 = 10 + 66360 + 32435)
    u = usage_object(98805, 5120, read=66360, write=32435, reasoning=1710, one_hour=30000)
    r = ingest(write_jsonl([spend_row(prompt=98805, completion=5120, usage=u)]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("litellm_spendlogs", 1, 0)
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        98805, 66360, 32435, 30000)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (5120, 1710)
    assert (c["call_id"], c["provider"], c["model"], c["source_format"]) == (
        "req-1", "anthropic", "claude-sonnet-4-5-20250929", "litellm")
    assert c["ts"].isoformat() == "2025-01-15T10:00:00+00:00"
    assert (c["latency_ms"], c["ttft_ms"]) == (2345.0, 400.0)
    assert (c["status"], c["user_id"], c["session_id"]) == ("ok", "customer-9", "sess-1")
    assert (c["feature"], c["prompt_version"], c["environment"]) == ("summarize", "v4", "prod")
    assert c["logged_cost_usd"] == 0.0123
    attrs = json.loads(c["attributes"])
    assert attrs["prompt_tokens_convention"] == "includes_cache"
    assert (attrs["model_group"], attrs["request_tags"], attrs["key_alias"]) == ("sonnet", ["triage", "prod"], "pilot-key")


def test_spendlogs_prompt_tokens_excluding_cache_are_detected(con, write_jsonl, ingest):
    # Old LiteLLM: prompt_tokens is Anthropic's input_tokens (194 < the 9474 written to cache).
    old = spend_row("req-old", prompt=194, completion=7, usage=usage_object(194, 7, write=9474))
    # Excluding prompt_tokens bigger than the cache buckets: the usage object says 6000 = 5000 + 1000.
    u = usage_object(6000, 50, read=1000)
    anthropic_messages = spend_row("req-msg", prompt=5000, completion=50, usage=u)
    # OpenAI: cached tokens inside prompt_tokens, nothing to fix.
    oa = spend_row("req-oa", prompt=1200, completion=300, usage=usage_object(1200, 300, read=1024, reasoning=120),
                   model="gpt-4o-2024-08-06", custom_llm_provider="openai")
    ingest(write_jsonl([old, anthropic_messages, oa]))
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    o = got["req-old"]
    assert (o["input_tokens"], o["cache_read_tokens"], o["cache_write_tokens"], o["output_tokens"]) == (9668, 0, 9474, 7)
    assert json.loads(o["attributes"])["prompt_tokens_convention"] == "excludes_cache"
    m = got["req-msg"]
    assert (m["input_tokens"], m["cache_read_tokens"], m["cache_write_tokens"]) == (6000, 1000, 0)
    a = got["req-oa"]
    assert (a["input_tokens"], a["cache_read_tokens"], a["output_tokens"], a["reasoning_tokens"]) == (1200, 1024, 300, 120)
    assert json.loads(a["attributes"])["prompt_tokens_convention"] == "includes_cache"


def test_spendlogs_csv_export_with_json_string_columns(con, tmp_path, ingest):
    row = spend_row("req-csv", prompt=3000, completion=200, usage=usage_object(3000, 200, read=2048))
    row.update(startTime="2025-01-15 10:00:00.000", endTime="2025-01-15 10:00:01.250",
               completionStartTime="2025-01-15 10:00:01.250", request_duration_ms="", end_user="",
               request_tags=json.dumps(["support-bot"]))
    row["metadata"] = json.dumps({"usage_object": row["metadata"]["usage_object"], "spend_logs_metadata": {}})
    row["messages"] = row["response"] = "{}"
    failed = spend_row("req-fail", prompt=0, completion=0, status="failure", model="gpt-4o",
                       custom_llm_provider="openai", request_tags="[]")
    failed["metadata"] = json.dumps({"status": "failure", "error_information": {
        "error_code": "429", "error_class": "RateLimitError", "error_message": "litellm.RateLimitError: slow down"}})
    failed["messages"] = failed["response"] = "{}"
    no_tokens = spend_row("req-empty", request_tags="[]", metadata="{}", messages="{}", response="{}")
    no_tokens.update(prompt_tokens="", completion_tokens="")
    path = tmp_path / "spend_logs.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerows([row, failed, no_tokens])
    r = ingest(path)
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("litellm_spendlogs", 2, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    c = got["req-csv"]
    assert (c["input_tokens"], c["cache_read_tokens"], c["output_tokens"]) == (3000, 2048, 200)
    assert c["ts"].isoformat() == "2025-01-15T10:00:00+00:00"
    assert (c["latency_ms"], c["ttft_ms"]) == (1250.0, None)  # completionStartTime = endTime: not streamed
    assert (c["feature"], c["user_id"], c["logged_cost_usd"]) == ("support-bot", "internal-user-1", 0.0123)
    f = got["req-fail"]
    assert (f["status"], f["error_type"], f["input_tokens"], f["output_tokens"]) == ("error", "rate_limit", 0, 0)
    (reason,) = con.execute("SELECT reason FROM quarantine").fetchone()
    assert reason.startswith("missing token counts")


def payload(id="chatcmpl-p1", status="success", **extra):
    rec = {"id": id, "trace_id": "trace-7", "call_type": "acompletion", "stream": True,
           "response_cost": 0.00425, "cost_breakdown": {"input_cost": 0.003, "output_cost": 0.00125, "total_cost": 0.00425},
           "status": status, "custom_llm_provider": "openai", "model": "o4-mini", "model_group": "reasoning",
           "total_tokens": 2900, "prompt_tokens": 2500, "completion_tokens": 400,
           "startTime": 1736935200.0, "endTime": 1736935201.5, "completionStartTime": 1736935200.25, "response_time": 1.5,
           "metadata": {"user_api_key_alias": "k", "user_api_key_user_id": "internal-2",
                        "spend_logs_metadata": {"prompt_version": "p3"}, "usage_object": None},
           "cache_hit": None, "request_tags": ["extract"], "end_user": "cust-3", "error_str": None,
           "error_information": None,
           "hidden_params": {"model_id": "m1", "litellm_model_name": "o4-mini-2025-04-16",
                             "usage_object": usage_object(2500, 400, read=2048, reasoning=320)}}
    rec.update(extra)
    return rec


def test_payload_records(con, write_jsonl, ingest):
    retry_failed = payload("chatcmpl-p0", status="failure", prompt_tokens=0, completion_tokens=0, response_cost=0.0,
                           error_str="Request timed out",
                           error_information={"error_code": "408", "error_class": "Timeout", "error_message": "timed out"},
                           hidden_params={"usage_object": None})
    cached_anthropic = payload("msg-p2", custom_llm_provider="anthropic", model="claude-opus-4-1", stream=False,
                               completionStartTime=1736935201.5, prompt_tokens=40, completion_tokens=10,
                               hidden_params={"usage_object": usage_object(40, 10, read=4000, write=600, one_hour=600)})
    no_tokens = payload("chatcmpl-p3")
    for k in ("prompt_tokens", "completion_tokens", "hidden_params"):
        del no_tokens[k]
    r = ingest(write_jsonl([payload(), retry_failed, cached_anthropic, no_tokens]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("litellm_payload", 3, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    p = got["chatcmpl-p1"]
    assert (p["input_tokens"], p["cache_read_tokens"], p["output_tokens"], p["reasoning_tokens"]) == (2500, 2048, 400, 320)
    assert p["ts"].isoformat() == "2025-01-15T10:00:00+00:00"
    assert (p["latency_ms"], p["ttft_ms"]) == (1500.0, 250.0)
    assert (p["trace_id"], p["user_id"], p["feature"], p["prompt_version"]) == ("trace-7", "cust-3", "extract", "p3")
    assert (p["provider"], p["model"], p["logged_cost_usd"], p["status"]) == ("openai", "o4-mini", 0.00425, "ok")
    assert json.loads(p["attributes"])["cost_breakdown"]["input_cost"] == 0.003
    f = got["chatcmpl-p0"]
    assert (f["status"], f["error_type"], f["trace_id"], f["input_tokens"]) == ("error", "timeout", "trace-7", 0)
    a = got["msg-p2"]  # prompt_tokens 40 < 4600 cache tokens: Anthropic convention, input = 40 + 4000 + 600
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_write_tokens"], a["cache_write_1h_tokens"]) == (
        4640, 4000, 600, 600)
    assert a["ttft_ms"] is None  # not streamed


def test_sniffers_tell_spendlogs_payload_and_provider_objects_apart(con, write_jsonl, ingest):
    row, rec = spend_row(), payload()
    assert litellm.SPENDLOGS.sniff(row) and not litellm.PAYLOAD.sniff(row)
    assert litellm.PAYLOAD.sniff(rec) and not litellm.SPENDLOGS.sniff(rec)
    msg = {"id": "msg_1", "type": "message", "model": "claude", "usage": {"input_tokens": 1, "output_tokens": 1}}
    chat = {"id": "chatcmpl-1", "object": "chat.completion", "usage": {"prompt_tokens": 1}}
    for other in (msg, chat, {"custom_id": "a", "result": {"type": "succeeded", "message": msg}}):
        assert not litellm.SPENDLOGS.sniff(other) and not litellm.PAYLOAD.sniff(other)
    for a in openai.ADAPTERS + anthropic.ADAPTERS:  # earlier in sniffing order
        assert not a.sniff(row) and not a.sniff(rec), a.name
    # A payload whose response is an Anthropic Message is still a LiteLLM record.
    r = ingest(write_jsonl([payload(call_type="anthropic_messages", response=msg)]))
    assert r.format == "litellm_payload"
    r = ingest(write_jsonl([spend_row(response=msg)], "spend.jsonl"))
    assert r.format == "litellm_spendlogs"


def test_payload_response_ids_finish_reason_and_caller_user(con, write_jsonl, ingest):
    # LiteLLM re-encodes Responses ids: resp_ + base64("litellm:custom_llm_provider:openai;model_id:None;response_id:...")
    import base64
    inner = "litellm:custom_llm_provider:openai;model_id:None;response_id:resp_68cdba511c7081a3"
    encoded = "resp_" + base64.b64encode(inner.encode()).decode()
    responses = payload(encoded, call_type="responses", end_user=None, metadata={"usage_object": None},
                        model_parameters={"user": "user-7"}, hidden_params={"usage_object": None},
                        response={"id": encoded, "object": "response", "service_tier": "default",
                                  "usage": usage_object(2500, 400, read=1280, reasoning=64)})
    chat = payload("chatcmpl-x1", end_user=None, metadata={}, hidden_params={},
                   response={"id": "chatcmpl-x1", "choices": [{"finish_reason": "length"}],
                             "usage": usage_object(2500, 400)})
    failed = payload("f532814f-f5c8-41dc-9fbb-a37728478514", status="failure", prompt_tokens=0, completion_tokens=0,
                     response={}, hidden_params={"usage_object": None},
                     error_information={"error_code": "404", "error_class": "NotFoundError"})
    ingest(write_jsonl([responses, chat, failed]))
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    r = got[encoded]
    assert (r["response_id"], r["user_id"], r["service_tier"]) == ("resp_68cdba511c7081a3", "user-7", "default")
    assert (r["cache_read_tokens"], r["reasoning_tokens"]) == (1280, 64)  # from response.usage
    assert (got["chatcmpl-x1"]["response_id"], got["chatcmpl-x1"]["finish_reason"]) == ("chatcmpl-x1", "length")
    f = got["f532814f-f5c8-41dc-9fbb-a37728478514"]  # LiteLLM's own call id: no provider response
    assert (f["response_id"], f["error_type"]) == (None, "not_found")


def test_spendlogs_latency_from_the_times_not_the_truncated_duration(con, write_jsonl, ingest):
    row = spend_row(startTime="2026-12-02 03:16:48.339935+00:00", endTime="2026-12-02 03:16:48.553131+00:00",
                    completionStartTime="2026-12-02 03:16:48.553131+00:00", request_duration_ms=213,
                    request_id="chatcmpl-E1")
    ingest(write_jsonl([row]))
    c = only_call(con)
    assert (c["latency_ms"], c["ttft_ms"], c["response_id"]) == (213.196, None, "chatcmpl-E1")
