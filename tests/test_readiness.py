"""Production-readiness review: checklist and answers validation, probes, scoring, history, WA lens."""

from __future__ import annotations

import json

import pytest
import yaml

from workbench import readiness as ck
from workbench.readiness import probes as pr
from workbench.errors import WorkbenchError

from conftest import ROOT

SHIPPED = ROOT / "checklists" / "production-readiness.yaml"
ANSWERS = ROOT / "data" / "answers.yaml"


# ---------------------------------------------------------------------------------------------
# helpers: crafted databases, built in SQL
# ---------------------------------------------------------------------------------------------

def add_calls(con, n: int, **cols):
    """Insert n calls; each keyword is a SQL expression over `i` (0..n-1), e.g. latency_ms="100 + i"."""
    base = {
        "call_id": "'c' || i || '-' || random()", "source_format": "'test'",
        "ts": "TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds(i * 60)", "provider": "'openai'",
        "model": "'gpt-4o-mini'", "input_tokens": "100", "cache_read_tokens": "0", "cache_write_tokens": "0",
        "cache_write_1h_tokens": "0", "output_tokens": "10", "reasoning_tokens": "0", "latency_ms": "500",
        "status": "'ok'", "environment": "'prod'",
    }
    base.update({k: str(v) for k, v in cols.items()})
    names = ", ".join(base)
    exprs = ", ".join(base.values())
    con.execute(f"INSERT INTO calls ({names}) SELECT {exprs} FROM range({n}) t(i)")


def add_trace(con, trace: str, steps: list[tuple], start: str = "2026-10-01 10:00:00"):
    """steps: (offset_seconds, status, provider, model, latency_ms)."""
    con.executemany(
        "INSERT INTO calls (call_id, source_format, ts, provider, model, input_tokens, cache_read_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, latency_ms, status, "
        "error_type, trace_id, environment) VALUES (?, 'test', CAST(? AS TIMESTAMPTZ) + to_seconds(?), ?, ?, 100, 0, 0, 0, "
        "10, 0, ?, ?, ?, ?, 'prod')",
        [[f"{trace}-{k}", start + "+00", off, prov, model, lat, st, None if st == "ok" else "rate_limit", trace]
         for k, (off, st, prov, model, lat) in enumerate(steps)])


def make_eval_runs(con, minimal=True):
    """The minimal eval_runs the probes rely on (replacing migration 0005's table), or 0005's own."""
    if not minimal:
        if not pr.table_exists(con, "eval_runs"):
            pytest.skip("migration 0005 (eval_runs) is not present")
        return
    con.execute("DROP TABLE IF EXISTS eval_runs")
    con.execute("""CREATE TABLE eval_runs (run_id VARCHAR, suite VARCHAR, suite_hash VARCHAR, prompt_version VARCHAR,
                   model VARCHAR, "trigger" VARCHAR, git_sha VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
                   passed BOOLEAN, n_cases INTEGER, mean_score DOUBLE, dataset_version VARCHAR, status VARCHAR)""")


def add_run(con, run_id, prompt_version, when, passed=True, trigger="ci", suite="s", score=0.9, n_cases=50):
    con.execute("""INSERT INTO eval_runs (run_id, suite, suite_hash, prompt_version, model, "trigger", git_sha,
                   started_at, finished_at, passed, n_cases, mean_score, dataset_version, status)
                   VALUES (?, ?, 'h1', ?, 'gpt-4o-mini', ?, 'abc', CAST(? AS TIMESTAMPTZ),
                   CAST(? AS TIMESTAMPTZ) + INTERVAL 5 MINUTE, ?, ?, ?, 'd1', 'finished')""",
                [run_id, suite, prompt_version, trigger, when + "+00", when + "+00", passed, n_cases, score])


def outcome(con, name):
    return pr.run_probe(con, name)


# ---------------------------------------------------------------------------------------------
# the shipped checklist and answers
# ---------------------------------------------------------------------------------------------

