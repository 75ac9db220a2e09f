"""Levers the logs can speak to (issue 16 item 4): exact repeats as a semantic-cache floor,
prompt-cache read share, retries as observed; each lever says where its value came from."""

from __future__ import annotations

import json

import pytest

from workbench import cost as pricing
from workbench.cost.book import PriceBook
from workbench.cost.engine import Projector
from workbench.cost.evidence import lever_sources, observed_levers
from workbench.cost.profile import build_profile
from workbench.cost.scenario import Scenario


def _call(con, cid, feature, prompt=None, cache_hit=None, status="ok", inp=1000, cread=0):
    attrs = {k: v for k, v in (("prompt_sha256", prompt), ("cache_hit", cache_hit)) if v is not None}
    con.execute(
        "INSERT INTO calls (call_id, source_format, ts, provider, model, feature, input_tokens, cache_read_tokens,"
        " cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, status, attributes)"
        " VALUES (?, 'test', TIMESTAMPTZ '2026-11-01 00:00:00+00' + ? * INTERVAL 1 MINUTE, 'openai', 'gpt-4o-mini',"
        " ?, ?, ?, 0, 0, 100, 0, ?, ?)",
        [cid, int(cid[1:]), feature, inp, cread, status, json.dumps(attrs) if attrs else None])


def test_exact_repeats_retries_and_cache_reads_per_feature(con):
    # faq: prompts a, a, a, b -> 2 of 4 repeat an earlier one; chat: the gateway's cache hit 1 of 2
    for i, p in enumerate(["a", "a", "a", "b"]):
        _call(con, f"c{i}", "faq", prompt=p, cread=500)
    _call(con, "c10", "chat", cache_hit=True)
    _call(con, "c11", "chat", cache_hit=False, status="error")
    lv = observed_levers(con)
    assert lv["faq"]["exact_repeat_rate"]["value"] == pytest.approx(0.5)
    assert "prompt hashes" in lv["faq"]["exact_repeat_rate"]["source"]
    assert lv["chat"]["exact_repeat_rate"]["value"] == pytest.approx(0.5)
    assert lv["faq"]["prompt_cache_read_share"]["value"] == pytest.approx(0.5)  # 2000 of 4000
    assert lv["chat"]["retry_overhead"]["value"] == pytest.approx(1.0)  # 1 failed per 1 ok
    assert lv["*"]["retry_overhead"]["value"] == pytest.approx(1 / 5)


def test_semantic_cache_from_the_logs_and_where_each_lever_came_from(con):
    for i, p in enumerate(["a", "a", "a", "b"]):
        _call(con, f"c{i}", "faq", prompt=p)
    pricing.build_price_book(con)
    p = Projector(build_profile(con), PriceBook())
    from_logs = Scenario.model_validate({"name": "cache", "semantic_cache_hit_rate": "logs"})
    base = p.evaluate(Scenario(name="today"), [1], bootstrap=0)["multipliers"][0]["monthly_cost_usd"]
    cached = p.evaluate(from_logs, [1], bootstrap=0)["multipliers"][0]["monthly_cost_usd"]
    assert cached == pytest.approx(base * 0.5)  # half the calls repeat exactly
    stated = Scenario.model_validate({"name": "guess", "semantic_cache_hit_rate": 0.2})
    (sem, rs, retry) = lever_sources(stated, p.profile.levers)
    assert (sem["source"], sem["value"]) == ("scenario", 0.2) and "below the 50.0%" in sem["note"]
    assert rs["source"] == "logs" and retry["source"] == "logs"
    assert lever_sources(from_logs, p.profile.levers)[0]["source"] == "logs"
