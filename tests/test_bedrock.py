"""AWS Bedrock model invocation logs (`bedrock_invocation`)."""

import json

from conftest import only_call, rows

from workbench.ingest.adapters import all_adapters, bedrock

PROFILE = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0"
CALLER = "arn:aws:sts::111122223333:assumed-role/app-role/lambda"


def invocation(request_id="req-1", model_id=PROFILE, input_tokens=100, output_tokens=20, body=None, **extra):
    inp = {"inputContentType": "application/json", "inputBodyJson": {"messages": []}}
    if input_tokens is not None:
        inp["inputTokenCount"] = input_tokens
    out = {"outputContentType": "application/json", "outputBodyJson": body if body is not None else {}}
    if output_tokens is not None:
        out["outputTokenCount"] = output_tokens
    rec = {"timestamp": "2025-08-15T14:39:40Z", "accountId": "111122223333", "identity": {"arn": CALLER},
           "region": "us-east-1", "requestId": request_id, "operation": "InvokeModel", "modelId": model_id,
           "input": inp, "output": out, "schemaType": "ModelInvocationLog", "schemaVersion": "1.0"}
    rec.update(extra)
    return rec


def anthropic_body(id="msg_bdrk_01abc", cache_read=0, cache_write=0, one_hour=None):
    usage = {"input_tokens": 100, "cache_creation_input_tokens": cache_write, "cache_read_input_tokens": cache_read,
             "output_tokens": 20}
    if one_hour is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_write - one_hour,
                                   "ephemeral_1h_input_tokens": one_hour}
    return {"id": id, "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "usage": usage}


def test_invoke_model_log_with_anthropic_body(con, write_jsonl, ingest):
    rec = invocation(body=anthropic_body(cache_read=900, cache_write=300, one_hour=100), inferenceRegion="us-east-2")
    r = ingest(write_jsonl([rec]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("bedrock_invocation", 1, 0)
    c = only_call(con)
    assert (c["call_id"], c["response_id"], c["provider"], c["source_format"]) == (
        "req-1", "msg_bdrk_01abc", "bedrock", "bedrock")
    assert c["model"] == "us.anthropic.claude-sonnet-4-20250514-v1:0"  # the profile ARN's prefix stripped
    assert c["ts"].isoformat() == "2025-08-15T14:39:40+00:00"
    # inputTokenCount is the uncached part: 100 + 900 read + 300 written
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        1300, 900, 300, 100)
    assert (c["output_tokens"], c["status"], c["finish_reason"], c["user_id"]) == (20, "ok", "end_turn", CALLER)
    attrs = json.loads(c["attributes"])
    assert (attrs["response_model"], attrs["inference_region"], attrs["model_id"]) == (
        "claude-sonnet-4-20250514", "us-east-2", PROFILE)


def test_converse_log_cache_fields_latency_and_request_metadata(con, write_jsonl, ingest):
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}, "stopReason": "end_turn",
            "metrics": {"latencyMs": 302}, "usage": {"inputTokens": 4, "outputTokens": 38, "totalTokens": 42}}
    rec = invocation(model_id="amazon.nova-lite-v1:0", input_tokens=4, output_tokens=38, body=body,
                     operation="Converse", requestMetadata={"session_id": "s-9", "user_id": "u-7"})
    rec["input"].update(cacheReadInputTokenCount=50, cacheWriteInputTokenCount=10)
    ingest(write_jsonl([rec]))
    c = only_call(con)
    assert (c["model"], c["latency_ms"], c["response_id"]) == ("amazon.nova-lite-v1:0", 302.0, None)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["output_tokens"]) == (64, 50, 10, 38)
    assert (c["session_id"], c["user_id"]) == ("s-9", "u-7")


def test_guardrail_blocked_input_is_a_content_filter_error_not_missing_tokens(con, write_jsonl, ingest):
    blocked_body = {"type": "message", "role": "assistant",
                    "content": [{"type": "text", "text": "Sorry, please provide a more appropriate answer."}],
                    "amazon-bedrock-trace": {"guardrail": {"actionReason": "Guardrail blocked."}},
                    "amazon-bedrock-guardrailAction": "INTERVENED"}
    blocked = invocation(request_id="req-b", input_tokens=None, output_tokens=None, body=blocked_body)
    r = ingest(write_jsonl([invocation(body=anthropic_body()), blocked]))
    assert (r.rows_accepted, r.rows_quarantined) == (2, 0)
    c = {x["call_id"]: x for x in rows(con, "SELECT * FROM calls")}["req-b"]
    assert (c["status"], c["error_type"], c["finish_reason"]) == ("error", "content_filter", "guardrail_intervened")
    assert (c["input_tokens"], c["output_tokens"], c["response_id"]) == (0, 0, None)
    assert json.loads(c["attributes"])["guardrail_reason"] == "Guardrail blocked."


def test_error_codes_are_classified(con, write_jsonl, ingest):
    recs = [invocation(request_id="t", input_tokens=None, output_tokens=None, errorCode="ThrottlingException"),
            invocation(request_id="v", input_tokens=None, output_tokens=None, errorCode="ValidationException",
                       errorMessage="Malformed input request"),
            invocation(request_id="a", input_tokens=None, output_tokens=None, errorCode="AccessDeniedException")]
    r = ingest(write_jsonl(recs))
    assert (r.rows_accepted, r.rows_quarantined) == (3, 0)
    got = {c["call_id"]: (c["status"], c["error_type"]) for c in rows(con, "SELECT * FROM calls")}
    assert got == {"t": ("error", "rate_limit"), "v": ("error", "invalid_request"), "a": ("error", "auth")}


def test_successful_log_without_token_counts_is_quarantined(con, write_jsonl, ingest):
    r = ingest(write_jsonl([invocation(), invocation(request_id="req-2", input_tokens=None, output_tokens=None)]))
    assert (r.rows_accepted, r.rows_quarantined) == (1, 1)
    (reason,) = con.execute("SELECT reason FROM quarantine").fetchone()
    assert reason.startswith("missing token counts")


def test_sniffer_claims_invocation_logs_only():
    rec = invocation()
    assert bedrock.INVOCATION.sniff(rec)
    no_schema = {k: v for k, v in rec.items() if k not in ("schemaType", "schemaVersion")}
    assert bedrock.INVOCATION.sniff(no_schema)
    for other in ({"id": "msg_1", "type": "message", "usage": {}}, {"requestId": "x", "modelId": "m"},
                  {"custom_id": "r", "result": {"type": "succeeded"}}):
        assert not bedrock.INVOCATION.sniff(other)
    for a in all_adapters():
        if a is not bedrock.INVOCATION and a.name not in ("jsonl", "csv", "parquet"):
            assert not a.sniff(rec), a.name