def test_shipped_checklist_validates():
    cl = ck.load_checklist(SHIPPED)
    assert cl.id == "production-readiness" and cl.version == "1.0.0"
    assert [s.id for s in cl.sections] == ["evaluation", "cost_latency", "reliability", "observability",
                                          "security_governance", "deployment"]
    assert {s.id for s in cl.sections if s.gate} == {"evaluation", "security_governance"}
    assert len(cl.items) >= 30
    assert {it.probe for _, it in cl.items if it.probe} == set(pr.PROBES)  # every probe is used
    assert "evidence wins" in SHIPPED.read_text().lower()
    titles = " ".join(it.title.lower() for _, it in cl.items)
    for word in ("golden", "rollback", "fallback", "back-off", "pii", "residency", "abstraction", "feedback",
                 "staged rollout", "human review", "graceful degradation", "prompt caching"):
        assert word in titles, word


def test_shipped_answers_validate_against_checklist():
    cl = ck.load_checklist(SHIPPED)
    ans = ck.load_answers(ANSWERS, cl)
    statuses = {a.status for a in ans.answers.values()}
    assert statuses == {"met", "partial", "not_met", "na"}
    assert len(ans.answers) < len(cl.items)  # some left unanswered


# ---------------------------------------------------------------------------------------------
# validation messages
# ---------------------------------------------------------------------------------------------

def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return p


def _mini(**item_overrides):
    item = {"id": "cost-03", "title": "t", "why": "w", "severity": "high", "stage": 2, "guidance": "g"}
    item.update(item_overrides)
    return {"id": "mini", "version": 1, "title": "Mini", "sections": [
        {"id": "cost_latency", "title": "Cost", "items": [item]}]}


@pytest.mark.parametrize("override, message", [
    ({"severity": "critical"}, "checklist.yaml: item cost-03: severity: must be high, medium or low"),
    ({"stage": 9}, "checklist.yaml: item cost-03: stage: "),
    ({"probe": "nope"}, "checklist.yaml: item cost-03: probe: unknown probe 'nope'"),
    ({"crosswalk": {"owasp_llm": ["LLM03"]}}, "item cost-03: crosswalk.owasp_llm: 'LLM03' is not an OWASP LLM 2025 id"),
    ({"crosswalk": {"nist_ai_600_1": ["Privacy"]}}, "item cost-03: crosswalk.nist_ai_600_1: 'Privacy' is not one of"),
    ({"colour": "red"}, "item cost-03: colour: Extra inputs are not permitted"),
    ({"why": None}, "item cost-03: why: "),
])
def test_malformed_checklist_names_item_and_field(tmp_path, override, message):
    p = _write(tmp_path, "checklist.yaml", _mini(**override))
    with pytest.raises(WorkbenchError) as exc:
        ck.load_checklist(p)
    assert message in str(exc.value)


def test_malformed_checklist_other_errors(tmp_path):
    data = _mini()
    data["sections"][0]["items"].append(dict(data["sections"][0]["items"][0]))
    with pytest.raises(WorkbenchError, match="item cost-03: duplicate item id"):
        ck.load_checklist(_write(tmp_path, "dup.yaml", data))
    with pytest.raises(WorkbenchError, match="not valid YAML"):
        ck.load_checklist(_write(tmp_path, "bad.yaml", "id: [unclosed"))
    with pytest.raises(WorkbenchError, match="cannot read checklist"):
        ck.load_checklist(tmp_path / "missing.yaml")
    with pytest.raises(WorkbenchError, match="s.yaml: section abc: title: Field required"):
        ck.load_checklist(_write(tmp_path, "s.yaml", {"id": "x", "version": "1", "title": "X",
                                                     "sections": [{"id": "abc", "items": _mini()["sections"][0]["items"]}]}))


def test_na_without_reason_is_rejected(tmp_path):
    cl = ck.load_checklist(SHIPPED)
    p = _write(tmp_path, "answers.yaml", {"answers": {"sec-06": {"status": "na", "approver": "CISO"}}})
    with pytest.raises(WorkbenchError) as exc:
        ck.load_answers(p, cl)
    assert "answers.yaml: item sec-06: status na needs reason" in str(exc.value)
    p = _write(tmp_path, "answers.yaml", {"answers": {"sec-06": {"status": "n/a", "reason": "EU only"}}})
    with pytest.raises(WorkbenchError, match="item sec-06: status na needs approver"):
        ck.load_answers(p, cl)
    p = _write(tmp_path, "answers.yaml", {"answers": {"sec-06": {"status": "n/a", "reason": "EU only",
                                                                  "approver": "CISO"}}})
    assert ck.load_answers(p, cl).answers["sec-06"].status == "na"


