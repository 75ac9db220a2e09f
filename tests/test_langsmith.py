"""LangSmith runs: prompt_tokens / completion_tokens are totals (cache and reasoning included);
the run's session_id is the project, the conversation is extra.metadata.thread_id."""

import json

from conftest import only_call, rows

from workbench.ingest.adapters import langsmith


def run(id="run-1", run_type="llm", tokens=True, **extra):
    rec = {
        "id": id, "name": "ChatOpenAI", "run_type": run_type,
        "start_time": "2024-11-07T17:20:00.000000", "end_time": "2024-11-07T17:20:02.500000",
        "first_token_time": "2024-11-07T17:20:00.400000", "status": "success", "error": None,
        "extra": {"metadata": {"ls_provider": "openai", "ls_model_name": "gpt-4o", "ls_model_type": "chat",
                               "thread_id": "thread-42", "user_id": "u-5", "feature": "support",
                               "revision_id": "abc123"},
                  "invocation_params": {"model": "gpt-4o", "temperature": 0}},
        "tags": ["prod"], "trace_id": "trace-1", "parent_run_id": "chain-1",
        "session_id": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        "total_cost": "0.00425",
    }
    if tokens:
        rec.update({"prompt_tokens": 1500, "completion_tokens": 300, "total_tokens": 1800,
                    "prompt_token_details": {"cache_read": 1000, "audio": 0},
                    "completion_token_details": {"reasoning": 100}})
    rec.update(extra)
    return rec


def test_runs_envelope_cache_reasoning_and_project_is_not_the_conversation(con, tmp_path, ingest):
    chain = {"id": "chain-1", "name": "RunnableSequence", "run_type": "chain", "start_time": "2024-11-07T17:19:59",
             "end_time": "2024-11-07T17:20:03", "status": "success", "trace_id": "trace-1", "session_id": "proj"}
    llm = run(prompt_token_details={"cache_read": 1000, "cache_creation": 200})
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"runs": [chain, llm], "cursors": {"next": None}}))  # compact, as the API returns it
    r = ingest(path)  # sniffed
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langsmith", 2, 1, 1)
    assert r.reasons == {"not an LLM call": 1}
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (1500, 1000, 200)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (300, 100)
    assert (c["provider"], c["model"], c["source_format"]) == ("openai", "gpt-4o", "langsmith")
    assert (c["latency_ms"], c["ttft_ms"]) == (2500.0, 400.0)
    assert c["session_id"] == "thread-42"  # not the run's session_id (the project)
    assert (c["trace_id"], c["user_id"], c["feature"]) == ("trace-1", "u-5", "support")
    assert c["logged_cost_usd"] == 0.00425 and c["status"] == "ok"
    assert c["ts"].isoformat() == "2024-11-07T17:20:00+00:00"
    attrs = json.loads(c["attributes"])
    assert attrs["project_id"] == "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d" and attrs["tags"] == ["prod"]
    (q,) = rows(con, "SELECT * FROM quarantine")
    assert q["reason"] == "not an LLM call: LangSmith run type chain"


def test_anthropic_cache_write_ttl_split_is_not_double_counted(con, write_jsonl, ingest):
    meta = {"ls_provider": "anthropic", "ls_model_name": "claude-sonnet-4-5-20250929",
            "conversation_id": "conv-1"}
    recs = [
        # newer langchain-anthropic: the generic total is zeroed beside the split
        run("new", extra={"metadata": meta}, prompt_tokens=1260, completion_tokens=30,
            prompt_token_details={"cache_read": 10, "cache_creation": 0, "ephemeral_5m_input_tokens": 80,
                                  "ephemeral_1h_input_tokens": 70}, completion_token_details={}),
        # older versions keep the total beside its split
        run("old", extra={"metadata": meta}, prompt_tokens=1260, completion_tokens=30,
            prompt_token_details={"cache_read": 10, "cache_creation": 150, "ephemeral_5m_input_tokens": 80,
                                  "ephemeral_1h_input_tokens": 70}, completion_token_details=None),
    ]
    r = ingest(write_jsonl(recs, "runs.jsonl"))
    assert (r.format, r.rows_accepted) == ("langsmith", 2)
    for c in rows(con, "SELECT * FROM calls"):
        assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
            1260, 10, 150, 70), c["call_id"]
        assert (c["output_tokens"], c["reasoning_tokens"]) == (30, 0)
        assert (c["provider"], c["model"], c["session_id"]) == ("anthropic", "claude-sonnet-4-5-20250929", "conv-1")


