"""Report speed: the demo report against the papermill + nbconvert floor, and batch vs one process per client.

    python benchmarks/report.py [--clients 10] [--workers N] [--repeat 3] [--skip-batch]

Builds the demo database (the bundled sample pilot) in a temporary folder, then measures:
  1. one demo report (sample scenarios, answers, prices), made by `workbench report` (the CLI)
     and by `render_report` in a `python -c` process, beside
     the same path (parameter check + papermill in-process + the reused exporter) on a notebook
     with only a parameters cell: the floor any report pays (kernel start, papermill, nbconvert).
     Both measured in a fresh `python -c` process (imports included; best of --repeat runs) and
     warm in this process (imports paid once, as in a batch; best of 2). The report overlaps
     work with its kernel (the chart-drawing process and the exporter start while the kernel
     boots); the floor is the plain path, which has nothing to overlap;
  2. a batch of N clients (`run_batch`, one process, up to --workers at once) beside N separate
     fresh `python -c` processes, one per client, run one after another (what calling
     `workbench report` N times from a shell script does).
Prints the figures and the ratios. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SCENARIOS = sorted(str(p) for p in (DATA / "scenarios").glob("*.yaml"))


def empty_notebook(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('client: str = ""', metadata={"tags": ["parameters"]})])
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nb, path)
    return path


def floor(nb_path: Path, out: Path) -> float:
    """Parameter check + papermill in-process + reused exporter, on a notebook that does nothing."""
    from workbench.report.render import execute, to_html

    t = time.perf_counter()
    nb = execute(nb_path, {"client": "floor"}, output_path=out / "floor.ipynb", cwd=out)
    (out / "floor.html").write_text(to_html(nb, "floor"))
    return time.perf_counter() - t


def demo_kwargs(db: Path) -> dict:
    return {"db": str(db), "scenarios": SCENARIOS, "answers": str(DATA / "answers.yaml"),
            "prices": str(DATA / "prices.yaml"), "pdf": False}


def fresh(code: str) -> float:
    return fresh_cmd([sys.executable, "-c", code])


def fresh_cmd(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs of each (the best counts)")
    args = ap.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    from workbench.demo import run_demo

    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-report-"))
    try:
        db = Path(run_demo(tmp / "demo")["db"])
        nb_empty = empty_notebook(tmp / "empty.ipynb")
        print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  demo db: {db.stat().st_size / 1e6:.1f} MB")

        # 1a. fresh processes (imports included), like one CLI call; best of --repeat, alternating
        kw = json.dumps(demo_kwargs(db))
        floor_code = ("import sys; sys.path.insert(0, %r); from pathlib import Path; import report as b; "
                      "b.floor(Path(%r), Path(%r))" % (str(Path(__file__).parent), str(nb_empty), str(tmp)))
        report_code = (f"import json; from workbench.report import render_report; "
                       f"render_report('Demo', {str(tmp / 'cold')!r}, **json.loads({kw!r}))")
        cli = [sys.executable, "-m", "workbench", "report", "--client", "Demo", "--out", str(tmp / "cli"),
               "--db", str(db), "--answers", str(DATA / "answers.yaml"), "--prices", str(DATA / "prices.yaml"),
               "--no-pdf", *[a for s in SCENARIOS for a in ("--scenario", s)]]
        cold_floor = cold_report = cold_cli = float("inf")
        for _ in range(args.repeat):
            cold_floor = min(cold_floor, fresh(floor_code))
            cold_report = min(cold_report, fresh(report_code))
            cold_cli = min(cold_cli, fresh_cmd(cli))
        # 1b. warm, in this process (imports once, exporter reused), best of 2
        floor(nb_empty, tmp)  # pays the imports and the first export
        warm_floor = min(floor(nb_empty, tmp) for _ in range(2))
        from workbench.report.render import render_report

        warm_report = []
        for _ in range(2):
            t = time.perf_counter()
            render_report("Demo", tmp / "warm", **demo_kwargs(db))
            warm_report.append(time.perf_counter() - t)
        warm_report = min(warm_report)
        print("\n1. one demo report vs the papermill + nbconvert floor (empty notebook, same path)")
        print(f"   {'':34s} {'floor':>8s} {'report':>8s} {'ratio':>7s}")
        print(f"   {'`workbench report` (the CLI)':34s} {cold_floor:7.2f}s {cold_cli:7.2f}s {cold_cli / cold_floor:6.2f}x")
        print(f"   {'fresh process (imports included)':34s} {cold_floor:7.2f}s {cold_report:7.2f}s {cold_report / cold_floor:6.2f}x")
        print(f"   {'warm (imports paid once)':34s} {warm_floor:7.2f}s {warm_report:7.2f}s {warm_report / warm_floor:6.2f}x")

        if args.skip_batch:
            return
        # 2. a batch of N clients
        n = args.clients
        bdir = tmp / "batch"
        bdir.mkdir()
        lines = ["clients:"]
        for i in range(n):
            shutil.copy(db, bdir / f"c{i}.duckdb")
            sc = ", ".join(SCENARIOS[: 2 + i % 3])
            lines.append(f"  - {{name: client {i}, db: c{i}.duckdb, scenarios: [{sc}], answers: {DATA / 'answers.yaml'}, "
                         f"prices: {DATA / 'prices.yaml'}}}")
        (bdir / "clients.yaml").write_text("\n".join(lines) + "\n")
        code = ("import sys; from workbench.report import run_batch; "
                f"s = run_batch({str(bdir / 'clients.yaml')!r}, {str(tmp / 'batch-out')!r}, workers={args.workers!r}); "
                "sys.exit(1 if s['failed'] else 0)")
        batch = fresh(code)
        from workbench.report.batch import load_clients

        separate = 0.0
        for c in load_clients(bdir / "clients.yaml"):
            kw = json.dumps({k: c[k] for k in ("db", "scenarios", "answers", "prices")} | {"pdf": False})
            separate += fresh(f"import json; from workbench.report import render_report; "
                              f"render_report({c['name']!r}, {str(tmp / 'sep-out')!r}, **json.loads({kw!r}))")
        workers = args.workers or min(os.cpu_count() or 1, n)
        print(f"\n2. {n} clients: one batch process ({workers} at once) vs {n} separate processes, one after another")
        print(f"   batch     {batch:7.2f}s  ({batch / n:.2f}s per client)")
        print(f"   separate  {separate:7.2f}s  ({separate / n:.2f}s per client)")
        print(f"   speed-up  {separate / batch:6.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
