"""Public traffic traces: Azure LLM inference trace (CSV) and Mooncake (JSONL).

Hand-written files follow the documented columns (log-formats.md section 4); the real traces are
read in place from ../shared/data/traces (never copied) and those tests skip when it is absent.
"""

import json

import pytest
from conftest import TRACES, needs_traces, only_call, rows

from workbench.errors import WorkbenchError

AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens\n"


def write_csv(tmp_path, text, name="trace.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- Azure ---------------------------------------------------------------------------------------

def test_azure_row_with_seven_fractional_digits_is_utc(con, tmp_path, ingest):
    path = write_csv(tmp_path, AZURE_HEADER + "2023-11-16 18:17:03.9799600,4808,10\n")
    r = ingest(path, set={"model": "gpt-4o", "provider": "azure", "feature": "code"})
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("azure_trace", 1, 0)
    c = only_call(con)
    assert c["ts"].isoformat() == "2023-11-16T18:17:03.979960+00:00"
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (4808, 0, 0)
    assert (c["output_tokens"], c["reasoning_tokens"]) == (10, 0)
    assert (c["model"], c["provider"], c["feature"], c["status"]) == ("gpt-4o", "azure", "code", "ok")
    assert c["source_format"] == "azure_trace" and c["call_id"]


def test_azure_needs_a_model(tmp_path, ingest):
    path = write_csv(tmp_path, AZURE_HEADER + "2023-11-16 18:17:03.9799600,4808,10\n")
    with pytest.raises(WorkbenchError, match=r"--set model=.*provider=azure"):
        ingest(path)


def test_azure_identical_rows_are_distinct_calls_but_reingest_dedupes(con, tmp_path, ingest):
    row = "2023-11-16 18:17:04.0319600,3180,8\n"
    path = write_csv(tmp_path, AZURE_HEADER + row + row + "2023-11-16 18:17:05.0000000,100,1\n")
    r = ingest(path, set={"model": "gpt-4o"})
    assert (r.rows_accepted, r.rows_duplicate) == (3, 0)
    assert con.execute("SELECT count(DISTINCT call_id) FROM calls").fetchone() == (3,)
    again = ingest(path, set={"model": "gpt-4o"})
    assert (again.rows_accepted, again.rows_duplicate) == (0, 3)


def test_azure_bad_rows_are_quarantined(con, tmp_path, ingest):
    path = write_csv(tmp_path, AZURE_HEADER + "2023-11-16 18:17:03.9799600,,10\n"
                     "not a time,100,1\n2023-11-16 18:17:03.9799600,12.5,1\n")
    r = ingest(path, set={"model": "gpt-4o"})
    assert (r.rows_accepted, r.rows_quarantined) == (0, 3)
    reasons = [q["reason"] for q in rows(con, "SELECT reason FROM quarantine ORDER BY line")]
    assert reasons[0].startswith("missing token counts")
    assert reasons[1].startswith("unparseable timestamp: not a time")
    assert reasons[2].startswith("fractional input tokens")


def test_azure_gzip(con, tmp_path, ingest):
    import gzip

    path = tmp_path / "trace.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(AZURE_HEADER + "2023-11-16 18:17:03.9799600,4808,10\n")
    assert ingest(path, set={"model": "gpt-4o"}).rows_accepted == 1


# --- Mooncake ------------------------------------------------------------------------------------

def moon(ts, inp, out, hashes):
    return {"timestamp": ts, "input_length": inp, "output_length": out, "hash_ids": hashes}


def test_mooncake_relative_time_and_prefix_reuse(con, write_jsonl, ingest):
    recs = [
        moon(0, 1200, 50, [0, 1, 2]),        # all new
        moon(0, 1100, 60, [0, 1, 3]),        # blocks 0, 1 seen: 2 leading blocks
        moon(1500, 700, 70, [0, 4]),         # block 0 seen
        moon(2000, 300, 5, [5]),             # new
        moon(2500, 1100, 60, [0, 1, 3]),     # all 3 seen: 1100 tokens (capped by input_length)
        moon(3000, 1030, 1, [6, 1, 7]),      # block 1 seen but not leading: 0
    ]
    r = ingest(write_jsonl(recs, "trace.jsonl"), set={"model": "kimi-k2", "provider": "moonshot"})
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("mooncake_trace", 6, 0)
    got = rows(con, "SELECT * FROM calls ORDER BY ts, input_tokens DESC")
    assert [c["ts"].isoformat() for c in got] == [
        "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:01.500000+00:00",
        "2025-01-01T00:00:02+00:00", "2025-01-01T00:00:02.500000+00:00", "2025-01-01T00:00:03+00:00"]
    assert [(c["input_tokens"], c["output_tokens"], c["cache_read_tokens"]) for c in got] == [
        (1200, 50, 0), (1100, 60, 0), (700, 70, 0), (300, 5, 0), (1100, 60, 0), (1030, 1, 0)]
    attrs = [json.loads(c["attributes"]) for c in got]
    assert [a["prefix_reused_blocks"] for a in attrs] == [0, 2, 1, 0, 3, 0]
    assert [a["prefix_reused_tokens"] for a in attrs] == [0, 1024, 512, 0, 1100, 0]
    assert attrs[1]["hash_ids"] == [0, 1, 3] and attrs[2]["trace_ms"] == 1500
    assert {c["model"] for c in got} == {"kimi-k2"} and {c["provider"] for c in got} == {"moonshot"}


def test_mooncake_start_origin_and_duplicates(con, write_jsonl, ingest):
    rec = moon(250, 600, 10, [9, 10])
    path = write_jsonl([rec, rec], "trace.jsonl")
    r = ingest(path, "mooncake_trace", set={"model": "kimi-k2", "start": "2024-06-01T12:00:00Z"})
    assert (r.rows_accepted, r.rows_duplicate) == (2, 0)  # the same request twice: two calls
    got = rows(con, "SELECT * FROM calls ORDER BY call_id")
    assert {c["ts"].isoformat() for c in got} == {"2024-06-01T12:00:00.250000+00:00"}
    assert sorted(json.loads(c["attributes"])["prefix_reused_blocks"] for c in got) == [0, 2]
    assert json.loads(got[0]["attributes"])["ts_origin"] == "2024-06-01T12:00:00+00:00"
    assert ingest(path, set={"model": "kimi-k2"}).rows_duplicate == 2  # another origin, same calls


def test_mooncake_needs_model_and_valid_start(write_jsonl, ingest):
    path = write_jsonl([moon(0, 600, 10, [1])], "trace.jsonl")
    with pytest.raises(WorkbenchError, match="--set model="):
        ingest(path)
    with pytest.raises(WorkbenchError, match="not an ISO date-time"):
        ingest(path, set={"model": "m", "start": "yesterday"})


def test_mooncake_record_without_tokens_is_quarantined(con, write_jsonl, ingest):
    path = write_jsonl([moon(0, 600, 10, [1]), {"timestamp": 5, "input_length": 10, "hash_ids": [2]}], "t.jsonl")
    r = ingest(path, set={"model": "m"})
    assert (r.rows_accepted, r.rows_quarantined) == (1, 1)
    assert rows(con, "SELECT reason FROM quarantine")[0]["reason"].startswith("missing token counts")


# --- The real traces (read in place) ---------------------------------------------------------------

@needs_traces()
@pytest.mark.parametrize("name, n, mean_in, mean_out", [
    ("azure_llm_2023_code.csv", 8819, 2047.8, 27.9),
    ("azure_llm_2023_conv.csv", 19366, 1154.7, 211.1),
])
def test_real_azure_trace(con, ingest, name, n, mean_in, mean_out):
    r = ingest(TRACES / name, set={"model": "gpt-4o", "provider": "azure"})
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("azure_trace", n, 0)
    got = con.execute("SELECT avg(input_tokens), avg(output_tokens), min(ts), max(ts) FROM calls").fetchone()
    assert round(got[0], 1) == mean_in and round(got[1], 1) == mean_out
    assert got[2].date().isoformat() == "2023-11-16" and (got[3] - got[2]).total_seconds() < 3600


@needs_traces()
def test_real_mooncake_prefix_reuse_is_37_4_percent(con, ingest):
    r = ingest(TRACES / "mooncake_conversation_trace.jsonl", set={"model": "kimi-k2"})
    assert (r.format, r.rows_accepted, r.rows_quarantined) == ("mooncake_trace", 12031, 0)
    reused, total = con.execute(
        "SELECT sum(CAST(attributes ->> 'prefix_reused_tokens' AS BIGINT)), sum(input_tokens) FROM calls"
    ).fetchone()
    assert total == 144_793_823
    assert round(reused / 1e6, 1) == 54.1 and round(100 * reused / total, 1) == 37.4
