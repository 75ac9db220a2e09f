"""Projection speed: the scenario engine vs. a naive per-row pandas re-pricing, in one run.

    python benchmarks/project.py [--n 10000000] [--naive-rows 200000] [--naive-scenarios 5]

Fills a temporary workbench database with N synthetic calls, generated in SQL (5 features,
4 real models from litellm's map, 3 prompt versions, 30 days, cache reads and writes, errors), then:
  - times `build_price_book` + `build_profile` (once per database);
  - times `Projector.evaluate` of 100 generated scenarios (routing, semantic cache, prompt
    caching, service tiers, retries) at multipliers 1, 10, 50, 100 (bootstrap off);
  - baseline: what a notebook would do, re-price raw rows one by one with `DataFrame.apply` and a
    Python function applying the same levers with the rates from `PriceBook.rates(price_key)`.
    It runs on a sample of rows and a few scenarios and is EXTRAPOLATED linearly to N rows x 100
    scenarios (the output says from how many).
Prints the figures and the ratio. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from workbench import store
from workbench.cost.pricing import build_price_book
from workbench.cost.book import load_price_book
from workbench.cost.scenario import BASELINE, Match, PromptCache, RoutingRule, Scenario
from workbench.cost.engine import Projector
from workbench.cost.profile import build_profile

MODELS = [  # (provider, model, share of traffic in %)
    ("openai", "gpt-4o-2024-08-06", 35),
    ("openai", "gpt-4o-mini-2024-07-18", 30),
    ("anthropic", "claude-sonnet-4-5-20250929", 20),
    ("anthropic", "claude-haiku-4-5-20251001", 15),
]
FEATURES = [  # (name, min input tokens, input token spread, max output tokens)
    ("support_chat", 400, 6000, 600),
    ("rag_answer", 2000, 28000, 900),
    ("summarize", 1000, 12000, 400),
    ("classify", 100, 1400, 20),
    ("extract", 300, 4000, 300),
]
PROMPT_VERSIONS = ["v1", "v2", "v3"]
MULTIPLIERS = [1.0, 10.0, 50.0, 100.0]
N_SCENARIOS = 100


def _case(expr: str, values: list[str]) -> str:
    return "CASE " + " ".join(f"WHEN {expr} = {i} THEN '{v}'" for i, v in enumerate(values)) + " END"


def generate(con, n: int) -> None:
    """N calls in one INSERT ... SELECT; every column derives from hashes of the row number."""
    model_case, edge = [], 0
    for i, (_, _, pct) in enumerate(MODELS):
        edge += pct
        model_case.append(f"WHEN h_model % 100 < {edge} THEN {i}")
    feat_in = " ".join(f"WHEN f = {i} THEN {lo} + h_in % {spread}" for i, (_, lo, spread, _) in enumerate(FEATURES))
    feat_out = " ".join(f"WHEN f = {i} THEN 5 + h_out % {mx}" for i, (_, _, _, mx) in enumerate(FEATURES))
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""
        INSERT INTO calls
        WITH h AS (
            SELECT i, hash(i, 1) AS h_feat, hash(i, 2) AS h_model, hash(i, 3) AS h_ts, hash(i, 4) AS h_in,
                   hash(i, 5) AS h_out, hash(i, 6) AS h_cache, hash(i, 7) AS h_misc
            FROM range({n}) t(i)
        ), g AS (
            SELECT *, (h_feat % {len(FEATURES)})::INT AS f,
                   (CASE {' '.join(model_case)} END)::INT AS mi,
                   (h_misc % 1000)::INT AS r
            FROM h
        ), t AS (
            SELECT *, (CASE {feat_in} END)::BIGINT AS inp, (CASE {feat_out} END)::BIGINT AS outp,
                   (h_cache % 100)::INT AS c
            FROM g
        ), u AS (
            SELECT *,
                   -- cache reads on ~2/3 of the calls above 1,024 input tokens, 20-90% of the input
                   CASE WHEN inp > 1024 AND c < 66 THEN (inp * (20 + c) // 100) ELSE 0 END AS cr,
                   -- Anthropic cache writes on ~10% of the calls with no read
                   CASE WHEN mi >= 2 AND inp > 1024 AND c >= 90 THEN inp // 2 ELSE 0 END AS cw
            FROM t
        )
        SELECT
            'syn-' || i AS call_id, 'synthetic' AS source_format, NULL AS source_file, NULL AS ingest_id,
            TIMESTAMPTZ '2025-10-01 00:00:00+00' + to_seconds((h_ts % {30 * 86400})::BIGINT) AS ts,
            {_case('mi', [m[0] for m in MODELS])} AS provider,
            {_case('mi', [m[1] for m in MODELS])} AS model,
            CASE WHEN r < 50 THEN 'batch' ELSE 'default' END AS service_tier,
            inp AS input_tokens, cr AS cache_read_tokens, cw AS cache_write_tokens,
            CASE WHEN cw > 0 AND c >= 97 THEN cw ELSE 0 END AS cache_write_1h_tokens,
            CASE WHEN r >= 980 THEN 0 ELSE outp END AS output_tokens, 0 AS reasoning_tokens,
            200 + (h_out % 5000)::DOUBLE AS latency_ms, 80 + (h_out % 700)::DOUBLE AS ttft_ms,
            CASE WHEN r >= 980 THEN 'error' ELSE 'ok' END AS status,
            CASE WHEN r >= 990 THEN 'rate_limit' WHEN r >= 980 THEN 'timeout' END AS error_type,
            CASE WHEN r >= 980 THEN NULL ELSE 'stop' END AS finish_reason,
            's' || (h_misc // 1000) % {max(n // 6, 1)} AS session_id, NULL AS trace_id,
            'u' || (h_misc // 1000) % 5000 AS user_id,
            {_case('f', [f[0] for f in FEATURES])} AS feature,
            {_case('(h_feat // 16) % 3', PROMPT_VERSIONS)} AS prompt_version,
            'prod' AS environment, NULL AS logged_cost_usd, NULL AS attributes
        FROM u
        """
    )


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def make_scenarios(k: int, seed: int = 7) -> list[Scenario]:
    rnd = random.Random(seed)
    features = [f[0] for f in FEATURES]
    out = []
    for s in range(k):
        # semantic cache: one rate, or per feature
        if rnd.random() < 0.5:
            hit = round(rnd.uniform(0, 0.35), 3)
        else:
            hit = {f: round(rnd.uniform(0, 0.4), 3) for f in rnd.sample(features, rnd.randint(1, 3))}
        # routing: up to 3 rules whose shares sum to at most 1 (so overlapping rules never exceed 100%)
        rules, budget = [], 1.0
        for j in range(rnd.randint(0, 3)):
            share = round(rnd.uniform(0.05, min(budget, 0.7)), 3)
            if share <= 0.01:
                break
            budget -= share
            prov, target, _ = rnd.choice(MODELS)
            m = {}
            if rnd.random() < 0.7:
                m["feature"] = rnd.sample(features, rnd.randint(1, 2))
            if rnd.random() < 0.5:
                m["model"] = [x[1] for x in rnd.sample(MODELS, rnd.randint(1, 2)) if x[1] != target] or None
            if rnd.random() < 0.3:
                m["prompt_version"] = [rnd.choice(PROMPT_VERSIONS)]
            if rnd.random() < 0.3:
                m["max_input_tokens"] = rnd.choice([2048, 4096, 8192])
            elif rnd.random() < 0.2:
                m["min_input_tokens"] = rnd.choice([4096, 8192, 16384])
            rules.append(RoutingRule(name=f"r{s}.{j}", match=Match(**m), share=share, to=target, provider=prov,
                                     output_ratio=round(rnd.uniform(0.8, 1.3), 2)))
        # prompt caching: logs, a number, and per-feature numbers
        read_share = "logs" if rnd.random() < 0.4 else round(rnd.uniform(0.1, 0.8), 3)
        pc_features = {f: round(rnd.uniform(0.0, 0.9), 3) for f in rnd.sample(features, rnd.randint(0, 2))}
        # service tiers
        tiers = {}
        for f in rnd.sample(features, rnd.randint(0, 3)):
            x = round(rnd.uniform(0.1, 0.8), 3)
            tiers[f] = {"batch": x} if rnd.random() < 0.7 else {"batch": x / 2, "flex": x / 2}
        retry = "logs" if rnd.random() < 0.6 else round(rnd.uniform(0.01, 0.15), 3)
        out.append(Scenario(name=f"scenario-{s:03d}", semantic_cache_hit_rate=hit, routing=rules,
                            prompt_cache=PromptCache(read_share=read_share, features=pc_features),
                            tiers=tiers, retry_overhead=retry))
    return out


