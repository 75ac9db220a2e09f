"""Routing that says what it gives up (issue 16): quality per feature x model from the golden set,
the quality estimate of a routing scenario, and the optimizer (checked against brute force).

Two features, two models, hand-computed. Calls go straight into `calls`; eval runs straight into
`eval_runs` / `eval_results` (what `workbench eval` writes)."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from workbench import cost as pricing
from workbench.cost.book import PriceBook
from workbench.cost.engine import Projector
from workbench.cost.optimize import Optimizer, optimize, scenario_yaml
from workbench.cost.profile import build_profile
from workbench.cost.quality import QualityTable, model_family, scenario_quality
from workbench.cost.scenario import Scenario, load_scenario

BIG, SMALL = "gpt-4o", "gpt-4o-mini"
# triage: big [1.0, 0.8, 0.9, 1.0], small [0.9, 0.8, 0.7, 1.0] -> differences [-0.1, 0, -0.2, 0]:
# mean -0.075, sd 0.0957427, se 0.0478714, t(0.975, 3) = 3.182446 -> half-width 0.152348
TRIAGE = {"big": [1.0, 0.8, 0.9, 1.0], "small": [0.9, 0.8, 0.7, 1.0]}
# chat: big [0.9, 0.9, 0.8], small [0.5, 0.6, 0.4] -> differences [-0.4, -0.3, -0.4]: mean -0.36667
CHAT = {"big": [0.9, 0.9, 0.8], "small": [0.5, 0.6, 0.4]}
HALF = 3.182446 * math.sqrt(0.0275 / 3) / 2


def _calls(con, feature, model, n, inp=1000, out=100):
    con.execute(
        "INSERT INTO calls (call_id, source_format, ts, provider, model, feature, input_tokens, cache_read_tokens,"
        " cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, status)"
        " SELECT ? || i, 'test', TIMESTAMPTZ '2026-11-01 00:00:00+00' + i * INTERVAL 1 MINUTE, 'openai', ?, ?, ?,"
        " 0, 0, 0, ?, 0, 'ok' FROM range(?) t(i)",
        [f"{feature}-{model}-", model, feature, inp, out, n])


def _run(con, run_id, model, feature_scores: dict[str, list[float]], price_as=None, tokens=500):
    con.execute(
        "INSERT INTO eval_runs (run_id, suite, suite_hash, dataset_version, model, trigger, started_at, status, config)"
        " VALUES (?, 'golden', 'h', 'd', ?, 'manual', now(), 'finished', ?)",
        [run_id, model, json.dumps({"model": {"model": model, **({"price_as": price_as} if price_as else {})}})])
    for feature, scores in feature_scores.items():
        for i, s in enumerate(scores):
            con.execute("INSERT INTO eval_results (run_id, case_id, tags, score, input_tokens) VALUES (?, ?, ?, ?, ?)",
                        [run_id, f"{feature}-{i}", [f"feature:{feature}"], s, tokens])


@pytest.fixture
def pilot(con):
    _calls(con, "triage", BIG, 600)  # 60% of the traffic
    _calls(con, "chat", BIG, 400)
    # the big model as the suite names it, the small one as a stub priced as gpt-4o-mini
    _run(con, "r-big", "openai/gpt-4o-2024-08-06", {"triage": TRIAGE["big"], "chat": CHAT["big"]})
    _run(con, "r-small", "openai/stub-small", {"triage": TRIAGE["small"], "chat": CHAT["small"]}, price_as=SMALL)
    pricing.build_price_book(con)
    return con, Projector(build_profile(con), PriceBook()), QualityTable.from_db(con)


def test_model_names_match_across_logs_and_runs():
    assert model_family("openai/gpt-4o-2024-08-06") == model_family("gpt-4o") == "gpt-4o"
    assert model_family("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5"
    assert model_family("gemini-2.0-flash-001") == "gemini-2.0-flash"
    assert model_family("gpt-4o-mini") != model_family("gpt-4o")


def test_quality_per_feature_and_model(pilot):
    _, _, q = pilot
    rows = {(r["feature"], r["model"]): r for r in q.summary()}
    big = rows[("triage", "openai/gpt-4o-2024-08-06")]
    assert (big["mean_score"], big["n"]) == (pytest.approx(0.925), 4)


def test_a_routing_scenarios_quality_hand_computed(pilot):
    _, p, q = pilot
    sc = Scenario.model_validate({"name": "half of triage small", "routing": [
        {"match": {"feature": "triage"}, "share": 0.5, "to": SMALL}]})
    r = scenario_quality(p, sc, q)
    # 50% of triage (60% of calls) moved: 0.3 of all traffic x -0.075 = -0.0225; interval 0.3 x the half-width
    assert r["status"] == "evaluated" and r["n_cases"] == 4
    assert (r["delta"], r["low"], r["high"]) == (pytest.approx(-0.0225), pytest.approx(-0.0225 - 0.3 * HALF, rel=1e-5),
                                                 pytest.approx(-0.0225 + 0.3 * HALF, rel=1e-5))
    (feat,) = r["by_feature"]  # triage's own score: 0.5 x -0.075
    assert (feat["feature"], feat["delta"]) == ("triage", pytest.approx(-0.0375))
    assert r["message"] == "quality -0.023 [-0.068, +0.023] on 4 cases"


def test_moved_traffic_no_golden_case_covers_is_not_evaluated(pilot):
    con, _, q = pilot
    _calls(con, "summaries", BIG, 100)
    pricing.build_price_book(con)
    p = Projector(build_profile(con), PriceBook())
    sc = Scenario.model_validate({"name": "summaries small", "routing": [
        {"match": {"feature": "summaries"}, "share": 1.0, "to": SMALL}]})
    r = scenario_quality(p, sc, q)
    assert r["status"] == "not_evaluated" and r["delta"] is None
    assert "no golden case for feature 'summaries'" in r["message"]
    both = sc.model_copy(update={"routing": [*sc.routing, *Scenario.model_validate({"name": "x", "routing": [
        {"match": {"feature": "chat"}, "share": 1.0, "to": SMALL}]}).routing]})
    r2 = scenario_quality(p, both, q)
    assert r2["status"] == "partly_evaluated" and r2["share_moved_evaluated"] == pytest.approx(400 / 500)
    assert "not evaluated" in r2["message"]


def _brute_force(opt: Optimizer, max_drop: float) -> float:
    """The cheapest combination of per-feature options (or none) that keeps the budget, by enumeration."""
    per_feature = [[None, *opts] for opts in opt.options.values()]
    best = opt._base_cost()
    for combo in itertools.product(*per_feature):
        chosen = [o for o in combo if o is not None]
        if all(o.holds(max_drop, None, None) for o in chosen):
            best = min(best, opt._base_cost() - sum(o.saving for o in chosen))
    return best


@pytest.mark.parametrize("max_drop", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_the_optimizer_matches_brute_force_and_keeps_the_budget(pilot, max_drop):
    _, p, q = pilot
    res = optimize(p, q, [SMALL], max_drop=max_drop, multiplier=10, shares=(0.5, 1.0))
    opt = Optimizer(p, q, [SMALL], 10, (0.5, 1.0))
    assert res["monthly_cost_usd"] == pytest.approx(_brute_force(opt, max_drop))
    assert res["monthly_cost_usd"] == pytest.approx(res["predicted_monthly_cost_usd"])  # engine agrees
    for f in res["by_feature"]:
        if f["to"]:
            assert f["low"] >= -max_drop - 1e-12  # never a routing that breaks the budget
    # lower ends, hand-computed: triage (se 0.0478714, t(3) 3.182446) full -0.2273, half -0.1137;
    # chat (differences -0.4, -0.3, -0.4: mean -0.36667, se 0.033333, t(2) 4.302653) full -0.5101, half -0.2551
    moved = {f["feature"]: f["share"] for f in res["by_feature"] if f["to"]}
    expected = {0.0: {}, 0.1: {}, 0.25: {"triage": 1.0}, 0.5: {"triage": 1.0, "chat": 0.5},
                1.0: {"triage": 1.0, "chat": 1.0}}[max_drop]
    assert moved == expected


def test_the_scenario_it_writes_loads_back_and_projects_to_the_same_figure(pilot, tmp_path):
    _, p, q = pilot
    res = optimize(p, q, [SMALL], max_drop=0.25, multiplier=10)
    path = tmp_path / "optimized.yaml"
    path.write_text(scenario_yaml(res["scenario"]))
    again = p.evaluate(load_scenario(path), [10], bootstrap=0)["multipliers"][0]["monthly_cost_usd"]
    assert again == pytest.approx(res["monthly_cost_usd"])
    assert res["frontier"] and res["frontier"][0]["monthly_cost_usd"] <= res["monthly_cost_usd"] + 1e-9


def test_the_recommendation_is_the_cheapest_scenario_whose_quality_holds():
    from workbench.report.facts import recommend

    def s(name, cost, quality):
        return {"scenario": name, "quality": quality,
                "multipliers": [{"multiplier": 10.0, "monthly_cost_usd": cost, "savings_usd": 1000 - cost,
                                 "savings_pct": (1000 - cost) / 1000, "baseline_monthly_cost_usd": 1000}]}

    bold = s("bold", 300, {"status": "evaluated", "delta": -0.08, "low": -0.12, "high": -0.04, "n_cases": 40,
                           "message": "quality -0.080 [-0.120, -0.040] on 40 cases"})
    careful = s("careful", 600, {"status": "evaluated", "delta": -0.005, "low": -0.015, "high": 0.005, "n_cases": 40,
                                 "message": "quality -0.005 [-0.015, +0.005] on 40 cases"})
    proj = {"scenarios": [s("baseline", 1000, {"status": "no_routing"}), bold, careful]}
    rec = recommend(proj)
    assert rec["scenario"] == "careful" and not rec["quality_not_evaluated"]
    assert [f["scenario"] for f in rec["quality_failed"]] == ["bold"] and rec["quality_failed"][0]["savings_usd"] == 700
    assert "bold" in rec["how"]
    unknown = s("unknown", 500, {"status": "not_evaluated", "delta": None, "message": "not evaluated: ..."})
    rec = recommend({"scenarios": [*proj["scenarios"], unknown]})
    assert rec["scenario"] == "unknown" and rec["quality_not_evaluated"]  # eligible, flagged