@pytest.mark.parametrize("answers, message", [
    ({"eval-01": {"status": "done"}}, "answers.yaml: item eval-01: status: must be met, partial, not_met or na"),
    ({"eval-99": {"status": "met"}}, "answers.yaml: item eval-99: not in checklist production-readiness"),
    ({"eval-01": {"status": "met", "due": "soon"}}, "answers.yaml: item eval-01: due: "),
    ({"eval-01": {"status": "met", "owner": "a", "colour": 1}}, "item eval-01: colour: Extra inputs"),
    ({"eval-01": 3}, "item eval-01: must be a mapping"),
])
def test_malformed_answers(tmp_path, answers, message):
    cl = ck.load_checklist(SHIPPED)
    p = _write(tmp_path, "answers.yaml", {"answers": answers})
    with pytest.raises(WorkbenchError) as exc:
        ck.load_answers(p, cl)
    assert message in str(exc.value)


def test_answers_for_another_checklist(tmp_path):
    cl = ck.load_checklist(SHIPPED)
    p = _write(tmp_path, "answers.yaml", {"checklist": "other", "answers": {}})
    with pytest.raises(WorkbenchError, match="these answers are for 'other'"):
        ck.load_answers(p, cl)


# ---------------------------------------------------------------------------------------------
# scoring and verdict against hand-computed cases
# ---------------------------------------------------------------------------------------------

SCORING_CL = {
    "id": "t", "version": "1", "title": "T", "sections": [
        {"id": "sec_a", "title": "A", "gate": True, "items": [
            {"id": "a1", "title": "a1", "why": "w", "severity": "high", "stage": 1, "guidance": "ga1",
             "probe": "session_coverage", "evidence_to_close": "sessions logged"},
            {"id": "a2", "title": "a2", "why": "w", "severity": "medium", "stage": 1, "guidance": "ga2"},
            {"id": "a3", "title": "a3", "why": "w", "severity": "low", "stage": 2, "guidance": "ga3"}]},
        {"id": "sec_b", "title": "B", "items": [
            {"id": "b1", "title": "b1", "why": "w", "severity": "high", "stage": 1, "guidance": "gb1"},
            {"id": "b2", "title": "b2", "why": "w", "severity": "medium", "stage": 3, "guidance": "gb2"}]}]}


def _probe(outcome, finding="finding"):
    return {"session_coverage": pr.ProbeResult("session_coverage", outcome, finding)}


def _score(answers, probe_outcome="partial", finding="49% of 100 calls carry a session id"):
    cl = ck.validate_checklist(SCORING_CL)
    ans = ck.validate_answers({"answers": answers}, cl)
    return ck.score(cl, ans, _probe(probe_outcome, finding))