# ---------------------------------------------------------------------------------------------
# The naive baseline: a notebook's per-row re-pricing
# ---------------------------------------------------------------------------------------------


def naive_row_cost(row, sc: Scenario, book, keys: dict, rates: dict) -> float:
    """One raw call's cost (USD) under the scenario, levers applied in the engine's order."""
    feature = row["feature"] if row["feature"] is not None else "(untagged)"
    hit = sc.semantic_cache_hit_rate
    keep = 1 - (hit.get(feature, hit.get("*", 0.0)) if isinstance(hit, dict) else hit)
    inp, cw, cw1h = row["input_tokens"], row["cache_write_tokens"], row["cache_write_1h_tokens"]
    out, reasoning = row["output_tokens"], row["reasoning_tokens"]
    # routing: (provider, model, weight, output ratio)
    routes, taken = [], 0.0
    for r in sc.routing:
        m = r.match
        if m.feature and feature not in m.feature:
            continue
        if m.model and row["model"] not in m.model and f"{row['provider']}/{row['model']}" not in m.model:
            continue
        if m.prompt_version and row["prompt_version"] not in m.prompt_version:
            continue
        if m.min_input_tokens is not None and inp <= m.min_input_tokens:
            continue
        if m.max_input_tokens is not None and inp > m.max_input_tokens:
            continue
        routes.append((r.provider, r.to, r.share, r.output_ratio))
        taken += r.share
    routes.append((row["provider"], row["model"], 1 - taken, 1.0))
    # prompt caching
    setting = sc.prompt_cache.features.get(feature, sc.prompt_cache.read_share)
    cr = row["cache_read_tokens"] if setting == "logs" else min(inp * float(setting), max(inp - cw, 0))
    # service tiers
    tier = row["service_tier"] if row["service_tier"] in ("batch", "flex", "priority") else "default"
    tier_parts = [(tier, 1.0)]
    shares = sc.tiers.get(feature, sc.tiers.get("*")) if tier == "default" else None
    if shares:
        tier_parts = [("default", 1 - sum(shares.values()))] + list(shares.items())
    retry = 1.0 if sc.retry_overhead == "logs" else 1 + float(sc.retry_overhead)
    cost = 0.0
    for provider, model, w, ratio in routes:
        if w <= 0:
            continue
        if (provider, model) not in keys:
            keys[(provider, model)] = book.resolve(model, provider)
        res = keys[(provider, model)]
        if res.price_key is None:
            continue
        o, rs = out * ratio, min(reasoning, out) * ratio
        w1h = min(cw1h, cw)
        for t, tw in tier_parts:
            if (res.price_key, t) not in rates:
                rates[(res.price_key, t)] = sorted((b for b in book.rates(res.price_key) if b["service_tier"] == t),
                                                   key=lambda b: b["above_input_tokens"])
            band = [b for b in rates[(res.price_key, t)] if inp > b["above_input_tokens"]][-1]
            c = (max(inp - cr - cw, 0) * band["input_rate"] + cr * band["cache_read_rate"]
                 + (cw - w1h) * band["cache_write_rate"] + w1h * band["cache_write_1h_rate"]
                 + (o - rs) * band["output_rate"] + rs * band["reasoning_rate"])
            cost += w * tw * c * (1 - res.discount)
    return cost * keep * retry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000, help="synthetic calls (default 10,000,000)")
    ap.add_argument("--naive-rows", type=int, default=200_000, help="raw rows the naive baseline prices")
    ap.add_argument("--naive-scenarios", type=int, default=5, help="scenarios the naive baseline runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        con = store.connect(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        generate(con, args.n)
        print(f"generated {args.n:,} calls in SQL in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        build_price_book(con)
        t_book = time.perf_counter() - t0
        t0 = time.perf_counter()
        profile = build_profile(con)
        t_profile = time.perf_counter() - t0
        t_setup = t_book + t_profile
        print(f"build_price_book : {t_book:7.2f}s")
        print(f"build_profile    : {t_profile:7.2f}s  ({len(profile.rows):,} profile rows for {profile.calls:,} calls, "
              f"window {profile.window_days:.1f} days)")

        book = load_price_book()
        projector = Projector(profile, book)
        scenarios = make_scenarios(N_SCENARIOS)
        per, results = [], {}
        t0 = time.perf_counter()
        for sc in scenarios:
            t1 = time.perf_counter()
            results[sc.name] = projector.evaluate(sc, MULTIPLIERS, bootstrap=0)
            per.append(time.perf_counter() - t1)
        t_engine = time.perf_counter() - t0
        print(f"engine           : {t_engine:7.2f}s for {N_SCENARIOS} scenarios x {len(MULTIPLIERS)} multipliers "
              f"(per scenario: mean {statistics.mean(per) * 1000:.0f} ms, median {statistics.median(per) * 1000:.0f} ms, "
              f"max {max(per) * 1000:.0f} ms)")

        # naive baseline on a sample of raw rows
        m = min(args.naive_rows, args.n)
        t0 = time.perf_counter()
        warnings.filterwarnings("ignore", message="The inplace keyword")  # raised inside DuckDB's .df()
        df = con.execute(f"SELECT * FROM calls USING SAMPLE reservoir({m} ROWS) REPEATABLE (42)").df()
        t_load = time.perf_counter() - t0
        window_days = (df["ts"].max() - df["ts"].min()).total_seconds() / 86400
        monthly = 30.4375 / window_days * args.n / len(df)
        naive_sc = scenarios[: args.naive_scenarios]
        keys, rates, naive_t, checks = {}, {}, [], []
        for sc in naive_sc:
            t1 = time.perf_counter()
            cost = df.apply(naive_row_cost, axis=1, args=(sc, book, keys, rates))
            monthly_costs = [cost.sum() * monthly * mult for mult in MULTIPLIERS]
            naive_t.append(time.perf_counter() - t1)
            checks.append(monthly_costs[0] / results[sc.name]["multipliers"][0]["monthly_cost_usd"])
        t_naive = sum(naive_t)
        per_row_scenario = t_naive / (len(df) * len(naive_sc))
        t_naive_full = per_row_scenario * args.n * N_SCENARIOS
        print(f"naive pandas     : {t_naive:7.2f}s MEASURED for {len(df):,} sampled rows x {len(naive_sc)} scenarios "
              f"(DataFrame.apply, {per_row_scenario * 1e6:.1f} us per row per scenario; loading the rows took "
              f"{t_load:.1f}s, not counted)")
        print(f"naive pandas     : {t_naive_full:7.0f}s EXTRAPOLATED linearly to {args.n:,} rows x {N_SCENARIOS} scenarios "
              f"(= {t_naive_full / 3600:.1f} h; from {len(df):,} rows x {len(naive_sc)} scenarios)")
        print("  check: naive sample estimate / engine monthly cost at 1x, per scenario: "
              + ", ".join(f"{c:.3f}" for c in checks))
        print(f"engine is {t_naive_full / t_engine:,.0f}x faster than the extrapolated naive re-pricing "
              f"(100 scenarios; {t_naive_full / (t_engine + t_setup):,.0f}x counting the one-off price book + profile "
              f"build, {t_setup:.1f}s)")
        base = projector.evaluate(BASELINE, MULTIPLIERS, bootstrap=0)["multipliers"]
        print("baseline monthly cost: " + ", ".join(f"{r['multiplier']:g}x ${r['monthly_cost_usd']:,.0f}" for r in base))
        con.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
