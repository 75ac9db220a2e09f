"""Derive the expected canonical values for the OTel / OpenInference fixtures.

Our own code, independent of workbench/: it applies the per-producer rules written out in
SOURCES.md to the raw spans.  Usage: python derive_expected.py DIR  (rewrites DIR/expected.json)
The one thing it takes from the repository is the shared list of error classes
(`workbench/ingest/error_classes.py`: the canonical `error_type` is a class, not the exception name).
"""
import datetime as dt
import glob
import json
import os
import re
import sys

import importlib.util

_spec = importlib.util.spec_from_file_location("error_classes", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "workbench", "ingest", "error_classes.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
ERROR_CLASSES = _mod.ERROR_CLASSES

KEYS = ["call_id", "response_id", "ts", "provider", "model", "input_tokens", "cache_read_tokens", "cache_write_tokens",
        "output_tokens", "reasoning_tokens", "latency_ms", "ttft_ms", "status", "error_type",
        "session_id", "trace_id", "user_id", "logged_cost_usd"]


def error_class(code, message):
    """The canonical error class, as `wb_error_class(code, message)` applies ERROR_CLASSES."""
    text = f"{code or ''} {message or ''}".lower()
    for name, _, pattern in ERROR_CLASSES:
        if pattern and re.fullmatch(pattern, text, re.S):
            return name
    return "other"


def val(v):
    if "stringValue" in v: return v["stringValue"]
    if "intValue" in v: return int(v["intValue"])
    if "doubleValue" in v: return float(v["doubleValue"])
    if "boolValue" in v: return v["boolValue"]
    if "arrayValue" in v: return [val(x) for x in v["arrayValue"].get("values", [])]
    return None


def spans(path):
    for line in open(path):
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    s["_a"] = {a["key"]: val(a["value"]) for a in s.get("attributes", [])}
                    yield s


def iso(ns):
    ns = int(ns)
    t = dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % ((ns % 1_000_000_000) // 1000)


def first(a, *keys):
    for k in keys:
        if k in a:
            return a[k]
    return None


def is_llm(fname, s):
    a = s["_a"]
    if fname.startswith("openinference"):
        return a.get("openinference.span.kind") == "LLM"
    if fname.startswith("vercel"):
        return s["name"].endswith((".doGenerate", ".doStream"))
    if fname.startswith("pydantic"):
        return a.get("gen_ai.operation.name") == "chat"
    return True  # openai_v2 / traceloop_*: every span is one SDK call


def event_ttft(s, names):
    for e in s.get("events", []):
        if e["name"] in names:
            return (int(e["timeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6
    return None


def exc_attr(s, key):
    for e in s.get("events", []):
        if e["name"] == "exception":
            for at in e.get("attributes", []):
                if at["key"] == key:
                    return val(at["value"])
    return None


def derive(fname, s):
    a = s["_a"]
    oi = fname.startswith("openinference")
    err = s.get("status", {}).get("code") == 2
    rid = first(a, "gen_ai.response.id", "ai.response.id")
    if rid is None and oi and "llm.invocation_parameters" in a:  # openai-agents dumps the response object there
        rid = json.loads(a["llm.invocation_parameters"]).get("id")
    r = dict.fromkeys(KEYS)
    r["call_id"] = rid if rid else s["spanId"]
    r["response_id"] = rid
    r["ts"] = iso(s["startTimeUnixNano"])
    prov = first(a, "gen_ai.provider.name", "llm.provider", "gen_ai.system", "llm.system")
    r["provider"] = prov.split(".")[0] if prov else None  # Vercel "openai.chat" -> "openai"
    model = first(a, "gen_ai.response.model", "ai.response.model", "llm.model_name", "gen_ai.request.model", "ai.model.id")
    if model is None and oi and "llm.invocation_parameters" in a:
        model = json.loads(a["llm.invocation_parameters"]).get("model")
    r["model"] = model
    if oi:
        r["input_tokens"] = a.get("llm.token_count.prompt")
        r["output_tokens"] = a.get("llm.token_count.completion")
        r["cache_read_tokens"] = a.get("llm.token_count.prompt_details.cache_read")
        r["cache_write_tokens"] = a.get("llm.token_count.prompt_details.cache_write")
        r["reasoning_tokens"] = a.get("llm.token_count.completion_details.reasoning")
        r["session_id"] = a.get("session.id")
        r["user_id"] = a.get("user.id")
        r["ttft_ms"] = event_ttft(s, {"First Token Stream Event"})
    elif fname.startswith("vercel"):
        r["input_tokens"] = first(a, "ai.usage.inputTokens", "gen_ai.usage.input_tokens")
        r["output_tokens"] = first(a, "ai.usage.outputTokens", "gen_ai.usage.output_tokens")
        r["cache_read_tokens"] = first(a, "ai.usage.inputTokenDetails.cacheReadTokens", "ai.usage.cachedInputTokens")
        r["cache_write_tokens"] = a.get("ai.usage.inputTokenDetails.cacheWriteTokens")
        r["reasoning_tokens"] = first(a, "ai.usage.outputTokenDetails.reasoningTokens", "ai.usage.reasoningTokens")
        r["ttft_ms"] = a.get("ai.response.msToFirstChunk")
        r["session_id"] = a.get("ai.telemetry.metadata.sessionId")
        r["user_id"] = a.get("ai.telemetry.metadata.userId")
    else:
        r["input_tokens"] = first(a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
        r["output_tokens"] = first(a, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
        r["cache_read_tokens"] = first(a, "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                                       "gen_ai.usage.details.cache_read_tokens")
        r["cache_write_tokens"] = first(a, "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
                                        "gen_ai.usage.details.cache_write_tokens")
        r["reasoning_tokens"] = first(a, "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
                                      "gen_ai.usage.details.reasoning_tokens")
        t = a.get("gen_ai.client.operation.time_to_first_chunk", a.get("gen_ai.response.time_to_first_chunk"))
        r["ttft_ms"] = t * 1000 if t is not None else event_ttft(
            s, {"gen_ai.content.completion.chunk", "llm.content.completion.chunk"})
        r["session_id"] = a.get("gen_ai.conversation.id")
        r["user_id"] = a.get("user.id")
    r["latency_ms"] = (int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6
    r["status"] = "error" if err else "ok"
    r["error_type"] = error_class(a.get("error.type") or exc_attr(s, "exception.type"),
                                  s.get("status", {}).get("message") or exc_attr(s, "exception.message")) if err else None
    r["logged_cost_usd"] = a.get("operation.cost")
    r["trace_id"] = s["traceId"]
    if r["ttft_ms"] is not None:
        r["ttft_ms"] = round(r["ttft_ms"], 6)
    return r


def main(d):
    out, non = {}, {}
    for p in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
        f = os.path.basename(p)
        out[f] = []
        for s in spans(p):
            if is_llm(f, s):
                out[f].append(derive(f, s))
            else:
                non.setdefault(f, []).append(s["name"])
    json.dump(out, open(os.path.join(d, "expected.json"), "w"), indent=1)
    print(json.dumps(non, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
