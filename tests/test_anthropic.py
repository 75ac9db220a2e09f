"""Anthropic adapters: Messages responses (plain and logger-wrapped), Message Batches results."""

import json

from conftest import only_call, rows

from workbench.ingest.adapters import anthropic, litellm, openai


def message(id="msg_01", input=100, output=400, cache_read=None, cache_write=None, split=None, thinking=None,
            tier="standard", stop_reason="end_turn", **extra):
    usage = {"input_tokens": input, "output_tokens": output}
    if cache_read is not None:
        usage["cache_read_input_tokens"] = cache_read
    if cache_write is not None:
        usage["cache_creation_input_tokens"] = cache_write
    if split is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    if thinking is not None:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    if tier is not None:
        usage["service_tier"] = tier
    rec = {"id": id, "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
           "content": [{"type": "text", "text": "hi"}], "stop_reason": stop_reason, "stop_sequence": None,
           "usage": usage}
    rec.update(extra)
    return rec


def test_input_tokens_exclude_cache_reads_and_writes(con, write_jsonl, ingest):
    rec = message(input=100, cache_read=2000, cache_write=1500, split=(1000, 500), output=400, thinking=250)
    r = ingest(write_jsonl([rec]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("anthropic_messages", 1, 0)
    c = only_call(con)
    # 100 uncached + 2000 read + 1500 written
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        3600, 2000, 1500, 500)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (400, 250)
    assert (c["call_id"], c["provider"], c["model"]) == ("msg_01", "anthropic", "claude-sonnet-4-5-20250929")
    assert (c["status"], c["error_type"], c["finish_reason"]) == ("ok", None, "end_turn")
    assert c["service_tier"] == "default" and c["source_format"] == "anthropic"
    assert c["ts"] is None  # a Message carries no timestamp


def test_cache_write_from_the_5m_1h_split_when_no_total(con, write_jsonl, ingest):
    ingest(write_jsonl([message(input=50, split=(300, 700), output=20, tier="priority")]))
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        1050, 0, 1000, 700)
    assert (c["output_tokens"], c["reasoning_tokens"], c["service_tier"]) == (20, 0, "priority")


def test_refusal_and_error_bodies_are_errors(con, write_jsonl, ingest):
    refused = message(id="msg_refused", input=30, output=5, stop_reason="refusal")
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
                  "request_id": "req_011"}
    r = ingest(write_jsonl([message(), refused, overloaded]))
    assert (r.rows_accepted, r.rows_quarantined) == (3, 0)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    ref = got["msg_refused"]
    assert (ref["status"], ref["error_type"], ref["finish_reason"]) == ("error", "content_filter", "refusal")
    assert (ref["input_tokens"], ref["output_tokens"]) == (30, 5)  # refusals are billed
    err = got["req_011"]
    assert (err["status"], err["error_type"], err["input_tokens"], err["output_tokens"]) == ("error", "rate_limit", 0, 0)


