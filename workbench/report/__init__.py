"""Report: parameterized notebooks run by papermill, rendered into one self-contained HTML (and PDF).

In: a database (calls, price book, assessments, eval runs), scenario files, answers, a suite;
the report notebook (`notebooks/report.ipynb`). Out: per client, the executed notebook (the
audit trail), `<client>.html` with inline SVG charts and nothing fetched from the network, an
optional PDF; for a batch, a summary of every client.

    render.py     parameters checked, papermill run, HTML export (and PDF); `render_report`
    batch.py      many clients in parallel from a clients file; `run_batch`
    facts.py      what each section shows, gathered from the database
    sections.py   each section as HTML (the one module notebooks import, as `S`)
    charts.py     Altair charts (drawn in the kernel, or emitted as Vega-Lite specs)
    svg.py        the drawing process that turns specs into SVG beside the kernel
    styles.py     the report's CSS
    format.py     money, percentages, counts, escaping
"""

from __future__ import annotations

from .._imports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["EXPLORER_NOTEBOOK", "REPORT_NOTEBOOK", "ReportError", "declared_parameters", "execute",
                     "kernel_check", "render_report", "to_html", "to_pdf", "validate_parameters"], ".render"),
    **dict.fromkeys(["format_summary", "load_clients", "run_batch"], ".batch"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
