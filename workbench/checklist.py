"""Production-readiness review: checklist and answers models, evidence probes, scoring, plan, history.

    >>> from workbench import store, checklist
    >>> con = store.connect("pilot.duckdb")
    >>> a = checklist.assess(con, "checklists/production-readiness.yaml", "data/answers.yaml")
    >>> a.verdict, a.overall["weighted"], a.plan[0]["id"]
    >>> print(a.to_text())          # human report;  a.as_dict() is the --json document
    >>> checklist.compare(con, 1, a.assessment_id).as_dict()

Scoring (also stated in the header of checklists/production-readiness.yaml)
---------------------------------------------------------------------------
Per item
  * answer status: met | partial | not_met | na (needs `reason` and `approver`); an item with no
    answer is *unanswered*: it scores 0 and is reported as `unknown`, never as failed.
  * evidence grade: 0.5 when the answer is only attested (text, links, a one-off check); 1 when an
    automated probe over the logs or eval runs reached a verdict (not `insufficient_evidence`).
  * probe and answer disagree -> **the evidence wins**: the item takes the probe's outcome at grade 1,
    and the review states the contradiction in plain words ("answered met; 49% of 20,225 calls carry
    a session id"). This works both ways (an understated answer is raised by the evidence).
    An unanswered item stays `unknown` even when a probe has spoken (someone must own the answer);
    the probe's finding is shown beside it. An `na` item stays excluded; a probe finding is noted.
  * points = outcome value (met 1, partial 0.5, not_met 0) x evidence grade.
  * weight = severity: high 3, medium 2, low 1.
Per section
  * score % = sum(weight x points) / sum(weight) x 100 over applicable items (na excluded, unknown
    included at 0). `attainable` % is the same with every item at its best possible points (1 when
    it has a probe, 0.5 when it can only be attested).
Overall
  * `weighted`: the same formula over every applicable item of the checklist; `weakest`: the lowest
    section score (ML Test Score style: a strong area cannot mask a neglected one); both are shown.
  * `vs_attainable` = weighted / attainable x 100: how much of what this checklist can credit is
    credited. Bands use it, so that items that can only ever be attested (legal sign-off, access
    control) do not make "ready" unreachable.
  * open items = applicable items whose outcome is partial, not_met or unknown; counted per severity.
Verdict
  1. "not ready" when a high-severity item in a gate section (`gate: true`; evaluation and
     security & governance in the shipped checklist) is not_met or unknown;
  2. else "ready" when vs_attainable >= scoring.ready (85) and no high-severity item is open;
  3. else "conditionally ready" when vs_attainable >= scoring.conditional (60);
  4. else "not ready".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

import duckdb
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from . import probes as _probes
from .errors import WorkbenchError

SEVERITIES = ("high", "medium", "low")
WEIGHTS = {"high": 3, "medium": 2, "low": 1}
STATUSES = ("met", "partial", "not_met", "na")
OUTCOME_VALUE = {"met": 1.0, "partial": 0.5, "not_met": 0.0}
GRADE_ATTESTED, GRADE_AUTOMATED = 0.5, 1.0
NA_REASONS = ("OUT_OF_SCOPE", "BUSINESS_PRIORITIES", "ARCHITECTURE_CONSTRAINTS", "OTHER")
READY, CONDITIONAL, NOT_READY = "ready", "conditionally ready", "not ready"

# Crosswalk id formats (values from /work/shared/reference/readiness.md; checked, not invented).
NIST_600_1_RISKS = (
    "CBRN Information or Capabilities", "Confabulation", "Dangerous, Violent, or Hateful Content",
    "Data Privacy", "Environmental Impacts", "Harmful Bias and Homogenization", "Human-AI Configuration",
    "Information Integrity", "Information Security", "Intellectual Property",
    "Obscene, Degrading, and/or Abusive Content", "Value Chain and Component Integration",
)
_OWASP = re.compile(r"^LLM(0[1-9]|10):2025$")
_AWS = re.compile(r"^GEN(OPS|SEC|REL|PERF|COST|SUS)\d\d(-BP\d\d)?$")
_RMF = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SECTION_ID = re.compile(r"^[A-Za-z0-9_]{3,128}$")


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _listify(v):
    return [v] if isinstance(v, str) else v


class Crosswalk(_Strict):
    owasp_llm: list[str] = Field(default_factory=list, description="OWASP Top 10 for LLM 2025, e.g. LLM01:2025")
    nist_ai_600_1: list[str] = Field(default_factory=list, description="NIST AI 600-1 GAI risk names")
    nist_ai_rmf: list[str] = Field(default_factory=list, description="AI RMF subcategory, e.g. MEASURE 2.7")
    aws_genai_lens: list[str] = Field(default_factory=list, description="WA GenAI lens, e.g. GENOPS01-BP01")
    ml_test_score: list[str] = Field(default_factory=list, description="ML Test Score test, e.g. Infra-4")
    eu_ai_act: list[str] = Field(default_factory=list, description="EU AI Act article, e.g. Art. 50")

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, v):
        return _listify(v)

    @field_validator("owasp_llm")
    @classmethod
    def _owasp(cls, v):
        for x in v:
            if not _OWASP.match(x):
                raise ValueError(f"{x!r} is not an OWASP LLM 2025 id (LLM01:2025 .. LLM10:2025)")
        return v

    @field_validator("aws_genai_lens")
    @classmethod
    def _aws(cls, v):
        for x in v:
            if not _AWS.match(x):
                raise ValueError(f"{x!r} is not a GenAI lens id (e.g. GENOPS01 or GENOPS01-BP01)")
        return v

    @field_validator("nist_ai_600_1")
    @classmethod
    def _nist(cls, v):
        for x in v:
            if x not in NIST_600_1_RISKS:
                raise ValueError(f"{x!r} is not one of the 12 NIST AI 600-1 risks ({', '.join(NIST_600_1_RISKS)})")
        return v

    @field_validator("nist_ai_rmf")
    @classmethod
    def _rmf(cls, v):
        for x in v:
            if not _RMF.match(x):
                raise ValueError(f"{x!r} is not an AI RMF subcategory (e.g. MEASURE 2.7)")
        return v


class Item(_Strict):
    id: str
    title: str = Field(min_length=1)
    why: str = Field(min_length=1)
    severity: str
    stage: int = Field(ge=1, le=6)
    crosswalk: Crosswalk = Field(default_factory=Crosswalk)
    guidance: str = Field(min_length=1)
    evidence_to_close: str = ""
    probe: Optional[str] = None

    @field_validator("id")
    @classmethod
    def _id(cls, v):
        if not _ID.match(v):
            raise ValueError("must be letters, digits, '-' or '_' (at most 64)")
        return v

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, v):
        v = str(v).strip().lower() if v is not None else v
        if v not in SEVERITIES:
            raise ValueError("must be high, medium or low")
        return v

    @field_validator("probe")
    @classmethod
    def _probe(cls, v):
        if v is not None and v not in _probes.PROBES:
            raise ValueError(f"unknown probe {v!r} (known: {', '.join(sorted(_probes.PROBES))})")
        return v


class Section(_Strict):
    id: str
    title: str = Field(min_length=1)
    gate: bool = Field(False, description="a high item not met or unknown here makes the verdict 'not ready'")
    items: list[Item] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v):
        if not _SECTION_ID.match(v):
            raise ValueError("must be 3-128 letters, digits or '_' (it becomes a WA lens pillar id)")
        return v


class Scoring(_Strict):
    ready: float = Field(85.0, ge=0, le=100)
    conditional: float = Field(60.0, ge=0, le=100)
    rules: str = ""

    @model_validator(mode="after")
    def _order(self):
        if self.conditional > self.ready:
            raise ValueError("conditional must not exceed ready")
        return self


class Checklist(_Strict):
    id: str
    version: str
    title: str
    description: str = ""
    scoring: Scoring = Field(default_factory=Scoring)
    sections: list[Section] = Field(min_length=1)
    _path: Optional[str] = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v):
        return str(v) if isinstance(v, (int, float)) else v

    @model_validator(mode="after")
    def _unique(self):
        seen, sec = set(), set()
        for s in self.sections:
            if s.id in sec:
                raise ValueError(f"section {s.id}: duplicate section id")
            sec.add(s.id)
            for it in s.items:
                if it.id in seen:
                    raise ValueError(f"item {it.id}: duplicate item id")
                seen.add(it.id)
        return self

    @property
    def items(self) -> list[tuple[Section, Item]]:
        return [(s, it) for s in self.sections for it in s.items]

    def item(self, item_id: str) -> Item | None:
        return next((it for _, it in self.items if it.id == item_id), None)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


class Answer(_Strict):
    status: str
    evidence: Union[str, list[str], None] = None
    owner: Optional[str] = None
    due: Optional[date] = None
    reason: Optional[str] = None
    reason_code: Optional[str] = None
    approver: Optional[str] = None
    notes: Optional[str] = None

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        s = str(v).strip().lower().replace(" ", "_").replace("-", "_") if v is not None else ""
        s = {"n/a": "na", "not_applicable": "na", "notmet": "not_met", "unmet": "not_met"}.get(s, s)
        if s not in STATUSES:
            raise ValueError("must be met, partial, not_met or na")
        return s

    @field_validator("reason_code")
    @classmethod
    def _code(cls, v):
        if v is not None and v not in NA_REASONS:
            raise ValueError(f"must be one of {', '.join(NA_REASONS)}")
        return v

    @model_validator(mode="after")
    def _na(self):
        if self.status == "na":
            missing = [f for f in ("reason", "approver") if not (getattr(self, f) or "").strip()]
            if missing:
                raise ValueError(f"status na needs {' and '.join(missing)} (who approved leaving it out, and why)")
        return self

    def evidence_list(self) -> list[str]:
        return [] if self.evidence is None else _listify(self.evidence)


class Answers(_Strict):
    checklist: Optional[str] = None
    answered_by: Optional[str] = None
    answered_on: Optional[date] = None
    answers: dict[str, Answer] = Field(default_factory=dict)
    _path: Optional[str] = PrivateAttr(default=None)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Loading and validation (messages name the file, the item and the field)
# ---------------------------------------------------------------------------------------------

from .config import read_yaml as _read_yaml  # noqa: E402


def _msg(e: dict) -> str:
    m = e["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if m.startswith(prefix):
            m = m[len(prefix):]
    return m


def _checklist_problem(data: dict, e: dict) -> str:
    """'item cost-03: severity: must be high, medium or low' from a pydantic error location."""
    loc, node, label, fields = list(e["loc"]), data, None, []
    while loc:
        key = loc.pop(0)
        if key in ("sections", "items") and loc and isinstance(loc[0], int):
            idx = loc.pop(0)
            seq = node.get(key) if isinstance(node, dict) else None
            node = seq[idx] if isinstance(seq, list) and idx < len(seq) else None
            cid = node.get("id") if isinstance(node, dict) else None
            kind = "section" if key == "sections" else "item"
            label, fields = f"{kind} {cid}" if cid else f"{kind} #{idx + 1}", []
            continue
        fields.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ": ".join([p for p in (label, ".".join(fields)) if p] + [_msg(e)])


def validate_checklist(data: Any, source: str = "checklist") -> Checklist:
    """Validate a parsed checklist mapping; WorkbenchError lists every problem, naming item and field."""
    if not isinstance(data, dict):
        raise WorkbenchError(f"{source}: a checklist is a mapping with id, version, title and sections")
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {_checklist_problem(data, e)}" for e in exc.errors()]
        raise WorkbenchError("\n".join(problems)) from None


def load_checklist(path: str | Path) -> Checklist:
    """Load a checklist YAML (or an AWS Well-Architected custom-lens JSON) and validate it."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return import_wa_lens(path)
    cl = validate_checklist(_read_yaml(path, "checklist"), path.name)
    cl._path = str(path)
    return cl