def test_error_run_and_run_without_tokens(con, tmp_path, ingest):
    err = run("err", tokens=False, status="error", first_token_time=None,
              error="RateLimitError('Error code: 429 - Rate limit reached for gpt-4o')")
    missing = run("missing", tokens=False)
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([err, missing]))
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langsmith", 2, 1, 1)
    assert list(r.reasons) == ["missing token counts (a successful call needs input and output tokens)"]
    c = only_call(con)
    assert (c["call_id"], c["status"], c["error_type"]) == ("err", "error", "rate_limit")
    assert (c["input_tokens"], c["output_tokens"], c["ttft_ms"], c["latency_ms"]) == (0, 0, None, 2500.0)


def test_sniffer_is_specific():
    sniff = langsmith.RUNS.sniff
    assert sniff(run())
    others = [
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "usage": {}},
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "usage": {"input_tokens": 1}},
        {"request_id": "r1", "call_type": "acompletion", "startTime": "2024-11-07T17:20:00Z", "model": "gpt-4o",
         "prompt_tokens": 1, "session_id": "s"},
        {"id": "x", "trace_id": "t", "call_type": "completion", "startTime": 1.0, "status": "success"},
        {"traceId": "ab", "spanId": "cd", "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1"},
        {"resourceSpans": []},
        {"id": "o1", "trace_id": "t", "type": "GENERATION", "start_time": "2024-11-07 17:20:00"},
        {"id": "o1", "traceId": "t", "type": "GENERATION", "startTime": "2024-11-07T17:20:00Z"},
    ]
    for rec in others:
        assert not sniff(rec), rec
        assert not langsmith.BATCH.sniff(rec), rec


def sdk_run(id="sdk-1", usage=None, **extra):
    """An llm run as the SDKs send it: usage in outputs.usage_metadata, the provider response as outputs."""
    rec = {
        "id": id, "name": "ChatOpenAI", "run_type": "llm", "trace_id": "trace-9",
        "dotted_order": f"20241013T070538291001Z{id}",
        "start_time": "2026-12-02T03:10:08.510454+00:00", "end_time": "2026-12-02T03:10:08.769159+00:00",
        "extra": {"metadata": {"ls_provider": "openai", "ls_model_name": "gpt-5-nano", "thread_id": "th-1",
                               "user_id": "u-1"}},
        "outputs": {"id": f"chatcmpl-{id}", "model": "gpt-5-nano-2025-08-07", "object": "chat.completion",
                    "choices": [{"finish_reason": "stop"}],
                    "usage_metadata": {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500,
                                       "input_token_details": {"cache_read": 1000},
                                       "output_token_details": {"reasoning": 200}} if usage is None else usage},
        "events": [{"name": "new_token", "time": "2026-12-02T03:10:08.610454+00:00"},
                   {"name": "new_token", "time": "2026-12-02T03:10:08.620454+00:00"}],
    }
    rec.update(extra)
    return rec


