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