def validate_answers(data: Any, checklist: Checklist | None = None, source: str = "answers") -> Answers:
    """Validate parsed answers; with a checklist, item ids must exist in it."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WorkbenchError(f"{source}: answers are a mapping with `answers:` (item id -> status, evidence, ...)")
    raw = data.get("answers") or {}
    if not isinstance(raw, dict):
        raise WorkbenchError(f"{source}: answers: must be a mapping of item id -> answer")
    problems = []
    for item_id, ans in raw.items():
        if checklist is not None and checklist.item(str(item_id)) is None:
            problems.append(f"{source}: item {item_id}: not in checklist {checklist.id}")
        if isinstance(ans, str):  # shorthand `eval-01: met`
            raw[item_id] = ans = {"status": ans}
        if not isinstance(ans, dict):
            problems.append(f"{source}: item {item_id}: must be a mapping with at least `status`")
            continue
        try:
            Answer.model_validate(ans)
        except ValidationError as exc:
            for e in exc.errors():
                f = ".".join(str(p) for p in e["loc"])
                problems.append(f"{source}: item {item_id}: " + (f"{f}: " if f else "") + _msg(e))
    if problems:
        raise WorkbenchError("\n".join(problems))
    try:
        ans = Answers.model_validate({**data, "answers": {str(k): v for k, v in raw.items()}})
    except ValidationError as exc:
        raise WorkbenchError("\n".join(
            f"{source}: {'.'.join(str(p) for p in e['loc'])}: {_msg(e)}" for e in exc.errors())) from None
    if checklist is not None and ans.checklist and ans.checklist != checklist.id:
        raise WorkbenchError(f"{source}: checklist: these answers are for {ans.checklist!r}, not {checklist.id!r}")
    return ans


def load_answers(path: str | Path, checklist: Checklist | None = None) -> Answers:
    path = Path(path)
    ans = validate_answers(_read_yaml(path, "answers"), checklist, path.name)
    ans._path = str(path)
    return ans


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
    from . import __version__

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
        save_assessment(con, a)
    return a


# ---------------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------------

def save_assessment(con: duckdb.DuckDBPyConnection, a: Assessment) -> int:
    """Store an assessment and its per-item rows; sets and returns `a.assessment_id`."""
    con.execute("BEGIN TRANSACTION")
    try:
        aid = con.execute("SELECT nextval('assessment_id_seq')").fetchone()[0]
        a.assessment_id = aid
        o = a.overall
        con.execute(
            "INSERT INTO assessments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [aid, a.created_at, a.checklist["id"], a.checklist["version"], a.checklist["hash"], a.checklist["path"],
             a.answers["path"], a.answers["hash"], a.data["fingerprint"], a.verdict, o["weighted"], o["weakest"],
             o["open_high"], o["open_medium"], json.dumps(a.as_dict(), default=str), a.data["workbench_version"]])
        con.executemany(
            "INSERT INTO assessment_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[aid, r.id, r.section, r.severity, r.stage, r.answer_status, r.probe, r.probe_outcome, r.outcome,
              r.evidence_grade, r.points, r.weight, r.contradiction] for r in a.items])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return aid


def list_assessments(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("""SELECT assessment_id, created_at, checklist_id, checklist_version, verdict,
                                score_weighted, score_weakest, open_high, open_medium
                         FROM assessments ORDER BY assessment_id""")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def load_assessment(con: duckdb.DuckDBPyConnection, assessment_id: int) -> dict:
    row = con.execute("SELECT result FROM assessments WHERE assessment_id = ?", [assessment_id]).fetchone()
    if not row:
        raise WorkbenchError(f"no assessment {assessment_id} in this database (see list_assessments)")
    return json.loads(row[0])


@dataclass
class Comparison:
    a: dict
    b: dict
    improved: list[dict]
    regressed: list[dict]
    changed: list[dict]
    added: list[str]
    removed: list[str]
    unchanged: int
    checklist_changed: bool

    def as_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        lines = [f"Assessment {self.a['id']} -> {self.b['id']}: verdict {self.a['verdict']} -> {self.b['verdict']}; "
                 f"weighted {_fmt(self.a['weighted'])} -> {_fmt(self.b['weighted'])}, "
                 f"weakest {_fmt(self.a['weakest'])} -> {_fmt(self.b['weakest'])}"]
        if self.checklist_changed:
            lines.append("note: the checklist changed between the two assessments")
        for label, rows in (("Improved", self.improved), ("Regressed", self.regressed), ("Changed", self.changed)):
            if rows:
                lines.append(f"{label}:")
                lines += [f"  {r['item_id']}: {_status_words(r['outcome_a'])} -> {_status_words(r['outcome_b'])}"
                          for r in rows]
        return "\n".join(lines)


def compare(con: duckdb.DuckDBPyConnection, id_a: int, id_b: int) -> Comparison:
    """What improved and what regressed between two stored assessments (by points, item by item)."""
    heads = {}
    for aid in (id_a, id_b):
        row = con.execute("""SELECT assessment_id, created_at, verdict, score_weighted, score_weakest,
                                    open_high, open_medium, checklist_hash FROM assessments WHERE assessment_id = ?""",
                          [aid]).fetchone()
        if not row:
            raise WorkbenchError(f"no assessment {aid} in this database (see list_assessments)")
        heads[aid] = {"id": row[0], "created_at": str(row[1]), "verdict": row[2], "weighted": row[3],
                      "weakest": row[4], "open_high": row[5], "open_medium": row[6], "checklist_hash": row[7]}
    cur = con.execute("""
        SELECT coalesce(a.item_id, b.item_id) AS item_id, a.outcome AS outcome_a, b.outcome AS outcome_b,
               a.points AS points_a, b.points AS points_b, a.evidence_grade AS grade_a, b.evidence_grade AS grade_b,
               coalesce(b.severity, a.severity) AS severity, b.contradiction
        FROM (SELECT * FROM assessment_items WHERE assessment_id = ?) a
        FULL OUTER JOIN (SELECT * FROM assessment_items WHERE assessment_id = ?) b USING (item_id)
        ORDER BY item_id""", [id_a, id_b])
    names = [d[0] for d in cur.description]
    improved, regressed, changed, added, removed, same = [], [], [], [], [], 0
    for r in (dict(zip(names, x)) for x in cur.fetchall()):
        if r["outcome_a"] is None:
            added.append(r["item_id"])
        elif r["outcome_b"] is None:
            removed.append(r["item_id"])
        elif r["points_a"] is not None and r["points_b"] is not None and r["points_b"] > r["points_a"]:
            improved.append(r)
        elif r["points_a"] is not None and r["points_b"] is not None and r["points_b"] < r["points_a"]:
            regressed.append(r)
        elif r["outcome_a"] != r["outcome_b"] or r["grade_a"] != r["grade_b"]:
            changed.append(r)
        else:
            same += 1
    a, b = heads[id_a], heads[id_b]
    return Comparison(a=a, b=b, improved=improved, regressed=regressed, changed=changed, added=added,
                      removed=removed, unchanged=same, checklist_changed=a["checklist_hash"] != b["checklist_hash"])


# ---------------------------------------------------------------------------------------------
# AWS Well-Architected custom lens (schemaVersion 2021-11-01)
# ---------------------------------------------------------------------------------------------
# Mapping: section -> pillar, item -> question (id with '-' -> '_'), three choices per question:
# `<q>_met` (fully in place), `<q>_partial` (partly in place), `<q>_no` ("None of these").
# Severity lives in the risk rules (the lens format has no LOW risk level):
#   high:   <q>_met -> NO_RISK;  <q>_partial -> MEDIUM_RISK;  default -> HIGH_RISK
#   medium: <q>_met -> NO_RISK;  default -> MEDIUM_RISK
#   low:    <q>_met || <q>_partial -> NO_RISK;  default -> MEDIUM_RISK
# Import reverses it: a HIGH_RISK rule -> high; else a NO_RISK rule naming a non-"met" choice -> low;
# else medium. Lenses written elsewhere import the same way, one item per question, guidance from
# the choices' improvement plans.

LENS_SCHEMA = "2021-11-01"


def _cut(s: str, n: int) -> str:
    s = " ".join((s or "").split())
    return s if len(s) <= n else s[: n - 1] + "…"


def export_wa_lens(checklist: Checklist) -> dict:
    """The checklist as a WA Tool custom-lens JSON document (a dict; json.dump it)."""
    if len(checklist.sections) > 10:
        raise WorkbenchError(f"checklist {checklist.id}: a lens holds at most 10 pillars (sections)")
    pillars = []
    for s in checklist.sections:
        if len(s.items) > 20:
            raise WorkbenchError(f"checklist {checklist.id}: section {s.id}: a lens pillar holds at most 20 questions")
        questions = []
        for it in s.items:
            q = it.id.replace("-", "_")
            why = _cut(it.why, 2048)
            choices = [
                {"id": f"{q}_met", "title": _cut(f"Fully in place: {it.title}", 128),
                 "helpfulResource": {"displayText": why},
                 "improvementPlan": {"displayText": _cut(it.guidance, 2048)}},
                {"id": f"{q}_partial", "title": _cut(f"Partly in place: {it.title}", 128),
                 "helpfulResource": {"displayText": why},
                 "improvementPlan": {"displayText": _cut(it.guidance, 2048)}},
                {"id": f"{q}_no", "title": "None of these", "helpfulResource": {"displayText": why}},
            ]
            if it.severity == "high":
                rules = [{"condition": f"{q}_met", "risk": "NO_RISK"},
                         {"condition": f"{q}_partial", "risk": "MEDIUM_RISK"},
                         {"condition": "default", "risk": "HIGH_RISK"}]
            elif it.severity == "medium":
                rules = [{"condition": f"{q}_met", "risk": "NO_RISK"},
                         {"condition": "default", "risk": "MEDIUM_RISK"}]
            else:
                rules = [{"condition": f"{q}_met || {q}_partial", "risk": "NO_RISK"},
                         {"condition": "default", "risk": "MEDIUM_RISK"}]
            desc = it.why
            xw = [x for v in it.crosswalk.model_dump().values() for x in v]
            if xw:
                desc += " [" + ", ".join(xw) + "]"
            questions.append({"id": q, "title": _cut(it.title, 128), "description": _cut(desc, 2048),
                              "choices": choices, "riskRules": rules})
        pillars.append({"id": s.id, "name": _cut(s.title, 128), "questions": questions})
    return {"schemaVersion": LENS_SCHEMA, "name": _cut(checklist.title, 128),
            "description": _cut(f"{checklist.description} (workbench checklist {checklist.id} "
                                f"v{checklist.version})", 2048),
            "pillars": pillars}


def write_wa_lens(checklist: Checklist, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(export_wa_lens(checklist), indent=2, ensure_ascii=False) + "\n")
    return path


def _lens_fail(src: str, where: str, msg: str):
    raise WorkbenchError(f"{src}: {where}: {msg}")


def lens_to_checklist(lens: Any, source: str = "lens.json") -> Checklist:
    """Validate a custom-lens document and turn it into a checklist (severity from its risk rules)."""
    if not isinstance(lens, dict):
        _lens_fail(source, "(top level)", "a lens is a JSON object with schemaVersion, name, description, pillars")
    for k in ("schemaVersion", "name", "pillars"):
        if k not in lens:
            _lens_fail(source, k, "required")
    if lens["schemaVersion"] != LENS_SCHEMA:
        _lens_fail(source, "schemaVersion", f"must be {LENS_SCHEMA!r}")
    pillars = lens["pillars"]
    if not isinstance(pillars, list) or not 1 <= len(pillars) <= 10:
        _lens_fail(source, "pillars", "must be a list of 1 to 10 pillars")
    sections = []
    for pi, p in enumerate(pillars):
        pw = f"pillars[{pi}]"
        if not isinstance(p, dict) or not _SECTION_ID.match(str(p.get("id", ""))):
            _lens_fail(source, f"{pw}.id", "required, 3-128 letters, digits or '_'")
        qs = p.get("questions")
        if not isinstance(qs, list) or not 1 <= len(qs) <= 20:
            _lens_fail(source, f"pillar {p['id']}: questions", "must be a list of 1 to 20 questions")
        items = []
        for qi, q in enumerate(qs):
            qid = q.get("id") if isinstance(q, dict) else None
            qw = f"pillar {p['id']}: question {qid or '#' + str(qi + 1)}"
            if not qid:
                _lens_fail(source, qw, "id: required")
            if not q.get("title"):
                _lens_fail(source, qw, "title: required")
            choices = q.get("choices")
            if not isinstance(choices, list) or not 1 <= len(choices) <= 15:
                _lens_fail(source, qw, "choices: must be a list of 1 to 15 choices")
            rules = q.get("riskRules")
            if not isinstance(rules, list) or not rules:
                _lens_fail(source, qw, "riskRules: required")
            if not any(isinstance(r, dict) and r.get("condition") == "default" for r in rules):
                _lens_fail(source, qw, "riskRules: a `default` rule is required")
            for r in rules:
                if r.get("risk") not in ("NO_RISK", "MEDIUM_RISK", "HIGH_RISK"):
                    _lens_fail(source, qw, "riskRules: risk must be NO_RISK, MEDIUM_RISK or HIGH_RISK")
            risks = {r["risk"] for r in rules}
            met_ids = {c.get("id") for c in choices if str(c.get("id", "")).endswith("_met")}
            no_risk_conds = " ".join(r["condition"] for r in rules if r["risk"] == "NO_RISK")
            low = bool(met_ids) and any(
                cid in no_risk_conds for cid in (c.get("id") for c in choices)
                if cid and cid not in met_ids and not str(cid).endswith("_no"))
            severity = "high" if "HIGH_RISK" in risks else "low" if low else "medium"
            plans = [c["improvementPlan"]["displayText"] for c in choices
                     if isinstance(c, dict) and isinstance(c.get("improvementPlan"), dict)
                     and c["improvementPlan"].get("displayText")]
            practice = [c.get("title", "") for c in choices if not str(c.get("id", "")).endswith("_no")]
            guidance = " ".join(dict.fromkeys(plans)) or "Put in place: " + "; ".join(practice)
            items.append({"id": qid, "title": q["title"], "why": q.get("description") or q["title"],
                          "severity": severity, "stage": min(pi + 1, 6), "guidance": guidance})
        sections.append({"id": p["id"], "title": p.get("name") or p["id"], "items": items})
    m = re.search(r"workbench checklist (\S+) v(\S+)\)", lens.get("description", ""))
    return validate_checklist({
        "id": m.group(1) if m else re.sub(r"[^A-Za-z0-9_-]+", "-", lens["name"]).strip("-").lower()[:64],
        "version": m.group(2) if m else "imported",
        "title": lens["name"], "description": re.sub(r"\s*\(workbench checklist .*\)$", "", lens.get("description", "")),
        "sections": sections}, source)


def import_wa_lens(path: str | Path) -> Checklist:
    path = Path(path)
    try:
        lens = json.loads(path.read_text())
    except OSError as exc:
        raise WorkbenchError(f"cannot read lens {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path.name}: not valid JSON: {exc}") from None
    cl = lens_to_checklist(lens, path.name)
    cl._path = str(path)
    return cl
