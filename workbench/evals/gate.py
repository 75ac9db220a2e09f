"""The gate (a paired, per-case comparison against a baseline run) and the cost/quality table.

Gate arithmetic
    Cases of the two runs are paired by case_id (cases in only one run are ignored and
    counted). d_i = s_new,i - s_base,i for the gate metric (`score`: the weighted case score,
    `pass`: 0/1, or one scorer's score; an errored case scores 0). The mean difference gets
    a two-sided `confidence` interval: paired bootstrap over cases (fixed seed, percentile)
    or paired t (sd(d)/sqrt(n), n-1 df).
    rule `regression` (default): the run fails when the interval's upper bound < -max_drop,
        i.e. a drop larger than the margin is shown with confidence; noise passes.
    rule `noninferiority`: the run fails unless the lower bound >= -max_drop (it must show it
        is not worse by more than the margin; needs more cases).
    Optional absolute checks: min_score (mean of the new run), max_error_rate.
    Slices: the same computation per tag; a slice with >= min_slice_cases paired cases fails
    on the same rule. Failing slices are named (and fail the run with fail_on_slices).
    Regressed cases: every paired case whose metric went down, worst first.
Default baseline: the latest finished, passing run of the same suite and model.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from ..errors import WorkbenchError
from . import stats
from .stats import _betainc, _t_cdf, _t_quantile  # noqa: F401 - re-exported (tests, notebooks)
from .suite import Gate

MIN_BOOTSTRAP_CASES = 30  # below this the percentile bootstrap under-covers (n=3: 7-11% false fails at 2.5%)


@dataclass
class Interval:
    n: int
    mean_baseline: float | None
    mean_current: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class SliceResult:
    tag: str
    n: int
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    failed: bool


@dataclass
class GateResult:
    passed: bool
    reason: str
    metric: str
    baseline_run_id: str | None = None
    n_paired: int = 0
    n_unpaired: int = 0
    mean_baseline: float | None = None
    mean_current: float | None = None
    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    margin: float = 0.0
    confidence: float = 0.95
    method: str = "auto"  # the method used (exact, bootstrap, t)
    rule: str = "regression"
    failing_slices: list[str] = field(default_factory=list)
    slices: list[SliceResult] = field(default_factory=list)
    regressed: list[dict] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    p_value: float | None = None  # McNemar's exact test (the `exact` method)
    spread: float | None = None  # sd of the paired differences (at least 1/sqrt(n))
    min_detectable_drop: float | None = None
    cases_needed: int | None = None
    n_cases: int = 0
    n_errors: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def paired_interval(d, confidence: float = 0.95, method: str = "bootstrap", seed: int = 0,
                    resamples: int = 2000, bounds: tuple[float, float] = (-1.0, 1.0),
                    min_bootstrap: int = MIN_BOOTSTRAP_CASES) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high) of the mean of paired differences d, clipped to `bounds` (scores are in
    [0, 1], so differences in [-1, 1]). One case says nothing about the spread: the interval is
    then the whole range. The bootstrap falls back to the t interval below `min_bootstrap` cases."""
    import numpy as np

    d = np.asarray(d, dtype=float)
    n = len(d)
    if n == 0:
        return None, None, None
    mean = float(d.mean())
    if n == 1:
        return mean, float(bounds[0]), float(bounds[1])
    alpha = 1 - confidence
    if method == "t" or n < min_bootstrap:
        se = float(d.std(ddof=1)) / math.sqrt(n)
        q = _t_quantile(1 - alpha / 2, n - 1)
        low, high = mean - q * se, mean + q * se
    else:
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
        low, high = (float(x) for x in np.quantile(means, [alpha / 2, 1 - alpha / 2]))
    return mean, max(float(bounds[0]), low), min(float(bounds[1]), high)


def mean_interval(x, confidence: float = 0.95) -> tuple[float | None, float | None, float | None]:
    """t-interval of a mean (one run's score, in [0, 1])."""
    return paired_interval(x, confidence, "t", bounds=(0.0, 1.0))


def _binary(*arrays) -> bool:
    return all(float(v) in (0.0, 1.0) for a in arrays for v in a)


