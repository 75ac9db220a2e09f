"""Ingest speed and memory: workbench vs. bare DuckDB read_json vs. pandas, in one run.

    python benchmarks/ingest.py [--n 1000000] [--repeat 3] [--skip-pandas]

Generates N OpenAI Chat Completions records as JSONL, then times, each in its own process
(so peak RSS is that method's alone), best of --repeat runs:
  - `workbench ingest` of the clean file (validation, dedupe, insert into a DuckDB file);
  - DuckDB's bare `read_json` of the same file into a table (the floor);
  - `workbench ingest` of the same file with one malformed line in every 1,000: the general
    path, which frames every line so that each bad one is quarantined with its text;
  - pandas: `json.loads` per line + `json_normalize` (what a notebook would do), run once.
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


def generate(path: Path, n: int, bad_every: int = 0) -> None:
    rnd = random.Random(42)
    t0 = 1_730_000_000
    with open(path, "w") as fh:
        for i in range(n):
            if bad_every and i % bad_every == bad_every // 2:
                fh.write('{"id": "truncated-%d", "object": "chat.comp\n' % i)
                continue
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
assert r.rows_read == r.rows_accepted + r.rows_quarantined and r.rows_read > 0, r
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
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(data)])
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {code.strip().splitlines()[0]}")
    return seconds, usage.ru_maxrss / 1024


def best(code: str, db: Path, data: Path, repeat: int) -> tuple[float, float]:
    """The fastest of `repeat` runs (with its peak RSS): the least disturbed by the machine."""
    return min(run(code, db, data) for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, dirty, db = Path(tmp) / "calls.jsonl", Path(tmp) / "dirty.jsonl", Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        generate(data, args.n)
        generate(dirty, args.n, bad_every=1000)
        print(f"generated {args.n:,} records ({data.stat().st_size / 2**20:,.0f} MiB) twice in "
              f"{time.perf_counter() - t0:.1f}s; best of {args.repeat} runs each")
        duck = best(DUCKDB, db, data, args.repeat)
        wb = best(WORKBENCH, db, data, args.repeat)
        wb_dirty = best(WORKBENCH, db, dirty, args.repeat)
        print(f"duckdb read_json          : {duck[0]:7.2f}s  peak RSS {duck[1]:,.0f} MiB")
        print(f"workbench ingest          : {wb[0]:7.2f}s  peak RSS {wb[1]:,.0f} MiB  ({wb[0] / duck[0]:.2f}x bare DuckDB)")
        print(f"workbench ingest, 0.1% bad: {wb_dirty[0]:7.2f}s  peak RSS {wb_dirty[1]:,.0f} MiB  "
              f"({wb_dirty[0] / duck[0]:.2f}x bare DuckDB; the general path)")
        if not args.skip_pandas:
            pd_ = run(PANDAS, db, data)
            print(f"pandas                    : {pd_[0]:7.2f}s  peak RSS {pd_[1]:,.0f} MiB  "
                  f"(workbench is {pd_[0] / wb[0]:.1f}x faster)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
