"""Sample evals through LiteLLM: suites, runner, scorers, judge, gate (see runner.py for the flow).

    from workbench import store
    from workbench.evals import run_suite, cost_quality
    con = store.connect("workbench.duckdb")
    report = run_suite(con, "data/evals/support_suite.yaml")      # baseline="latest", use_cache=True
    report.gate_passed, report.rows(), report.as_dict()
    cost_quality(con, suite="support-assistant")                    # DataFrame, one row per model

Importing this package is cheap: litellm is imported on the first model call only.
"""

from __future__ import annotations

from .gate import GateResult, compare, cost_quality, find_baseline, paired_interval
from .runner import EvalReport, RunReport, run_demo, run_suite
from .suite import load_golden, load_suite

__all__ = [
    "EvalReport", "GateResult", "RunReport", "compare", "cost_quality", "find_baseline", "load_golden",
    "load_suite", "paired_interval", "run_demo", "run_suite",
]
