"""Generic tables (CSV, JSONL, Parquet) with canonical names, aliases or --map."""

import json

import pytest
from conftest import only_call, rows

from workbench.errors import WorkbenchError

CSV = (
    "request_id,created_at,provider,model,prompt_tokens,cached_tokens,cache_write_tokens,completion_tokens,"
    "reasoning_tokens,latency_ms,ttft_ms,status,error,user_id,feature,cost_usd,team\n"
    "r1,2024-11-07T17:20:00Z,openai,gpt-4o,1200,1024,0,300,120,850.5,200,ok,,u1,search,0.0042,blue\n"
    "r2,2024-11-07 17:21:00,anthropic,claude-sonnet-4,5000,1000,2000,10,,1200,,success,,u2,triage,,red\n"
    "r3,1731000120,openai,gpt-4o,,,,,,30000,,429,Rate limit reached,u1,search,,blue\n"
    "r4,1731000180000,openai,gpt-4o,,,,,,,,ok,,u3,search,,blue\n"
)


def test_csv_aliases_cache_reasoning_error_and_quarantine(con, tmp_path, ingest):
    path = tmp_path / "calls.csv"
    path.write_text(CSV)
    r = ingest(path)
    assert (r.format, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("csv", 4, 3, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    a, b, e = got["r1"], got["r2"], got["r3"]
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_write_tokens"]) == (1200, 1024, 0)
    assert (a["output_tokens"], a["reasoning_tokens"]) == (300, 120)
    assert (a["latency_ms"], a["ttft_ms"], a["logged_cost_usd"]) == (850.5, 200.0, 0.0042)
    assert (a["provider"], a["model"], a["user_id"], a["feature"], a["status"]) == ("openai", "gpt-4o", "u1", "search", "ok")
    assert a["ts"].isoformat() == "2024-11-07T17:20:00+00:00" and a["source_format"] == "generic"
    assert json.loads(a["attributes"]) == {"team": "blue"}
    assert (b["input_tokens"], b["cache_read_tokens"], b["cache_write_tokens"], b["output_tokens"]) == (5000, 1000, 2000, 10)
    assert b["ts"].isoformat() == "2024-11-07T17:21:00+00:00" and b["status"] == "ok"
    assert (e["status"], e["error_type"], e["input_tokens"]) == ("error", "rate_limit", 0)
    assert e["ts"].isoformat() == "2024-11-07T17:22:00+00:00"  # epoch seconds
    (q,) = rows(con, "SELECT line, reason FROM quarantine")
    assert q["line"] == 5 and q["reason"].startswith("missing token counts")


def test_jsonl_gzip_epoch_ms_and_seconds_latency(con, write_jsonl, ingest):
    rec = {"id": "c1", "timestamp": 1731000000123, "model": "gpt-4o-mini", "input_tokens": 50,
           "output_tokens": 7, "latency_s": 1.25, "status": 200, "messages": [{"role": "user", "content": "hi"}],
           "tags": {"team": "x"}}
    r = ingest(write_jsonl([rec], "calls.jsonl.gz"))
    assert (r.format, r.rows_accepted) == ("jsonl", 1)
    c = only_call(con)
    assert c["ts"].isoformat() == "2024-11-07T17:20:00.123000+00:00"
    assert (c["input_tokens"], c["output_tokens"], c["latency_ms"], c["status"]) == (50, 7, 1250.0, "ok")
    assert json.loads(c["attributes"]) == {"tags": {"team": "x"}}  # messages dropped


def test_mapping_overrides_names_and_server_error(con, tmp_path, ingest):
    path = tmp_path / "export.csv"
    path.write_text(
        "when,engine_used,in tok,out tok,secs,code,model\n"
        "2024-11-07 17:20:00.1234567,gpt-4.1,900,80,2.5,200,ignored\n"
        "2024-11-07 17:20:01,gpt-4.1,10,0,0.1,503,ignored\n"
    )
    mapping = {"ts": "when", "model": "engine_used", "input_tokens": "in tok", "output_tokens": "out tok",
               "latency_s": "secs", "status": "code"}
    r = ingest(path, "csv", map=mapping)
    assert (r.rows_accepted, r.rows_quarantined) == (2, 0)
    ok, err = rows(con, "SELECT * FROM calls ORDER BY ts")
    assert ok["ts"].isoformat() == "2024-11-07T17:20:00.123456+00:00"
    assert (ok["model"], ok["input_tokens"], ok["output_tokens"], ok["latency_ms"]) == ("gpt-4.1", 900, 80, 2500.0)
    assert json.loads(ok["attributes"]) == {"model": "ignored"}
    assert (err["status"], err["error_type"]) == ("error", "server")


def test_mapped_column_missing_names_it_and_lists_columns(tmp_path, ingest):
    path = tmp_path / "calls.csv"
    path.write_text("model,prompt_tokens,completion_tokens\ngpt-4o,1,2\n")
    with pytest.raises(WorkbenchError, match=r"prompt_tok\b.*columns are: model, prompt_tokens, completion_tokens"):
        ingest(path, map={"input_tokens": "prompt_tok"})
    with pytest.raises(WorkbenchError, match="not a canonical column"):
        ingest(path, map={"tokens": "prompt_tokens"})


def test_parquet(con, tmp_path, ingest):
    path = tmp_path / "calls.parquet"
    con.execute(
        f"""COPY (SELECT 'p1' AS call_id, TIMESTAMPTZ '2024-11-07 17:20:00+00' AS ts, 'gpt-4o' AS model,
                  2000 AS input_tokens, 1500 AS cache_read_tokens, 40 AS output_tokens, 'prod' AS environment)
            TO '{path}' (FORMAT parquet)"""
    )
    r = ingest(path)
    assert (r.format, r.rows_accepted) == ("parquet", 1)
    c = only_call(con)
    assert (c["call_id"], c["input_tokens"], c["cache_read_tokens"], c["output_tokens"]) == ("p1", 2000, 1500, 40)
    assert c["ts"].isoformat() == "2024-11-07T17:20:00+00:00" and c["environment"] == "prod"
    assert c["attributes"] is None


def test_identical_rows_without_id_are_kept_and_reingest_dedupes(tmp_path, ingest):
    path = tmp_path / "calls.csv"
    path.write_text("ts,model,input_tokens,output_tokens\n2024-11-07T17:20:00Z,gpt-4o,5,1\n"
                    "2024-11-07T17:20:00Z,gpt-4o,5,1\n")
    assert ingest(path).rows_accepted == 2
    assert ingest(path).rows_duplicate == 2


def test_sniffing_needs_tokens_and_model(tmp_path, ingest):
    path = tmp_path / "other.csv"
    path.write_text("name,value\na,1\n")
    with pytest.raises(WorkbenchError, match="cannot tell the format"):
        ingest(path)
    jl = tmp_path / "ok.jsonl"
    jl.write_text(json.dumps({"model": "m", "prompt_tokens": 3, "completion_tokens": 4}) + "\n")
    assert ingest(jl).format == "jsonl"


def test_mapped_column_present_in_some_records_only(con, write_jsonl, ingest):
    recs = [{"model": "m", "prompt_tokens": 3, "completion_tokens": 4, "ts": "2024-11-07T17:20:00+01:00"},
            {"model": "m", "prompt_tokens": 5, "completion_tokens": 6, "conv": "s9", "ts": "2024-11-07T17:20:00Z"}]
    r = ingest(write_jsonl(recs), map={"session_id": "conv"})
    assert r.rows_accepted == 2
    got = rows(con, "SELECT ts, session_id, input_tokens FROM calls ORDER BY ts")
    assert [(c["ts"].isoformat(), c["session_id"], c["input_tokens"]) for c in got] == [
        ("2024-11-07T16:20:00+00:00", None, 3), ("2024-11-07T17:20:00+00:00", "s9", 5)]
