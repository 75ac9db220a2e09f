"""Helicone request exports: JSONL, JSON array / API page, CSV; the prompt_tokens cache rule."""

import csv
import json

import pytest
from conftest import only_call, rows

from workbench.errors import WorkbenchError
from workbench.ingest.adapters.helicone import HELICONE


def req(id="req-1", prompt=200, completion=150, read=None, write=None, total=None, **extra):
    rec = {"request_id": id, "request_created_at": "2025-03-01T10:00:00.250Z",
           "request_properties": {"Helicone-Session-Id": "sess-1", "Helicone-Property-Feature": "triage",
                                  "environment": "prod"},
           "request_user_id": "u1", "request_model": "claude-sonnet-4", "response_model": "claude-sonnet-4-20250514",
           "model": "claude-sonnet-4-20250514", "provider": "ANTHROPIC", "response_status": 200,
           "delay_ms": 2300, "time_to_first_token": 410, "prompt_tokens": prompt, "completion_tokens": completion,
           "prompt_cache_read_tokens": read, "prompt_cache_write_tokens": write, "total_tokens": total,
           "costUSD": 0.0123, "prompt_id": "triage-prompt"}
    rec.update(extra)
    return rec


def test_prompt_tokens_exclusive_when_the_total_says_so(con, write_jsonl, ingest):
    # 200 + 3000 + 500 + 150 == 3850: prompt_tokens excludes the cache (Anthropic-style).
    r = ingest(write_jsonl([req(prompt=200, read=3000, write=500, completion=150, total=3850)]))
    assert (r.format, r.rows_accepted) == ("helicone", 1)
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (3700, 3000, 500)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (150, 0)
    assert (c["provider"], c["model"], c["status"]) == ("anthropic", "claude-sonnet-4-20250514", "ok")
    assert c["ts"].isoformat() == "2025-03-01T10:00:00.250000+00:00"
    assert (c["latency_ms"], c["ttft_ms"], c["logged_cost_usd"]) == (2300.0, 410.0, 0.0123)
    assert (c["session_id"], c["user_id"], c["feature"], c["environment"], c["prompt_version"]) == (
        "sess-1", "u1", "triage", "prod", "triage-prompt")
    attrs = json.loads(c["attributes"])
    assert attrs["prompt_tokens_convention"] == "exclusive (total_tokens)"
    assert attrs["properties"] == {"helicone-session-id": "sess-1", "feature": "triage", "environment": "prod"}


def test_prompt_tokens_inclusive_when_the_total_says_so(con, write_jsonl, ingest):
    # 5000 + 100 == 5100: prompt_tokens already counts the 4096 cached tokens (OpenAI-style).
    ingest(write_jsonl([req(prompt=5000, read=4096, write=0, completion=100, total=5100, provider="OPENAI",
                            response_model="gpt-4o-2024-08-06")]))
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["output_tokens"]) == (5000, 4096, 0, 100)
    assert json.loads(c["attributes"])["prompt_tokens_convention"] == "inclusive (total_tokens)"


def test_without_a_total_cache_larger_than_prompt_means_exclusive(con, write_jsonl, ingest):
    ingest(write_jsonl([req(prompt=50, read=2000, completion=10, total=None)]))
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"]) == (2050, 2000)


def test_ambiguous_rows_default_to_exclusive_unless_set(con, write_jsonl, ingest):
    path = write_jsonl([req(prompt=5000, read=1000, completion=10, total=None)])
    ingest(path)
    c = only_call(con)
    assert c["input_tokens"] == 6000
    assert json.loads(c["attributes"])["prompt_tokens_convention"] == "exclusive (default)"
    con.execute("DELETE FROM calls")
    ingest(path, set={"prompt_tokens": "inclusive"})
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"]) == (5000, 1000)
    assert json.loads(c["attributes"])["prompt_tokens_convention"] == "inclusive (--set prompt_tokens)"
    with pytest.raises(WorkbenchError, match="inclusive"):
        ingest(path, set={"prompt_tokens": "maybe"})


def test_no_cache_columns_takes_prompt_tokens_as_is(con, write_jsonl, ingest):
    old = req(prompt=700, completion=70, total=770)
    for k in ("prompt_cache_read_tokens", "prompt_cache_write_tokens", "costUSD"):
        del old[k]
    ingest(write_jsonl([old]))
    c = only_call(con)
    assert (c["input_tokens"], c["cache_read_tokens"], c["output_tokens"], c["logged_cost_usd"]) == (700, 0, 70, None)


def test_http_errors_and_missing_tokens(con, write_jsonl, ingest):
    limited = req(id="req-429", prompt=None, completion=None, response_status=429,
                  response_body={"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    server = req(id="req-500", prompt=None, completion=None, response_status=500, response_body={})
    no_tokens = req(id="req-ok", prompt=None, completion=None)
    r = ingest(write_jsonl([limited, server, no_tokens]))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 2, 1)
    assert r.reasons == {"missing token counts (a successful call needs input and output tokens)": 1}
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    assert (got["req-429"]["status"], got["req-429"]["error_type"]) == ("error", "rate_limit")
    assert (got["req-500"]["status"], got["req-500"]["error_type"]) == ("error", "server")


def test_json_array_and_api_page(con, tmp_path, ingest):
    arr = tmp_path / "export.json"
    arr.write_text(json.dumps([req(id="a1", prompt=10, completion=5), req(id="a2", prompt=20, completion=5)], indent=2))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"data": [req(id="p1", prompt=30, completion=5)], "error": None}, indent=2))
    assert ingest(arr).rows_accepted == 2
    r = ingest(page)
    assert (r.format, r.rows_accepted) == ("helicone", 1)
    assert [c for (c,) in con.execute("SELECT input_tokens FROM calls ORDER BY call_id").fetchall()] == [10, 20, 30]