def test_scoring_hand_computed():
    s = _score({"a1": {"status": "met"}, "a2": {"status": "met"}, "b1": {"status": "partial"},
                "b2": {"status": "na", "reason": "r", "approver": "p"}})
    items = {r.id: r for r in s["items"]}
    # a1: answered met, probe says partial -> evidence wins: 0.5 x 1 = 0.5, weight 3
    assert (items["a1"].outcome, items["a1"].evidence_grade, items["a1"].points) == ("partial", 1.0, 0.5)
    assert items["a1"].contradiction == "answered met; 49% of 100 calls carry a session id"
    assert (items["a2"].outcome, items["a2"].evidence_grade, items["a2"].points) == ("met", 0.5, 0.5)
    assert (items["a3"].outcome, items["a3"].points) == ("unknown", 0.0)    # unanswered
    assert (items["b1"].outcome, items["b1"].points) == ("partial", 0.25)
    assert items["b2"].outcome == "na" and items["b2"].points is None
    sec = {x["id"]: x for x in s["sections"]}
    assert sec["sec_a"]["score"] == pytest.approx(100 * 2.5 / 6, abs=0.01)      # (3*.5 + 2*.5 + 1*0) / 6
    assert sec["sec_a"]["attainable"] == pytest.approx(100 * 4.5 / 6, abs=0.01)  # (3*1 + 2*.5 + 1*.5) / 6
    assert sec["sec_b"]["score"] == pytest.approx(25.0)                          # na left out
    assert sec["sec_b"]["na"] == 1
    o = s["overall"]
    assert o["weighted"] == pytest.approx(100 * 3.25 / 9, abs=0.01)
    assert (o["weakest"], o["weakest_section"]) == (25.0, "sec_b")
    assert o["attainable"] == pytest.approx(100 * 6 / 9, abs=0.01)
    assert o["vs_attainable"] == pytest.approx(100 * 3.25 / 6, abs=0.01)        # 54.2 < 60
    assert (o["open_high"], o["open_medium"], o["open_low"], o["unknown"], o["na"]) == (2, 0, 1, 1, 1)
    assert s["verdict"] == "not ready"
    # plan: open items by stage, then severity
    assert [p["id"] for p in s["plan"]] == ["a1", "b1", "a3"]
    assert s["plan"][0]["guidance"] == "ga1" and "probe session_coverage reports met" in s["plan"][0]["close_with"]
    assert "attested" in s["plan"][1]["close_with"]


def test_gate_high_unknown_or_not_met_in_gate_section():
    # everything met except gate-section high item a1 unanswered -> not ready whatever the score
    s = _score({"a2": {"status": "met"}, "a3": {"status": "met"}, "b1": {"status": "met"},
                "b2": {"status": "met"}}, probe_outcome="met")
    assert s["verdict"] == "not ready"
    assert "a1" in s["verdict_reasons"][0] and "unknown" in s["verdict_reasons"][0]
    # answered met but the evidence says not met -> gate fires too
    s = _score({"a1": {"status": "met"}}, probe_outcome="not_met")
    assert s["verdict"] == "not ready" and "a1" in s["verdict_reasons"][0]
    # a high item outside a gate section unanswered does not fire the gate (b1), it blocks "ready"
    s = _score({"a1": {"status": "met"}, "a2": {"status": "met"}, "a3": {"status": "met"},
                "b2": {"status": "met"}}, probe_outcome="met")
    # points: a1 1x3, a2 .5x2, a3 .5x1, b1 0x3, b2 .5x2 = 5.5 of attainable 3+1+.5+1.5+1 = 7 -> 78.6%
    assert s["overall"]["vs_attainable"] == pytest.approx(100 * 5.5 / 7, abs=0.01)
    assert s["verdict"] == "conditionally ready"


def test_ready_when_everything_met():
    s = _score({i: {"status": "met"} for i in ("a1", "a2", "a3", "b1", "b2")}, probe_outcome="met")
    assert s["items"][0].contradiction is None and s["items"][0].evidence_grade == 1.0
    assert s["overall"]["vs_attainable"] == 100.0
    assert s["overall"]["weighted"] == pytest.approx(100 * 7 / 11, abs=0.01)  # attested items count half
    assert s["verdict"] == "ready" and s["plan"] == []


def test_insufficient_evidence_keeps_the_answer_attested():
    s = _score({"a1": {"status": "met"}}, probe_outcome="insufficient_evidence", finding="only 3 calls")
    a1 = s["items"][0]
    assert (a1.outcome, a1.evidence_grade, a1.points, a1.contradiction) == ("met", 0.5, 0.5, None)
    assert "insufficient" in a1.note


def test_evidence_wins_upwards_and_unanswered_stays_unknown():
    s = _score({"a1": {"status": "not_met"}}, probe_outcome="met", finding="100% of 50 calls carry a session id")
    assert s["items"][0].outcome == "met" and s["items"][0].points == 1.0
    assert s["items"][0].contradiction.startswith("answered not met; 100%")
    s = _score({}, probe_outcome="met", finding="100% of 50 calls carry a session id")
    assert s["items"][0].outcome == "unknown" and s["items"][0].points == 0.0
    assert "evidence: 100%" in s["items"][0].note


