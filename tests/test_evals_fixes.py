"""Issue 15, fixes 3-6 without a model: refusal detection measured on labelled sets, numeric
parsing (with property tests), retrieval metrics with repeated ids, strict JSON, and the gate's
small-sample statistics against scipy and hand-computed figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.evals import scorers as S
from workbench.evals import stats
from workbench.evals.gate import compare, gate_interval, paired_interval
from workbench.evals.suite import Case, Gate, ScorerSpec

DATA = Path(__file__).parent / "data" / "evals"


def labelled(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def curly(text: str) -> str:
    return text.replace("'", "\u2019")


# ---------------------------------------------------------------------------------------------
# Fix 3: refusals
# ---------------------------------------------------------------------------------------------


def confusion(rows, variant=lambda t: t):
    tp = sum(1 for r in rows if r["refusal"] and S.is_refusal(variant(r["text"])))
    fp = sum(1 for r in rows if not r["refusal"] and S.is_refusal(variant(r["text"])))
    pos = sum(1 for r in rows if r["refusal"])
    return tp / (tp + fp), tp / pos, [r["text"] for r in rows if r["refusal"] != S.is_refusal(variant(r["text"]))]


@pytest.mark.parametrize("variant", [lambda t: t, curly], ids=["straight", "curly"])
def test_refusal_precision_and_recall_on_the_labelled_sets(variant):
    rows = labelled("refusals.jsonl")
    assert sum(r["refusal"] for r in rows) >= 100 and sum(not r["refusal"] for r in rows) >= 100
    precision, recall, wrong = confusion(rows, variant)
    assert (precision, recall) == (1.0, 1.0), wrong  # the figures the README states
    held = labelled("refusals_heldout.jsonl")
    precision, recall, wrong = confusion(held, variant)
    assert precision == 1.0 and recall == 1.0, wrong


def test_refusal_typography_and_near_misses():
    assert S.is_refusal("I\u2019m sorry, but I can\u2019t help with that.")
    assert S.is_refusal("I\u2018m unable\u00a0to assist\u200b with that request.")
    assert S.is_refusal("I\uff07m not able to share that.")
    for answer in ("I'm sorry to hear that. Your refund is on its way.", "Please contact support to upgrade.",
                   "I can't wait!", "If I can't answer, I'll escalate.", "You can't change the region."):
        assert not S.is_refusal(answer), answer
    assert S.normalize_typography("I\u2019M  \u201cOK\u201d") == "i'm \"ok\""


# ---------------------------------------------------------------------------------------------
# Fix 4: numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, first, last", [
    (".5", 0.5, 0.5),
    ("ABC-12 says 7", 12.0, 7.0),  # a hyphen inside a word is no sign
    ("-$1,332.2", -1332.2, -1332.2),
    ("\u22125", -5.0, -5.0),  # U+2212 MINUS SIGN
    ("Step 1: add them. Step 2: ... so 42", 1.0, 42.0),
    ("costs $1,200.50 a year", 1200.5, 1200.5),
    ("between 12-15 days", 12.0, 15.0),
    ("v2 takes 5km", 5.0, 5.0),
    ("+3 and 1e3", 3.0, 1000.0),
    ("1,2345", 1.0, 2345.0),  # not a thousands group
])
def test_numbers_signs_decimals_currency_and_which_is_taken(text, first, last):
    assert S.pick_number(text, "first")[0] == first
    assert S.pick_number(text, "last")[0] == last


def test_numeric_scorer_picks_and_says_which_number():
    spec = ScorerSpec(type="numeric")
    c = Case(id="c", input="q", expected=42)
    assert S.score(spec, c, "Step 1: 6 x 7. Answer: 42") == (1.0, "took 42 (last of 4: 1, 6, 7, 42)")
    assert S.score(ScorerSpec(type="numeric", pick="first"), c, "Step 1: 42")[0] == 0.0
    assert S.score(ScorerSpec(type="numeric", pick="nearest"), c, "either 40 or 42 or 50")[0] == 1.0
    assert S.numeric("it is -5", "-5") == 1.0 and S.numeric("it is 5", "\u22125") == 0.0
    assert S.numeric(".5", 0.5) == 1.0 and S.numeric("no number", 3) == 0.0


def _fmt(x: float, style: int) -> str:
    sign = "-" if x < 0 else ""
    a = abs(x)
    if style == 0:
        return f"{sign}{a:.2f}"
    if style == 1:
        return f"{sign}${a:,.2f}"
    if style == 2:
        return f"\u2212{a:,.3f}" if x < 0 else f"{a:,.3f}"
    body = f"{a:.4f}"
    return sign + (body[1:] if body.startswith("0.") else body)  # .5 style


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 3),
       st.sampled_from(["The total is {}.", "{}", "ID ABC-7: {}", "answer: {} (approx)", "Step 1 gives {}"]))
def test_numbers_property_formatted_values_round_trip(x, style, template):
    text = template.format(_fmt(x, style))
    shown = float(_fmt(x, style).replace("$", "").replace(",", "").replace("\u2212", "-"))
    assert S.pick_number(text, "last")[0] == pytest.approx(shown, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_numbers_never_raise_and_are_finite(text):
    assert all(math.isfinite(v) for v in S.numbers(text))


# ---------------------------------------------------------------------------------------------
# Fix 5: repeated ids, strict JSON
# ---------------------------------------------------------------------------------------------


def test_retrieval_metrics_count_a_repeated_id_once_trec_style():
    got, rel = ["d2", "d2", "d1", "d4", "d2"], ["d2", "d4"]
    # deduped ranking: d2, d1, d4
    assert S.recall_at_k(got, rel, 2) == 0.5  # top-2 of the deduped list: d2, d1
    assert S.precision_at_k(got, rel, 2) == 0.5  # not 2/2 from the copy
    assert S.precision_at_k(got, rel) == pytest.approx(2 / 3)
    assert S.precision_at_k(["d2", "d2"], rel, 5) == pytest.approx(1 / 5)  # P@k divides by k
    assert S.mrr(["x", "x", "d4"], rel) == 0.5
    assert S.ndcg(got, rel, 3) == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert S.ndcg(["d2", "d2", "d2"], rel) == pytest.approx(1 / (1 + 1 / math.log2(3)))  # <= 1 always


def test_json_fences_constants_and_depth():
    assert S.parse_json('```JSON\n{"a": 1}\n```') == {"a": 1}
    assert S.parse_json("```\n[1]\n```") == [1]
    for bad in ("NaN", '{"a": Infinity}', "[-Infinity]", "[" * 10_000 + "]" * 10_000):
        with pytest.raises(ValueError):
            S.parse_json(bad)
        assert S.json_valid(bad) == 0.0
    assert S.parse_json("[" * 64 + "]" * 64) and S.parse_json('"[[[[["') == "[[[[["


# ---------------------------------------------------------------------------------------------
# Fix 6: small samples
# ---------------------------------------------------------------------------------------------


def test_mcnemar_and_clopper_pearson_against_scipy():
    binomtest = pytest.importorskip("scipy.stats").binomtest
    for b, c in [(0, 0), (1, 0), (2, 9), (10, 0), (7, 13), (40, 25)]:
        m = b + c
        assert stats.mcnemar_exact(b, c) == pytest.approx(binomtest(b, m).pvalue if m else 1.0, rel=1e-12)
        if m:
            ci = binomtest(b, m).proportion_ci(0.95, method="exact")
            assert stats.clopper_pearson(b, m) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))


def test_pass_metric_uses_the_exact_paired_interval_by_hand():
    base = [1.0] * 20
    cur = [0.0] * 10 + [1.0] * 10  # 10 regressions of 20, no improvement
    diff, lo, hi, method, p = gate_interval(base, cur, Gate())
    assert method == "exact" and diff == -0.5
    assert p == pytest.approx(2 * 0.5 ** 10)  # two-sided exact McNemar
    assert lo == pytest.approx(-0.5) and hi == pytest.approx(0.5 * (1 - 2 * 0.025 ** (1 / 10)))  # CP lower 0.025^(1/10)


def test_one_case_has_no_zero_width_interval_and_small_n_falls_back_to_t():
    assert paired_interval([0.3]) == (0.3, -1.0, 1.0)
    d = [-0.2, -0.1, 0.05]
    assert paired_interval(d, method="bootstrap") == paired_interval(d, method="t")
    assert gate_interval([0.5, 0.6, 0.7], [0.3, 0.5, 0.75], Gate(method="bootstrap"))[3] == "t"


def test_t_fallback_false_fail_rate_at_n3_is_nominal():
    """Simulated under a true drop of exactly the margin: the gate must fail at most 2.5% of runs."""
    import numpy as np

    rng = np.random.default_rng(1)
    g = Gate(max_drop=0.05)
    fails = 0
    sims = 4000
    for d in rng.normal(-0.05, 0.2, size=(sims, 3)):
        _, lo, hi, _, _ = gate_interval(np.zeros(3) + 0.5, 0.5 + d, g)
        fails += hi < -g.max_drop
    assert fails / sims == pytest.approx(0.025, abs=0.008)
    boot = sum(paired_interval(d, method="bootstrap", min_bootstrap=2, resamples=400)[2] < -0.05
               for d in rng.normal(-0.05, 0.2, size=(400, 3)))
    assert boot / 400 > 0.05  # what the bootstrap alone did (the reason for the fallback)


def test_minimum_detectable_drop_by_hand_and_the_warning(con):
    from test_evals_gate import add_run

    # a 30-point drop on 20 pass/fail cases: d = 6 x -1, 14 x 0 (mean -0.3)
    d = [-1.0] * 6 + [0.0] * 14
    sd = stats.planning_sd(d)
    mean = -0.3
    assert sd == pytest.approx(math.sqrt((6 * 0.49 + 14 * 0.09) / 19))
    q = stats._t_quantile(0.975, 19)
    assert stats.min_detectable_drop(20, sd, 0.05) == pytest.approx(0.05 + (q + 0.8416212335729143) * sd / math.sqrt(20))
    add_run(con, "base", {f"c{i}": (1.0, []) for i in range(20)})
    add_run(con, "new", {f"c{i}": (0.0 if i < 6 else 1.0, []) for i in range(20)}, minute=1)
    res = compare(con, "new", "base", Gate(max_drop=0.05))
    assert res.diff == pytest.approx(mean) and res.min_detectable_drop > 0.1
    assert res.warnings and "golden set too small" in res.warnings[0] and res.cases_needed > 20
    strict = compare(con, "new", "base", Gate(max_drop=0.05, fail_underpowered=True))
    assert not strict.passed and "golden set too small" in strict.reason
    assert stats.cases_needed(sd, 0.05, 0.10) >= 20 and stats.cases_needed(sd, 0.05, 0.05) is None