def test_csv_export_with_properties_as_json_text(con, tmp_path, ingest):
    path = tmp_path / "helicone.csv"
    recs = [req(id="c1", prompt=100, read=900, write=0, completion=20, total=1020, provider="AWS",
                response_model="", model="anthropic.claude-3-5-sonnet-20241022-v2:0",
                request_properties={"Helicone-Session-Id": "s-csv", "App.Feature": "search"},
                properties={"Helicone-Property-Prompt-Version": "v2"}),
            req(id="c2", prompt=40, completion=4, response_status=504, provider="GOOGLE",
                target_url="https://us-central1-aiplatform.googleapis.com/v1/x")]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(recs[0]) + ["properties", "target_url"])
        w.writeheader()
        for rec in recs:
            w.writerow({k: json.dumps(v) if isinstance(v, dict) else ("" if v is None else v) for k, v in rec.items()})
    r = ingest(path)  # sniffed from the CSV header
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("helicone", 2, 0)
    c1, c2 = rows(con, "SELECT * FROM calls ORDER BY call_id")
    assert (c1["input_tokens"], c1["cache_read_tokens"], c1["output_tokens"]) == (1000, 900, 20)
    assert (c1["provider"], c1["model"]) == ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0")
    assert (c1["session_id"], c1["feature"], c1["prompt_version"]) == ("s-csv", "search", "v2")
    assert (c2["provider"], c2["status"], c2["error_type"]) == ("vertex_ai", "error", "timeout")


def test_sniff_is_specific():
    assert HELICONE.sniff(req())
    assert not HELICONE.sniff({"request_id": "r1", "startTime": "2025-01-01", "spend": 0.1})  # LiteLLM SpendLogs
    assert not HELICONE.sniff({"id": "chatcmpl-1", "object": "chat.completion"})


# What Helicone's own export tool (`Helicone/helicone` examples/export/typescript/index.ts, `--format csv`) wrote
# for two synthetic API rows served to it from 127.0.0.1 (the rows are test data, the bytes are the tool's): its
# header (no request_id; `latency` is never filled), every value quoted, JSON values with their quotes doubled twice.
EXPORT_CSV = 'response_id,response_created_at,response_status,request_created_at,request_body,request_properties,request_user_id,model,prompt_tokens,completion_tokens,latency,cost\n"8d2f3c1e-0b7a-4c55-9a61-2f0e7c9b1a01","2025-03-01T10:00:02.550Z","200","2025-03-01T10:00:00.250Z","{""""model"""":""""gpt-4o-mini"""",""""messages"""":[{""""role"""":""""user"""",""""content"""":""""Say \\""""hi\\""""""""}]}","{""""Helicone-Session-Id"""":""""sess-1"""",""""Helicone-Property-Feature"""":""""triage"""",""""empty"""":""""""""}","u1","gpt-4o-mini-2024-07-18","1200","50",,"0.000211"\n"8d2f3c1e-0b7a-4c55-9a61-2f0e7c9b1a02","2025-03-01T10:01:00.900Z","429","2025-03-01T10:01:00.100Z","{""""model"""":""""gpt-4o-mini""""}","{}",,"gpt-4o-mini",,,,\n'


def test_csv_written_by_the_export_tool(con, tmp_path, ingest):
    path = tmp_path / "output.csv"
    path.write_text(EXPORT_CSV)
    r = ingest(path)  # sniffed from the export tool's header
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("helicone", 2, 0)
    ok, err = rows(con, "SELECT * FROM calls ORDER BY call_id")
    assert ok["call_id"] == "8d2f3c1e-0b7a-4c55-9a61-2f0e7c9b1a01"  # Helicone's response id: the CSV has no request_id
    assert (ok["model"], ok["input_tokens"], ok["output_tokens"], ok["status"]) == ("gpt-4o-mini-2024-07-18", 1200, 50, "ok")
    assert ok["ts"].isoformat() == "2025-03-01T10:00:00.250000+00:00"
    assert ok["latency_ms"] == 2300.0  # response_created_at - request_created_at
    assert (ok["session_id"], ok["feature"], ok["user_id"], ok["logged_cost_usd"]) == ("sess-1", "triage", "u1", 0.000211)
    assert json.loads(ok["attributes"])["latency_from"] == "response_created_at - request_created_at"
    assert (err["status"], err["error_type"], err["input_tokens"]) == ("error", "rate_limit", 0)
    header = EXPORT_CSV.splitlines()[0].split(",")
    assert HELICONE.sniff(dict.fromkeys(header, "x"))
