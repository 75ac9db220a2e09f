"""Issue 15, the additions: JUnit XML, negated assertions, latency and cost thresholds, custom
python scorers, CSV / Parquet golden sets, repeats (epochs) and prompt x model runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml
from click.testing import CliRunner

from conftest import rows
from test_evals import CASES, KB, make_suite, server, stub  # noqa: F401 - shared fixtures
from workbench.errors import WorkbenchError
from workbench.evals import load_golden, load_suite, run_suite
from workbench.evals import scorers as S
from workbench.evals.caller import CallResult
from workbench.evals.repeats import combine
from workbench.evals.runner import _CaseOutcome
from workbench.evals.suite import Case, ScorerSpec

STUB = {"model": "openai/stub-good", "api_base": "${WORKBENCH_STUB_URL}", "api_key": "sk-test"}


# ---------------------------------------------------------------------------------------------
# --junit
# ---------------------------------------------------------------------------------------------


def test_junit_has_a_testcase_per_case_and_per_gate(tmp_path, make_suite, server):
    from workbench.cli import cli

    db = str(tmp_path / "w.duckdb")
    assert CliRunner().invoke(cli, ["eval", str(make_suite()), "--db", db]).exit_code == 0
    worse = [dict(CASES[0], expected="14 days"), dict(CASES[1], input=CASES[1]["input"] + " [[stub:400]]")] + CASES[2:]
    out = tmp_path / "reports" / "junit.xml"
    res = CliRunner().invoke(cli, ["eval", str(make_suite(worse)), "--db", db, "--junit", str(out)])
    assert res.exit_code == 1, res.output
    root = ET.parse(out).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "1")
    suite_el = root.find("testsuite")
    assert suite_el.get("name") == "t-suite.openai/stub-good.p1"
    cases = {tc.get("name"): tc for tc in suite_el.findall("testcase")}
    assert set(cases) == {c["id"] for c in CASES} | {"gate"}
    fail = cases["refund"].find("failure")
    assert "icontains 0.000 < 1" in fail.get("message") and "regressed 1.000 -> 0.000" in fail.get("message")
    err = cases["password"].find("error")
    assert err.get("type") == "invalid_request" and "after 1 attempt(s)" in err.get("message")
    assert cases["gate"].find("failure") is not None and "error rate 1/6" in cases["gate"].find("failure").get("message")
    assert cases["rate"].find("failure") is None and cases["rate"].find("error") is None


# ---------------------------------------------------------------------------------------------
# negated assertions, latency and cost thresholds
# ---------------------------------------------------------------------------------------------


def test_negated_assertions():
    c = Case(id="c", input="q", expected="x")
    assert S.score(ScorerSpec(type="not_contains", value="refund"), c, "no money back")[0] == 1.0
    assert S.score(ScorerSpec(type="not_contains", value=["a", "refund"]), c, "a refund")[0] == 0.0
    assert S.score(ScorerSpec(type="not_contains", value="Refund"), c, "a refund")[0] == 1.0
    assert S.score(ScorerSpec(type="not_icontains", value="Refund"), c, "a refund")[0] == 0.0
    assert S.score(ScorerSpec(type="not_regex", pattern=r"\bsk-\w+"), c, "key sk-abc")[0] == 0.0
    assert S.score(ScorerSpec(type="not_regex", pattern=r"\bsk-\w+"), c, "no key")[0] == 1.0
    for bad, msg in [({"type": "not_regex"}, "needs `pattern`"), ({"type": "not_contains"}, "needs `value`"),
                     ({"type": "latency"}, "needs `max_ms`"), ({"type": "cost"}, "needs `max_usd`"),
                     ({"type": "python", "function": "nocolon"}, "package.module:callable")]:
        with pytest.raises(ValueError, match=msg):
            ScorerSpec(**bad)


def test_latency_and_cost_thresholds_per_case(con, server, make_suite):
    priced = dict(STUB, price_as="gpt-4o-mini")
    suite = make_suite(CASES[:2], models=[priced], scorers=[
        {"type": "icontains", "threshold": 1}, {"type": "latency", "name": "fast", "max_ms": 60_000},
        {"type": "latency", "name": "instant", "max_ms": 0.0001, "weight": 0},
        {"type": "cost", "name": "cheap", "max_usd": 0.01}, {"type": "cost", "name": "free", "max_usd": 0, "weight": 0}],
        gate={"metric": "fast"})
    run_suite(con, suite)
    got = {(r["case_id"], r["scorer"]): r for r in rows(con, "SELECT * FROM eval_scores")}
    assert got[("refund", "fast")]["score"] == 1.0 and got[("refund", "instant")]["score"] == 0.0
    assert "ms (max" in got[("refund", "fast")]["detail"]
    assert got[("refund", "cheap")]["score"] == 1.0 and got[("refund", "free")]["score"] == 0.0
    unpriced = make_suite(CASES[:1], name="u.yaml", scorers=[{"type": "cost", "max_usd": 1}])
    run = run_suite(con, unpriced).runs[0]
    assert con.execute("SELECT score, detail FROM eval_scores WHERE run_id = ?", [run.run_id]).fetchone() == (
        None, "no USD recorded")  # no price: not applicable, never a silent pass


# ---------------------------------------------------------------------------------------------
# custom python scorer
# ---------------------------------------------------------------------------------------------


def test_python_scorer_is_called_with_case_and_output(con, server, make_suite, tmp_path):
    (tmp_path / "my_scorers.py").write_text(
        "def mentions(case, output):\n"
        "    hit = str(case.expected).lower() in output.lower()\n"
        "    return (1.0 if hit else 0.0, f'looked for {case.expected!r}')\n"
        "def as_dict(case, output):\n"
        "    return {'score': 0.25, 'reason': 'quarter'}\n"
        "def broken(case, output):\n"
        "    return 'yes'\n")
    suite = make_suite(CASES[:2], scorers=[
        {"type": "python", "name": "mentions", "function": "my_scorers:mentions", "threshold": 1},
        {"type": "python", "name": "quarter", "function": "my_scorers:as_dict", "threshold": 0},
        {"type": "python", "name": "broken", "function": "my_scorers:broken", "weight": 0, "threshold": 0}])
    run = run_suite(con, suite).runs[0]
    got = {(r["case_id"], r["scorer"]): r for r in rows(con, "SELECT * FROM eval_scores")}
    assert got[("refund", "mentions")]["score"] == 1.0 and got[("refund", "mentions")]["detail"] == "looked for '30 days'"
    assert got[("refund", "quarter")]["score"] == 0.25 and got[("refund", "quarter")]["detail"] == "quarter"
    assert got[("refund", "broken")]["score"] == 0.0 and "scorer error: TypeError" in got[("refund", "broken")]["detail"]
    assert run.mean_score == pytest.approx((1.0 + 0.25) / 2)
    with pytest.raises(WorkbenchError, match=r"scorers\.0\.function: cannot import 'nope'"):
        load_suite(make_suite(scorers=[{"type": "python", "function": "nope:f"}], name="bad.yaml"))
    with pytest.raises(WorkbenchError, match=r"my_scorers has no 'missing'"):
        load_suite(make_suite(scorers=[{"type": "python", "function": "my_scorers:missing"}], name="bad2.yaml"))


# ---------------------------------------------------------------------------------------------
# CSV and Parquet golden sets
# ---------------------------------------------------------------------------------------------


def test_csv_and_parquet_golden_sets(tmp_path, con, server, make_suite):
    import csv

    path = tmp_path / "golden.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "input", "expected", "tags", "contexts", "vars.tone", "metadata.owner", "relevant_ids"])
        w.writerow(["refund", CASES[0]["input"], "30 days", "billing|annual", '["ctx one", "ctx two"]', "calm", "ann", ""])
        w.writerow([7, CASES[1]["input"], '["Forgot password", "reset"]', "account", "", "", "", "d1|d2"])
    cases, version = load_golden(path)
    assert [c.id for c in cases] == ["refund", "7"] and len(version) == 16
    assert cases[0].tags == ["billing", "annual"] and cases[0].contexts == ["ctx one", "ctx two"]
    assert cases[0].vars == {"tone": "calm"} and cases[0].metadata == {"owner": "ann"}
    assert cases[1].expected == ["Forgot password", "reset"] and cases[1].relevant_ids == ["d1", "d2"]
    pq = tmp_path / "golden.parquet"
    con.execute(f"COPY (SELECT * FROM (VALUES ('refund', '{CASES[0]['input']}', '30 days', ['billing']), "
                f"('rate', '{CASES[2]['input']}', '600 requests', ['api'])) t(id, input, expected, tags)) "
                f"TO '{pq}' (FORMAT parquet)")
    pcases, _ = load_golden(pq)
    assert [(c.id, c.tags) for c in pcases] == [("refund", ["billing"]), ("rate", ["api"])]
    suite = make_suite(name="pq.yaml")
    doc = yaml.safe_load(suite.read_text())
    doc["golden"] = pq.name
    suite.write_text(yaml.safe_dump(doc))
    run = run_suite(con, suite).runs[0]
    assert run.n_cases == 2 and run.mean_score == 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,input\na,q\n,missing id\n")
    with pytest.raises(WorkbenchError, match=r"bad\.csv row 2: id: Field required"):
        load_golden(bad)


# ---------------------------------------------------------------------------------------------
# repeat: N
# ---------------------------------------------------------------------------------------------


def test_repeats_ask_each_case_n_times_and_store_each_epoch(con, server, make_suite):
    suite = make_suite(CASES[:3], repeat=3)
    run = run_suite(con, suite).runs[0]
    assert server.count() == 9 and run.n_cases == 3
    res = rows(con, "SELECT * FROM eval_results ORDER BY case_id")
    assert all(r["repeats"] == 3 and r["score_sd"] == 0 and r["pass_share"] == 1 for r in res)
    assert con.execute("SELECT count(*), count(DISTINCT epoch) FROM eval_repeats").fetchone() == (9, 3)
    again = run_suite(con, suite).runs[0]
    assert server.count() == 9 and again.n_cached == 3  # every epoch is replayed from its own key
    assert again.gate.baseline_run_id == run.run_id and again.gate.diff == 0


def outcome(score, passed, error=None, scorer_score=None):
    call = CallResult(content="" if error else "x", latency_ms=10.0, cost_usd=0.001, input_tokens=5, output_tokens=2,
                      attempts=1, error=error, error_type="server" if error else None)
    sc = [] if error else [("acc", "icontains", scorer_score if scorer_score is not None else score, passed, 0.5, 1.0, None)]
    return _CaseOutcome(Case(id="c", input="q"), None if error else "x", call, sc, 0.0 if error else score,
                        False if error else passed)


def test_combining_epochs_by_hand():
    o = combine([outcome(1.0, True), outcome(0.0, False), outcome(0.5, True)])
    assert o.score == pytest.approx(0.5) and o.score_sd == pytest.approx(0.5)  # sd of 1, 0, 0.5
    assert o.pass_share == pytest.approx(2 / 3) and o.passed is False and o.repeats == 3
    assert o.call.cost_usd == pytest.approx(0.003) and o.call.input_tokens == 15 and o.call.latency_ms == 10
    assert o.scores[0][2] == pytest.approx(0.5) and o.scores[0][3] is False
    e = combine([outcome(1.0, True), outcome(0, False, error="boom")])
    assert e.call.error.startswith("1 of 2 epochs without an answer") and e.score == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------
# prompt x model
# ---------------------------------------------------------------------------------------------


def test_prompt_x_model_runs_each_with_its_own_baseline(con, server, make_suite):
    full = {"version": "full", "system": "Answer from the knowledge base.\n" + KB}
    terse = {"version": "terse", "system": "Answer in at most 2 words.\n" + KB}
    weak = dict(STUB, model="openai/stub-weak")
    doc = {"prompt": None, "prompts": [full, terse], "models": [STUB, weak]}
    suite = make_suite(**doc)
    rep = run_suite(con, suite)
    assert [(r.model, r.prompt_version) for r in rep.runs] == [
        ("openai/stub-good", "full"), ("openai/stub-weak", "full"),
        ("openai/stub-good", "terse"), ("openai/stub-weak", "terse")]
    assert len({r.run_id for r in rep.runs}) == 4
    scores = {(r.model, r.prompt_version): r.mean_score for r in rep.runs}
    assert scores[("openai/stub-good", "full")] > scores[("openai/stub-good", "terse")]
    again = run_suite(con, suite)
    for old, new in zip(rep.runs, again.runs):
        assert new.gate.baseline_run_id == old.run_id and new.gate.diff == 0  # not the other prompt's run
    with pytest.raises(WorkbenchError, match="exactly one of `prompt`"):
        load_suite(make_suite(prompts=[full], name="both.yaml"))
    with pytest.raises(WorkbenchError, match="each prompt needs its own version"):
        run_suite(con, make_suite(prompt=None, prompts=[full, full], name="dupe.yaml"))
    assert json.dumps(again.as_dict(), default=str)
