"""`workbench demo`: the bundled sample pilot, end to end, into one output folder.

Each later stage (projection, assessment, evals, report) plugs in here as it lands; the demo
is the README's first command, so it must keep working on a fresh machine, offline.
"""

from __future__ import annotations

from pathlib import Path

from .errors import WorkbenchError

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "sample"


def sample_logs() -> list[Path]:
    files = sorted(p for p in SAMPLE.glob("*.jsonl.gz"))
    if not files:
        raise WorkbenchError(
            f"the bundled sample data is missing ({SAMPLE}); run from a clone of the repository "
            "installed with `pip install -e .`, or regenerate it with `python data/generate_sample.py`"
        )
    return files


def sample_scenarios() -> list[Path]:
    return sorted((DATA / "scenarios").glob("*.yaml"))


PRICES = DATA / "prices.yaml"
CHECKLIST = DATA.parent / "checklists" / "production-readiness.yaml"


def run_demo(out: Path) -> dict:
    """Ingest the sample pilot into a fresh database under `out`, project it; return what was made."""
    import json

    from .api import Workbench
    from .outcomes import load_outcomes
    from .projection import project

    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.duckdb"
    for leftover in (db, db.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    with Workbench(db) as wb:
        report = wb.ingest(sample_logs())
        load_outcomes(wb.con, SAMPLE / "outcomes.csv")
        projection = project(wb.con, sample_scenarios(), (1, 10, 50, 100), PRICES)
        (out / "projection.json").write_text(json.dumps(projection, indent=2, default=str))
        from .evals import run_demo as run_evals

        evals = run_evals(wb.con)  # against the local stub server: offline
        assessment = wb.assess(CHECKLIST, DATA / "answers.yaml")
        (out / "assessment.json").write_text(json.dumps(assessment.as_dict(), indent=2, default=str))
        return {"db": str(db), "ingest": report.as_dict(), "overview": wb.overview(), "projection": projection,
                "evals": {k: evals[k].rows() for k in ("baseline", "candidate")},
                "assessment": {"verdict": assessment.verdict, "overall": assessment.overall,
                               "contradictions": assessment.contradictions},
                "files": {"projection": str(out / "projection.json"), "assessment": str(out / "assessment.json")}}
