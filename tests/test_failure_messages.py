"""Every failure a user can provoke ends in one clear line and the right exit code: interrupts
(exit 130, saying what was kept or rolled back), and data that looks like terminal markup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from workbench import cli


def _main(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    err = capsys.readouterr().err
    return exc.value.code, err


def _chat(i):
    return {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1731000000, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2}}


def test_interrupted_ingest_says_which_file_was_rolled_back(tmp_path, capsys, monkeypatch):
    from workbench.ingest import pipeline

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(_chat(1)) + "\n")
    b.write_text(json.dumps(_chat(2)) + "\n")
    calls = []

    def interrupt_the_second():
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, inside the second file's transaction

    monkeypatch.setattr(pipeline, "_before_commit", interrupt_the_second)
    monkeypatch.setattr(pipeline, "files_committed", 0)
    code, err = _main(["ingest", str(a), str(b), "--db", str(tmp_path / "w.duckdb")], capsys)
    assert code == 130
    assert err.strip().splitlines()[-1] == f"interrupted: {b} was rolled back; the 1 file(s) before it are stored"
    assert "Traceback" not in err
    import gc

    from workbench import store

    gc.collect()  # the interrupted command's connection
    con = store.connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    con.close()


@pytest.mark.parametrize("command,target,line", [
    (["project"], "workbench.cost.projection.project", "interrupted: nothing was changed"),
    (["assess"], "workbench.readiness.scoring.assess", "interrupted: no assessment was stored"),
    (["eval", "suite.yaml"], "workbench.evals.run_suite", "interrupted: the cases finished so far are stored"),
    (["report", "--client", "X", "--out", "out"], "workbench.report.render_report",
     "interrupted: no report was finished"),
])
def test_interrupts_end_in_one_line(tmp_path, capsys, monkeypatch, command, target, line):
    """Ctrl-C reaches DuckDB or a kernel channel as their own errors (`RuntimeError: Query
    interrupted`, ZMQ): after a real SIGINT any of them is reported as the interrupt."""
    module, name = target.rsplit(".", 1)

    def interrupted(*a, **k):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None  # what DuckDB raises instead

    import importlib

    monkeypatch.setattr(importlib.import_module(module), name, interrupted)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text("name: s\n")
    from workbench import store

    store.connect(tmp_path / "w.duckdb").close()  # readers (project) do not create the file
    code, err = _main([*command, "--db", str(tmp_path / "w.duckdb")], capsys)
    assert code == 130, err
    assert err.strip().splitlines()[-1].startswith(line), err
    assert "Traceback" not in err and "RuntimeError" not in err


def test_values_that_look_like_markup_or_escapes_print_as_written(tmp_path):
    rec = {"model": "[/]", "input_tokens": 1, "output_tokens": 2, "ts": "2025-01-01T00:00:00Z",
           "feature": "[link=https://example.invalid]x[/link] \u001b[31mred"}
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    db = tmp_path / "m.duckdb"
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench", *a], capture_output=True, text=True)  # noqa: E731
    assert run("ingest", path, "--db", db, "--format", "jsonl").returncode == 0
    for args in (["summary", "--db", db, "--by", "feature"], ["summary", "--db", db], ["prices", "--db", db]):
        p = run(*map(str, args))
        assert p.returncode == 0, p.stderr
        assert "Traceback" not in p.stderr and "\x1b" not in p.stdout
    assert "[link=https://example.invalid]x[/link]" in run("summary", "--db", str(db), "--by", "feature").stdout
    assert "\\x1b[31mred" in run("summary", "--db", str(db), "--by", "feature").stdout
    assert "[/]" in run("prices", "--db", str(db)).stdout
