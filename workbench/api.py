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
        from .summary import summary

        return summary(self.con, by).df()

    def overview(self) -> dict:
        from .summary import overview

        return overview(self.con)

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
