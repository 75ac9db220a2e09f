"""The shared ingest pipeline: framing, reconciliation, quarantine, dedupe, atomicity, CLI."""

import gzip
import json
import subprocess
import sys

import pytest
from conftest import rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_openai import chat

from workbench import WorkbenchError
from workbench.ingest import expand_paths, ingest_paths, pipeline


def counts(r):
    return (r.rows_read, r.rows_accepted, r.rows_duplicate, r.rows_quarantined)


def test_reingest_adds_nothing_and_reconciles(con, write_jsonl, ingest):
    path = write_jsonl([chat(id=f"c{i}") for i in range(5)] + ["{broken"])
    assert counts(ingest(path)) == (6, 5, 0, 1)
    assert counts(ingest(path)) == (6, 0, 6, 0)  # the quarantined line is not quarantined twice
    assert rows(con, "SELECT count(*) AS n FROM calls")[0]["n"] == 5
    assert rows(con, "SELECT count(*) AS n FROM quarantine")[0]["n"] == 1
    for i in rows(con, "SELECT * FROM ingests"):
        assert i["rows_read"] == i["rows_accepted"] + i["rows_duplicate"] + i["rows_quarantined"]


def test_overlapping_exports_and_duplicates_inside_a_file(con, write_jsonl, ingest):
    first = write_jsonl([chat(id=f"c{i}") for i in range(0, 6)], "jan.jsonl")
    second = write_jsonl([chat(id=f"c{i}") for i in range(4, 10)] + [chat(id="c9")], "feb.jsonl")
    assert counts(ingest(first)) == (6, 6, 0, 0)
    assert counts(ingest(second)) == (7, 4, 3, 0)
    assert rows(con, "SELECT count(DISTINCT call_id) AS d, count(*) AS n FROM calls")[0] == {"d": 10, "n": 10}


def test_quarantine_keeps_raw_line_and_reason(con, write_jsonl, ingest):
    bad_ts = chat(id="t")
    bad_ts["created"] = "yesterday"
    ms = chat(id="ms")
    ms["created"] = 1e25  # no unit makes this a time (ms, us and ns where seconds are documented are converted)
    cache_gt_input = chat(id="cg", prompt=10, cached=500)
    reasoning_gt_output = chat(id="rg", completion=10, reasoning=50)
    frac = chat(id="fr")
    frac["usage"]["completion_tokens"] = 2.5
    lines = [chat(id="ok"), '{"id": "x", ', bad_ts, ms, cache_gt_input, reasoning_gt_output, frac, "[1, 2]"]
    path = write_jsonl(lines)
    r = ingest(path)
    assert counts(r) == (8, 1, 0, 7)
    q = {x["line"]: x for x in rows(con, "SELECT * FROM quarantine")}
    assert q[2]["reason"] == "malformed JSON" and q[2]["raw"] == '{"id": "x", '
    assert q[3]["reason"] == "unparseable timestamp: yesterday"
    assert q[4]["reason"].startswith("unparseable timestamp: 1e")
    assert q[5]["reason"].startswith("cache tokens (500) exceed input tokens (10)")
    assert q[6]["reason"].startswith("reasoning tokens (50) exceed output tokens (10)")
    assert q[7]["reason"] == "fractional output tokens: 2.5"
    assert q[8]["reason"] == "not a JSON object"
    assert json.loads(q[3]["raw"])["id"] == "t"
    assert all(x["source_file"] == str(path.resolve()) and x["file_sha256"] == r.sha256 for x in q.values())


def test_epoch_in_a_finer_unit_than_documented_is_converted(con, write_jsonl, ingest):
    """Seconds are documented; real exports also write ms, us and ns: each converts to the same instant."""
    recs = []
    for i, created in enumerate([1731000000, 1731000000000, 1731000000000000, 1731000000000000000]):
        recs.append(chat(id=f"u{i}"))
        recs[-1]["created"] = created
    r = ingest(write_jsonl(recs))
    assert counts(r) == (4, 4, 0, 0)
    got = {x["ts"].isoformat() for x in rows(con, "SELECT ts FROM calls")}
    assert got == {"2024-11-07T17:20:00+00:00"}