def gate_interval(b, c, gate: Gate) -> tuple[float | None, float | None, float | None, str, float | None]:
    """(diff, low, high, method used, McNemar p-value or None) for paired baseline/current values."""
    d = [y - x for x, y in zip(b, c)]
    method = gate.method
    if method in ("auto", "exact") and _binary(b, c):
        r = stats.paired_binary(b, c, gate.confidence)
        return r["diff"], r["low"], r["high"], "exact", r["p_value"]
    if method in ("auto", "exact"):
        method = "bootstrap" if len(d) >= MIN_BOOTSTRAP_CASES else "t"
    elif method == "bootstrap" and len(d) < MIN_BOOTSTRAP_CASES:
        method = "t"
    m, lo, hi = paired_interval(d, gate.confidence, method, gate.seed, gate.bootstrap)
    return m, lo, hi, method, None


def _fails(low, high, gate: Gate) -> bool:
    if low is None:
        return False
    if gate.rule == "noninferiority":
        return low < -gate.max_drop - 1e-12
    return high < -gate.max_drop - 1e-12


def metric_values(con, run_id: str, metric: str) -> dict[str, tuple[float, list[str]]]:
    """case_id -> (value, tags) for a run; errors count as 0; cases the metric does not apply to are left out."""
    if metric == "score":
        sql = "SELECT case_id, CASE WHEN error IS NOT NULL THEN 0 ELSE score END, tags FROM eval_results WHERE run_id = ?"
        params = [run_id]
    elif metric == "pass":
        sql = ("SELECT case_id, CASE WHEN error IS NOT NULL THEN 0 ELSE coalesce(pass_share, CAST(passed AS DOUBLE)) END, tags "
               "FROM eval_results WHERE run_id = ?")
        params = [run_id]
    else:
        sql = ("SELECT r.case_id, CASE WHEN r.error IS NOT NULL THEN 0 ELSE s.score END, r.tags FROM eval_results r "
               "LEFT JOIN eval_scores s ON s.run_id = r.run_id AND s.case_id = r.case_id AND s.scorer = ? "
               "WHERE r.run_id = ?")
        params = [metric, run_id]
    return {cid: (float(v), list(tags or [])) for cid, v, tags in con.execute(sql, params).fetchall() if v is not None}


def find_baseline(con, suite: str, model: str, exclude: str | None = None,
                  prompt_version: str | None = None) -> str | None:
    """The latest finished, passing run of suite and model (and prompt version, for a prompt x model
    suite) with at least one answered case."""
    row = con.execute(
        "SELECT run_id FROM eval_runs WHERE suite = ? AND model = ? AND status = 'finished' AND passed "
        "AND run_id IS DISTINCT FROM ? AND NOT (coalesce(n_cases, 0) > 0 AND coalesce(n_errors, 0) >= n_cases) "
        "AND (? IS NULL OR prompt_version = ?) ORDER BY finished_at DESC, started_at DESC LIMIT 1",
        [suite, model, exclude, prompt_version, prompt_version],
    ).fetchone()
    return row[0] if row else None


def _error_summary(con, run_id: str) -> tuple[int, int, str]:
    n_total, n_err = con.execute("SELECT count(*), count(error) FROM eval_results WHERE run_id = ?", [run_id]).fetchone()
    kinds = con.execute("SELECT coalesce(error_type, 'other'), count(*) FROM eval_results WHERE run_id = ? AND error "
                        "IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1", [run_id]).fetchall()
    return n_total, n_err, ", ".join(f"{k} {v}" for k, v in kinds)


