"""The Python API notebooks use: `Workbench(db)` wraps one database file.

A `Workbench` holds no connection between calls: each method opens the file for as long as it
runs — read-only to read, for writing only to write — and closes it. DuckDB lets one process
write a file, or several read it, not both; short connections are what let a notebook stay open
while `workbench ingest` runs in a terminal, and let it see the new calls on its next call. A
call that finds the file busy waits a bounded time, saying who holds it (`store.connect`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import duckdb

from . import store
from .errors import WorkbenchError


class Workbench:
    """One workbench database.

    >>> wb = Workbench("pilot.duckdb")
    >>> wb.ingest(["logs/"])            # IngestReport: per-file reconciliation
    >>> wb.summary(by="feature")        # pandas DataFrame
    >>> wb.calls().filter("status = 'error'").df()
    >>> wb.set_prices("data/prices.yaml")   # this database's price book, for every later use
    >>> with wb.connect() as con:       # a read-only DuckDB connection for your own queries
    ...     con.sql("SELECT model, count(*) FROM priced_calls GROUP BY 1").df()

    `read_only=True` never opens the file for writing (the explorer's and the report's kernels):
    methods that write raise WorkbenchError.
    """

    def __init__(self, db: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = store.resolve_db_path(db)
        self.read_only = read_only
        self._held: duckdb.DuckDBPyConnection | None = None
        self._memory: duckdb.DuckDBPyConnection | None = None  # where `sql` results live
        # open once now, so a wrong path or a file that is not a workbench database fails here;
        # a writable one is created and migrated
        store.connect(self.path, read_only=read_only).close()

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one piece of work, closed when the block ends.

        Read-only unless `write`; `priced_calls` in it is priced with the database's book (in
        memory when the stored book is out of date and the file is open read-only)."""
        if self._held is not None:  # `wb.con` is open: this process already holds the file
            yield self._held
            return
        if write and self.read_only:
            raise WorkbenchError(f"{self.path} is open read-only here (Workbench(..., read_only=True)): "
                                 "open it with Workbench(db) to change it")
        con = store.connect(self.path, read_only=not write)
        try:
            yield con
        finally:
            con.close()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A connection held until `close()` (for code written before `connect()`): it keeps every
        other process off the file meanwhile, so prefer `with wb.connect() as con:`."""
        if self._held is None:
            self._held = store.connect(self.path, read_only=self.read_only)
        return self._held

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
        with self.connect(write=True) as con:
            return ingest_paths(con, paths, format, Options(set=dict(set or {}), map=dict(map or {})), progress)

    def summary(self, by: str = "model"):
        """Calls, token buckets, error rate and latency p50/p95/p99 per model, feature or day."""
        from .ingest.summary import summary

        with self.connect() as con:
            return summary(con, by).df()

    def overview(self) -> dict:
        from .ingest.summary import overview

        with self.connect() as con:
            return overview(con)

    def project(self, scenarios: Iterable[str | os.PathLike] = (), multipliers=(1, 10, 50, 100),
                prices: str | os.PathLike | None = None) -> dict:
        """Monthly cost per scenario x multiplier, with provenance (see `workbench project`).

        Priced with this database's book (`set_prices`); `prices` names other overrides for this
        call only (the database's book is restored afterwards). Scenario checks are in the result's
        `warnings`; a routing target with no price raises WorkbenchError."""
        from .cost.projection import project

        with self.connect() as con:
            return project(con, list(scenarios), multipliers, prices)

    def projector(self, prices: str | os.PathLike | None = None):
        """A Projector over this database: build the profile once, evaluate scenarios in milliseconds.

        Its book is this database's (`set_prices`) unless `prices` names other overrides; the
        tables in the database are not changed by `prices`."""
        from .cost.book import load_price_book
        from .cost.engine import Projector
        from .cost.pricing import ensure_price_book
        from .cost.profile import build_profile

        with self.connect() as con:
            path = prices or ensure_price_book(con)["overrides_path"]
            return Projector(build_profile(con), load_price_book(path))

    def set_prices(self, prices: str | os.PathLike | None) -> dict:
        """Make `prices` (an overrides YAML; None: litellm's list prices) this database's price book:
        every later command, notebook and report prices with it. Returns `price_book()`."""
        from .cost.pricing import set_price_book

        with self.connect(write=True) as con:
            set_price_book(con, prices, set_by="Workbench.set_prices")
        return self.price_book()

    def price_book(self) -> dict:
        """This database's price book: the overrides file as set, its sha256, the book version in
        force, and notes (the file changed or vanished, the installed litellm changed)."""
        from .cost.pricing import ensure_price_book

        with self.connect(write=not self.read_only) as con:  # brings a stale stored book up to date
            return ensure_price_book(con)

    def priced_calls(self) -> duckdb.DuckDBPyRelation:
        """Every call with its price key, cost buckets and cost (NULL when unpriced), priced with
        this database's book (a copy in memory: see `sql`)."""
        return self.sql("SELECT * FROM priced_calls")

    def assess(self, checklist: str | os.PathLike | None = None,
               answers: str | os.PathLike | None = None, store: bool = True):
        """Readiness review: an Assessment (verdict, section scores, evidence, contradictions, plan).
        `checklist` defaults to the bundled production-readiness checklist; `store` keeps it in the
        database's history (a write)."""
        from .config import resource
        from .readiness.scoring import assess

        checklist = checklist or resource("checklists", "production-readiness.yaml")

        with self.connect(write=store) as con:
            return assess(con, checklist, answers, store=store)

    def evaluate(self, suite: str | os.PathLike, **options):
        """Run an eval suite (see `workbench eval`); returns an EvalReport (`.gate_passed`, `.rows()`)."""
        from .evals import run_suite

        with self.connect(write=True) as con:
            return run_suite(con, suite, **options)

    def report(self, client: str, out_dir: str | os.PathLike, **options) -> dict:
        """Render a client report from this database (the report's kernel opens it read-only)."""
        from .report.render import render_report

        self.close()  # a held `con` would keep the report's kernel off the file
        return render_report(client, out_dir, db=self.path, **options)

    def load_outcomes(self, path: str | os.PathLike) -> int:
        from .cost.outcomes import load_outcomes

        with self.connect(write=True) as con:
            return load_outcomes(con, path)

    def calls(self) -> duckdb.DuckDBPyRelation:
        """The canonical calls table as a DuckDB relation (`.df()` for pandas; a copy: see `sql`)."""
        return self.sql("SELECT * FROM calls")

    def quarantine(self) -> duckdb.DuckDBPyRelation:
        """Rows that could not be used, each with its reason, file and line (a copy: see `sql`)."""
        return self.sql("SELECT * FROM quarantine")

    def sql(self, query: str, params=None) -> duckdb.DuckDBPyRelation:
        """The result of a query, as a relation over a copy in this process's memory: it stays
        usable (`.df()`, `.filter()`, further SQL) after the file is closed, and it never holds
        the file. For queries on a large table, aggregate in `query` rather than after."""
        with self.connect() as con:
            table = con.sql(query, params=params).to_arrow_table()
        if self._memory is None:
            self._memory = duckdb.connect()
        return self._memory.from_arrow(table)

    def close(self) -> None:
        """Let go of the file if `con` holds it (otherwise nothing is open)."""
        if self._held is not None:
            self._held.close()
            self._held = None

    def __enter__(self) -> "Workbench":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workbench({str(Path(self.path))!r})"
