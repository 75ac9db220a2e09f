"""What ingest refuses or reports: the wrong database file, a file that yields no call, one
call logged by two layers, nested --map paths, the one list of error classes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, rows

from workbench.ingest.adapters.base import Options
from workbench.ingest.error_classes import ERROR_CLASSES
from workbench.ingest.pipeline import ingest_file


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def chat(id="chatcmpl-9", prompt=100, completion=10):
    return {"id": id, "object": "chat.completion", "created": 1731000000, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def spend_row(request_id="req-1", response_id="chatcmpl-9"):
    """A LiteLLM SpendLogs row for the call whose provider response was `response_id`: LiteLLM
    stores the provider's response id as `request_id` (as its real rows do, tests/data/real/litellm)."""
    return {"request_id": response_id, "call_type": "acompletion", "api_key": "hashed", "spend": 0.001,
            "total_tokens": 110, "prompt_tokens": 100, "completion_tokens": 10,
            "startTime": "2024-11-07T17:20:00Z", "endTime": "2024-11-07T17:20:01Z", "model": "gpt-4o-2024-08-06",
            "custom_llm_provider": "openai", "status": "success", "metadata": {},
            "response": {"id": response_id, "object": "chat.completion"}}


def test_db_that_is_a_data_file_is_refused(tmp_path):
    csv = tmp_path / "calls.csv"
    csv.write_text("model,input_tokens,output_tokens\ngpt-4o,1,2\n")
    p = run_cli("summary", "--db", csv)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "is not a DuckDB database" in p.stderr and f"workbench ingest {csv}" in p.stderr
    p = run_cli("ingest", csv, "--db", tmp_path / "new.jsonl")
    assert p.returncode == 2 and "must not look like a log file" in p.stderr
    assert not (tmp_path / "new.jsonl").exists()


def test_db_of_another_application_is_named(tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INT)").close()
    p = run_cli("summary", "--db", other)
    assert p.returncode == 2 and "not a workbench one" in p.stderr and "Traceback" not in p.stderr


def test_wrong_format_that_yields_no_call_exits_2_and_names_the_right_one(tmp_path, write_jsonl):
    path = write_jsonl([spend_row(f"req-{i}", f"chatcmpl-{i}") for i in range(3)])
    db = tmp_path / "w.duckdb"
    p = run_cli("ingest", path, "--db", db, "--format", "otel_genai")
    assert p.returncode == 2, p.stdout + p.stderr
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(line) == 1 and "none of its 3 records became a call" in line[0]
    assert "try --format litellm_spendlogs" in line[0]
    # Nothing is lost: the records are in quarantine, and the reconciliation holds.
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 3
    assert con.execute("SELECT rows_read, rows_quarantined FROM ingests").fetchone() == (3, 3)
    con.close()
    # The right format then ingests them.
    assert run_cli("ingest", path, "--db", db).returncode == 0


def test_one_call_logged_by_two_layers_counts_once(con, tmp_path, write_jsonl):
    sdk = write_jsonl([chat("chatcmpl-9"), chat("chatcmpl-10")], "sdk.jsonl")
    proxy = write_jsonl([spend_row("req-1", "chatcmpl-9"), spend_row("req-2", "chatcmpl-77")], "proxy.jsonl")
    a = ingest_file(con, sdk)
    b = ingest_file(con, proxy)
    assert (a.format, a.rows_accepted) == ("openai_chat", 2)
    assert (b.format, b.rows_read, b.rows_accepted, b.rows_duplicate) == ("litellm_spendlogs", 2, 1, 1)
    assert b.rows_duplicate_other_source == 1
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    assert con.execute("SELECT rows_duplicate_other_source FROM ingests WHERE ingest_id = ?",
                       [b.ingest_id]).fetchone() == (1,)
    # The same order reversed: the proxy's row stands, the SDK's copy is the duplicate.
    con.execute("DELETE FROM calls")
    b2 = ingest_file(con, proxy)
    a2 = ingest_file(con, sdk)
    assert (b2.rows_accepted, a2.rows_accepted, a2.rows_duplicate_other_source) == (2, 1, 1)


def test_map_accepts_nested_paths(con, ingest, write_jsonl):
    rec = {"requestId": "r1", "timestamp": "2025-01-01T00:00:00Z", "modelId": "amazon.nova-lite-v1:0",
           "input": {"inputTokenCount": 12}, "output": {"outputTokenCount": 3, "choices": [{"why": "stop"}]}}
    ingest(write_jsonl([rec]), "jsonl", map={"input_tokens": "input.inputTokenCount",
                                             "output_tokens": "output.outputTokenCount", "model": "modelId",
                                             "finish_reason": "output.choices[0].why", "call_id": "requestId"})
    (c,) = rows(con, "SELECT * FROM calls")
    assert (c["call_id"], c["model"], c["input_tokens"], c["output_tokens"], c["finish_reason"]) == \
        ("r1", "amazon.nova-lite-v1:0", 12, 3, "stop")


def test_nested_map_that_no_record_has_names_it(tmp_path, con, write_jsonl):
    path = write_jsonl([{"model": "m", "input_tokens": 1, "output_tokens": 1}])
    with pytest.raises(Exception, match=r"input\.nope"):
        ingest_file(con, path, "jsonl", Options(map={"cache_read_tokens": "input.nope"}))


@pytest.mark.parametrize("code,message,expected", [
    ("canceled", None, "canceled"), ("expired", None, "expired"),
    ("batch_expired", "could not be executed before the completion window expired", "expired"),
    ("429", None, "rate_limit"), ("ThrottlingException", None, "rate_limit"),
    ("overloaded_error", None, "rate_limit"), ("504", None, "timeout"),
    ("GUARDRAIL_INTERVENED", None, "content_filter"), ("context_length_exceeded", None, "context_length"),
    ("401", "invalid api key", "auth"), ("AccessDeniedException", None, "auth"),
    ("not_found_error", "model: claude-x", "not_found"), ("400", None, "invalid_request"),
    ("500", None, "server"), ("weird", None, "other"), (None, None, None),
])
def test_error_classes(con, code, message, expected):
    assert con.execute("SELECT wb_error_class(?, ?)", [code, message]).fetchone()[0] == expected


def test_error_classes_are_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name, meaning, _ in ERROR_CLASSES:
        assert re.search(rf"\| `{name}` \|", readme), f"README's error-class table lacks {name}"


def test_real_sdk_and_proxy_records_of_the_same_calls_count_once(con):
    """The LiteLLM records in tests/data/real/litellm were made by the real litellm replaying the
    OpenAI responses in tests/data/real/openai (see its SOURCES.md): the same provider responses,
    logged by two layers. Whatever the order, each call is stored once."""
    real = ROOT / "tests" / "data" / "real"
    files = ["openai/chat_completions.jsonl", "openai/responses.jsonl",
             "litellm/standard_logging_payload_generated.jsonl", "litellm/spend_logs_generated.jsonl"]
    results = [ingest_file(con, real / f) for f in files]
    assert [r.rows_accepted for r in results] == [5, 3, 1, 0]
    assert [r.rows_duplicate_other_source for r in results] == [0, 0, 4, 4]
    one = con.execute("SELECT count(DISTINCT response_id) = count(response_id) FROM calls").fetchone()[0]
    assert one, "no provider response is stored twice"
    con.execute("DELETE FROM calls")
    back = [ingest_file(con, real / f) for f in reversed(files)]
    assert sum(r.rows_accepted for r in back) == 9 and con.execute("SELECT count(*) FROM calls").fetchone()[0] == 9
