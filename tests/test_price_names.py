"""Names real logs use, and $0 map entries (issue 13, items 2 and 3).

Each name form is priced through `priced_calls` and checked against a figure computed by hand
from the map entry the rule should pick (rates are USD per token, read from the pinned litellm
map and written beside each case). One call = 10,000 input and 1,000 output tokens, no cache,
unless stated. Rules in order: book.py's module docstring.
"""

from __future__ import annotations

import textwrap

import pytest
from test_pipeline import run_cli
from test_pricing import call, priced

from workbench import cost as pricing
from workbench.cost.book import PriceBook

IN, OUT = 10_000, 1_000


def _cost(con, model, provider=None, tier="default"):
    cid = call(con, model, provider, tier=tier, inp=IN, out=OUT)
    return cid


@pytest.fixture
def book():
    return PriceBook()


# --- 4. fine-tunes ----------------------------------------------------------------------------


def test_finetune_prices_as_the_maps_ft_entry(con):
    a = _cost(con, "ft:gpt-4o-mini-2024-07-18:acme::AbC123", "openai")
    b = _cost(con, "ft:gpt-3.5-turbo:my-org:custom_suffix:id9", None)
    pricing.build_price_book(con)
    ra, rb = priced(con, a), priced(con, b)
    # ft:gpt-4o-mini-2024-07-18: in 3e-7, out 1.2e-6 (the base gpt-4o-mini-2024-07-18 is 1.5e-7 / 6e-7)
    # 10,000 x 3e-7 = 0.003; 1,000 x 1.2e-6 = 0.0012 -> 0.0042 (the base would give 0.0021)
    assert (ra["price_key"], ra["match_rule"]) == ("ft:gpt-4o-mini-2024-07-18", "finetune>exact")
    assert ra["cost_usd"] == pytest.approx(0.0042)
    # ft:gpt-3.5-turbo: in 3e-6, out 6e-6 -> 0.03 + 0.006 = 0.036
    assert (rb["price_key"], rb["match_rule"]) == ("ft:gpt-3.5-turbo", "finetune>exact")
    assert rb["cost_usd"] == pytest.approx(0.036)


def test_finetune_without_an_ft_entry_prices_as_its_base_and_says_so(con):
    a = _cost(con, "ft:gpt-4o-2024-05-13:acme::x1", "openai")
    pricing.build_price_book(con)
    r = priced(con, a)
    # no ft:gpt-4o-2024-05-13 in the map: the base gpt-4o-2024-05-13, in 5e-6, out 1.5e-5
    # 10,000 x 5e-6 = 0.05; 1,000 x 1.5e-5 = 0.015 -> 0.065
    assert (r["price_key"], r["match_rule"]) == ("gpt-4o-2024-05-13", "finetune_base>exact")
    assert r["cost_usd"] == pytest.approx(0.065)
    e = pricing.explain("ft:gpt-4o-2024-05-13:acme::x1", "openai")
    assert e["status"] == "priced" and "fine-tuned inference usually costs more" in e["note"]


# --- 5. Gemini API and Vertex resource names ------------------------------------------------------


def test_gemini_api_name_is_the_gemini_entry_not_vertex(con):
    a = _cost(con, "models/gemini-2.5-pro", None)
    b = _cost(con, "models/gemini-2.5-pro", "google")
    # flex on the Gemini API: gemini/gemini-3.1-flash-lite-preview has _flex rates (in 1.25e-7, out 7.5e-7);
    # the bare (Vertex) gemini-3.1-flash-lite-preview has none, so it would bill list (2.5e-7 / 1.5e-6)
    c = _cost(con, "models/gemini-3.1-flash-lite-preview", None, tier="flex")
    pricing.build_price_book(con)
    ra, rb, rc = priced(con, a), priced(con, b), priced(con, c)
    # gemini/gemini-2.5-pro: in 1.25e-6, out 1e-5 -> 0.0125 + 0.01 = 0.0225
    assert (ra["price_key"], ra["match_rule"]) == ("gemini/gemini-2.5-pro", "gemini_api>provider_prefix")
    assert ra["cost_usd"] == pytest.approx(0.0225)
    assert (rb["price_key"], rb["match_rule"]) == ("gemini/gemini-2.5-pro", "gemini_api>provider_prefix")
    # 10,000 x 1.25e-7 = 0.00125; 1,000 x 7.5e-7 = 0.00075 -> 0.002 (Vertex's would be 0.0025 + 0.0015 = 0.004)
    assert rc["price_key"] == "gemini/gemini-3.1-flash-lite-preview"
    assert rc["cost_usd"] == pytest.approx(0.002)


