"""Notebook 03's review widget: answers re-score live; n/a needs its reason and approver; Save writes
the YAML `workbench assess --answers` reads."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from conftest import ROOT

CHECKLIST = ROOT / "checklists" / "production-readiness.yaml"
ANSWERS = ROOT / "data" / "answers.yaml"

pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def evidence(sample_db):
    """The probes' evidence on the sample pilot, gathered once for every test here."""
    from workbench import Workbench
    from workbench.readiness.checklist import load_checklist
    from workbench.readiness.scoring import _data_fingerprint, run_probes

    cl = load_checklist(CHECKLIST)
    with Workbench(sample_db).connect() as con:
        return cl, run_probes(con, (it.probe for _, it in cl.items)), _data_fingerprint(con)


@pytest.fixture
def review(evidence, tmp_path):
    from workbench.readiness.checklist import load_answers
    from workbench.readiness.review import ReadinessReview

    cl, probes, data = evidence
    return ReadinessReview(cl, load_answers(ANSWERS, cl), probes, data, answers_out=tmp_path / "answers.yaml",
                           source="the sample answers", answers_path=str(ANSWERS))


def _section(rv, sid):
    return next(s for s in rv.assessment.sections if s["id"] == sid)


def test_opens_from_the_database_on_the_sample_answers(sample_db, tmp_path, monkeypatch):
    from workbench import Workbench
    from workbench.readiness.review import ReadinessReview

    monkeypatch.chdir(tmp_path)  # no earlier save here: the sample answers
    wb = Workbench(sample_db)
    with wb.connect() as con:
        rv = ReadinessReview.from_db(con)
    assert rv.answers_path == str(ANSWERS) and "sample pilot" in rv.children[0].value
    assert rv.assessment.verdict == "conditionally ready"  # not "0% / not ready"
    assert "conditionally ready" in rv.headline.value and "Improvement plan" in rv.details.value
    assert len(rv.rows) == 37 and rv.rows["eval-01"].status.value == "met"
    assert rv.rows["sec-08"].status.value == "na" and rv.rows["sec-08"].reason.value  # its reason shown
    assert rv.rows["sec-08"].na_box in rv.rows["sec-08"].inputs.children  # n/a: its fields are on the row
    assert rv.rows["eval-01"]._na is None and len(rv.rows["eval-01"].inputs.children) == 5
    assert rv.rows["cost-06"].status.value == ""  # unanswered in the sample


def test_changing_an_answer_rescores_on_the_page(review):
    rv = review
    # the sample as shipped: evaluation = (3x0.5 + 3x0.25 + 2x0 + 2x0.25 + 2x0 + 2x0.5) / 14 = 3.75 / 14
    assert _section(rv, "evaluation")["score"] == pytest.approx(26.79)
    assert rv.assessment.overall["vs_attainable"] == pytest.approx(64.23)
    assert "64%" in rv.headline.value and "27%" in rv.headline.value
    # eval-03 (medium, weight 2, no probe: attested, grade 0.5): not met -> met adds 2 x 0.5 = 1.0
    rv.rows["eval-03"].status.value = "met"
    assert _section(rv, "evaluation")["score"] == pytest.approx(round(100 * 4.75 / 14, 2))  # 33.93
    assert "34%" in rv.headline.value and "eval-03" not in [p["id"] for p in rv.assessment.plan]
    assert "conditionally ready" in rv.headline.value
    # overall: weighted = sum(weight x points) / sum(weight) over the applicable items
    w = sum(r.weight for r in rv.assessment.items if r.outcome != "na")
    pts = sum(r.weight * r.points for r in rv.assessment.items if r.outcome != "na")
    assert rv.assessment.overall["weighted"] == pytest.approx(round(100 * pts / w, 2))
    # eval-01 is high severity in a gate section: not met makes it "not ready", whatever the score
    rv.rows["eval-01"].status.value = "not_met"
    assert rv.assessment.verdict == "not ready"
    assert "not ready" in rv.headline.value and "eval-01 (Golden dataset, versioned) in evaluation is not met" in rv.headline.value
    assert "not met" in rv.rows["eval-01"].result.value
    # the evidence still wins: answering obs-02 "met" stays not met (49% of calls carry a session id)
    rv.rows["obs-02"].status.value = "met"
    assert "the logs disagree" in rv.rows["obs-02"].result.value
    # back to unanswered: unknown, at 0
    rv.rows["eval-03"].status.value = ""
    assert next(r for r in rv.assessment.items if r.id == "eval-03").outcome == "unknown"