def test_sdk_runs_usage_metadata_events_ttft_and_epoch_ms(con, write_jsonl, ingest):
    anthropic_usage = {"input_tokens": 1260, "output_tokens": 30, "total_tokens": 1290,
                       "input_token_details": {"cache_read": 1000, "ephemeral_5m_input_tokens": 100,
                                               "ephemeral_1h_input_tokens": 50}}
    flex_usage = {"input_tokens": 8, "output_tokens": 296, "total_tokens": 304,
                  "input_token_details": {"audio": 0, "flex_cache_read": 2, "flex": 6},
                  "output_token_details": {"audio": 0, "flex_reasoning": 256, "flex": 40}}
    recs = [
        sdk_run("py"),
        # the JS SDK: start_time and end_time as epoch milliseconds
        sdk_run("js", start_time=1728803138291, end_time=1728803148730, events=None),
        sdk_run("anthropic", anthropic_usage, outputs={"id": "msg_01", "model": "claude-haiku-4-5-20251001",
                                                       "stop_reason": "end_turn", "usage_metadata": anthropic_usage}),
        sdk_run("flex", flex_usage),
    ]
    r = ingest(write_jsonl(recs, "runs.jsonl"))
    assert (r.format, r.rows_accepted) == ("langsmith", 4)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    p = got["py"]
    assert (p["input_tokens"], p["cache_read_tokens"], p["output_tokens"], p["reasoning_tokens"]) == (1200, 1000, 300, 200)
    assert (p["model"], p["response_id"], p["finish_reason"]) == ("gpt-5-nano-2025-08-07", "chatcmpl-py", "stop")
    assert (p["latency_ms"], p["ttft_ms"]) == (258.705, 100.0)  # first new_token event
    assert (p["session_id"], p["user_id"], p["trace_id"]) == ("th-1", "u-1", "trace-9")
    j = got["js"]
    assert j["ts"].isoformat() == "2024-10-13T07:05:38.291000+00:00"
    assert (j["latency_ms"], j["ttft_ms"]) == (10439.0, None)
    a = got["anthropic"]
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_write_tokens"], a["cache_write_1h_tokens"]) == (
        1260, 1000, 150, 50)
    assert (a["response_id"], a["finish_reason"]) == ("msg_01", "end_turn")
    f = got["flex"]
    assert (f["input_tokens"], f["cache_read_tokens"], f["output_tokens"], f["reasoning_tokens"]) == (8, 2, 296, 256)
    assert f["service_tier"] == "flex"  # told by the tier-prefixed keys


def test_post_patch_documents_are_merged_per_run(con, tmp_path, ingest):
    def post(id):
        rec = sdk_run(id, start_time=1728803138291)
        return {k: rec[k] for k in ("id", "name", "run_type", "trace_id", "dotted_order", "start_time", "extra")}

    def patch(id, with_id):
        rec = sdk_run(id, end_time=1728803139291)
        out = {k: rec[k] for k in ("trace_id", "dotted_order", "end_time", "outputs")}
        return {"id": id, **out} if with_id else out

    orphan = patch("orphan", True)
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"post": [post("a"), post("b")], "patch": [patch("b", True), patch("a", False), orphan]},
                               indent=2))
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("langsmith_batch", 3, 2, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert {c["source_format"] for c in got.values()} == {"langsmith"}  # one family with the runs
    for id in ("a", "b"):  # "a"'s patch has no id: joined on trace_id + dotted_order
        c = got[id]
        assert (c["input_tokens"], c["output_tokens"], c["latency_ms"], c["response_id"]) == (
            1200, 300, 1000.0, f"chatcmpl-{id}")
    (q,) = rows(con, "SELECT * FROM quarantine")
    assert q["reason"].startswith("not a whole run: LangSmith run update (PATCH)") and '"orphan"' in q["raw"]


def test_sniffer_knows_post_patch_documents():
    batch = langsmith.BATCH.sniff
    body = {"post": [{"id": "r", "run_type": "llm", "start_time": 1728803138291, "name": "x"}], "patch": []}
    assert batch(body) and not langsmith.RUNS.sniff(body) and not batch(run())
    assert not batch({"post": [{"id": "r"}], "patch": []})
    assert not batch({"post": [{"id": "r", "run_type": "llm", "start_time": 1}], "other": 1})
