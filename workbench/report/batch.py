"""A batch of client reports from one clients file: parallel in one process, a summary beside them.

    run_batch("data/clients.yaml", "reports/")     # -> summary (per-client status)

Each client's notebook runs in its own kernel; papermill, nbconvert and the exporter load once.
A failing client keeps its partial notebook and an `.error.txt`; the others go on.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from ..errors import WorkbenchError
from .render import ReportError, exporter, render_report, slug

# ---------------------------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------------------------

CLIENT_KEYS = {"name", "db", "logs", "outcomes", "scenarios", "answers", "suite", "eval_stub", "prices", "checklist",
               "multipliers", "pdf"}


def load_clients(clients_yaml: str | os.PathLike) -> list[dict]:
    """Read a clients file; paths in it are relative to the file. See data/clients.yaml."""
    from ..config import read_yaml

    path = Path(clients_yaml).resolve()
    data = read_yaml(path, "clients file")
    defaults = {}
    if isinstance(data, dict):
        defaults = data.get("defaults") or {}
        data = data.get("clients")
    if not isinstance(data, list) or not data:
        raise WorkbenchError(f"{path}: expected `clients:` with a list of clients (each with at least `name`)")
    base = path.parent

    def rel(p):
        return str((base / Path(p).expanduser()).resolve()) if p not in (None, "") else None

    clients, seen = [], set()
    for i, raw in enumerate(data, 1):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise WorkbenchError(f"{path}: client #{i} needs a `name`")
        c = {**defaults, **raw}
        unknown = sorted(set(c) - CLIENT_KEYS)
        if unknown:
            raise WorkbenchError(f"{path}: client {c['name']!r}: unknown key(s) {', '.join(unknown)}; "
                                 f"allowed: {', '.join(sorted(CLIENT_KEYS))}")
        if slug(str(c["name"])) in seen:
            raise WorkbenchError(f"{path}: two clients share the name {c['name']!r} (their files would collide)")
        seen.add(slug(str(c["name"])))
        for key in ("logs", "scenarios"):
            v = c.get(key)
            c[key] = [rel(x) for x in ([v] if isinstance(v, str) else (v or []))]
        for key in ("db", "outcomes", "answers", "suite", "prices", "checklist"):
            c[key] = rel(c.get(key))
        c["name"] = str(c["name"])
        clients.append(c)
    return clients


def run_batch(clients_yaml: str | os.PathLike, out_dir: str | os.PathLike, workers: int | None = None,
              progress=None) -> dict:
    """Render every client of a clients file; a failure is recorded and the others go on.

    Runs up to `workers` (default: the core count) clients at once in this process: each
    report's notebook runs in its own kernel, papermill/nbconvert and the exporter are shared.
    Clients on the same database run one after another (DuckDB allows one writer per file).
    Writes `batch-summary.json` in `out_dir`; returns it (`failed` > 0 means exit status 1).
    """
    clients = load_clients(clients_yaml)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(clients)))
    import papermill  # noqa: F401 - import once, before the threads start
    exporter()
    db_locks: dict[str, threading.Lock] = {}
    for c in clients:
        if c.get("db"):
            db_locks.setdefault(c["db"], threading.Lock())
    t0 = time.perf_counter()

    def one(c: dict) -> dict:
        start = time.perf_counter()
        lock = db_locks.get(c.get("db") or "")
        kwargs = {k: c.get(k) for k in ("db", "logs", "scenarios", "answers", "suite", "prices", "checklist", "outcomes")}
        if c.get("multipliers"):
            kwargs["multipliers"] = c["multipliers"]
        kwargs["eval_stub"] = bool(c.get("eval_stub"))
        row = {"client": c["name"]}
        try:
            if lock:
                with lock:
                    res = render_report(c["name"], out, pdf=c.get("pdf", False), **kwargs)
            else:
                res = render_report(c["name"], out, pdf=c.get("pdf", False), **kwargs)
            row.update(status="ok", html=res.get("html"), notebook=res.get("notebook"), pdf=res.get("pdf"),
                       summary=res.get("summary"), error=None)
        except ReportError as exc:
            row.update(status="failed", error=str(exc), notebook=exc.paths.get("notebook"), html=None,
                       error_file=exc.paths.get("error"))
        except Exception as exc:  # bad input (WorkbenchError) or anything unexpected: recorded, not fatal
            err = out / f"{slug(c['name'])}.error.txt"
            err.write_text(f"client: {c['name']}\n{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}", notebook=None, html=None,
                       error_file=str(err))
        row["seconds"] = round(time.perf_counter() - start, 2)
        if progress:
            progress(row)
        return row

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report") as pool:
        rows = list(pool.map(one, clients))
    summary = {
        "clients_file": str(Path(clients_yaml).resolve()), "out_dir": str(out), "workers": workers,
        "total": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
        "failed": sum(r["status"] != "ok" for r in rows), "seconds": round(time.perf_counter() - t0, 2),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "clients": rows,
    }
    (out / "batch-summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def format_summary(summary: dict) -> str:
    """The batch summary as a plain-text table (for the CLI)."""
    rows = [("client", "status", "seconds", "recommended", "verdict", "output / error")]
    for r in summary["clients"]:
        s = r.get("summary") or {}
        rows.append((r["client"], r["status"], f"{r['seconds']:.1f}", str(s.get("recommended") or ""),
                     str(s.get("verdict") or ""), r.get("html") or (r.get("error") or "")[:120]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 14)
    lines.append(f"\n{summary['ok']} of {summary['total']} rendered, {summary['failed']} failed, "
                 f"{summary['seconds']:.1f} s with {summary['workers']} worker(s); summary: "
                 f"{Path(summary['out_dir']) / 'batch-summary.json'}")
    return "\n".join(lines)
