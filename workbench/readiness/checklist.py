"""The checklist and answers models: what a readiness lens asks, and what the team answered.

Validation names the file and the field. Scoring is `scoring.py`, stored history and
comparison `history.py`, the AWS Well-Architected lens format `lens.py`, the evidence probes
`probes.py`.


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
import re
from datetime import date
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..config import read_yaml as _read_yaml  # noqa: E402
from ..errors import WorkbenchError
from . import probes as _probes

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
        from .lens import import_wa_lens

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
