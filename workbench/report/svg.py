"""Vega-Lite chart outputs turned into inline SVG beside the kernel, not in it.

A report's kernel emits its charts as Vega-Lite specs (`charts.use_output("spec")`). They are
drawn (vl-convert: a JavaScript engine that takes 0.3 s of CPU to start, then ~30 ms a chart)
by one drawing process, which the rendering process starts once the kernel has run its first
cell (it boots while the kernel works) and feeds each cell's charts as that cell finishes
(`on_cell_executed`, an nbclient hook papermill passes through). A process, not a thread:
vl-convert holds the GIL while it draws, which in a thread stalled papermill's message loop
and so the kernel. So the drawing runs on the second core while the kernel goes on, starts
once per process (once per batch, not once per client), and the executed notebook keeps each
chart's spec, interactive in JupyterLab, beside its SVG.

`to_svg_outputs(nb)` finishes the job for any notebook: every Vega-Lite output gets its
`image/svg+xml` (drawn now if nobody did), which is what the offline HTML embeds.
"""

from __future__ import annotations

import atexit
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

VEGALITE = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")
SVG = "image/svg+xml"
def _warm_ups() -> list[dict]:
    """Small charts with the marks, scales and guides the report draws: drawn while the drawing
    process waits for the first real chart, they leave its engine compiled for them (the first
    real charts then take ~30 ms instead of ~70)."""
    values = [{"d": f"2026-01-0{i}", "f": f, "k": k, "v": i * (j + 1)}
              for i in range(1, 4) for j, f in enumerate("ab") for k in ("x", "y")]
    config = {"legend": {"orient": "bottom"}, "view": {"stroke": None}, "font": "Helvetica, Arial, sans-serif"}
    q = {"field": "v", "type": "quantitative"}
    return [
        {"data": {"values": values}, "mark": {"type": "area", "opacity": 0.8}, "title": "t", "config": config,
         "encoding": {"x": {"field": "d", "type": "temporal"}, "y": {**q, "aggregate": "sum", "stack": "zero"},
                      "color": {"field": "f", "type": "nominal"}, "tooltip": [{**q, "format": ",.0f"}]}},
        {"data": {"values": values}, "mark": "bar", "config": config,
         "encoding": {"y": {"field": "f", "type": "nominal", "sort": "-x"}, "x": {**q, "axis": {"format": "$,.0f"}},
                      "color": {"field": "k", "type": "nominal"}, "yOffset": {"field": "k", "type": "nominal"}}},
        {"data": {"values": values}, "config": config, "layer": [
            {"mark": {"type": "line", "point": True},
             "encoding": {"x": {"field": "d", "type": "ordinal"}, "y": {**q, "scale": {"type": "log"}},
                          "color": {"field": "f", "type": "nominal"}}},
            {"mark": {"type": "text", "dy": -8},
             "encoding": {"x": {"field": "d", "type": "ordinal"}, "y": q, "text": {**q, "format": ".1f"}}},
            {"mark": "rule", "encoding": {"y": {"datum": 2}}}]},
    ]


class _DrawingProcess:
    """`python -m workbench.report.svg`, fed one JSON spec per line, answering one JSON line each.

    A plain child process rather than multiprocessing: spawn re-imports the parent's main
    module (a CLI, a notebook server...), fork is unsafe beside ZMQ threads. One feeder thread
    talks to it, so the hook never blocks; pipe reads and writes release the GIL."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.report.svg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
        )
        self.feeder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-svg")

    def submit(self, spec: dict) -> Future:
        return self.feeder.submit(self._draw, spec)

    def _draw(self, spec: dict) -> str:
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"error": "the drawing process exited"}')
        if "svg" not in answer:
            raise RuntimeError(answer.get("error", "no drawing"))
        return answer["svg"]

    def close(self) -> None:
        self.feeder.shutdown(wait=True)
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


_process: _DrawingProcess | None = None
_process_lock = threading.Lock()


def _drawing_process() -> _DrawingProcess:
    """The one drawing process, started on first use and kept for the life of this process."""
    global _process
    with _process_lock:
        if _process is None or _process.proc.poll() is not None:
            _process = _DrawingProcess()
            atexit.register(_process.close)
        return _process


def serve() -> None:
    """The drawing process: start the engine at once, then draw each spec read from stdin."""
    for spec in _warm_ups() * 2:
        draw(spec)
    for line in sys.stdin:
        try:
            answer = {"svg": draw(json.loads(line))}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which draws it again itself
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _vl_version(spec: dict) -> str | None:
    """'6.4' from "$schema": ".../vega-lite/v6.4.1.json", when this vl-convert knows that version."""
    import vl_convert

    m = re.search(r"/v(\d+)\.(\d+)[.\d]*\.json$", str(spec.get("$schema", "")))
    if not m:
        return None
    version = f"{m[1]}.{m[2]}"
    return version if version in vl_convert.get_vegalite_versions() else None


def draw(spec: dict) -> str:
    """One Vega-Lite spec as an SVG document (no network: data and fonts are local)."""
    import vl_convert

    version = _vl_version(spec)
    return vl_convert.vegalite_to_svg(spec, vl_version=version) if version else vl_convert.vegalite_to_svg(spec)


def _undrawn(cell: dict):
    """(output, spec) for each Vega-Lite output of a code cell that has no SVG yet."""
    for output in cell.get("outputs", []) if cell.get("cell_type", "code") == "code" else []:
        data = output.get("data") or {}
        if SVG not in data:
            spec = next((v for m, v in data.items() if VEGALITE.match(m)), None)
            if spec is not None:
                yield output, spec


class ChartDrawer:
    """Draws the Vega-Lite outputs of cells as they finish executing; `finish()` puts the SVG in."""

    def __init__(self) -> None:
        self._jobs: list[tuple[dict, dict, Future | None]] = []
        self._started = False

    def _submit(self, spec: dict | None) -> Future | None:
        """Hand `spec` to the drawing process (None: just start it)."""
        try:
            process = _drawing_process()
            return process.submit(spec) if spec is not None else None
        except Exception:  # noqa: BLE001 - no process to be had: finish() draws it here
            return None

    def on_cell_executed(self, cell: dict, **_: Any) -> None:
        """nbclient hook (runs on papermill's event loop: it only hands the specs over)."""
        if not self._started:  # start the engine while the kernel works on its first cells
            self._started = True
            self._submit(None)
        for output, spec in _undrawn(cell):
            self._jobs.append((output, spec, self._submit(spec)))

    def finish(self) -> int:
        """Wait for the drawings and store each as the output's `image/svg+xml`; how many.
        A drawing the process could not make is made here, so its error (if any) is the real one."""
        for output, spec, job in self._jobs:
            try:
                svg = job.result() if job is not None else None
            except Exception:  # noqa: BLE001 - e.g. the process died: try once more in this process
                svg = None
            output["data"][SVG] = svg if svg is not None else draw(spec)
        done, self._jobs = len(self._jobs), []
        return done


def to_svg_outputs(nb) -> int:
    """Give every Vega-Lite output in `nb` its SVG (drawn here, now); how many were drawn."""
    n = 0
    for cell in nb.cells:
        for output, spec in _undrawn(cell):
            output["data"][SVG] = draw(spec)
            n += 1
    return n


if __name__ == "__main__":
    serve()
