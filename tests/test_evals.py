"""The eval runner against the local stub server, through litellm's real HTTP path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, rows
from workbench.errors import WorkbenchError
from workbench.evals import cost_quality, load_suite, run_demo, run_suite
from workbench.evals.stub_server import StubServer

DATA = ROOT / "data" / "evals"
KB = """Knowledge base:
- Refunds are available within 30 days of purchase for annual plans.
- To reset your password, click 'Forgot password' on the login page.
- The API rate limit is 600 requests per minute per workspace.
- Live chat support is available Monday to Friday, 8am to 6pm.
- Customer data is stored in the EU region by default.
- Invoices can be downloaded as PDF under Billing > Invoices.
"""
CASES = [
    {"id": "refund", "input": "Are refunds available for annual plans?", "expected": "30 days", "tags": ["billing"]},
    {"id": "password", "input": "How do I reset my password?", "expected": "Forgot password", "tags": ["account"]},
    {"id": "rate", "input": "What is the API rate limit?", "expected": "600 requests", "tags": ["api"]},
    {"id": "hours", "input": "When is live chat support available?", "expected": "Monday to Friday", "tags": ["support"]},
    {"id": "region", "input": "Where is customer data stored?", "expected": "EU", "tags": ["account"]},
    {"id": "invoice", "input": "Can invoices be downloaded as PDF?", "expected": "Billing > Invoices", "tags": ["billing"]},
]


@pytest.fixture(scope="module")
def stub():
    with StubServer() as s:
        yield s


@pytest.fixture
def server(stub):
    stub.reset()
    return stub


@pytest.fixture
def make_suite(tmp_path, stub):
    """make_suite(cases=CASES, **suite overrides) -> path of a suite YAML pointing at the stub."""

    def make(cases=None, name="suite.yaml", **over):
        golden = tmp_path / f"{Path(name).stem}_golden.jsonl"
        golden.write_text("".join(json.dumps(c) + "\n" for c in (cases or CASES)))
        doc = {
            "name": "t-suite",
            "golden": golden.name,
            "prompt": {"version": "p1", "system": "Answer from the knowledge base.\n" + KB, "user": "{{input}}"},
            "models": [{"model": "openai/stub-good", "api_base": "${WORKBENCH_STUB_URL}", "api_key": "sk-test"}],
            "scorers": [{"type": "icontains", "threshold": 1}],
            "concurrency": 2,
            "timeout_s": 10,
            "retries": {"max_attempts": 3, "base_delay_s": 0},
        }
        doc.update(over)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return make


# ---------------------------------------------------------------------------------------------
# Runs, cache, resume, retries, errors
# ---------------------------------------------------------------------------------------------


def test_run_scores_stores_and_prices(con, server, make_suite):
    suite = make_suite(models=[{"model": "openai/stub-good", "api_base": "${WORKBENCH_STUB_URL}",
                                "api_key": "sk-test", "price_as": "gpt-4o-mini"}])
    rep = run_suite(con, suite, use_cache=False)
    assert rep.gate_passed and len(rep.runs) == 1
    run = rep.runs[0]
    assert (run.n_cases, run.n_errors, run.n_cached, run.mean_score) == (6, 0, 0, 1.0)
    assert server.count() == 6
    assert run.cost_usd > 0 and run.cost_avoided_usd == 0
    r = rows(con, f"SELECT * FROM eval_runs WHERE run_id = '{run.run_id}'")[0]
    assert r["status"] == "finished" and r["passed"] is True and r["prompt_version"] == "p1"
    assert r["model"] == "openai/stub-good" and r["trigger"] in ("manual", "ci") and len(r["dataset_version"]) == 16
    assert "sk-test" not in r["config"] and "127.0.0.1" not in r["config"]
    res = rows(con, f"SELECT * FROM eval_results WHERE run_id = '{run.run_id}' ORDER BY case_id")
    assert {x["case_id"] for x in res} == {c["id"] for c in CASES}
    assert all(x["input_tokens"] > 0 and x["output_tokens"] > 0 and x["latency_ms"] > 0 for x in res)
    assert all(x["price_key"] == "gpt-4o-mini" and x["cost_usd"] > 0 and not x["cached"] for x in res)
    assert next(x for x in res if x["case_id"] == "refund")["tags"] == ["billing"]
    assert con.execute("SELECT count(*) FROM eval_scores WHERE run_id = ?", [run.run_id]).fetchone()[0] == 6
    assert rep.rows()[0]["gate"] == "pass" and json.dumps(rep.as_dict(), default=str)


def test_unknown_model_cost_is_null_not_zero(con, server, make_suite):
    run = run_suite(con, make_suite()).runs[0]
    assert run.cost_usd is None
    assert con.execute("SELECT count(*) FROM eval_results WHERE cost_usd IS NOT NULL").fetchone()[0] == 0
    assert con.execute("SELECT cost_usd FROM eval_runs").fetchone()[0] is None


def test_cached_rerun_makes_no_http_call(con, server, make_suite):
    suite = make_suite(models=[{"model": "openai/stub-good", "api_base": "${WORKBENCH_STUB_URL}",
                                "api_key": "sk-test", "price_as": "gpt-4o-mini"}])
    first = run_suite(con, suite).runs[0]
    assert server.count() == 6
    second = run_suite(con, suite).runs[0]
    assert server.count() == 6  # nothing new reached the server
    assert second.run_id != first.run_id and second.n_cached == 6 and second.http_calls == 0
    assert second.cost_usd == 0 and second.cost_avoided_usd == pytest.approx(first.cost_usd)
    assert second.mean_score == first.mean_score
    assert second.gate.baseline_run_id == first.run_id and second.gate.diff == 0
    assert con.execute("SELECT bool_and(cached), min(attempts) FROM eval_results WHERE run_id = ?",
                       [second.run_id]).fetchone() == (True, 0)
    run_suite(con, suite, use_cache=False)  # forced: calls again
    assert server.count() == 12


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited")
def test_killed_run_resumes_where_it_stopped(con, server, make_suite):
    suite = make_suite(concurrency=1)
    seen = []

    def kill_after_3(event):
        seen.append(event["case_id"])
        if len(seen) == 3:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        run_suite(con, suite, use_cache=False, progress=kill_after_3)
    assert server.count() == 3
    run_id, status = con.execute("SELECT run_id, status FROM eval_runs").fetchone()
    assert status == "interrupted"
    assert con.execute("SELECT count(*) FROM eval_results").fetchone()[0] == 3
    server.reset()
    rep = run_suite(con, suite, use_cache=False)
    run = rep.runs[0]
    assert run.run_id == run_id and run.resumed and run.n_run_now == 3 and run.n_cases == 6
    assert server.count() == 3  # only the rest were called
    asked = {m["messages"][-1]["content"] for m in server.requests}
    assert asked == {c["input"] for c in CASES if c["id"] not in seen}
    assert con.execute("SELECT count(*), any_value(status) FROM eval_runs").fetchone() == (1, "finished")


def test_a_run_left_running_by_a_dead_process_is_resumed(con, server, make_suite):
    suite = make_suite()
    ls = load_suite(suite)
    con.execute("INSERT INTO eval_runs (run_id, suite, suite_hash, dataset_version, model, trigger, started_at, "
                "status) VALUES ('dead', 't-suite', ?, ?, 'openai/stub-good', 'manual', now(), 'running')",
                [ls.suite_hash(), ls.dataset_version])
    con.execute("INSERT INTO eval_results (run_id, case_id, tags, output, score, passed, cached) "
                "VALUES ('dead', 'refund', ['billing'], 'within 30 days', 1, true, false)")
    run = run_suite(con, suite, use_cache=False).runs[0]
    assert run.run_id == "dead" and run.n_run_now == 5 and server.count() == 5


def test_rate_limit_then_success_is_retried(con, server, make_suite):
    cases = [dict(CASES[0], input=CASES[0]["input"] + " [[stub:429x2]]"), CASES[1]]
    run = run_suite(con, make_suite(cases)).runs[0]
    assert run.n_errors == 0 and run.mean_score == 1.0
    assert server.count() == 4  # 2 x 429, then 200; plus the other case
    att = dict(con.execute("SELECT case_id, attempts FROM eval_results").fetchall())
    assert att == {"refund": 3, "password": 1}


def test_scheduled_server_errors_are_retried(con, server, make_suite):
    server.fail_next(2, status=503)
    run = run_suite(con, make_suite(CASES[:1])).runs[0]
    assert run.n_errors == 0 and server.count() == 3


def test_errors_are_recorded_per_case_without_losing_the_others(con, server, make_suite):
    cases = [dict(CASES[0], input=CASES[0]["input"] + " [[stub:500]]"),
             dict(CASES[1], input=CASES[1]["input"] + " [[stub:400]]")] + CASES[2:]
    rep = run_suite(con, make_suite(cases, gate={"max_error_rate": 0.2}))
    run = rep.runs[0]
    assert run.n_cases == 6 and run.n_errors == 2
    got = {r["case_id"]: r for r in rows(con, "SELECT * FROM eval_results")}
    assert got["refund"]["error_type"] == "server" and got["refund"]["attempts"] == 3
    assert got["password"]["error_type"] == "invalid_request" and got["password"]["attempts"] == 1
    assert got["refund"]["score"] == 0 and got["refund"]["passed"] is False and "500" in got["refund"]["error"]
    assert all(got[c["id"]]["error"] is None and got[c["id"]]["score"] == 1 for c in CASES[2:])
    assert not rep.gate_passed and "error rate 2/6" in run.gate.reason
    # errors are not cached: a re-run retries the failed cases
    server.reset()
    run_suite(con, make_suite(cases))
    assert server.count() == 3 + 1  # 500 x 3 attempts, 400 x 1; the four good answers are replays


def test_per_call_timeout(con, server, make_suite):
    cases = [dict(CASES[0], input=CASES[0]["input"] + " [[stub:sleep=0.4]]")]
    run = run_suite(con, make_suite(cases, timeout_s=0.1, retries={"max_attempts": 1, "base_delay_s": 0})).runs[0]
    assert run.n_errors == 1
    assert con.execute("SELECT error_type FROM eval_results").fetchone()[0] == "timeout"


def test_judge_scores_cached_and_costed_apart(con, server, make_suite):
    judge = {"model": "openai/stub-judge", "api_base": "${WORKBENCH_STUB_URL}", "api_key": "sk-test",
             "price_as": "gpt-4o-mini"}
    cases = [dict(CASES[0], contexts=["Refunds are available within 30 days of purchase for annual plans."]),
             CASES[1]]
    suite = make_suite(cases, judge=judge, scorers=[
        {"type": "icontains", "threshold": 1},
        {"type": "rubric", "criteria": "states the reference fact"},
        {"type": "faithfulness"}, {"type": "answer_relevance", "weight": 0.5}])
    run = run_suite(con, suite).runs[0]
    assert server.count("stub-good") == 2 and server.count("stub-judge") == 2 * 2 + 1  # faithfulness: 1 case
    s = {(r["case_id"], r["scorer"]): r for r in rows(con, "SELECT * FROM eval_scores")}
    # the answer covers the reference: the stub judge says 5 with p 0.75 and 4 with p 0.25 -> 4.75/5
    assert s[("refund", "rubric")]["score"] == pytest.approx((4.75 - 1) / 4)
    assert "logprob_weighted" in s[("refund", "rubric")]["detail"]
    assert s[("refund", "faithfulness")]["score"] == pytest.approx(1.0)
    assert s[("password", "faithfulness")]["score"] is None  # no contexts: not applicable
    assert run.cost_usd is None and run.judge_cost_usd > 0  # model unpriced, judge priced: kept apart
    assert con.execute("SELECT judge FROM eval_runs").fetchone()[0] == "openai/stub-judge"
    again = run_suite(con, suite).runs[0]
    assert server.count() == 7 and again.judge_cost_usd == 0  # judge replays cost nothing
    assert con.execute("SELECT bool_and(judge_cached) FROM eval_results WHERE run_id = ?",
                       [again.run_id]).fetchone()[0]


def test_explicit_baseline_and_ci_trigger(con, server, make_suite, monkeypatch):
    suite = make_suite()
    first = run_suite(con, suite).runs[0]
    monkeypatch.setenv("CI", "true")
    rep = run_suite(con, suite, baseline=first.run_id)
    assert rep.runs[0].gate.baseline_run_id == first.run_id
    assert con.execute("SELECT trigger FROM eval_runs WHERE run_id = ?", [rep.runs[0].run_id]).fetchone()[0] == "ci"
    assert run_suite(con, suite, baseline=None).runs[0].gate.baseline_run_id is None
    with pytest.raises(WorkbenchError, match="no such eval run"):
        run_suite(con, suite, baseline="nope")


def test_sample_suite_demo_gate_fails_on_the_worse_prompt(con, stub, tmp_path):
    stub.reset()
    out = run_demo(con, progress=False)
    base, cand = out["baseline"], out["candidate"]
    assert base.gate_passed and len(base.runs) == 2 and all(r.n_cases >= 20 for r in base.runs)
    assert not cand.gate_passed
    g = cand.runs[0].gate
    assert g.baseline_run_id == base.runs[0].run_id and g.ci_high < -g.margin
    assert "billing" in g.failing_slices and "refusal" not in g.failing_slices  # refusals stay refusals
    assert g.regressed and all(r["diff"] < 0 for r in g.regressed)
    df = out["cost_quality"]
    assert list(df["model"]) == ["openai/stub-good", "openai/stub-weak"]
    assert {"mean_score", "ci_low", "ci_high", "cost_per_case_usd", "cost_per_correct_usd", "p95_latency_ms",
            "dominated"} <= set(df.columns)
    assert (df["cost_per_case_usd"] > 0).all() and (df["cost_per_correct_usd"] >= df["cost_per_case_usd"]).all()
    assert cost_quality(con, suite="support-assistant").shape[0] == 2  # latest run per model


def test_importing_evals_does_not_import_litellm():
    code = "import sys, workbench.evals, workbench.evals.runner; assert 'litellm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# ---------------------------------------------------------------------------------------------
# Validation: suites and golden sets
# ---------------------------------------------------------------------------------------------


def test_sample_suite_loads():
    ls = load_suite(DATA / "support_suite.yaml")
    assert len(ls.cases) >= 20 and ls.prompt.version == "support-v1"
    assert all(c.tags for c in ls.cases)
    variant = load_suite(DATA / "support_suite.yaml", prompt=DATA / "prompts" / "support_v2_terse.yaml")
    assert variant.prompt.version == "support-v2-terse" and variant.suite_hash() != ls.suite_hash()


def test_relative_paths_resolve_from_the_suite_file(make_suite, tmp_path, monkeypatch):
    suite = make_suite()
    monkeypatch.chdir(tmp_path.parent)
    assert len(load_suite(suite).cases) == 6


@pytest.mark.parametrize("change, message", [
    ({"models": []}, "models: List should have at least 1 item"),
    ({"scorers": [{"type": "bleu"}]}, "scorers.0.type"),
    ({"scorers": [{"type": "icontains", "threshold": 2}]}, "scorers.0.threshold"),
    ({"scorers": [{"type": "regex", "pattern": "("}]}, "not a valid regular expression"),
    ({"scorers": [{"type": "rubric", "criteria": "x"}]}, "need a `judge:` model"),
    ({"scorers": [{"type": "icontains"}, {"type": "icontains"}]}, "scorer names must be unique"),
    ({"gate": {"metric": "bleu"}}, "gate.metric 'bleu'"),
    ({"gate": {"max_drop": -1}}, "gate.max_drop"),
    ({"concurrency": 0}, "concurrency"),
    ({"unknown_field": 1}, "unknown_field: Extra inputs are not permitted"),
    ({"golden": "missing.jsonl"}, "golden: no file"),
])
def test_malformed_suites_name_file_and_field(make_suite, change, message):
    path = make_suite(**change)
    with pytest.raises(WorkbenchError) as exc:
        load_suite(path)
    assert str(path) in str(exc.value) and message in str(exc.value)


@pytest.mark.parametrize("lines, message", [
    (['{"id": "a", "input": "q"}', "{not json"], "line 2: not valid JSON"),
    (['{"id": "a"}'], "line 1 (case 'a'): (top level): give exactly one of `input`"),
    (['{"id": "a", "input": "q", "messages": [{"role": "user", "content": "q"}]}'], "exactly one of"),
    (['{"input": "q"}'], "line 1: id: Field required"),
    (['{"id": "a", "input": "q", "tag": ["x"]}'], "tag: Extra inputs are not permitted"),
    (['{"id": "a", "input": "q"}', '', '{"id": "a", "input": "r"}'], "line 3: id 'a' already used on line 1"),
    (['{"id": "a", "messages": [{"role": "robot", "content": "q"}]}'], "messages.0.role"),
    (['[1, 2]'], "line 1: a case is a JSON object"),
    ([], "has no cases"),
])
def test_malformed_golden_sets_name_the_line(make_suite, tmp_path, lines, message):
    suite = make_suite()
    golden = tmp_path / "suite_golden.jsonl"
    golden.write_text("\n".join(lines) + "\n")
    with pytest.raises(WorkbenchError) as exc:
        load_suite(suite)
    assert str(golden) in str(exc.value) and message in str(exc.value)


def test_missing_env_var_and_bad_prompt_file(make_suite, tmp_path, monkeypatch, con):
    monkeypatch.delenv("NOPE_URL", raising=False)
    suite = make_suite(models=[{"model": "openai/x", "api_base": "${NOPE_URL}"}])
    with pytest.raises(WorkbenchError, match="NOPE_URL is not set"):
        run_suite(con, suite)
    (tmp_path / "p.yaml").write_text("system: hi\n")
    with pytest.raises(WorkbenchError, match=r"p\.yaml: invalid prompt: version: Field required"):
        load_suite(make_suite(prompt="p.yaml"))