def test_gzip_json_array_and_document_framing(con, tmp_path, ingest):
    arr = tmp_path / "page.json.gz"
    with gzip.open(arr, "wt") as fh:
        json.dump([chat(id="a1"), chat(id="a2")], fh, indent=2)
    doc = tmp_path / "one.json"
    doc.write_text(json.dumps(chat(id="d1"), indent=2))
    envelope = tmp_path / "api.json"
    envelope.write_text(json.dumps({"data": [chat(id="e1"), chat(id="e2")], "meta": {"page": 1}}, indent=2))
    assert counts(ingest(arr)) == (2, 2, 0, 0)
    assert counts(ingest(doc)) == (1, 1, 0, 0)
    assert counts(ingest(envelope)) == (2, 2, 0, 0)


def test_undetectable_format_and_unreadable_files_say_what_to_do(con, tmp_path, write_jsonl, ingest):
    with pytest.raises(WorkbenchError, match="--format"):
        ingest(write_jsonl([{"hello": "world"}]))
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": [1, 2')
    with pytest.raises(WorkbenchError, match="not valid JSON"):
        ingest(broken, fmt="openai_chat")
    with pytest.raises(WorkbenchError, match="unknown --format 'nope'; choose one of: openai_chat"):
        ingest(write_jsonl([chat()], "x.jsonl"), fmt="nope")
    with pytest.raises(WorkbenchError, match="not a settable field"):
        ingest(write_jsonl([chat()], "y.jsonl"), set={"colour": "red"})
    assert rows(con, "SELECT count(*) AS n FROM ingests")[0]["n"] == 0


def test_set_overrides_a_field_for_every_record(con, write_jsonl, ingest):
    ingest(write_jsonl([chat(id="a"), chat(id="b")]), set={"feature": "triage", "environment": "staging"})
    got = rows(con, "SELECT DISTINCT feature, environment FROM calls")
    assert got == [{"feature": "triage", "environment": "staging"}]


