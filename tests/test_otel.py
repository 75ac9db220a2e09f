"""OpenTelemetry GenAI spans (OTLP/JSON): one row per span, attributes pivoted by key."""

import json

import pytest
from conftest import only_call, rows

from workbench.ingest.adapters.otel import OTEL_GENAI

T0 = 1731000000123456789  # 2024-11-07T17:20:00.123456789Z in Unix nanoseconds


def kv(key, value):
    """One OTLP attribute; ints become decimal strings as the OTLP/JSON encoding writes them."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def span(span_id, name, attrs, start=T0, ms=1000, status=None, parent=None, raw_attrs=()):
    s = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": span_id, "name": name, "kind": 3,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + ms * 1_000_000),
         "attributes": [kv(k, v) for k, v in attrs.items()] + list(raw_attrs), "status": status or {}}
    if parent:
        s["parentSpanId"] = parent
    return s


def request(*spans, resource=None):
    res = {"service.name": "support-bot", "deployment.environment.name": "prod", **(resource or {})}
    return {"resourceSpans": [{"resource": {"attributes": [kv(k, v) for k, v in res.items()]},
                               "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai", "version": "0.1"},
                                               "spans": list(spans)}]}]}


CHAT_NEW = {  # current attribute names
    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4", "gen_ai.response.model": "claude-sonnet-4-20250514",
    "gen_ai.usage.input_tokens": 5000, "gen_ai.usage.output_tokens": 800,
    "gen_ai.usage.cache_read.input_tokens": 3000, "gen_ai.usage.cache_creation.input_tokens": 1000,
    "gen_ai.usage.reasoning.output_tokens": 500,
    "gen_ai.response.finish_reasons": ["end_turn"], "gen_ai.response.time_to_first_chunk": 0.4,
    "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 1024,
    "gen_ai.conversation.id": "conv-1", "user.id": "u-42", "app.feature": "triage", "app.prompt_version": "v7",
}


def test_jsonl_two_requests_both_spellings_and_a_tool_span(con, write_jsonl, ingest):
    old = {  # pre-1.37 names; token counts as JSON numbers, which receivers accept too
        "gen_ai.system": "aws.bedrock", "gen_ai.request.model": "anthropic.claude-3-haiku-20240307-v1:0"}
    old_span = span("b2", "chat anthropic.claude-3-haiku", old, start=T0 + 5_000_000_000, ms=750,
                    raw_attrs=[{"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": 1200}},
                               {"key": "gen_ai.usage.completion_tokens", "value": {"intValue": 300}}])
    tool = span("a2", "execute_tool get_weather", {"gen_ai.operation.name": "execute_tool"}, parent="a1")
    path = write_jsonl([request(span("a1", "chat claude-sonnet-4", CHAT_NEW), tool),
                        request(old_span, resource={"service.name": "billing"})])
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("otel_genai", 3, 2, 1)
    assert r.reasons == {"not an LLM call": 1}
    new, old_c = rows(con, "SELECT * FROM calls ORDER BY call_id")
    assert new["call_id"] == "a1" and new["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert (new["input_tokens"], new["cache_read_tokens"], new["cache_write_tokens"]) == (5000, 3000, 1000)
    assert (new["output_tokens"], new["reasoning_tokens"]) == (800, 500)
    assert (new["provider"], new["model"], new["status"], new["finish_reason"]) == (
        "anthropic", "claude-sonnet-4-20250514", "ok", "end_turn")
    assert new["ts"].isoformat() == "2024-11-07T17:20:00.123456+00:00"
    assert new["latency_ms"] == 1000.0 and new["ttft_ms"] == pytest.approx(400.0)
    assert (new["session_id"], new["user_id"], new["feature"], new["prompt_version"], new["environment"]) == (
        "conv-1", "u-42", "triage", "v7", "prod")
    attrs = json.loads(new["attributes"])
    assert attrs["request"] == {"temperature": 0.2, "max_tokens": 1024}
    assert attrs["finish_reasons"] == ["end_turn"] and attrs["service_name"] == "support-bot"
    assert attrs["span_kind"] == 3 and attrs["scope"] == "opentelemetry.instrumentation.openai"
    # Old spelling: gen_ai.system, prompt/completion tokens, request model only; feature falls back to service.name.
    assert (old_c["provider"], old_c["model"]) == ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0")
    assert (old_c["input_tokens"], old_c["cache_read_tokens"], old_c["output_tokens"]) == (1200, 0, 300)
    assert (old_c["latency_ms"], old_c["feature"], old_c["session_id"]) == (750.0, "billing", None)
    (line, raw), = con.execute("SELECT line, raw FROM quarantine").fetchall()
    assert line == 1 and json.loads(raw)["spanId"] == "a2"  # the span's own JSON, the request's line


def test_pretty_printed_single_document_is_sniffed(con, tmp_path, ingest):
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
             "gen_ai.usage.input_tokens": 2048, "gen_ai.usage.output_tokens": 64,
             "gen_ai.usage.cache_read.input_tokens": 1024, "session.id": "s-9", "enduser.id": "e-1"}
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(request(span("c1", "chat gpt-4o", attrs),
                                       resource={"deployment.environment.name": "", "deployment.environment": "staging",
                                                 "feature": "search"}), indent=2))
    r = ingest(path)
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("otel_genai", 1, 0)
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["output_tokens"]) == (2048, 1024, 0, 64)
    assert (c["model"], c["provider"], c["session_id"], c["user_id"]) == ("gpt-4o", "openai", "s-9", "e-1")
    assert (c["environment"], c["feature"]) == ("staging", "search")  # resource attributes


def test_error_span_is_kept_as_an_error_and_agent_spans_are_not_calls(con, write_jsonl, ingest):
    err = span("e1", "chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "azure.ai.openai",
                                     "gen_ai.request.model": "gpt-4o", "error.type": "openai.RateLimitError"},
               status={"code": 2, "message": "Error code: 429"})
    # An agent span sums its children's usage: counting it would count the tokens twice.
    agent = span("g1", "invoke_agent planner", {"gen_ai.operation.name": "invoke_agent",
                                                "gen_ai.usage.input_tokens": 9000, "gen_ai.usage.output_tokens": 900})
    embed = span("m1", "embeddings text-embedding-3-small",
                 {"gen_ai.operation.name": "embeddings", "gen_ai.usage.input_tokens": 12})
    http = span("h1", "POST /v1/chat/completions", {"http.request.method": "POST"})
    r = ingest(write_jsonl([request(err, agent, embed, http)]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (4, 1, 3)
    c = only_call(con)
    assert (c["status"], c["error_type"], c["provider"], c["input_tokens"]) == ("error", "rate_limit", "azure", 0)
    assert json.loads(c["attributes"])["status_message"] == "Error code: 429"
    reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine ORDER BY reason").fetchall()]
    assert reasons == ["not an LLM call: span POST /v1/chat/completions",
                       "not an LLM call: span embeddings text-embedding-3-small",
                       "not an LLM call: span invoke_agent planner"]


def test_call_without_tokens_and_empty_request_are_quarantined(con, write_jsonl, ingest):
    no_tokens = span("n1", "chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"})
    r = ingest(write_jsonl([request(no_tokens), {"resourceSpans": []}]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (2, 0, 2)
    assert set(r.reasons) == {"missing token counts (a successful call needs input and output tokens)",
                              "no spans in the OTLP export request"}


def test_usage_without_operation_name_is_a_call_and_reingest_dedupes(con, write_jsonl, ingest):
    legacy = span("l1", "openai.chat", {"gen_ai.system": "gcp.vertex_ai", "gen_ai.response.model": "gemini-2.5-pro",
                                        "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 20})
    path = write_jsonl([request(legacy)])
    assert ingest(path).rows_accepted == 1
    assert only_call(con)["provider"] == "vertex_ai"
    again = ingest(path)
    assert (again.rows_accepted, again.rows_duplicate) == (0, 1)


@pytest.mark.parametrize("given,expected", [
    ("aws.bedrock", "bedrock"), ("azure.ai.openai", "azure"), ("az.ai.inference", "azure_ai"),
    ("gcp.gemini", "gemini"), ("mistral_ai", "mistral"), ("x_ai", "xai"), ("OpenAI", "openai"),
])
def test_provider_names_are_normalised(con, write_jsonl, ingest, given, expected):
    s = span("p1", "chat m", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": given,
                              "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 1})
    ingest(write_jsonl([request(s)]))
    assert only_call(con)["provider"] == expected


def test_sniff_is_specific():
    assert OTEL_GENAI.sniff(request())
    assert not OTEL_GENAI.sniff({"id": "chatcmpl-1", "object": "chat.completion"})
    assert not OTEL_GENAI.sniff({"request_id": "r", "request_created_at": "2025-01-01"})


# --- producers' own attribute names (the alias table, otel_aliases.yaml) ---------------------------

def test_alias_table_is_data_and_becomes_the_sql():
    from workbench.ingest.adapters import otel

    assert otel.ALIASES_FILE.name == "otel_aliases.yaml" and otel.ALIASES_FILE.is_file()
    keys = [e if isinstance(e, str) else e["key"]
            for section in ("columns", "context") for entries in otel.ALIASES[section].values() for e in entries]
    assert "gen_ai.usage.cache_read_input_tokens" in keys and "ai.usage.inputTokenDetails.cacheReadTokens" in keys
    for key in keys:  # every alias is read by the SELECT
        assert f'$."{key}"' in otel.SELECT, key
    for rule in otel.ALIASES["span_kinds"]:
        assert f'$."{rule["key"]}"' in otel.SELECT


def test_openllmetry_old_names_and_a_failed_call_without_operation_name(con, write_jsonl, ingest):
    ok = span("t1", "openai.chat", {"llm.request.type": "chat", "gen_ai.system": "openai",
                                    "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                                    "gen_ai.response.id": "chatcmpl-T1", "gen_ai.usage.prompt_tokens": 1149,
                                    "gen_ai.usage.completion_tokens": 353, "gen_ai.usage.cache_read_input_tokens": 1024,
                                    "llm.usage.total_tokens": 1502})
    # 0.4x writes no gen_ai.operation.name and no usage on a 404: still an LLM call, with an error
    failed = span("t2", "openai.chat", {"llm.request.type": "chat", "gen_ai.system": "openai",
                                        "gen_ai.request.model": "nope", "error.type": "NotFoundError"},
                  status={"code": 2, "message": "Error code: 404 - model_not_found"})
    embed = span("t3", "openai.embeddings", {"llm.request.type": "embedding", "gen_ai.system": "openai",
                                             "gen_ai.request.model": "text-embedding-3-small",
                                             "gen_ai.usage.prompt_tokens": 8})
    workflow = span("t4", "support.workflow", {"traceloop.span.kind": "workflow", "gen_ai.usage.prompt_tokens": 1149})
    r = ingest(write_jsonl([request(ok, failed, embed, workflow)]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (4, 2, 2)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    c = got["chatcmpl-T1"]  # the response id is the call's id
    assert (c["response_id"], c["input_tokens"], c["cache_read_tokens"], c["output_tokens"]) == (
        "chatcmpl-T1", 1149, 1024, 353)
    e = got["t2"]  # no response id: the span id
    assert (e["status"], e["error_type"], e["model"], e["response_id"]) == ("error", "not_found", "nope", None)


def test_openllmetry_new_reasoning_and_chunk_event_ttft(con, write_jsonl, ingest):
    s = span("n1", "openai.chat", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                                   "gen_ai.response.model": "gpt-5-nano-2025-08-07", "gen_ai.usage.input_tokens": 11,
                                   "gen_ai.usage.output_tokens": 228, "gen_ai.usage.cache_read.input_tokens": 0,
                                   "gen_ai.usage.reasoning_tokens": 192}, status={"code": 1})
    s["events"] = [{"name": "gen_ai.content.completion.chunk", "timeUnixNano": str(T0 + 90_000_000)},
                   {"name": "gen_ai.content.completion.chunk", "timeUnixNano": str(T0 + 87_147_400)}]
    ingest(write_jsonl([request(s)]))
    c = only_call(con)
    assert (c["input_tokens"], c["output_tokens"], c["reasoning_tokens"], c["status"]) == (11, 228, 192, "ok")
    assert c["ttft_ms"] == pytest.approx(87.1474)  # the first chunk event - span start


def test_pydantic_ai_details_ttft_seconds_cost_and_agent_span(con, write_jsonl, ingest):
    chat = span("p1", "chat gpt-4", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.conversation.id": "conv-2",
        "gen_ai.request.model": "gpt-4", "gen_ai.response.model": "gpt-4-0613", "gen_ai.response.id": "chatcmpl-P1",
        "gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.details.cache_read_tokens": 1500, "gen_ai.usage.details.cache_write_tokens": 200,
        "gen_ai.usage.details.reasoning_tokens": 120, "gen_ai.client.operation.time_to_first_chunk": 0.1005,
        "operation.cost": 0.00066}, parent="a0")
    agent = span("a0", "invoke_agent fixture_agent", {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.aggregated_usage.input_tokens": 2000,
        "gen_ai.aggregated_usage.output_tokens": 300})
    r = ingest(write_jsonl([request(chat), request(agent)]))
    assert (r.rows_accepted, r.reasons) == (1, {"not an LLM call": 1})
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (2000, 1500, 200)
    assert (c["output_tokens"], c["reasoning_tokens"], c["session_id"]) == (300, 120, "conv-2")
    assert c["ttft_ms"] == pytest.approx(100.5) and c["logged_cost_usd"] == pytest.approx(0.00066)


def test_vercel_ai_sdk_outer_span_is_not_a_second_call(con, write_jsonl, ingest):
    def num(key, value):  # the JS OTLP serializer writes intValue as a JSON number
        return {"key": key, "value": {"intValue": value} if isinstance(value, int) else {"doubleValue": value}}

    usage = [num("ai.usage.inputTokens", 1149), num("ai.usage.inputTokenDetails.cacheReadTokens", 1024),
             num("ai.usage.outputTokens", 228), num("ai.usage.outputTokenDetails.reasoningTokens", 192)]
    meta = {"ai.telemetry.metadata.sessionId": "sess-1", "ai.telemetry.metadata.userId": "user-42",
            "ai.telemetry.metadata.feature": "summaries", "ai.model.provider": "openai.chat", "ai.model.id": "gpt-5-nano"}
    inner = span("v1", "ai.streamText.doStream", {
        **meta, "ai.operationId": "ai.streamText.doStream", "gen_ai.system": "openai.chat",
        "ai.response.id": "chatcmpl-V1", "ai.response.model": "gpt-5-nano-2025-08-07"},
        raw_attrs=[*usage, num("ai.response.msToFirstChunk", 103.011383)], parent="v0")
    outer = span("v0", "ai.streamText", {**meta, "ai.operationId": "ai.streamText"}, raw_attrs=usage)
    failed = span("v2", "ai.generateText.doGenerate", {**meta, "ai.operationId": "ai.generateText.doGenerate",
                                                       "ai.model.id": "nope"},
                  status={"code": 2, "message": "The model `nope` does not exist"})
    failed["events"] = [{"name": "exception", "timeUnixNano": str(T0), "attributes": [
        kv("exception.type", "AI_APICallError"), kv("exception.message", "The model `nope` does not exist")]}]
    r = ingest(write_jsonl([request(inner, outer, failed)]))
    assert (r.rows_read, r.rows_accepted, r.reasons) == (3, 2, {"not an LLM call": 1})
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    c = got["chatcmpl-V1"]
    assert (c["provider"], c["model"], c["input_tokens"], c["cache_read_tokens"]) == (
        "openai", "gpt-5-nano-2025-08-07", 1149, 1024)
    assert (c["output_tokens"], c["reasoning_tokens"], c["ttft_ms"]) == (228, 192, pytest.approx(103.011383))
    assert (c["session_id"], c["user_id"], c["feature"]) == ("sess-1", "user-42", "summaries")
    assert json.loads(c["attributes"])["metadata"] == {"sessionId": "sess-1", "userId": "user-42", "feature": "summaries"}
    e = got["v2"]
    assert (e["status"], e["error_type"], e["model"], e["provider"]) == ("error", "not_found", "nope", "openai")
    assert json.loads(e["attributes"])["exception_type"] == "AI_APICallError"


def test_two_instrumentation_layers_logging_one_response_count_once(con, write_jsonl, ingest):
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o",
             "gen_ai.response.id": "chatcmpl-SAME", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5}
    r = ingest(write_jsonl([request(span("x1", "chat gpt-4o", attrs), span("x2", "openai.chat", attrs, parent="x1"))]))
    assert (r.rows_read, r.rows_accepted, r.rows_duplicate) == (2, 1, 1)