# ---------------------------------------------------------------------------------------------
# probes on crafted databases
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, column", [
    ("session_coverage", "session_id"), ("prompt_version_coverage", "prompt_version"),
    ("feature_tag_coverage", "feature"), ("environment_tagging", "environment"),
])
def test_coverage_probes(con, name, column):
    add_calls(con, 5, **{column: "'x'"})
    assert outcome(con, name).outcome == "insufficient_evidence"
    add_calls(con, 100, **{column: "'v' || (i % 3)"})
    r = outcome(con, name)
    assert r.outcome == "met" and r.figures["share"] == 1.0 and r.n == 105 and "FROM calls" in r.sql
    add_calls(con, 400, **{column: "NULL"})
    r = outcome(con, name)
    assert r.outcome == "not_met"
    assert r.finding.startswith("21% of 505 calls carry")


def test_latency_probe(con):
    add_calls(con, 10)
    assert outcome(con, "latency_coverage").outcome == "insufficient_evidence"
    add_calls(con, 90, latency_ms="100 + i")
    r = outcome(con, "latency_coverage")
    assert r.outcome == "met" and r.figures["p95_ms"] > r.figures["p50_ms"]
    assert "p95" in r.finding and r.min_n == 30
    add_calls(con, 200, latency_ms="NULL")
    assert outcome(con, "latency_coverage").outcome == "not_met"


def test_step_latency_probe(con):
    add_calls(con, 40, trace_id="'t' || (i // 2)")
    r = outcome(con, "step_latency")
    assert r.outcome == "met" and r.figures["multi_step_traces"] == 20
    add_calls(con, 100, trace_id="NULL")
    assert outcome(con, "step_latency").outcome == "not_met"


def test_fallback_probe(con):
    assert outcome(con, "fallback_seen").outcome == "insufficient_evidence"
    for k in range(6):  # retried on the same model: no fallback
        add_trace(con, f"same{k}", [(0, "error", "openai", "gpt-4o", 200), (2, "ok", "openai", "gpt-4o", 300)])
    r = outcome(con, "fallback_seen")
    assert r.outcome == "not_met" and r.finding.startswith("no fallback seen")
    add_trace(con, "fb", [(0, "error", "anthropic", "claude-sonnet-4-5", 200), (1, "ok", "openai", "gpt-4o", 300)])
    r = outcome(con, "fallback_seen")
    assert r.outcome == "met" and r.figures["fallback_traces"] == 1 and r.figures["error_traces"] == 7


def test_retry_backoff_probe(con):
    m = ("openai", "gpt-4o")
    for k in range(3):
        add_trace(con, f"b{k}", [(0, "error", *m, 100), (1.1, "error", *m, 100), (3.2, "ok", *m, 100)])
    assert outcome(con, "retry_backoff").outcome == "insufficient_evidence"
    for k in range(3, 6):
        add_trace(con, f"b{k}", [(0, "error", *m, 100), (1.1, "error", *m, 100), (3.2, "ok", *m, 100)])
    r = outcome(con, "retry_backoff")  # gaps 1000 ms then 2000 ms
    assert r.outcome == "met" and r.figures["traces_with_growing_gaps"] == 6
    for k in range(20):  # fixed 1 s gaps: no back-off
        add_trace(con, f"f{k}", [(0, "error", *m, 100), (1.1, "error", *m, 100), (2.2, "ok", *m, 100)])
    r = outcome(con, "retry_backoff")
    assert r.outcome == "not_met" and r.finding.startswith("no back-off visible")


def test_failure_recovery_probe(con):
    m = ("openai", "gpt-4o")
    for k in range(10):
        add_trace(con, f"r{k}", [(0, "error", *m, 100), (2, "ok", *m, 100)])
    assert outcome(con, "failure_recovery").outcome == "met"
    for k in range(10):
        add_trace(con, f"x{k}", [(0, "error", *m, 100), (2, "error", *m, 100)])
    r = outcome(con, "failure_recovery")
    assert r.outcome == "partial" and "50% of 20 failed traces" in r.finding


