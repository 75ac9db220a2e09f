"""The Python API notebooks use: `Workbench(db)` wraps one database file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import duckdb

from . import store


class Workbench:
    """One workbench database.

    >>> wb = Workbench("pilot.duckdb")
    >>> wb.ingest(["logs/"])            # IngestReport: per-file reconciliation
    >>> wb.summary(by="feature")        # pandas DataFrame
    >>> wb.calls().filter("status = 'error'").df()
    >>> wb.set_prices("data/prices.yaml")   # this database's price book, for every later use
    """

    def __init__(self, db: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = store.resolve_db_path(db)
        self.con = store.connect(self.path, read_only=read_only)

    def ingest(
        self,
        paths: str | os.PathLike | Iterable[str | os.PathLike],
        format: str | None = None,
        set: dict[str, str] | None = None,
        map: dict[str, str] | None = None,
        progress: bool | None = False,
    ):
        """Ingest files, directories or globs; returns an IngestReport (see `.as_dict()`)."""
        from .ingest import Options, ingest_paths

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return ingest_paths(self.con, paths, format, Options(set=dict(set or {}), map=dict(map or {})), progress)

    def summary(self, by: str = "model"):
        """Calls, token buckets, error rate and latency p50/p95/p99 per model, feature or day."""
        from .ingest.summary import summary

        return summary(self.con, by).df()

    def overview(self) -> dict:
        from .ingest.summary import overview

        return overview(self.con)

    def project(self, scenarios: Iterable[str | os.PathLike] = (), multipliers=(1, 10, 50, 100),
                prices: str | os.PathLike | None = None) -> dict:
        """Monthly cost per scenario x multiplier, with provenance (see `workbench project`).

        Priced with this database's book (`set_prices`); `prices` names other overrides for this
        call only (the database's book is restored afterwards). Scenario checks are in the result's
        `warnings`; a routing target with no price raises WorkbenchError."""
        from .cost.projection import project

        return project(self.con, list(scenarios), multipliers, prices)

    def projector(self, prices: str | os.PathLike | None = None):
        """A Projector over this database: build the profile once, evaluate scenarios in milliseconds.

        Its book is this database's (`set_prices`) unless `prices` names other overrides; the
        tables in the database are not changed by `prices`."""
        from .cost.book import load_price_book
        from .cost.engine import Projector
        from .cost.pricing import ensure_price_book
        from .cost.profile import build_profile

        path = prices or ensure_price_book(self.con)["overrides_path"]
        return Projector(build_profile(self.con), load_price_book(path))

    def set_prices(self, prices: str | os.PathLike | None) -> dict:
        """Make `prices` (an overrides YAML; None: litellm's list prices) this database's price book:
        every later command, notebook and report prices with it. Returns `price_book()`."""
        from .cost.pricing import set_price_book

        set_price_book(self.con, prices, set_by="Workbench.set_prices")
        return self.price_book()

    def price_book(self) -> dict:
        """This database's price book: the overrides file as set, its sha256, the book version in
        force, and notes (the file changed or vanished, the installed litellm changed)."""
        from .cost.pricing import ensure_price_book

        return ensure_price_book(self.con)

    def priced_calls(self) -> duckdb.DuckDBPyRelation:
        """Every call with its price key, cost buckets and cost (NULL when unpriced), priced with
        this database's book."""
        from .cost.pricing import ensure_price_book

        ensure_price_book(self.con)
        return self.con.table("priced_calls")

    def assess(self, checklist: str | os.PathLike = "checklists/production-readiness.yaml",
               answers: str | os.PathLike | None = None, store: bool = True):
        """Readiness review: an Assessment (verdict, section scores, evidence, contradictions, plan)."""
        from .readiness.scoring import assess

        return assess(self.con, checklist, answers, store=store)

    def evaluate(self, suite: str | os.PathLike, **options):
        """Run an eval suite (see `workbench eval`); returns an EvalReport (`.gate_passed`, `.rows()`)."""
        from .evals import run_suite

        return run_suite(self.con, suite, **options)

    def report(self, client: str, out_dir: str | os.PathLike, **options) -> dict:
        """Render a client report from this database (closes it first: the report's kernel opens it)."""
        from .report.render import render_report

        self.close()
        return render_report(client, out_dir, db=self.path, **options)

    def load_outcomes(self, path: str | os.PathLike) -> int:
        from .cost.outcomes import load_outcomes

        return load_outcomes(self.con, path)

    def calls(self) -> duckdb.DuckDBPyRelation:
        """The canonical calls table as a DuckDB relation (`.df()` for pandas)."""
        return self.con.table("calls")

    def quarantine(self) -> duckdb.DuckDBPyRelation:
        return self.con.table("quarantine")

    def sql(self, query: str, params=None) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query, params=params)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Workbench":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workbench({str(Path(self.path))!r})"
