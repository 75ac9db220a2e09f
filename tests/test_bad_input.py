"""One bad record never costs its file: every kind of bad value is quarantined on its own line,
with its reason, on every way into the store and in several formats, and the good records around
it go in with the right buckets."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import store
from workbench.ingest import pipeline
from workbench.ingest.pipeline import ingest_file

# Bad values, each with the quarantine reason it must give (a prefix).
BAD_TOKENS = {
    2**63: "implausible", 10**30: "implausible", 1e300: "implausible", "NaN": "non-numeric",
    "Infinity": "non-numeric", "-Infinity": "non-numeric", -5: "negative", 2.5: "fractional", "many": "non-numeric",
}
BAD_EPOCHS = {1e25: ("unparseable timestamp", "implausible timestamp"), "NaN": ("unparseable timestamp",),
              -1e30: ("unparseable timestamp", "implausible timestamp")}
GOOD_EPOCHS = [1731000000, 1731000000000, 1731000000000000, 1731000000000000000]  # s, ms, us, ns


def openai_chat(i: int, prompt=120, completion=30, created=1731000000) -> dict:
    return {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": created, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0}}


def spend_log(i: int, prompt=120, completion=30, created="2024-11-07T17:20:00Z") -> dict:
    return {"request_id": f"req-{i}", "call_type": "acompletion", "spend": 0.001, "prompt_tokens": prompt,
            "completion_tokens": completion, "total_tokens": 0, "startTime": created,
            "endTime": "2024-11-07T17:20:01Z", "model": "gpt-4o-2024-08-06", "custom_llm_provider": "openai",
            "status": "success", "metadata": {}}


def generic(i: int, prompt=120, completion=30, created=1731000000) -> dict:
    return {"id": f"g-{i}", "timestamp": created, "model": "gpt-4o", "input_tokens": prompt,
            "output_tokens": completion}


FORMATS = {"openai_chat": openai_chat, "litellm_spendlogs": spend_log, "jsonl": generic}
# The RFC 2822 form is read where the format takes text timestamps.
TEXT_TIMES = {"litellm_spendlogs": ["Thu, 07 Nov 2024 17:20:00 GMT", "2024-11-07T17:20:00Z"]}


@contextmanager
def way_in(path_name: str):
    """The three ways into the store, as the `ingest` fixture sets them (see conftest)."""
    saved = pipeline._family_stored, pipeline._fast_adapter
    if path_name == "staged":
        pipeline._family_stored = lambda con, fmt: True
    elif path_name == "lines":
        pipeline._fast_adapter = lambda *a, **k: None
    try:
        yield
    finally:
        pipeline._family_stored, pipeline._fast_adapter = saved


bad_kind = st.one_of(
    st.tuples(st.just("tokens"), st.sampled_from(sorted(BAD_TOKENS, key=str))),
    st.tuples(st.just("epoch"), st.sampled_from(sorted(BAD_EPOCHS, key=str))),
    st.tuples(st.just("malformed"), st.just(None)),
    st.tuples(st.just("latin1"), st.just(None)),
)
good_kind = st.tuples(st.just("good"), st.integers(0, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(sorted(FORMATS)), way=st.sampled_from(["direct", "staged", "lines"]),
       kinds=st.lists(st.one_of(good_kind, bad_kind), min_size=1, max_size=12))
def test_bad_records_are_quarantined_one_by_one(tmp_path_factory, fmt, way, kinds):
    make = FORMATS[fmt]
    lines: list[bytes] = []
    want_good: dict[str, tuple[int, int]] = {}
    want_bad: dict[int, str] = {}
    for n, (kind, value) in enumerate(kinds, 1):
        i = n
        if kind == "good":
            created = (TEXT_TIMES[fmt][value % 2] if fmt in TEXT_TIMES else GOOD_EPOCHS[value])
            rec = make(i, prompt=100 + n, completion=n, created=created)
            want_good[rec.get("id") or rec.get("request_id")] = (100 + n, n)
            lines.append(json.dumps(rec).encode())
        elif kind == "tokens":
            rec = make(i, prompt=value)
            lines.append(json.dumps(rec).encode())
            want_bad[n] = BAD_TOKENS[value]
        elif kind == "epoch":
            if fmt in TEXT_TIMES:  # a text timestamp that no reader takes
                rec, reason = make(i, created="the day before yesterday"), ("unparseable timestamp",)
            else:
                rec, reason = make(i, created=value), BAD_EPOCHS[value]
            lines.append(json.dumps(rec).encode())
            want_bad[n] = reason
        elif kind == "malformed":
            lines.append(json.dumps(make(i))[:-7].encode())
            want_bad[n] = "malformed JSON"
        else:  # one latin-1 byte in an otherwise good record
            lines.append(json.dumps(make(i)).replace('"gpt-4o', '"gpt-4\xf6', 1).encode("latin-1"))
            want_bad[n] = "not UTF-8"
    if not want_good:  # a file of bad records only: still read line by line, nothing lost
        pass
    path = tmp_path_factory.mktemp("bad") / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    con = store.connect(":memory:")
    with way_in(way):
        r = ingest_file(con, path, fmt)
    assert r.rows_read == r.rows_accepted + r.rows_duplicate + r.rows_quarantined == len(lines)
    got = dict(con.execute("SELECT call_id, [input_tokens, output_tokens] FROM calls").fetchall())
    assert {k: tuple(v) for k, v in got.items()} == want_good
    q = dict(con.execute("SELECT line, reason FROM quarantine").fetchall())
    assert sorted(q) == sorted(want_bad), q
    for line, prefix in want_bad.items():
        assert q[line].startswith(prefix), (line, q[line], prefix)
    if want_good and fmt != "litellm_spendlogs":
        ts = {t.isoformat() for (t,) in con.execute("SELECT ts FROM calls").fetchall()}
        assert ts == {"2024-11-07T17:20:00+00:00"}, "every epoch unit converts to the same instant"
    con.close()


def test_rfc2822_timestamps_are_read(con, ingest, write_jsonl):
    r = ingest(write_jsonl([spend_log(1, created="Thu, 07 Nov 2024 17:20:00 GMT"),
                            spend_log(2, created="Thu, 07 Nov 2024 18:20:00 +0100")]), "litellm_spendlogs")
    assert r.rows_accepted == 2
    ts = {t.isoformat() for (t,) in con.execute("SELECT ts FROM calls").fetchall()}
    assert ts == {"2024-11-07T17:20:00+00:00"}


def test_bom_and_utf16_jsonl_are_read(con, tmp_path):
    text = "".join(json.dumps(openai_chat(i)) + "\n" for i in range(3))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    u16 = tmp_path / "u16.jsonl"
    u16.write_bytes(text.replace("chatcmpl-", "chatcmpl-u").encode("utf-16"))
    for p in (bom, u16):
        r = ingest_file(con, p)
        assert (r.format, r.rows_read, r.rows_accepted) == ("openai_chat", 3, 3), p.name
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 6


def test_a_line_over_32_mib_is_quarantined_alone(con, tmp_path):
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.write(json.dumps(openai_chat(1)).encode() + b"\n")
        fh.write(b'{"id": "huge", "pad": "' + b"x" * (33 * 2**20) + b'"}\n')
        fh.write(json.dumps(openai_chat(3)).encode() + b"\n")
    r = ingest_file(con, big)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 2, 1)
    line, reason, raw = con.execute("SELECT line, reason, raw FROM quarantine").fetchone()
    assert line == 2 and "over the 32 MiB limit" in reason and len(raw) < 5000


@pytest.mark.parametrize("name,content,says", [
    ("random.jsonl", bytes(range(256)) * 20, "binary data"),
    ("export.zip", b"PK\x03\x04" + b"\x00" * 200, "a ZIP archive"),
    ("logs.jsonl.bz2", b"BZh91AY&SY" + b"\x00" * 50, "a bzip2 archive"),
    ("pilot.jsonl", b"SQLite format 3\x00" + b"\x00" * 100, "an SQLite database"),
])
def test_files_that_are_not_logs_are_named(tmp_path, name, content, says):
    from conftest import ROOT  # noqa: F401 - the package is importable from the tests
    import subprocess
    import sys

    path = tmp_path / name
    path.write_bytes(content)
    p = subprocess.run([sys.executable, "-m", "workbench", "ingest", str(path), "--db", str(tmp_path / "w.duckdb")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and says in errors[0] and "read as CSV" not in errors[0], p.stderr


def test_format_hint_is_not_repeated_when_format_was_given(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"2\n')
    p = subprocess.run([sys.executable, "-m", "workbench", "ingest", str(path), "--db", str(tmp_path / "w.duckdb"),
                        "--format", "csv"], capture_output=True, text=True)
    assert "pass --format" not in p.stderr


def test_deeply_nested_json_is_refused_without_a_traceback(tmp_path):
    import subprocess
    import sys

    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 10_000 + "1" + "}" * 10_000)
    p = subprocess.run([sys.executable, "-m", "workbench", "ingest", str(deep), "--db", str(tmp_path / "w.duckdb")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "RecursionError" not in p.stderr


def test_billion_laughs_yaml_is_refused_quickly(tmp_path):
    from workbench.config import read_yaml
    from workbench.errors import WorkbenchError

    lol = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 9):
        prev = chr(ord("a") + k - 1)
        lol.append(f"{chr(ord('a') + k)}: &{chr(ord('a') + k)} [{', '.join(['*' + prev] * 10)}]")
    bomb = tmp_path / "suite.yaml"
    bomb.write_text("\n".join(lol) + "\n")
    with pytest.raises(WorkbenchError, match="billion laughs"):
        read_yaml(bomb, "suite")
    Path(tmp_path / "ok.yaml").write_text("a: &x [1, 2]\nb: *x\n")
    assert read_yaml(tmp_path / "ok.yaml", "suite") == {"a": [1, 2], "b": [1, 2]}


def test_a_json_document_in_latin1_names_the_encoding(con, tmp_path):
    from workbench.errors import WorkbenchError

    doc = tmp_path / "export.json"
    doc.write_bytes(json.dumps([openai_chat(1)]).replace('"gpt-4o', '"gpt-4\xf6').encode("latin-1"))
    with pytest.raises(WorkbenchError, match="not UTF-8: it looks latin-1"):
        ingest_file(con, doc)


def test_a_latin1_row_in_a_csv_costs_only_itself(con, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_bytes(b"model,input_tokens,output_tokens,ts\ngpt-4o,1,2,2025-01-01T00:00:00Z\n"
                     b"gpt-4\xf6,3,4,2025-01-01T00:00:00Z\ngpt-4o,5,6,2025-01-01T00:00:01Z\n")
    r = ingest_file(con, path)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 2, 1)
    assert con.execute("SELECT line FROM quarantine").fetchone()[0] == 3