def test_crash_before_commit_leaves_the_database_as_it_was(con, write_jsonl, ingest, monkeypatch):
    ingest(write_jsonl([chat(id="keep")], "first.jsonl"))
    before = [rows(con, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("calls", "ingests", "quarantine")]

    def crash():
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_before_commit", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(write_jsonl([chat(id=f"n{i}") for i in range(50)] + ["bad"], "second.jsonl"))
    after = [rows(con, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("calls", "ingests", "quarantine")]
    assert after == before == [1, 1, 0]
    monkeypatch.setattr(pipeline, "_before_commit", None)
    assert counts(ingest(write_jsonl([chat(id=f"n{i}") for i in range(50)] + ["bad"], "second.jsonl"))) == (51, 50, 0, 1)


def test_killed_process_mid_ingest_loses_nothing(tmp_path, write_jsonl):
    """A hard kill (no Python cleanup at all) inside the transaction: the next open sees the old state."""
    db = tmp_path / "k.duckdb"
    first = write_jsonl([chat(id="a")], "a.jsonl")
    second = write_jsonl([chat(id=f"b{i}") for i in range(20)], "b.jsonl")
    code = f"""
import os
from workbench import store
from workbench.ingest import pipeline
con = store.connect({str(db)!r})
pipeline.ingest_file(con, {str(first)!r})
pipeline._before_commit = lambda: os._exit(9)
pipeline.ingest_file(con, {str(second)!r})
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    from workbench import store

    con = store.connect(db)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM ingests").fetchone()[0] == 1


def test_expand_paths_directories_globs_and_missing(tmp_path, write_jsonl):
    write_jsonl([chat()], "a.jsonl")
    write_jsonl([chat()], "b.jsonl.gz")
    (tmp_path / "notes.txt").write_text("not a log")
    files, missing = expand_paths([tmp_path, str(tmp_path / "*.jsonl"), tmp_path / "nope.jsonl"])
    assert [f.name for f in files] == ["a.jsonl", "b.jsonl.gz"]
    assert missing == [(str(tmp_path / "nope.jsonl"), "no such file or directory")]


def test_one_bad_file_does_not_stop_the_others(con, tmp_path, write_jsonl):
    good = write_jsonl([chat(id="g")], "good.jsonl")
    bad = write_jsonl([{"what": "is this"}], "bad.jsonl")
    report = ingest_paths(con, [bad, good], progress=False)
    assert [r.rows_accepted for r in report.results] == [1]
    assert len(report.errors) == 1 and "cannot tell the format" in report.errors[0][1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.tuples(st.just("ok"), st.integers(0, 30), st.integers(0, 10_000), st.integers(0, 2_000)),
    st.tuples(st.just("neg"), st.integers(0, 30), st.integers(-100, -1), st.integers(0, 5)),
    st.tuples(st.just("junk"), st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s and "\x1e" not in s)),
), max_size=40))
def test_counts_always_reconcile(tmp_path_factory, lines):
    """Whatever mix of good, duplicate, negative and junk lines: read = accepted + duplicates + quarantined."""
    from workbench import store

    tmp = tmp_path_factory.mktemp("prop")
    records = []
    for item in lines:
        if item[0] == "junk":
            records.append(item[1] if item[1].strip() else "?")
        else:
            records.append(json.dumps(chat(id=f"c{item[1]}", prompt=item[2], completion=item[3])))
    path = tmp / "calls.jsonl"
    path.write_text("".join(r + "\n" for r in records))
    con = store.connect(tmp / "p.duckdb")
    try:
        r1 = pipeline.ingest_file(con, path, "openai_chat")
    except WorkbenchError:
        return
    r2 = pipeline.ingest_file(con, path, "openai_chat")
    for r in (r1, r2):
        assert r.rows_read == r.rows_accepted + r.rows_duplicate + r.rows_quarantined
    assert r2.rows_accepted == 0 and r2.rows_quarantined == 0
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert n_calls == r1.rows_accepted == con.execute("SELECT count(DISTINCT call_id) FROM calls").fetchone()[0]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_cli_ingest_and_summary_json(tmp_path, write_jsonl):
    db = tmp_path / "cli.duckdb"
    rec = chat(id="a", metadata={"feature": "triage"})
    path = write_jsonl([rec, chat(id="b"), "garbage"])
    p = run_cli("ingest", path, "--db", db, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["totals"] == {"rows_read": 3, "rows_accepted": 2, "rows_duplicate": 0, "rows_quarantined": 1}
    s = run_cli("summary", "--db", db, "--by", "feature", "--json")
    assert s.returncode == 0, s.stderr
    doc = json.loads(s.stdout)
    assert {r["feature"]: r["calls"] for r in doc["rows"]} == {"triage": 1, "(untagged)": 1}
    assert doc["overview"]["rows_quarantined"] == 1


def test_cli_exit_codes(tmp_path, write_jsonl):
    db = tmp_path / "cli.duckdb"
    unknown = write_jsonl([{"what": 1}], "u.jsonl")
    p = run_cli("ingest", unknown, "--db", db)
    assert p.returncode == 2 and "--format" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("ingest", tmp_path / "missing.jsonl", "--db", db)
    assert p.returncode == 2 and "no such file" in p.stderr
    p = run_cli("ingest", unknown, "--db", db, "--set", "model")
    assert p.returncode == 2 and "KEY=VALUE" in p.stderr
    p = run_cli("summary", "--db", tmp_path / "none.duckdb")
    assert p.returncode == 2 and "workbench ingest" in p.stderr
    p = run_cli("summary", "--db", db, "--by", "colour")
    assert p.returncode == 2


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from workbench.cli import cli; "
            "heavy = [m for m in ('duckdb', 'pandas', 'litellm', 'altair', 'papermill') if m in sys.modules]; "
            "print(','.join(heavy))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "", p.stdout + p.stderr


def test_progress_bar_path_reports_on_stderr_and_reconciles(con, write_jsonl, capsys):
    path = write_jsonl([chat(id=f"p{i}") for i in range(200)] + ["{bad"])
    report = ingest_paths(con, [path], progress=True)
    assert counts(report.results[0]) == (201, 200, 0, 1)
    captured = capsys.readouterr()
    assert captured.out == "" and "ingest" in captured.err


def test_empty_and_truncated_files_are_named(con, tmp_path, ingest, write_jsonl):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(WorkbenchError, match="empty: nothing to ingest"):
        ingest(empty)
    full = write_jsonl([chat(id=f"t{i}") for i in range(2000)], "full.jsonl.gz")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[:2000])
    with pytest.raises(WorkbenchError, match="cut.jsonl.gz"):
        ingest(cut)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
