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


def test_http_error_bodies_are_failed_calls(con, write_jsonl, ingest):
    not_found = {"error": {"code": "model_not_found", "message": "The model `gpt-x` does not exist or you do not have "
                           "access to it.", "param": None, "type": "invalid_request_error"}}
    bad = {"error": {"code": "decimal_below_min_value", "message": "Invalid 'temperature'", "param": "temperature",
                     "type": "invalid_request_error"}}
    r = ingest(write_jsonl([not_found, bad, chat()]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("openai_chat", 3, 0)
    got = sorted((c["status"], c["error_type"], c["model"], c["response_id"]) for c in rows(con, "SELECT * FROM calls"))
    assert got == [("error", "invalid_request", None, None), ("error", "not_found", None, None),
                   ("ok", None, "gpt-4o-2024-08-06", "chatcmpl-1")]
    from workbench.ingest.adapters import openai
    anthropic_error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert not any(a.sniff(anthropic_error) for a in openai.ADAPTERS)  # Anthropic's error body is not ours


def test_batch_expired_line_has_its_class_and_the_body_id_is_the_response_id(con, write_jsonl, ingest):
    ok = {"id": "batch_req_1", "custom_id": "task-1", "error": None,
          "response": {"status_code": 200, "request_id": "req_1", "body": chat(id="chatcmpl-b1")}}
    expired = {"id": "batch_req_2", "custom_id": "task-2", "response": None,
               "error": {"code": "batch_expired", "message": "This request could not be executed before the "
                                                            "completion window expired."}}
    ingest(write_jsonl([ok, expired]))
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert (got["batch_req_1"]["response_id"], got["batch_req_2"]["response_id"]) == ("chatcmpl-b1", None)
    assert (got["batch_req_2"]["status"], got["batch_req_2"]["error_type"]) == ("error", "expired")


def openrouter(id="gen-1", model="google/gemini-2.5-flash", prompt=2168, read=2161, write=2161, completion=100,
               cost=0.000497, byok=False, upstream=None):
    return {"id": id, "object": "chat.completion", "created": 1773011493, "model": model, "provider": "Google AI Studio",
            "choices": [{"index": 0, "finish_reason": "length", "native_finish_reason": "MAX_TOKENS",
                         "message": {"role": "assistant", "content": "x"}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                      "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": write},
                      "completion_tokens_details": {"reasoning_tokens": 0}, "cost": cost, "is_byok": byok,
                      "cost_details": {"upstream_inference_cost": cost if upstream is None else upstream}}}


def test_openrouter_provider_cost_and_gemini_cache_storage(con, write_jsonl, ingest):
    import json
    gemini = openrouter()  # read 2161 + "write" 2161 > 2168: the writes are storage of the read tokens
    claude = openrouter("gen-2", "anthropic/claude-4.6-sonnet-20260217", prompt=3329, read=3211, write=115, cost=0.0022)
    byok = openrouter("gen-3", prompt=326, read=0, write=0, completion=91, cost=0, byok=True, upstream=0.0003253)
    limited = {"error": {"code": 429, "message": "Provider returned error",
                         "metadata": {"provider_name": "Google", "raw": "rate-limited upstream"}}, "user_id": "user_2w"}
    r = ingest(write_jsonl([gemini, claude, byok, limited]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("openrouter_chat", 4, 0)
    got = {c["response_id"]: c for c in rows(con, "SELECT * FROM calls")}
    g = got["gen-1"]
    assert (g["provider"], g["source_format"], g["model"]) == ("google", "openrouter", "google/gemini-2.5-flash")
    assert (g["input_tokens"], g["cache_read_tokens"], g["cache_write_tokens"]) == (2168, 2161, 0)
    attrs = json.loads(g["attributes"])
    assert (attrs["gateway"], attrs["upstream_provider"], attrs["reported_cache_write_tokens"]) == (
        "openrouter", "Google AI Studio", 2161)
    assert attrs["native_finish_reason"] == "MAX_TOKENS" and g["logged_cost_usd"] == 0.000497
    c = got["gen-2"]
    assert (c["provider"], c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == ("anthropic", 3329, 3211, 115)
    b = got["gen-3"]  # BYOK: OpenRouter charged 0, the provider billed the user's key 0.0003253
    assert b["logged_cost_usd"] == 0.0003253
    battrs = json.loads(b["attributes"])
    assert (battrs["is_byok"], battrs["openrouter_cost_usd"], battrs["upstream_inference_cost_usd"]) == (True, 0, 0.0003253)
    e = got[None]
    assert (e["provider"], e["status"], e["error_type"], e["user_id"]) == ("google", "error", "rate_limit", "user_2w")
    assert json.loads(e["attributes"])["http_status"] == 429


def test_openrouter_sniffers_leave_openai_bodies_alone():
    from workbench.ingest.adapters import openai
    assert not openai.OPENROUTER_CHAT.sniff(chat()) and openai.CHAT.sniff(chat())
    assert openai.OPENROUTER_CHAT.sniff(openrouter())
    resp = {"id": "resp_1", "object": "response", "model": "gpt-5", "usage": {"input_tokens": 1}}
    assert not openai.OPENROUTER_RESPONSES.sniff(resp) and openai.RESPONSES.sniff(resp)
    assert openai.OPENROUTER_RESPONSES.sniff({**resp, "id": "gen-9", "model": "openai/gpt-5"})
    openai_error = {"error": {"code": "model_not_found", "message": "m", "param": None, "type": "invalid_request_error"}}
    assert openai.CHAT.sniff(openai_error) and not openai.OPENROUTER_CHAT.sniff(openai_error)


def test_responses_latency_from_completed_at(con, write_jsonl, ingest):
    rec = {"id": "resp_3", "object": "response", "created_at": 1784092257, "completed_at": 1784092259,
           "status": "completed", "model": "gpt-5", "incomplete_details": None,
           "usage": {"input_tokens": 10, "output_tokens": 5}}
    cut = {**rec, "id": "resp_4", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    ingest(write_jsonl([rec, cut]))
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert (got["resp_3"]["latency_ms"], got["resp_3"]["finish_reason"], got["resp_3"]["response_id"]) == (
        2000.0, None, "resp_3")
    assert got["resp_4"]["finish_reason"] == "max_output_tokens"
