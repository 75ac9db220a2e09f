"""OpenInference spans (Arize Phoenix, LlamaIndex, OpenAI Agents, google-genai instrumentations) as OTLP/JSON.

They share the OTLP framing with the GenAI-semconv spans, so the `otel_genai` adapter reads them
(sniffed without --format), span by span: `openinference.span.kind = LLM` is a call, every other
kind is quarantined as not an LLM call.
"""

import json

import pytest
from conftest import only_call, rows
from test_otel import T0, kv, request, span

from workbench.ingest.adapters.otel import OTEL_GENAI


def oi(span_id, name, kind, attrs=None, **kw):
    s = span(span_id, name, {"openinference.span.kind": kind, **(attrs or {})}, **kw)
    s["kind"] = 1  # OpenInference spans are INTERNAL
    return s


LLM = {
    "llm.provider": "openai", "llm.system": "openai", "llm.model_name": "gpt-4o-mini-2024-07-18",
    "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0}',
    "llm.token_count.prompt": 1149, "llm.token_count.completion": 353, "llm.token_count.total": 1502,
    "llm.token_count.prompt_details.cache_read": 1024, "llm.token_count.prompt_details.cache_write": 100,
    "llm.token_count.completion_details.reasoning": 64, "llm.finish_reason": "stop",
    "session.id": "oi-sess-1", "user.id": "oi-user-7", "input.value": "{...}", "output.value": "{...}",
}


def test_llm_span_is_a_call_with_every_bucket_and_is_sniffed(con, write_jsonl, ingest):
    r = ingest(write_jsonl([request(oi("o1", "ChatCompletion", "LLM", LLM, status={"code": 1}))]))
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("otel_genai", 1, 0)
    c = only_call(con)
    assert (c["call_id"], c["provider"], c["model"], c["status"]) == ("o1", "openai", "gpt-4o-mini-2024-07-18", "ok")
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (1149, 1024, 100)  # prompt includes cache
    assert (c["output_tokens"], c["reasoning_tokens"], c["finish_reason"]) == (353, 64, "stop")
    assert (c["session_id"], c["user_id"], c["latency_ms"]) == ("oi-sess-1", "oi-user-7", 1000.0)
    assert json.loads(c["attributes"])["operation"] == "LLM"


def test_chain_agent_and_tool_spans_are_quarantined(con, write_jsonl, ingest):
    spans = [oi("a1", "Agent workflow", "AGENT"), oi("c1", "turn", "CHAIN", parent="a1"),
             oi("t1", "get_weather", "TOOL", parent="c1"), oi("e1", "embed", "EMBEDDING", {"llm.token_count.prompt": 9}),
             oi("l1", "response", "LLM", {**LLM, "llm.provider": ""}, parent="c1")]
    r = ingest(write_jsonl([request(*spans)]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (5, 1, 4)
    assert only_call(con)["provider"] == "openai"  # empty llm.provider: llm.system
    reasons = sorted(x for (x,) in con.execute("SELECT reason FROM quarantine").fetchall())
    assert reasons == ["not an LLM call: span Agent workflow", "not an LLM call: span embed",
                       "not an LLM call: span get_weather", "not an LLM call: span turn"]


def test_failed_llm_span_is_an_error_call(con, write_jsonl, ingest):
    s = oi("f1", "ChatCompletion", "LLM", {"llm.provider": "openai",
                                           "llm.invocation_parameters": '{"model": "this-model-does-not-exist"}'},
           status={"code": 2, "message": "NotFoundError: Error code: 404 - The model does not exist"})
    s["events"] = [{"name": "exception", "timeUnixNano": str(T0 + 5), "attributes": [
        kv("exception.type", "openai.NotFoundError"), kv("exception.message", "Error code: 404")]}]
    r = ingest(write_jsonl([request(s)]))
    assert r.rows_accepted == 1
    c = only_call(con)
    assert (c["status"], c["error_type"], c["model"], c["input_tokens"]) == ("error", "not_found", "this-model-does-not-exist", 0)
    assert json.loads(c["attributes"])["exception_type"] == "openai.NotFoundError"


def test_agents_response_id_ttft_event_and_mixed_request(con, write_jsonl, ingest):
    params = '{"id": "resp_0517", "model": "gpt-5.4-2026-03-05", "service_tier": "default"}'
    agents = oi("r1", "response", "LLM", {"llm.system": "openai", "llm.model_name": "gpt-5.4-2026-03-05",
                                          "llm.invocation_parameters": params, "llm.token_count.prompt": 44,
                                          "llm.token_count.completion": 288,
                                          "llm.token_count.completion_details.reasoning": 9})
    stream = oi("s1", "ChatCompletion", "LLM", {**LLM, "llm.token_count.prompt_details.cache_read": 0})
    stream["events"] = [{"name": "First Token Stream Event", "timeUnixNano": str(T0 + 88_888_107)}]
    semconv = span("g1", "chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                                        "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3,
                                        "gen_ai.usage.output_tokens": 4})
    r = ingest(write_jsonl([request(agents, stream, semconv)]))
    assert (r.rows_read, r.rows_accepted) == (3, 3)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert set(got) == {"resp_0517", "s1", "g1"}
    a = got["resp_0517"]  # OpenAI Agents dumps the response object into llm.invocation_parameters
    assert (a["response_id"], a["model"], a["output_tokens"], a["reasoning_tokens"]) == (
        "resp_0517", "gpt-5.4-2026-03-05", 288, 9)
    assert got["s1"]["ttft_ms"] == pytest.approx(88.888107) and got["s1"]["response_id"] is None
    assert got["g1"]["input_tokens"] == 3


def test_sniffed_by_the_otlp_framing():
    assert OTEL_GENAI.sniff(request(oi("o1", "ChatCompletion", "LLM", LLM)))
