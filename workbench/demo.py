"""`workbench demo`: the bundled sample pilot, end to end, into one output folder.

Each later stage (projection, assessment, evals, report) plugs in here as it lands; the demo
is the README's first command, so it must keep working on a fresh machine, offline.
"""

from __future__ import annotations

from pathlib import Path

from .config import resource
from .errors import WorkbenchError

DATA = resource("data")  # the repository's data/ in a checkout, the packaged copy in a wheel
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
CHECKLIST = resource("checklists", "production-readiness.yaml")


def run_demo(out: Path) -> dict:
    """The whole flow on the sample pilot, offline: ingest, project, evals (local stub server),
    readiness review, then the client report. Returns what was made and where."""
    import json

    from .api import Workbench
    from .evals import run_demo as run_evals
    from .cost.projection import project
    from .report.render import render_report

    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.duckdb"
    for leftover in (db, db.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    with Workbench(db) as wb:
        wb.set_prices(PRICES)  # the sample's negotiated prices are this database's book
        ingested = wb.ingest(sample_logs())
        wb.load_outcomes(SAMPLE / "outcomes.csv")
        with wb.connect(write=True) as con:
            projection = project(con, sample_scenarios(), (1, 10, 50, 100), PRICES)
            evals = run_evals(con)
        assessment = wb.assess(CHECKLIST, DATA / "answers.yaml")
        overview = wb.overview()
    files = {"projection": out / "projection.json", "assessment": out / "assessment.json"}
    files["projection"].write_text(json.dumps(projection, indent=2, default=str))
    files["assessment"].write_text(json.dumps(assessment.as_dict(), indent=2, default=str))
    # the report notebook opens the database itself: this process has closed it
    made = render_report("Demo client", out, db=db, scenarios=sample_scenarios(), answers=DATA / "answers.yaml",
                         prices=PRICES, pdf=False)
    files.update(notebook=made["notebook"], report=made["html"])
    return {
        "db": str(db), "ingest": ingested.as_dict(), "overview": overview, "projection": projection,
        "evals": {k: evals[k].rows() for k in ("baseline", "candidate")},
        "assessment": {"verdict": assessment.verdict, "overall": assessment.overall,
                       "contradictions": assessment.contradictions},
        "files": {k: str(v) for k, v in files.items()},
    }
