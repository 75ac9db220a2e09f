"""The AWS Well-Architected custom-lens JSON format: export a checklist as a lens, import a lens as a checklist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from .checklist import _SECTION_ID, Checklist, validate_checklist

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
