"""Scoring a checklist: answers and probe evidence -> item outcomes, section scores, verdict, plan.

The rules are stated in `checklist.py`'s docstring (and in the header of the shipped checklist).
`assess` runs the probes over the database, scores, and stores the assessment.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import duckdb

from . import probes as _probes
from .checklist import (
    CONDITIONAL,
    GRADE_ATTESTED,
    GRADE_AUTOMATED,
    NOT_READY,
    OUTCOME_VALUE,
    READY,
    SEVERITIES,
    WEIGHTS,
    Answer,
    Answers,
    Checklist,
    Item,
    Section,
    load_answers,
    load_checklist,
    validate_answers,
)

# ---------------------------------------------------------------------------------------------
# Assessment
# ---------------------------------------------------------------------------------------------

def _status_words(s: str) -> str:
    return {"not_met": "not met", "na": "n/a", "insufficient_evidence": "insufficient evidence"}.get(s, s)


@dataclass
class ItemResult:
    id: str
    title: str
    section: str
    severity: str
    stage: int
    weight: int
    answer_status: str                 # met | partial | not_met | na | unanswered
    outcome: str                       # met | partial | not_met | unknown | na
    evidence_grade: Optional[float]
    points: Optional[float]
    max_points: float
    probe: Optional[str] = None
    probe_outcome: Optional[str] = None
    finding: Optional[str] = None
    contradiction: Optional[str] = None
    note: Optional[str] = None
    evidence: list[str] = field(default_factory=list)
    owner: Optional[str] = None
    due: Optional[str] = None
    na_reason: Optional[str] = None
    na_approver: Optional[str] = None
    crosswalk: dict = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.outcome in ("partial", "not_met", "unknown")


def score_item(section: Section, item: Item, answer: Answer | None,
               probe: _probes.ProbeResult | None) -> ItemResult:
    """Apply the per-item rules of the module docstring."""
    status = answer.status if answer else "unanswered"
    conclusive = probe is not None and probe.outcome != _probes.INSUFFICIENT
    r = ItemResult(
        id=item.id, title=item.title, section=section.id, severity=item.severity, stage=item.stage,
        weight=WEIGHTS[item.severity], answer_status=status, outcome="unknown", evidence_grade=None,
        points=0.0, max_points=GRADE_AUTOMATED if item.probe else GRADE_ATTESTED, probe=item.probe,
        probe_outcome=probe.outcome if probe else None, finding=probe.finding if probe else None,
        evidence=answer.evidence_list() if answer else [], owner=answer.owner if answer else None,
        due=answer.due.isoformat() if answer and answer.due else None,
        crosswalk={k: v for k, v in item.crosswalk.model_dump().items() if v},
    )
    if status == "na":
        r.outcome, r.points, r.na_reason, r.na_approver = "na", None, answer.reason, answer.approver
        if conclusive:
            r.note = f"answered n/a (approved by {answer.approver}); evidence: {probe.finding}"
    elif status == "unanswered":
        r.note = "unanswered" + (f"; evidence: {probe.finding}" if conclusive else "")
    elif not conclusive:
        r.outcome, r.evidence_grade = status, GRADE_ATTESTED
        r.points = OUTCOME_VALUE[status] * GRADE_ATTESTED
        if probe is not None:
            r.note = f"attested only; evidence insufficient: {probe.finding}"
    else:
        r.outcome, r.evidence_grade = probe.outcome, GRADE_AUTOMATED
        r.points = OUTCOME_VALUE[probe.outcome] * GRADE_AUTOMATED
        if probe.outcome != status:
            r.contradiction = f"answered {_status_words(status)}; {probe.finding}"
    return r


@dataclass
class Assessment:
    checklist: dict
    answers: dict
    created_at: str
    verdict: str
    verdict_reasons: list[str]
    overall: dict
    sections: list[dict]
    items: list[ItemResult]
    plan: list[dict]
    probes: dict[str, dict]
    data: dict
    assessment_id: Optional[int] = None

    @property
    def contradictions(self) -> list[str]:
        return [f"{i.id}: {i.contradiction}" for i in self.items if i.contradiction]

    def as_dict(self) -> dict:
        """The whole result, JSON-serialisable (the `--json` document)."""
        d = asdict(self)
        d["items"] = [{**asdict(i), "open": i.open} for i in self.items]
        d["contradictions"] = self.contradictions
        return d

    def table_rows(self) -> list[dict]:
        """One flat row per item, for a CLI table or a DataFrame."""
        return [{"id": i.id, "section": i.section, "severity": i.severity, "stage": i.stage,
                 "answer": i.answer_status, "evidence": i.probe_outcome or "-", "outcome": i.outcome,
                 "grade": i.evidence_grade, "points": i.points,
                 "note": i.contradiction or i.note or ""} for i in self.items]

    def to_text(self) -> str:
        o = self.overall
        lines = [f"{self.checklist['title']} (v{self.checklist['version']})",
                 f"Verdict: {self.verdict.upper()}"]
        lines += [f"  - {r}" for r in self.verdict_reasons]
        lines.append(f"Score: {_fmt(o['weighted'])} weighted mean, {_fmt(o['weakest'])} weakest section "
                     f"({o['weakest_section']}); {_fmt(o['vs_attainable'])} of the attainable "
                     f"{_fmt(o['attainable'])}")
        lines.append(f"Open items: {o['open_high']} high, {o['open_medium']} medium, {o['open_low']} low; "
                     f"{o['unknown']} unanswered, {o['na']} n/a, {o['contradictions']} contradicted by evidence")
        lines.append("")
        lines.append(f"{'section':<22}{'score':>8}{'attain.':>9}{'items':>7}{'open':>6}")
        for s in self.sections:
            lines.append(f"{s['title'][:21]:<22}{_fmt(s['score']):>8}{_fmt(s['attainable']):>9}"
                         f"{s['items']:>7}{s['open']:>6}")
        if self.contradictions:
            lines += ["", "Answers the evidence contradicts:"] + [f"  {c}" for c in self.contradictions]
        if self.plan:
            lines += ["", "Improvement plan (stage, then severity):"]
            for p in self.plan:
                lines.append(f"  [{p['stage']}] {p['severity']:<6} {p['id']:<9} {p['title']} ({_status_words(p['outcome'])})")
        return "\n".join(lines)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.0f}%"


def _wmean(rows: list[ItemResult], key) -> Optional[float]:
    w = sum(r.weight for r in rows)
    return None if not w else round(100 * sum(r.weight * key(r) for r in rows) / w, 2)


def run_probes(con: duckdb.DuckDBPyConnection, names) -> dict[str, _probes.ProbeResult]:
    """Run each named probe once; a probe that fails on this database is insufficient evidence.

    The probes are independent read-only queries: two threads, each on its own cursor, run them
    side by side (DuckDB releases the GIL while it works), which halves a review's evidence time."""
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()

    def one(name: str) -> _probes.ProbeResult:
        if not hasattr(local, "cur"):
            local.cur = con.cursor()
        try:
            return _probes.run_probe(local.cur, name)
        except duckdb.Error as exc:
            p = _probes.PROBES[name]
            return _probes.ProbeResult(name, _probes.INSUFFICIENT, f"probe could not run on this database: {exc}",
                                       min_n=p.min_n, criterion=p.criterion)

    wanted = list(dict.fromkeys(n for n in names if n))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="workbench-probe") as pool:
        return dict(zip(wanted, pool.map(one, wanted)))


