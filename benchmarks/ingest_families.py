"""Ingest speed per format family, on records real tools wrote, beside bare DuckDB in one run.

    python benchmarks/ingest_families.py [--n 1000000] [--repeat 3] [--family claude_code ...]

For each family, a real record file from tests/data/real/ (provenance in its SOURCES.md) is
repeated until the file holds N records, every call id and response id made unique per copy
(so nothing dedupes away), one record per line. Then, each in its own process, best of
--repeat runs: `workbench ingest` of that file (sniffing, validation, dedupe, insert into a
DuckDB file) against DuckDB's bare `read_json` of the same file into a table (the floor, which
validates nothing). Prints seconds, records per second and the ratio. Not a test: nothing here
asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"
# family -> (record file, whether it is one JSON document to be written one record per line)
FAMILIES = {
    "openrouter": ("openrouter/chat_completions_anthropic_cache.jsonl", False),
    "bedrock_invocation": ("bedrock/converse_stream_invocation_log.json", True),
    "claude_code": ("claude_code/tool_heavy.jsonl", False),
    "openinference (otel_genai)": ("openinference/openinference_openai.jsonl", False),
    "vercel ai sdk (otel_genai)": ("otel/vercel_ai.jsonl", False),
    "langsmith (sdk runs)": ("langsmith/py_sdk_0.15.1_runs.jsonl", False),
    "anthropic via bedrock": ("bedrock/anthropic_messages_bedrock.jsonl", False),
}


def template(family: str) -> tuple[list[str], list[str]]:
    """The file's records (one per line) and the ids to make unique in each copy."""
    rel, document = FAMILIES[family]
    path = REAL / rel
    if document:
        lines = [json.dumps(json.loads(path.read_text()), separators=(",", ":"))]
    else:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    expected = json.loads((path.parent / "expected.json").read_text())
    calls = next(v for k, v in expected.items() if Path(k).name == path.name)
    ids = sorted({c[k] for c in calls for k in ("call_id", "response_id", "trace_id") if c.get(k)}, key=len,
                 reverse=True)
    return lines, ids


def generate(family: str, out: Path, n: int) -> int:
    lines, ids = template(family)
    written = copy = 0
    with open(out, "w") as fh:
        while written < n:
            for line in lines:
                for i in ids:
                    line = line.replace(i, f"{i}-{copy}")
                fh.write(line + "\n")
                written += 1
            copy += 1
    return written


WORKBENCH = """
import sys
from workbench import store
from workbench.ingest.pipeline import ingest_file
con = store.connect(sys.argv[1])
r = ingest_file(con, sys.argv[2])
assert r.rows_read == r.rows_accepted + r.rows_duplicate + r.rows_quarantined and r.rows_accepted > 0, r
print(r.format, r.rows_read, r.rows_accepted, r.rows_quarantined, file=sys.stderr)
"""

DUCKDB = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{sys.argv[2]}', format='newline_delimited', "
            "maximum_object_size=67108864)")
"""


def run(code: str, db: Path, data: Path) -> float:
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(db), str(data)], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES))
    args = ap.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for family in args.family or FAMILIES:
        with tempfile.TemporaryDirectory() as tmp:
            data, db = Path(tmp) / "records.jsonl", Path(tmp) / "bench.duckdb"
            n = generate(family, data, args.n)
            size = data.stat().st_size / 2**20
            duck = min(run(DUCKDB, db, data) for _ in range(args.repeat))
            wb = min(run(WORKBENCH, db, data) for _ in range(args.repeat))
            print(f"{family:28s} {n:>9,} records {size:7,.0f} MiB  workbench {wb:6.2f}s ({n / wb:>9,.0f}/s)  "
                  f"bare read_json {duck:6.2f}s  -> {wb / duck:.2f}x bare DuckDB", flush=True)


if __name__ == "__main__":
    main()