def test_gemini_api_name_without_a_gemini_entry_is_a_named_fallback(book):
    # the map has vertex_ai/gemini-2.0-flash but no gemini/gemini-2.0-flash
    r = book.resolve("models/gemini-2.0-flash")
    assert (r.price_key, r.match_rule) == ("vertex_ai/gemini-2.0-flash", "gemini_api>first_party_fallback")
    assert "gemini has no entry" in r.note


def test_vertex_resource_name(con):
    a = _cost(con, "projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash-001")
    pricing.build_price_book(con)
    r = priced(con, a)
    # vertex_ai/gemini-2.0-flash: in 1.5e-7, out 6e-7 -> 0.0015 + 0.0006 = 0.0021
    assert (r["price_key"], r["match_rule"]) == ("vertex_ai/gemini-2.0-flash",
                                                 "vertex_resource>version_suffix>provider_prefix")
    assert r["cost_usd"] == pytest.approx(0.0021)


# --- 6-7. version forms ---------------------------------------------------------------------


def test_google_version_suffix(con):
    a = _cost(con, "gemini-2.0-flash-001", None)
    b = _cost(con, "gemini-2.0-flash-001", "vertex_ai")
    c = _cost(con, "gemini-2.0-flash-lite-001", "google")
    pricing.build_price_book(con)
    ra, rb, rc = priced(con, a), priced(con, b), priced(con, c)
    # vertex_ai/gemini-2.0-flash: in 1.5e-7, out 6e-7 -> 10,000 x 1.5e-7 + 1,000 x 6e-7 = 0.0015 + 0.0006 = 0.0021
    assert (ra["price_key"], ra["match_rule"]) == ("vertex_ai/gemini-2.0-flash", "version_suffix>inferred_provider")
    assert (rb["price_key"], rb["match_rule"]) == ("vertex_ai/gemini-2.0-flash", "version_suffix>provider_prefix")
    assert ra["cost_usd"] == pytest.approx(0.0021) and rb["cost_usd"] == pytest.approx(0.0021)
    # vertex_ai/gemini-2.0-flash-lite: in 7.5e-8, out 3e-7 -> 0.00075 + 0.0003 = 0.00105
    assert (rc["price_key"], rc["cost_usd"]) == ("vertex_ai/gemini-2.0-flash-lite", pytest.approx(0.00105))


def test_version_suffix_only_on_google_names(book):
    # gpt-4-0613 is its own key; a made-up `-001` on a non-Google name is not stripped
    assert book.resolve("gpt-4o-001", "openai").price_key is None
    # a key that ends in -001 is used as-is (exact first)
    assert book.resolve("gemini-embedding-001").match_rule == "exact"


def test_vertex_at_version_without_a_provider(con):
    a = _cost(con, "claude-3-5-sonnet@20240620", None)
    b = _cost(con, "claude-sonnet-4-5@20250929", None)
    c = _cost(con, "claude-3-5-sonnet@20991231", None)  # a date the map does not have
    pricing.build_price_book(con)
    ra, rb, rc = priced(con, a), priced(con, b), priced(con, c)
    # vertex_ai/claude-3-5-sonnet@20240620: in 3e-6, out 1.5e-5 -> 0.03 + 0.015 = 0.045
    assert (ra["price_key"], ra["match_rule"]) == ("vertex_ai/claude-3-5-sonnet@20240620", "inferred_provider")
    assert ra["cost_usd"] == pytest.approx(0.045)
    # the Vertex entry, not Anthropic's claude-sonnet-4-5 (same list rates 3e-6 / 1.5e-5 -> 0.045)
    assert (rb["price_key"], rb["match_rule"]) == ("vertex_ai/claude-sonnet-4-5@20250929", "inferred_provider")
    assert rb["cost_usd"] == pytest.approx(0.045)
    # unknown date: the Vertex base vertex_ai/claude-3-5-sonnet (3e-6 / 1.5e-5) -> 0.045
    assert (rc["price_key"], rc["match_rule"]) == ("vertex_ai/claude-3-5-sonnet", "dated_to_base>inferred_provider")
    assert rc["cost_usd"] == pytest.approx(0.045)


