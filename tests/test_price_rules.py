"""Every rule the price map states, applied by `priced_calls` (issue 13 item 1), on hand-computed cases.

Rates are USD per token from the pinned litellm map (noted beside each case), or from an overrides
entry written in the test. Calls go straight into `calls`; one build_price_book, then the view.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from conftest import rows

from workbench import cost as pricing

_N = 0


def call(con, model, provider=None, tier="default", ts=None, inp=1_000, out=100, cr=0, cw=0, attrs=None):
    global _N
    _N += 1
    cid = f"r{_N}"
    con.execute(
        "INSERT INTO calls (call_id, source_format, ts, provider, model, service_tier, input_tokens, cache_read_tokens,"
        " cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, status, attributes)"
        " VALUES (?, 'test', ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 'ok', ?)",
        [cid, ts, provider, model, tier, inp, cr, cw, out, json.dumps(attrs) if attrs else None],
    )
    return cid


def priced(con, cid) -> dict:
    (row,) = rows(con, f"SELECT * FROM priced_calls WHERE call_id = '{cid}'")
    return row


@pytest.fixture
def overrides(tmp_path):
    def write(text: str):
        path = tmp_path / "prices.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    return write


# --- off_peak_pricing: the call's timestamp decides ---------------------------------------------


def test_deepseek_off_peak_windows(con):
    # deepseek/deepseek-v4-pro: standard in 1.32e-6, out 3.96e-6; off-peak in 6.6e-7, out 1.98e-6
    # off-peak windows (UTC): weekdays 00:00-01:00, 04:00-06:00, 10:00-00:00; weekends all day
    peak = call(con, "deepseek-v4-pro", "deepseek", ts="2026-01-07 02:30:00+00")      # Wednesday, 01:00-04:00
    midday = call(con, "deepseek-v4-pro", "deepseek", ts="2026-01-07 12:30:00+00")    # Wednesday 10:00-00:00
    edge_in = call(con, "deepseek-v4-pro", "deepseek", ts="2026-01-07 10:00:00+00")   # start is inclusive
    edge_out = call(con, "deepseek-v4-pro", "deepseek", ts="2026-01-07 06:00:00+00")  # end is exclusive
    weekend = call(con, "deepseek-v4-pro", "deepseek", ts="2026-01-10 02:30:00+00")   # Saturday
    no_ts = call(con, "deepseek-v4-pro", "deepseek")
    batch = call(con, "deepseek-v4-pro", "deepseek", tier="batch", ts="2026-01-07 12:30:00+00")
    pricing.build_price_book(con)
    # standard: 1000 x 1.32e-6 + 100 x 3.96e-6 = 0.00132 + 0.000396 = 0.001716
    # off-peak: 1000 x 6.6e-7 + 100 x 1.98e-6 = 0.00066 + 0.000198 = 0.000858
    for cid, period, cost in [(peak, "standard", 0.001716), (midday, "off_peak", 0.000858),
                              (edge_in, "off_peak", 0.000858), (edge_out, "standard", 0.001716),
                              (weekend, "off_peak", 0.000858), (no_ts, "standard", 0.001716)]:
        r = priced(con, cid)
        assert (r["rate_period"], r["cost_usd"]) == (period, pytest.approx(cost)), cid
    assert priced(con, midday)["rate_source"] == "off_peak"
    # batch has no off-peak rates (litellm's batch calculator has none); DeepSeek publishes no batch
    # discount, so list price: 0.001716, rate_source base_fallback
    rb = priced(con, batch)
    assert (rb["rate_period"], rb["rate_source"], rb["cost_usd"]) == ("standard", "base_fallback",
                                                                      pytest.approx(0.001716))


def test_off_peak_weekday_timezone_and_wrapping_window(con, overrides):
    path = overrides("""
        models:
          acme-cn:
            litellm_provider: acme
            input_cost_per_token: 2.0e-6
            output_cost_per_token: 8.0e-6
            off_peak_pricing:
              input_cost_per_token: 1.0e-6
              weekday_timezone: Asia/Shanghai
              windows:
                - {hours_utc: "00:00-00:00", weekdays: [sat, 7]}
          acme-night:
            litellm_provider: acme
            input_cost_per_token: 2.0e-6
            output_cost_per_token: 8.0e-6
            off_peak_pricing: {hours_utc: "22:00-02:00", output_cost_per_token: 4.0e-6}
    """)
    # Friday 2026-01-09 20:00 UTC is Saturday 04:00 in Shanghai: off-peak on that calendar
    sat_cn = call(con, "acme-cn", ts="2026-01-09 20:00:00+00")
    fri_cn = call(con, "acme-cn", ts="2026-01-09 15:00:00+00")      # Friday 23:00 in Shanghai
    late = call(con, "acme-night", ts="2026-01-07 23:30:00+00")      # inside 22:00-02:00 (wraps midnight)
    early = call(con, "acme-night", ts="2026-01-08 01:59:00+00")
    after = call(con, "acme-night", ts="2026-01-08 02:00:00+00")
    pricing.build_price_book(con, path)
    # acme-cn off-peak: input 1000 x 1e-6 = 0.001 (+ output at the standard 100 x 8e-6 = 0.0008) = 0.0018
    # acme-cn standard: 1000 x 2e-6 + 0.0008 = 0.0028
    assert priced(con, sat_cn)["cost_usd"] == pytest.approx(0.0018)
    assert priced(con, fri_cn)["cost_usd"] == pytest.approx(0.0028)
    # acme-night off-peak: 1000 x 2e-6 + 100 x 4e-6 = 0.0024; standard 0.0028
    assert priced(con, late)["cost_usd"] == pytest.approx(0.0024)
    assert priced(con, early)["cost_usd"] == pytest.approx(0.0024)
    assert priced(con, after)["cost_usd"] == pytest.approx(0.0028)


# --- provider_specific_entry: inference_geo and speed --------------------------------------------


def test_anthropic_geo_and_fast_multipliers(con):
    # claude-opus-4-8: in 5e-6, out 2.5e-5; provider_specific_entry {us: 1.1, fast: 2.0}
    # base: 1000 x 5e-6 + 100 x 2.5e-5 = 0.005 + 0.0025 = 0.0075
    cases = {
        "us_fast": ({"inference_geo": "us", "speed": "fast"}, 2.2, 0.0165),   # 0.0075 x 1.1 x 2
        "us": ({"inference_geo": "us"}, 1.1, 0.00825),                        # 0.0075 x 1.1
        "US": ({"inference_geo": "US", "speed": "standard"}, 1.1, 0.00825),   # geo is case-insensitive
        "global": ({"inference_geo": "global"}, 1.0, 0.0075),
        "not_available": ({"inference_geo": "not_available"}, 1.0, 0.0075),
        "fast": ({"speed": "fast"}, 2.0, 0.015),
        "none": (None, 1.0, 0.0075),
    }
    ids = {k: call(con, "claude-opus-4-8", "anthropic", attrs=a) for k, (a, _, _) in cases.items()}
    # claude-sonnet-4-5 has no provider_specific_entry: 1000 x 3e-6 + 100 x 1.5e-5 = 0.0045, x 1
    plain = call(con, "claude-sonnet-4-5", "anthropic", attrs={"inference_geo": "us", "speed": "fast"})
    # batch keeps the geo factor: (1000 x 2.5e-6 + 100 x 1.25e-5) x 1.1 = 0.00375 x 1.1 = 0.004125
    batch = call(con, "claude-opus-4-8", "anthropic", tier="batch", attrs={"inference_geo": "us"})
    pricing.build_price_book(con)
    for k, (_, mult, cost) in cases.items():
        r = priced(con, ids[k])
        assert (r["rate_multiplier"], r["cost_usd"]) == (pytest.approx(mult), pytest.approx(cost)), k
    assert priced(con, plain)["cost_usd"] == pytest.approx(0.0045)
    assert priced(con, batch)["cost_usd"] == pytest.approx(0.004125)


def test_speed_and_geo_survive_ingest(con, ingest, write_jsonl):
    msg = {"id": "msg_01FastGeo", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
           "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None,
           "usage": {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 0,
                     "cache_creation_input_tokens": 0, "service_tier": "standard",
                     "inference_geo": "us", "speed": "fast"}}
    ingest(write_jsonl([msg]))
    pricing.build_price_book(con)
    (r,) = rows(con, "SELECT * FROM priced_calls")
    attrs = json.loads(r["attributes"])
    assert (attrs["inference_geo"], attrs["speed"]) == ("us", "fast")
    # 0.0075 x 1.1 x 2 = 0.0165
    assert r["cost_usd"] == pytest.approx(0.0165)


# --- the ultrafast and balanced tiers --------------------------------------------------------------


def test_ultrafast_and_balanced_tiers(con):
    # gpt-6.1-sol ultrafast: in 1.2e-5, out 6e-5 (default 2e-6 / 1e-5)
    ultra = call(con, "gpt-6.1-sol", "openai", tier="ultrafast")
    # sail/moonshotai/Kimi-K3 balanced: in 2e-6, out 1e-5 (default 2.5e-6 / 1.25e-5)
    bal = call(con, "moonshotai/Kimi-K3", "sail", tier="Balanced")
    # gpt-4o has no _ultrafast keys: the base rates 2.5e-6 / 1e-5
    fallback = call(con, "gpt-4o", "openai", tier="ultrafast")
    pricing.build_price_book(con)
    # 1000 x 1.2e-5 + 100 x 6e-5 = 0.012 + 0.006 = 0.018 (the default tier would be 0.003: 6x under)
    ru = priced(con, ultra)
    assert (ru["pricing_tier"], ru["rate_source"], ru["cost_usd"]) == ("ultrafast", "tier", pytest.approx(0.018))
    # 1000 x 2e-6 + 100 x 1e-5 = 0.002 + 0.001 = 0.003
    rb = priced(con, bal)
    assert (rb["price_key"], rb["pricing_tier"], rb["cost_usd"]) == ("sail/moonshotai/Kimi-K3", "balanced",
                                                                     pytest.approx(0.003))
    # 1000 x 2.5e-6 + 100 x 1e-5 = 0.0035
    rf = priced(con, fallback)
    assert (rf["pricing_tier"], rf["rate_source"], rf["cost_usd"]) == ("default", "base_fallback",
                                                                       pytest.approx(0.0035))


# --- batch without `_batches` rates; twin keys -----------------------------------------------------


def test_batch_twin_published_discount_and_list_price(con, overrides):
    # bedrock/moonshotai.kimi-k2.5 has no _batches; its twin moonshotai.kimi-k2.5 (bedrock_converse,
    # same standard rates 6e-7 / 3e-6) has batch in 3e-7, out 1.5e-6
    twin = call(con, "bedrock/moonshotai.kimi-k2.5", tier="batch")
    # azure/o1: no _batches and no twin of its provider; Azure OpenAI publishes Global Batch at 50%:
    # in 1.5e-5 / 2, out 6e-5 / 2
    azure = call(con, "azure/o1", tier="batch")
    # deepseek-v4-pro: no _batches, DeepSeek publishes no batch discount: list price
    listed = call(con, "deepseek-v4-pro", "deepseek", tier="batch")
    pricing.build_price_book(con)
    # 1000 x 3e-7 + 100 x 1.5e-6 = 0.0003 + 0.00015 = 0.00045
    rt = priced(con, twin)
    assert (rt["rate_source"], rt["cost_usd"]) == ("twin_batches", pytest.approx(0.00045))
    # (1000 x 1.5e-5 + 100 x 6e-5) / 2 = (0.015 + 0.006) / 2 = 0.0105
    ra = priced(con, azure)
    assert (ra["rate_source"], ra["cost_usd"]) == ("published_batch_discount", pytest.approx(0.0105))
    # 1000 x 1.32e-6 + 100 x 3.96e-6 = 0.001716
    rl = priced(con, listed)
    assert (rl["rate_source"], rl["cost_usd"]) == ("base_fallback", pytest.approx(0.001716))
    # `batch_fallback: half` halves the providers that publish nothing: 0.001716 / 2 = 0.000858
    pricing.build_price_book(con, overrides("batch_fallback: half\n"))
    rh = priced(con, listed)
    assert (rh["rate_source"], rh["cost_usd"]) == ("half_of_base", pytest.approx(0.000858))
    assert priced(con, azure)["rate_source"] == "published_batch_discount"


def test_twins_that_disagree_on_price_stay_apart():
    from workbench.cost.book import load_price_book

    book = load_price_book()
    # kyma/gpt-6-luna (a reseller: in 1.639e-7 against gpt-6-luna's 1e-7) does not borrow gpt-6-luna's batch
    # rates; azure/gpt-4-turbo-2024-04-09 (in 1.1e-5 against 1e-5) neither
    for key in ("kyma/gpt-6-luna", "azure/gpt-4-turbo-2024-04-09"):
        assert "workbench_batch_rates_from" not in book.entries[key]
    assert book.entries["bedrock/moonshotai.kimi-k2.5"]["workbench_batch_rates_from"] == "moonshotai.kimi-k2.5"


def test_price_rates_tiers_and_map_date():
    from workbench.cli import _per_m
    from workbench.cost.book import load_price_book
    from workbench.cost.pricemap import map_date

    tiers = {r["service_tier"] for r in load_price_book().rates("deepseek-v4-pro")}
    assert tiers == {"default", "batch", "flex", "priority", "default:off_peak", "flex:off_peak", "priority:off_peak"}
    tiers = {r["service_tier"] for r in load_price_book().rates("gpt-6.1-sol")}
    assert tiers == {"default", "batch", "flex", "priority", "ultrafast"}
    # $ per 1M tokens to their significant digits, at least cents
    assert [_per_m(v) for v in (1.25e-6, 7.5e-8, 1.5e-5, 2e-11, 0.0, None)] == [
        "$1.25", "$0.075", "$15.00", "$0.00002", "$0.00", None]
    day, what = map_date(load_price_book().map_path)
    assert len(day) == 10 and day[4] == "-" and "mtime" in what