def _close_with(item: Item) -> str:
    parts = [item.evidence_to_close] if item.evidence_to_close else []
    if item.probe:
        parts.append(f"automated: probe {item.probe} reports met ({_probes.PROBES[item.probe].criterion})")
    else:
        parts.append("attested: a document or link showing it in place (grade 0.5; no log evidence possible)")
    return "; ".join(parts)


def score(checklist: Checklist, answers: Answers | None,
          probe_results: dict[str, _probes.ProbeResult]) -> dict:
    """Pure scoring: items, sections, overall, verdict and plan (no database)."""
    amap = answers.answers if answers else {}
    items = [score_item(s, it, amap.get(it.id), probe_results.get(it.probe) if it.probe else None)
             for s, it in checklist.items]
    applicable = [r for r in items if r.outcome != "na"]
    sections = []
    for s in checklist.sections:
        rows = [r for r in applicable if r.section == s.id]
        allrows = [r for r in items if r.section == s.id]
        sections.append({
            "id": s.id, "title": s.title, "gate": s.gate,
            "score": _wmean(rows, lambda r: r.points), "attainable": _wmean(rows, lambda r: r.max_points),
            "items": len(allrows), "na": len(allrows) - len(rows),
            "unknown": sum(r.outcome == "unknown" for r in rows), "open": sum(r.open for r in rows),
            "contradictions": sum(bool(r.contradiction) for r in rows),
        })
    weighted = _wmean(applicable, lambda r: r.points)
    attainable = _wmean(applicable, lambda r: r.max_points)
    scored = [s for s in sections if s["score"] is not None]
    weakest = min(scored, key=lambda s: s["score"]) if scored else None
    vs = round(100 * weighted / attainable, 2) if attainable else None
    open_by = {sev: sum(r.open and r.severity == sev for r in applicable) for sev in SEVERITIES}
    overall = {
        "weighted": weighted, "weakest": weakest["score"] if weakest else None,
        "weakest_section": weakest["id"] if weakest else None, "attainable": attainable, "vs_attainable": vs,
        "open_high": open_by["high"], "open_medium": open_by["medium"], "open_low": open_by["low"],
        "unknown": sum(r.outcome == "unknown" for r in items), "na": sum(r.outcome == "na" for r in items),
        "contradictions": sum(bool(r.contradiction) for r in items), "items": len(items),
    }
    gates = {s.id for s in checklist.sections if s.gate}
    blockers = [r for r in applicable if r.section in gates and r.severity == "high"
                and r.outcome in ("not_met", "unknown")]
    sc = checklist.scoring
    reasons = [f"high-severity item {r.id} ({r.title}) in {r.section} is {_status_words(r.outcome)}"
               for r in blockers]
    if blockers:
        verdict = NOT_READY
    elif vs is None:
        verdict, reasons = NOT_READY, ["no applicable items"]
    elif vs >= sc.ready and not open_by["high"]:
        verdict = READY
        reasons.append(f"score {vs:.0f}% of attainable >= {sc.ready:g}% and no open high-severity item")
    elif vs >= sc.conditional:
        verdict = CONDITIONAL
        reasons.append(f"score {vs:.0f}% of attainable >= {sc.conditional:g}%"
                       + (f", {open_by['high']} high-severity item(s) open" if open_by["high"] else
                          f" but below {sc.ready:g}%"))
    else:
        verdict = NOT_READY
        reasons.append(f"score {vs:.0f}% of attainable < {sc.conditional:g}%")
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    sec_rank = {s.id: i for i, s in enumerate(checklist.sections)}
    by_id = {it.id: it for _, it in checklist.items}
    plan = [{
        "id": r.id, "title": r.title, "section": r.section, "stage": r.stage, "severity": r.severity,
        "outcome": r.outcome, "finding": r.contradiction or r.finding, "guidance": by_id[r.id].guidance,
        "close_with": _close_with(by_id[r.id]), "owner": r.owner, "due": r.due,
    } for r in sorted((r for r in applicable if r.open),
                      key=lambda r: (r.stage, rank[r.severity], sec_rank[r.section], r.id))]
    return {"items": items, "sections": sections, "overall": overall, "verdict": verdict,
            "verdict_reasons": reasons, "plan": plan}


