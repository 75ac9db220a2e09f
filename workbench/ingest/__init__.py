"""Ingest pilot LLM call logs: many paths in, one canonical `calls` table out.

`ingest_paths` expands paths (files, directories, globs), ingests each file atomically and
keeps going when one file is unusable, so a batch of exports is never half-lost to one bad file.
When any call was accepted, the calls are priced with the database's price book before returning
(`workbench.cost.pricing.ensure_price_book`): `priced_calls` shows costs straight after ingest.
"""

from __future__ import annotations

import glob
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import duckdb

from .._imports import lazy_exports
from ..errors import WorkbenchError
from .adapters.base import Options

if TYPE_CHECKING:
    from .pipeline import IngestResult

__all__ = ["IngestReport", "Options", "expand_paths", "format_names", "ingest_file", "ingest_paths"]
# The pipeline and its adapters load on first use: `store` imports this package's small modules
# (error_classes, redact) on every connect, and should not pay for the adapters then.
__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(
    ["IngestResult", "format_names", "ingest_file", "no_calls_message"], ".pipeline"))

# Extensions picked up when a directory is given.
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq")
# Show a progress bar when this much data is ingested (bytes).
PROGRESS_THRESHOLD = 32 * 2**20


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    # what `priced_calls` is priced with after this ingest (`ensure_price_book`), or None
    price_book: dict | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined")
        return {k: sum(getattr(r, k) for r in self.results) for k in keys}

    def as_dict(self) -> dict:
        return {
            "files": [r.as_dict() for r in self.results],
            "errors": [{"path": p, "error": e} for p, e in self.errors],
            "totals": self.totals(),
            "price_book": self.price_book,
            "warnings": list(self.warnings),
        }


def _is_data_file(p: Path) -> bool:
    name = p.name.lower().removesuffix(".gz")
    return p.is_file() and not p.name.startswith(".") and name.endswith(DATA_SUFFIXES)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to ingest (sorted, each once) and the paths that matched nothing."""
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if _is_data_file(f))
            if not found:
                missing.append((str(raw), f"no log files ({', '.join(DATA_SUFFIXES)}, optionally .gz) in this directory"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif glob.has_magic(str(raw)):
            found = sorted(Path(f) for f in glob.glob(str(raw), recursive=True) if Path(f).is_file())
            if not found:
                missing.append((str(raw), "the pattern matched no file"))
            files.extend(found)
        else:
            missing.append((str(raw), "no such file or directory"))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    return unique, missing


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    fmt: str | None = None,
    options: Options | None = None,
    progress: bool | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; one file's failure is recorded and the rest go on.

    progress: True/False forces the stderr progress bar; None shows it for large inputs on a terminal.
    """
    from .pipeline import ingest_file, no_calls_message

    files, missing = expand_paths(paths)
    report = IngestReport(errors=list(missing))
    total = sum(f.stat().st_size for f in files)
    show = progress if progress is not None else (total >= PROGRESS_THRESHOLD and sys.stderr.isatty())
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="B", unit_scale=True, desc="ingest", file=sys.stderr, leave=False)
    done = 0
    for f in files:
        size = f.stat().st_size
        try:
            if bar is None:
                result = ingest_file(con, f, fmt, options)
            else:
                bar.set_postfix_str(f.name, refresh=False)
                result = _with_progress(con, f, fmt, options, bar, done, size)
            report.results.append(result)
            if result.rows_read and not result.rows_accepted and not result.rows_duplicate:
                report.errors.append((str(f), no_calls_message(con, f, result, fmt)))
        except WorkbenchError as exc:
            report.errors.append((str(f), str(exc)))
        done += size
        if bar is not None:
            bar.n = done
            bar.refresh()
    if bar is not None:
        bar.close()
    if any(r.rows_accepted for r in report.results):
        _price(con, report)
    return report


def _price(con, report: IngestReport) -> None:
    """Price the new calls with the database's own book, so `priced_calls` shows costs in any
    DuckDB client right after ingest. A pricing problem (an overrides file that no longer
    validates) never fails the ingest: it is a warning, and the calls read 'not_resolved'."""
    from ..cost.pricing import ensure_price_book

    try:
        used = ensure_price_book(con)
    except WorkbenchError as exc:
        report.warnings.append(f"calls stored but not priced: {exc}")
        return
    report.price_book = {k: used[k] for k in ("book_version", "database_book", "rebuilt")}
    report.warnings.extend(used["notes"])


def _with_progress(con, path, fmt, options, bar, done: int, size: int) -> IngestResult:
    """Run one file's ingest on a worker thread; meanwhile show DuckDB's query progress."""
    from .pipeline import ingest_file

    box: dict = {}

    def work() -> None:
        try:
            box["result"] = ingest_file(con, path, fmt, options)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(timeout=0.25)
        try:
            pct = con.query_progress()
        except duckdb.Error:
            pct = -1
        if pct and pct > 0:
            bar.n = done + int(size * min(pct, 100) / 100)
            bar.refresh()
    if "error" in box:
        raise box["error"]
    return box["result"]