def test_prompt_caching_probe(con):
    add_calls(con, 40, input_tokens="2000")
    assert outcome(con, "prompt_caching").outcome == "not_met"
    add_calls(con, 40, input_tokens="2000", cache_read_tokens="1800")
    assert outcome(con, "prompt_caching").outcome == "met"


def test_pii_probe_counts_and_never_prints(con):
    assert outcome(con, "pii_in_prompts").outcome == "insufficient_evidence"
    add_calls(con, 25, attributes="""json_object('messages', [json_object('role', 'user',
        'content', 'where is my order ' || i)], 'prompt_tokens_convention', 'includes_cache')""")
    r = outcome(con, "pii_in_prompts")
    assert r.outcome == "met" and r.figures["calls_with_prompt_text"] == 25
    add_calls(con, 3, attributes="""json_object('gen_ai.prompt', 'mail jane.doe' || i || '@example.com or call '
        || '+1 415-555-0134, card 4111 1111 1111 1111')""")
    r = outcome(con, "pii_in_prompts")
    assert r.outcome == "not_met"
    assert (r.figures["email_calls"], r.figures["phone_calls"], r.figures["card_calls"]) == (3, 3, 3)
    text = json.dumps(r.as_dict())
    assert "example.com" not in text and "4111" not in text and "555-0134" not in text


def test_rollout_probes(con):
    # a month of traffic on v1; v2 first runs in staging, then takes 100% of prod at once
    add_calls(con, 300, feature="'chat'", prompt_version="CASE WHEN i < 200 THEN 'v1' ELSE 'v2' END",
              ts="TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds(i * 3600)")
    add_calls(con, 5, feature="'chat'", prompt_version="'v2'", environment="'staging'",
              ts="TIMESTAMPTZ '2026-10-05 00:00:00+00' + to_seconds(i * 60)")
    r = outcome(con, "staged_rollout")
    assert r.outcome == "not_met" and "v2 100%" in r.finding
    assert outcome(con, "staging_before_prod").outcome == "met"
    # v3 goes straight to prod, as a 10% canary on its first day
    add_calls(con, 3, feature="'chat'", prompt_version="'v3'",
              ts="TIMESTAMPTZ '2026-10-10 00:30:00+00' + to_seconds(i * 7200)")
    r = outcome(con, "staged_rollout")
    assert r.outcome == "partial" and r.figures["gradual"] == 1
    r = outcome(con, "staging_before_prod")
    assert r.outcome == "partial" and "straight to production: v3" in r.finding


def test_rollout_probes_without_new_versions(con):
    add_calls(con, 50, prompt_version="'v1'")
    assert outcome(con, "staged_rollout").outcome == "insufficient_evidence"
    assert outcome(con, "staging_before_prod").outcome == "insufficient_evidence"


EVAL_PROBES = ("eval_runs_exist", "eval_automated", "eval_gate_before_prod", "eval_regression_baseline")


def test_eval_probes_without_table(con):
    add_calls(con, 50, prompt_version="'v1'")
    con.execute("DROP TABLE IF EXISTS eval_runs CASCADE")
    for name in EVAL_PROBES:
        r = outcome(con, name)
        assert r.outcome == "insufficient_evidence" and "no eval_runs table" in r.finding
    make_eval_runs(con)
    for name in EVAL_PROBES:
        assert outcome(con, name).outcome == "insufficient_evidence"


