"""The projection prices today's mix as `priced_calls` does, rule for rule (issue 13): off-peak
windows, Anthropic geo/speed multipliers, ultrafast/balanced tiers, batch fallbacks and context
bands survive the aggregation into the workload profile; batch at list price is warned about.

Calls and rates as in test_price_rules.py (hand-computed figures noted beside each case)."""

from __future__ import annotations

import pytest
from test_price_rules import call

from workbench import cost as pricing
from workbench.cost.book import PriceBook
from workbench.cost.engine import Projector
from workbench.cost.profile import build_profile
from workbench.cost.scenario import BASELINE, Scenario


def _projector(con) -> Projector:
    pricing.build_price_book(con)
    return Projector(build_profile(con), PriceBook())


def _today(p: Projector, sc=BASELINE) -> float:
    """Cost of the profile's window (the monthly figure at 1x, un-scaled)."""
    r = p.evaluate(sc, [1], bootstrap=0)
    return r["multipliers"][0]["monthly_cost_usd"] / p.profile.monthly_factor


def test_today_in_the_projection_is_the_sum_of_priced_calls(con):
    call(con, "deepseek-v4-pro", "deepseek", ts="2026-11-24 08:00:00+00")   # peak: 0.001716
    call(con, "deepseek-v4-pro", "deepseek", ts="2026-11-24 12:00:00+00")   # off-peak (10:00-00:00): 0.000858
    call(con, "deepseek-v4-pro", "deepseek", ts="2026-11-28 08:00:00+00")   # Saturday: off-peak all day
    call(con, "deepseek-v4-pro", "deepseek", tier="batch", ts="2026-11-24 12:00:00+00")  # batch: list, no off-peak
    call(con, "claude-opus-4-8", "anthropic", ts="2026-11-24 09:00:00+00", attrs={"inference_geo": "us"})
    call(con, "claude-opus-4-8", "anthropic", ts="2026-11-24 09:00:00+00", attrs={"inference_geo": "us", "speed": "fast"})
    call(con, "gpt-6.1-sol", "openai", tier="ultrafast", ts="2026-11-24 10:00:00+00")  # 0.018
    call(con, "gpt-4o", "openai", tier="ultrafast", ts="2026-11-24 10:00:00+00")       # no keys: default, 0.0035
    call(con, "gemini-2.5-pro", "gemini", inp=250_000, ts="2026-11-25 10:00:00+00")    # above 200k band
    p = _projector(con)
    stored = con.execute("SELECT sum(cost_usd) FROM priced_calls").fetchone()[0]
    assert _today(p) == pytest.approx(stored, rel=1e-12)
    # the rules are in the profile, not averaged away
    rows = p.profile.rows
    assert set(rows.loc[rows["model"] == "deepseek-v4-pro", "rate_period"]) == {"standard", "off_peak"}
    assert sorted(rows.loc[rows["model"] == "claude-opus-4-8", "rate_multiplier"]) == pytest.approx([1.1, 2.2])
    assert "ultrafast" in set(rows.loc[rows["model"] == "gpt-6.1-sol", "tier"])


def test_off_peak_calls_project_at_the_off_peak_rate(con):
    call(con, "deepseek-v4-pro", "deepseek", ts="2026-11-24 12:00:00+00")  # 1000 x 6.6e-7 + 100 x 1.98e-6
    p = _projector(con)
    assert _today(p) == pytest.approx(0.000858)


def test_traffic_moved_to_another_model_leaves_the_old_models_multiplier_behind(con):
    # claude-opus-4-8 us + fast: 2.2x (provider_specific_entry {us: 1.1, fast: 2.0}); routed to gpt-4o: 1000 x 2.5e-6 + 100 x 1e-5 = 0.0035, no multiplier
    call(con, "claude-opus-4-8", "anthropic", ts="2026-11-24 09:00:00+00", attrs={"inference_geo": "us", "speed": "fast"},
         out=100)
    p = _projector(con)
    moved = Scenario.model_validate({"name": "all to gpt-4o", "routing": [
        {"match": {"model": ["claude-opus-4-8"]}, "share": 1.0, "to": "gpt-4o", "provider": "openai"}]})
    assert _today(p, moved) == pytest.approx(0.0035)


def test_batching_a_model_with_no_batch_rate_is_warned_about(con):
    call(con, "deepseek-v4-pro", "deepseek", ts="2026-11-24 08:00:00+00")
    call(con, "gpt-4o", "openai", ts="2026-11-24 08:00:00+00")
    p = _projector(con)
    sc = Scenario.model_validate({"name": "batch all", "tiers": {"*": {"batch": 1.0}}})
    r = p.evaluate(sc, [1], bootstrap=0)
    warned = [w for w in r["warnings"] if w["kind"] == "batch_list_price"]
    # deepseek publishes no batch discount: list price, warned; gpt-4o has _batches rates: no warning
    assert [w["value"] for w in warned] == ["deepseek/deepseek-v4-pro"]
    assert "list price" in warned[0]["message"]
    # the batched deepseek call costs what it did (0.001716); gpt-4o at its batch rates:
    # 1000 x 1.25e-6 + 100 x 5e-6 = 0.00175
    assert _today(p, sc) == pytest.approx(0.001716 + 0.00175)
