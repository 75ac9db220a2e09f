"""OpenAI adapters: Chat Completions, Responses, Batch output."""

from conftest import only_call, rows


def chat(id="chatcmpl-1", prompt=1200, completion=300, cached=None, reasoning=None, **extra):
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    rec = {"id": id, "object": "chat.completion", "created": 1731000000, "model": "gpt-4o-2024-08-06",
           "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
           "usage": usage, "service_tier": "default", "system_fingerprint": "fp_1"}
    rec.update(extra)
    return rec


def test_chat_cached_tokens_are_already_inside_prompt_tokens(con, write_jsonl, ingest):
    r = ingest(write_jsonl([chat(prompt=1200, cached=1024, completion=300, reasoning=120)]))
    assert (r.format, r.rows_accepted) == ("openai_chat", 1)
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (1200, 1024, 0)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (300, 120)
    assert c["provider"] == "openai" and c["model"] == "gpt-4o-2024-08-06"
    assert c["ts"].isoformat() == "2024-11-07T17:20:00+00:00"
    assert c["status"] == "ok" and c["service_tier"] == "default" and c["source_format"] == "openai"


def test_chat_cache_write_tokens_and_metadata(con, write_jsonl, ingest):
    rec = chat(prompt=5000, completion=10, metadata={"feature": "triage", "session_id": "s1", "prompt_version": "v3"})
    rec["usage"]["prompt_tokens_details"] = {"cached_tokens": 1000, "cache_write_tokens": 2000}
    ingest(write_jsonl([rec]))
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (5000, 1000, 2000)
    assert (c["feature"], c["session_id"], c["prompt_version"]) == ("triage", "s1", "v3")


def test_chat_content_filter_is_an_error(con, write_jsonl, ingest):
    rec = chat()
    rec["choices"][0]["finish_reason"] = "content_filter"
    ingest(write_jsonl([rec]))
    c = only_call(con)
    assert (c["status"], c["error_type"]) == ("error", "content_filter")


def test_responses_api(con, write_jsonl, ingest):
    rec = {"id": "resp_1", "object": "response", "created_at": 1731000000.5, "status": "completed",
           "model": "o4-mini-2025-04-16", "service_tier": "flex", "user": "u9",
           "prompt": {"id": "pmpt_1", "version": "4"}, "conversation": {"id": "conv_7"},
           "usage": {"input_tokens": 3000, "input_tokens_details": {"cached_tokens": 2048},
                     "output_tokens": 900, "output_tokens_details": {"reasoning_tokens": 700}, "total_tokens": 3900}}
    failed = {"id": "resp_2", "object": "response", "created_at": 1731000001, "status": "failed",
              "model": "o4-mini", "error": {"code": "rate_limit_exceeded", "message": "slow down"}, "usage": None}
    r = ingest(write_jsonl([rec, failed]))
    assert (r.rows_accepted, r.rows_quarantined) == (2, 0)
    ok, err = rows(con, "SELECT * FROM calls ORDER BY call_id")
    assert (ok["input_tokens"], ok["cache_read_tokens"], ok["output_tokens"], ok["reasoning_tokens"]) == (3000, 2048, 900, 700)
    assert (ok["service_tier"], ok["user_id"], ok["prompt_version"], ok["session_id"]) == ("flex", "u9", "pmpt_1@4", "conv_7")
    assert (err["status"], err["error_type"], err["input_tokens"]) == ("error", "rate_limit", 0)


def test_batch_output_lines_are_batch_tier_and_errors_are_kept(con, write_jsonl, ingest):
    ok = {"id": "batch_req_1", "custom_id": "task-1", "error": None,
          "response": {"status_code": 200, "request_id": "req_1", "body": chat(id="chatcmpl-b1", prompt=100, completion=20)}}
    bad = {"id": "batch_req_2", "custom_id": "task-2", "response": None,
           "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}
    r = ingest(write_jsonl([ok, bad]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("openai_batch", 2, 0)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert got["batch_req_1"]["service_tier"] == "batch" and got["batch_req_1"]["input_tokens"] == 100
    assert got["batch_req_2"]["status"] == "error" and got["batch_req_2"]["service_tier"] == "batch"
