"""Gate arithmetic by hand: paired intervals, regression vs noise, slices, regressed cases."""

from __future__ import annotations

import math

import pytest

from workbench.evals.gate import compare, find_baseline, paired_interval
from workbench.evals.suite import Gate


def add_run(con, run_id, scores, *, suite="s", model="m", passed=True, minute=0, errors=()):
    """scores: {case_id: (score, tags)}; cases in `errors` get an error and score 0."""
    con.execute(
        "INSERT INTO eval_runs (run_id, suite, suite_hash, dataset_version, model, trigger, started_at, finished_at, "
        "status, passed) VALUES (?, ?, 'h', 'd', ?, 'manual', TIMESTAMPTZ '2026-01-01' + to_minutes(?), "
        "TIMESTAMPTZ '2026-01-01' + to_minutes(?), 'finished', ?)",
        [run_id, suite, model, minute, minute, passed])
    for cid, (s, tags) in scores.items():
        err = "boom" if cid in errors else None
        con.execute("INSERT INTO eval_results (run_id, case_id, tags, score, passed, error, cached) "
                    "VALUES (?, ?, ?, ?, ?, ?, false)", [run_id, cid, tags, 0.0 if err else s, s >= 0.5, err])
        con.execute("INSERT INTO eval_scores VALUES (?, ?, 'acc', 'icontains', ?, ?, 0.5, 1, NULL)",
                    [run_id, cid, s, s >= 0.5])


def test_paired_t_interval_by_hand():
    d = [-0.2, -0.1, 0.0, -0.3]
    mean, lo, hi = paired_interval(d, 0.95, "t")
    sd = math.sqrt((0.05 ** 2 + 0.05 ** 2 + 0.15 ** 2 + 0.15 ** 2) / 3)
    half = 3.182446 * sd / 2  # t(0.975, df=3) * sd / sqrt(4)
    assert mean == pytest.approx(-0.15)
    assert (lo, hi) == (pytest.approx(-0.15 - half, abs=1e-4), pytest.approx(-0.15 + half, abs=1e-4))


def test_paired_bootstrap_is_seeded_and_degenerate_cases():
    d = [0.1, -0.2, 0.0, 0.3, -0.1, 0.05]
    assert paired_interval(d, seed=7) == paired_interval(d, seed=7)
    m, lo, hi = paired_interval(d)
    assert lo <= m <= hi
    assert paired_interval([-0.5] * 10) == (-0.5, -0.5, -0.5)  # every resample has the same mean
    assert paired_interval([]) == (None, None, None)
    assert paired_interval([0.2]) == (0.2, -1.0, 1.0)  # one case: no spread known, the whole range


def test_clear_regression_fails_with_slices_and_cases(con):
    base = {f"c{i}": (1.0, ["billing"] if i < 10 else ["account"]) for i in range(20)}
    new = {f"c{i}": (0.0 if i < 10 else 1.0, ["billing"] if i < 10 else ["account"]) for i in range(20)}
    add_run(con, "base", base)
    add_run(con, "new", new, minute=1)
    res = compare(con, "new", "base", Gate(max_drop=0.05))
    # d = -1 on ten cases, 0 on ten: mean -0.5
    assert res.diff == pytest.approx(-0.5)
    assert res.ci_high < -0.05 and not res.passed
    assert "drop beyond the allowed 0.05" in res.reason
    assert res.failing_slices == ["billing"]
    account = next(s for s in res.slices if s.tag == "account")
    assert account.diff == 0 and not account.failed
    assert [r["case_id"] for r in res.regressed] == sorted(f"c{i}" for i in range(10))
    assert res.regressed[0]["baseline"] == 1.0 and res.regressed[0]["current"] == 0.0
    # t method agrees
    assert not compare(con, "new", "base", Gate(max_drop=0.05, method="t")).passed


def test_noise_within_margin_passes(con):
    base = {f"c{i}": (0.7, ["t"]) for i in range(30)}
    new = {f"c{i}": (0.7 + (0.02 if i % 2 else -0.02), ["t"]) for i in range(30)}
    add_run(con, "base", base)
    add_run(con, "new", new, minute=1)
    res = compare(con, "new", "base", Gate(max_drop=0.05))
    assert res.passed and res.diff == pytest.approx(0.0, abs=1e-12)
    assert res.ci_low < 0 < res.ci_high and "within the allowed drop" in res.reason
    assert res.failing_slices == []