def test_message_without_usage_is_quarantined(con, write_jsonl, ingest):
    no_usage = message(id="msg_02")
    del no_usage["usage"]
    r = ingest(write_jsonl([message(), no_usage]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("anthropic_messages", 1, 1)
    (reason,) = con.execute("SELECT reason FROM quarantine").fetchone()
    assert reason.startswith("missing token counts")


def test_logger_wrapper_gives_timestamp_latency_and_metadata(con, write_jsonl, ingest):
    wrapped = {"timestamp": "2025-03-01T12:00:00Z", "latency_ms": 850, "ttft_ms": 120,
               "metadata": {"feature": "search", "prompt_version": "v7", "session_id": "conv-1"},
               "request": {"model": "claude-sonnet-4-5", "metadata": {"user_id": "u-42"}},
               "response": message(id="msg_w", input=10, cache_read=90, output=5)}
    epoch_ms = {"created_at": 1740830400500, "message": message(id="msg_e")}
    r = ingest(write_jsonl([wrapped, epoch_ms]))
    assert (r.format, r.rows_accepted) == ("anthropic_messages", 2)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    w = got["msg_w"]
    assert w["ts"].isoformat() == "2025-03-01T12:00:00+00:00"
    assert (w["latency_ms"], w["ttft_ms"]) == (850.0, 120.0)
    assert (w["feature"], w["prompt_version"], w["session_id"], w["user_id"]) == ("search", "v7", "conv-1", "u-42")
    assert (w["input_tokens"], w["cache_read_tokens"]) == (100, 90)
    assert got["msg_e"]["ts"].isoformat() == "2025-03-01T12:00:00.500000+00:00"


def test_batch_results_are_batch_tier_and_failures_are_kept(con, write_jsonl, ingest):
    ok = {"custom_id": "req-1", "result": {"type": "succeeded", "message": message(
        id="msg_b1", input=200, cache_read=800, cache_write=100, output=60, thinking=10, tier="batch")}}
    errored = {"custom_id": "req-2", "result": {"type": "errored", "error": {
        "type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}}}}
    expired = {"custom_id": "req-3", "result": {"type": "expired"}}
    canceled = {"custom_id": "req-4", "result": {"type": "canceled"}}
    r = ingest(write_jsonl([ok, errored, expired, canceled]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("anthropic_batch", 4, 0)
    got = {json.loads(c["attributes"])["custom_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert all(c["service_tier"] == "batch" and c["source_format"] == "anthropic" for c in got.values())
    s = got["req-1"]
    assert s["call_id"] == "msg_b1" and s["status"] == "ok"
    assert (s["input_tokens"], s["cache_read_tokens"], s["cache_write_tokens"], s["output_tokens"],
            s["reasoning_tokens"]) == (1100, 800, 100, 60, 10)
    assert (got["req-2"]["status"], got["req-2"]["error_type"], got["req-2"]["input_tokens"]) == (
        "error", "invalid_request", 0)
    assert (got["req-3"]["status"], got["req-3"]["error_type"], got["req-3"]["finish_reason"]) == (
        "error", "expired", "expired")
    assert (got["req-4"]["status"], got["req-4"]["error_type"], got["req-4"]["finish_reason"]) == (
        "error", "canceled", "canceled")


def test_batch_succeeded_line_without_usage_is_quarantined(con, write_jsonl, ingest):
    bad = {"custom_id": "req-9", "result": {"type": "succeeded", "message": message(id="msg_b9")}}
    del bad["result"]["message"]["usage"]
    ok = {"custom_id": "req-1", "result": {"type": "succeeded", "message": message(id="msg_b1")}}
    r = ingest(write_jsonl([ok, bad]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("anthropic_batch", 1, 1)


def test_sniffers_claim_only_their_own_records():
    msg = message()
    batch_line = {"custom_id": "r", "result": {"type": "succeeded", "message": msg}}
    openai_chat = {"id": "chatcmpl-1", "object": "chat.completion", "usage": {"prompt_tokens": 1}}
    openai_batch = {"id": "batch_req_1", "custom_id": "r", "response": {"body": openai_chat}, "error": None}
    litellm_payload = {"id": "x", "call_type": "anthropic_messages", "response_cost": 0.1, "response": msg,
                       "hidden_params": {}}
    spend_row = {"request_id": "x", "call_type": "acompletion", "spend": 0.1, "startTime": "2025-01-01",
                 "response": msg}
    assert anthropic.MESSAGES.sniff(msg) and anthropic.MESSAGES.sniff({"timestamp": 1, "response": msg})
    assert anthropic.BATCH.sniff(batch_line)
    for other in (batch_line, openai_chat, openai_batch, litellm_payload, spend_row):
        assert not anthropic.MESSAGES.sniff(other), other
    for other in (msg, openai_chat, openai_batch, litellm_payload, spend_row):
        assert not anthropic.BATCH.sniff(other), other
    # and the others leave Anthropic records alone
    for a in openai.ADAPTERS + litellm.ADAPTERS:
        assert not a.sniff(msg) and not a.sniff(batch_line), a.name


def test_bedrock_served_bodies_are_provider_bedrock_and_response_id_is_the_message_id(con, write_jsonl, ingest):
    # Bedrock ids: `msg_bdrk_01…` (base-58) and, for newer models, `msg_bdrk_` + 56 lowercase base-32 characters
    long_id = "msg_bdrk_er2hevp3kltzds335kiev73amxxstt3go2joi3x3egl7vkircylq"
    recs = [message(id="msg_bdrk_01PwGjqAJE4R8ZBE8KCtMEjG", tier=None), message(id=long_id, tier=None),
            message(id="msg_01plain")]
    ingest(write_jsonl(recs))
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert {k: v["provider"] for k, v in got.items()} == {
        "msg_bdrk_01PwGjqAJE4R8ZBE8KCtMEjG": "bedrock", long_id: "bedrock", "msg_01plain": "anthropic"}
    assert all(c["response_id"] == c["call_id"] for c in got.values())


def test_batch_response_id_is_the_message_id(con, write_jsonl, ingest):
    ok = {"custom_id": "req-1", "result": {"type": "succeeded", "message": message(id="msg_b1", tier="batch")}}
    ingest(write_jsonl([ok, {"custom_id": "req-2", "result": {"type": "canceled"}}]))
    got = {json.loads(c["attributes"])["custom_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert (got["req-1"]["response_id"], got["req-2"]["response_id"]) == ("msg_b1", None)