@pytest.mark.parametrize("minimal", [True, False], ids=["minimal_table", "migration_0005"])
def test_eval_probes(con, minimal):
    make_eval_runs(con, minimal)
    add_calls(con, 50, prompt_version="CASE WHEN i < 25 THEN 'v1' ELSE 'v2' END")  # v2 from 2026-10-01 00:25
    add_run(con, "r1", "v1", "2026-09-30 12:00:00", trigger="manual")
    r = outcome(con, "eval_gate_before_prod")
    assert r.outcome == "partial" and "shipped without one: v2" in r.finding
    assert outcome(con, "eval_automated").outcome == "not_met"
    assert outcome(con, "eval_runs_exist").outcome == "met"
    assert outcome(con, "eval_regression_baseline").outcome == "not_met"   # nothing to compare with
    add_run(con, "r2", "v2", "2026-10-01 00:30:00")                         # after v2's first prod call
    assert outcome(con, "eval_gate_before_prod").outcome == "partial"
    add_run(con, "r3", "v2", "2026-09-30 13:00:00", score=0.89)
    assert outcome(con, "eval_gate_before_prod").outcome == "met"
    assert outcome(con, "eval_automated").outcome == "met"                  # 2 of 3 by CI
    assert outcome(con, "eval_regression_baseline").outcome == "met"        # latest r2 0.90 vs r3 0.89
    add_run(con, "r4", "v2", "2026-10-02 00:00:00", score=0.80, passed=False)
    r = outcome(con, "eval_regression_baseline")
    assert r.outcome == "partial" and r.figures["regressed_suites"] == 1


# ---------------------------------------------------------------------------------------------
# history, compare, WA lens
# ---------------------------------------------------------------------------------------------

def test_history_and_compare(con, tmp_path):
    add_calls(con, 100, session_id="NULL", latency_ms="100 + i")
    cl = ck.validate_checklist(SCORING_CL)
    a1 = _write(tmp_path, "a1.yaml", {"answers": {"a1": {"status": "met"}, "a2": {"status": "not_met"},
                                                   "b1": {"status": "met"}}})
    a2 = _write(tmp_path, "a2.yaml", {"answers": {"a1": {"status": "met"}, "a2": {"status": "met"},
                                                   "b1": {"status": "partial"}}})
    first = ck.assess(con, cl, a1)
    second = ck.assess(con, cl, a2)
    assert (first.assessment_id, second.assessment_id) == (1, 2)
    assert "a1: answered met; 0% of 100 calls carry a session id" in first.contradictions[0]
    rows = con.execute("SELECT count(*), count(DISTINCT assessment_id) FROM assessment_items").fetchone()
    assert rows == (10, 2)
    head = con.execute("SELECT checklist_id, checklist_version, length(checklist_hash), answers_hash IS NOT NULL, "
                       "verdict FROM assessments WHERE assessment_id = 2").fetchone()
    assert head == ("t", "1", 64, True, second.verdict)
    assert ck.load_assessment(con, 1)["overall"] == json.loads(json.dumps(first.as_dict()["overall"]))
    c = ck.compare(con, 1, 2)
    assert [r["item_id"] for r in c.improved] == ["a2"]
    assert [r["item_id"] for r in c.regressed] == ["b1"]
    assert not c.checklist_changed and "Regressed" in c.to_text()
    assert len(ck.list_assessments(con)) == 2
    with pytest.raises(WorkbenchError, match="no assessment 9"):
        ck.compare(con, 1, 9)
    ck.assess(con, cl, a1, store=False)
    assert len(ck.list_assessments(con)) == 2


def test_wa_lens_export_import_roundtrip(tmp_path):
    cl = ck.load_checklist(SHIPPED)
    lens = ck.export_wa_lens(cl)
    assert set(lens) == {"schemaVersion", "name", "description", "pillars"}
    assert lens["schemaVersion"] == "2021-11-01" and len(lens["pillars"]) == 6
    for p in lens["pillars"]:
        assert set(p) == {"id", "name", "questions"} and len(p["questions"]) <= 20
        for q in p["questions"]:
            assert set(q) == {"id", "title", "description", "choices", "riskRules"}
            assert len(q["title"]) <= 128 and len(q["description"]) <= 2048
            assert any(r["condition"] == "default" for r in q["riskRules"]) and len(q["riskRules"]) <= 3
            assert q["choices"][-1]["id"].endswith("_no") and q["choices"][-1]["title"] == "None of these"
            assert all("improvementPlan" in c for c in q["choices"][:-1])
    path = ck.write_wa_lens(cl, tmp_path / "lens.json")
    back = ck.load_checklist(path)  # .json -> lens import
    assert (back.id, back.version) == (cl.id, cl.version)
    orig = {it.id.replace("-", "_"): it.severity for _, it in cl.items}
    assert {it.id: it.severity for _, it in back.items} == orig
    assert [s.id for s in back.sections] == [s.id for s in cl.sections]
    again = ck.export_wa_lens(back)  # ids already normalised: stable on re-export
    rules = lambda lz: [(q["id"], q["riskRules"], [c["id"] for c in q["choices"]])
                        for p in lz["pillars"] for q in p["questions"]]
    assert rules(again) == rules(lens)


