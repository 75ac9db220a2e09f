"""Repeated cases (`repeat: N`, epochs): N answers per case, combined into the one row per case
the gate pairs on (the mean over epochs, so repeats never count as extra cases).

Per case: score = mean of the epochs' scores (an epoch without an answer scores 0); score_sd =
their sample sd; pass_share = share of epochs passing every scorer; passed = every epoch passed;
a scorer's score = its mean over the epochs it applied to. A case with an epoch without an answer
carries that error (so the error-rate check sees it). Tokens, cost and attempts are summed over
epochs, latency is their mean. Epoch e > 0 has its own cache key, so a re-run replays each epoch.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def _sum(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) if xs else None


def combine(outcomes: list):
    """One _CaseOutcome for a case's epochs (the first one's type is reused)."""
    first = outcomes[0]
    n = len(outcomes)
    errs = [o for o in outcomes if o.call.error]
    epoch_scores = [0.0 if o.call.error else o.score for o in outcomes]
    known = [s for s in epoch_scores if s is not None]
    score = _mean(known)
    sd = math.sqrt(sum((s - score) ** 2 for s in known) / (len(known) - 1)) if len(known) > 1 else None
    passes = [bool(o.passed) and not o.call.error for o in outcomes]
    calls = [o.call for o in outcomes]
    call = replace(
        errs[0].call if errs else first.call,
        input_tokens=_sum(c.input_tokens for c in calls), output_tokens=_sum(c.output_tokens for c in calls),
        cache_read_tokens=_sum(c.cache_read_tokens for c in calls),
        reasoning_tokens=_sum(c.reasoning_tokens for c in calls),
        cost_usd=None if any(c.cost_usd is None and not c.error for c in calls) else _sum(c.cost_usd for c in calls),
        latency_ms=_mean(c.latency_ms for c in calls if not c.error), cached=all(c.cached for c in calls),
        attempts=sum(c.attempts for c in calls))
    if errs:
        call.error = f"{len(errs)} of {n} epochs without an answer; first: {errs[0].call.error}"
    scores = []
    for k, (key, typ, _, _, thr, w, _) in enumerate(_scorer_rows(outcomes)):
        vals = [row[2] for o in outcomes if not o.call.error for row in o.scores if row[0] == key]
        oks = [row[3] for o in outcomes if not o.call.error for row in o.scores if row[0] == key]
        m = _mean(vals)
        verdict = None if m is None else (all(p for p in oks if p is not None) and not errs)
        shown = [f"{v:.2f}" for v in vals if v is not None]
        scores.append((key, typ, m, verdict, thr, w, f"mean of {len(shown)} epoch(s): {', '.join(shown)}"))
    out = replace(first, output=next((o.output for o in outcomes if o.output is not None), None), call=call,
                  scores=scores, score=score, passed=all(passes))
    out.judge_in = _sum(o.judge_in for o in outcomes)
    out.judge_out = _sum(o.judge_out for o in outcomes)
    out.judge_cost = _sum(o.judge_cost for o in outcomes)
    out.judge_billed = _sum(o.judge_billed for o in outcomes)
    out.repeats = n
    out.score_sd = sd
    out.pass_share = sum(passes) / n
    out.epochs = outcomes
    return out


def _scorer_rows(outcomes):
    seen: dict[str, tuple] = {}
    for o in outcomes:
        for row in o.scores:
            seen.setdefault(row[0], row)
    return list(seen.values())


def persist_epochs(con, run_id: str, o) -> None:
    con.execute("DELETE FROM eval_repeats WHERE run_id = ? AND case_id = ?", [run_id, o.case.id])
    rows = []
    for e, x in enumerate(o.epochs):
        c = x.call
        rows.append([run_id, o.case.id, e, x.output, 0.0 if c.error else x.score, x.passed if not c.error else False,
                     json.dumps({k: s for k, _, s, *_ in x.scores}), c.latency_ms, c.cost_usd, c.error, c.error_type,
                     c.attempts, c.cached])
    con.executemany("INSERT INTO eval_repeats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