def _power(res: GateResult, d, gate: Gate, failures: list[str]) -> None:
    """Minimum detectable drop for this n and spread; warn (or fail) when the set is too small."""
    n = len(d)
    sd = stats.planning_sd(list(d))
    res.spread = sd
    res.min_detectable_drop = stats.min_detectable_drop(n, sd, gate.max_drop, gate.confidence, gate.power)
    target = gate.target_drop
    mdd = res.min_detectable_drop
    if mdd is not None and mdd <= target + 1e-12:
        return
    res.cases_needed = stats.cases_needed(sd, gate.max_drop, target, gate.confidence, gate.power)
    shown = f"{mdd:.2f}" if mdd is not None else "no drop at all"
    msg = (f"golden set too small: with {n} paired case(s) and spread {sd:.2f} the gate catches ({gate.power:.0%} "
           f"power) only a drop of {shown}, not {target:.2f} (max_drop {gate.max_drop})"
           + (f"; about {res.cases_needed} cases needed" if res.cases_needed else ""))
    res.warnings.append(msg)
    if gate.fail_underpowered:
        failures.append(msg)


def compare(con, run_id: str, baseline_run_id: str | None, gate: Gate) -> GateResult:
    """The gate verdict for run_id against baseline_run_id (None: absolute checks only)."""
    import numpy as np

    cur = metric_values(con, run_id, gate.metric)
    res = GateResult(passed=True, reason="", metric=gate.metric, baseline_run_id=baseline_run_id,
                     margin=gate.max_drop, confidence=gate.confidence, method=gate.method, rule=gate.rule)
    res.mean_current = float(np.mean([v for v, _ in cur.values()])) if cur else None
    failures: list[str] = []
    n_total, n_err, kinds = _error_summary(con, run_id)
    res.n_cases, res.n_errors = n_total, n_err
    if n_total and n_err >= n_total:
        failures.append(f"no case was answered: all {n_total} calls failed ({kinds})")
    elif n_total and n_err / n_total > gate.max_error_rate + 1e-12:
        failures.append(f"error rate {n_err}/{n_total} > max_error_rate {gate.max_error_rate} "
                        f"({n_err} case(s) without an answer: {kinds})")
    if gate.min_score is not None and (res.mean_current is None or res.mean_current < gate.min_score):
        failures.append(f"mean {gate.metric} {res.mean_current if res.mean_current is not None else float('nan'):.3f} "
                        f"< min_score {gate.min_score}")
    if baseline_run_id is None:
        res.checks.append("no baseline: nothing to compare with (this run can become the baseline)")
    else:
        base = metric_values(con, baseline_run_id, gate.metric)
        ids = sorted(set(cur) & set(base))
        res.n_paired, res.n_unpaired = len(ids), len(set(cur) ^ set(base))
        if not ids:
            res.checks.append(f"no case in common with baseline {baseline_run_id}")
        else:
            b = np.array([base[i][0] for i in ids])
            c = np.array([cur[i][0] for i in ids])
            d = c - b
            res.mean_baseline, res.mean_current = float(b.mean()), float(c.mean())
            res.diff, res.ci_low, res.ci_high, res.method, res.p_value = gate_interval(b, c, gate)
            if gate.method not in ("auto", res.method):
                res.checks.append(f"{gate.method} replaced by {res.method} for {len(ids)} paired case(s)")
            _power(res, d, gate, failures)
            pct = f"{gate.confidence:.0%}"
            if _fails(res.ci_low, res.ci_high, gate):
                failures.append(
                    f"{gate.metric} changed by {res.diff:+.3f} ({pct} CI {res.ci_low:+.3f} to {res.ci_high:+.3f}, "
                    f"{res.method}) vs baseline {baseline_run_id}: " + (
                        "a drop beyond the allowed " if gate.rule == "regression"
                        else "cannot rule out a drop beyond the allowed ") + f"{gate.max_drop}")
            tags = sorted({t for i in ids for t in cur[i][1]})
            for tag in tags:
                sel = [k for k, i in enumerate(ids) if tag in cur[i][1]]
                m, lo, hi, _, _ = gate_interval(b[sel], c[sel], gate)
                failed = len(sel) >= gate.min_slice_cases and _fails(lo, hi, gate)
                res.slices.append(SliceResult(tag, len(sel), m, lo, hi, failed))
            res.failing_slices = [s.tag for s in res.slices if s.failed]
            if res.failing_slices and gate.fail_on_slices:
                failures.append(f"failing slices: {', '.join(res.failing_slices)}")
            order = np.argsort(d, kind="stable")
            res.regressed = [
                {"case_id": ids[k], "baseline": float(b[k]), "current": float(c[k]), "diff": float(d[k]),
                 "tags": cur[ids[k]][1]}
                for k in order if d[k] < -1e-12
            ]
    res.passed = not failures
    if failures:
        res.reason = "; ".join(failures)
    elif res.diff is not None:
        res.reason = (f"{gate.metric} {res.diff:+.3f} ({gate.confidence:.0%} CI {res.ci_low:+.3f} to "
                      f"{res.ci_high:+.3f}, {res.method}) within the allowed drop {gate.max_drop}")
    else:
        res.reason = "; ".join(res.checks) or "passed"
    return res


