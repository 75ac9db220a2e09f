"""Projection engine: money math by hand, levers, self-hosted steps, validation."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import WorkbenchError
from workbench.cost.pricing import build_price_book
from workbench.cost.book import load_price_book
from workbench.cost.scenario import BASELINE, Scenario, load_scenario
from workbench.cost.engine import Projector
from workbench.cost.profile import build_profile

MINI = "gpt-4o-mini-2024-07-18"  # $0.15 / $0.60 per 1M; batch $0.075 / $0.30
T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
# 20 calls: days 0..9 at 00:00 and 12:00 -> window = 9.5 days -> monthly factor 30.4375 / 9.5
FACTOR = 30.4375 / 9.5
MINI_CALL = 1000 * 0.15e-6 + 100 * 0.60e-6  # 2.1e-4 per call (1,000 in, 100 out)
GPT4O_CALL = 1000 * 2.5e-6 + 100 * 10e-6  # 3.5e-3 per call on gpt-4o-2024-08-06


def fill(con, model=MINI, feature="faq", n_days=10):
    rows = []
    for d in range(n_days):
        for h in (0, 12):
            rows.append((f"c{d}-{h}", T0 + timedelta(days=d, hours=h), model, feature))
    con.executemany(
        "INSERT INTO calls (call_id, source_format, ts, provider, model, feature, service_tier, input_tokens, "
        "cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, status) "
        "VALUES (?, 'test', ?, 'openai', ?, ?, 'default', 1000, 0, 0, 0, 100, 0, 'ok')", rows)
    con.execute("INSERT INTO ingests (ingest_id, path, sha256, bytes, format, options, rows_read, rows_accepted, "
                "rows_duplicate, rows_quarantined, started_at, finished_at, workbench_version) "
                "VALUES (1, 'x', 'abc', 1, 'test', NULL, 20, 20, 0, 0, now(), now(), '0')")


def projector(con, overrides=None):
    build_price_book(con, overrides)
    return Projector(build_profile(con), load_price_book(overrides))


def monthly(p, sc, m=1.0):
    return p.evaluate(sc, [m], bootstrap=0)["multipliers"][0]["monthly_cost_usd"]


def test_baseline_by_hand(con):
    fill(con)
    p = projector(con)
    assert p.profile.window_days == pytest.approx(9.5)
    assert monthly(p, BASELINE) == pytest.approx(20 * MINI_CALL * FACTOR)
    assert monthly(p, BASELINE, 100) == pytest.approx(100 * 20 * MINI_CALL * FACTOR)


def test_routing_half_to_a_bigger_model(con):
    fill(con)
    sc = Scenario(name="r", routing=[{"match": {"feature": "faq"}, "share": 0.5, "to": "gpt-4o-2024-08-06"}])
    assert monthly(projector(con), sc) == pytest.approx((10 * MINI_CALL + 10 * GPT4O_CALL) * FACTOR)


def test_output_ratio_and_semantic_cache(con):
    fill(con)
    p = projector(con)
    sc = Scenario(name="s", semantic_cache_hit_rate=0.25)
    assert monthly(p, sc) == pytest.approx(0.75 * 20 * MINI_CALL * FACTOR)
    shorter = Scenario(name="o", routing=[{"share": 1.0, "to": MINI, "provider": "openai", "output_ratio": 0.5}])
    assert monthly(p, shorter) == pytest.approx(20 * (1000 * 0.15e-6 + 50 * 0.60e-6) * FACTOR)


def test_batch_share_takes_batch_rates(con):
    fill(con)
    sc = Scenario(name="b", tiers={"faq": {"batch": 1.0}})
    assert monthly(projector(con), sc) == pytest.approx(20 * (1000 * 0.075e-6 + 100 * 0.30e-6) * FACTOR)


def test_prompt_cache_share(con):
    fill(con)
    sc = Scenario(name="c", prompt_cache={"read_share": 0.5})
    # 500 uncached at 0.15/M + 500 cache reads at 0.075/M + 100 out at 0.60/M
    per_call = 500 * 0.15e-6 + 500 * 0.075e-6 + 100 * 0.60e-6
    assert monthly(projector(con), sc) == pytest.approx(20 * per_call * FACTOR)


def test_self_hosted_capacity_steps(con, tmp_path):
    fill(con)
    ov = tmp_path / "prices.yaml"
    ov.write_text("self_hosted:\n  local-llm:\n    gpu_hourly_usd: 2.0\n    gpus_per_replica: 1\n"
                  "    throughput_tokens_per_s: 100\n    target_utilization: 0.5\n    min_replicas: 1\n")
    p = projector(con, ov)
    sc = Scenario(name="h", routing=[{"share": 1.0, "to": "local-llm"}])
    # tokens 22,000 over 9.5 days; peak hour 1,100 tokens vs mean 22,000 / 228 h -> peak 0.3056 tok/s at 1x;
    # a replica serves 100 x 0.5 = 50 tok/s -> 1 replica up to ~163x, 2 replicas at 200x.
    one = 1 * 2.0 * 30.4375 * 24
    assert monthly(p, sc, 100) == pytest.approx(one)
    assert monthly(p, sc, 150) == pytest.approx(one)
    assert monthly(p, sc, 200) == pytest.approx(2 * one)
    # the API route costs 20 x 2.1e-4 x FACTOR = $0.01346/month per 1x: $1,461 of GPUs pays off only past 100,000x
    assert p.evaluate(sc, [1])["break_even"]["multiplier"] is None
    ov.write_text(ov.read_text().replace("2.0", "0.001"))  # one replica: 0.001 x 730.5 = $0.7305/month
    be = projector(con, ov).evaluate(sc, [1])["break_even"]
    assert be["multiplier"] == pytest.approx(0.7305 / (20 * MINI_CALL * FACTOR), rel=0.03)  # ~54x


def test_unpriced_target_is_listed_never_zero(con):
    fill(con)
    sc = Scenario(name="u", routing=[{"share": 0.5, "to": "no-such-model-anywhere"}])
    r = projector(con).evaluate(sc, [1], bootstrap=0)
    assert r["unpriced"] and r["unpriced"][0]["model"] == "no-such-model-anywhere"
    assert r["unpriced"][0]["calls"] == pytest.approx(10)
    assert r["multipliers"][0]["monthly_cost_usd"] == pytest.approx(10 * MINI_CALL * FACTOR)


def test_bootstrap_range_when_a_week_or_more(con):
    fill(con)
    m = projector(con).evaluate(BASELINE, [1])["multipliers"][0]
    assert m["p10_usd"] is not None and m["p10_usd"] <= m["p90_usd"]


@settings(max_examples=25, deadline=None)
@given(share=st.floats(0, 1), m1=st.floats(0.1, 100), m2=st.floats(0.1, 100))
def test_properties(tmp_path_factory, share, m1, m2):
    from workbench import store

    con = store.connect(tmp_path_factory.mktemp("p") / "p.duckdb")
    fill(con)
    p = projector(con)
    sc = Scenario(name="p", routing=[{"share": share, "to": "gpt-4o-2024-08-06"}])
    lo, hi = sorted((m1, m2))
    assert monthly(p, sc, lo) <= monthly(p, sc, hi) + 1e-12  # cost grows with volume
    zero = Scenario(name="z", routing=[{"share": 0.0, "to": "gpt-4o-2024-08-06"}])
    assert monthly(p, zero, m1) == pytest.approx(monthly(p, BASELINE, m1))  # a 0% share is the baseline


def test_shares_must_sum_to_at_most_one(con):
    fill(con)
    with pytest.raises(ValueError, match="sum to"):
        Scenario(name="x", routing=[{"share": 0.6, "to": "a"}, {"share": 0.6, "to": "b"}])
    overlapping = Scenario(name="y", routing=[{"share": 0.6, "to": "a"}, {"match": {"feature": "faq"}, "share": 0.6, "to": "b"}])
    with pytest.raises(WorkbenchError, match="more than 100%"):
        monthly(projector(con), overlapping)


def test_invalid_scenario_files_name_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nrouting:\n  - share: 1.5\n    to: gpt-4o\n")
    with pytest.raises(WorkbenchError, match=r"bad.yaml: invalid scenario: routing.0.share"):
        load_scenario(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: t\nsemantic_cache_hitrate: 0.2\n")
    with pytest.raises(WorkbenchError, match="semantic_cache_hitrate"):
        load_scenario(typo)


def test_empty_database(con):
    with pytest.raises(WorkbenchError, match="no calls"):
        build_profile(con)


def test_sample_scenarios_load():
    from pathlib import Path

    for f in sorted((Path(__file__).parents[1] / "data" / "scenarios").glob("*.yaml")):
        assert load_scenario(f).name


def test_prompt_cache_share_from_prefix_reuse_on_the_mooncake_trace(con, ingest):
    """The real-data check of the prefix-reuse estimate: ~37.4% of the trace's input repeats a prefix."""
    from conftest import TRACES

    trace = TRACES / "mooncake_conversation_trace.jsonl"
    if not trace.exists():
        pytest.skip("../shared/data/traces is not present")
    ingest(trace, set={"model": "gpt-4o-mini-2024-07-18", "provider": "openai"})
    p = projector(con)
    sc = Scenario(name="prefix", prompt_cache={"read_share": "prefix_reuse"})
    df = p.priced(sc)
    assert df["cache_read_tokens"].sum() / df["input_tokens"].sum() == pytest.approx(0.374, abs=0.002)
    # gpt-4o-mini reads cached input at half price: the input bill drops by about 0.374 / 2
    saved = 1 - monthly(p, sc) / monthly(p, BASELINE)
    inp = df["input_tokens"].sum() * 0.15e-6
    out = df["output_tokens"].sum() * 0.60e-6
    assert saved == pytest.approx(0.374 * 0.5 * inp / (inp + out), rel=0.02)


def test_cost_per_outcome_today_and_under_a_scenario(con, tmp_path):
    from workbench.cost.outcomes import load_outcomes
    from workbench.cost.projection import project

    fill(con)
    con.execute("UPDATE calls SET session_id = call_id")
    f = tmp_path / "outcomes.csv"
    f.write_text("session_id,outcome,value_usd\nc0-0,resolved,10\nc0-12,resolved,10\nc1-0,escalated,0\nc1-12,resolved,10\n")
    assert load_outcomes(con, f) == 4
    sc = tmp_path / "half.yaml"
    sc.write_text("name: half\nsemantic_cache_hit_rate: 0.5\n")
    r = project(con, [sc], (1, 10), sensitivity_at=None)
    today = {o["outcome"]: o for o in r["cost_per_outcome_today"]}
    assert today["resolved"]["outcomes"] == 3 and today["resolved"]["cost_per_outcome_usd"] == pytest.approx(MINI_CALL)
    base, half = r["scenarios"]
    assert base["multipliers"][1]["cost_per_outcome_usd"] == pytest.approx(MINI_CALL)
    assert half["multipliers"][1]["cost_per_outcome_usd"] == pytest.approx(MINI_CALL / 2)