def test_na_needs_reason_and_approver_then_saves(review, tmp_path):
    rv = review
    row = rv.rows["sec-06"]
    assert row._na is None
    row.status.value = "na"
    assert row.na_box in row.inputs.children  # its reason and approver fields appear
    assert "sec-06: status na needs reason and approver" in rv.problems.value  # said before Save
    assert next(r for r in rv.assessment.items if r.id == "sec-06").outcome == "na"  # scored as n/a meanwhile
    out = tmp_path / "answers.yaml"
    assert rv.save() is None and not out.exists()
    assert "Not saved" in rv.message.value and "sec-06: status na needs reason and approver" in rv.message.value
    assert "Traceback" not in rv.message.value
    row.reason.value = "EU residents only; no US launch planned"
    assert "status na needs approver" in rv.problems.value
    row.approver.value = "CISO (J. Okafor)"
    row.reason_code.value = "OUT_OF_SCOPE"
    assert rv.problems.value == ""
    assert rv.save() == out and "Saved 35 answers" in rv.message.value
    saved = yaml.safe_load(out.read_text())["answers"]["sec-06"]
    assert (saved["status"], saved["reason"], saved["reason_code"], saved["approver"]) == (
        "na", "EU residents only; no US launch planned", "OUT_OF_SCOPE", "CISO (J. Okafor)")


def test_bad_due_date_is_refused_with_a_message(review):
    rv = review
    rv.rows["eval-02"].due.value = "next sprint"
    assert "eval-02: due" in rv.problems.value
    assert rv.save() is None and "eval-02: due" in rv.message.value


def test_saved_answers_round_trip_through_the_cli(review, sample_db, tmp_path):
    from click.testing import CliRunner

    from workbench.cli import cli
    from workbench.readiness.checklist import load_answers, load_checklist

    rv = review
    rv.rows["eval-03"].status.value = "met"
    rv.rows["cost-06"].status.value = "partial"
    rv.rows["cost-06"].owner.value = "finance.partner"
    rv.rows["cost-06"].due.value = "2027-02-01"
    rv.rows["cost-06"].evidence.value = "https://wiki.acme.example/caps\nMonthly cap on the LiteLLM key"
    path = rv.save()
    assert path is not None, rv.message.value
    assert "workbench assess --answers" in rv.message.value
    # the loader the CLI uses reads back what the form held
    cl = load_checklist(CHECKLIST)
    back = load_answers(path, cl)
    original = load_answers(ANSWERS, cl)
    assert back.answers["cost-06"].model_dump(exclude_none=True) == {
        "status": "partial", "evidence": ["https://wiki.acme.example/caps", "Monthly cap on the LiteLLM key"],
        "owner": "finance.partner", "due": __import__("datetime").date(2027, 2, 1)}
    for item_id, a in original.answers.items():  # every other answer unchanged
        if item_id not in ("eval-03", "cost-06"):
            assert back.answers[item_id] == a, item_id
    assert back.answered_by == original.answered_by and back.checklist == cl.id
    # and the CLI scores it as the page did
    db = tmp_path / "cli.duckdb"
    shutil.copy(sample_db, db)
    res = CliRunner().invoke(cli, ["assess", "--checklist", str(CHECKLIST), "--answers", str(path), "--db", str(db),
                                    "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["verdict"] == rv.assessment.verdict
    assert doc["overall"]["weighted"] == pytest.approx(rv.assessment.overall["weighted"])
    assert [s["score"] for s in doc["sections"]] == [s["score"] for s in rv.assessment.sections]


def test_save_records_the_review_in_history(evidence, sample_db, tmp_path):
    from workbench import Workbench
    from workbench.readiness.checklist import load_answers
    from workbench.readiness.history import list_assessments
    from workbench.readiness.review import ReadinessReview

    db = tmp_path / "rec.duckdb"
    shutil.copy(sample_db, db)
    wb = Workbench(db)
    cl, probes, data = evidence
    rv = ReadinessReview(cl, load_answers(ANSWERS, cl), probes, data, answers_out=tmp_path / "a.yaml", record=wb)
    assert rv.save() is not None and "Recorded as assessment" in rv.message.value
    with wb.connect() as con:
        rows = list_assessments(con)
    assert len(rows) == 1 and rows[0]["verdict"] == "conditionally ready"


def test_a_bad_checklist_or_answers_file_is_a_message(sample_db, tmp_path):
    from workbench import Workbench
    from workbench.readiness.review import open_review

    bad = tmp_path / "bad.yaml"
    bad.write_text("answers:\n  eval-01: {status: done}\n")
    with Workbench(sample_db).connect() as con:
        rv = open_review(con, CHECKLIST, bad, tmp_path / "out.yaml")
        assert "Could not load the answers" in rv.message.value and "status: must be met" in rv.message.value
        assert rv.assessment.overall["unknown"] == 37
        box = open_review(con, tmp_path / "missing.yaml")
    assert "could not open" in box.value
