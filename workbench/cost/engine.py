"""The projection engine: a scenario's levers applied to the workload profile, priced per multiplier.

`Projector` builds the profile once; `evaluate(scenario)` is a few vectorised pandas operations
over it (milliseconds whatever the call count). Levers apply in the order stated in
`scenario.py`; rates come from the price book's `price_rates` (`RateTable`), picked per profile
row as `priced_calls` picks them per call (tier, off-peak window, context band) and scaled by the
row's geo/speed `rate_multiplier`, so today's mix projects to the sum of `priced_calls`. Traffic a
routing rule moves is priced at the target's standard rates with no multiplier: the off-peak
window and the geo/speed option belonged to the old model's calls.

Scenarios that cannot be right say so (`Projector.check`, in every `evaluate` result under
`warnings`, each with `kind`, `where`, `value`, `closest` and a `message`):
  * `no_traffic`: a routing `match:` value (feature, model or `provider/model`, prompt version)
    that no call in the logs has, or a rule whose values exist but never together (or not in its
    input-token range); a feature named under `tiers`, `semantic_cache_hit_rate` or
    `prompt_cache.features` that no call has. Such a rule or setting moves nothing, so its saving
    reads 0%; `closest` lists up to three existing values (difflib, similarity >= 0.6), or all of
    them when there are ten or fewer and none is close.
  * `batch_list_price`: batch traffic (logged, or moved by `tiers`) on a model with no batch rate
    anywhere (no `_batches` keys, no twin key, no published provider discount): priced at list
    price, so its batch "saving" reads 0%.
  * `unpriced_target`: a routing `to:` model the price book cannot price. Its share of traffic
    would drop out of the totals and read as a saving; `evaluate` still lists it under `unpriced`
    (never $0), and `workbench project` (`projection.project`) refuses the scenario.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import WorkbenchError
from .evidence import semantic_cache_from_logs
from .profile import Profile
from .scenario import (
    BASELINE,
    BIN_EDGES,
    DAYS_PER_MONTH,
    DEFAULT_MULTIPLIERS,
    HOURS_PER_MONTH,
    TOKEN_COLS,
    Match,
    Scenario,
)

# ---------------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------------

_RATE_FIELDS = ("input_rate", "output_rate", "reasoning_rate", "cache_read_rate", "cache_write_rate",
                "cache_write_1h_rate")


class RateTable:
    """Per (provider, model) -> price key, discount and banded rates, from the price book."""

    _KEYS = ["provider", "model", "tier", "rate_period", "bin"]

    def __init__(self, book):
        self.book = book
        self._res: dict[tuple, object] = {}
        self._lookup = pd.DataFrame(columns=[*self._KEYS, "price_key", "pricing_basis", "discount", "rate_source",
                                             *_RATE_FIELDS])

    def resolution(self, provider, model):
        key = (provider, model)
        if key not in self._res:
            self._res[key] = self.book.resolve(model, provider)
        return self._res[key]

    def attach(self, df: pd.DataFrame) -> pd.DataFrame:
        """Add price_key, pricing_basis, discount, rate_source and the six rates to every row (NaN: unpriced).

        Rates depend only on (provider, model, tier, rate period, bin): they are worked out once
        per distinct combination and cached, so attaching them to a scenario's rows is a single merge.
        """
        keys = self._KEYS
        combos = df[keys].drop_duplicates()
        missing = combos.merge(self._lookup[keys], on=keys, how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"][keys]
        if not missing.empty:
            missing = missing.astype({"bin": int})
            fresh = self._rates_for(missing)
            self._lookup = fresh if self._lookup.empty else pd.concat([self._lookup, fresh], ignore_index=True)
        return df.merge(self._lookup, on=keys, how="left")

    def _rates_for(self, combos: pd.DataFrame) -> pd.DataFrame:
        res = []
        for provider, model in combos[["provider", "model"]].drop_duplicates().itertuples(index=False):
            r = self.resolution(None if pd.isna(provider) else provider, None if pd.isna(model) else model)
            res.append((provider, model, r.price_key, r.pricing_basis, r.discount))
        res_df = pd.DataFrame(res, columns=["provider", "model", "price_key", "pricing_basis", "discount"])
        out = combos.merge(res_df, on=["provider", "model"], how="left").reset_index(drop=True)
        out["bin_lo"] = np.array((0,) + BIN_EDGES)[out["bin"].to_numpy() - 1]
        bands = [{"price_key": key, **{k: b[k] for k in ("service_tier", "above_input_tokens", "rate_source",
                                                          *_RATE_FIELDS)}}
                 for key in out["price_key"].dropna().unique() for b in self.book.rates(key)]
        bands_df = pd.DataFrame(bands, columns=["price_key", "service_tier", "above_input_tokens", "rate_source",
                                                *_RATE_FIELDS])
        # the rows a combination prices with, as `priced_calls` picks them: `<tier>:off_peak` in an
        # off-peak window (never for batch), else the tier; an entry without the tier's keys
        # (ultrafast, balanced) takes the default rows, which is `base_fallback`
        have = set(zip(bands_df["price_key"], bands_df["service_tier"]))
        used = []
        for key, tier, period in out[["price_key", "tier", "rate_period"]].itertuples(index=False):
            want = f"{tier}:off_peak" if period == "off_peak" and tier != "batch" else tier
            used.append(want if (key, want) in have else tier if (key, tier) in have else "default")
        out["_rows"] = used
        # the band a bin uses: the largest threshold at or below the bin's lower edge
        cand = out.reset_index().merge(bands_df, left_on=["price_key", "_rows"], right_on=["price_key", "service_tier"],
                                       how="left")
        cand = cand[cand["above_input_tokens"].isna() | (cand["above_input_tokens"] <= cand["bin_lo"])]
        cand = cand.sort_values("above_input_tokens").groupby("index").tail(1).set_index("index")
        for f in ("rate_source", *_RATE_FIELDS):
            out[f] = cand[f].reindex(out.index)
        fell_back = (out["_rows"] == "default") & (out["tier"] != "default") & out["rate_source"].notna()
        out.loc[fell_back, "rate_source"] = "base_fallback"
        return out.drop(columns=["bin_lo", "_rows"])


def price_rows(df: pd.DataFrame) -> pd.Series:
    """Cost of each profile row (USD, NaN when unpriced); the same arithmetic as `priced_calls`."""
    uncached = (df["input_tokens"] - df["cache_read_tokens"] - df["cache_write_tokens"]).clip(lower=0)
    w1h = np.minimum(df["cache_write_1h_tokens"], df["cache_write_tokens"])
    reasoning = np.minimum(df["reasoning_tokens"], df["output_tokens"])
    cost = (uncached * df["input_rate"] + df["cache_read_tokens"] * df["cache_read_rate"]
            + (df["cache_write_tokens"] - w1h) * df["cache_write_rate"] + w1h * df["cache_write_1h_rate"]
            + (df["output_tokens"] - reasoning) * df["output_rate"] + reasoning * df["reasoning_rate"])
    multiplier = df["rate_multiplier"].fillna(1) if "rate_multiplier" in df else 1.0
    return cost * multiplier * (1 - df["discount"].fillna(0))


# ---------------------------------------------------------------------------------------------
# Applying a scenario
# ---------------------------------------------------------------------------------------------


def _per_feature(value, features: pd.Series, default=0.0) -> np.ndarray:
    if isinstance(value, dict):
        return features.map(lambda f: value.get(f, value.get("*", default))).to_numpy(dtype=float)
    return np.full(len(features), float(value))


def _match_mask(df: pd.DataFrame, m: Match) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    if m.feature:
        mask &= df["feature"].isin(m.feature).to_numpy()
    if m.model:
        mask &= (df["model"].isin(m.model) | (df["provider"].fillna("") + "/" + df["model"].fillna("")).isin(m.model)).to_numpy()
    if m.prompt_version:
        mask &= df["prompt_version"].isin(m.prompt_version).to_numpy()
    lo = np.array((0,) + BIN_EDGES)[df["bin"].to_numpy() - 1]
    hi = np.array(BIN_EDGES + (10**9,))[df["bin"].to_numpy() - 1]
    # input-token ranges snap to the profile's bins: a bin belongs to the range when its middle does
    mid = (lo + hi) / 2
    if m.min_input_tokens is not None:
        mask &= mid >= m.min_input_tokens
    if m.max_input_tokens is not None:
        mask &= mid <= m.max_input_tokens
    return mask


def apply_levers(profile: Profile, sc: Scenario) -> pd.DataFrame:
    """Today's profile (per day) transformed by the scenario's levers, before volume scaling."""
    df = profile.rows.copy()
    df["routed_by"] = None
    qty = ["calls", *TOKEN_COLS]
    # 1. semantic cache
    rate = sc.semantic_cache_hit_rate
    keep = 1 - _per_feature(semantic_cache_from_logs(profile.levers) if rate == "logs" else rate, df["feature"])
    df[qty] = df[qty].mul(keep, axis=0)
    # 2. routing: shares of the traffic each rule matches (today's traffic), moved to the target
    if sc.routing:
        masks = [_match_mask(df, r.match) for r in sc.routing]
        taken = sum(m * r.share for m, r in zip(masks, sc.routing))
        if np.any(taken > 1 + 1e-9):
            raise WorkbenchError(
                f"scenario {sc.name!r}: routing rules take more than 100% of some traffic "
                f"(up to {taken.max():.0%}); make the shares of overlapping rules sum to at most 1"
            )
        moved = []
        for mask, r in zip(masks, sc.routing):
            part = df[mask].copy()
            if part.empty:
                continue
            part[qty] = part[qty] * r.share
            part[["output_tokens", "reasoning_tokens"]] *= r.output_ratio
            part["from_model"] = part["model"]  # what it was (the quality estimate pairs the two)
            part["model"], part["provider"] = r.to, r.provider
            # the target's standard rates: an off-peak window and a geo/speed option were the old model's
            part["rate_period"], part["rate_multiplier"] = "standard", 1.0
            part["routed_by"] = r.name or f"{r.share:.0%} -> {r.to}"
            moved.append(part)
        df[qty] = df[qty].mul(1 - taken, axis=0)
        df = pd.concat([df, *moved], ignore_index=True)
    # 3. prompt caching
    pc = sc.prompt_cache
    for feature in [None, *pc.features]:
        setting = pc.read_share if feature is None else pc.features[feature]
        rows = np.ones(len(df), bool) if feature is None else (df["feature"] == feature).to_numpy()
        if feature is None and pc.features:
            rows &= ~df["feature"].isin(list(pc.features)).to_numpy()
        if setting == "logs":
            continue
        cached = df["prefix_reused_tokens"] if setting == "prefix_reuse" else df["input_tokens"] * float(setting)
        room = (df["input_tokens"] - df["cache_write_tokens"]).clip(lower=0)
        df.loc[rows, "cache_read_tokens"] = np.minimum(cached, room)[rows]
    # 4. service tiers
    if sc.tiers:
        parts = [df]
        for feature, shares in sc.tiers.items():
            sel = (df["tier"] == "default") & ((df["feature"] == feature) if feature != "*" else True)
            for tier, share in shares.items():
                part = df[sel].copy()
                part[qty] = part[qty] * share
                part["tier"] = tier
                parts.append(part)
            df.loc[sel, qty] = df.loc[sel, qty].mul(1 - sum(shares.values()))
        df = pd.concat(parts, ignore_index=True)
    # 5. retries
    if sc.retry_overhead != "logs":
        df[qty] = df[qty] * (1 + float(sc.retry_overhead))
    return df


# ---------------------------------------------------------------------------------------------
# Projection
# ---------------------------------------------------------------------------------------------


@dataclass
class Projector:
    """Profile + price book: evaluate any number of scenarios cheaply."""

    profile: Profile
    book: object
    rates: RateTable = field(init=False)

    def __post_init__(self):
        self.rates = RateTable(self.book)
        self._base_cost: pd.DataFrame | None = None
        self._priced: dict[str, pd.DataFrame] = {}  # scenario digest -> priced frame
        self._checked: dict[str, list[dict]] = {}  # scenario digest -> warnings

    def check(self, sc: Scenario) -> list[dict]:
        """What in the scenario cannot be right: match values no call has, unpriced routing targets."""
        key = sc.digest()
        if key not in self._checked:
            self._checked[key] = scenario_warnings(self.profile.rows, sc, self.rates)
        return [dict(w) for w in self._checked[key]]

    def priced(self, sc: Scenario) -> pd.DataFrame:
        """The profile after the scenario's levers, with rates and cost per row (a fresh copy)."""
        key = sc.digest()
        if key not in self._priced:
            if len(self._priced) > 64:  # sensitivity sweeps make many variants: keep the cache small
                self._priced.clear()
            df = self.rates.attach(apply_levers(self.profile, sc))
            df["cost"] = price_rows(df)
            self._priced[key] = df
        return self._priced[key].copy()

    def _hosted_load(self, df: pd.DataFrame) -> dict[str, tuple]:
        """Per self-hosted model: (spec, mean tokens/s at 1x, token-weighted peak-to-mean ratio)."""
        out = {}
        for key in df.loc[df["pricing_basis"] == "self_hosted", "price_key"].unique():
            name = key.split("/", 1)[1]
            part = df[df["price_key"] == key]
            tokens = (part["input_tokens"] + part["output_tokens"]).groupby(part["feature"]).sum()
            mean_tps = tokens.sum() / (self.profile.window_days * 86400)
            ptm = sum(tokens[f] * self.profile.peak_to_mean.get(f, 1.0) for f in tokens.index) / max(tokens.sum(), 1e-9)
            out[name] = (self.book.self_hosted[name], mean_tps, ptm)
        return out

    @staticmethod
    def _replicas(spec, peak_tps):
        """Replicas the peak needs (numpy-friendly: works on an array of peaks)."""
        need = np.ceil(np.asarray(peak_tps) / (spec.throughput_tokens_per_s * spec.target_utilization))
        return np.maximum(spec.min_replicas, need)

    def self_hosted_monthly(self, df: pd.DataFrame, multiplier: float) -> dict[str, dict]:
        """GPU capacity for each self-hosted model: replicas for the peak hour at this volume."""
        return self._capacity(self._hosted_load(df), multiplier)

    def _capacity(self, load: dict[str, tuple], multiplier: float) -> dict[str, dict]:
        out = {}
        for name, (spec, mean_tps, ptm) in load.items():
            peak_tps = mean_tps * ptm * multiplier
            replicas = int(self._replicas(spec, peak_tps))
            out[name] = {
                "replicas": replicas, "gpus": replicas * spec.gpus_per_replica,
                "peak_tokens_per_s": round(peak_tps, 1), "peak_to_mean": round(ptm, 2),
                "monthly_cost_usd": replicas * spec.gpus_per_replica * spec.gpu_hourly_usd * HOURS_PER_MONTH,
            }
        return out

    def evaluate(self, sc: Scenario, multipliers=DEFAULT_MULTIPLIERS, bootstrap: int = 1000) -> dict:
        """Monthly figures for one scenario at each multiplier, beside today's mix."""
        if self._base_cost is None:
            self._base_cost = self.priced(BASELINE)  # today's mix, priced once per projector
        base = self._base_cost
        df = base if sc is BASELINE else self.priced(sc)
        mf = self.profile.monthly_factor
        unpriced_mask = df["price_key"].isna()
        api = df[~unpriced_mask & (df["pricing_basis"] != "self_hosted")]
        daily = api.groupby("day")["cost"].sum()
        base_api = base[base["price_key"].notna() & (base["pricing_basis"] != "self_hosted")]
        rng = np.random.default_rng(20261122)
        spread = None
        if len(daily) >= 7 and bootstrap:
            idx = rng.integers(0, len(daily), size=(bootstrap, len(daily)))
            spread = daily.to_numpy()[idx].mean(axis=1) * DAYS_PER_MONTH
        sessions = sum(self.profile.sessions.values())
        # everything but self-hosted capacity is linear in volume: aggregate once, scale per multiplier
        api_1x, base_api_1x, calls_1x = api["cost"].sum() * mf, base_api["cost"].sum() * mf, df["calls"].sum() * mf
        model_1x = (df.assign(tokens=df["input_tokens"] + df["output_tokens"])
                      .groupby(["provider", "model", "price_key"], dropna=False)[["calls", "tokens", "cost"]].sum()
                      .reset_index())
        feature_1x = df.groupby("feature")[["calls", "cost"]].sum().reset_index()
        # per multiplier only the scaling and the self-hosted steps change: work them out on plain rows
        load, base_load = self._hosted_load(df), self._hosted_load(base)
        model_rows, feature_rows = _records(model_1x), _records(feature_1x)
        out = []
        for m in multipliers:
            hosted = self._capacity(load, m)
            fixed = sum(h["monthly_cost_usd"] for h in hosted.values())
            cost = api_1x * m + fixed
            base_hosted = sum(h["monthly_cost_usd"] for h in self._capacity(base_load, m).values())
            base_cost = base_api_1x * m + base_hosted
            calls = calls_1x * m
            by_model = [_scaled(r, ("calls", "tokens", "cost"), mf * m) for r in model_rows]
            for r in by_model:
                name = (r["price_key"] or "").removeprefix("self_hosted/")
                if r["price_key"] == f"self_hosted/{name}" and name in hosted:
                    r["cost"] = hosted[name]["monthly_cost_usd"]
            by_feature = [_scaled(r, ("calls", "cost"), mf * m) for r in feature_rows]
            out.append({
                "multiplier": m,
                "monthly_cost_usd": cost,
                "baseline_monthly_cost_usd": base_cost,
                "savings_usd": base_cost - cost,
                "savings_pct": (base_cost - cost) / base_cost if base_cost else None,
                "monthly_calls": calls,
                "cost_per_call_usd": cost / calls if calls else None,
                "cost_per_session_usd": cost / (sessions * mf * m) if sessions else None,
                "p10_usd": float(np.percentile(spread, 10) * m + fixed) if spread is not None else None,
                "p90_usd": float(np.percentile(spread, 90) * m + fixed) if spread is not None else None,
                "self_hosted": hosted,
                "by_model": by_model,
                "by_feature": by_feature,
            })
        unpriced = (df[unpriced_mask].groupby(["provider", "model"], dropna=False)[["calls", "input_tokens", "output_tokens"]]
                      .sum().reset_index())
        return {
            "scenario": sc.name, "description": sc.description, "scenario_hash": sc.digest(),
            "multipliers": out,
            "unpriced": _records(unpriced),
            "warnings": self.check(sc) + batch_list_price_warnings(df, sc, mf),
            "break_even": self.break_even(sc) if (df["pricing_basis"] == "self_hosted").any() else None,
        }

    def break_even(self, sc: Scenario) -> dict:
        """Smallest multiplier at which the self-hosted route costs no more than the same traffic on the API."""
        df = self.priced(sc)
        hosted_rows = df["pricing_basis"] == "self_hosted"
        # the same traffic priced where it came from: the scenario without the self-hosted rules
        api_version = sc.model_copy(update={"routing": [r for r in sc.routing
                                                        if self.rates.resolution(r.provider, r.to).pricing_basis != "self_hosted"]})
        api_df = self.priced(api_version)
        mf = self.profile.monthly_factor
        api_cost_1x = api_df["cost"].sum() - df.loc[~hosted_rows, "cost"].sum()
        grid = np.unique(np.round(np.geomspace(0.1, 10000, 2000), 2))
        hosted = np.zeros_like(grid)
        for spec, mean_tps, ptm in self._hosted_load(df).values():  # the whole grid at once
            hosted += self._replicas(spec, mean_tps * ptm * grid) * spec.gpus_per_replica * spec.gpu_hourly_usd * HOURS_PER_MONTH
        api = api_cost_1x * mf * grid
        hit = np.nonzero(hosted <= api)[0]
        if len(hit):
            i = hit[0]
            return {"multiplier": float(grid[i]), "api_monthly_cost_at_break_even_usd": float(api[i]),
                    "self_hosted_monthly_cost_usd": float(hosted[i])}
        return {"multiplier": None, "note": "the API route stays cheaper up to 10,000x"}

    def monthly_cost(self, df: pd.DataFrame, multiplier: float) -> float:
        """Monthly cost of a priced frame at one multiplier: API tokens plus self-hosted capacity."""
        api = df.loc[df["price_key"].notna() & (df["pricing_basis"] != "self_hosted"), "cost"].sum()
        hosted = sum(h["monthly_cost_usd"] for h in self.self_hosted_monthly(df, multiplier).values())
        return api * self.profile.monthly_factor * multiplier + hosted

    def sensitivity(self, sc: Scenario, multiplier: float = 10.0) -> list[dict]:
        """Swing in monthly cost when each lever moves by a plausible step (a tornado chart's data)."""
        def cost(s: Scenario, scale: dict | None = None) -> float:
            df = self.priced(s)
            for col, f in (scale or {}).items():
                df[col] = df[col] * f
            if scale:
                df["cost"] = price_rows(df)
            return self.monthly_cost(df, multiplier)

        levers: list[tuple[str, float, float]] = []
        priced = self.priced(sc)  # volume is not linear where self-hosted capacity steps
        levers.append(("volume ±20%", self.monthly_cost(priced, multiplier * 0.8),
                       self.monthly_cost(priced, multiplier * 1.2)))
        levers.append(("output tokens per call ±20%", cost(sc, {"output_tokens": 0.8, "reasoning_tokens": 0.8}),
                       cost(sc, {"output_tokens": 1.2, "reasoning_tokens": 1.2})))
        levers.append(("input tokens per call ±20%", cost(sc, {k: 0.8 for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")}),
                       cost(sc, {k: 1.2 for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")})))
        rate = sc.semantic_cache_hit_rate if isinstance(sc.semantic_cache_hit_rate, float) else None
        if rate is not None:
            levers.append(("semantic-cache hit rate ±10 pts",
                           cost(sc.model_copy(update={"semantic_cache_hit_rate": min(rate + 0.1, 0.99)})),
                           cost(sc.model_copy(update={"semantic_cache_hit_rate": max(rate - 0.1, 0.0)}))))
        for i, r in enumerate(sc.routing):
            def with_share(s, i=i):
                rules = [x.model_copy(update={"share": s}) if j == i else x for j, x in enumerate(sc.routing)]
                return sc.model_copy(update={"routing": rules})
            try:
                lo, hi = cost(with_share(max(r.share - 0.1, 0))), cost(with_share(min(r.share + 0.1, 1)))
            except WorkbenchError:
                continue
            levers.append((f"routing share {r.name or r.to} ±10 pts", lo, hi))
        rs = sc.prompt_cache.read_share
        if isinstance(rs, float):
            levers.append(("prompt-cache read share ±10 pts",
                           cost(sc.model_copy(update={"prompt_cache": sc.prompt_cache.model_copy(update={"read_share": min(rs + 0.1, 1.0)})})),
                           cost(sc.model_copy(update={"prompt_cache": sc.prompt_cache.model_copy(update={"read_share": max(rs - 0.1, 0.0)})}))))
        rows = [{"lever": name, "low_usd": min(a, b), "high_usd": max(a, b), "swing_usd": abs(b - a)} for name, a, b in levers]
        return sorted(rows, key=lambda r: -r["swing_usd"])


# ---------------------------------------------------------------------------------------------
# Scenario checks
# ---------------------------------------------------------------------------------------------


def closest(value: str, candidates, n: int = 3) -> list[str]:
    """Up to `n` existing values like `value` (difflib ratio >= 0.6, case-insensitive); all of them
    when there are ten or fewer and none is close."""
    cands = sorted({str(c) for c in candidates if c is not None and not (isinstance(c, float) and math.isnan(c))})
    lower = {c.lower(): c for c in cands}
    got = [lower[c] for c in difflib.get_close_matches(str(value).lower(), list(lower), n=n, cutoff=0.6)]
    return got or (cands if len(cands) <= 10 else [])


def _rule_label(i: int, r) -> str:
    return f"routing rule {i + 1}" + (f" ({r.name!r})" if r.name else f" ({r.share:.0%} -> {r.to})")


def scenario_warnings(rows: pd.DataFrame, sc: Scenario, rates: RateTable | None = None) -> list[dict]:
    """The checks of `Projector.check` over a profile's rows (see the module docstring)."""
    out: list[dict] = []
    features = set(rows["feature"].dropna())
    models = set(rows["model"].dropna())
    both = set((rows["provider"].fillna("") + "/" + rows["model"].fillna("")).loc[rows["model"].notna()])
    versions = set(rows["prompt_version"].dropna())

    def no_traffic(where: str, what: str, col: str, value, pool) -> None:
        near = closest(value, pool)
        hint = f"; closest existing: {', '.join(repr(x) for x in near)}" if near else ""
        out.append({"kind": "no_traffic", "scenario": sc.name, "where": where, "field": col, "value": value,
                    "closest": near,
                    "message": f"scenario {sc.name!r}: {what} names {col} {value!r}, which no call in the logs "
                               f"has, so it moves nothing (its saving reads 0%){hint}"})

    for i, r in enumerate(sc.routing):
        label, m = _rule_label(i, r), r.match
        missing = False
        for col, values, pool in (("feature", m.feature, features), ("model", m.model, models | both),
                                    ("prompt_version", m.prompt_version, versions)):
            for v in values or []:
                if v not in pool:
                    missing = True
                    no_traffic(f"routing[{i}].match.{col}", label, col, v,
                               (pool if "/" in str(v) else models) if col == "model" else pool)
        if not missing and not _match_mask(rows, m).any():
            out.append({"kind": "no_traffic", "scenario": sc.name, "where": f"routing[{i}].match", "field": None,
                        "value": m.model_dump(exclude_none=True), "closest": [],
                        "message": f"scenario {sc.name!r}: {label} matches no traffic: each value it names exists, "
                                   "but no call has them together (or in its input-token range), so it moves nothing"})
        if rates is not None:
            res = rates.resolution(r.provider, r.to)
            if res.price_key is None:
                book = rates.book
                pool = [*getattr(book, "entries", {}), *(getattr(book, "aliases", None) or {}),
                        *(getattr(book, "self_hosted", None) or {})]
                near = closest(r.to, pool) if len(pool) > 10 else []
                hint = f" (closest priced names: {', '.join(near)})" if near else ""
                out.append({"kind": "unpriced_target", "scenario": sc.name, "where": f"routing[{i}].to",
                            "field": "to", "value": r.to, "provider": r.provider, "closest": near,
                            "message": f"scenario {sc.name!r}: {label} sends {r.share:.0%} of the traffic it matches "
                                       f"to {r.to!r}" + (f" (provider {r.provider})" if r.provider else "")
                                       + f", which the price book cannot price{hint}: that traffic is left out of "
                                       "every total, which reads as a saving. Fix the name, or price it in the "
                                       "overrides file (models:, aliases: or self_hosted:)"})
    for where, keys in (("tiers", list(sc.tiers)),
                        ("semantic_cache_hit_rate", list(sc.semantic_cache_hit_rate)
                         if isinstance(sc.semantic_cache_hit_rate, dict) else []),
                        ("prompt_cache.features", list(sc.prompt_cache.features))):
        for f in keys:
            if f != "*" and f not in features:
                no_traffic(f"{where}.{f}", where, "feature", f, features)
    return out


def batch_list_price_warnings(df: pd.DataFrame, sc: Scenario, monthly_factor: float) -> list[dict]:
    """Batch traffic on a model whose map entry has no batch rate, no twin key with one, and whose
    provider publishes no batch discount: it is priced at list price (rate_source `base_fallback`),
    so batching it saves nothing here, which may be wrong. One warning per model."""
    rows = df[(df["tier"] == "batch") & (df["rate_source"] == "base_fallback") & (df["calls"] > 0)]
    out = []
    for (provider, model), part in rows.groupby(["provider", "model"], dropna=False):
        name = f"{provider}/{model}" if isinstance(provider, str) and provider else str(model)
        out.append({"kind": "batch_list_price", "scenario": sc.name, "where": "tiers", "field": "model",
                    "value": name, "closest": [], "monthly_calls_at_1x": float(part["calls"].sum() * monthly_factor),
                    "message": f"scenario {sc.name!r}: batch calls on {name} are priced at list price: the price "
                               "map has no batch rate for it and its provider publishes no batch discount, so "
                               f"batching it saves nothing here. If the provider offers one, give {name} "
                               "input_cost_per_token_batches and output_cost_per_token_batches in the "
                               "overrides file (models:)"})
    return out


def _scaled(row: dict, columns: tuple[str, ...], factor: float) -> dict:
    """A copy of `row` with `columns` multiplied by `factor` (None stays None)."""
    return {**row, **{c: None if row[c] is None else row[c] * factor for c in columns}}


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
            for r in df.to_dict("records")]