# ---------------------------------------------------------------------------------------------
# Cost / quality across models
# ---------------------------------------------------------------------------------------------


def cost_quality(con, suite: str | None = None, run_ids: list[str] | None = None, confidence: float = 0.95):
    """One row per model (its latest finished run of `suite`, or the given runs): quality with
    its interval, cost per case, cost per correct answer, judge cost, p95 latency; `dominated`
    marks models another one beats on both quality and cost per case.

    Costs are list prices of the responses (cache replays included, so a cached re-run
    compares like a fresh one); NaN where the model has no price.
    """
    import pandas as pd

    if run_ids is None:
        if suite is None:
            raise WorkbenchError("cost_quality needs a suite name or run ids")
        run_ids = [r for (r,) in con.execute(
            "SELECT arg_max(run_id, finished_at) FROM eval_runs WHERE suite = ? AND status = 'finished' "
            "GROUP BY model ORDER BY 1", [suite]).fetchall()]
    rows = []
    for rid in run_ids:
        meta = con.execute("SELECT model, suite, prompt_version FROM eval_runs WHERE run_id = ?", [rid]).fetchone()
        if meta is None:
            raise WorkbenchError(f"no eval run {rid!r}")
        scores = [v for v, _ in metric_values(con, rid, "score").values()]
        mean, lo, hi = mean_interval(scores, confidence)
        n, n_err, n_pass, priced, total_cost, judge_cost, p95, p50, tin, tout = con.execute(
            """SELECT count(*), count(error), count(*) FILTER (WHERE passed AND error IS NULL),
                      count(cost_usd), fsum(cost_usd), fsum(judge_cost_usd),
                      quantile_cont(latency_ms, 0.95) FILTER (WHERE error IS NULL),
                      quantile_cont(latency_ms, 0.5) FILTER (WHERE error IS NULL),
                      sum(input_tokens), sum(output_tokens)
               FROM eval_results WHERE run_id = ?""", [rid]).fetchone()
        answered = n - n_err
        cost_known = priced > 0 and priced == answered
        cost_per_case = total_cost / n if cost_known and n else float("nan")
        rows.append({
            "model": meta[0], "run_id": rid, "prompt_version": meta[2], "n_cases": n, "n_errors": n_err,
            "mean_score": mean, "ci_low": lo, "ci_high": hi,
            "pass_rate": n_pass / n if n else float("nan"),
            "cost_per_case_usd": cost_per_case,
            "cost_per_correct_usd": (total_cost / n_pass if n_pass else float("inf")) if cost_known else float("nan"),
            "judge_cost_per_case_usd": judge_cost / n if judge_cost is not None and n else float("nan"),
            "p50_latency_ms": p50, "p95_latency_ms": p95,
            "input_tokens": tin, "output_tokens": tout,
        })
    df = pd.DataFrame(rows)
    if not df.empty:
        dom = []
        for _, r in df.iterrows():
            others = df[(df.run_id != r.run_id)]
            better = others[(others.mean_score >= r.mean_score) & (others.cost_per_case_usd <= r.cost_per_case_usd)
                            & ((others.mean_score > r.mean_score) | (others.cost_per_case_usd < r.cost_per_case_usd))]
            dom.append(bool(len(better)))
        df["dominated"] = dom
    return df


def gate_json(res: GateResult | None) -> str | None:
    return None if res is None else json.dumps(res.as_dict(), default=str)
