"""Price book, model resolution and the priced_calls view.

Expected costs are computed by hand from the rates in the pinned litellm map (noted beside
each case); rates are USD per token. The last tests check our figures against litellm's own
calculator (litellm imported only there).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, rows
from workbench import cost as pricing
from workbench.errors import WorkbenchError

_N = 0


def call(con, model, provider=None, tier="default", inp=0, cr=0, cw=0, cw1h=0, out=0, rs=0, logged=None):
    """Insert one call straight into `calls`; returns its call_id."""
    global _N
    _N += 1
    cid = f"t{_N}"
    con.execute(
        "INSERT INTO calls (call_id, source_format, provider, model, service_tier, input_tokens, cache_read_tokens,"
        " cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, status, logged_cost_usd)"
        " VALUES (?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)",
        [cid, provider, model, tier, inp, cr, cw, cw1h, out, rs, logged],
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


# --- the buckets -----------------------------------------------------------------------


def test_cache_reads_openai(con):
    # gpt-4o-2024-08-06: input 2.5e-6, cache read 1.25e-6, output 1e-5
    cid = call(con, "gpt-4o-2024-08-06", "openai", inp=10_000, cr=4_000, out=500)
    pricing.build_price_book(con)
    r = priced(con, cid)
    # uncached 6000 x 2.5e-6 = 0.015; reads 4000 x 1.25e-6 = 0.005; output 500 x 1e-5 = 0.005
    assert r["price_key"] == "gpt-4o-2024-08-06" and r["match_rule"] == "exact"
    assert r["input_cost_usd"] == pytest.approx(0.015)
    assert r["cache_read_cost_usd"] == pytest.approx(0.005)
    assert r["cache_write_cost_usd"] == 0
    assert r["output_cost_usd"] == pytest.approx(0.005)
    assert r["cost_usd"] == pytest.approx(0.025)


def test_cache_writes_5m_and_1h_anthropic(con):
    # claude-sonnet-4-5-20250929: input 3e-6, read 3e-7, write 5m 3.75e-6, write 1h 6e-6, output 1.5e-5
    cid = call(con, "claude-sonnet-4-5-20250929", "anthropic", inp=20_000, cr=8_000, cw=6_000, cw1h=2_000, out=1_000)
    pricing.build_price_book(con)
    r = priced(con, cid)
    # uncached 20000-8000-6000 = 6000 x 3e-6 = 0.018
    # reads 8000 x 3e-7 = 0.0024
    # writes 5m (6000-2000) 4000 x 3.75e-6 = 0.015; 1h 2000 x 6e-6 = 0.012 -> 0.027
    # output 1000 x 1.5e-5 = 0.015
    # total 0.018 + 0.0024 + 0.027 + 0.015 = 0.0624
    assert r["input_cost_usd"] == pytest.approx(0.018)
    assert r["cache_read_cost_usd"] == pytest.approx(0.0024)
    assert r["cache_write_1h_cost_usd"] == pytest.approx(0.012)
    assert r["cache_write_cost_usd"] == pytest.approx(0.027)
    assert r["cost_usd"] == pytest.approx(0.0624)


def test_reasoning_at_output_rate_and_at_its_own_rate(con):
    # o3: input 2e-6, output 8e-6, no reasoning rate -> reasoning at the output rate
    a = call(con, "o3", "openai", inp=1_000, out=3_000, rs=2_000)
    # dashscope/qwen-turbo: input 5e-8, output 2e-7, output_cost_per_reasoning_token 5e-7
    b = call(con, "qwen-turbo", "dashscope", inp=1_000, out=3_000, rs=2_000)
    pricing.build_price_book(con)
    ra, rb = priced(con, a), priced(con, b)
    # o3: 1000 x 2e-6 = 0.002; text 1000 x 8e-6 = 0.008; reasoning 2000 x 8e-6 = 0.016 -> 0.026
    assert ra["reasoning_cost_usd"] == pytest.approx(0.016)
    assert ra["output_cost_usd"] == pytest.approx(0.024)
    assert ra["cost_usd"] == pytest.approx(0.026)
    # qwen-turbo: 1000 x 5e-8 = 5e-5; text 1000 x 2e-7 = 2e-4; reasoning 2000 x 5e-7 = 1e-3 -> 1.25e-3
    assert rb["price_key"] == "dashscope/qwen-turbo" and rb["match_rule"] == "provider_prefix"
    assert rb["reasoning_cost_usd"] == pytest.approx(1e-3)
    assert rb["cost_usd"] == pytest.approx(1.25e-3)


def test_batch_and_flex_tiers(con):
    # gpt-4o-2024-08-06 batch: input 1.25e-6, output 5e-6
    a = call(con, "gpt-4o-2024-08-06", "openai", tier="batch", inp=10_000, out=1_000)
    # claude-sonnet-4-5 batch: input 1.5e-6, read 1.5e-7, output 7.5e-6
    b = call(con, "claude-sonnet-4-5-20250929", "anthropic", tier="batch", inp=10_000, cr=4_000, out=1_000)
    # gpt-5 flex: input 6.25e-7, read 6.25e-8, output 5e-6
    c = call(con, "gpt-5", "openai", tier="flex", inp=10_000, cr=4_000, out=1_000)
    # gpt-4o has no _flex keys: flex falls back to the base rates (2.5e-6 / 1e-5)
    d = call(con, "gpt-4o", "openai", tier="flex", inp=1_000, out=100)
    pricing.build_price_book(con)
    # 10000 x 1.25e-6 = 0.0125; 1000 x 5e-6 = 0.005 -> 0.0175
    assert priced(con, a)["cost_usd"] == pytest.approx(0.0175)
    # 6000 x 1.5e-6 = 0.009; 4000 x 1.5e-7 = 0.0006; 1000 x 7.5e-6 = 0.0075 -> 0.0171
    assert priced(con, b)["cost_usd"] == pytest.approx(0.0171)
    # 6000 x 6.25e-7 = 0.00375; 4000 x 6.25e-8 = 0.00025; 1000 x 5e-6 = 0.005 -> 0.009
    assert priced(con, c)["cost_usd"] == pytest.approx(0.009)
    rd = priced(con, d)
    # 1000 x 2.5e-6 = 0.0025; 100 x 1e-5 = 0.001 -> 0.0035
    assert rd["cost_usd"] == pytest.approx(0.0035) and rd["rate_source"] == "base_fallback"


def test_context_threshold_reprices_the_whole_request(con):
    # gemini/gemini-2.5-pro: <=200k input 1.25e-6, read 1.25e-7, output 1e-5;
    #                         >200k input 2.5e-6,  read 2.5e-7,  output 1.5e-5
    below = call(con, "gemini-2.5-pro", "gemini", inp=150_000, cr=50_000, out=2_000)
    edge = call(con, "gemini-2.5-pro", "gemini", inp=200_000, out=0)
    above = call(con, "gemini-2.5-pro", "gemini", inp=250_000, cr=50_000, out=2_000)
    pricing.build_price_book(con)
    # below: 100000 x 1.25e-6 = 0.125; 50000 x 1.25e-7 = 0.00625; 2000 x 1e-5 = 0.02 -> 0.15125
    assert priced(con, below)["cost_usd"] == pytest.approx(0.15125)
    # exactly 200000 is not above the threshold: 200000 x 1.25e-6 = 0.25
    assert priced(con, edge)["cost_usd"] == pytest.approx(0.25)
    ra = priced(con, above)
    # above: every token type at the >200k rates:
    # 200000 x 2.5e-6 = 0.5; 50000 x 2.5e-7 = 0.0125; 2000 x 1.5e-5 = 0.03 -> 0.5425
    assert ra["context_band_above_tokens"] == 200_000
    assert ra["cost_usd"] == pytest.approx(0.5425)


# --- overrides -------------------------------------------------------------------------


def test_discount_alias_and_self_hosted(con, overrides):
    path = overrides(
        """
        discounts:
          providers: {azure: 0.15}
          models: {claude-sonnet-4-5-20250929: 0.10}
        aliases:
          my-gpt4o-deployment: azure/gpt-4o
        self_hosted:
          llama-70b-internal: {gpu_hourly_usd: 2.5, gpus_per_replica: 4, throughput_tokens_per_s: 3400}
        """
    )
    # azure/gpt-4o: input 2.5e-6, output 1e-5
    a = call(con, "my-gpt4o-deployment", "azure", inp=10_000, out=1_000)
    b = call(con, "claude-sonnet-4-5-20250929", "anthropic", inp=10_000, out=1_000)
    c = call(con, "llama-70b-internal", "vllm", inp=10_000, out=1_000)
    info = pricing.build_price_book(con, path)
    assert info.book_version.endswith("+ov." + hashlib.sha256(path.read_bytes()).hexdigest()[:12])
    ra = priced(con, a)
    # list 10000 x 2.5e-6 + 1000 x 1e-5 = 0.025 + 0.01 = 0.035; 15% off -> 0.02975
    assert (ra["price_key"], ra["match_rule"], ra["discount"]) == ("azure/gpt-4o", "alias>exact", 0.15)
    assert ra["list_cost_usd"] == pytest.approx(0.035)
    assert ra["cost_usd"] == pytest.approx(0.02975)
    # sonnet: 10000 x 3e-6 + 1000 x 1.5e-5 = 0.03 + 0.015 = 0.045; 10% off -> 0.0405
    assert priced(con, b)["cost_usd"] == pytest.approx(0.0405)
    rc = priced(con, c)
    assert (rc["price_status"], rc["cost_usd"]) == ("self_hosted", 0)
    (sh,) = rows(con, "SELECT * FROM price_self_hosted")
    assert (sh["name"], sh["gpus_per_replica"], sh["target_utilization"], sh["min_replicas"]) == (
        "llama-70b-internal", 4, 0.6, 1)


def test_model_rate_override_patches_and_adds(con, overrides):
    path = overrides(
        """
        models:
          gpt-4o: {input_cost_per_token: 2.0e-6}
          acme-ft: {input_cost_per_token: 1.0e-6, output_cost_per_token: 4.0e-6}
        """
    )
    a = call(con, "gpt-4o", "openai", inp=1_000, out=100)
    b = call(con, "acme-ft", "openai", inp=1_000, out=100)
    pricing.build_price_book(con, path)
    # patched input 1000 x 2e-6 = 0.002; output unchanged 100 x 1e-5 = 0.001 -> 0.003
    assert priced(con, a)["cost_usd"] == pytest.approx(0.003)
    # new entry: 1000 x 1e-6 + 100 x 4e-6 = 0.0014
    assert priced(con, b)["cost_usd"] == pytest.approx(0.0014)
    sources = dict(con.execute("SELECT price_key, source FROM prices").fetchall())
    assert sources == {"gpt-4o": "litellm+override", "acme-ft": "override"}


@pytest.mark.parametrize(
    "text, field",
    [
        ("discounts:\n  providers: {azure: 15}\n", "discounts.providers"),
        ("models:\n  gpt-4o: {input_cost_per_token: -1}\n", "models"),
        ("aliasez: {a: b}\n", "aliasez"),
        ("self_hosted:\n  m: {gpu_hourly_usd: 2}\n", "self_hosted.m.throughput_tokens_per_s"),
        ("models:\n  brand-new: {input_cost_per_token: 1.0e-6}\n", "models.brand-new"),
        ("models: [1, 2\n", "not valid YAML"),
    ],
)
def test_override_errors_name_the_file_and_field(overrides, text, field):
    path = overrides(text)
    with pytest.raises(WorkbenchError) as err:
        pricing.load_price_book(path)
    assert str(path) in str(err.value) and field in str(err.value)


# --- resolution and unpriced -----------------------------------------------------------


def test_unknown_model_is_unpriced_never_zero(con):
    known = call(con, "gpt-4o", "openai", inp=1_000, out=100, logged=0.0035)
    unknown = call(con, "totally-private-model", "acme", inp=5_000, out=500, logged=0.01)
    assert priced(con, unknown)["price_status"] == "not_resolved"  # before any build
    pricing.build_price_book(con)
    r = priced(con, unknown)
    assert (r["price_key"], r["cost_usd"], r["price_status"]) == (None, None, "unpriced")
    total = con.execute("SELECT sum(cost_usd), count(cost_usd) FROM priced_calls").fetchone()
    assert total == (pytest.approx(0.0035), 1)  # excluded, not counted as $0
    assert pricing.unpriced(con) == [
        {"provider": "acme", "model": "totally-private-model", "price_status": "unpriced", "calls": 1,
         "input_tokens": 5_000, "output_tokens": 500, "logged_cost_usd": 0.01}
    ]
    assert priced(con, known)["cost_delta_vs_logged"] == pytest.approx(0)
    assert pricing.explain("totally-private-model", "acme")["priced"] is False


def test_dated_snapshot_falls_back_to_base_only_when_absent(con):
    a = call(con, "gpt-4o-2024-12-17", "openai", inp=1_000)  # no such dated key
    b = call(con, "gpt-4o-2024-05-13", "openai", inp=1_000)  # dated key exists, own price 5e-6
    c = call(con, "openai/gpt-4o-mini-2024-07-18", None, inp=1_000)  # prefixed model string
    pricing.build_price_book(con)
    ra, rb, rc = priced(con, a), priced(con, b), priced(con, c)
    assert (ra["price_key"], ra["match_rule"]) == ("gpt-4o", "dated_to_base>exact")
    assert ra["cost_usd"] == pytest.approx(1_000 * 2.5e-6)
    assert (rb["price_key"], rb["cost_usd"]) == ("gpt-4o-2024-05-13", pytest.approx(1_000 * 5e-6))
    assert (rc["price_key"], rc["match_rule"]) == ("gpt-4o-mini-2024-07-18", "strip_prefix")


def test_azure_call_prices_as_azure_entry():
    e = pricing.explain("gpt-4o", "azure")
    assert (e["price_key"], e["match_rule"], e["litellm_provider"]) == ("azure/gpt-4o", "provider_prefix", "azure")
    assert {r["service_tier"] for r in e["rates"]} == {"default", "batch", "flex", "priority"}


def test_snapshot_and_version(con, overrides):
    call(con, "gpt-4o", "openai", inp=10)
    call(con, "nope", "openai", inp=10)
    path = overrides("models:\n  acme-ft: {input_cost_per_token: 1.0e-6, output_cost_per_token: 4.0e-6}\n")
    info = pricing.build_price_book(con, path)
    map_sha = hashlib.sha256(pricing.litellm_map_path().read_bytes()).hexdigest()
    assert info.map_sha256 == map_sha and info.litellm_version in info.book_version
    assert (info.pairs, info.priced_pairs, info.unpriced_pairs) == (2, 1, 1)
    assert {k for (k,) in con.execute("SELECT price_key FROM prices").fetchall()} == {"gpt-4o", "acme-ft"}
    assert con.execute("SELECT DISTINCT book_version FROM prices").fetchall() == [(info.book_version,)]
    assert pricing.current_book(con)["map_sha256"] == map_sha
    pricing.build_price_book(con)  # rebuild replaces the book, keeps history
    assert con.execute("SELECT count(*) FROM price_books").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM prices").fetchone() == (1,)


def test_logged_cost_disagreement(con):
    # gpt-4o: 1000 x 2.5e-6 + 100 x 1e-5 = 0.0035
    call(con, "gpt-4o", "openai", inp=1_000, out=100, logged=0.0035)
    call(con, "gpt-4o", "openai", inp=1_000, out=100, logged=0.0070)
    call(con, "gpt-4o", "openai", inp=1_000, out=100)  # nothing logged: not compared
    call(con, "nope", "openai", inp=1_000, out=100, logged=0.01)
    pricing.build_price_book(con)
    d = pricing.logged_cost_disagreement(con, tolerance=0.01)
    assert (d["calls_with_logged_cost"], d["compared"], d["logged_but_unpriced"], d["disagreeing"]) == (3, 2, 1, 1)
    assert d["share_disagreeing"] == 0.5
    assert d["by_model"][0]["model"] == "gpt-4o"


def test_pricing_never_imports_litellm():
    code = "import sys, workbench.cost.book as p; p.load_price_book(); assert 'litellm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# --- agreement with litellm's own calculator -------------------------------------------


@pytest.fixture(scope="module")
def litellm():
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm as _litellm

    return _litellm


CASES = [  # (model, provider, input (all), cache read, cache write, output)
    ("gpt-4o-2024-08-06", "openai", 12_000, 4_096, 0, 700),
    ("gpt-4o-mini-2024-07-18", "openai", 3_000, 1_024, 0, 250),
    ("claude-sonnet-4-5-20250929", "anthropic", 20_000, 8_000, 6_000, 1_000),
    ("claude-haiku-4-5-20251001", "anthropic", 9_000, 2_000, 3_000, 400),
    ("gemini-2.5-pro", "gemini", 250_000, 50_000, 0, 2_000),
]


def test_matches_litellm_cost_per_token(con, litellm):
    ids = [call(con, m, p, inp=i, cr=r, cw=w, out=o) for m, p, i, r, w, o in CASES]
    flex = call(con, "gpt-5", "openai", tier="flex", inp=10_000, cr=4_000, out=900)
    batch = call(con, "claude-sonnet-4-5-20250929", "anthropic", tier="batch", inp=10_000, cr=3_000, cw=2_000, out=900)
    pricing.build_price_book(con)
    for cid, (model, provider, inp, cr, cw, out) in zip(ids, CASES):
        # litellm's prompt_tokens include cache reads and writes, like our input_tokens
        p, c = litellm.cost_per_token(model=priced(con, cid)["price_key"], prompt_tokens=inp, completion_tokens=out,
                                      cache_read_input_tokens=cr, cache_creation_input_tokens=cw)
        assert priced(con, cid)["cost_usd"] == pytest.approx(p + c, rel=1e-9), model
    p, c = litellm.cost_per_token(model="gpt-5", prompt_tokens=10_000, completion_tokens=900,
                                  cache_read_input_tokens=4_000, service_tier="flex")
    assert priced(con, flex)["cost_usd"] == pytest.approx(p + c, rel=1e-9)
    from litellm.cost_calculator import batch_cost_calculator
    from litellm.types.utils import PromptTokensDetailsWrapper, Usage

    usage = Usage(prompt_tokens=10_000, completion_tokens=900, total_tokens=10_900,
                  prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=3_000, cache_creation_tokens=2_000))
    p, c = batch_cost_calculator(usage, "claude-sonnet-4-5-20250929", custom_llm_provider="anthropic")
    assert priced(con, batch)["cost_usd"] == pytest.approx(p + c, rel=1e-9)


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022"])
def test_retired_claude_3_5_is_unpriced_here_as_in_litellm(con, litellm, model):
    # The pinned map no longer carries these first-party keys: both sides say "no price".
    cid = call(con, model, "anthropic", inp=1_000, out=100)
    pricing.build_price_book(con)
    assert priced(con, cid)["cost_usd"] is None
    with pytest.raises(Exception):
        litellm.cost_per_token(model=model, custom_llm_provider="anthropic", prompt_tokens=1_000, completion_tokens=100)