def test_small_noisy_drop_passes_regression_rule_but_not_noninferiority(con):
    base = {f"c{i}": (0.5, []) for i in range(6)}
    new = {f"c{i}": (0.5 + d, []) for i, d in enumerate([0.3, -0.3, 0.3, -0.3, -0.3, 0.2])}
    add_run(con, "base", base)
    add_run(con, "new", new, minute=1)
    assert compare(con, "new", "base", Gate(max_drop=0.05)).passed  # a drop is not shown
    ni = compare(con, "new", "base", Gate(max_drop=0.05, rule="noninferiority"))
    assert not ni.passed and "cannot rule out" in ni.reason  # nor is its absence


def test_errors_count_as_zero_and_absolute_checks(con):
    base = {f"c{i}": (1.0, []) for i in range(4)}
    add_run(con, "base", base)
    add_run(con, "new", base, minute=1, errors={"c0", "c1", "c2"})
    res = compare(con, "new", "base", Gate(max_drop=0.05))
    assert res.diff == pytest.approx(-0.75)
    assert not compare(con, "new", None, Gate(max_error_rate=0.5)).passed
    r = compare(con, "new", None, Gate(min_score=0.5))
    assert not r.passed and "min_score" in r.reason
    # any case without an answer fails the run by default (issue 15), even without a baseline
    r = compare(con, "new", None, Gate())
    assert not r.passed and "error rate 3/4 > max_error_rate 0.0" in r.reason and "other 3" in r.reason
    assert compare(con, "new", None, Gate(max_error_rate=0.75)).passed  # allowed by the suite
    # a scorer as the gate metric
    assert compare(con, "new", "base", Gate(metric="acc")).diff == pytest.approx(-0.75)


def test_unpaired_cases_are_ignored_and_counted(con):
    add_run(con, "base", {"a": (1.0, []), "b": (1.0, []), "old": (0.0, [])})
    add_run(con, "new", {"a": (1.0, []), "b": (1.0, []), "fresh": (0.0, [])}, minute=1)
    res = compare(con, "new", "base", Gate())
    assert res.n_paired == 2 and res.n_unpaired == 2 and res.diff == 0 and res.passed


def test_default_baseline_is_latest_passing_run_of_suite_and_model(con):
    add_run(con, "r1", {"a": (1.0, [])}, minute=1)
    add_run(con, "r2", {"a": (1.0, [])}, minute=2)
    add_run(con, "r3-failed", {"a": (0.0, [])}, minute=3, passed=False)
    add_run(con, "other-model", {"a": (1.0, [])}, minute=4, model="m2")
    add_run(con, "other-suite", {"a": (1.0, [])}, minute=5, suite="s2")
    assert find_baseline(con, "s", "m") == "r2"
    assert find_baseline(con, "s", "m", exclude="r2") == "r1"
    assert find_baseline(con, "nope", "m") is None


def test_t_quantiles_by_hand_and_against_scipy():
    """The pure-Python Student-t quantile (no scipy at run time) against textbook values and scipy."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from workbench.evals.gate import _t_quantile

    # t tables: t_{0.975, df}
    for df, t in [(1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423), (120, 1.9799)]:
        assert _t_quantile(0.975, df) == pytest.approx(t, abs=1e-4)
    assert _t_quantile(0.5, 7) == 0.0 and _t_quantile(0.025, 10) == pytest.approx(-2.2281, abs=1e-4)
    with pytest.raises(ValueError):
        _t_quantile(1.0, 3)
    stdtrit = pytest.importorskip("scipy.special").stdtrit

    @settings(max_examples=200, deadline=None)
    @given(st.floats(0.001, 0.999), st.integers(1, 10_000))
    def agrees(p, df):
        assert _t_quantile(p, df) == pytest.approx(float(stdtrit(df, p)), rel=1e-9, abs=1e-9)

    agrees()
