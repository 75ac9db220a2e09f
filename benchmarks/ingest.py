"""Ingest speed and memory: workbench vs. bare DuckDB read_json vs. pandas, in one run.

    python benchmarks/ingest.py [--n 1000000]

Generates N OpenAI Chat Completions records as JSONL, then times, each in its own process
(so peak RSS is that method's alone):
  - `workbench ingest` (framing, validation, quarantine, dedupe, insert into a DuckDB file);
  - DuckDB's bare `read_json` of the same file into a table (the floor);
  - pandas: `json.loads` per line + `json_normalize` (what a notebook would do).
Prints the figures and the ratios the README records. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "o3-mini-2025-01-31", "gpt-4.1-2025-04-14"]
FEATURES = ["support_chat", "ticket_triage", "summarize", "kb_search"]


def generate(path: Path, n: int) -> None:
    rnd = random.Random(42)
    t0 = 1_730_000_000
    with open(path, "w") as fh:
        for i in range(n):
            prompt = rnd.randint(50, 6000)
            cached = rnd.choice([0, 0, 1024, 2048]) if prompt > 2100 else 0
            completion = rnd.randint(5, 800)
            reasoning = rnd.randint(0, completion) if i % 7 == 0 else 0
            rec = {
                "id": f"chatcmpl-{i:09d}", "object": "chat.completion", "created": t0 + i // 20,
                "model": MODELS[i % 4], "service_tier": "default", "system_fingerprint": "fp_abc123",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Sure, here is the answer."}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion,
                          "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0}},
                "metadata": {"feature": FEATURES[i % 4], "session_id": f"s{i // 6}"},
            }
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")


WORKBENCH = """
import sys
from workbench import store
from workbench.ingest.pipeline import ingest_file
con = store.connect(sys.argv[1])
r = ingest_file(con, sys.argv[2])
assert r.rows_accepted == r.rows_read, r
"""

DUCKDB = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{sys.argv[2]}', format='newline_delimited')")
"""

PANDAS = """
import sys, json, pandas as pd
with open(sys.argv[2]) as fh:
    rows = [json.loads(line) for line in fh]
df = pd.json_normalize(rows)
assert len(df) == len(rows)
"""


def run(code: str, db: Path, data: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one child process running `code` (imports included)."""
    if db.exists():
        db.unlink()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(data)])
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {code.strip().splitlines()[0]}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, db = Path(tmp) / "calls.jsonl", Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        generate(data, args.n)
        print(f"generated {args.n:,} records ({data.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - t0:.1f}s")
        duck = run(DUCKDB, db, data)
        wb = run(WORKBENCH, db, data)
        print(f"duckdb read_json : {duck[0]:7.2f}s  peak RSS {duck[1]:,.0f} MiB")
        print(f"workbench ingest : {wb[0]:7.2f}s  peak RSS {wb[1]:,.0f} MiB  ({wb[0] / duck[0]:.2f}x bare DuckDB)")
        if not args.skip_pandas:
            pd_ = run(PANDAS, db, data)
            print(f"pandas           : {pd_[0]:7.2f}s  peak RSS {pd_[1]:,.0f} MiB  "
                  f"(workbench is {pd_[0] / wb[0]:.1f}x faster)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