def test_dated_name_on_vertex_prefers_the_vertex_base_over_the_anthropic_key(book):
    # litellm's own order: vertex_ai/claude-sonnet-4-5 (Vertex's entry), not claude-sonnet-4-5-20250929 (Anthropic's)
    r = book.resolve("claude-sonnet-4-5-20250929", "vertex_ai")
    assert (r.price_key, r.match_rule) == ("vertex_ai/claude-sonnet-4-5", "dated_to_base>provider_prefix")


# --- pass B: a fallback across providers ---------------------------------------------------------


def test_first_party_fallback_is_named(con):
    a = _cost(con, "claude-sonnet-4-5-20250929", "aws")
    b = _cost(con, "claude-sonnet-4-5-20250929", "bedrock")
    d = _cost(con, "claude-sonnet-4-5-20250929", "anthropic")
    pricing.build_price_book(con)
    ra, rb, rd = priced(con, a), priced(con, b), priced(con, d)
    # no bedrock key spells the name this way: Anthropic's own claude-sonnet-4-5-20250929, in 3e-6, out 1.5e-5
    # 10,000 x 3e-6 = 0.03; 1,000 x 1.5e-5 = 0.015 -> 0.045
    for r in (ra, rb):
        assert (r["price_key"], r["match_rule"]) == ("claude-sonnet-4-5-20250929", "first_party_fallback")
        assert r["cost_usd"] == pytest.approx(0.045)
    assert rd["match_rule"] == "exact"  # Anthropic's own key for an Anthropic call: no fallback
    e = pricing.explain("claude-sonnet-4-5-20250929", "aws")
    assert e["litellm_provider"] == "anthropic" and "aws has no entry" in e["note"]
    assert any("not the logged provider's" in t for t in e["tried"])


def test_provider_own_entry_wins_and_gateways_are_not_fallbacks(book):
    assert book.resolve("gpt-4o", "azure").match_rule == "provider_prefix"
    assert book.resolve("gpt-4o", "openai").match_rule == "exact"
    assert book.resolve("gpt-4o", "litellm_proxy").match_rule == "exact"  # a proxy: any entry is its own
    assert book.resolve("gpt-4o", "openrouter").match_rule == "first_party_fallback"


def test_prices_cli_names_the_rule(tmp_path):
    p = run_cli("prices", "claude-sonnet-4-5-20250929", "--provider", "aws")
    assert p.returncode == 0, p.stderr
    assert "first_party_fallback" in p.stdout


# --- $0 is a finding, not a price --------------------------------------------------------------


