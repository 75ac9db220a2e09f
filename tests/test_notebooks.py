"""Every notebook executes under papermill on the sample data; the widgets recompute live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
DATA = ROOT / "data"


def _copy(db: Path, tmp_path: Path) -> str:
    dst = tmp_path / db.name
    shutil.copy(db, dst)
    return str(dst)


def _errors(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _text(nb) -> str:
    import json

    parts = [json.dumps(nb.metadata.get("widgets", {}))]  # saved widget state (the explorer's HTML)
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            parts.append(str(data.get("text/html", "")) + str(data.get("text/plain", "")))
    return "\n".join(parts)


def _mimes(nb) -> set:
    return {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}


def test_kernel_resolves_to_this_interpreter():
    from workbench.report.render import kernel_check

    k = kernel_check("python3")
    assert k["same_interpreter"], k


def test_notebooks_are_stripped_and_parameterised():
    import nbformat

    for path in sorted(NB.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        for c in nb.cells:
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None, path.name
        assert "papermill" not in nb.metadata and nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name, params, expect", [
    ("01_pilot_logs", {}, ["Pilot profile", "By feature"]),
    ("02_cost_scenarios", {"scenarios": [str(DATA / "scenarios" / "route_small_model.yaml")]},
     ["route-simple-to-small", "wb-monthly"]),
])
def test_notebook_runs(sample_db, tmp_path, name, params, expect):
    from workbench.report.render import execute

    nb = execute(NB / f"{name}.ipynb", {"db": _copy(sample_db, tmp_path), "static": True, **params}, cwd=tmp_path,
                 timeout=300)
    assert not _errors(nb)
    text = _text(nb)
    for needle in expect:
        assert needle in text, (name, needle)
    assert "image/svg+xml" in _mimes(nb)  # static charts rendered offline (vl-convert)


def test_notebook_03_readiness_opens_on_the_sample_answers_live(sample_db, tmp_path):
    """No answers given (and no earlier save in the working folder): the sample answers, scored; the
    review is a live widget (its verdict, plan and inline SVG section bars are in the saved widget state)."""
    from workbench.report.render import execute

    nb = execute(NB / "03_readiness_review.ipynb", {"db": _copy(sample_db, tmp_path)}, cwd=tmp_path, timeout=300)
    assert not _errors(nb)
    text = _text(nb)
    for needle in ("Verdict", "Improvement plan", "conditionally ready", "sample pilot", "Save answers",
                   "wb-review-bars", "<svg"):
        assert needle in text, needle
    assert "application/vnd.jupyter.widget-view+json" in _mimes(nb)


def test_notebook_04_evals_runs_the_sample_suite_on_the_stub_and_shows_none_without(sample_db, tmp_path):
    from workbench.report.render import execute

    db = _copy(sample_db, tmp_path)
    nb = execute(NB / "04_evals.ipynb", {"db": db, "run": False, "static": True}, cwd=tmp_path, timeout=300)
    assert not _errors(nb) and "no eval runs" in _text(nb)
    nb = execute(NB / "04_evals.ipynb", {"db": db, "static": True}, cwd=tmp_path, timeout=300)  # as it opens
    assert not _errors(nb)
    text = _text(nb)
    assert "support-assistant" in text and "gate passed" in text and "Cost vs quality" in text


def test_cost_explorer_recomputes_live(sample_db, tmp_path):
    from workbench import Workbench
    from workbench.explore.widgets import ExplorerState, cost_explorer, explorer_figures

    with Workbench(_copy(sample_db, tmp_path)) as wb:
        projector = wb.projector(str(DATA / "prices.yaml"))
    box = cost_explorer(projector=projector)
    first = box.figures()
    assert 'class="wb-monthly"' in box.result.value.replace("'", '"')
    assert first["monthly_cost_usd"] == pytest.approx(first["baseline_monthly_cost_usd"])  # no levers: today's mix
    box.controls["multiplier"].value = 100
    at100 = box.figures()
    assert at100["monthly_cost_usd"] == pytest.approx(first["monthly_cost_usd"] * 10, rel=1e-6)
    box.controls["semantic_cache_hit_rate"].value = 0.3
    cheaper = box.figures()
    assert cheaper["monthly_cost_usd"] < at100["monthly_cost_usd"]
    assert f"${cheaper['monthly_cost_usd']:,.0f}" in box.result.value
    box.controls["routing_share"].value = 0.5
    box.controls["batch_share"].value = 0.5
    assert box.figures()["monthly_cost_usd"] != cheaper["monthly_cost_usd"]
    # the widget and the pure function agree
    assert explorer_figures(projector, box.state())["monthly_cost_usd"] == pytest.approx(box.figures()["monthly_cost_usd"])
    assert explorer_figures(projector, ExplorerState(multiplier=10))["savings_usd"] == pytest.approx(0, abs=1e-6)


def test_checklist_entry_writes_valid_answers(tmp_path):
    widgets = pytest.importorskip("workbench.explore.widgets")
    if not widgets.checklist_available():
        pytest.skip("no checklist module")
    from workbench.readiness.checklist import load_answers, load_checklist
    from workbench.report.facts import DEFAULT_CHECKLIST

    out = tmp_path / "answers.yaml"
    box = widgets.checklist_entry(DEFAULT_CHECKLIST, out, existing=DATA / "answers.yaml")
    first_id = next(iter(box.fields))
    box.fields[first_id][0].value = widgets.answer_statuses()[0]
    box.save()
    assert out.exists(), box.children[-1].value
    answers = load_answers(out, load_checklist(DEFAULT_CHECKLIST))
    assert answers is not None