def test_wa_lens_import_errors(tmp_path):
    lens = ck.export_wa_lens(ck.load_checklist(SHIPPED))
    lens["pillars"][1]["questions"][2]["riskRules"] = [{"condition": "cost_03_met", "risk": "NO_RISK"}]
    p = tmp_path / "lens.json"
    p.write_text(json.dumps(lens))
    with pytest.raises(WorkbenchError, match="lens.json: pillar cost_latency: question cost_03: riskRules: a `default` rule is required"):
        ck.load_checklist(p)
    p.write_text(json.dumps({"schemaVersion": "2020-01-01", "name": "x", "pillars": []}))
    with pytest.raises(WorkbenchError, match="schemaVersion"):
        ck.load_checklist(p)


# ---------------------------------------------------------------------------------------------
# end to end on the bundled sample pilot
# ---------------------------------------------------------------------------------------------

def test_end_to_end_sample(con):
    from workbench.ingest import ingest_paths

    ingest_paths(con, [str(ROOT / "data/sample/litellm_spendlogs.jsonl.gz"),
                       str(ROOT / "data/sample/otel_spans.jsonl.gz")], progress=False)
    a = ck.assess(con, SHIPPED, ANSWERS)
    items = {i.id: i for i in a.items}
    # the logs contradict two answers
    assert items["obs-02"].contradiction.startswith("answered met; 49% of 20,225 calls carry a session id")
    assert items["obs-02"].outcome == "not_met"
    assert items["dep-03"].contradiction.startswith("answered met; no staged rollout")
    # the logs back others (grade 1)
    for i in ("rel-02", "rel-03", "obs-01", "cost-02", "cost-05", "dep-01", "dep-05"):
        assert (items[i].outcome, items[i].evidence_grade, items[i].contradiction) == ("met", 1.0, None), i
    # no eval table yet / no prompt text: answers stay attested
    assert items["dep-02"].probe_outcome == "insufficient_evidence" and items["dep-02"].evidence_grade == 0.5
    assert items["sec-05"].probe_outcome == "insufficient_evidence"
    assert items["sec-08"].outcome == "na" and items["cost-06"].outcome == "unknown"
    assert a.verdict in ("not ready", "conditionally ready", "ready")
    assert a.overall["weakest"] <= a.overall["weighted"]
    assert [p["stage"] for p in a.plan] == sorted(p["stage"] for p in a.plan)
    doc = json.loads(json.dumps(a.as_dict(), default=str))
    assert doc["verdict"] == a.verdict and len(doc["items"]) == len(items) and doc["contradictions"]
    assert a.assessment_id == 1 and "Verdict:" in a.to_text()
    assert a.data["calls"] == 20225 and len(a.data["fingerprint"]) == 64


def test_pii_probe_finds_ssn_and_only_luhn_valid_cards(con):
    add_calls(con, 25, attributes="""json_object('messages', [json_object('role', 'user',
        'content', 'order 1234 5678 9012 3456 shipped; ticket 555-12-0000 closed')])""")  # fails Luhn; no SSN area 555? valid
    r = outcome(con, "pii_in_prompts")
    assert r.figures["card_calls"] == 0, "a 16-digit order number that fails the Luhn check is not a card"
    add_calls(con, 2, attributes="""json_object('prompt', 'my ssn is 123-45-6789 and my card 4111-1111-1111-1111')""")
    r = outcome(con, "pii_in_prompts")
    assert r.outcome == "not_met" and r.figures["card_calls"] == 2
    assert r.figures["ssn_calls"] == 27  # the 25 tickets look like SSNs too: counted, never shown
    text = json.dumps(r.as_dict())
    assert "123-45-6789" not in text and "4111" not in text
