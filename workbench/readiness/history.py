"""Stored assessments: save, list, load, and compare two (what improved, what regressed)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import duckdb

from ..errors import WorkbenchError
from .scoring import Assessment, _fmt, _status_words

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
