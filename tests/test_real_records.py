"""Records that real tools wrote (tests/data/real/<family>/, provenance in each SOURCES.md) ingest exactly.

Each family's `expected.json` holds, per file, the canonical values derived by hand from the
records (how, in SOURCES.md). Every file is ingested with its format sniffed (a real export
must be recognised without `--format`), through each of the three ways into the store (the
`ingest` fixture), and every expected call must come out with exactly those values.

In `expected.json`, null means "the record does not carry it": a token bucket then reads 0
(the canonical columns are never NULL), any other column NULL. Keys starting with `_` and
keys that are not canonical columns (notes, `response_id`, `source_lines`, ...) are not compared
here, except `response_id`, compared when the store has that column.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import rows

REAL = Path(__file__).parent / "data" / "real"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
          "reasoning_tokens")
COMPARED = ("call_id", "ts", "provider", "model", "service_tier", *TOKENS, "latency_ms", "ttft_ms", "status",
            "error_type", "finish_reason", "session_id", "trace_id", "user_id", "logged_cost_usd", "response_id")
# Files whose format cannot be told from their records alone (none yet): family/file -> --format.
FORMATS: dict[str, str] = {}


def _cases():
    out = []
    for exp in sorted(REAL.glob("*/expected.json")):
        family = exp.parent.name
        for key, calls in json.loads(exp.read_text()).items():
            if key.startswith("_"):
                continue
            name = Path(key).name
            out.append(pytest.param(family, name, calls, id=f"{family}/{name}"))
    return out


def _ts(v):
    if v is None or isinstance(v, datetime):
        return v.astimezone(timezone.utc) if v is not None else None
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")).astimezone(timezone.utc)


def _same(col: str, want, got) -> bool:
    if col in TOKENS:
        return (want or 0) == got
    if col == "ts":
        return _ts(want) == _ts(got)
    if col == "service_tier" and want is None:
        return got == "default"
    if isinstance(want, float) or isinstance(got, float):
        if want is None or got is None:
            return want is None and got is None
        return math.isclose(float(want), float(got), rel_tol=1e-6, abs_tol=1e-6)
    return want == got


@pytest.mark.parametrize("family,name,expected", _cases())
def test_real_file_ingests_exactly(con, ingest, family, name, expected):
    path = REAL / family / name
    result = ingest(path, FORMATS.get(f"{family}/{name}"))
    assert result.rows_read == result.rows_accepted + result.rows_duplicate + result.rows_quarantined
    got = {r["call_id"]: r for r in rows(con, "SELECT * FROM calls")}
    want = {c["call_id"]: c for c in expected}
    assert sorted(got) == sorted(want), f"{family}/{name}: calls differ; quarantined: {result.reasons}"
    problems = []
    for cid, w in want.items():
        g = got[cid]
        for col in COMPARED:
            if col not in w or col not in g:
                continue
            if not _same(col, w[col], g[col]):
                problems.append(f"{cid} {col}: expected {w[col]!r}, got {g[col]!r}")
    assert not problems, "\n".join(problems)
