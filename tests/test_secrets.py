"""No credential is ever stored or shown: fake keys planted in every place real exports carry them
(LiteLLM `spend_logs_metadata` and `request_tags`, OpenAI `metadata.authorization`, OTel
`gen_ai.request.api_key`, Langfuse `metadata.headers`, HTTP spans with auth headers that end up in
quarantine, an eval model's `metadata`) must appear in no table, no report and no executed notebook."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

from workbench import store
from workbench.ingest.pipeline import ingest_file

# Fake, but shaped like the real thing (the redactor matches on shape as well as on key names).
KEYS = {
    "openai": "sk-proj-FAKEfakeFAKEfake0123456789abcdef",
    "anthropic": "sk-ant-api03-FAKEfakeFAKEfake0123456789",
    "bearer": "FAKEbearerTOKEN0123456789abcdefXYZ",
    "google": "AIzaFAKEfakeFAKEfake0123456789abcdefgh",
    "aws": "AKIAFAKEFAKEFAKE1234",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.FAKEsignatureFAKEsignature",
    "password": "hunter2-fake-password",
    "langfuse": "sk-lf-0000fake-1111-2222-3333-444455556666",
}


def records(tmp: Path) -> list[Path]:
    files = []

    def write(name, recs):
        p = tmp / name
        p.write_text("".join(json.dumps(r) + "\n" for r in recs))
        files.append(p)

    write("openai.jsonl", [{
        "id": "chatcmpl-s1", "object": "chat.completion", "created": 1731000000, "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
        "metadata": {"authorization": f"Bearer {KEYS['openai']}", "feature": "support", "note": KEYS["jwt"]}}])
    write("litellm.jsonl", [{
        "request_id": "chatcmpl-s2", "call_type": "acompletion", "spend": 0.001, "prompt_tokens": 10,
        "completion_tokens": 2, "startTime": "2024-11-07T17:20:00Z", "endTime": "2024-11-07T17:20:01Z",
        "model": "gpt-4o-2024-08-06", "custom_llm_provider": "openai", "status": "success",
        "request_tags": ["prod", KEYS["anthropic"]],
        "metadata": {"spend_logs_metadata": {"api_key": KEYS["password"], "feature": "triage"},
                     "headers": {"x-api-key": KEYS["anthropic"]}}}])
    span = {"traceId": "a" * 32, "spanId": "b" * 16, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": "1731000000000000000", "endTimeUnixNano": "1731000001000000000",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                           {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
                           {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                           {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10"}},
                           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "2"}},
                           {"key": "gen_ai.request.api_key", "value": {"stringValue": KEYS["google"]}}],
            "status": {}}
    http = {"traceId": "c" * 32, "spanId": "d" * 16, "name": "POST", "kind": 3,
            "startTimeUnixNano": "1731000000000000000", "endTimeUnixNano": "1731000001000000000",
            "attributes": [{"key": "http.request.header.authorization",
                            "value": {"stringValue": f"Bearer {KEYS['bearer']}"}},
                           {"key": "aws.access_key", "value": {"stringValue": KEYS["aws"]}}],
            "status": {}}
    write("otel.jsonl", [{"resourceSpans": [{"resource": {"attributes": []},
                                             "scopeSpans": [{"scope": {"name": "t"}, "spans": [span, http]}]}]}])
    write("langfuse.jsonl", [{
        "id": "obs-1", "traceId": "t1", "type": "GENERATION", "name": "gen", "startTime": "2024-11-07T17:20:00Z",
        "endTime": "2024-11-07T17:20:01Z", "model": "gpt-4o", "usageDetails": {"input": 10, "output": 2},
        "metadata": {"headers": {"Authorization": f"Bearer {KEYS['langfuse']}", "cookie": "session=abc"}}}])
    # A malformed line carrying a key: quarantined with its raw text, which must be redacted too.
    bad = tmp / "broken.jsonl"
    good = {"id": "chatcmpl-g", "object": "chat.completion", "created": 1731000000, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "x"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2}}
    bad.write_text(json.dumps(good) + "\n"
                   + '{"id": "chatcmpl-x", "object": "chat.completion", "api_key": "' + KEYS["openai"] + '"\n')
    files.append(bad)
    return files


def _all_text(con) -> str:
    """Every value of every column of every table, as text."""
    out = []
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                                ).fetchall():
        for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
            out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def _leaks(text: str) -> list[str]:
    return [name for name, key in KEYS.items() if key in text]


def test_no_key_reaches_any_table(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    results = [ingest_file(con, f) for f in records(tmp_path)]
    assert sum(r.rows_accepted for r in results) >= 4
    assert sum(r.rows_quarantined for r in results) >= 2, "the HTTP span and the broken line are quarantined"
    assert all(r.redactions > 0 for r in results), [(r.path, r.redactions) for r in results]
    assert con.execute("SELECT sum(redactions) FROM ingests").fetchone()[0] == sum(r.redactions for r in results)
    text = _all_text(con)
    assert not _leaks(text), _leaks(text)
    assert "[REDACTED]" in text
    # Token counts and ordinary values survive the redaction.
    assert con.execute("SELECT sum(input_tokens) FROM calls").fetchone()[0] >= 40
    assert "support" in text and "triage" in text


def test_no_key_in_eval_config_report_or_notebook(tmp_path, sample_db):
    from workbench.evals import run_suite
    from workbench.evals.stub_server import StubServer
    from workbench.report.render import render_report

    db = tmp_path / "client.duckdb"
    shutil.copy(sample_db, db)
    con = store.connect(db)
    for f in records(tmp_path):
        ingest_file(con, f)
    golden = tmp_path / "golden.jsonl"
    golden.write_text(json.dumps({"id": "c1", "input": "hello", "expected": "hello"}) + "\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "secret-suite", "golden": golden.name, "prompt": {"version": "p1", "user": "{{input}}"},
        "models": [{"model": "openai/stub-good", "api_base": "${WORKBENCH_STUB_URL}", "api_key": KEYS["openai"],
                    "metadata": {"authorization": f"Bearer {KEYS['bearer']}", "team_token": KEYS["jwt"]}}],
        "scorers": [{"type": "contains", "threshold": 1}], "retries": {"max_attempts": 1, "base_delay_s": 0},
    }, sort_keys=False))
    with StubServer():
        run_suite(con, suite, baseline=None)
    assert not _leaks(_all_text(con)), _leaks(_all_text(con))
    con.close()
    res = render_report("Secrets Inc", tmp_path / "out", db=db, pdf=False)
    for path in (res["html"], res["notebook"]):
        text = Path(path).read_text()
        assert not _leaks(text), (path, _leaks(text))


@pytest.mark.parametrize("text,kept", [
    ('{"prompt_tokens": "12", "max_tokens": 100, "total_tokens": "55"}', ["12", "100", "55"]),
    ('{"tokenizer": "cl100k_base", "model": "gpt-4o"}', ["gpt-4o"]),
])
def test_counts_and_plain_values_are_not_redacted(text, kept):
    from workbench.ingest.redact import redact_text

    out, n = redact_text(text)
    for k in kept:
        assert k in out
    assert '"12"' in out or "12" not in text
