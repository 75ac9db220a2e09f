"""Shared fixtures: a fresh database per test, helpers to write and ingest small files."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Property tests draw the same examples on every run: a failure is reproducible, never a flake.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("workbench", derandomize=True, print_blob=True)
_hypothesis_settings.load_profile("workbench")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TRACES = SHARED / "data" / "traces"


@pytest.fixture
def con(tmp_path):
    from workbench import store

    c = store.connect(tmp_path / "test.duckdb")
    yield c
    c.close()


@pytest.fixture
def write_jsonl(tmp_path):
    """write_jsonl(records, name) -> Path; records may be dicts or raw strings; .gz names are gzipped."""

    def write(records, name="records.jsonl") -> Path:
        path = tmp_path / name
        text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
        if name.endswith(".gz"):
            with gzip.open(path, "wt") as fh:
                fh.write(text)
        else:
            path.write_text(text)
        return path

    return write


@pytest.fixture(params=["direct", "staged", "lines"])
def ingest(con, request, monkeypatch):
    """ingest(path, fmt=None, set=None, map=None) -> IngestResult, into the test database.

    Every test that uses it runs once per way into the store (see `ingest_file`): clean JSONL
    straight into `calls`, clean JSONL through a staging table, and the general line path.
    The same expectations must hold for all three."""
    from workbench.ingest import pipeline
    from workbench.ingest.adapters.base import Options
    from workbench.ingest.pipeline import ingest_file

    if request.param == "staged":
        monkeypatch.setattr(pipeline, "_family_stored", lambda con, fmt: True)
    elif request.param == "lines":
        monkeypatch.setattr(pipeline, "_fast_adapter", lambda *a, **k: None)

    def run(path, fmt=None, set=None, map=None):
        return ingest_file(con, path, fmt, Options(set=set or {}, map=map or {}))

    return run


def rows(con, sql: str) -> list[dict]:
    """Query results as a list of dicts (column name -> value)."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def only_call(con) -> dict:
    got = rows(con, "SELECT * FROM calls")
    assert len(got) == 1, got
    return got[0]


def needs_traces():
    return pytest.mark.skipif(not TRACES.is_dir(), reason="../shared/data/traces is not present")


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """The bundled sample pilot, ingested once per test session (closed, so kernels can open it)."""
    from workbench import Workbench
    from workbench.demo import SAMPLE, sample_logs

    path = tmp_path_factory.mktemp("sampledb") / "sample.duckdb"
    with Workbench(path) as wb:
        wb.ingest(sample_logs())
        wb.load_outcomes(SAMPLE / "outcomes.csv")
    return path
