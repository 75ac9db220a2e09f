"""Claude Code transcripts (`claude_code`): one call per message.id, usage from its last line."""

import json

from conftest import only_call, rows

from workbench.ingest.adapters import all_adapters, anthropic, claude_code

SESSION = "55604662-cf2a-4331-851a-ec234028f8ca"


def line(type, ts, uuid, **extra):
    rec = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/home/u/p",
           "sessionId": SESSION, "version": "2.1.38", "gitBranch": "main", "type": type, "uuid": uuid,
           "timestamp": ts}
    rec.update(extra)
    return rec


def assistant(ts, uuid, msg_id="msg_01A", output=13, block=None, **extra):
    usage = {"input_tokens": 3, "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 5000,
             "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600},
             "output_tokens": output, "service_tier": "standard"}
    msg = {"model": "claude-opus-4-6", "id": msg_id, "type": "message", "role": "assistant",
           "content": [block or {"type": "text", "text": "hi"}], "stop_reason": None, "usage": usage}
    return line("assistant", ts, uuid, message=msg, requestId="req_011X", **extra)


def user(ts, uuid, text="hello"):
    return line("user", ts, uuid, message={"role": "user", "content": text})


def test_one_call_per_message_usage_from_the_last_line(con, write_jsonl, ingest):
    recs = [
        {"type": "file-history-snapshot", "messageId": "m", "snapshot": {}, "isSnapshotUpdate": False},
        user("2026-02-10T21:11:56.846Z", "u1"),
        assistant("2026-02-10T21:11:59.186Z", "a1", output=13, block={"type": "thinking", "thinking": "."}),
        assistant("2026-02-10T21:11:59.873Z", "a2", output=13),
        user("2026-02-10T21:12:00.000Z", "u2", text=[{"type": "tool_result", "content": "ok"}]),
        assistant("2026-02-10T21:12:01.117Z", "a3", output=173, block={"type": "tool_use", "name": "Bash"}),
    ]
    r = ingest(write_jsonl(recs))
    assert r.format == "claude_code"
    assert (r.rows_read, r.rows_accepted, r.rows_duplicate, r.rows_quarantined) == (6, 1, 2, 3)
    c = only_call(con)
    assert (c["call_id"], c["response_id"], c["provider"], c["model"]) == (
        "msg_01A", "msg_01A", "anthropic", "claude-opus-4-6")
    assert c["ts"].isoformat() == "2026-02-10T21:11:59.186000+00:00"  # the message's first line
    assert (c["input_tokens"], c["cache_read_tokens"], c["cache_write_tokens"], c["cache_write_1h_tokens"]) == (
        6003, 5000, 1000, 600)
    assert (c["output_tokens"], c["session_id"], c["status"]) == (173, SESSION, "ok")  # the last line's usage
    attrs = json.loads(c["attributes"])
    assert (attrs["request_id"], attrs["message_lines"]) == ("req_011X", 3)
    reasons = sorted(x for (x,) in con.execute("SELECT reason FROM quarantine").fetchall())
    assert reasons == ["not an LLM call: Claude Code file-history-snapshot line",
                       "not an LLM call: Claude Code user line (prompt or tool result)",
                       "not an LLM call: Claude Code user line (prompt or tool result)"]


def test_reingest_and_copied_messages_add_nothing(con, write_jsonl, ingest, tmp_path):
    recs = [user("2026-02-10T21:11:56.846Z", "u1"), assistant("2026-02-10T21:11:59.186Z", "a1"),
            assistant("2026-02-10T21:11:59.873Z", "a2", msg_id="msg_01B")]
    ingest(write_jsonl(recs, "one.jsonl"))
    r = ingest(write_jsonl(recs[:2] + [assistant("2026-02-10T21:13:00.000Z", "a9", msg_id="msg_01C")], "two.jsonl"))
    assert (r.rows_accepted, r.rows_duplicate, r.rows_quarantined) == (1, 1, 1)
    assert sorted(c["call_id"] for c in rows(con, "SELECT call_id FROM calls")) == ["msg_01A", "msg_01B", "msg_01C"]


def test_api_error_messages_are_errors_and_synthetic_ones_are_not_calls(con, write_jsonl, ingest):
    zero = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    err = line("assistant", "2026-02-10T21:12:00.000Z", "e1", isApiErrorMessage=True, message={
        "id": "4f1c0d8e-1111-2222-3333-444455556666", "model": "<synthetic>", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": 'API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}'}],
        "stop_reason": "stop_sequence", "usage": zero})
    synthetic = line("assistant", "2026-02-10T21:12:01.000Z", "s1", message={
        "id": "5f1c0d8e-1111-2222-3333-444455556666", "model": "<synthetic>", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": "No response requested."}], "stop_reason": "stop_sequence", "usage": zero})
    r = ingest(write_jsonl([assistant("2026-02-10T21:11:59.186Z", "a1"), err, synthetic]))
    assert (r.rows_accepted, r.rows_quarantined) == (2, 1)
    got = {c["call_id"]: c for c in rows(con, "SELECT * FROM calls")}
    e = got["4f1c0d8e-1111-2222-3333-444455556666"]
    assert (e["status"], e["error_type"], e["model"], e["response_id"], e["input_tokens"]) == (
        "error", "rate_limit", None, None, 0)
    (reason,) = con.execute("SELECT reason FROM quarantine").fetchone()
    assert reason.startswith("not an LLM call: Claude Code synthetic assistant message")


def test_sniffers():
    a = assistant("2026-02-10T21:11:59.186Z", "a1")
    snapshot = {"type": "file-history-snapshot", "messageId": "m", "snapshot": {}, "isSnapshotUpdate": False}
    summary = {"type": "summary", "summary": "Fix the build", "leafUuid": "x"}
    for rec in (a, user("2026-02-10T21:11:56.846Z", "u1"), snapshot, summary):
        assert claude_code.TRANSCRIPT.sniff(rec), rec
    assert not anthropic.MESSAGES.sniff(a)  # the Messages adapter leaves transcript lines alone
    for other in ({"type": "message", "id": "msg_1", "usage": {}}, {"type": "user", "content": "x"},
                  {"type": "summary", "summary": "s"}):
        assert not claude_code.TRANSCRIPT.sniff(other), other
    for adapter in all_adapters():
        if adapter is not claude_code.TRANSCRIPT and adapter.name not in ("jsonl", "csv", "parquet"):
            assert not adapter.sniff(a), adapter.name