def test_zero_priced_entries_are_free_per_map_never_summed(con):
    paid = call(con, "gpt-4o-2024-08-06", "openai", inp=IN, out=OUT)
    local = [call(con, "llama3", "ollama", inp=2_000, out=300) for _ in range(3)]
    sm = call(con, "meta-textgeneration-llama-2-7b", "sagemaker", inp=1_000, out=100)
    clip = call(con, "lyria-3-clip-preview", "gemini", inp=50, out=10)
    gemma = call(con, "gemini/gemma-3-27b-it", None, inp=400, out=40)
    pricing.build_price_book(con)
    for cid in local + [sm, clip, gemma]:
        r = priced(con, cid)
        assert (r["price_key"], r["cost_usd"], r["pricing_basis"]) == (None, None, "free_per_map")
        assert r["match_rule"].endswith(">free_per_map")
    # gpt-4o-2024-08-06: 10,000 x 2.5e-6 + 1,000 x 1e-5 = 0.025 + 0.01 = 0.035; the $0 entries add nothing,
    # and are not counted as priced calls either
    total = con.execute("SELECT sum(cost_usd), count(cost_usd) FROM priced_calls").fetchone()
    assert total == (pytest.approx(0.035), 1)
    assert priced(con, paid)["price_status"] == "priced"
    rows = {u["model"]: u for u in pricing.unpriced(con)}
    o = rows["llama3"]
    assert (o["price_status"], o["calls"], o["input_tokens"], o["output_tokens"]) == ("free_per_map", 3, 6_000, 900)
    assert (o["map_key"], o["free_kind"], o["match_rule"]) == ("ollama/llama3", "local_runtime",
                                                               "provider_prefix>free_per_map")
    assert o["note"].startswith("free per the price map — verify") and "self_hosted:" in o["note"]
    s = rows["meta-textgeneration-llama-2-7b"]
    assert (s["free_kind"], s["calls"]) == ("instance_hour", 1) and "instance-hour" in s["note"]
    c = rows["lyria-3-clip-preview"]
    assert c["free_kind"] == "per_unit" and "output_cost_per_image 0.04" in c["note"]
    g = rows["gemini/gemma-3-27b-it"]
    assert g["free_kind"] == "listed_free" and "verify" in g["note"]


def test_explain_free_per_map(book):
    e = pricing.explain("llama3", "ollama")
    assert (e["priced"], e["status"], e["price_key"], e["map_key"]) == (False, "free_per_map", None, "ollama/llama3")
    assert "entry_prices" not in e and e["map_entry_prices"]["input_cost_per_token"] == 0
    assert "free per the price map — verify" in e["message"] and "self_hosted:" in e["message"]


def test_an_overrides_zero_or_self_hosted_is_a_price(con, tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text(textwrap.dedent("""
        models:
          ollama/llama3: {input_cost_per_token: 0, output_cost_per_token: 0}
        self_hosted:
          ollama/mistral: {gpu_hourly_usd: 1.0, throughput_tokens_per_s: 100}
    """))
    a = call(con, "llama3", "ollama", inp=IN, out=OUT)
    b = call(con, "mistral", "ollama", inp=IN, out=OUT)
    pricing.build_price_book(con, path)
    ra, rb = priced(con, a), priced(con, b)
    # your word: $0 by the overrides (source litellm+override), priced, counted
    assert (ra["price_key"], ra["price_status"], ra["cost_usd"]) == ("ollama/llama3", "priced", 0)
    assert (rb["price_key"], rb["price_status"]) == ("self_hosted/ollama/mistral", "self_hosted")
    assert pricing.unpriced(con) == []


def test_free_per_map_is_unpriced_in_the_projection(con):
    from workbench.cost.engine import Projector
    from workbench.cost.profile import build_profile
    from workbench.cost.scenario import BASELINE

    call(con, "gpt-4o-2024-08-06", "openai", inp=IN, out=OUT)
    call(con, "llama3", "ollama", inp=IN, out=OUT)
    con.execute("UPDATE calls SET ts = TIMESTAMPTZ '2026-01-07 10:00:00+00'")
    pricing.build_price_book(con)
    r = Projector(build_profile(con), PriceBook()).evaluate(BASELINE, [1])
    assert [u["model"] for u in r["unpriced"]] == ["llama3"]  # excluded from the totals, listed


def test_provisioned_throughput_names_are_unpriced_with_the_reason():
    """Bedrock provisioned-throughput keys are priced per second of a commitment, not per token:
    a call naming one stays unpriced (never $0), and `workbench prices` says why and what to do.
    bedrock/us-east-1/1-month-commitment/anthropic.claude-v2:1: input_cost_per_second 0.0175 -> $63.00 an hour."""
    from workbench.cost.pricing import explain

    out = explain("bedrock/us-east-1/1-month-commitment/anthropic.claude-v2:1")
    assert out["status"] == "unpriced"
    assert "provisioned throughput" in out["note"] and "$63.00 an hour" in out["note"] and "self_hosted" in out["note"]