def _data_fingerprint(con) -> dict:
    row = con.execute("""
        SELECT (SELECT count(*) FROM calls), (SELECT min(ts) FROM calls), (SELECT max(ts) FROM calls),
               (SELECT sha256(coalesce(string_agg(sha256, ',' ORDER BY sha256), '')) FROM ingests)""").fetchone()
    return {"calls": row[0], "first_call": str(row[1]) if row[1] else None,
            "last_call": str(row[2]) if row[2] else None, "fingerprint": row[3]}


def assess(con: duckdb.DuckDBPyConnection, checklist: str | Path | Checklist,
           answers: str | Path | Answers | None = None, store: bool = True) -> Assessment:
    """Run the review: load and validate, run the probes the checklist names, score, plan, store.

    Raises WorkbenchError (exit 2) on a bad checklist or answers file.
    """
    cl = checklist if isinstance(checklist, Checklist) else load_checklist(checklist)
    ans = None
    if answers is not None:
        ans = answers if isinstance(answers, Answers) else load_answers(answers, cl)
        if isinstance(answers, Answers):
            validate_answers(answers.model_dump(mode="json"), cl, "answers")
    results = run_probes(con, (it.probe for _, it in cl.items))
    s = score(cl, ans, results)
    from .. import __version__

    a = Assessment(
        checklist={"id": cl.id, "version": cl.version, "title": cl.title, "hash": cl.hash, "path": cl._path,
                   "scoring": cl.scoring.model_dump()},
        answers={"path": ans._path if ans else None, "hash": ans.hash if ans else None,
                 "answered": sum(1 for r in s["items"] if r.answer_status != "unanswered")},
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        verdict=s["verdict"], verdict_reasons=s["verdict_reasons"], overall=s["overall"],
        sections=s["sections"], items=s["items"], plan=s["plan"],
        probes={k: v.as_dict() for k, v in results.items()},
        data={**_data_fingerprint(con), "workbench_version": __version__},
    )
    if store:
        from .history import save_assessment

        save_assessment(con, a)
    return a
