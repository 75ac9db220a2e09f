"""Readiness: score a production-readiness checklist with evidence from the logs and eval runs.

In: a checklist (checklists/*.yaml, or an AWS Well-Architected lens JSON), the team's answers
(YAML), and the database (`calls`, `eval_runs`) for the evidence probes. Out: an `Assessment`
(item outcomes, section scores, verdict, improvement plan), stored in `assessments` and
`assessment_items`, and comparisons between stored assessments.

    checklist.py  the checklist and answers models, validated; loading
    probes.py     evidence probes: SQL over calls and eval runs, each with a verdict and a minimum sample
    scoring.py    answers + evidence -> outcomes, scores, verdict, plan; `assess`
    history.py    stored assessments: list, load, compare
    lens.py       AWS Well-Architected custom-lens export and import
    review.py     the live review in notebook 03: answers as widgets, re-scored on every change

    >>> from workbench import store, readiness
    >>> a = readiness.assess(store.connect("pilot.duckdb"), "checklists/production-readiness.yaml", "data/answers.yaml")
    >>> a.verdict, a.overall["weighted"], a.plan[0]["id"]
"""

from __future__ import annotations

from .._imports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["Answer", "Answers", "Checklist", "Item", "Section", "STATUSES", "SEVERITIES", "load_answers",
                     "load_checklist", "validate_answers", "validate_checklist"], ".checklist"),
    **dict.fromkeys(["Assessment", "ItemResult", "assess", "run_probes", "score", "score_item"], ".scoring"),
    **dict.fromkeys(["Comparison", "compare", "list_assessments", "load_assessment", "save_assessment"], ".history"),
    **dict.fromkeys(["export_wa_lens", "import_wa_lens", "lens_to_checklist", "write_wa_lens"], ".lens"),
    **dict.fromkeys(["PROBES", "ProbeResult", "run_probe"], ".probes"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
